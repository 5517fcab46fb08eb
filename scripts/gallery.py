"""Render every style on every photo into one contact sheet.

    python scripts/gallery.py                       # ../shared/images, 512 px, default settings
    python scripts/gallery.py --size 320 --steps 150 --out out/gallery

Rows are photos, columns are paintings; the first row and column show the originals.
Each result is also written on its own (PNG with its recipe).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from PIL import Image, ImageDraw

from atelier.io import load_image, tensor_to_pil
from atelier.style import StyleSettings, stylize_file

IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}


def images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--styles", type=Path, default=IMAGES / "styles")
    parser.add_argument("--content", type=Path, default=IMAGES / "content")
    parser.add_argument("--out", type=Path, default=Path("out/gallery"))
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=StyleSettings.steps)
    parser.add_argument("--cell", type=int, default=320, help="Width of one cell of the sheet.")
    args = parser.parse_args()
    styles, photos = images_in(args.styles), images_in(args.content)
    if not styles or not photos:
        raise SystemExit(f"no images found in {args.styles} or {args.content}")
    args.out.mkdir(parents=True, exist_ok=True)

    cell = args.cell
    row_h = round(cell * 0.75)
    sheet = Image.new("RGB", ((len(styles) + 1) * cell, (len(photos) + 1) * row_h), "white")
    draw = ImageDraw.Draw(sheet)

    def paste(image: Image.Image, col: int, row: int, label: str | None = None) -> None:
        image = image.copy()
        image.thumbnail((cell - 4, row_h - 4))
        sheet.paste(image, (col * cell + (cell - image.width) // 2, row * row_h + (row_h - image.height) // 2))
        if label:
            draw.text((col * cell + 4, row * row_h + 2), label, fill="white", stroke_width=2, stroke_fill="black")

    for col, style in enumerate(styles, 1):
        paste(tensor_to_pil(load_image(style, max_side=cell).rgb), col, 0, style.stem)
    for row, photo in enumerate(photos, 1):
        paste(tensor_to_pil(load_image(photo, max_side=cell).rgb), 0, row, photo.stem)
        for col, style in enumerate(styles, 1):
            start = time.perf_counter()
            target = args.out / f"{photo.stem}__{style.stem}.png"
            result = stylize_file(photo, [style], target, settings=StyleSettings(size=args.size, steps=args.steps))
            print(f"{target.name}: {time.perf_counter() - start:.1f}s", flush=True)
            paste(tensor_to_pil(result.image), col, row)
    sheet_path = args.out / "contact-sheet.png"
    sheet.save(sheet_path)
    print(f"wrote {sheet_path}")


if __name__ == "__main__":
    main()
