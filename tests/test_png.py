"""The fast PNG writer: any reader gets back exactly the pixels and text, in every band split."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from atelier.io import png
from atelier.io.images import read_text_chunks, write_image


def _read(data: bytes) -> tuple[np.ndarray, dict]:
    image = Image.open(io.BytesIO(data))
    image.load()
    return np.asarray(image), dict(image.text)


def _written(pixels: np.ndarray, text: dict | None = None, threads: int = 1) -> bytes:
    stream = io.BytesIO()
    png.write_png(stream, pixels, text, threads=threads)
    return stream.getvalue()


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    channels=st.sampled_from([1, 3, 4]),
    seed=st.integers(0, 2**16),
    flat=st.booleans(),
)
def test_round_trip_through_pillow(height: int, width: int, channels: int, seed: int, flat: bool) -> None:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    if flat:  # long runs, as in masks and skies
        pixels[:, : width // 2] = 7
    back, _ = _read(_written(pixels[..., 0] if channels == 1 else pixels))
    assert np.array_equal(back.reshape(pixels.shape), pixels)


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """``(kind, data)`` of every chunk after the signature, checking each CRC."""
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        assert struct.unpack(">I", data[at + 8 + length : at + 12 + length])[0] == zlib.crc32(kind + body)
        chunks.append((kind, body))
        at += 12 + length
    return chunks


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
@pytest.mark.parametrize("band_bytes", [100, 1 << 20])
def test_bands_join_into_one_stream(threads: int, band_bytes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compressed in bands (small ones forced here) on several threads: the same pixels, one
    IDAT chunk per band, and their data one zlib stream of the Up-filtered rows."""
    monkeypatch.setattr(png, "BAND_BYTES", band_bytes)
    pixels = np.random.default_rng(threads).integers(0, 256, (37, 29, 3), dtype=np.uint8)
    data = _written(pixels, threads=threads)
    back, _ = _read(data)
    assert np.array_equal(back, pixels)
    idat = [body for kind, body in _chunks(data) if kind == b"IDAT"]
    assert len(idat) == (1 if band_bytes > pixels.nbytes else -(-37 // (100 // 87)))
    rows = pixels.reshape(37, -1)
    assert zlib.decompress(b"".join(idat)) == png._filtered(rows, None).tobytes()
    assert [kind for kind, _ in _chunks(data)][:1] == [b"IHDR"] and _chunks(data)[-1][0] == b"IEND"


def test_text_chunks_and_file_size(tmp_path) -> None:
    """Text (any Unicode, long) reads back; a photo-like picture is about as small as Pillow's."""
    y, x = np.mgrid[0:300, 0:400]
    smooth = np.stack([x / 400, y / 300, (x + y) / 700], axis=-1)
    noisy = np.clip(smooth + np.random.default_rng(0).normal(0, 0.03, smooth.shape), 0, 1)
    text = {"atelier:recipe": '{"painting": "Les Nymphéas", "x": "' + "y" * 5000 + '"}'}
    ours = write_image(noisy, tmp_path / "a.png", text=text)
    assert read_text_chunks(ours)["atelier:recipe"] == text["atelier:recipe"]
    theirs = tmp_path / "b.png"
    Image.open(ours).save(theirs, compress_level=1)
    assert ours.stat().st_size < 1.1 * theirs.stat().st_size


def test_rejects_what_it_cannot_write() -> None:
    with pytest.raises(ValueError):
        _written(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError):
        _written(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError):
        _written(np.zeros((0, 4, 3), np.uint8))
    with pytest.raises(ValueError):
        png._text_chunk("", "x")
