"""The shipped arbitrary-style network against a candidate (a folder written by
``atelier train-arbitrary`` or ``scripts/train_arbitrary.py --no-install``), with today's defaults.

    python benchmarks/compare_arbitrary_models.py CANDIDATE_FOLDER [--figure docs/images/NAME.jpg]

On the benchmark's 4 photos x 5 paintings at 512 px (bench_arbitrary.py's pairs): the
independent measures of :mod:`atelier.metrics.style` (texture / palette / luminance SSIM),
split into paintings the shipped network never trained on and the three it did, and the
decoder's reconstruction of each photo (PSNR of the strength-0 picture). The figure has, for
the four pairs of docs/images/arbitrary-sliced.jpg: shipped, candidate, the painting. Writes
``candidate`` (or ``--key``) into benchmarks/results/arbitrary.json. Run it before installing a new network.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from bench_arbitrary import PHOTOS, SLICED_FIGURE, STYLES, _array, _figure_row, _means, _measures, _photo_at, _row, merge_results
from PIL import Image


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a - b) ** 2)))


def compare(candidate: Path, figure: Path | None) -> dict:
    from atelier.style.arbitrary import runtime
    from atelier.style.settings import StyleSettings

    models = {"shipped": None, "candidate": str(candidate)}

    def use(folder: str | None) -> None:
        if folder is None:
            os.environ.pop(runtime.MODEL_ENV, None)
        else:
            os.environ[runtime.MODEL_ENV] = folder

    rows, figure_rows = [], []
    for photo in PHOTOS:
        rgb = _photo_at(photo, 512)
        # the decoder's reconstruction of the photo (strength 0: whatever the painting)
        psnr = {}
        for name, folder in models.items():
            use(folder)
            psnr[name] = _psnr(
                runtime.paint(rgb, [str(STYLES / "the_scream.jpg")], None, StyleSettings(engine="fast", strength=0.0))[0], rgb
            )
        for painting in sorted(STYLES.glob("*.jpg")):
            reference = _array(painting)
            pictures = {}
            for name, folder in models.items():
                use(folder)
                pictures[name] = runtime.paint(rgb, [str(painting)], None, StyleSettings(engine="fast"))[0]
                measures = _measures(pictures[name], reference, rgb) | {"reconstruction_psnr": psnr[name]}
                rows.append(_row(photo, painting, "setting", name, measures))
            use(None)
            if (photo.name, painting.name) in SLICED_FIGURE:
                figure_rows.append(_figure_row([pictures["shipped"], pictures["candidate"]], reference, rgb.shape[:2]))
            print(photo.name, painting.name, flush=True)
    if figure is not None:
        Image.fromarray(np.concatenate(figure_rows)).save(figure, quality=90)
    summary: dict = {}
    for group, held_out in (("held_out", True), ("trained_on", False)):
        for name in models:
            chosen = [r for r in rows if r["held_out"] == held_out and r["setting"] == name]
            psnr = round(float(np.mean([r["reconstruction_psnr"] for r in chosen])), 2)
            summary.setdefault(group, {})[name] = _means(chosen) | {"reconstruction_psnr": psnr}
            print(group, name, summary[group][name], flush=True)
    return {"candidate": str(candidate), "size": 512, "rows": rows, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("candidate", type=Path, help="Folder with encoder.onnx, decoder(.int8).onnx and card.json.")
    parser.add_argument("--figure", type=Path, default=None, help="Where to write the side-by-side figure (JPEG).")
    parser.add_argument("--key", default="candidate", help="Key of the results in benchmarks/results/arbitrary.json.")
    args = parser.parse_args()
    report = compare(args.candidate, args.figure)
    report["command"] = f"python benchmarks/compare_arbitrary_models.py {args.candidate} --key {args.key}"
    merge_results({args.key: report})


if __name__ == "__main__":
    main()
