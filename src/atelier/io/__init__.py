"""Image input and output (see :mod:`atelier.io.images`)."""

from atelier.io.images import (
    DEFAULT_MAX_MEGAPIXELS,
    IMAGE_SUFFIXES,
    LoadedImage,
    as_float,
    check_output_path,
    find_images,
    fit_size,
    load_image,
    pil_to_tensor,
    read_image,
    read_text_chunks,
    resize_array,
    resize_longest,
    resize_sized,
    resize_to,
    resize_uint8,
    save_image,
    tensor_to_pil,
    to_uint8,
    write_image,
)

__all__ = [
    "DEFAULT_MAX_MEGAPIXELS",
    "IMAGE_SUFFIXES",
    "LoadedImage",
    "check_output_path",
    "find_images",
    "fit_size",
    "load_image",
    "pil_to_tensor",
    "read_image",
    "read_text_chunks",
    "resize_array",
    "resize_uint8",
    "resize_longest",
    "resize_sized",
    "resize_to",
    "save_image",
    "tensor_to_pil",
    "to_uint8",
    "as_float",
    "write_image",
]

from atelier.io.sources import SAMPLES, is_sample, load_source, read_source, source_sha256  # noqa: E402

__all__ += ["SAMPLES", "is_sample", "load_source", "read_source", "source_sha256"]
from atelier.io.paths import check_new_file, check_not_an_input, file_sha256, is_same_file  # noqa: E402

__all__ += ["check_new_file", "check_not_an_input", "file_sha256", "is_same_file"]
