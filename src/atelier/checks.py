"""Checks of user-supplied numbers, shared by every settings type (no PyTorch here).

Every number that sizes memory or time has an upper bound, NaN and infinities are refused
everywhere, and the message names the option the way the user typed it.
"""

from __future__ import annotations

import math
from typing import Sequence, TypeVar

from atelier.errors import InputError

N = TypeVar("N", int, float)

#: Longest side of any picture Atelier makes (8192 px is 67 megapixels: a poster at 300 dpi
#: is 68 cm wide; the tiled paths keep memory bounded up to here).
MAX_SIDE = 8192
#: Seeds are 63-bit non-negative integers (what every random generator we use accepts).
MAX_SEED = 2**63 - 1


def option_name(name: str) -> str:
    """``style_scale`` -> ``--style-scale`` (how the command line spells it)."""
    return name if name.startswith("-") else "--" + name.replace("_", "-")


def finite(name: str, value: float) -> float:
    """``value`` if it is a real number (not NaN or infinite)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{option_name(name)} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise InputError(f"{option_name(name)} must be a finite number, got {value}")
    return value


def in_range(name: str, value: N, low: N | None = None, high: N | None = None, unit: str = "") -> N:
    """``value`` if finite and within ``[low, high]`` (either bound may be None)."""
    finite(name, value)
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            bounds = f"between {low:g} and {high:g}{unit}"
        elif low is not None:
            bounds = f"at least {low:g}{unit}"
        else:
            bounds = f"at most {high:g}{unit}"
        raise InputError(f"{option_name(name)} must be {bounds}, got {value:g}")
    return value


def one_of(name: str, value: object, choices: Sequence[object]) -> object:
    if value not in choices:
        raise InputError(f"{option_name(name)} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def side(name: str, value: int | None, low: int = 16) -> int | None:
    """An image side in pixels (None passes: 'keep the photo's own size')."""
    return None if value is None else in_range(name, value, low, MAX_SIDE, " pixels")


def seed(value: int, name: str = "seed") -> int:
    return in_range(name, value, 0, MAX_SEED)
