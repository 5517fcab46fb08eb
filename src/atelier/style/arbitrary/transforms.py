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
#: Positions processed at a time (bounds the temporaries on big pictures).
CHUNK = 1 << 16


@dataclass
class Statistics:
    """Mean ``(C,)`` and covariance ``(C, C)`` of a feature map: all a transform needs of a painting."""

    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def of(cls, features: np.ndarray, weights: np.ndarray | None = None) -> Statistics:
        """Statistics of ``(C, N)`` features, optionally weighted per position (a mask).

        The big products run in float32 on features shifted to near their mean and are summed
        in float64 (:class:`Moments`, no catastrophic cancellation), piece by piece so that
        no full-size temporary is made; several times faster and lighter than float64.
        """
        features = np.asarray(features, dtype=np.float32)
        if weights is None:
            moments = Moments()
            for start in range(0, features.shape[1], CHUNK):
                moments.add(features[:, start : start + CHUNK])
            return moments.statistics()
        w = weights.astype(np.float64).reshape(-1)
        w = w / max(w.sum(), 1e-12)
        mean = features.astype(np.float64) @ w
        centred = features - mean[:, None].astype(np.float32)
        return cls(mean, ((centred * w.astype(np.float32)) @ centred.T).astype(np.float64))

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


class Moments:
    """Running sums for the mean and covariance of features seen in pieces (strips, tiles),
    so that a big picture's statistics never need all its features at once.

    Sums are taken around a reference point (the first piece's mean) in float32 and added
    up in float64, which avoids the cancellation of ``E[ff^T] - mean mean^T``.
    """

    def __init__(self) -> None:
        self.count = 0
        self.origin: np.ndarray | None = None
        self.first: np.ndarray | float = 0.0
        self.second: np.ndarray | float = 0.0

    def add(self, features: np.ndarray) -> None:
        """Add ``(C, N)`` features."""
        features = np.asarray(features, dtype=np.float32)
        if features.shape[1] == 0:
            return
        if self.origin is None:
            self.origin = features.mean(axis=1, dtype=np.float64).astype(np.float32)
        shifted = features - self.origin[:, None]
        self.count += shifted.shape[1]
        self.first = self.first + shifted.sum(axis=1, dtype=np.float64)
        self.second = self.second + (shifted @ shifted.T).astype(np.float64)

    def statistics(self) -> Statistics:
        if self.origin is None:
            raise ValueError("no features were added")
        n = self.count
        shift = self.first / n
        cov = (self.second - n * np.outer(shift, shift)) / max(1, n - 1)
        return Statistics(self.origin.astype(np.float64) + shift, cov)


def _sqrtm(cov: np.ndarray, power: float) -> np.ndarray:
    """Symmetric matrix power ``cov ** power`` (power -1/2 whitens, 1/2 colours)."""
    values, vectors = np.linalg.eigh(cov + EPS * np.eye(len(cov)))
    values = np.clip(values, EPS, None)
    return (vectors * values**power) @ vectors.T


def affine(kind: str, style: Statistics, content: Statistics) -> tuple[np.ndarray, np.ndarray]:
    """Both transforms are affine maps of the features given the two sets of statistics:
    ``moved = matrix @ x + shift``. Returns ``(matrix (C, C), shift (C,))`` in float64."""
    if kind == "adain":
        matrix = np.diag(style.std / np.maximum(content.std, EPS))
    elif kind == "wct":
        matrix = _sqrtm(style.cov, 0.5) @ _sqrtm(content.cov, -0.5)
    else:
        raise ValueError(f"unknown transform {kind!r}")
    return matrix, style.mean - matrix @ content.mean


def adain(content: np.ndarray, style: Statistics, content_stats: Statistics | None = None) -> np.ndarray:
    """``(C, N)`` content features with each channel's mean and std replaced by the style's."""
    return apply("adain", content, style, content_stats=content_stats)


def wct(content: np.ndarray, style: Statistics, content_stats: Statistics | None = None) -> np.ndarray:
    """``(C, N)`` content features whitened and coloured: their covariance becomes the style's."""
    return apply("wct", content, style, content_stats=content_stats)


def apply(
    kind: str,
    content: np.ndarray,
    style: Statistics,
    strength: float = 1.0,
    mask: np.ndarray | None = None,
    content_stats: Statistics | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Transform ``(C, N)`` features and blend with the originals by ``strength`` (0: unchanged).

    With ``mask`` (``(N,)`` weights in [0, 1]), the photo's statistics are measured where the
    mask is on and only those positions move (regional style transfer). ``content_stats``
    gives the photo's statistics instead of measuring them here (the tiles of a big photo
    share the whole photo's, so that they agree). ``out``: where to write the result (float32;
    may be ``content`` itself, to transform in place).
    """
    if strength == 0:
        return content
    own = Statistics.of(content, mask) if content_stats is None else content_stats
    matrix, shift = affine(kind, style, own)
    # strength * (matrix x + shift) + (1 - strength) x, as one affine map
    matrix = (strength * matrix + (1 - strength) * np.eye(len(matrix))).astype(np.float32)
    shift = (strength * shift).astype(np.float32)[:, None]
    out = np.empty(content.shape, dtype=np.float32) if out is None else out
    for start in range(0, content.shape[1], CHUNK):
        x = content[:, start : start + CHUNK]
        y = matrix @ x + shift
        if mask is not None:
            m = mask[start : start + CHUNK].reshape(1, -1).astype(np.float32)
            y = x + m * (y - x)
        out[:, start : start + CHUNK] = y
    return out.astype(content.dtype, copy=False)


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
