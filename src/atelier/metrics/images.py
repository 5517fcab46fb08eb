"""Image quality: PSNR and SSIM between two pictures of the same size, in the conventions
restoration papers use (super-resolution: the Y channel of ITU-R BT.601, ``border`` pixels
shaved off each side, usually the scale factor)."""

from __future__ import annotations

import numpy as np

#: BT.601 luma of RGB in [0, 1], as MATLAB's ``rgb2ycbcr`` (Y in [16, 235] / 255).
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB in [0, 1] -> ``(H, W)`` luma Y in [16/255, 235/255] (grey input passes through)."""
    rgb = np.asarray(rgb, np.float64)
    return rgb if rgb.ndim == 2 else 16.0 / 255.0 + rgb @ _Y_WEIGHTS


def _prepare(a: np.ndarray, b: np.ndarray, y_only: bool, border: int) -> tuple[np.ndarray, np.ndarray]:
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if y_only:
        a, b = rgb_to_y(a), rgb_to_y(b)
    if border:
        if min(a.shape[:2]) <= 2 * border:
            raise ValueError(f"images of {a.shape[1]}x{a.shape[0]} are too small to shave {border} px off each side")
        a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    return a, b


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0, *, y_only: bool = False, border: int = 0) -> float:
    """Peak signal-to-noise ratio in dB of ``(H, W[, C])`` arrays in [0, ``peak``]; inf if equal.

    ``y_only`` compares BT.601 luma only and ``border`` shaves that many pixels off each side
    (super-resolution papers: ``y_only=True, border=scale``)."""
    a, b = _prepare(a, b, y_only, border)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(peak**2 / mse)


def ssim(a: np.ndarray, b: np.ndarray, *, y_only: bool = False, border: int = 0) -> float:
    """Structural similarity (Wang et al. 2004: Gaussian window of sigma 1.5, via scikit-image)
    of ``(H, W[, 3])`` arrays in [0, 1]; colour images average the channels' SSIM."""
    from skimage.metrics import structural_similarity

    a, b = _prepare(a, b, y_only, border)
    return float(
        structural_similarity(
            a, b, channel_axis=-1 if a.ndim == 3 else None, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False
        )
    )
