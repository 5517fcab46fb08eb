"""The fast engine's working size (atelier.style.arbitrary.enlarge): the shape maths by hand,
the enlargement's detail transfer on synthetic pictures, and painting through it with the
shipped network (float and 8-bit outputs agree, a mask still keeps the photo, old recipes
replay painting every pixel)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from atelier.errors import InputError
from atelier.style.arbitrary.enlarge import enlarge, working_shape
from atelier.style.settings import StyleSettings


def test_working_shape_by_hand() -> None:
    assert working_shape(768, 1024, 512) == (384, 512)
    assert working_shape(1024, 683, 512) == (512, 342)  # 683 * 0.5 = 341.5, rounded (aspect kept)
    assert working_shape(300, 400, 512) == (300, 400)  # smaller than the working size: as it is
    assert working_shape(768, 1024, 0) == (768, 1024)  # 0: every pixel
    assert working_shape(768, 1024, None) == (768, 1024)


def _photo(h: int = 96, w: int = 128) -> np.ndarray:
    """Smooth colour gradients with sharp grey lines (detail a half-size picture cannot hold)."""
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    photo = np.stack([0.2 + 0.6 * xx, 0.3 + 0.4 * yy, 0.5 - 0.3 * xx * yy], axis=-1)
    photo[::7] = 0.1
    photo[:, ::9] = 0.9
    return photo.astype(np.float32)


def _half(image: np.ndarray) -> np.ndarray:
    from atelier.io import resize_array

    return resize_array(image, image.shape[1] // 2, image.shape[0] // 2)


def test_enlarge_puts_the_photos_fine_detail_back() -> None:
    photo = _photo()
    small = _half(photo)
    # A 'painting' that is the small photo itself: enlarged with the detail, the photo comes back
    # (its luminance exactly, up to 8-bit rounding; grey lines are all luminance).
    back = enlarge(small, photo, small, 1.0)
    plain = enlarge(small, photo, small, 0.0)
    assert back.shape == plain.shape == photo.shape and back.dtype == np.float32
    luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
    error_with, error_without = np.abs((back - photo) @ luma).mean(), np.abs((plain - photo) @ luma).mean()
    assert error_with < 0.25 * error_without
    assert np.abs((back - photo) @ luma).max() < 0.05
    # detail 0 is the plain Lanczos enlargement
    lanczos = np.asarray(Image.fromarray((small * 255 + 0.5).astype(np.uint8)).resize((128, 96), Image.LANCZOS)) / 255
    assert plain == pytest.approx(lanczos, abs=1e-6)
    # the 8-bit output is the float output rounded; an 8-bit photo gives the same
    as_uint8 = enlarge(small, photo, small, 1.0, as_uint8=True)
    assert as_uint8.dtype == np.uint8
    assert np.abs(as_uint8.astype(np.float32) / 255 - back).max() <= 1 / 255 + 1e-6
    photo8 = (photo * 255 + 0.5).astype(np.uint8)
    assert np.abs(enlarge(small, photo8, small, 1.0) - back).max() <= 1 / 255 + 1e-6


def test_enlarge_keeps_the_painted_colours_and_adds_luminance_only() -> None:
    photo = _photo()
    small = _half(photo)
    painted = np.clip(small[..., ::-1] * 0.8 + 0.1, 0, 1)  # other colours
    out = enlarge(painted, photo, small, 1.0)
    plain = enlarge(painted, photo, small, 0.0)
    added = out - plain
    # the same amount on the three channels wherever nothing was clipped: luminance, no colour
    inside = (out > 0.01).all(-1) & (out < 0.99).all(-1)
    assert np.abs(added[..., 0] - added[..., 1])[inside].max() < 1e-5
    assert np.abs(out.mean((0, 1)) - plain.mean((0, 1))).max() < 0.02  # colours unchanged on average


@pytest.fixture
def shipped():
    from atelier.style.arbitrary.runtime import available

    if not available():
        pytest.skip("the arbitrary-style network is not installed")


def test_painting_at_a_working_size(shipped, tmp_path) -> None:
    from atelier.style.api import StyleRequest, stylize
    from atelier.style.arbitrary.runtime import paint

    photo = _photo(192, 256)
    painting = "sample:astronaut"
    small_first = StyleSettings(engine="fast", work_size=128)
    every_pixel = StyleSettings(engine="fast", work_size=0)
    image, _, _ = paint(photo, [painting], None, small_first)
    full, _, _ = paint(photo, [painting], None, every_pixel)
    assert image.shape == full.shape == photo.shape and image.dtype == np.float32
    assert np.abs(image - full).mean() > 0.01  # the working size changes the picture
    as_uint8, _, _ = paint(photo, [painting], None, small_first, as_uint8=True)
    assert as_uint8.dtype == np.uint8 and np.abs(as_uint8 / 255 - image).max() <= 1 / 255 + 1e-6
    # Through the library's front door: the file is the 8-bit picture; result.image is float.
    Image.fromarray((photo * 255 + 0.5).astype(np.uint8)).save(tmp_path / "photo.png")
    mask = np.zeros((192, 256), dtype=np.uint8)
    mask[:, 128:] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    request = StyleRequest(str(tmp_path / "photo.png"), [painting], str(tmp_path / "out.png"), mask=str(tmp_path / "mask.png"))
    request.settings = small_first
    result = stylize(request)
    written = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
    assert result.image.dtype == np.float32 and np.array_equal((result.image * 255 + 0.5).astype(np.uint8), written)
    assert result.size == (256, 192)  # (width, height), read without a float copy of the picture
    original = np.asarray(Image.open(tmp_path / "photo.png"))
    assert np.abs(written[:, :120].astype(int) - original[:, :120]).max() <= 1  # black in the mask: the photo
    assert np.abs(written[:, 136:].astype(int) - original[:, 136:]).mean() > 5  # white: painted


def test_work_size_checks_and_old_recipes() -> None:
    from atelier.recipe import Recipe
    from atelier.style.api import OPERATION, request_from_recipe

    with pytest.raises(InputError, match="--work-size must be 0"):
        StyleSettings(engine="fast", work_size=16).validate()
    StyleSettings(engine="fast", work_size=0).validate()
    settings = StyleSettings(engine="fast").to_dict()
    assert settings["work_size"] == 384
    inputs = {"content": {"path": "photo.png"}, "style[0]": {"path": "painting.png"}}
    old = {k: v for k, v in settings.items() if k not in ("work_size", "match_passes", "palette_match")}
    replayed = request_from_recipe(Recipe(OPERATION, params={"settings": old}, inputs=inputs), "out.png")
    assert replayed.settings.work_size == 0  # painted before the working size existed: every pixel
    assert settings["match_passes"] == 3 and settings["palette_match"] == 0.5
    assert replayed.settings.match_passes == 0 and replayed.settings.palette_match == 0  # ... and before sliced matching
