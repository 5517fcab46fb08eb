"""Training settings of the learned restorers, declared once (defaults, help, ranges) for the
library and the CLI. No PyTorch here (``atelier restore train --help`` stays instant)."""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option

TASKS = ("upscale", "denoise")


@dataclass
class RestoreTrainSettings:
    steps: int = option(4000, "Training steps (with --resume: the new total).", low=1, high=10_000_000)
    batch: int = option(16, "Patches per step.", low=1, high=1024)
    patch: int = option(0, "Patch side in pixels, at the network's input resolution (0: 40 for upscale, 64 for denoise).", low=0, high=1024)
    channels: int = option(0, "Network width (0: 64).", low=0, high=1024)
    depth: int = option(0, "Residual blocks (0: 8).", low=0, high=128)
    lr: float = option(5e-4, "Adam learning rate (cosine decay to a twentieth).", low=1e-7, high=1)
    max_sigma: float = option(50.0, "denoise: noise strengths drawn from 0 to this (0-255 scale).", low=1, high=255)
    jpeg: float = option(0.2, "denoise: share of patches degraded by JPEG compression instead of noise.", low=0, high=1)
    eval_every: int = option(250, "Held-out PSNR every N steps (the best model is kept).", low=1, high=10_000_000)
    checkpoint_every: int = option(250, "Save the training state every N steps.", low=1, high=10_000_000)
    seed: int = option(0, "Random seed.", low=0, high=checks.MAX_SEED)

    def validate(self) -> None:
        check(self)

    def resolved(self, task: str) -> RestoreTrainSettings:
        """Task defaults filled in for the 0 ("automatic") values."""
        defaults = {"upscale": (40, 64, 8), "denoise": (64, 64, 8)}[task]
        patch, channels, depth = (v or d for v, d in zip((self.patch, self.channels, self.depth), defaults))
        return RestoreTrainSettings(**{**self.__dict__, "patch": patch, "channels": channels, "depth": depth})
