"""Inpainting masks: read from a file (white = fill), checked, or found automatically on an
old photo's scan (scratches and dust)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from atelier.errors import InputError
from atelier.io.images import read_image


def load_mask(path: str | Path, size: tuple[int, int], *, invert: bool = False) -> np.ndarray:
    """The mask in ``path`` as an ``(H, W)`` bool array, True where the picture is to be filled.

    White (or opaque, for a mask painted on a transparent layer) means fill; ``invert`` for
    masks that mark the pixels to keep (Deep Image Prior's files). ``size`` is the photo's
    ``(width, height)``; a mask of another size, an empty mask and a mask that covers
    everything are refused in one line.
    """
    rgb, alpha = read_image(path)
    height, width = rgb.shape[:2]
    if (width, height) != tuple(size):
        raise InputError(f"{path}: the mask is {width}x{height} but the photo is {size[0]}x{size[1]}; they must match")
    if alpha is not None and alpha.min() < 0.5:  # a painted layer: whatever was painted, in any colour
        hole = alpha > 0.5
    else:
        hole = rgb.mean(axis=2) > 0.5
    if invert:
        hole = ~hole
    return check_mask(hole, str(path))


def check_mask(hole: np.ndarray, label: str = "mask") -> np.ndarray:
    if not hole.any():
        raise InputError(
            f"{label}: the mask is empty: nothing to fill (white marks what to fill; --invert-mask if yours marks what to keep)"
        )
    if hole.all():
        raise InputError(f"{label}: the mask covers the whole picture: nothing is left to fill it from")
    return hole


def scratch_mask(rgb: np.ndarray, *, strength: float = 4.0, widen: int = 1) -> np.ndarray:
    """Scratches and dust on a scanned print: thin bright or dark marks that stand out from
    their surroundings (morphological top-hat and black-hat), kept only when they are small or
    long and thin, so edges and texture of the picture itself are left alone.

    ``strength``: how many times stronger than the average contrast around it (31 px) a mark
    must be; higher finds fewer. Returns ``(H, W)`` bool, True = damage.
    """
    import cv2

    grey = (np.clip(rgb, 0, 1).mean(axis=2) * 255).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    response = np.maximum(cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel), cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)).astype(
        np.float32
    )
    # A mark must stand out from its own neighbourhood's texture (busy detail such as windows
    # or branches has a strong response everywhere) and clear a floor of 20 grey levels.
    busy = cv2.blur(response, (31, 31))
    marks = ((response > strength * busy + 10.0) & (response > 20.0)).astype(np.uint8)
    # Scratches: marks that run straight for 15 px or more (an opening with a line at 12
    # angles keeps exactly those) and are thin. Dust: isolated specks of at most 30 px.
    hole = np.zeros_like(marks)
    widened = cv2.dilate(marks, np.ones((3, 3), np.uint8))  # a 1 px line at any angle contains a digital line
    for angle in np.arange(0, 180, 15):
        line = np.zeros((15, 15), np.uint8)
        dx, dy = 7 * np.cos(np.radians(angle)), 7 * np.sin(np.radians(angle))
        cv2.line(line, (round(7 - dx), round(7 - dy)), (round(7 + dx), round(7 + dy)), 1)
        hole |= cv2.morphologyEx(widened, cv2.MORPH_OPEN, line) & marks
    count, labels, stats, _ = cv2.connectedComponentsWithStats(marks, connectivity=8)
    specks = np.zeros(count, bool)
    specks[1:] = stats[1:, cv2.CC_STAT_AREA] <= 30
    # ...and thin: whatever survives an opening with a 5 px disc is a region, not a scratch.
    thick = cv2.dilate(
        cv2.morphologyEx(marks, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))), np.ones((3, 3), np.uint8)
    )
    hole = ((hole > 0) & (thick == 0)) | specks[labels]
    if widen:
        hole = cv2.dilate(hole.astype(np.uint8), np.ones((2 * widen + 1, 2 * widen + 1), np.uint8)) > 0
    return hole
