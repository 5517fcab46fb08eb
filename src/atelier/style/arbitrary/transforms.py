"""Feature transforms that carry a painting's statistics onto a photo's features.

* **AdaIN** (Huang & Belongie 2017): each channel of the photo's features gets the painting's
  mean and standard deviation.
* **WCT** (Li et al. 2017, "Universal Style Transfer"): the photo's features are whitened
  (decorrelated, unit variance) and coloured with the painting's covariance, so that the
  result has exactly the painting's mean and covariance: the co-activation of channels that
  makes a texture.

Both take ``(C, N)`` feature matrices (channels by positions) in NumPy, so that the
onnxruntime path needs no PyTorch; :func:`adain_torch` and :func:`wct_torch` are the same
maths on tensors for training. Statistics can be computed once per painting
(:class:`Statistics`), blended between several paintings, and applied to a photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-5


@dataclass
class Statistics:
    """Mean ``(C,)`` and covariance ``(C, C)`` of a feature map: all a transform needs of a painting."""

    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray, weights: np.ndarray | None = None) -> Statistics:
        """Statistics of ``(C, N)`` features, optionally weighted per position (a mask).

        The big products run in float32 on centred features (accurate enough: the mean is
        taken in float64 first, so there is no catastrophic cancellation), which is several
        times faster and lighter than float64 on photos of several megapixels.
        """
        features = np.asarray(features, dtype=np.float32)
        if weights is None:
            mean = features.mean(axis=1, dtype=np.float64)
            centred = features - mean[:, None].astype(np.float32)
            cov = (centred @ centred.T).astype(np.float64) / max(1, features.shape[1] - 1)
        else:
            w = weights.astype(np.float64).reshape(-1)
            w = w / max(w.sum(), 1e-12)
            mean = features.astype(np.float64) @ w
            centred = features - mean[:, None].astype(np.float32)
            cov = ((centred * w.astype(np.float32)) @ centred.T).astype(np.float64)
        return cls(mean, cov)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))

    @staticmethod
    def blend(stats: list[Statistics], weights: list[float]) -> Statistics:
        """Interpolate between paintings: the mixture's mean, and the covariance of the mixture.

        (Averaging the second moments, not the covariances, so that two paintings with the
        same texture but different palettes blend to a texture with both palettes.)
        """
        total = float(sum(weights))
        w = [x / total for x in weights]
        mean = sum(wi * s.mean for wi, s in zip(w, stats))
        second = sum(wi * (s.cov + np.outer(s.mean, s.mean)) for wi, s in zip(w, stats))
        return Statistics(mean, second - np.outer(mean, mean))


def _sqrtm(cov: np.ndarray, power: float) -> np.ndarray:
    """Symmetric matrix power ``cov ** power`` (power -1/2 whitens, 1/2 colours)."""
    values, vectors = np.linalg.eigh(cov + EPS * np.eye(len(cov)))
    values = np.clip(values, EPS, None)
    return (vectors * values**power) @ vectors.T


def adain(content: np.ndarray, style: Statistics, content_stats: Statistics | None = None) -> np.ndarray:
    """``(C, N)`` content features with each channel's mean and std replaced by the style's."""
    own = content_stats or Statistics.of(content)
    scale = (style.std / np.maximum(own.std, EPS)).astype(np.float32)[:, None]
    return ((content - own.mean[:, None].astype(np.float32)) * scale + style.mean[:, None].astype(np.float32)).astype(content.dtype)


def wct(content: np.ndarray, style: Statistics, content_stats: Statistics | None = None) -> np.ndarray:
    """``(C, N)`` content features whitened and coloured: their covariance becomes the style's."""
    own = content_stats or Statistics.of(content)
    transform = (_sqrtm(style.cov, 0.5) @ _sqrtm(own.cov, -0.5)).astype(np.float32)
    out = transform @ (content - own.mean[:, None].astype(np.float32)) + style.mean[:, None].astype(np.float32)
    return out.astype(content.dtype)


TRANSFORMS = {"adain": adain, "wct": wct}


def apply(
    kind: str,
    content: np.ndarray,
    style: Statistics,
    strength: float = 1.0,
    mask: np.ndarray | None = None,
    content_stats: Statistics | None = None,
) -> np.ndarray:
    """Transform ``(C, N)`` features and blend with the originals by ``strength`` (0: unchanged).

    With ``mask`` (``(N,)`` weights in [0, 1]), the photo's statistics are measured where the
    mask is on and only those positions move (regional style transfer). ``content_stats``
    gives the photo's statistics instead of measuring them here (the tiles of a big photo
    share the whole photo's, so that they agree).
    """
    if strength == 0:
        return content
    own = Statistics.of(content, mask) if content_stats is None else content_stats
    moved = TRANSFORMS[kind](content, style, own)
    out = strength * moved + (1 - strength) * content
    if mask is not None:
        m = mask.reshape(1, -1).astype(content.dtype)
        out = m * out + (1 - m) * content
    return out.astype(content.dtype)


# -- the same maths on tensors, for training ---------------------------------------------


def adain_torch(content, style, eps: float = EPS):
    """AdaIN on ``(B, C, H, W)`` tensors (per item)."""
    c_mean, c_std = content.mean((2, 3), keepdim=True), content.std((2, 3), keepdim=True) + eps
    s_mean, s_std = style.mean((2, 3), keepdim=True), style.std((2, 3), keepdim=True) + eps
    return (content - c_mean) / c_std * s_std + s_mean


def wct_torch(content, style, eps: float = EPS):
    """WCT on ``(B, C, H, W)`` tensors (per item), differentiable."""
    import torch

    out = []
    for c, s in zip(content, style):
        channels = c.shape[0]
        fc, fs = c.reshape(channels, -1), s.reshape(channels, -1)
        mc, ms = fc.mean(1, keepdim=True), fs.mean(1, keepdim=True)
        fc, fs = fc - mc, fs - ms
        eye = torch.eye(channels, dtype=c.dtype, device=c.device) * eps
        cc = fc @ fc.T / max(1, fc.shape[1] - 1) + eye
        cs = fs @ fs.T / max(1, fs.shape[1] - 1) + eye
        ec, vc = torch.linalg.eigh(cc)
        es, vs = torch.linalg.eigh(cs)
        whiten = vc @ torch.diag(ec.clamp_min(eps).rsqrt()) @ vc.T
        colour = vs @ torch.diag(es.clamp_min(eps).sqrt()) @ vs.T
        out.append((colour @ whiten @ fc + ms).reshape_as(c))
    return torch.stack(out)
