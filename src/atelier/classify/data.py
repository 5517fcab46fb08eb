"""Labelled image folders: ``DIR/<class>/<image>``, checked, split and augmented for art."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from atelier.errors import ImageError, InputError
from atelier.io import find_images, load_image


@dataclass
class LabelledImage:
    path: Path
    label: int


@dataclass
class Dataset:
    classes: list[str]
    items: list[LabelledImage]
    skipped: list[str]
    """One message per file that could not be read."""

    def counts(self) -> list[int]:
        return [sum(item.label == i for item in self.items) for i in range(len(self.classes))]


def scan_folder(root: str | Path, classes: list[str] | None = None) -> Dataset:
    """Read a folder with one sub-folder per class; unreadable files are skipped and listed.

    With ``classes`` (a trained model's), sub-folders must be among them (for evaluation).
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder (expected one sub-folder per class)")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise InputError(f"{root}: no class sub-folders; put each class's images in DIR/<class name>/")
    names = [f.name for f in folders]
    if classes is None:
        if len(folders) < 2:
            raise InputError(f"{root}: only one class ({names[0]}); a classifier needs at least two")
        classes = names
    else:
        unknown = sorted(set(names) - set(classes))
        if unknown:
            raise InputError(f"{root}: classes {', '.join(unknown)} are not known to this model (it knows {', '.join(classes)})")
    items: list[LabelledImage] = []
    skipped: list[str] = []
    for folder in folders:
        label = classes.index(folder.name)
        files = find_images(folder)
        readable = 0
        for path in files:
            try:
                load_image(path, max_side=16)  # cheap full decode: catches truncated files
            except ImageError as error:
                skipped.append(str(error))
                continue
            items.append(LabelledImage(path, label))
            readable += 1
        if readable == 0:
            raise InputError(f"{folder}: no readable images in class '{folder.name}'")
    return Dataset(list(classes), items, skipped)


def split(dataset: Dataset, val_fraction: float, seed: int) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """Stratified split: each class gives ``val_fraction`` of its images (at least one if it has 2+)."""
    if not 0 <= val_fraction < 1:
        raise InputError(f"--val-split must be in [0, 1), got {val_fraction}")
    rng = random.Random(seed)
    train: list[LabelledImage] = []
    val: list[LabelledImage] = []
    for label in range(len(dataset.classes)):
        members = [item for item in dataset.items if item.label == label]
        rng.shuffle(members)
        n_val = 0 if val_fraction == 0 or len(members) < 2 else max(1, round(len(members) * val_fraction))
        val += members[:n_val]
        train += members[n_val:]
    return train, val


def center_view(image: torch.Tensor, size: int) -> torch.Tensor:
    """Resize the short side to ``size`` and crop the centre square."""
    h, w = image.shape[-2:]
    scale = size / min(h, w)
    nh, nw = max(size, round(h * scale)), max(size, round(w * scale))
    image = F.interpolate(image, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
    top, left = (nh - size) // 2, (nw - size) // 2
    return image[..., top : top + size, left : left + size].clamp(0, 1)


def augmented_view(image: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """A random view that keeps style cues: crop (35-100 % of the area), flip, mild colour jitter.

    No rotations, blur, grayscale or strong hue shifts: brushwork and palette are the signal.
    """
    h, w = image.shape[-2:]
    rand = lambda: float(torch.rand((), generator=generator))  # noqa: E731
    area = (0.35 + 0.65 * rand()) * h * w
    ratio = 0.75 + 0.58 * rand()
    ch = min(h, max(8, round((area / ratio) ** 0.5)))
    cw = min(w, max(8, round((area * ratio) ** 0.5)))
    top, left = int(rand() * (h - ch + 1)), int(rand() * (w - cw + 1))
    crop = image[..., top : top + ch, left : left + cw]
    crop = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    if rand() < 0.5:
        crop = crop.flip(-1)
    brightness, contrast, saturation = (1 + 0.2 * (rand() - 0.5) for _ in range(3))
    mean = crop.mean()
    crop = (crop - mean) * contrast + mean
    gray = crop.mean(dim=1, keepdim=True)
    crop = (crop - gray) * saturation + gray
    return (crop * brightness).clamp(0, 1)
