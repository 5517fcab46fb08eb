"""A painting kept as its statistics: what the arbitrary-style network needs of it, without the file.

The built-in styles ship this way (``builtin/NAME.stats.npz``): per level of the network's
fixed encoder, the painting's feature mean, covariance and a sample of feature vectors (for
sliced matching), then the same of its pixels' colours, measured with the painting read at
a few sizes (:data:`SIDES`). The size matters because the network reads a painting at the
output's size times ``--style-scale`` (so that its strokes keep their size relative to the
picture); between two stored sizes the statistics are interpolated (a mixture, like blending
two paintings, weighted by where the size falls between them on a log scale).

A file is a few hundred KB per size, about a megabyte per painting, and needs no PyTorch to read.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from atelier.errors import InputError
from atelier.io.atomic import atomic_write
from atelier.style.arbitrary.transforms import Statistics

#: Longest sides (pixels) at which a stored painting is measured.
SIDES = (256, 512, 1024, 2048)
FORMAT = "atelier-painting-statistics"


def save_statistics(path: str | Path, per_side: dict[int, Sequence[Statistics]], *, encoder_sha256: str, compress: bool = True) -> Path:
    """Write ``{side: [Statistics per level]}`` to ``path`` (``.npz``, atomically).

    ``encoder_sha256`` names the encoder the statistics were measured with: they mean nothing
    to another one, so :func:`load_statistics` refuses a mismatch. ``compress=False`` (the
    statistics cache) writes in a few milliseconds instead of about 0.04 s, a file 1.6x as big.
    """
    arrays: dict[str, np.ndarray] = {"format": np.array(FORMAT), "encoder_sha256": np.array(encoder_sha256)}
    arrays["sides"] = np.array(sorted(per_side), dtype=np.int64)
    for side, levels in per_side.items():
        for level, stats in enumerate(levels):
            arrays[f"s{side}_l{level}_mean"] = stats.mean.astype(np.float32)
            arrays[f"s{side}_l{level}_cov"] = stats.cov.astype(np.float32)
            if stats.sample is not None:  # (float16: samples are rounded to it when measured)
                arrays[f"s{side}_l{level}_sample"] = stats.sample.astype(np.float16)
    buffer = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buffer, **arrays)
    return atomic_write(path, lambda stream: stream.write(buffer.getvalue()))


def load_statistics(path: str | Path, side: int, *, encoder_sha256: str | None = None) -> list[Statistics]:
    """The statistics per level for a painting read at longest side ``side`` (interpolated)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != FORMAT:
                raise ValueError("not a painting-statistics file")
            if encoder_sha256 is not None and str(data["encoder_sha256"]) != encoder_sha256:
                raise InputError(f"{path}: measured with another encoder than the installed arbitrary-style network's")
            sides = [int(s) for s in data["sides"]]
            levels = len([k for k in data.files if k.startswith(f"s{sides[0]}_l") and k.endswith("_mean")])

            def at(s: int) -> list[Statistics]:
                return [
                    Statistics(
                        data[f"s{s}_l{lv}_mean"].astype(np.float64),
                        data[f"s{s}_l{lv}_cov"].astype(np.float64),
                        data[f"s{s}_l{lv}_sample"].astype(np.float32) if f"s{s}_l{lv}_sample" in data.files else None,
                    )
                    for lv in range(levels)
                ]

            if side <= sides[0]:
                return at(sides[0])
            if side >= sides[-1]:
                return at(sides[-1])
            upper = next(i for i, s in enumerate(sides) if s >= side)
            low, high = sides[upper - 1], sides[upper]
            t = (math.log(side) - math.log(low)) / (math.log(high) - math.log(low))
            below, above = at(low), at(high)
            return [Statistics.blend([a, b], [1 - t, t]) for a, b in zip(below, above)]
    except InputError:
        raise
    except (OSError, ValueError, KeyError, StopIteration) as error:
        raise InputError(f"{path}: not a painting-statistics file Atelier can read ({error})") from None
