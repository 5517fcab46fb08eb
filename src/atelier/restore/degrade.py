"""Synthetic damage, made the way the benchmarks make it, for training and for measuring.

* Super-resolution inputs are bicubic reductions with antialiasing (Pillow's, which matches
  MATLAB's ``imresize``, the benchmarks' convention, to within a few hundredths of a dB).
* Noise is additive white Gaussian noise of a given sigma (on the 0-255 scale), not clipped.
* JPEG damage is a real JPEG round trip through Pillow.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from atelier.io.images import to_uint8


def crop_to_multiple(rgb: np.ndarray, scale: int) -> np.ndarray:
    """Drop the last rows/columns so both sides divide by ``scale`` (the benchmarks' "modcrop")."""
    h, w = rgb.shape[:2]
    return rgb[: h - h % scale, : w - w % scale]


def bicubic(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pillow bicubic resize (antialiased when reducing) of an ``(H, W, 3)`` float or uint8 array -> float32."""
    source = rgb if rgb.dtype == np.uint8 else to_uint8(rgb)
    out = Image.fromarray(source).resize((width, height), Image.BICUBIC)
    return np.asarray(out, dtype=np.float32) / 255.0


def downscale(rgb: np.ndarray, scale: int) -> np.ndarray:
    """The low-resolution input of a super-resolution pair (``rgb`` should be mod-cropped)."""
    h, w = rgb.shape[:2]
    return bicubic(rgb, w // scale, h // scale)


def add_noise(rgb: np.ndarray, sigma: float, rng: np.random.Generator, *, grey: bool = False) -> np.ndarray:
    """Additive Gaussian noise of ``sigma`` (0-255 scale); ``grey``: one noise field for all channels."""
    shape = rgb.shape[:2] + ((1,) if grey else rgb.shape[2:])
    return (rgb + rng.normal(0.0, sigma / 255.0, shape)).astype(np.float32)


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """A JPEG round trip at ``quality`` (1-95)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(rgb)).save(buffer, "JPEG", quality=int(quality))
    return np.asarray(Image.open(buffer).convert("RGB"), dtype=np.float32) / 255.0
