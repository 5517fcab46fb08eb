"""Training photos for style networks: folders of photos or scikit-image's, cut into random crops.

Crops are deterministic per (epoch, photo) so that training resumes exactly and several
processes (``torchrun``) cut the same crops one process would (see :mod:`atelier.distributed`).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from atelier.errors import ImageError, InputError
from atelier.io import find_images, load_source, resize_longest
from atelier.io.images import array_to_tensor
from atelier.io.sources import skimage_picture

#: Photos bundled with scikit-image used when no photo folder is given (``astronaut``, a
#: portrait, is held out to check generalisation).
SAMPLE_TRAINING_PHOTOS = ("chelsea", "coffee", "rocket", "camera", "brick", "grass", "gravel", "clock", "hubble_deep_field")


def random_crop(image: torch.Tensor, crop: int, rng: random.Random, max_zoom_out: float = 1.6) -> torch.Tensor:
    """A ``crop`` x ``crop`` patch of ``(1, 3, H, W)`` at a random scale and place, maybe flipped.

    The scale runs from "the crop just fits the short side" to ``max_zoom_out`` times less
    magnification (the photo seen from close-ups to nearly the whole frame), which gives a
    handful of photos the variety of many.
    """
    h, w = image.shape[-2:]
    smallest = crop / min(h, w)
    scale = smallest * (1.0 + rng.random() * max(0.0, max_zoom_out / smallest - 1.0)) if smallest < 1 else smallest
    th, tw = max(crop, round(h * scale)), max(crop, round(w * scale))
    scaled = F.interpolate(image, size=(th, tw), mode="bilinear", antialias=scale < 1, align_corners=False)
    top, left = rng.randint(0, th - crop), rng.randint(0, tw - crop)
    patch = scaled[..., top : top + crop, left : left + crop]
    if rng.random() < 0.5:
        patch = patch.flip(-1)
    return patch.clamp(0, 1)


class PhotoCrops:
    """Random crops of a few photos, the same for the same ``(epoch, index)`` on any process."""

    def __init__(self, photos: Sequence[torch.Tensor], crop: int, seed: int) -> None:
        self.photos, self.crop, self.seed = list(photos), crop, seed

    def __len__(self) -> int:
        return len(self.photos)

    def get(self, index: int, epoch: int) -> torch.Tensor:
        rng = random.Random(f"{self.seed}:{epoch}:{index}")
        return random_crop(self.photos[index], self.crop, rng)

    def batch(self, indices: Sequence[int], epoch: int) -> torch.Tensor:
        return torch.cat([self.get(i, epoch) for i in indices])


def load_training_photos(content_dir: str | Path | None, max_side: int = 1024) -> tuple[list[torch.Tensor], list[str], list[str]]:
    """The training photos (``(1, 3, H, W)`` each), their names, and the unreadable files skipped."""
    if content_dir is None:
        photos = [resize_longest(array_to_tensor(skimage_picture(name)), max_side) for name in SAMPLE_TRAINING_PHOTOS]
        return photos, list(SAMPLE_TRAINING_PHOTOS), []
    root = Path(content_dir)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder of photos")
    photos, names, skipped = [], [], []
    for path in find_images(root):
        try:
            photos.append(load_source(path, max_side=max_side).rgb)
            names.append(str(path.relative_to(root)))
        except ImageError as error:
            skipped.append(str(error))
    if not photos:
        raise InputError(f"{root}: no readable photos found (searched sub-folders too; {len(skipped)} unreadable)")
    return photos, names, skipped
