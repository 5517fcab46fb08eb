"""Temporal consistency for frame-by-frame stylisation: the previous output, carried along the
optical flow of the **original** frames, is blended into the new frame where the flow is
reliable (forward-backward check, colour check); elsewhere (occlusions, new content, fast
motion) the new frame stands alone, so nothing ghosts. A scene cut restarts the chain.

This is the short-term part of Ruder et al. (2016) done as a blend instead of an optimisation,
in the spirit of Lai et al. (2018)'s blind consistency: it works with any per-frame painter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atelier.video.flow import flow, gray, reliable, warp

#: Below this fraction of reliable pixels, the frame is treated as a new shot.
CUT_RELIABLE = 0.25
#: A grey-level histogram this different from the last frame's (total variation, 0..1) is a cut.
CUT_HISTOGRAM = 0.5


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between two grey frames' 32-bin histograms (0 same, 1 disjoint)."""
    ha = np.bincount(a.reshape(-1) // 8, minlength=32) / a.size
    hb = np.bincount(b.reshape(-1) // 8, minlength=32) / b.size
    return 0.5 * float(np.abs(ha - hb).sum())


def follow(previous_gray: np.ndarray, gray_frame: np.ndarray, tolerance: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """The flow from this frame back to the last (``(H, W, 2)``) and where it can be trusted
    (``(H, W)`` bool): the forward-backward check, and the scene must match along the flow
    within ``tolerance`` of full brightness (lighting changes, flow mistakes)."""
    back = flow(gray_frame, previous_gray)  # where each pixel of this frame was in the last one
    ahead = flow(previous_gray, gray_frame)
    mask = reliable(ahead, back)
    brought = warp(previous_gray, back).astype(np.float32)
    mask &= np.abs(brought - gray_frame.astype(np.float32)) < tolerance * 255
    return back, mask


def track(previous_gray: np.ndarray, gray_frame: np.ndarray, tolerance: float = 0.08) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`follow`, or None when this frame starts a new shot: the brightness histogram
    jumps, or too little of the frame can be followed back into the last one."""
    if histogram_distance(gray_frame, previous_gray) > CUT_HISTOGRAM:
        return None
    back, mask = follow(previous_gray, gray_frame, tolerance)
    return None if float(mask.mean()) < CUT_RELIABLE else (back, mask)


def is_cut(previous_gray: np.ndarray, gray_frame: np.ndarray) -> bool:
    return track(previous_gray, gray_frame) is None


@dataclass
class Step:
    """What the blender did with one frame."""

    image: np.ndarray
    reliable: float
    """Fraction of the frame carried from the previous output (0 on the first frame and cuts)."""
    cut: bool


class TemporalBlender:
    """Feed it (original frame, stylised frame) pairs in order; it returns steadier frames.

    ``carry`` is how much of the warped previous output a reliable pixel keeps (0: plain
    frame by frame; higher: steadier, but more smoothing of fine strokes).
    """

    def __init__(self, carry: float = 0.7, colour_tolerance: float = 0.08) -> None:
        if not 0 <= carry < 1:
            raise ValueError("carry must be in [0, 1)")
        self.carry, self.tolerance = carry, colour_tolerance
        self.previous_gray: np.ndarray | None = None
        self.previous_output: np.ndarray | None = None
        self.cuts = 0

    def __call__(self, original: np.ndarray, stylised: np.ndarray) -> Step:
        """``original``: the frame (uint8 RGB); ``stylised``: its painting (float32 in [0, 1], same size)."""
        g = gray(original)
        previous_gray, previous = self.previous_gray, self.previous_output
        self.previous_gray = g
        if previous is None or previous.shape != stylised.shape or self.carry == 0:
            self.previous_output = stylised
            return Step(stylised, 0.0, False)
        tracked = track(previous_gray, g, self.tolerance)
        if tracked is None:
            return self._cut(stylised)
        back, mask = tracked
        fraction = float(mask.mean())
        carried = warp(previous, back, sharp=True)
        # Soften the mask's edges (inside it only) so blended and fresh regions meet without a seam.
        import cv2

        weight = (cv2.GaussianBlur(mask.astype(np.float32) * self.carry, (0, 0), 1.5) * mask)[..., None]
        image = (weight * carried + (1 - weight) * stylised).astype(np.float32)
        self.previous_output = image
        return Step(image, fraction, False)

    def _cut(self, stylised: np.ndarray) -> Step:
        self.cuts += 1
        self.previous_output = stylised
        return Step(stylised, 0.0, True)
