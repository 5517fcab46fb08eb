"""Training pictures for the restorers: whole images in memory (8-bit), random patches with
flips and quarter turns, and the synthetic damage of :mod:`atelier.restore.degrade`.

Photos are also kept at 0.6x: many collections are JPEGs whose finest detail is compression
noise, and a reduced copy gives the networks clean detail to learn from (and more scales).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from atelier.errors import InputError
from atelier.io.images import find_images, read_image
from atelier.restore import degrade

EXTRA_SCALES = (0.6,)


def load_pictures(source: str | Path, min_side: int = 96, extra_scales: tuple[float, ...] = EXTRA_SCALES) -> list[np.ndarray]:
    """Every picture under ``source`` (a folder or one file) as uint8 ``(H, W, 3)``, plus reduced copies."""
    paths = find_images(source) if Path(source).is_dir() else [Path(source)]
    pictures: list[np.ndarray] = []
    for path in paths:
        rgb = degrade.to_uint8(read_image(path)[0])
        for factor in (1.0, *extra_scales):
            h, w = (int(round(s * factor)) for s in rgb.shape[:2])
            if min(h, w) < min_side:
                continue
            pictures.append(rgb if factor == 1.0 else np.asarray(Image.fromarray(rgb).resize((w, h), Image.BICUBIC)))
    if not pictures:
        raise InputError(f"{source}: no pictures of at least {min_side} px to train on")
    return pictures


def random_patch(pictures: list[np.ndarray], side: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``side`` x ``side`` patch of a random picture, randomly flipped and turned (uint8)."""
    for _ in range(100):
        picture = pictures[int(rng.integers(len(pictures)))]
        h, w = picture.shape[:2]
        if h >= side and w >= side:
            break
    else:
        raise InputError(f"no training picture is at least {side} px on both sides")
    y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
    patch = picture[y : y + side, x : x + side]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    return np.ascontiguousarray(np.rot90(patch, int(rng.integers(4))))


def sr_batch(pictures: list[np.ndarray], scale: int, lr_side: int, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Low-resolution ``(B, lr, lr, 3)`` and high-resolution ``(B, lr*s, lr*s, 3)`` float32 patches."""
    highs = [random_patch(pictures, lr_side * scale, rng) for _ in range(batch)]
    lows = [degrade.downscale(h, scale) for h in highs]
    return np.stack(lows), np.stack(highs).astype(np.float32) / 255.0


def denoise_batch(
    pictures: list[np.ndarray], side: int, batch: int, rng: np.random.Generator, *, max_sigma: float, jpeg_share: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Noisy and clean ``(B, side, side, 3)`` float32 patches and each patch's noise level (0-1 scale).

    A quarter of the patches are grey (noise shared by the channels, as in a grey scan); a
    ``jpeg_share`` of them are JPEG-damaged instead, labelled with the damage's own RMS level.
    """
    noisy, clean, levels = [], [], []
    for _ in range(batch):
        patch = random_patch(pictures, side, rng).astype(np.float32) / 255.0
        grey = rng.random() < 0.25
        if grey:
            patch = np.repeat(patch @ np.float32([0.299, 0.587, 0.114])[:, None], 3, axis=2)
        if rng.random() < jpeg_share:
            damaged = degrade.jpeg(patch, int(rng.integers(10, 91)))
            level = float(np.sqrt(np.mean((damaged - patch) ** 2)))
        else:
            sigma = float(rng.uniform(0.0, max_sigma))
            damaged, level = degrade.add_noise(patch, sigma, rng, grey=grey), sigma / 255.0
        noisy.append(damaged)
        clean.append(patch)
        levels.append(level)
    return np.stack(noisy), np.stack(clean), np.float32(levels)
