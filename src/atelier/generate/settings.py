"""GAN training settings, declared once (defaults, help, ranges) for the library, CLI and studio.

No PyTorch here (``atelier gan train --help`` stays instant).
"""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option

SIZES = (32, 64, 128)
ARCHITECTURES = ("fastgan", "dcgan")
DISCRIMINATORS = ("pixel", "projected", "dcgan")  # dcgan: the name "pixel" had before FastGAN
PRECISIONS = ("auto", "bf16", "fp32")
#: Channel width when ``width`` is not given: measured per architecture (docs/generate.md).
DEFAULT_WIDTH = {"fastgan": 16, "dcgan": 64}
DEFAULT_STEPS = 1000


@dataclass
class GanSettings:
    size: int = option(64, "Image size in pixels.", choices=SIZES)
    steps: int | None = option(
        None,
        "Total training steps (default 1000, or no step limit when --time-limit is given; with --resume: the new total).",
        low=1,
        high=10_000_000,
    )
    batch: int = option(32, "Images per step (over all processes under torchrun).", low=2, high=1024)
    z_dim: int = option(128, "Length of the latent vector.", low=8, high=1024, cli=False)
    architecture: str = option(
        "fastgan",
        "fastgan: skip-layer excitation in the generator and a self-supervised reconstructing "
        "discriminator (Liu et al. 2021), narrow enough for a CPU; dcgan: the first networks. "
        "See docs/generate.md for the comparison at equal time.",
        choices=ARCHITECTURES,
    )
    width: int | None = option(
        None, "Channel width at full resolution (doubling per halving); default per architecture: fastgan 16, dcgan 64.", low=4, high=1024
    )
    precision: str = option(
        "auto",
        "bf16: compute in bfloat16 (weights stay float32), 1.3-1.75x the steps per second on a CPU with AVX-512 BF16 (measured at 32-128 px); "
        "auto: bf16 where the hardware has it, else fp32.",
        choices=PRECISIONS,
    )
    # Two time-scale update rule (Heusel et al. 2017), the usual SN-GAN recipe. Measured on
    # 300 painting crops, 300 steps at 32 px: fid_effnet 410 against 506 with DCGAN's
    # (2e-4, 2e-4, betas 0.5/0.999), and visibly the collection's palettes (docs/generate.md).
    lr: float = option(1e-4, "Generator learning rate.", low=1e-8, high=1, cli=False)
    lr_d: float | None = option(8e-4, "Discriminator learning rate (None: the generator's).", low=1e-8, high=1, cli=False)
    betas: tuple[float, float] = option((0.0, 0.9), "Adam betas.", low=0, high=0.99999, cli=False)
    augment: str = option("color,translation,cutout", "DiffAugment policy.", cli=False)
    discriminator: str = option(
        "pixel",
        "pixel: the architecture's discriminator on pixels; projected: small discriminators on frozen "
        "EfficientNet-Lite0 features (Sauer et al. 2021); dcgan: the old name of pixel. See docs/generate.md for the comparison.",
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
        if self.discriminator == "dcgan":
            self.discriminator = "pixel"

    def total_steps(self, time_limit: float | None) -> int | None:
        """``steps``; by default 1000, or None (no step limit) when a time limit decides."""
        return self.steps or (None if time_limit else DEFAULT_STEPS)

    @property
    def channels(self) -> int:
        """The channel width in use (``width``, or the architecture's default)."""
        return self.width or DEFAULT_WIDTH[self.architecture]


def upgrade_settings(saved: dict) -> dict:
    """Settings saved by earlier versions, in today's terms: runs from before the FastGAN
    networks are DCGAN runs in float32 (their discriminator's old name, ``dcgan``, is
    translated by :meth:`GanSettings.validate`, as for a user who types it)."""
    saved = dict(saved)
    if "architecture" not in saved:
        saved.update(architecture="dcgan", precision="fp32")
    return saved
