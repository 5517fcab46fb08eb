"""Colour maths on arrays (no PyTorch): the same YIQ luminance transfer and linear palette
transfer as :mod:`atelier.style.color`, for the engines that run on NumPy and onnxruntime.

Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style Transfer", section 5.
"""

from __future__ import annotations

import numpy as np

#: NTSC YIQ (Y is luminance in [0, 1]); :mod:`atelier.style.color` uses the same matrix.
RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]])
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)


def keep_photo_colours(stylised: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """The stylised picture's luminance with the photo's chroma (I, Q): ``(H, W, 3)`` in [0, 1]."""
    y = stylised.astype(np.float64) @ RGB_TO_YIQ[0]
    iq = photo.astype(np.float64) @ RGB_TO_YIQ[1:].T
    rgb = np.concatenate([y[..., None], iq], axis=-1) @ YIQ_TO_RGB.T
    return np.clip(rgb, 0, 1).astype(np.float32)


def match_colours(source: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Map ``source``'s pixels so their mean and covariance equal ``reference``'s
    (``x' = C_r^1/2 C_s^-1/2 (x - mu_s) + mu_r``): the painting recoloured with the photo's
    palette, or the photo with the painting's."""
    src = source.reshape(-1, 3).astype(np.float64)
    ref = reference.reshape(-1, 3).astype(np.float64)
    mu_s, mu_r = src.mean(0), ref.mean(0)
    eye = np.eye(3) * 1e-5

    def power(cov: np.ndarray, p: float) -> np.ndarray:
        values, vectors = np.linalg.eigh(cov + eye)
        return (vectors * np.clip(values, 1e-8, None) ** p) @ vectors.T

    transform = power(np.cov(ref.T), 0.5) @ power(np.cov(src.T), -0.5)
    out = (src - mu_s) @ transform.T + mu_r
    return np.clip(out, 0, 1).reshape(source.shape).astype(np.float32)
