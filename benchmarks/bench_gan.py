"""GAN training speed on this machine: steps per second at 32, 64 and 128 px.

    python benchmarks/bench_gan.py [--seconds 15] [--batch 32] [--sizes 32,64,128]

Times Atelier's own training step (``GanTrainer.train_step``: discriminator and generator
updates with DiffAugment, the FastGAN discriminator's reconstruction, the EMA) on random
images, after a warm-up, for the configurations of ``benchmarks/gan_modes.py``: fastgan
(the default, bf16 where the CPU has it), fastgan in fp32, dcgan (the networks before
FastGAN, fp32) and the projected discriminator. Writes benchmarks/results/gan.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from atelier import distributed
from atelier.generate import GanSettings
from atelier.generate.train import GanTrainer

RESULTS = Path(__file__).resolve().parent / "results"
CONFIGURATIONS = {
    "fastgan": {},
    "fastgan-fp32": {"precision": "fp32"},
    "dcgan": {"architecture": "dcgan", "precision": "fp32"},
    "projected": {"discriminator": "projected"},
}


def steps_per_second(size: int, batch: int, seconds: float, changes: dict) -> float:
    settings = GanSettings(size=size, batch=batch, **changes)
    images = torch.randint(0, 256, (max(batch * 2, 64), 3, size, size), dtype=torch.uint8)
    trainer = GanTrainer(settings, images, distributed.context(), "random")
    for step in range(2):
        trainer.train_step(step)
    start, step = time.perf_counter(), 2
    while time.perf_counter() - start < seconds or step < 5:
        trainer.train_step(step)
        step += 1
    return (step - 2) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--sizes", default="32,64,128")
    args = parser.parse_args()
    report = {
        "command": f"python benchmarks/bench_gan.py --seconds {args.seconds:g} --batch {args.batch} --sizes {args.sizes}",
        "cpus": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "steps_per_second": {},
    }
    for name, changes in CONFIGURATIONS.items():
        for size in map(int, args.sizes.split(",")):
            rate = steps_per_second(size, args.batch, args.seconds, changes)
            report["steps_per_second"][f"{name}_{size}"] = round(rate, 3)
            print(f"{name}, {size} px, batch {args.batch}: {rate:.3f} steps/s", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "gan.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
