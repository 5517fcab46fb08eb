"""Compare GAN configurations at an equal wall-clock budget, and keep their sample grids.

    python benchmarks/gan_modes.py [--budget 4m] [--size 64] [--modes fastgan,dcgan,projected]

Data: 400 random square crops (25-50 % of the short side, seed 0) of the paintings in
../shared/images/styles to train on, and 500 other crops (seed 1) held out for the scores.
Every configuration trains for the same time (`--time-limit`, default settings otherwise:
batch 32, TTUR, DiffAugment, seed 0) on this machine, one after the other. Scores on 500
generated vs the 500 held-out crops: fid_effnet (EfficientNet-Lite0 features, which the
projected discriminator also sees) and fd_random_vgg (features no discriminator sees), with
the same scores for each configuration's untrained generator.

Writes benchmarks/results/gan_modes.json and docs/images/gan-modes.png.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from atelier.generate import GanSettings, train_gan
from atelier.generate.sample import RealSide, evaluate, real_side, sample, score_generator
from atelier.generate.train import image_grid
from atelier.io import tensor_to_pil

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"

#: What each mode changes from the default settings.
MODES = {
    "fastgan": {},
    "fastgan-fp32": {"precision": "fp32"},
    "dcgan": {"architecture": "dcgan", "precision": "fp32"},  # the defaults before FastGAN
    "projected": {"discriminator": "projected"},
}


def make_crops(folder: Path, count: int, seed: int, side_px: int = 96) -> Path:
    """``count`` random square crops (25-50 % of the short side) of the shared paintings."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paintings = [Image.open(p).convert("RGB") for p in sorted((SHARED / "styles").glob("*.jpg"))]
    for i in range(count):
        image = paintings[i % len(paintings)]
        side = int(min(image.size) * rng.uniform(0.25, 0.5))
        x, y = rng.integers(0, image.width - side), rng.integers(0, image.height - side)
        image.crop((x, y, x + side, y + side)).resize((side_px, side_px), Image.LANCZOS).save(folder / f"{i:03d}.jpg", quality=95)
    return folder


def side_by_side(grids: list[torch.Tensor], gap: int = 12) -> Image.Image:
    """Sample grids of equal height in one picture, left to right, ``gap`` white pixels apart."""
    canvas = torch.ones(1, 3, grids[0].shape[-2], sum(g.shape[-1] for g in grids) + gap * (len(grids) - 1))
    left = 0
    for grid in grids:
        canvas[..., left : left + grid.shape[-1]] = grid
        left += grid.shape[-1] + gap
    return tensor_to_pil(canvas)


def untrained_scores(settings: GanSettings, held_out: Path | RealSide, n: int) -> dict:
    """The scores of the configuration's freshly initialised generator: the baseline to beat.

    As initialised (batch-norm statistics 0 and 1: the baseline the bar has always used), and
    under ``calibrated`` with them measured on its own samples, as Atelier samples a run since
    2026-12-07 (that one scores *worse* by fid_effnet, so the plain one is the stricter baseline)."""
    from atelier.generate.train import build_generator, calibrated

    real = held_out if isinstance(held_out, RealSide) else real_side(held_out, settings.size, n)
    torch.manual_seed(settings.seed)
    generator = build_generator(settings).eval()
    rounded = lambda scores: {"fid_effnet": round(scores["fid_effnet"], 2), "fd_random_vgg": round(scores["fd_random_vgg"], 3)}  # noqa: E731
    result = rounded(score_generator(generator, real))
    return {**result, "calibrated": rounded(score_generator(calibrated(generator, settings), real))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="4m", help="Training time per configuration (90s, 4m, 20m).")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--modes", default="fastgan,dcgan,projected", help=f"Any of {', '.join(MODES)}.")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    modes = args.modes.split(",")
    report: dict = {"command": "python benchmarks/gan_modes.py " + f"--budget {args.budget} --size {args.size} --modes {args.modes}"}
    report.update(budget=args.budget, size=args.size, threads=args.threads, modes={})
    grids = []
    with tempfile.TemporaryDirectory() as tmp:
        train = make_crops(Path(tmp) / "train", 400, seed=0)
        held_out = make_crops(Path(tmp) / "held-out", 500, seed=1)
        for mode in modes:
            settings = GanSettings(size=args.size, sample_every=1_000_000, checkpoint_every=1_000_000, **MODES[mode])
            start = time.perf_counter()
            run = train_gan(train, Path(tmp) / mode, settings, time_limit=args.budget)
            seconds = time.perf_counter() - start
            scores = evaluate(run.folder, held_out, n=args.samples)
            training_seconds = json.loads(run.meta.read_text())[
                "seconds"
            ]  # the runner's clock: training and its checkpoints, not loading the data
            report["modes"][mode] = {
                "changes": MODES[mode],
                "steps": scores["step"],
                "seconds_whole_call": round(seconds, 1),
                "seconds_training": round(training_seconds, 1),
                "steps_per_second": round(scores["step"] / training_seconds, 3),
                "fid_effnet": round(scores["fid_effnet"], 2),
                "fd_random_vgg": round(scores["fd_random_vgg"], 3),
                "untrained": untrained_scores(settings, held_out, args.samples),
            }
            print(mode, json.dumps(report["modes"][mode]), flush=True)
            grids.append(image_grid(sample(run.folder, 36, seed=0), columns=6))
    side_by_side(grids).save(ROOT / "docs" / "images" / "gan-modes.png")
    (ROOT / "benchmarks" / "results" / "gan_modes.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
