"""GAN training speed on this machine: steps per second at 32 and 64 px.

    python benchmarks/bench_gan.py [--steps 30] [--batch 32]

Times the training step alone (discriminator + generator update with DiffAugment and the
EMA update) on random data, after a warm-up, for both discriminators (dcgan, projected);
writes benchmarks/results/gan.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from atelier.generate import GanSettings
from atelier.generate.augment import diff_augment
from atelier.generate.models import EMA, Generator
from atelier.generate.train import build_discriminator

RESULTS = Path(__file__).resolve().parent / "results"


def steps_per_second(size: int, batch: int, steps: int, mode: str = "dcgan") -> float:
    torch.manual_seed(0)
    g = Generator(size)
    d = build_discriminator(GanSettings(size=size, discriminator=mode))
    ema = EMA(g)
    opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam([p for p in d.parameters() if p.requires_grad], 4e-4, betas=(0.0, 0.9))
    real = torch.rand(batch, 3, size, size) * 2 - 1

    def step(i: int) -> None:
        fake = g(torch.randn(batch, 128))
        loss_d = F.relu(1 - d(diff_augment(real))).mean() + F.relu(1 + d(diff_augment(fake.detach()))).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = -d(diff_augment(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        ema.update(g, i)

    for i in range(3):
        step(i)
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    report = {"cpus": os.cpu_count(), "threads": torch.get_num_threads(), "batch": args.batch, "steps_per_second": {}}
    for mode in ("dcgan", "projected"):
        for size in (32, 64):
            # The projected discriminator costs a frozen EfficientNet pass at 128 px whatever the size.
            rate = steps_per_second(size, args.batch, args.steps if mode == "dcgan" else max(3, args.steps // 5), mode)
            report["steps_per_second"][f"{mode}_{size}"] = round(rate, 2)
            print(f"{mode}, {size} px, batch {args.batch}: {rate:.2f} steps/s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gan.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
