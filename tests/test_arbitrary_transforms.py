"""The feature transforms of the arbitrary-style network, against hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import atelier.style.arbitrary.transforms as transforms
from atelier.style.arbitrary.transforms import Moments, Statistics, adain, adain_torch, apply, wct, wct_torch


def _features(seed: int, channels: int = 6, positions: int = 500) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(channels, channels))
    return (mixing @ rng.normal(size=(channels, positions)) + rng.normal(size=(channels, 1)) * 3).astype(np.float32)


def test_statistics_by_hand() -> None:
    f = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]])
    s = Statistics.of(f)
    assert s.mean.tolist() == pytest.approx([2.0, 4.0])
    assert s.cov.flatten().tolist() == pytest.approx([1.0, 2.0, 2.0, 4.0])  # unbiased: ((-1)^2 + 0 + 1) / 2
    weighted = Statistics.of(f, np.array([0.0, 1.0, 1.0]))
    assert weighted.mean.tolist() == pytest.approx([2.5, 5.0])


def test_adain_gives_the_style_mean_and_std() -> None:
    content, style = _features(0), _features(1)
    out = adain(content, Statistics.of(style))
    assert out.mean(1) == pytest.approx(style.mean(1), abs=1e-4)
    assert out.std(1, ddof=1) == pytest.approx(style.std(1, ddof=1), rel=1e-4)


def test_wct_gives_the_style_covariance() -> None:
    content, style = _features(2), _features(3)
    out = wct(content, Statistics.of(style))
    assert np.allclose(np.cov(out), np.cov(style), atol=1e-3 * np.abs(np.cov(style)).max())
    assert out.mean(1) == pytest.approx(style.mean(1), abs=1e-3)


def test_torch_twins_agree_with_numpy() -> None:
    content, style = _features(4, 5, 64), _features(5, 5, 64)
    c, s = torch.from_numpy(content).reshape(1, 5, 8, 8), torch.from_numpy(style).reshape(1, 5, 8, 8)
    assert np.allclose(adain_torch(c, s).reshape(5, 64).numpy(), adain(content, Statistics.of(style)), atol=1e-4)
    assert np.allclose(wct_torch(c.double(), s.double()).reshape(5, 64).numpy(), wct(content, Statistics.of(style)), atol=1e-3)


def test_strength_zero_is_the_photo_and_a_mask_keeps_the_rest() -> None:
    content, style = _features(6), _features(7)
    stats = Statistics.of(style)
    assert np.array_equal(apply("wct", content, stats, strength=0.0), content)
    half = apply("adain", content, stats, strength=0.5)
    assert np.allclose(half, 0.5 * adain(content, stats) + 0.5 * content, atol=1e-5)
    mask = np.zeros(content.shape[1], dtype=np.float32)
    mask[:100] = 1
    masked = apply("wct", content, stats, mask=mask)
    assert np.array_equal(masked[:, 100:], content[:, 100:])
    assert not np.allclose(masked[:, :100], content[:, :100])


def test_blending_paintings() -> None:
    a, b = Statistics.of(_features(8)), Statistics.of(_features(9))
    same = Statistics.blend([a, a], [0.3, 0.7])
    assert np.allclose(same.mean, a.mean) and np.allclose(same.cov, a.cov)
    only_b = Statistics.blend([a, b], [0.0, 1.0])
    assert np.allclose(only_b.cov, b.cov)
    # the mixture of two paintings: its mean is the weighted mean of theirs
    mixed = Statistics.blend([a, b], [1, 3])
    assert np.allclose(mixed.mean, 0.25 * a.mean + 0.75 * b.mean)


def test_moments_over_pieces_equal_the_whole() -> None:
    f = _features(10, positions=1000) + 100  # far from zero: sums of squares must not cancel
    moments = Moments()
    for piece in np.array_split(f, [1, 300, 301, 700], axis=1):  # pieces of 1, 299, 1, 399, 300
        moments.add(piece)
    s = moments.statistics()
    assert np.allclose(s.mean, f.astype(np.float64).mean(1), atol=1e-4)
    assert np.allclose(s.cov, np.cov(f.astype(np.float64)), rtol=1e-4, atol=1e-3)
    assert np.allclose(Statistics.of(f).cov, s.cov, rtol=1e-5, atol=1e-4)


def test_transforms_in_chunks_and_in_place_match(monkeypatch) -> None:
    content, style = _features(11, positions=1000), Statistics.of(_features(12))
    whole = apply("wct", content, style, strength=0.7)
    monkeypatch.setattr(transforms, "CHUNK", 64)
    assert np.allclose(apply("wct", content, style, strength=0.7), whole, atol=1e-5)
    inplace = content.copy()
    assert apply("wct", inplace, style, strength=0.7, out=inplace) is inplace
    assert np.allclose(inplace, whole, atol=1e-5)


def test_statistics_with_noise_from_the_joint_statistics() -> None:
    # Tiles with brush strokes measure [f; n] together and combine: the same as measuring f + d n.
    from atelier.style.arbitrary.runtime import with_noise

    rng = np.random.default_rng(5)
    f = rng.normal(size=(3, 500)) * np.array([[1.0], [2.0], [0.5]]) + 1.0
    n = rng.normal(size=(3, 500)) + 0.3 * f  # correlated with the features: the cross terms count
    d = np.array([0.5, 0.1, 2.0])
    joint = Statistics.of(np.concatenate([f, n]).astype(np.float32))
    joint.sample = np.concatenate([f, n])[:, :10].astype(np.float32)
    direct = Statistics.of((f + d[:, None] * n).astype(np.float32))
    combined = with_noise(joint, 3, d.astype(np.float32))
    assert np.allclose(combined.mean, direct.mean, atol=1e-5) and np.allclose(combined.cov, direct.cov, atol=1e-4)
    assert np.allclose(combined.sample, (f + d[:, None] * n)[:, :10], atol=1e-5)
