"""Optical flow between frames (OpenCV's DIS), warping, occlusion masks and the warping error
of Lai et al. (2018), the standard measure of flicker in processed video.

Flows are ``(H, W, 2)`` float32 arrays of pixel offsets ``(dx, dy)``. ``flow(a, b)`` tells, for
each pixel of ``a``, where it went in ``b``; so ``warp(b, flow(a, b))`` is ``b`` brought back
onto ``a``'s pixels.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from atelier.io.images import to_uint8


def _cv2():
    import cv2

    return cv2


def gray(image: np.ndarray) -> np.ndarray:
    """``(H, W)`` uint8 luminance of an RGB frame (uint8, or float in [0, 1])."""
    cv2 = _cv2()
    if image.dtype != np.uint8:
        image = to_uint8(image)
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


_DIS = {}


def flow(a: np.ndarray, b: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Dense flow from grey frame ``a`` to grey frame ``b`` (DIS, Kroeger et al. 2016)."""
    cv2 = _cv2()
    if preset not in _DIS:
        code = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST}.get(
            preset, cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
        )
        _DIS[preset] = cv2.DISOpticalFlow_create(code)
    return _DIS[preset].calc(a, b, None)


@lru_cache(maxsize=4)
def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates of an ``h`` x ``w`` frame (made once per size: every frame warps several times)."""
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return xs, ys


def warp(image: np.ndarray, offsets: np.ndarray, sharp: bool = False) -> np.ndarray:
    """``image`` sampled at ``pixel + offsets`` (bilinear, or bicubic with ``sharp``; edges
    replicated). Bicubic matters when a picture is warped again and again: bilinear sampling
    blurs a little each time."""
    cv2 = _cv2()
    xs, ys = _grid(*offsets.shape[:2])
    method = cv2.INTER_CUBIC if sharp else cv2.INTER_LINEAR
    return cv2.remap(image, xs + offsets[..., 0], ys + offsets[..., 1], method, borderMode=cv2.BORDER_REPLICATE)


def reliable(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """``(H, W)`` bool: where ``backward`` (flow from frame t to t-1) is trustworthy.

    Forward-backward check (Sundaram et al. 2010, as Ruder et al. 2016 use it): following a
    pixel back and then forward again must bring it home; it does not where it was occluded or
    the flow is wrong. Pixels whose flow leaves the picture are unreliable too.
    """
    there = warp(forward, backward)  # the forward flow at the place each pixel came from
    loop = backward + there
    ok = (loop**2).sum(-1) < 0.01 * ((backward**2).sum(-1) + (there**2).sum(-1)) + 0.5
    h, w = backward.shape[:2]
    xs, ys = _grid(h, w)
    inside = (
        (xs + backward[..., 0] >= 0) & (xs + backward[..., 0] <= w - 1) & (ys + backward[..., 1] >= 0) & (ys + backward[..., 1] <= h - 1)
    )
    return ok & inside


def warping_error(originals: Iterable[np.ndarray], outputs: Iterable[np.ndarray]) -> float:
    """Lai et al. (2018)'s warping error: flow computed on the **original** frames; for each pair
    (t, t+1), the mean squared difference (RGB in [0, 1]) between output frame t and output
    frame t+1 warped onto t, over the pixels the occlusion check keeps; averaged over pairs.

    Lower is steadier. A sequence of identical frames scores 0. Frames are consumed as they
    come (two at a time in memory).
    """
    errors = []
    previous = None
    for original, output in zip(originals, outputs):
        output = output.astype(np.float32) / 255 if output.dtype == np.uint8 else output.astype(np.float32)
        g = gray(original)
        if previous is not None:
            g0, out0 = previous
            to_next = flow(g0, g)  # frame t -> t+1
            back = flow(g, g0)
            mask = reliable(back, to_next)  # pixels of t whose path to t+1 holds both ways
            brought = warp(output, to_next)  # output t+1 sampled where t's pixels went
            if mask.any():
                errors.append(float(((out0 - brought) ** 2).sum(-1)[mask].mean()))
        previous = (g, output)
    if not errors:
        raise ValueError("the warping error needs at least two frames")
    return float(np.mean(errors))
