"""Losses and colour transfer against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from atelier.style import color
from atelier.style.engine import _feather, _tile_starts, pyramid_sizes, step_schedule
from atelier.style.losses import covariance, gram_matrix, mean_std, normalised_mse, smooth_activations, total_variation


def test_gram_single_channel() -> None:
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    assert gram_matrix(f).item() == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_gram_two_channels() -> None:
    f = torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]]).view(1, 2, 1, 2)
    assert torch.allclose(gram_matrix(f), torch.tensor([[[1.0, 1.0], [1.0, 2.0]]]) / 2)


def test_masked_gram_is_gram_of_region() -> None:
    f = torch.randn(1, 3, 4, 6)
    mask = torch.zeros(1, 1, 4, 6)
    mask[..., :3] = 1
    assert torch.allclose(gram_matrix(f, mask), gram_matrix(f[..., :3]), atol=1e-6)


def test_mean_std() -> None:
    f = torch.tensor([1.0, 3.0]).view(1, 1, 1, 2)
    stats = mean_std(f, eps=0.0)
    assert stats.tolist() == [[2.0, 1.0]]


def test_normalised_mse() -> None:
    assert normalised_mse(torch.tensor([1.0, 1.0]), torch.tensor([2.0, 0.0])).item() == pytest.approx(0.5)


def test_content_loss_of_a_batch_is_the_mean_of_its_items() -> None:
    """So that half a batch on each of two processes trains like the whole batch on one."""
    from atelier.style.losses import content_loss

    a, b = torch.tensor([[1.0, 1.0]]), torch.tensor([[3.0, 0.0]])
    ta, tb = torch.tensor([[2.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    # by hand: item a: (1 + 1) / 4 = 0.5; item b: (9 + 1) / 1 = 10
    assert content_loss(a, ta).item() == pytest.approx(0.5)
    assert content_loss(torch.cat([a, b]), torch.cat([ta, tb])).item() == pytest.approx((0.5 + 10) / 2)


def test_normalised_mse_broadcast_target_is_a_mean_over_the_batch() -> None:
    target = torch.tensor([[2.0, 0.0]])
    batch = torch.tensor([[1.0, 1.0], [2.0, 0.0]])  # relative errors 0.5 and 0
    assert normalised_mse(batch, target).item() == pytest.approx(0.25)


def test_total_variation() -> None:
    image = torch.tensor([[0.0, 1.0], [0.0, 1.0]]).view(1, 1, 2, 2)
    assert total_variation(image).item() == pytest.approx(1.0)
    assert total_variation(torch.ones(1, 3, 5, 5)).item() == 0.0


def test_smoothing_is_a_scaled_softmax() -> None:
    f = torch.tensor([0.0, math.log(3.0)]).view(1, 1, 1, 2)
    assert smooth_activations(f).flatten().tolist() == pytest.approx([0.5, 1.5])


def test_luminance_of_primaries() -> None:
    image = torch.eye(3).view(3, 3, 1, 1).permute(1, 0, 2, 3).reshape(1, 3, 1, 3)
    assert color.luminance(image).flatten().tolist() == pytest.approx([0.299, 0.587, 0.114], abs=1e-6)


def test_yiq_round_trip() -> None:
    image = torch.rand(1, 3, 5, 7)
    assert torch.allclose(color.yiq_to_rgb(color.rgb_to_yiq(image)), image, atol=1e-5)


def test_combine_luminance_keeps_colour() -> None:
    photo = torch.rand(1, 3, 8, 8) * 0.5 + 0.25
    y = torch.full((1, 1, 8, 8), 0.5)
    out = color.combine_luminance(y, photo)
    assert torch.allclose(color.luminance(out), y, atol=1e-4)
    assert torch.allclose(color.rgb_to_yiq(out)[:, 1:], color.rgb_to_yiq(photo)[:, 1:], atol=1e-4)


def test_match_luminance_mean_std() -> None:
    src = torch.linspace(0, 1, 100).view(1, 1, 10, 10)
    tgt = torch.linspace(0.4, 0.6, 100).view(1, 1, 10, 10)
    out = color.match_luminance(src, tgt)
    assert out.mean().item() == pytest.approx(tgt.mean().item(), abs=1e-5)
    assert out.std().item() == pytest.approx(tgt.std().item(), abs=1e-5)


def test_match_colors_matches_mean_and_covariance() -> None:
    gen = torch.Generator().manual_seed(0)
    source = torch.rand(1, 3, 32, 32, generator=gen) * 0.3 + 0.1
    mix = torch.tensor([[0.6, 0.2, 0.0], [0.1, 0.5, 0.1], [0.0, 0.1, 0.3]])
    reference = (torch.einsum("ij,njhw->nihw", mix, torch.rand(1, 3, 32, 32, generator=gen)) + 0.2).clamp(0, 1)
    out = color.match_colors(source, reference)
    flat_out, flat_ref = out[0].reshape(3, -1), reference[0].reshape(3, -1)
    assert torch.allclose(flat_out.mean(1), flat_ref.mean(1), atol=2e-3)
    assert torch.allclose(torch.cov(flat_out), torch.cov(flat_ref), atol=2e-3)


def test_pyramid_sizes_end_at_requested_size() -> None:
    sizes = pyramid_sizes(640, 480, 512, None)
    assert sizes[-1] == (512, 384)
    assert sizes[0] == (256, 192)
    big = pyramid_sizes(640, 480, 2048, None)
    assert len(big) == 4 and 200 <= big[0][0] < 400 and big[-1] == (2048, 1536)
    assert pyramid_sizes(640, 480, 512, 1) == [(512, 384)]


@given(st.integers(1, 2000), st.lists(st.integers(16, 10_000_000), min_size=1, max_size=5))
@settings(max_examples=50, deadline=None)
def test_step_schedule_spends_exactly_the_budget(total: int, pixels: list[int]) -> None:
    steps = step_schedule(max(total, len(pixels)), sorted(pixels))
    assert sum(steps) == max(total, len(pixels))
    assert all(s >= 1 for s in steps)


@given(st.integers(1, 5000), st.integers(128, 1024), st.integers(8, 63))
@settings(max_examples=100, deadline=None)
def test_tiles_cover_the_image_with_overlap(length: int, tile: int, overlap: int) -> None:
    starts = _tile_starts(length, tile, overlap)
    assert starts[0] == 0 and starts[-1] + min(tile, length) == length
    for a, b in zip(starts, starts[1:]):
        assert b - a <= tile - overlap  # neighbours overlap by at least `overlap`


def test_feather_is_one_inside_and_ramps_at_inner_edges() -> None:
    w = _feather(10, 10, 4, (False, False, True, False))
    assert torch.all(w[:, 4:] == 1)
    assert w[0, 0] < w[0, 1] < w[0, 2] < w[0, 3] < 1


def test_covariance_is_centred_gram() -> None:
    # channel 0: [1, 3] (mean 2), channel 1: [2, 2] (constant): covariance [[1, 0], [0, 0]]
    f = torch.tensor([[[1.0, 3.0]], [[2.0, 2.0]]]).view(1, 2, 1, 2)
    assert torch.allclose(covariance(f), torch.tensor([[[1.0, 0.0], [0.0, 0.0]]]))
    # adding a constant to every activation changes the Gram matrix but not the covariance
    assert torch.allclose(covariance(f + 5), covariance(f))
    assert not torch.allclose(gram_matrix(f + 5), gram_matrix(f))


def test_masked_covariance_is_covariance_of_region() -> None:
    f = torch.randn(1, 3, 4, 6)
    mask = torch.zeros(1, 1, 4, 6)
    mask[..., 2:] = 1
    assert torch.allclose(covariance(f, mask), covariance(f[..., 2:]), atol=1e-6)
