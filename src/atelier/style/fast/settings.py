"""Settings of fast-style training, declared once for the library, CLI and studio (no PyTorch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from atelier import checks
from atelier.errors import InputError
from atelier.options import check, option
from atelier.style.fast.geometry import NetworkShape

if TYPE_CHECKING:
    from atelier.style.settings import StyleSettings

#: Content layers for training. The optimiser needs only a deep layer (it starts from the
#: photo); a network starts from nothing, and with ``block5`` alone it lost the photo's
#: structure (side-by-side at 100 steps); adding the stride-4 ``block2`` keeps the edges.
FAST_CONTENT_LAYERS = {
    "atelier": {"block2": 1.0, "block5": 1.0},
    "efficientnet-lite0": {"block2": 1.0, "block5": 1.0},
}


@dataclass
class TrainStyleSettings:
    """Everything that shapes a trained style. The defaults are what the built-ins used."""

    steps: int = option(1200, "Training steps (with --resume: the new total; default the run's).", low=1, high=10_000_000)
    batch: int = option(4, "Photos per step (over all processes under torchrun).", low=1, high=256)
    crop: int = option(192, "Side of the square training crops (multiple of 8; 256 on a GPU).", low=64, high=2048, unit=" pixels")
    style_size: int = option(
        512, "Longest side the painting is seen at: larger gives smaller brush strokes.", low=64, high=4096, unit=" pixels"
    )
    learning_rate: float = option(1e-3, "Adam learning rate.", low=1e-8, high=1, cli=False)
    style_weight: float = option(100.0, "Style against content: higher paints more boldly.", low=0, high=1e9)
    content_weight: float = option(1.0, "Weight of the content term.", low=0, high=1e9, cli=False)
    tv_weight: float = option(10.0, "Smoothness.", low=0, high=1e9)
    statistic: str = option(
        "gram",
        # Unlike the optimiser, which starts from the photo recoloured, a network must learn the
        # palette too, and the Gram matrix carries the colour means (the centred 'covariance'
        # gave blotchy, palette-less results in a side-by-side run).
        "Style statistic.",
        choices=("gram", "covariance", "mean-std"),
        cli=False,
    )
    backbone: str = option("atelier", "Loss network (see `atelier backbones`).")
    content_layers: dict[str, float] | None = option(None, "None: the backbone's fast-style default (FAST_CONTENT_LAYERS).", cli=False)
    style_layers: dict[str, float] | None = option(None, "None: the backbone's style layers.", cli=False)
    weights: str | None = option(None, "Weights file for --backbone vgg19.")
    shape: dict = option(default_factory=lambda: NetworkShape().to_dict(), help="Network widths.", cli=False)
    preview_every: int = option(100, "Write a preview (a photo never trained on) every N steps; 0: never.", low=0, high=10_000_000)
    checkpoint_every: int = option(100, "Save the model and the training state every N steps.", low=1, high=10_000_000)
    seed: int = option(0, "Random seed.", low=0, high=checks.MAX_SEED)

    def validate(self) -> None:
        check(self)
        if self.crop % 8:
            raise InputError(f"--crop must be a multiple of 8, got {self.crop}")
        self.loss_settings().validate()

    def loss_settings(self) -> StyleSettings:
        """The engine settings whose objective this training minimises."""
        from atelier.style.settings import StyleSettings

        return StyleSettings(
            style_weight=self.style_weight,
            content_weight=self.content_weight,
            tv_weight=self.tv_weight,
            statistic=self.statistic,
            backbone=self.backbone,
            content_layers=self.content_layers or FAST_CONTENT_LAYERS.get(self.backbone),
            style_layers=self.style_layers,
            weights=self.weights,
            seed=self.seed,
        )
