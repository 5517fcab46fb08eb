"""The built-in pack: its old per-style networks beside what paints a built-in name now.

    python scripts/builtins_vs_arbitrary.py

For each built-in style and each photo: the per-style network (``builtin/NAME.onnx``, what
``--style NAME`` ran until the pack moved), and the arbitrary-style network with the painting
stored as statistics (``builtin/NAME.stats.npz``, what ``--style NAME`` runs now, default
settings). Writes docs/images/builtins-vs-arbitrary.jpg (rows: photos; per painting two
columns). Both run on onnxruntime, at 384 px.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from atelier.io import fit_size, read_source, resize_array
from atelier.style.arbitrary.runtime import paint
from atelier.style.fast.runtime import apply_styles
from atelier.style.settings import StyleSettings

ROOT = Path(__file__).resolve().parents[1]
PAIRS = ("starry-night", "the-scream", "the-shipwreck", "woman-with-a-hat")
PHOTOS = ["sample:astronaut", str(ROOT.parent / "shared" / "images" / "content" / "tubingen.jpg"), "sample:chelsea"]
SIDE = 384


def _photo(spec: str) -> np.ndarray:
    rgb, _ = read_source(spec)
    return resize_array(rgb, *fit_size(rgb.shape[1], rgb.shape[0], SIDE))


def _tile(image: np.ndarray) -> Image.Image:
    canvas = Image.new("RGB", (SIDE, SIDE), "white")
    canvas.paste(Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8)), (0, 0))
    return canvas


def main() -> None:
    label = 20
    sheet = Image.new("RGB", (SIDE * 2 * len(PAIRS), label + SIDE * len(PHOTOS)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(PAIRS):
        draw.text((SIDE * 2 * j + 4, 4), f"{name}: its own network (before)", fill="black")
        draw.text((SIDE * (2 * j + 1) + 4, 4), "arbitrary network, stored painting (now)", fill="black")
        for i, spec in enumerate(PHOTOS):
            photo = _photo(spec)
            builtin = apply_styles(photo, [name])
            arbitrary, _, _ = paint(photo, [name], None, StyleSettings(engine="fast"))
            sheet.paste(_tile(builtin), (SIDE * 2 * j, label + SIDE * i))
            sheet.paste(_tile(arbitrary), (SIDE * (2 * j + 1), label + SIDE * i))
    target = ROOT / "docs" / "images" / "builtins-vs-arbitrary.jpg"
    sheet.save(target, quality=88)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
