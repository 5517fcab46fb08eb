"""Image input and output (see :mod:`atelier.io.images`)."""

from atelier.io.images import (
    DEFAULT_MAX_MEGAPIXELS,
    LoadedImage,
    check_output_path,
    fit_size,
    load_image,
    pil_to_tensor,
    read_recipe,
    resize_longest,
    resize_to,
    save_image,
    tensor_to_pil,
)

__all__ = [
    "DEFAULT_MAX_MEGAPIXELS",
    "LoadedImage",
    "check_output_path",
    "fit_size",
    "load_image",
    "pil_to_tensor",
    "read_recipe",
    "resize_longest",
    "resize_to",
    "save_image",
    "tensor_to_pil",
]

from atelier.io.sources import SAMPLES, is_sample, load_source, source_sha256  # noqa: E402

__all__ += ["SAMPLES", "is_sample", "load_source", "source_sha256"]
