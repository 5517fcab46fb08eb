"""Training speed of the 3D GAN, and (with --run) the scores of a trained run against untrained.

    python benchmarks/bench_video_gan.py [--steps 6] [--run runs/v --data ../shared/video]

Speed: steps per second at 32 and 64 px (16 frames, batch 16, default widths), whole training
steps (generator and discriminator updates with DiffAugment), after one warm-up step.
With --run, also a picture of the samples over time (docs/images/video-gan-samples.jpg): six
generated clips (rows; every other frame left to right) above six real ones.
Writes benchmarks/results/video_gan.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]


def speed(steps: int) -> dict:
    from atelier import distributed
    from atelier.video.gan.settings import VideoGanSettings
    from atelier.video.gan.train import VideoGanTrainer

    results = {}
    for size in (32, 64):
        settings = VideoGanSettings(size=size)
        clips = torch.randint(0, 256, (64, 3, settings.frames, size, size), dtype=torch.uint8)
        trainer = VideoGanTrainer(settings, clips, distributed.Context(), "random")
        trainer.train_step(0)  # warm-up
        start = time.perf_counter()
        for step in range(1, steps + 1):
            trainer.train_step(step)
        seconds = (time.perf_counter() - start) / steps
        results[str(size)] = {"seconds_per_step": round(seconds, 3), "steps_per_second": round(1 / seconds, 3), "batch": settings.batch,
                              "frames": settings.frames, "threads": torch.get_num_threads()}  # fmt: skip
        print(size, results[str(size)], flush=True)
    return results


def time_strip(clips: torch.Tensor, scale: int = 3) -> np.ndarray:
    """Rows of clips, every other frame left to right, ``(N, 3, T, S, S)`` in [0, 1] -> uint8 picture."""
    n, _, t, s, _ = clips.shape
    pixels = (clips.clamp(0, 1) * 255 + 0.5).byte().permute(0, 2, 3, 4, 1).numpy()
    rows = []
    for clip in pixels:
        frames = [np.pad(frame, ((1, 1), (1, 1), (0, 0)), constant_values=255) for frame in clip[::2]]
        rows.append(np.concatenate(frames, axis=1))
    return np.kron(np.concatenate(rows, axis=0), np.ones((scale, scale, 1), np.uint8))


def samples_picture(run: Path, data: Path, target: Path) -> None:
    from PIL import Image

    from atelier.video.gan.data import load_clips
    from atelier.video.gan.sample import generate_clips
    from atelier.video.gan.train import load_video_generator

    generator, meta = load_video_generator(run)
    s = meta["settings"]
    fake = generate_clips(generator, 6, seed=0)
    real = load_clips(data, s["size"], s["frames"], s["stride"])
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:6]
    gap = np.full((12, time_strip(fake).shape[1], 3), 255, np.uint8)
    picture = np.concatenate([time_strip(fake), gap, time_strip(real[pick].float() / 255)], axis=0)
    Image.fromarray(picture).save(target, quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--run", type=Path, help="A trained run folder to score.")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "video")
    args = parser.parse_args()
    target = ROOT / "benchmarks" / "results" / "video_gan.json"
    results = json.loads(target.read_text()) if target.exists() else {}
    results["command"] = "python benchmarks/bench_video_gan.py " + " ".join(sys.argv[1:])
    results["speed"] = speed(args.steps)
    if args.run:
        from atelier.video.gan.sample import evaluate_video_gan

        results["run"] = {"folder": str(args.run), **evaluate_video_gan(args.run, args.data)}
        results["run_best"] = evaluate_video_gan(args.run, args.data, which="best")
        samples_picture(args.run, args.data, ROOT / "docs" / "images" / "video-gan-samples.jpg")
        print(json.dumps(results["run"], indent=2), flush=True)
    target.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
