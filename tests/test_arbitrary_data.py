"""Style samples for training the arbitrary-style network: photos painted in brush strokes."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
import torch

from atelier.errors import InputError
from atelier.style.arbitrary.data import RENDER_VARIANTS, StylePool, painterly_rendering
from atelier.style.arbitrary.settings import ArbitrarySettings, upgrade_settings


def _stripes(height: int = 96, width: int = 128) -> np.ndarray:
    """Vertical stripes, 16 px wide, dark green and light orange: edges that all run vertically."""
    columns = (np.arange(width) // 16) % 2
    colours = np.array([[0.1, 0.3, 0.1], [0.95, 0.7, 0.4]], dtype=np.float32)
    return np.broadcast_to(colours[columns][None], (height, width, 3)).copy()


def test_painted_photo_is_repeatable_in_range_and_really_repainted() -> None:
    photo = _stripes()
    first, again = painterly_rendering(photo, random.Random(3)), painterly_rendering(photo, random.Random(3))
    assert first.shape == photo.shape and first.dtype == np.float32
    assert 0.0 <= first.min() and first.max() <= 1.0
    np.testing.assert_array_equal(first, again)
    assert np.abs(first - photo).mean() > 0.02  # strokes, not the photo
    assert not np.array_equal(first, painterly_rendering(photo, random.Random(4)))


def test_strokes_run_along_the_photos_edges() -> None:
    """Strokes follow edges (perpendicular to the gradient): on vertical stripes the painted
    picture changes across the stripes far more than along them, for any brush and palette."""
    photo = _stripes()
    for seed in range(6):
        grey = cv2.blur(painterly_rendering(photo, random.Random(seed)).mean(-1), (3, 3))  # canvas grain off
        across, along = np.abs(grey[:, 4:] - grey[:, :-4]).mean(), np.abs(grey[4:] - grey[:-4]).mean()
        assert across > 2 * along, (seed, across, along)


def test_style_pool_draws_painted_photos_once_and_repeatably() -> None:
    photos = [torch.from_numpy(_stripes(120, 160)).permute(2, 0, 1)[None], torch.rand(1, 3, 100, 140)]
    pool = StylePool([], photos, 64, seed=1, mix=(0, 0, 0, 0, 1))
    samples = [pool.get(i, 0) for i in range(12)]
    assert all(s.shape == (1, 3, 64, 64) for s in samples)
    assert 0 < len(pool.rendered) <= len(photos) * RENDER_VARIANTS  # each rendering made once, then cropped
    assert torch.equal(samples[5], StylePool([], photos, 64, seed=1, mix=(0, 0, 0, 0, 1)).get(5, 0))


def test_four_shares_are_the_mix_before_painted_photos() -> None:
    photos = [torch.rand(1, 3, 100, 140)]
    old, new = StylePool([], photos, 64, mix=(0.4, 0.35, 0.13, 0.12)), StylePool([], photos, 64, mix=(0.4, 0.35, 0.13, 0.12, 0.0))
    np.testing.assert_allclose(old.cumulative, new.cumulative)
    assert torch.equal(old.get(3, 2), new.get(3, 2))
    assert upgrade_settings({"style_mix": (0.4, 0.35, 0.13, 0.12)})["style_mix"] == (0.4, 0.35, 0.13, 0.12, 0.0)


@pytest.mark.parametrize("mix", [(0.5, 0.5, 0.0), (0, 0, 0, 0, 0), (0.2,) * 6])
def test_a_style_mix_of_the_wrong_shape_is_one_clear_line(mix) -> None:
    with pytest.raises(InputError, match="style mix"):
        ArbitrarySettings(style_mix=mix).validate()
