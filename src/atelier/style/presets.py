"""Loss networks: which backbone and layers measure content, and which measure style.

Following pystiche's encoder/loss split, a preset only *names* layers; the encoders come
from :mod:`atelier.backbones`. Content and style may use different networks: a trained
network understands what is in the photo, while texture statistics come out best from
a VGG-shaped network, even a random one (see docs/style-engine.md for the measurements).
"""

from __future__ import annotations

from dataclasses import dataclass, field

VGG_STYLE_LAYERS = {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0, "relu5_1": 1.0}


@dataclass(frozen=True)
class LossNetwork:
    """Backbones and per-layer weights for the content and style terms."""

    name: str
    description: str
    content_backbone: str
    content_layers: dict[str, float]
    style_backbone: str
    style_layers: dict[str, float]
    smoothing: bool = False
    defaults: dict[str, float] = field(default_factory=dict)

    @property
    def backbones(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([self.content_backbone, self.style_backbone]))


PRESETS: dict[str, LossNetwork] = {}


def _add(preset: LossNetwork) -> None:
    PRESETS[preset.name] = preset


_add(
    LossNetwork(
        "atelier",
        "default, offline: content on EfficientNet-Lite0 (ImageNet), style on a half-width random VGG-19",
        "efficientnet-lite0",
        {"block5": 1.0},
        "vgg19-random-half",
        {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0, "relu4_1": 1.0},
    )
)
_add(
    LossNetwork(
        "vgg19",
        "classic Gatys et al.: ImageNet VGG-19, content relu4_2, style relu1_1…relu5_1 (needs the weights)",
        "vgg19",
        {"relu4_2": 1.0},
        "vgg19",
        dict(VGG_STYLE_LAYERS),
    )
)
_add(
    LossNetwork(
        "efficientnet-lite0",
        "EfficientNet-Lite0 alone, with activation smoothing",
        "efficientnet-lite0",
        {"block5": 1.0},
        "efficientnet-lite0",
        {"stem": 1.0, "block0": 1.0, "block2": 1.0, "block4": 1.0, "block7": 1.0},
        smoothing=True,
    )
)
for _width in ("", "-half", "-quarter"):
    _add(
        LossNetwork(
            f"vgg19-random{_width}",
            f"random-weight VGG-19{_width.replace('-', ' ') or ''} for both terms (content relu4_2)",
            f"vgg19-random{_width}",
            {"relu4_2": 1.0},
            f"vgg19-random{_width}",
            dict(VGG_STYLE_LAYERS),
        )
    )


def get_preset(name: str) -> LossNetwork:
    from atelier.errors import InputError

    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"unknown backbone {name!r}; choose one of: {', '.join(PRESETS)}") from None
