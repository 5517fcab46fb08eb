"""Compare the two discriminators on the same data and step budget, and keep the grids.

    python benchmarks/gan_modes.py [--steps 300] [--size 32] [--crops 300]

Data: random square crops (25-50 % of the short side, seed 0) of the four paintings in
../shared/images/styles. Both runs use the same generator, TTUR, DiffAugment, batch 32
and seed; only the discriminator differs. Scores on 512 generated vs 300 real images:
fid_effnet / kid_effnet (EfficientNet-Lite0 features, which the projected discriminator
also sees) and fd_random_vgg (features neither discriminator sees).

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
from atelier.generate.sample import evaluate, sample
from atelier.generate.train import image_grid
from atelier.io import tensor_to_pil

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"


def make_crops(folder: Path, count: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    paintings = [Image.open(p).convert("RGB") for p in sorted((SHARED / "styles").glob("*.jpg"))]
    for i in range(count):
        image = paintings[i % len(paintings)]
        side = int(min(image.size) * rng.uniform(0.25, 0.5))
        x, y = rng.integers(0, image.width - side), rng.integers(0, image.height - side)
        image.crop((x, y, x + side, y + side)).resize((96, 96), Image.LANCZOS).save(folder / f"{i:03d}.jpg", quality=95)


def untrained_scores(data: Path) -> dict:
    """The same scores for a freshly initialised generator (seed 0): the baseline to beat."""
    from atelier.generate.data import load_dataset
    from atelier.generate.models import Generator
    from atelier.generate.sample import _generate, random_vgg_features
    from atelier.generate.train import effnet_features
    from atelier.metrics import frechet_between, kernel_distance

    real = load_dataset(data, 32).images
    real = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:512]].float() / 255
    torch.manual_seed(0)
    fake = _generate(Generator(32).eval(), len(real), 1)
    fake_e, real_e = effnet_features(fake), effnet_features(real)
    return {
        "fid_effnet": round(frechet_between(fake_e, real_e), 4),
        "kid_effnet": round(kernel_distance(fake_e, real_e, subset_size=100), 4),
        "fd_random_vgg": round(frechet_between(random_vgg_features(fake), random_vgg_features(real)), 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--crops", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report: dict = {"steps": args.steps, "size": args.size, "crops": args.crops, "threads": args.threads, "modes": {}}
    grids = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "crops"
        data.mkdir()
        make_crops(data, args.crops)
        report["untrained_generator"] = untrained_scores(data)
        for mode in ("dcgan", "projected"):
            settings = GanSettings(
                size=args.size,
                steps=args.steps,
                batch=32,
                discriminator=mode,
                sample_every=args.steps,
                checkpoint_every=args.steps,
                eval_samples=256,
            )
            start = time.perf_counter()
            run = train_gan(data, Path(tmp) / mode, settings)
            seconds = time.perf_counter() - start
            scores = evaluate(run.folder, data, n=512)
            report["modes"][mode] = {
                "train_seconds": round(seconds, 1),
                "steps_per_second": round(args.steps / seconds, 3),
                **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in scores.items()},
            }
            print(mode, json.dumps(report["modes"][mode]), flush=True)
            grids.append(image_grid(sample(run.folder, 64, seed=0), columns=8))
    canvas = torch.ones(1, 3, grids[0].shape[-2], grids[0].shape[-1] * 2 + 12)
    canvas[..., : grids[0].shape[-1]] = grids[0]
    canvas[..., grids[0].shape[-1] + 12 :] = grids[1]
    picture = tensor_to_pil(canvas)
    picture = picture.resize((picture.width * 2, picture.height * 2), Image.NEAREST)
    picture.save(ROOT / "docs" / "images" / "gan-modes.png")
    (ROOT / "benchmarks" / "results" / "gan_modes.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
