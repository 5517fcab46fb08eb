"""Training data for GANs: any folder of images, or the CIFAR-10 "python version" archive."""

from __future__ import annotations

import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from atelier.errors import ImageError, InputError
from atelier.io import find_images, load_image

SIZES = (32, 64, 128)


@dataclass
class ImageSet:
    images: torch.Tensor
    """``(N, 3, S, S)`` uint8."""
    skipped: list[str]


def square(image: torch.Tensor, size: int) -> torch.Tensor:
    """Centre-crop to a square and resize to ``size`` (float ``(1, 3, S, S)`` in [0, 1])."""
    h, w = image.shape[-2:]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[..., top : top + side, left : left + side]
    return F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


def _to_uint8(images: torch.Tensor) -> torch.Tensor:
    return (images * 255 + 0.5).clamp(0, 255).to(torch.uint8)


def load_folder(root: Path, size: int) -> ImageSet:
    files = find_images(root)
    images, skipped = [], []
    for path in files:
        try:
            images.append(_to_uint8(square(load_image(path, max_side=max(size * 2, 256)).rgb, size)))
        except ImageError as error:
            skipped.append(str(error))
    if not images:
        raise InputError(f"{root}: no readable images found (searched sub-folders too; {len(skipped)} unreadable)")
    return ImageSet(torch.cat(images), skipped)


def _cifar_batches(path: Path):
    """Yield the unpickled batch dicts of a CIFAR-10 python archive (.tar.gz) or its folder."""
    if path.is_dir():
        members = sorted(p for p in path.rglob("*") if p.name.startswith(("data_batch", "test_batch")))
        for member in members:
            with open(member, "rb") as handle:
                yield pickle.load(handle, encoding="bytes")
        return
    with tarfile.open(path, "r:*") as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            if Path(member.name).name.startswith(("data_batch", "test_batch")) and member.isfile():
                yield pickle.load(archive.extractfile(member), encoding="bytes")


def is_cifar(path: Path) -> bool:
    if path.is_file():
        return path.name.endswith((".tar.gz", ".tgz", ".tar"))
    return any(p.name.startswith("data_batch") for p in path.rglob("data_batch*"))


def load_cifar(path: Path, size: int) -> ImageSet:
    """Images of a CIFAR-10 python archive: rows of 3072 bytes (1024 R, 1024 G, 1024 B, 32x32)."""
    arrays = []
    try:
        for batch in _cifar_batches(path):
            arrays.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
    except (tarfile.TarError, pickle.UnpicklingError, KeyError, EOFError, ValueError) as error:
        raise InputError(f"{path}: not a CIFAR-10 python archive ({type(error).__name__}: {error})") from None
    if not arrays:
        raise InputError(f"{path}: no data_batch files in this CIFAR archive")
    images = torch.from_numpy(np.concatenate(arrays))
    if size != 32:
        images = _to_uint8(F.interpolate(images.float() / 255, size=(size, size), mode="bilinear", align_corners=False))
    return ImageSet(images, [])


def load_dataset(path: str | Path, size: int) -> ImageSet:
    """A folder of images (recursive, mixed formats/sizes) or a CIFAR-10 python archive."""
    if size not in SIZES:
        raise InputError(f"--size must be one of {', '.join(map(str, SIZES))}, got {size}")
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: not found")
    if is_cifar(path):
        return load_cifar(path, size)
    if not path.is_dir():
        raise InputError(f"{path}: give a folder of images or a CIFAR-10 python archive (.tar.gz)")
    return load_folder(path, size)
