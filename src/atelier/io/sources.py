"""Where an input image comes from: a file path, or ``sample:NAME`` for a photo bundled
with scikit-image (so every command can run on a fresh machine with no files at hand)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from atelier.errors import ImageError
from atelier.io.images import (
    LoadedImage,
    array_to_tensor,
    check_image_file,
    fit_size,
    load_image,
    read_image,
    resize_array,
    resize_longest,
    to_uint8,
)
from atelier.io.paths import file_sha256

SAMPLE_PREFIX = "sample:"
#: Colour photos shipped inside scikit-image (no download needed).
SAMPLES = {
    "astronaut": "Eileen Collins, NASA portrait (public domain)",
    "chelsea": "Chelsea the cat (CC0)",
    "coffee": "a cup of coffee (CC0)",
    "rocket": "a rocket on the launch pad, NASA (public domain)",
}


def is_sample(spec: str | Path) -> bool:
    return str(spec).startswith(SAMPLE_PREFIX)


def _sample_array(name: str) -> np.ndarray:
    """The sample's original pixels (what its hash is taken of)."""
    if name not in SAMPLES:
        raise ImageError(f"unknown sample {name!r}; choose one of: {', '.join('sample:' + s for s in SAMPLES)}")
    from skimage import data

    return np.asarray(getattr(data, name)())


def skimage_picture(name: str) -> np.ndarray:
    """Any 8-bit picture bundled with scikit-image as RGB float32 ``(H, W, 3)`` in [0, 1]
    (grey ones repeated to three channels, alpha dropped)."""
    from skimage import data

    array = np.asarray(getattr(data, name)())
    rgb = array[..., :3] if array.ndim == 3 else np.repeat(array[..., None], 3, axis=2)
    return rgb.astype(np.float32) / 255.0


def _sample_rgb(spec: str | Path) -> np.ndarray:
    name = str(spec)[len(SAMPLE_PREFIX) :]
    _sample_array(name)  # checks the name
    return skimage_picture(name)


def read_source(spec: str | Path, *, max_side: int | None = None, eight_bit: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`atelier.io.read_image` for a path or a ``sample:NAME`` (arrays, no PyTorch)."""
    if not is_sample(spec):
        return read_image(spec, max_side=max_side, eight_bit=eight_bit)
    rgb = _sample_rgb(spec)
    if max_side is not None and max(rgb.shape[:2]) > max_side:
        rgb = resize_array(rgb, *fit_size(rgb.shape[1], rgb.shape[0], max_side))
    return (to_uint8(rgb) if eight_bit else rgb), None


def load_source(spec: str | Path, *, max_side: int | None = None) -> LoadedImage:
    """Load a path or a ``sample:NAME`` into a :class:`LoadedImage`."""
    if not is_sample(spec):
        return load_image(spec, max_side=max_side)
    rgb = array_to_tensor(_sample_rgb(spec))
    if max_side is not None:
        rgb = resize_longest(rgb, max_side)
    return LoadedImage(rgb, None, None)


def source_sha256(spec: str | Path) -> str:
    """Content hash of a path's bytes, or of a sample's pixels."""
    if is_sample(spec):
        return hashlib.sha256(_sample_array(str(spec)[len(SAMPLE_PREFIX) :]).tobytes()).hexdigest()
    # hashed before it is read (e.g. as a statistics cache key): the same line as the reader's
    check_image_file(Path(spec))
    return file_sha256(spec)
