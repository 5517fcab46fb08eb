"""Differentiable augmentation (Zhao et al. 2020, "Differentiable Augmentation for
Data-Efficient GAN Training"): colour, translation and cutout, applied to real and fake
images alike, inside the graph so the generator's gradients flow through them.

Images are in [-1, 1]. Every function draws its randomness from ``generator`` so that a
test can check that real and fake batches get the same treatment.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _rand(n: int, generator: torch.Generator | None, device) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, generator=generator).to(device)


def color(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    n = x.shape[0]
    x = x + (_rand(n, generator, x.device) - 0.5)  # brightness
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, generator, x.device) * 2) + mean  # saturation
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, generator, x.device) + 0.5) + mean  # contrast


def translation(x: torch.Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift by up to ``ratio`` of the size, filling with zeros (done as a padded gather)."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), generator=generator).to(x.device)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=generator).to(x.device)
    grid_b, grid_y, grid_x = torch.meshgrid(
        torch.arange(n, device=x.device), torch.arange(h, device=x.device), torch.arange(w, device=x.device), indexing="ij"
    )
    grid_y = (grid_y + dy + 1).clamp(0, h + 1)
    grid_x = (grid_x + dx + 1).clamp(0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1])
    return padded.permute(0, 2, 3, 1)[grid_b, grid_y, grid_x].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero a random square of ``ratio`` times the size in each image."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=generator).to(x.device)
    cx = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=generator).to(x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    inside = ((ys - cy).abs() <= ch // 2) & ((xs - cx).abs() <= cw // 2)
    return x * (~inside).unsqueeze(1).to(x.dtype)


def diff_augment(x: torch.Tensor, policy: str = "color,translation,cutout", generator: torch.Generator | None = None) -> torch.Tensor:
    """Apply the policy's augmentations in order (empty policy: unchanged)."""
    for name in filter(None, policy.split(",")):
        if name == "color":
            x = color(x, generator)
        elif name == "translation":
            x = translation(x, generator=generator)
        elif name == "cutout":
            x = cutout(x, generator=generator)
        else:
            raise ValueError(f"unknown augmentation {name!r}")
    return x
