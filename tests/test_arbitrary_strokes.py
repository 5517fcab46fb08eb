"""Brush strokes of the instant engine (:mod:`atelier.style.arbitrary.strokes`): the line
integral convolution by hand, the flow's direction, the field's determinism and calm edges,
reading it at any offset and scale. Their effect on the painted picture is tested with the
network in tests/test_arbitrary.py."""

from __future__ import annotations

import numpy as np
import pytest

from atelier.style.arbitrary.strokes import (
    LEVEL_AMOUNTS,
    StrokeField,
    bilinear,
    block_mean,
    gradients,
    smear,
    stroke_field,
    structure_tensor,
    tangent_flow,
)

CHANNELS, STRIDES = [4, 8, 8, 8], [2, 4, 8, 16]


def test_smear_along_a_straight_flow_by_hand() -> None:
    # Horizontal flow, 2 steps each way: weights 1 (the cell), Hann tapers 0.75 and 0.25 each side; sum 3.
    noise = np.zeros((1, 9, 11), dtype=np.float32)
    noise[0, 4, 5] = 1.0
    tx, ty = np.ones((9, 11), np.float32), np.zeros((9, 11), np.float32)
    out = smear(noise, tx, ty, 2)[0]
    expected = np.zeros((9, 11))
    expected[4, 3:8] = np.array([0.25, 0.75, 1.0, 0.75, 0.25]) / 3
    assert np.allclose(out, expected, atol=1e-6)
    # A vertical flow spreads it down the column instead; reversed vectors change nothing (no sign).
    down = smear(noise, ty, tx, 2)[0]
    assert np.allclose(down[2:7, 5], expected[4, 3:8], atol=1e-6) and np.allclose(down[4, [3, 4, 6, 7]], 0)
    assert np.allclose(smear(noise, -tx, ty, 2)[0], out, atol=1e-6)


def test_flow_runs_along_edges() -> None:
    # Vertical stripes: the brightness changes across x, so strokes run along y.
    x = np.arange(64, dtype=np.float32)
    stripes = np.tile((np.sin(x / 3) > 0).astype(np.float32), (48, 1))
    tx, ty = tangent_flow(structure_tensor(*gradients(stripes), 4.0, 1))
    assert np.abs(ty[8:-8, 8:-8]).mean() > 0.99
    tx, ty = tangent_flow(structure_tensor(*gradients(stripes.T.copy()), 4.0, 2))  # horizontal stripes, half resolution
    assert np.abs(tx[4:-4, 4:-4]).mean() > 0.99


def test_block_mean_and_bilinear_by_hand() -> None:
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    # 2 x 2 blocks, the last row repeated: {0,1,4,5} {2,3,6,7} / {8,9,8,9} {10,11,10,11}
    assert np.allclose(block_mean(a, 2), [[2.5, 4.5], [8.5, 10.5]])
    assert np.allclose(bilinear(a, np.array([0.5]), np.array([1.25])), [(1.25 + 5.25) / 2])
    assert np.allclose(bilinear(a, np.array([[-3.0]]), np.array([[9.0]])), [[3.0]])  # clamped to the corner


def test_field_is_deterministic_calm_on_edges_and_runs_along_them() -> None:
    rng = np.random.default_rng(1)
    photo = np.full((192, 384, 3), 0.4, dtype=np.float32) + rng.normal(0, 0.02, (192, 384, 1)).astype(np.float32)
    photo[96:] += 0.5  # one strong horizontal edge; elsewhere faint grain (no direction)
    a = stroke_field(photo, CHANNELS, STRIDES, seed=3)
    b = stroke_field(photo, CHANNELS, STRIDES, seed=3)
    c = stroke_field(photo, CHANNELS, STRIDES, seed=4)
    for level, amount in enumerate(LEVEL_AMOUNTS):
        if amount == 0:
            assert a.levels[level] is None
            continue
        assert np.array_equal(a.levels[level], b.levels[level])
        assert not np.allclose(a.levels[level], c.levels[level])
    field = a.levels[0][0]  # (96, 192) cells of 2 px: the edge between rows 47 and 48
    assert np.abs(field[47:49]).mean() < 0.5 * np.abs(field[10:30]).mean()  # calm on the edge
    near = field[42:54, 16:-16]  # beside it the strokes run along it: neighbours across x agree more
    along = np.corrcoef(near[:, 1:].ravel(), near[:, :-1].ravel())[0, 1]
    across = np.corrcoef(near[1:].ravel(), near[:-1].ravel())[0, 1]
    assert along > across + 0.3, (along, across)


def test_windows_read_the_same_field_at_any_offset_and_scale() -> None:
    photo = np.random.default_rng(0).random((100, 140, 3)).astype(np.float32)
    field = stroke_field(photo, CHANNELS, STRIDES)
    level0 = field.levels[0]
    assert field.scale == 1
    assert np.array_equal(field.window(0, 0, 0, level0.shape[1:]), level0)
    assert np.allclose(field.window(0, 4, 6, (10, 12)), level0[:, 2:12, 3:15])  # two cells down, three across
    half_cell = field.window(0, 1, 0, (10, 12))  # one pixel down: half-way between rows of cells
    assert np.allclose(half_cell, (level0[:, 0:10, :12] + level0[:, 1:11, :12]) / 2, atol=1e-6)
    # A picture twice the size reads the same reference field, two of its cells to one: each
    # pair sits a quarter cell either side of a reference cell's centre, so a pair averages to
    # 3/4 of that cell and 1/8 of each neighbour (along both axes).
    big = StrokeField(field.levels, field.strides, 0.5)
    pairs = block_mean(big.window(0, 0, 0, (20, 24)), 2)
    rows = 0.125 * level0[:, 0:11] + 0.75 * level0[:, 1:12] + 0.125 * level0[:, 2:13]
    expected = 0.125 * rows[:, :, 0:11] + 0.75 * rows[:, :, 1:12] + 0.125 * rows[:, :, 2:13]
    assert np.allclose(pairs[:, 1:, 1:], expected[:, :9, :11], atol=1e-5)


@pytest.mark.parametrize("style_scale,side", [(1.0, 384), (2.0, 192), (0.5, 600)])
def test_reference_size_follows_the_style_scale(style_scale: float, side: int) -> None:
    photo = np.zeros((450, 600, 3), dtype=np.float32)
    field = stroke_field(photo, CHANNELS, STRIDES, style_scale=style_scale)
    assert field.scale == pytest.approx(side / 600)
    assert field.levels[0].shape[2] == -(-side // 2)
