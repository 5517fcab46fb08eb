"""Distances between sets of features: the Frechet distance (as in FID, Heusel et al. 2017)
and the Kernel Inception Distance (KID, Binkowski et al. 2018).

These are statistics of *any* feature extractor. Offline, Atelier computes them on
EfficientNet-Lite0 features and names them accordingly (``fid_effnet``, ``kid_effnet``):
they are not comparable with published FID numbers, which use Inception-v3 features.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of ``(N, D)`` features (N >= 2)."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError("need at least two feature vectors of shape (N, D)")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """``||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^{1/2})`` between two Gaussians."""
    diff = np.asarray(mu1) - np.asarray(mu2)
    with warnings.catch_warnings():
        # Fewer samples than dimensions make the product singular; handled just below.
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        # Near-singular product: regularise as the reference FID implementation does.
        offset = np.eye(len(sigma1)) * 1e-6
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_between(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between the Gaussians fitted to two feature sets."""
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))


def kernel_distance(a: np.ndarray, b: np.ndarray, subsets: int = 10, subset_size: int = 100, seed: int = 0) -> float:
    """KID: unbiased MMD^2 with the kernel ``(x.y / D + 1)^3``, averaged over random subsets."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    dim = a.shape[1]
    size = min(subset_size, len(a), len(b))
    if size < 2:
        raise ValueError("KID needs at least two samples in each set")
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)]
        y = b[rng.choice(len(b), size, replace=False)]
        kxx = (x @ x.T / dim + 1) ** 3
        kyy = (y @ y.T / dim + 1) ** 3
        kxy = (x @ y.T / dim + 1) ** 3
        off = lambda k: (k.sum() - np.trace(k)) / (size * (size - 1))  # noqa: E731
        values.append(off(kxx) + off(kyy) - 2 * kxy.mean())
    return float(np.mean(values))
