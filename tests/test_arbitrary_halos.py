"""Halo calming (atelier.style.arbitrary.halos): box means and the guided filter against hand
values, and the calming itself on a synthetic painted picture with a blot beside an edge."""

from __future__ import annotations

import numpy as np
import pytest

from atelier.style.arbitrary.halos import box_mean, calm_halos, guided_filter


def test_box_mean_by_hand() -> None:
    row = np.array([[1.0, 2.0, 3.0, 4.0]])
    # windows of 3 clipped at the ends: (1+2)/2, (1+2+3)/3, (2+3+4)/3, (3+4)/2
    assert box_mean(row, 1) == pytest.approx(np.array([[1.5, 2.0, 3.0, 3.5]]))
    square = np.arange(9.0).reshape(3, 3)
    assert box_mean(square, 1)[1, 1] == pytest.approx(4.0)  # the mean of all nine
    assert box_mean(square, 1)[0, 0] == pytest.approx((0 + 1 + 3 + 4) / 4)
    assert box_mean(square, 0) == pytest.approx(square)


def test_guided_filter_keeps_affine_maps_of_the_guide_and_constants() -> None:
    rng = np.random.default_rng(0)
    guide = rng.random((20, 24))
    affine = np.stack([0.5 * guide + 0.2, -0.3 * guide + 0.9], axis=-1)
    assert guided_filter(guide, affine, 3, 1e-9) == pytest.approx(affine, abs=1e-6)
    constant = np.full((20, 24, 3), 0.4)
    assert guided_filter(guide, constant, 3, 1e-2) == pytest.approx(constant)


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A photo (flat sky, a bright tower), its 'painting' (the photo's shapes in other colours,
    with fine texture) and the same painting with a dark blot in the sky beside the tower."""
    h, w = 160, 160
    photo = np.full((h, w, 3), 0.55, dtype=np.float32)
    photo[20:, 70:90] = 0.95
    painted = np.where(photo > 0.9, 0.8, 0.3).astype(np.float32) * np.array([1.0, 0.6, 0.3], dtype=np.float32)
    texture = 0.05 * np.where((np.indices((h, w)).sum(0) // 2) % 2 == 0, 1.0, -1.0)[..., None].astype(np.float32)
    painted = painted + texture + 0.3
    yy, xx = np.mgrid[0:h, 0:w]
    blot = 0.25 * np.exp(-(((xx - 110) / 10.0) ** 2 + ((yy - 80) / 25.0) ** 2))[..., None].astype(np.float32)
    return photo, np.clip(painted, 0, 1), np.clip(painted - blot, 0, 1)


def test_calm_halos_removes_a_blot_beside_an_edge_and_keeps_edge_and_texture() -> None:
    photo, clean, blotted = _scene()
    calmed = calm_halos(blotted.copy(), photo)
    sky = (slice(60, 100), slice(100, 120))
    before = np.abs(blotted[sky] - clean[sky]).mean()
    after = np.abs(calmed[sky] - clean[sky]).mean()
    assert after < 0.5 * before, (before, after)
    # the tower's edge keeps its contrast, and the fine texture (high band) is untouched
    assert calmed[80, 80].mean() - calmed[80, 60].mean() > 0.8 * (clean[80, 80].mean() - clean[80, 60].mean())
    high = lambda a: a[:, :, 0] - box_mean(a[:, :, 0], 2)  # noqa: E731
    assert np.corrcoef(high(calmed)[10:-10, 10:-10].ravel(), high(clean)[10:-10, 10:-10].ravel())[0, 1] > 0.95


def test_calm_halos_amount_zero_and_tiny_pictures_are_unchanged() -> None:
    photo, _, blotted = _scene()
    assert np.array_equal(calm_halos(blotted.copy(), photo, 0.0), blotted)
    tiny = blotted[:8, :8].copy()
    assert np.array_equal(calm_halos(tiny.copy(), photo[:8, :8]), tiny)
    half = calm_halos(blotted.copy(), photo, 0.5)
    full = calm_halos(blotted.copy(), photo, 1.0)
    assert half == pytest.approx((blotted + full) / 2, abs=2e-3)  # (clipping aside, linear in amount)


def test_recipes_from_before_calming_replay_without_it() -> None:
    from atelier.recipe import Recipe
    from atelier.style.api import OPERATION, request_from_recipe
    from atelier.style.settings import StyleSettings

    settings = StyleSettings(engine="fast").to_dict()
    inputs = {"content": {"path": "photo.png"}, "style[0]": {"path": "painting.png"}}
    old = {k: v for k, v in settings.items() if k not in ("calm_halos", "strokes")}
    replayed = request_from_recipe(Recipe(OPERATION, params={"settings": old}, inputs=inputs), "out.png")
    assert replayed.settings.calm_halos == 0.0  # painted before calming existed: replayed without it
    assert replayed.settings.strokes == 0.0  # ... and before strokes
    new = request_from_recipe(Recipe(OPERATION, params={"settings": settings}, inputs=inputs), "out.png")
    assert new.settings.calm_halos == 1.0 and new.settings.strokes == 1.0
