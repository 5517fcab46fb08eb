"""Paintings stored as statistics (the built-in pack on the arbitrary-style network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from atelier.errors import InputError
from atelier.style.arbitrary.stored import load_statistics, save_statistics
from atelier.style.arbitrary.transforms import Statistics

SHARED = Path(__file__).resolve().parents[2] / "shared"


def _stats(value: float, channels: int = 3) -> Statistics:
    return Statistics(np.full(channels, value), np.eye(channels) * (1 + value))


def test_round_trip_interpolation_and_clamping(tmp_path: Path) -> None:
    path = save_statistics(
        tmp_path / "p.stats.npz", {256: [_stats(0.0), _stats(1.0)], 1024: [_stats(2.0), _stats(3.0)]}, encoder_sha256="e"
    )
    exact = load_statistics(path, 256, encoder_sha256="e")
    assert np.allclose(exact[1].mean, 1.0) and np.allclose(exact[1].cov, np.eye(3) * 2)
    # 512 is half-way between 256 and 1024 on a log scale: the even mixture of the two.
    middle = load_statistics(path, 512)[0]
    assert np.allclose(middle.mean, 1.0)
    # mixture covariance = mean of (cov + mean mean^T) - mixture mean mean^T = (1 + 3)/2 I + (0 + 4)/2 - 1 = 2 I + 1
    assert np.allclose(middle.cov, np.eye(3) * 2 + 1.0)
    assert np.allclose(load_statistics(path, 64)[0].mean, 0.0)  # below the smallest: the smallest
    assert np.allclose(load_statistics(path, 4096)[0].mean, 2.0)  # above the largest: the largest


def test_other_encoder_and_bad_files_are_one_clear_line(tmp_path: Path) -> None:
    path = save_statistics(tmp_path / "p.stats.npz", {256: [_stats(0.0)]}, encoder_sha256="abc")
    with pytest.raises(InputError, match="another encoder"):
        load_statistics(path, 256, encoder_sha256="xyz")
    junk = tmp_path / "junk.stats.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a painting-statistics file"):
        load_statistics(junk, 256)


def test_shipped_builtins_match_the_shipped_encoder() -> None:
    """Installing a network with another encoder without rebuilding the pack fails here."""
    from atelier.style.arbitrary.runtime import SHIPPED_MODEL, Network
    from atelier.style.fast.pack import builtin_styles

    net = Network(SHIPPED_MODEL)
    assert builtin_styles()
    for style in builtin_styles():
        assert load_statistics(style.stats_path, 700, encoder_sha256=net.encoder_sha256)


@pytest.mark.skipif(not (SHARED / "images" / "styles" / "starry_night.jpg").is_file(), reason="needs ../shared paintings")
def test_a_builtin_paints_like_its_painting_file_and_blends(tmp_path: Path, monkeypatch) -> None:
    from atelier.style.api import StyleRequest, choose_painter, stylize
    from atelier.style.arbitrary.runtime import MODEL_ENV
    from atelier.style.settings import StyleSettings

    monkeypatch.delenv(MODEL_ENV, raising=False)
    settings = StyleSettings(engine="fast", size=256)
    assert choose_painter(["starry-night"], settings) == "arbitrary"
    photo = "sample:astronaut"

    def paint(styles, weights=None):
        return stylize(StyleRequest(photo, styles, str(tmp_path / "out.png"), weights, settings=settings)).image

    stored = paint(["starry-night"])
    from_file = paint([str(SHARED / "images" / "styles" / "starry_night.jpg")])
    assert np.abs(stored - from_file).mean() < 2e-3  # statistics stored at 256 px: the same picture
    scream = paint(["the-scream"])
    blend = paint(["starry-night", "the-scream"], [0.5, 0.5])
    assert np.abs(blend - stored).mean() > 0.01 and np.abs(blend - scream).mean() > 0.01
