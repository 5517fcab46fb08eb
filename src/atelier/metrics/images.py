"""Image quality: PSNR and SSIM between two pictures of the same size."""

from __future__ import annotations

import numpy as np


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in dB of ``(H, W[, C])`` arrays in [0, ``peak``]; inf if equal."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    mse = float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Structural similarity (Wang et al. 2004; scikit-image) of ``(H, W, 3)`` arrays in [0, 1]."""
    from skimage.metrics import structural_similarity

    return float(structural_similarity(a, b, channel_axis=-1 if a.ndim == 3 else None, data_range=1.0))
