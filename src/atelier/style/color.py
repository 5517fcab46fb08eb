"""Colour maths: luminance, YIQ, and linear colour transfer (Gatys et al. 2017, "Controlling
Perceptual Factors in Neural Style Transfer", section 5)."""

from __future__ import annotations

import torch

from atelier.style.palette import RGB_TO_YIQ

# NTSC YIQ, as in Gatys et al. 2017's luminance-only transfer (the same matrix as the NumPy twin).
_RGB_TO_YIQ = torch.tensor(RGB_TO_YIQ, dtype=torch.float32)
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)


def rgb_to_yiq(image: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` RGB to YIQ (Y is luminance in [0, 1])."""
    return torch.einsum("ij,njhw->nihw", _RGB_TO_YIQ.to(image), image)


def yiq_to_rgb(image: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,njhw->nihw", _YIQ_TO_RGB.to(image), image)


def luminance(image: torch.Tensor) -> torch.Tensor:
    """``(N, 1, H, W)`` luminance Y of an RGB image."""
    return rgb_to_yiq(image)[:, :1]


def match_luminance(source_y: torch.Tensor, target_y: torch.Tensor) -> torch.Tensor:
    """Shift and scale ``source_y`` so its mean and std equal ``target_y``'s (Gatys 2017 eq. 6)."""
    s_mean, s_std = source_y.mean(), source_y.std().clamp_min(1e-6)
    t_mean, t_std = target_y.mean(), target_y.std()
    return (source_y - s_mean) * (t_std / s_std) + t_mean


def combine_luminance(luma: torch.Tensor, colour_from: torch.Tensor) -> torch.Tensor:
    """RGB image with ``luma`` as Y and the I, Q channels of ``colour_from``."""
    yiq = rgb_to_yiq(colour_from)
    return yiq_to_rgb(torch.cat([luma, yiq[:, 1:]], dim=1)).clamp(0, 1)


def _sqrtm_sym(matrix: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    values, vectors = torch.linalg.eigh(matrix)
    values = values.clamp_min(1e-8)
    power = -0.5 if inverse else 0.5
    return vectors @ torch.diag(values**power) @ vectors.T


def match_colors(source: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Linear colour transfer: map ``source`` pixels so their mean and covariance equal ``reference``'s.

    ``x' = A (x - mu_s) + mu_r`` with ``A = C_r^{1/2} C_s^{-1/2}`` (the symmetric "image
    analogies" transform). Used both to give a style image the content's colours
    (colour preservation) and to give the content the painting's palette (initialisation).
    """
    src = source[0].reshape(3, -1).double()
    ref = reference[0].reshape(3, -1).double()
    mu_s, mu_r = src.mean(dim=1, keepdim=True), ref.mean(dim=1, keepdim=True)
    eye = torch.eye(3, dtype=torch.float64) * 1e-5
    cov_s = torch.cov(src) + eye
    cov_r = torch.cov(ref) + eye
    transform = _sqrtm_sym(cov_r) @ _sqrtm_sym(cov_s, inverse=True)
    out = transform @ (src - mu_s) + mu_r
    return out.reshape_as(source[0])[None].to(source.dtype).clamp(0, 1)
