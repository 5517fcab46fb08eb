"""GAN training settings, declared once (defaults, help, ranges) for the library, CLI and studio.

No PyTorch here (``atelier gan train --help`` stays instant).
"""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option

SIZES = (32, 64, 128)
DISCRIMINATORS = ("dcgan", "projected")


@dataclass
class GanSettings:
    size: int = option(64, "Image size in pixels.", choices=SIZES)
    steps: int = option(1000, "Total training steps (with --resume: the new total).", low=1, high=10_000_000)
    batch: int = option(32, "Images per step (over all processes under torchrun).", low=2, high=1024)
    z_dim: int = option(128, "Length of the latent vector.", low=8, high=1024, cli=False)
    width: int = option(64, "Channel width of both networks.", low=8, high=1024, cli=False)
    # Two time-scale update rule (Heusel et al. 2017), the usual SN-GAN recipe. Measured on
    # 300 painting crops, 300 steps at 32 px: fid_effnet 410 against 506 with DCGAN's
    # (2e-4, 2e-4, betas 0.5/0.999), and visibly the collection's palettes (docs/generate.md).
    lr: float = option(1e-4, "Generator learning rate.", low=1e-8, high=1, cli=False)
    lr_d: float | None = option(4e-4, "Discriminator learning rate (None: the generator's).", low=1e-8, high=1, cli=False)
    betas: tuple[float, float] = option((0.0, 0.9), "Adam betas.", low=0, high=0.99999, cli=False)
    augment: str = option("color,translation,cutout", "DiffAugment policy.", cli=False)
    discriminator: str = option(
        "dcgan",
        "dcgan: a discriminator on pixels (faster steps); projected: small discriminators on frozen "
        "EfficientNet-Lite0 features (Sauer et al. 2021). See docs/generate.md for the comparison.",
        choices=DISCRIMINATORS,
    )
    ema_decay: float = option(0.999, "Decay of the generator's moving average used for sampling.", low=0, high=0.999999, cli=False)
    sample_every: int = option(100, "Save a sample grid every N steps.", low=1, high=10_000_000)
    checkpoint_every: int = option(100, "Save a checkpoint every N steps.", low=1, high=10_000_000)
    eval_every: int = option(
        0, "Frechet score every N steps (0: at the end only); the best generator is kept as best.pt.", low=0, high=10_000_000
    )
    eval_samples: int = option(256, "Images per side for the Frechet score during training.", low=2, high=50_000, cli=False)
    seed: int = option(0, "Random seed.", low=0, high=checks.MAX_SEED)

    def validate(self) -> None:
        check(self)
