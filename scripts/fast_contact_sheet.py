"""Contact sheet of every built-in fast style on varied photos.

    python scripts/fast_contact_sheet.py [-o docs/images/fast-styles.jpg] [--size 384]

Rows: the original, then one row per built-in. Columns: a landscape (tubingen, trained on),
a night scene (hoovertowernight) and a portrait (sample:astronaut), both never seen in
training, and a cat (sample:chelsea, trained on).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from atelier.io import fit_size, read_source, resize_array
from atelier.style.fast.pack import builtin_styles
from atelier.style.fast.runtime import apply_styles

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "images" / "fast-styles.jpg")
    parser.add_argument("--size", type=int, default=384, help="height of each cell")
    args = parser.parse_args()
    photos = [SHARED / "content" / "tubingen.jpg", SHARED / "content" / "hoovertowernight.jpg", "sample:astronaut", "sample:chelsea"]
    labels = ["landscape (trained on)", "night (unseen)", "portrait (unseen)", "cat (trained on)"]
    arrays = []
    for photo in photos:
        rgb, _ = read_source(photo)
        arrays.append(
            resize_array(rgb, *fit_size(rgb.shape[1], rgb.shape[0], args.size * 4 // 3 if rgb.shape[1] > rgb.shape[0] else args.size))
        )
    rows = [("photo", arrays)] + [(s.title, [apply_styles(a, [s.name]) for a in arrays]) for s in builtin_styles()]
    gap, label_w = 8, 170
    widths = [a.shape[1] for a in arrays]
    height = max(a.shape[0] for a in arrays)
    sheet = Image.new("RGB", (label_w + sum(widths) + gap * len(widths), (height + gap) * len(rows) + 24), "white")
    draw = ImageDraw.Draw(sheet)
    x = label_w
    for label, w in zip(labels, widths):
        draw.text((x + 4, 6), label, fill="black")
        x += w + gap
    for r, (title, images) in enumerate(rows):
        y = 24 + r * (height + gap)
        draw.text((6, y + height // 2), title, fill="black")
        x = label_w
        for image in images:
            sheet.paste(Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)), (x, y))
            x += image.shape[1] + gap
    args.output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.output, quality=90)
    print(f"wrote {args.output} ({sheet.width}x{sheet.height})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
