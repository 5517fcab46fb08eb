"""Reading and writing images: the only place in Atelier that touches image files.

Images travel through the library as float tensors of shape ``(1, C, H, W)`` in ``[0, 1]``.
Alpha, when a file has it, is carried separately so that it can be put back on the output.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from atelier.errors import ImageError
from atelier.io.atomic import atomic_write
from atelier.io.paths import check_not_an_input
from atelier.io.png import write_png
from atelier.ort import threads

if TYPE_CHECKING:  # torch is imported only where tensors are made: the fast-style path runs without it
    import torch

#: Default limit on the pixels we agree to decode (protects against decompression bombs).
DEFAULT_MAX_MEGAPIXELS = 100.0
MAX_MEGAPIXELS_ENV = "ATELIER_MAX_MEGAPIXELS"

#: File name endings read as images when a whole folder is scanned.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif"})

WRITABLE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


@dataclass
class LoadedImage:
    """An image read from disk: ``rgb`` is ``(1, 3, H, W)``, ``alpha`` is ``(1, 1, H, W)`` or None."""

    rgb: torch.Tensor
    alpha: torch.Tensor | None
    path: Path | None = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.rgb.shape[-1], self.rgb.shape[-2]


def find_images(root: str | Path) -> list[Path]:
    """Image files under ``root`` (sub-folders too, hidden ones skipped), sorted."""
    root = Path(root)
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def max_megapixels() -> float:
    """The configured decode limit: ``ATELIER_MAX_MEGAPIXELS`` or the default."""
    raw = os.environ.get(MAX_MEGAPIXELS_ENV)
    if not raw:
        return DEFAULT_MAX_MEGAPIXELS
    try:
        value = float(raw)
    except ValueError:
        raise ImageError(f"{MAX_MEGAPIXELS_ENV} must be a number, got {raw!r}") from None
    if value <= 0:
        raise ImageError(f"{MAX_MEGAPIXELS_ENV} must be positive, got {raw!r}")
    return value


def _too_many_pixels(path: Path, width: int, height: int, limit_mp: float) -> ImageError:
    return ImageError(
        f"{path}: {width}x{height} is {width * height / 1e6:.0f} megapixels, over the limit of "
        f"{limit_mp:g} (a decompression bomb guard; raise it with {MAX_MEGAPIXELS_ENV})"
    )


def check_image_file(path: Path) -> None:
    """One clear line for a path that cannot be an image: missing, a folder, empty."""
    if not path.exists():
        raise ImageError(f"{path}: file not found")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(f"{path}: the file is empty")


def _open_header(path: Path, limit_mp: float) -> Image.Image:
    """Open an image lazily (header only) and check its size against ``limit_mp``."""
    check_image_file(path)
    try:
        # Our own limit is checked from the header below; Pillow's is raised so it never
        # fires first with a less helpful message (its warning is silenced the same way).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            old_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                image = Image.open(path)
            finally:
                Image.MAX_IMAGE_PIXELS = old_limit
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Atelier can read (JPEG, PNG, WebP, TIFF, BMP, GIF)") from None
    except Image.DecompressionBombError as error:  # another thread restored Pillow's limit meanwhile
        raise ImageError(f"{path}: refused as a decompression bomb ({error})") from None
    except OSError as error:
        raise ImageError(f"{path}: cannot open image: {error}") from None
    width, height = image.size
    if width == 0 or height == 0:
        raise ImageError(f"{path}: the image has zero size ({width}x{height})")
    if width * height / 1e6 > limit_mp:
        raise _too_many_pixels(path, width, height, limit_mp)
    return image


def _open_checked(path: Path, limit_mp: float, draft_side: int | None = None) -> Image.Image:
    image = _open_header(path, limit_mp)
    if draft_side is not None and image.format == "JPEG" and max(image.size) > draft_side:
        # JPEG decodes straight at 1/2, 1/4 or 1/8 scale, never below what is asked: a big
        # painting read for a small output costs a fraction of the time and memory.
        scale = draft_side / max(image.size)
        full = image.size
        image.draft(image.mode, (max(1, math.ceil(full[0] * scale)), max(1, math.ceil(full[1] * scale))))
        image.info["full_size"] = full  # the output size is computed from the file's own size
    try:
        image.seek(0)  # first frame of animations
        image.load()
    except Image.DecompressionBombError as error:
        raise ImageError(f"{path}: refused as a decompression bomb ({error})") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path}: the image data is damaged or truncated ({error})") from None
    return image


def probe_image(path: str | Path, max_megapixels_limit: float | None = None) -> tuple[str, int, int]:
    """``(format, width, height)`` from the file's header, without decoding its pixels.

    Refuses, with the same one-line errors as :func:`load_image`, anything that is not an
    image or is larger than the megapixel limit (a decompression bomb is caught here,
    before it costs any memory).
    """
    limit = max_megapixels_limit if max_megapixels_limit is not None else max_megapixels()
    with _open_header(Path(path), limit) as image:
        return image.format or "", image.size[0], image.size[1]


def verify_image(path: str | Path, max_megapixels_limit: float | None = None) -> None:
    """Decode the whole file once (8-bit, no float copy) to catch damage or truncation."""
    limit = max_megapixels_limit if max_megapixels_limit is not None else max_megapixels()
    _open_checked(Path(path), limit).close()


def _to_float_array(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode any Pillow mode to RGB float32 ``(H, W, 3)`` and optional alpha ``(H, W)``."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        data = np.asarray(image, dtype=np.float64)
        scale = 65535.0 if mode.startswith("I;16") or data.max() > 255 else 255.0
        gray = np.clip(data / scale, 0.0, 1.0).astype(np.float32)
        return np.repeat(gray[..., None], 3, axis=2), None
    if mode == "F":
        gray = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
        return np.repeat(gray[..., None], 3, axis=2), None
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info)
    # (divided in place, and no converted copy of a picture already in the mode: a 2048 px photo
    # was read with 95 MB of temporaries, now 38; the same float32 values to the bit)
    if has_alpha:
        rgba = np.asarray(image if mode == "RGBA" else image.convert("RGBA"), dtype=np.float32)
        rgba /= np.float32(255)
        return rgba[..., :3], rgba[..., 3]
    rgb = np.asarray(image if mode == "RGB" else image.convert("RGB"), dtype=np.float32)
    rgb /= np.float32(255)
    return rgb, None


def _to_uint8_array(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_to_float_array` as 8-bit arrays (8-bit modes without a float copy: the instant
    engine works on 8-bit pictures, and the round trip through float gives the same bytes)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        rgb, alpha = _to_float_array(image)
        return to_uint8(rgb), alpha
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image if image.mode == "RGBA" else image.convert("RGBA"))
        return rgba[..., :3], rgba[..., 3]
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB")), None


def _decode(
    path: str | Path, limit_mp: float | None, draft_side: int | None = None, shrink_to: int | None = None, eight_bit: bool = False
) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int]]:
    """RGB, alpha and the picture's full ``(width, height)`` (upright; a JPEG may decode smaller).

    ``shrink_to``: 8-bit RGB and grey pictures larger than that are resized (Lanczos) before
    they become float arrays, which is what resizing the arrays would give, with a quarter of
    the memory and time. ``eight_bit``: uint8 arrays (read-only) instead of float32."""
    path = Path(path)
    image = _open_checked(path, limit_mp if limit_mp is not None else max_megapixels(), draft_side)
    full = image.info.get("full_size", image.size)
    rotated = image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
    try:
        image = ImageOps.exif_transpose(image)
    except Exception:  # a broken EXIF block must not make a good image unreadable
        rotated = False
    upright = (full[1], full[0]) if rotated else full
    if shrink_to is not None and max(upright) > shrink_to and image.mode in ("RGB", "L"):
        image = image.resize(fit_size(*upright, shrink_to), Image.LANCZOS)
    rgb, alpha = _to_uint8_array(image) if eight_bit else _to_float_array(image)
    return rgb, alpha, upright


def read_image(path: str | Path, *, max_side: int | None = None, eight_bit: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Read an image file as arrays, without PyTorch: RGB ``(H, W, 3)`` float32 in [0, 1]
    and alpha ``(H, W)`` or None (``eight_bit``: both uint8, read-only). Same checks and
    conversions as :func:`load_image`; ``max_side`` shrinks with Lanczos (never enlarges)."""
    rgb, alpha, (full_width, full_height) = _decode(path, None, max_side, shrink_to=max_side, eight_bit=eight_bit)
    if max_side is not None and max(full_width, full_height) > max_side:
        width, height = fit_size(full_width, full_height, max_side)
        resize = resize_sized if eight_bit else resize_array
        rgb = resize(rgb, width, height)
        alpha = None if alpha is None else resize(alpha, width, height)
    return rgb, alpha


def to_uint8(array: np.ndarray, rows: int = 256) -> np.ndarray:
    """A float array in [0, 1] as 8-bit (rounded, clipped), converted ``rows`` rows at a time so
    that a big picture needs no full-size float temporaries (2 x 38 MB at 2048x1536)."""
    if array.dtype == np.uint8:
        return array
    out = np.empty(array.shape, dtype=np.uint8)
    for start in range(0, array.shape[0], rows):
        block = np.clip(array[start : start + rows], 0, 1) * 255 + 0.5
        out[start : start + rows] = block.astype(np.uint8)
    return out


def as_float(array: np.ndarray) -> np.ndarray:
    """An 8-bit array as float32 in [0, 1]; a float array as it is."""
    if array.dtype != np.uint8:
        return array
    out = array.astype(np.float32)
    out /= np.float32(255)  # (divided, as decoding does: the same float32 values to the bit)
    return out


def resize_uint8(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize an ``(H, W)`` or ``(H, W, C)`` array (float in [0, 1], or 8-bit) with Lanczos (via
    Pillow); 8-bit out, read-only (Pillow's buffer: copy it to write into it)."""
    return np.asarray(Image.fromarray(to_uint8(array)).resize((width, height), Image.LANCZOS))


def resize_sized(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """``array`` at ``width`` x ``height`` in its own kind: 8-bit stays 8-bit (:func:`resize_uint8`),
    float stays float (:func:`resize_array`); the array itself when the size is already right."""
    if array.shape[1] == width and array.shape[0] == height:
        return array
    return resize_uint8(array, width, height) if array.dtype == np.uint8 else resize_array(array, width, height)


def resize_array(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """:func:`resize_uint8` with float32 in [0, 1] out (the array as it is when the size is already right)."""
    if array.shape[1] == width and array.shape[0] == height:
        return as_float(array)
    return as_float(resize_uint8(array, width, height))


def load_image(
    path: str | Path,
    *,
    max_side: int | None = None,
    max_megapixels_limit: float | None = None,
) -> LoadedImage:
    """Read an image file into a :class:`LoadedImage`.

    Honours EXIF orientation, takes the first frame of animations, converts grayscale,
    palette, CMYK and 16-bit images to RGB and keeps alpha. ``max_side`` resizes so that
    the longest side is at most that many pixels (aspect ratio kept).
    Raises :class:`ImageError` with a one-line message for any bad input.
    """
    path = Path(path)
    rgb, alpha, _ = _decode(path, max_megapixels_limit)
    rgb_t = array_to_tensor(rgb)
    alpha_t = None if alpha is None else array_to_tensor(alpha)
    loaded = LoadedImage(rgb_t, alpha_t, path)
    if max_side is not None:
        loaded = LoadedImage(
            resize_longest(rgb_t, max_side),
            None if alpha_t is None else resize_longest(alpha_t, max_side),
            path,
        )
    return loaded


def array_to_tensor(array: np.ndarray) -> torch.Tensor:
    """``(H, W, C)`` (or ``(H, W)``) float array -> ``(1, C, H, W)`` (or ``(1, 1, H, W)``) tensor."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))
    return tensor[None, None] if array.ndim == 2 else tensor.permute(2, 0, 1)[None].contiguous()


def fit_size(width: int, height: int, longest: int) -> tuple[int, int]:
    """``(w, h)`` scaled so the longer side equals ``longest``, both at least 1."""
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_to(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize a ``(N, C, H, W)`` tensor; antialiased when shrinking."""
    import torch.nn.functional as F

    if image.shape[-2:] == (height, width):
        return image
    shrinking = height < image.shape[-2] or width < image.shape[-1]
    return F.interpolate(image, size=(height, width), mode="bilinear", align_corners=False, antialias=shrinking).clamp(0, 1)


def resize_longest(image: torch.Tensor, longest: int) -> torch.Tensor:
    """Resize so that the longest side is ``longest`` pixels, keeping the aspect ratio."""
    width, height = fit_size(image.shape[-1], image.shape[-2], longest)
    return resize_to(image, height, width)


def tensor_to_pil(rgb: torch.Tensor, alpha: torch.Tensor | None = None) -> Image.Image:
    """Convert ``(1, 3, H, W)`` (and optional ``(1, 1, H, W)`` alpha) to a Pillow image."""
    if rgb.dim() == 4:
        rgb = rgb[0]
    array = (rgb.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
    image = Image.fromarray(array, "RGB")
    if alpha is not None:
        if alpha.dim() == 4:
            alpha = alpha[0]
        if alpha.shape[-2:] != rgb.shape[-2:]:
            alpha = resize_to(alpha[None], rgb.shape[-2], rgb.shape[-1])[0]
        a = (alpha[0].detach().float().clamp(0, 1).cpu().numpy() * 255.0 + 0.5).astype(np.uint8)
        image.putalpha(Image.fromarray(a, "L"))
    return image


def pil_to_tensor(image: Image.Image) -> torch.Tensor:
    """Convert a Pillow image to ``(1, 3, H, W)`` float RGB in ``[0, 1]``."""
    return array_to_tensor(_to_float_array(image)[0])


def check_output_path(path: str | Path, inputs: Iterable[str | Path | None] = ()) -> str:
    """Check, before any work is done, that ``path`` can be written and is none of ``inputs``;
    return its format name."""
    path = Path(path)
    check_not_an_input(path, inputs)
    fmt = WRITABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImageError(f"{path}: cannot write '{path.suffix or 'no extension'}'; use .png, .jpg or .webp")
    if not path.parent.is_dir():
        raise ImageError(f"{path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise ImageError(f"{path}: is a folder; give a file name such as {path / 'out.png'}")
    if not os.access(path.parent, os.W_OK):
        raise ImageError(f"{path}: the folder {path.parent} is not writable")
    return fmt


def save_image(
    rgb: torch.Tensor,
    path: str | Path,
    *,
    alpha: torch.Tensor | None = None,
    text: dict[str, str] | None = None,
    quality: int = 95,
) -> Path:
    """Write an image atomically (temporary file, then rename) as PNG, JPEG or WebP.

    PNGs carry ``text`` as iTXt chunks (how Atelier embeds its recipes: see
    :mod:`atelier.recipe`). JPEG has no alpha: alpha is dropped there. Returns the path written.
    """
    fmt = check_output_path(path)
    return _write_pil(tensor_to_pil(rgb, None if fmt == "JPEG" else alpha), Path(path), fmt, text, quality)


def write_image(
    rgb: np.ndarray,
    path: str | Path,
    *,
    alpha: np.ndarray | None = None,
    text: dict[str, str] | None = None,
    quality: int = 95,
) -> Path:
    """:func:`save_image` for arrays, without PyTorch: ``rgb`` is ``(H, W, 3)`` float in [0, 1]."""
    fmt = check_output_path(path)
    pixels = to_uint8(rgb)
    if alpha is not None and fmt != "JPEG":
        if alpha.shape != rgb.shape[:2]:
            alpha = resize_array(alpha, rgb.shape[1], rgb.shape[0])
        pixels = np.dstack([pixels, to_uint8(alpha)])
    if fmt == "PNG":  # (straight from the array: no round trip through a Pillow image)
        return atomic_write(path, lambda stream: write_png(stream, pixels, text, threads=threads()))
    return _write_pil(Image.fromarray(pixels), Path(path), fmt, text, quality)


def _write_pil(image: Image.Image, path: Path, fmt: str, text: dict[str, str] | None, quality: int) -> Path:
    options: dict = {}
    if fmt == "PNG" and image.mode in ("L", "RGB", "RGBA"):
        # (our writer: 3-4x faster than Pillow's, see atelier.io.png)
        pixels = np.asarray(image)
        return atomic_write(path, lambda stream: write_png(stream, pixels, text, threads=threads()))
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        for key, value in (text or {}).items():
            info.add_itxt(key, value)
        options.update(pnginfo=info, compress_level=1)
    else:
        options["quality"] = quality
    return atomic_write(path, lambda stream: image.save(stream, format=fmt, **options))


def read_text_chunks(path: str | Path) -> dict[str, str]:
    """The text chunks of an image (PNG iTXt/tEXt), checked like any image we open."""
    image = _open_checked(Path(path), max_megapixels())
    found = {k: v for k, v in image.info.items() if isinstance(v, str)}
    found.update({k: str(v) for k, v in getattr(image, "text", {}).items()})
    return found
