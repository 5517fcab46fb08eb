"""Feature transforms that carry a painting's statistics onto a photo's features.

* **AdaIN** (Huang & Belongie 2017): each channel of the photo's features gets the painting's
  mean and standard deviation.
* **WCT** (Li et al. 2017, "Universal Style Transfer"): the photo's features are whitened
  (decorrelated, unit variance) and coloured with the painting's covariance, so that the
  result has exactly the painting's mean and covariance: the co-activation of channels that
  makes a texture.
* **Sliced matching** (after WCT; sliced optimal transport, Rabin et al. 2011, as in Heitz et
  al. 2021's sliced Wasserstein texture loss, here as a feed-forward transform): a mean and
  a covariance describe a Gaussian, and a painting's features are far from one (sparse,
  heavy-tailed: flat fields cut by sharp lines). Each *pass* projects the features on a set
  of orthogonal directions (first the painting's principal axes, then fixed random
  rotations) and maps each projection monotonically onto the painting's distribution along
  that direction (quantile matching), so that the marginals, not only the first two
  moments, become the painting's. The maps' slopes are limited (:data:`MAX_SLOPE`) so
  that near-flat regions of the photo (a clear sky) are not stretched into blotches.

Both take ``(C, N)`` feature matrices (channels by positions) in NumPy, so that the
onnxruntime path needs no PyTorch; :func:`adain_torch` and :func:`wct_torch` are the same
maths on tensors for training. Statistics can be computed once per painting
(:class:`Statistics`), blended between several paintings, and applied to a photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

EPS = 1e-5
#: Positions processed at a time (bounds the temporaries on big pictures).
CHUNK = 1 << 16
#: Positions of a painting's features kept as its sample (the sliced match's target; stored in
#: random order, rounded to float16 so that stored and measured samples are the same numbers).
SAMPLE = 1024
#: The first level that gets the sliced-matching passes (level 0, the finest, keeps WCT only:
#: its passes cost half the time and most of the structure for a fine, noisy grain).
FIRST_SLICED_LEVEL = 1
#: Quantiles per direction in a sliced match (65 matched as well as 257 on the benchmark's pairs).
QUANTILES = 65
#: Steepest slope a sliced match's map may have (4: texture close to the unlimited match's,
#: without its blotches in flat skies).
MAX_SLOPE = 4.0
#: Positions of the photo's features the sliced maps are fitted on (then applied to all).
FIT_POSITIONS = 4096


def passes_at(level: int, passes: int) -> int:
    """Sliced-matching passes a level gets when ``passes`` are asked for (none before
    :data:`FIRST_SLICED_LEVEL`): the one rule the runtime and training share."""
    return passes if level >= FIRST_SLICED_LEVEL else 0


@dataclass
class Statistics:
    """Mean ``(C,)`` and covariance ``(C, C)`` of a feature map, and for a painting a random
    ``sample`` ``(C, K)`` of its feature vectors (what a sliced match maps onto): all a
    transform needs of a painting."""

    mean: np.ndarray
    cov: np.ndarray
    sample: np.ndarray | None = None

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
        return Statistics(mean, second - np.outer(mean, mean), mix_samples([s.sample for s in stats], w))


def mix_samples(samples: list[np.ndarray | None], weights: list[float]) -> np.ndarray | None:
    """A sample of the mixture: from each sample (in random order) its first columns, as many as
    its weight's share (largest remainders), shuffled with a fixed seed. None if any is None."""
    if not samples or any(s is None for s in samples):
        return None
    if len(samples) == 1:
        return samples[0]
    k = min(s.shape[1] for s in samples)
    shares = np.asarray(weights, dtype=np.float64) / float(sum(weights)) * k
    counts = np.floor(shares).astype(int)
    counts[np.argsort(counts - shares)[: k - counts.sum()]] += 1
    mixed = np.concatenate([s[:, :n] for s, n in zip(samples, counts)], axis=1)
    return mixed[:, np.random.default_rng(0).permutation(mixed.shape[1])]


class Moments:
    """Running sums for the mean and covariance of features seen in pieces (strips, tiles),
    so that a big picture's statistics never need all its features at once.

    Sums are taken around a reference point (the first piece's mean) in float32 and added
    up in float64, which avoids the cancellation of ``E[ff^T] - mean mean^T``.
    """

    def __init__(self, sample: int = 0, expected: int = 0) -> None:
        """``sample``: also keep a random sample of that many feature vectors, out of about
        ``expected`` positions in all (positions are kept with a fixed-seed lottery as they come)."""
        self.count = 0
        self.origin: np.ndarray | None = None
        self.first: np.ndarray | float = 0.0
        self.second: np.ndarray | float = 0.0
        self.sample_size = sample
        self.keep = min(1.0, 2.0 * sample / max(1, expected))
        self.rng = np.random.default_rng(0)
        self.kept: list[np.ndarray] = []

    def add(self, features: np.ndarray) -> None:
        """Add ``(C, N)`` features."""
        features = np.asarray(features, dtype=np.float32)
        if features.shape[1] == 0:
            return
        if self.sample_size:
            chosen = self.rng.random(features.shape[1]) < self.keep
            self.kept.append(features[:, chosen])
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
        sample = None
        if self.sample_size:
            kept = np.concatenate(self.kept, axis=1)
            order = np.random.default_rng(1).permutation(kept.shape[1])[: self.sample_size]
            sample = kept[:, order].astype(np.float16).astype(np.float32)
        return Statistics(self.origin.astype(np.float64) + shift, cov, sample)


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
    passes: int = 0,
    content_sample: np.ndarray | None = None,
) -> np.ndarray:
    """Transform ``(C, N)`` features and blend with the originals by ``strength`` (0: unchanged).

    With ``mask`` (``(N,)`` weights in [0, 1]), the photo's statistics are measured where the
    mask is on and only those positions move (regional style transfer). ``content_stats``
    gives the photo's statistics instead of measuring them here (the tiles of a big photo
    share the whole photo's, so that they agree). ``out``: where to write the result (float32;
    may be ``content`` itself, to transform in place). ``passes`` > 0 follows the affine
    transform with that many sliced-matching passes toward ``style.sample`` (skipped if the
    style has none), fitted on ``content_sample`` (``(C, K)`` of the photo's features; the
    tiles of a big photo share the whole photo's) or on positions drawn from ``content``.
    """
    if strength == 0:
        return content
    own = Statistics.of(content, mask) if content_stats is None else content_stats
    matrix, shift = affine(kind, style, own)
    maps: list[SlicedMap] = []
    if passes > 0 and style.sample is not None:
        if content_sample is None:
            content_sample = draw_positions(content, mask)
        maps = fit_sliced(matrix.astype(np.float32) @ content_sample + shift.astype(np.float32)[:, None], style, passes)
    if not maps:
        # strength * (matrix x + shift) + (1 - strength) x, as one affine map
        matrix = (strength * matrix + (1 - strength) * np.eye(len(matrix))).astype(np.float32)
        shift = (strength * shift).astype(np.float32)[:, None]
    else:
        matrix, shift = matrix.astype(np.float32), shift.astype(np.float32)[:, None]
    out = np.empty(content.shape, dtype=np.float32) if out is None else out
    for start in range(0, content.shape[1], CHUNK):
        x = content[:, start : start + CHUNK]
        y = matrix @ x + shift
        if maps:
            y = apply_sliced(y, maps)
            y = x + strength * (y - x)
        if mask is not None:
            m = mask[start : start + CHUNK].reshape(1, -1).astype(np.float32)
            y = x + m * (y - x)
        out[:, start : start + CHUNK] = y
    return out.astype(content.dtype, copy=False)


# -- sliced matching ---------------------------------------------------------------------


#: Entries of the lookup table a sliced map's curves are applied through (vectorised: several
#: times faster than ``np.interp`` channel by channel; within 1e-3 of the curve's range).
TABLE = 256


@dataclass
class SlicedMap:
    """One pass of a sliced match: project on ``basis``'s columns, send each projection
    through its monotone curve (a lookup table on a uniform grid, linear in between, constant
    beyond its ends), project back."""

    basis: np.ndarray
    """``(C, C)`` orthonormal directions (columns)."""
    start: np.ndarray
    """``(C,)`` where each curve's table starts."""
    step: np.ndarray
    """``(C,)`` the table's spacing."""
    table: np.ndarray
    """``(C, TABLE)`` the curves' values on the grid."""

    @classmethod
    def of(cls, basis: np.ndarray, x: np.ndarray, y: np.ndarray) -> SlicedMap:
        """The map whose curve ``c`` is the piecewise-linear one through knots ``(x[c], y[c])``."""
        start = x[:, :1]
        span = np.maximum(x[:, -1:] - start, 1e-12)
        # (np.interp row by row: a few microseconds a row, faster than one vectorised search)
        grid = np.linspace(0.0, 1.0, TABLE)
        table = np.array([np.interp(grid, knots, values) for knots, values in zip((x - start) / span, y)])
        step = span[:, 0] / (TABLE - 1)
        return cls(basis, start[:, 0].astype(np.float32), step.astype(np.float32), table.astype(np.float32))

    @cached_property
    def rise(self) -> np.ndarray:
        """The table's rise from each entry to the next (flat past the end), flattened."""
        return np.diff(self.table, axis=1, append=self.table[:, -1:]).reshape(-1)

    def curves(self, projected: np.ndarray) -> np.ndarray:
        """``(C, N)`` projections through their curves (a new array)."""
        t = (projected - self.start[:, None]) * (1 / self.step)[:, None]
        np.clip(t, 0, TABLE - 1, out=t)
        index = t.astype(np.int32)
        t -= index
        index += (np.arange(len(index), dtype=np.int32) * TABLE)[:, None]
        t *= self.rise.take(index)
        t += self.table.reshape(-1).take(index)
        return t


def quantiles(x: np.ndarray, count: int = QUANTILES) -> np.ndarray:
    """``(C, count)`` quantiles (0 to 1, linear between order statistics) of each row of
    ``(C, N)`` values: one sort, instead of ``np.quantile``'s partition per quantile."""
    ordered = np.sort(x, axis=1)
    position = np.linspace(0, x.shape[1] - 1, count)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, x.shape[1] - 1)
    frac = (position - low).astype(np.float32)
    return ordered[:, low] * (1 - frac) + ordered[:, high] * frac


def draw_positions(features: np.ndarray, mask: np.ndarray | None = None, count: int = FIT_POSITIONS) -> np.ndarray:
    """Up to ``count`` columns of ``(C, N)`` features drawn with a fixed seed (where ``mask`` is
    at least half on, if any is), to fit sliced maps on."""
    n = features.shape[1]
    where = np.arange(n) if mask is None else np.flatnonzero(mask.reshape(-1) >= 0.5)
    if len(where) == 0:
        where = np.arange(n) if mask is None or not np.any(mask > 0) else np.flatnonzero(mask.reshape(-1) > 0)
    if len(where) > count:  # (drawn with replacement: as good for quantiles, no permutation of all N)
        where = where[np.sort(np.random.default_rng(0).integers(0, len(where), count))]
    return np.ascontiguousarray(features[:, where], dtype=np.float32)


@lru_cache(maxsize=64)
def rotation(channels: int, index: int) -> np.ndarray:
    """A fixed random orthonormal ``(channels, channels)`` basis (the same for every call)."""
    q, r = np.linalg.qr(np.random.default_rng(1000 + index).normal(size=(channels, channels)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def monotone_curves(source: np.ndarray, target: np.ndarray, max_slope: float = MAX_SLOPE) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(x, y)``, both ``(C, Q)``, of the maps sending each row of quantiles ``source``
    to the same row of ``target`` (both increasing along rows), with every segment's slope at
    most ``max_slope`` (steeper segments are flattened, and each curve is shifted so that its
    knots keep the target's mean)."""
    x = np.maximum.accumulate(source.astype(np.float64), axis=1)
    scale = np.maximum(1.0, np.abs(x).max(axis=1, keepdims=True))
    x = x + np.arange(x.shape[1]) * 1e-7 * scale  # strictly increasing, for the lookup table
    dx = np.diff(x, axis=1)
    slope = np.minimum(np.diff(target, axis=1) / dx, max_slope)
    y = np.concatenate([np.zeros((len(x), 1)), np.cumsum(slope * dx, axis=1)], axis=1)
    return x, y + (target.mean(axis=1, keepdims=True) - y.mean(axis=1, keepdims=True))


def fit_sliced(sample: np.ndarray, style: Statistics, passes: int, max_slope: float = MAX_SLOPE) -> list[SlicedMap]:
    """The maps of ``passes`` sliced-matching passes moving ``sample`` (``(C, K)``, the photo's
    features after the affine transform) toward ``style.sample``: the first along the style's
    principal axes, the others along :func:`rotation` ``(C, pass)``."""
    x = np.array(sample, dtype=np.float32)
    maps = []
    for index in range(passes):
        basis = np.linalg.eigh(style.cov)[1].astype(np.float32) if index == 0 else rotation(len(x), index)
        target, source = quantiles(basis.T @ style.sample), quantiles(basis.T @ x)
        maps.append(SlicedMap.of(basis, *monotone_curves(source, target, max_slope)))
        x = apply_sliced(x, maps[-1:])
    return maps


def apply_sliced(x: np.ndarray, maps: list[SlicedMap]) -> np.ndarray:
    """``(C, N)`` features through the passes ``maps`` (a new array). Works in each pass's
    projected coordinates (``x = basis @ y``), so one matrix product moves from a pass's
    directions to the next's."""
    y = maps[0].basis.T @ x
    for m, following in zip(maps, maps[1:] + [None]):
        y = m.curves(y)
        y = (m.basis if following is None else following.basis.T @ m.basis) @ y
    return y.astype(np.float32, copy=False)


def sliced_match(values: np.ndarray, target: Statistics, passes: int, amount: float = 1.0, mask: np.ndarray | None = None) -> np.ndarray:
    """``(C, N)`` values moved by ``amount`` toward the distribution of ``target.sample`` with a
    sliced match fitted on the values themselves (where ``mask`` is on; only there they move)."""
    if amount == 0 or passes == 0 or target.sample is None:
        return values
    maps = fit_sliced(draw_positions(values, mask), target, passes)
    out = np.empty(values.shape, dtype=np.float32)
    for start in range(0, values.shape[1], CHUNK):
        x = values[:, start : start + CHUNK]
        weight = amount if mask is None else amount * mask.reshape(-1)[start : start + CHUNK].astype(np.float32)
        out[:, start : start + CHUNK] = x + weight * (apply_sliced(x, maps) - x)
    return out


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
