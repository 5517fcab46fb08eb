"""Calming the decoder's halos: large soft blots beside strong edges (the dark ovals on both
sides of a lighthouse against the sky), painted by the decoder's deep path.

They are in the low frequencies and the photo does not explain them: where the photo is one
flat sky, the painted picture should be one flat colour too, at the scale of the blot. So the
picture's low band (a blur of about 8 px) is replaced by a guided filter of itself (He et
al. 2010) with the photo's luminance as the guide: locally an affine function of the photo,
which keeps the painting's palette mapped onto the photo's shapes and drops blots that follow
no shape of the photo. The high band, where the brush marks and texture are, is untouched.
Everything runs at a quarter of the resolution (the low band is smooth, "fast guided filter",
He & Sun 2015), so it costs a few hundredths of a second at 1024 px, in NumPy and Pillow.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from atelier.style.palette import RGB_TO_YIQ

#: The work is done at 1/SCALE of the picture's resolution.
SCALE = 4
#: Radius (pixels of the small picture) of the box blur, applied twice, that makes the low
#: band: about a Gaussian of sigma 2, i.e. 8 px at full resolution.
LOW_RADIUS = 2
#: Radius of the guided filter's windows (small pixels: 32 px at full resolution, two cells of
#: the encoder's deepest level, about a halo's width).
GUIDE_RADIUS = 8
#: Regularisation of the guided filter (luminance in [0, 1]): edges of the photo with less
#: contrast than about sqrt(EPS) are smoothed over.
EPS = 1e-2


def box_mean(array: np.ndarray, radius: int) -> np.ndarray:
    """Mean over a ``(2 radius + 1)``-square window around each pixel of an ``(H, W, ...)``
    array, windows clipped at the borders (each mean over the pixels inside)."""
    if radius <= 0:
        return array.astype(np.float64)

    def along(a: np.ndarray, axis: int) -> np.ndarray:
        n = a.shape[axis]
        summed = np.cumsum(a, axis=axis, dtype=np.float64)
        summed = np.concatenate([np.zeros_like(np.take(summed, [0], axis=axis)), summed], axis=axis)
        index = np.arange(n)
        upper, lower = np.minimum(index + radius + 1, n), np.maximum(index - radius, 0)
        shape = [1] * a.ndim
        shape[axis] = n
        counts = (upper - lower).reshape(shape)
        return (np.take(summed, upper, axis=axis) - np.take(summed, lower, axis=axis)) / counts

    return along(along(array, 0), 1)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """The guided filter of ``source`` (``(H, W, C)``) with a one-channel ``guide`` (``(H, W)``):
    in every window, the least-squares affine map of the guide onto the source (slope
    regularised by ``eps``), averaged over the windows that cover a pixel."""
    guide = guide.astype(np.float64)[..., None]
    mean_guide = box_mean(guide, radius)
    mean_source = box_mean(source, radius)
    variance = box_mean(guide * guide, radius) - mean_guide**2
    covariance = box_mean(guide * source, radius) - mean_guide * mean_source
    slope = covariance / (variance + eps)
    offset = mean_source - slope * mean_guide
    return box_mean(slope, radius) * guide + box_mean(offset, radius)


def _resize(array: np.ndarray, width: int, height: int, method: int) -> np.ndarray:
    """Float resize channel by channel (Pillow's ``F`` mode: no 8-bit rounding)."""
    channels = [Image.fromarray(np.ascontiguousarray(array[..., c], dtype=np.float32), "F") for c in range(array.shape[2])]
    return np.stack([np.asarray(ch.resize((width, height), method)) for ch in channels], axis=-1)


def calm_halos(image: np.ndarray, photo: np.ndarray, amount: float = 1.0) -> np.ndarray:
    """``image`` (``(H, W, 3)`` float32 in [0, 1], painted from ``photo``) with its low band
    replaced by the guided filter of it on the photo's luminance, by ``amount`` (0:
    unchanged). Works **in place** (a full-size picture is not copied) and returns ``image``."""
    h, w = image.shape[:2]
    if amount <= 0 or min(h, w) < 4 * SCALE:
        return image
    sw, sh = max(1, round(w / SCALE)), max(1, round(h / SCALE))
    small = _resize(image, sw, sh, Image.BOX).astype(np.float64)
    luminance = _resize((photo[..., :3] @ RGB_TO_YIQ[0].astype(np.float32))[..., None], sw, sh, Image.BOX)[..., 0]
    low = box_mean(box_mean(small, LOW_RADIUS), LOW_RADIUS)
    change = amount * (guided_filter(luminance, low, GUIDE_RADIUS, EPS) - low)
    image += _resize(change.astype(np.float32), w, h, Image.BILINEAR)
    return np.clip(image, 0, 1, out=image)
