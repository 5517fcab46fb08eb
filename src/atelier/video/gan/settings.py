"""3D GAN settings, declared once (defaults, help, ranges) for the library and CLI. No PyTorch here."""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option

SIZES = (32, 64)


@dataclass
class VideoGanSettings:
    size: int = option(32, "Frame size in pixels (square).", choices=SIZES)
    frames: int = option(16, "Frames per clip (a power of two, 8 to 32).", choices=(8, 16, 32))
    stride: int = option(2, "Take every N-th frame of the videos (more motion per clip).", low=1, high=16)
    steps: int = option(3000, "Total training steps (with --resume: the new total).", low=1, high=10_000_000)
    batch: int = option(16, "Clips per step.", low=2, high=512)
    z_dim: int = option(100, "Length of the latent vector.", low=8, high=1024, cli=False)
    # Measured on 2 cores at 32 px, 16 frames, batch 16: width 32 took ~3x the time of 16 per step.
    width: int = option(16, "Channel width of the generator.", low=4, high=512, cli=False)
    width_d: int = option(32, "Channel width of the discriminator.", low=4, high=512, cli=False)
    lr: float = option(2e-4, "Generator learning rate.", low=1e-8, high=1, cli=False)
    lr_d: float = option(2e-4, "Discriminator learning rate.", low=1e-8, high=1, cli=False)
    augment: str = option("color,translation,cutout", "DiffAugment policy (the same draw for every frame of a clip).", cli=False)
    ema_decay: float = option(0.999, "Decay of the generator's moving average used for sampling.", low=0, high=0.999999, cli=False)
    sample_every: int = option(200, "Save an animated sample grid every N steps.", low=1, high=10_000_000)
    checkpoint_every: int = option(100, "Save a checkpoint every N steps.", low=1, high=10_000_000)
    eval_every: int = option(
        0, "Frechet scores every N steps (0: at the end only); the best generator by per-frame score is kept.", low=0, high=10_000_000
    )
    eval_samples: int = option(128, "Clips per side for the Frechet scores during training.", low=2, high=10_000, cli=False)
    max_clips: int = option(4000, "At most this many training clips are kept in memory.", low=2, high=1_000_000, cli=False)
    seed: int = option(0, "Random seed.", low=0, high=checks.MAX_SEED)

    def validate(self) -> None:
        check(self)
