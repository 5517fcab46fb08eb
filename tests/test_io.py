"""Image input/output: formats, modes, orientation, bad input, atomic writes, recipes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from atelier.errors import ImageError
from atelier.io import load_image, load_source, save_image
from atelier.recipe import Recipe, read_recipe


def _gradient(w: int = 20, h: int = 10) -> np.ndarray:
    x = np.linspace(0, 255, w, dtype=np.float32)
    return np.stack([np.tile(x, (h, 1)), np.full((h, w), 128), np.tile(x[::-1], (h, 1))], -1).astype(np.uint8)


@pytest.mark.parametrize(
    "ext,fmt", [(".jpg", "JPEG"), (".png", "PNG"), (".webp", "WEBP"), (".tif", "TIFF"), (".bmp", "BMP"), (".gif", "GIF")]
)
def test_reads_every_supported_format(tmp_path: Path, ext: str, fmt: str) -> None:
    path = tmp_path / f"img{ext}"
    Image.fromarray(_gradient()).save(path, format=fmt)
    loaded = load_image(path)
    assert loaded.rgb.shape == (1, 3, 10, 20)
    assert loaded.rgb.dtype == torch.float32 and 0 <= loaded.rgb.min() and loaded.rgb.max() <= 1
    # left is dark red-free, right is red: the orientation of the data survived
    assert loaded.rgb[0, 0, :, -1].mean() > loaded.rgb[0, 0, :, 0].mean() + 0.5


def test_gif_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 0, 255))]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    rgb = load_image(path).rgb
    assert rgb[0, 0].mean() > 0.9 and rgb[0, 2].mean() < 0.1


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.fromarray(_gradient(20, 10))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif)
    assert load_image(path).rgb.shape[-2:] == (20, 10)


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "I;16", "LA", "RGBA"])
def test_modes_become_rgb(tmp_path: Path, mode: str) -> None:
    base = Image.fromarray(_gradient()).convert("RGBA")
    if mode == "I;16":
        image = Image.fromarray((np.tile(np.linspace(0, 65535, 20), (10, 1))).astype(np.uint16))
        assert image.mode.startswith("I;16")
    else:
        image = base.convert(mode) if "A" in mode else base.convert("RGB").convert(mode)
    path = tmp_path / ("img.tif" if mode == "CMYK" else "img.png")
    image.save(path)
    loaded = load_image(path)
    assert loaded.rgb.shape == (1, 3, 10, 20)
    if mode == "I;16":  # 16-bit range mapped to [0, 1], not clipped at 255
        assert loaded.rgb[0, 0, 0, -1] == pytest.approx(1.0, abs=1e-3)
        assert loaded.rgb[0, 0, 0, 10] == pytest.approx(10 / 19, abs=1e-2)
    assert (loaded.alpha is not None) == (mode in ("LA", "RGBA"))


@pytest.mark.parametrize("mode", ["RGB", "L", "P", "CMYK", "I;16", "LA", "RGBA"])
@pytest.mark.parametrize("max_side", [None, 7])
def test_eight_bit_reads_give_the_float_reads_bytes(tmp_path: Path, mode: str, max_side: int | None) -> None:
    """The instant engine's 8-bit reads: the same bytes as reading float and rounding."""
    from atelier.io import read_image, to_uint8

    base = Image.fromarray(np.random.default_rng(3).integers(0, 256, (10, 20, 4), dtype=np.uint8), "RGBA")
    if mode == "I;16":
        image = Image.fromarray((np.tile(np.linspace(0, 65535, 20), (10, 1))).astype(np.uint16))
    else:
        image = base.convert(mode) if "A" in mode else base.convert("RGB").convert(mode)
    path = tmp_path / ("img.tif" if mode == "CMYK" else "img.png")
    image.save(path)
    rgb, alpha = read_image(path, max_side=max_side)
    rgb8, alpha8 = read_image(path, max_side=max_side, eight_bit=True)
    assert rgb8.dtype == np.uint8 and np.array_equal(rgb8, to_uint8(rgb))
    assert (alpha8 is None) == (alpha is None)
    if alpha is not None:
        assert np.array_equal(alpha8, to_uint8(alpha))


def test_alpha_is_carried_to_output(tmp_path: Path) -> None:
    rgba = np.zeros((10, 20, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:, :10, 3] = 255
    path = tmp_path / "a.png"
    Image.fromarray(rgba, "RGBA").save(path)
    loaded = load_image(path)
    out = save_image(loaded.rgb, tmp_path / "out.png", alpha=loaded.alpha)
    back = np.asarray(Image.open(out))
    assert back.shape == (10, 20, 4)
    assert back[0, 0, 3] == 255 and back[0, -1, 3] == 0


def test_max_side_keeps_aspect(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(_gradient(200, 100)).save(path)
    assert load_image(path, max_side=50).rgb.shape[-2:] == (25, 50)


@pytest.mark.parametrize("orientation", [1, 6])
def test_big_jpeg_read_small_matches_full_decode(tmp_path: Path, orientation: int) -> None:
    """A JPEG read for a small output decodes at reduced scale (Pillow's draft mode) but gives
    the size computed from the file's own (upright) size, and the same picture."""
    from skimage import data

    from atelier.io import read_image, resize_array

    smooth = np.asarray(Image.fromarray(data.astronaut()).resize((1637, 1199), Image.LANCZOS))
    path = tmp_path / "big.jpg"
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(smooth).save(path, quality=95, exif=exif)
    small, _ = read_image(path, max_side=300)
    full, _ = read_image(path)
    expected = (300, 220) if orientation == 6 else (220, 300)  # 1637x1199 fitted in 300, upright
    assert small.shape[:2] == expected
    reference = resize_array(full, expected[1], expected[0])
    assert np.abs(small - reference).mean() < 0.02  # DCT-domain scaling differs only in the finest detail
    # Without JPEG draft decoding, shrinking while 8-bit gives exactly what resizing the arrays gives.
    Image.fromarray(smooth).save(tmp_path / "big.png")
    png_small, _ = read_image(tmp_path / "big.png", max_side=300)
    png_full, _ = read_image(tmp_path / "big.png")
    assert np.array_equal(png_small, resize_array(png_full, 300, 220))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="file not found"):
        load_image(tmp_path / "nope.jpg")


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("hello, I am text")
    with pytest.raises(ImageError, match="not an image"):
        load_image(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(ImageError, match="empty"):
        load_image(path)


def test_truncated_file(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buffer, "PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageError, match="damaged or truncated"):
        load_image(path)


def test_zero_size_image(tmp_path: Path) -> None:
    # A BMP header claiming width 0: Pillow opens it, we refuse it.
    path = tmp_path / "zero.bmp"
    Image.new("RGB", (1, 1)).save(path)
    data = bytearray(path.read_bytes())
    data[18:22] = (0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ImageError):
        load_image(path)


def test_decompression_bomb_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (2000, 1000)).save(path)
    monkeypatch.setenv("ATELIER_MAX_MEGAPIXELS", "1")
    with pytest.raises(ImageError, match="megapixels, over the limit of 1"):
        load_image(path)
    monkeypatch.setenv("ATELIER_MAX_MEGAPIXELS", "3")
    assert load_image(path).size == (2000, 1000)


def test_folder_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_write_formats_round_trip(tmp_path: Path, ext: str) -> None:
    rgb = torch.from_numpy(_gradient()).permute(2, 0, 1)[None].float() / 255
    path = save_image(rgb, tmp_path / f"out{ext}")
    back = load_image(path).rgb
    tolerance = 1 / 255 if ext == ".png" else 0.08
    assert (back - rgb).abs().mean() < tolerance


def test_unknown_output_format(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="use .png, .jpg or .webp"):
        save_image(torch.zeros(1, 3, 4, 4), tmp_path / "out.xyz")


def test_recipe_round_trip_in_png(tmp_path: Path, photo: Path) -> None:
    recipe = Recipe("stylize", params={"size": 64}, seed=3, backbone="atelier")
    recipe.add_input("content", photo)
    path = save_image(torch.rand(1, 3, 8, 8), tmp_path / "r.png", text=recipe.png_text())
    back = read_recipe(path)
    assert back == recipe
    assert back.inputs["content"]["sha256"] == __import__("hashlib").sha256(photo.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", ["keep.png", "keep.jpg"])
def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Interrupted half-way (our PNG writer, Pillow for the other formats): the old file stays."""
    import atelier.io.images as images

    target = tmp_path / name
    save_image(torch.zeros(1, 3, 4, 4), target)
    before = target.read_bytes()

    def broken_save(self_or_stream, *args, **params):
        (self_or_stream if hasattr(self_or_stream, "write") else args[0]).write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", broken_save)
    monkeypatch.setattr(images, "write_png", broken_save)
    with pytest.raises(KeyboardInterrupt):
        save_image(torch.ones(1, 3, 4, 4), target)
    assert target.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == [name]  # and no temp file is left


def test_sample_sources() -> None:
    loaded = load_source("sample:chelsea", max_side=64)
    assert loaded.rgb.shape[1] == 3 and max(loaded.rgb.shape[-2:]) == 64
    with pytest.raises(ImageError, match="unknown sample"):
        load_source("sample:nothing")


def test_outputs_get_ordinary_file_permissions(tmp_path: Path) -> None:
    target = save_image(torch.zeros(1, 3, 4, 4), tmp_path / "shared.png")
    current = os.umask(0o022)
    os.umask(current)
    assert target.stat().st_mode & 0o777 == 0o666 & ~current


@pytest.mark.parametrize(
    "text",
    [
        '{"operation": 5}',
        "[1, 2]",
        '{"operation": "stylize", "inputs": {"content": 3}}',
        '{"operation": "stylize", "seed": "zero"}',
        '{"operation": "stylize", "surprise": 1}',
        "{",
    ],
)
def test_malformed_recipes_are_one_line_errors(text: str) -> None:
    from atelier.errors import InputError

    with pytest.raises(InputError, match="recipe"):
        Recipe.from_json(text)


def test_to_uint8_in_row_blocks_matches_the_direct_conversion() -> None:
    from atelier.io import to_uint8

    array = np.random.default_rng(0).random((700, 33, 3)).astype(np.float32) * 1.2 - 0.1  # some outside [0, 1]
    expected = (np.clip(array, 0, 1) * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(to_uint8(array, rows=256), expected)  # 3 blocks, the last a partial one
    assert np.array_equal(to_uint8(array[..., 0]), expected[..., 0])
    assert to_uint8(expected) is expected
