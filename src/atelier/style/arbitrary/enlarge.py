"""Painting at a working size and enlarging with the photo's own fine detail.

The network's marks have a fixed size in its own pixels (its receptive field), so painting a
1024 or 2048 px output pixel by pixel gives marks that shrink with the output: a big picture
looks like the photo with a fine tint. Painting at a bounded working size
(``StyleSettings.work_size``, 384 px by default, as the peer tool paints) keeps the marks' size relative to the picture
the same at every output size (the preview and the poster look alike) and costs a fraction of
the time and memory. The painted picture is then enlarged (Lanczos) and the photo's **fine
detail**, the luminance the working size could not hold (the photo minus its own round trip
through the working size), is added back, so edges, faces and lettering stay as sharp as the
photo's. (Bilateral guided upsampling, Chen et al. 2016, fits a local affine model of the
photo instead; that smooths away painted texture that follows no shape of the photo, which
plain detail transfer keeps.)
"""

from __future__ import annotations

import numpy as np

from atelier.io.images import as_float, fit_size, resize_uint8, to_uint8
from atelier.style.palette import RGB_TO_YIQ

#: Rows enlarged at a time: the float work stays about a megabyte whatever the output's size.
BLOCK_ROWS = 64


def working_shape(height: int, width: int, work_size: int | None) -> tuple[int, int]:
    """``(height, width)`` the network paints at for an output of ``height`` x ``width``: the
    longer side at most ``work_size`` (aspect kept); ``0`` or ``None``: the output's own."""
    if not work_size or max(height, width) <= work_size:
        return height, width
    w, h = fit_size(width, height, work_size)  # (as photos are resized everywhere)
    return h, w


def enlarge(painted: np.ndarray, photo: np.ndarray, small_photo: np.ndarray, detail: float = 1.0, *, as_uint8: bool = False) -> np.ndarray:
    """``painted`` (the network's picture of ``small_photo``) at ``photo``'s size, with
    ``detail`` x the photo's fine luminance detail added: ``photo - enlarge(small_photo)``.

    ``(H, W, 3)`` arrays, float in [0, 1] or 8-bit (``photo`` may be either); returns float32
    at ``photo``'s size, or 8-bit with ``as_uint8`` (what a file gets anyway, in a quarter of
    the memory). ``detail`` 0 gives the plain enlargement."""
    height, width = photo.shape[:2]
    luma = RGB_TO_YIQ[0].astype(np.float32) * np.float32(detail)
    back = None
    if detail > 0:
        # Only the small photo's luminance is needed, enlarged as one 8-bit channel: a third of
        # the memory of its RGB enlargement (the luminance is rounded to 8 bits before and after
        # Lanczos instead of each colour after it: the same size of rounding).
        small_luma = as_float(small_photo) @ (RGB_TO_YIQ[0].astype(np.float32))
        back = resize_uint8(small_luma, width, height)
    out = resize_uint8(painted, width, height)
    out = out.copy() if as_uint8 else as_float(out)  # (both writable: the detail is added in place)
    if back is None:
        return out
    luma_8bit = luma / 255  # (for 8-bit pixels)
    photo_luma = luma_8bit if photo.dtype == np.uint8 else luma
    for top in range(0, height, BLOCK_ROWS):
        rows = slice(top, top + BLOCK_ROWS)
        fine = photo[rows].astype(np.float32, copy=False) @ photo_luma
        fine -= back[rows].astype(np.float32) * np.float32(detail / 255)
        if as_uint8:
            block = as_float(out[rows])
            block += fine[..., None]
            out[rows] = to_uint8(block)
        else:
            block = out[rows]
            block += fine[..., None]
            np.clip(block, 0, 1, out=block)
    return out
