"""Sliced matching (feature distributions, and the palette match) against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from atelier.style.arbitrary.transforms import (
    TABLE,
    Moments,
    SlicedMap,
    Statistics,
    apply,
    apply_sliced,
    fit_sliced,
    mix_samples,
    monotone_curves,
    quantiles,
    rotation,
    sliced_match,
)


def _sliced_distance(a: np.ndarray, b: np.ndarray, directions: int = 32) -> float:
    """Mean over random directions of the mean absolute gap between the two projections' quantiles."""
    rng = np.random.default_rng(99)
    levels = np.linspace(0, 1, 101)
    total = 0.0
    for _ in range(directions):
        d = rng.normal(size=len(a))
        d /= np.linalg.norm(d)
        total += np.abs(np.quantile(d @ a, levels) - np.quantile(d @ b, levels)).mean()
    return total / directions


def _painting(channels: int = 5, count: int = 1024, seed: int = 1) -> Statistics:
    """A sparse, skewed 'painting' (ReLU of a mixture): far from the Gaussian WCT assumes."""
    rng = np.random.default_rng(seed)
    f = np.maximum(rng.normal(size=(channels, count)) @ np.diag(rng.uniform(0.5, 2, count)), 0).astype(np.float32)
    f[0] = rng.exponential(2.0, size=count)
    stats = Statistics.of(f)
    return Statistics(stats.mean, stats.cov, f)


def test_quantiles_match_numpy() -> None:
    x = np.random.default_rng(0).normal(size=(3, 777)).astype(np.float32)
    assert np.allclose(quantiles(x, 65), np.quantile(x, np.linspace(0, 1, 65), axis=1).T, atol=1e-5)


def test_curves_keep_the_target_when_no_slope_is_too_steep() -> None:
    source = np.array([[0.0, 1.0, 2.0, 3.0]])
    target = np.array([[10.0, 12.0, 13.0, 16.0]])  # slopes 2, 1, 3: all within 4
    x, y = monotone_curves(source, target, max_slope=4)
    assert np.allclose(y, target) and np.allclose(x, source, atol=1e-5)
    # A jump of 20 over a step of 1 is flattened to slope 4; the curve keeps the target's mean.
    x, y = monotone_curves(source, np.array([[0.0, 1.0, 21.0, 22.0]]), max_slope=4)
    assert np.allclose(np.diff(y), [1.0, 4.0, 1.0], atol=1e-4)
    assert y.mean() == pytest.approx(11.0)


def test_a_lookup_table_follows_its_curve() -> None:
    x = np.array([[0.0, 1.0, 3.0]])
    y = np.array([[0.0, 2.0, 3.0]])
    m = SlicedMap.of(np.eye(1, dtype=np.float32), x, y)
    values = np.array([[-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 9.0]], dtype=np.float32)
    # by hand: constant beyond the ends, slope 2 then 1/2
    assert np.allclose(m.curves(values), [[0.0, 0.0, 1.0, 2.0, 2.5, 3.0, 3.0]], atol=3 / TABLE)


def test_one_pass_in_one_dimension_gives_the_target_distribution() -> None:
    rng = np.random.default_rng(0)
    photo = rng.uniform(0, 1, size=(1, 4096)).astype(np.float32)
    target = rng.exponential(1.0, size=(1, 1024)).astype(np.float32)
    style = Statistics(target.mean(1).astype(np.float64), np.cov(target).reshape(1, 1), target)
    moved = apply_sliced(photo, fit_sliced(photo, style, 1, max_slope=1e9))
    levels = np.linspace(0.02, 0.98, 25)
    assert np.allclose(np.quantile(moved, levels), np.quantile(target, levels), atol=0.05, rtol=0.03)  # 65 knots
    # and the order of the values is kept (a monotone map)
    assert np.all(np.diff(moved[0, np.argsort(photo[0])]) >= -1e-6)


def test_more_passes_come_closer_to_the_painting() -> None:
    style = _painting()
    photo = np.random.default_rng(5).normal(size=(5, 3000)).astype(np.float32)
    gaps = []
    for passes in (0, 1, 4):
        moved = apply("wct", photo, style, passes=passes)
        gaps.append(_sliced_distance(moved, style.sample))
    assert gaps[1] < 0.8 * gaps[0] and gaps[2] < gaps[1], gaps
    # passes 0 is exactly WCT, and the first pass keeps WCT's mean closely
    assert np.allclose(apply("wct", photo, style, passes=0), apply("wct", photo, style), atol=1e-6)
    assert np.allclose(apply("wct", photo, style, passes=4).mean(1), style.mean, atol=0.1 * style.std.max())


def test_strength_and_mask_with_passes() -> None:
    style = _painting()
    photo = np.random.default_rng(6).normal(size=(5, 800)).astype(np.float32)
    assert apply("wct", photo, style, strength=0.0, passes=4) is photo
    full = apply("wct", photo, style, passes=4)
    half = apply("wct", photo, style, strength=0.5, passes=4)
    assert np.allclose(half, (photo + full) / 2, atol=1e-5)
    mask = np.zeros(800, dtype=np.float32)
    mask[400:] = 1
    regional = apply("wct", photo, style, mask=mask, passes=4)
    assert np.array_equal(regional[:, :400], photo[:, :400])
    assert not np.allclose(regional[:, 400:], photo[:, 400:])


def test_fixed_rotations_are_orthonormal_and_repeatable() -> None:
    r = rotation(7, 3)
    assert np.allclose(r.T @ r, np.eye(7), atol=1e-5)
    assert np.array_equal(r, rotation(7, 3)) and not np.allclose(r, rotation(7, 4))


def test_samples_mix_by_weight_and_moments_keep_one() -> None:
    a = np.zeros((2, 100), dtype=np.float32)
    b = np.ones((2, 100), dtype=np.float32)
    mixed = mix_samples([a, b], [0.3, 0.7])
    assert mixed.shape == (2, 100) and mixed[0].sum() == 70
    assert mix_samples([a], [1.0]) is a and mix_samples([a, None], [1, 1]) is None
    moments = Moments(sample=50, expected=1000)
    for start in range(0, 1000, 250):  # in pieces, as strips come
        moments.add(np.arange(start, start + 250, dtype=np.float32).reshape(1, -1))
    stats = moments.statistics()
    assert stats.sample.shape == (1, 50) and len(set(stats.sample[0].tolist())) == 50
    assert stats.sample.min() < 300 and stats.sample.max() > 700  # drawn from every piece
    blended = Statistics.blend([stats, stats], [1, 1])
    assert blended.sample.shape == (1, 50)


def test_palette_match_moves_colours_toward_the_painting() -> None:
    from atelier.metrics.style import palette_distance
    from atelier.style.arbitrary.runtime import COLOUR_PASSES, match_palette

    rng = np.random.default_rng(3)
    image = np.clip(rng.normal(0.5, 0.1, size=(40, 60, 3)), 0, 1).astype(np.float32)  # greyish
    painting = np.zeros((30, 30, 3), dtype=np.float32)
    painting[:15] = (0.9, 0.2, 0.1)  # red and blue fields
    painting[15:] = (0.1, 0.2, 0.8)
    painting += rng.normal(0, 0.02, size=painting.shape).astype(np.float32)
    moments = Moments(sample=900, expected=900)
    moments.add(painting.reshape(-1, 3).T)
    colours = moments.statistics()
    before = palette_distance(image, painting)
    after = palette_distance(match_palette(image, colours, 1.0), painting)
    halfway = palette_distance(match_palette(image, colours, 0.5), painting)
    # (not all the way: the slope limit keeps a narrow grey spread from being torn into two fields)
    assert after < 0.75 * before and after < halfway < before, (before, halfway, after)
    assert np.array_equal(match_palette(image, colours, 0.0), image)
    mask = np.zeros((40, 60, 1), dtype=np.float32)
    mask[:, 30:] = 1
    regional = match_palette(image, colours, 1.0, mask)
    assert np.array_equal(regional[:, :30], image[:, :30]) and COLOUR_PASSES >= 1
    assert sliced_match(image.reshape(-1, 3).T, colours, 0) is not None
