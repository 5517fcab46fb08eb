"""A sheet of photos painted in brush strokes, the style samples ``--style-mix``'s fifth share draws.

    python scripts/show_painted_photos.py [-o docs/images/arbitrary-painted-photos-samples.jpg]

Eight landscape photos of ../shared/photos (from every fifth), each beside one of its renderings
(:func:`atelier.style.arbitrary.data.painterly_rendering` with the seed a training run gives
each photo's first rendering; the photo is resized with Pillow here, not as the training
resizes it, so strokes differ in detail), at the size the training draws its crops from.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from PIL import Image

from atelier.io import find_images
from atelier.style.arbitrary.data import RENDER_SIDE, painterly_rendering

TILE = (200, 260)  # rows, columns shown of each
PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "photos"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output", type=Path, default=Path("docs/images/arbitrary-painted-photos-samples.jpg"))
    args = parser.parse_args()
    if not PHOTOS.is_dir():
        raise SystemExit(f"error: {PHOTOS}: not found (the shared photos)")
    tiles = []
    for index, path in list(enumerate(find_images(PHOTOS)))[::5]:
        if len(tiles) == 8:
            break
        photo = Image.open(path).convert("RGB")
        photo.thumbnail((RENDER_SIDE, RENDER_SIDE), Image.LANCZOS)  # the side the training renders at
        if photo.height < TILE[0] or photo.width < TILE[1]:
            continue  # landscape photos only, so that the tiles line up
        array = np.asarray(photo, dtype=np.float32) / 255.0
        painted = painterly_rendering(array, random.Random(f"0:render:{index}:0"))
        top, left = (array.shape[0] - TILE[0]) // 2, (array.shape[1] - TILE[1]) // 2  # centre crops of one size
        tiles.append(np.concatenate([a[top : top + TILE[0], left : left + TILE[1]] for a in (array, painted)], 1))
    sheet = np.concatenate([np.concatenate(tiles[0::2], 0), np.concatenate(tiles[1::2], 0)], 1)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((sheet * 255).round().astype(np.uint8)).save(args.output, quality=88)
    print(args.output)


if __name__ == "__main__":
    main()
