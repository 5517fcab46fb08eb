"""Parsing of the text options shared by the command line and the studio (no PyTorch)."""

from __future__ import annotations

from typing import Sequence

from atelier.checks import in_range
from atelier.errors import InputError


def parse_style_weights(text: str | None, count: int) -> list[float] | None:
    """Parse ``"0.7,0.3"`` into floats, checking there is one per style."""
    if text is None:
        return None
    try:
        weights = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"--style-weights must be numbers separated by commas, got {text!r}") from None
    if len(weights) != count:
        raise InputError(f"--style-weights has {len(weights)} value(s) but {count} --style image(s) were given")
    return weights


def parse_layer_weights(text: str | None, option: str = "--style-layers") -> dict[str, float] | None:
    """Parse ``"relu1_1=1,relu3_1=0.5"`` (a bare name means weight 1)."""
    if text is None:
        return None
    layers: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition("=")
        try:
            layers[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise InputError(f"{option}: {part!r} is not NAME=WEIGHT") from None
    if not layers:
        raise InputError(f"{option} needs at least one layer")
    return layers


def normalised_weights(weights: Sequence[float] | None, count: int, what: str = "style(s)") -> list[float]:
    """Blend weights for ``count`` styles, checked and scaled to sum to 1 (None: all equal)."""
    weights = list(weights) if weights is not None else [1.0] * count
    if len(weights) != count:
        raise InputError(f"{count} {what} but {len(weights)} style weight(s)")
    for weight in weights:
        in_range("style_weights", weight, 0, 1e6)
    if any(w < 0 for w in weights) or sum(weights) <= 0:
        raise InputError("style weights must be zero or more and not all zero")
    total = sum(weights)
    return [w / total for w in weights]
