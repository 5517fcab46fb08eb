"""The arbitrary-style network: a fixed random encoder, feature transforms, a trained decoder.

Why this shape (measured side by side, docs/arbitrary-style.md):

* **Encoder: a VGG-shaped network with fixed random weights**, started by a strided
  convolution so that nothing runs at full resolution. Random VGG features carry texture
  statistics well (Ustyuzhaninov et al. 2017: the optimisation engine's style loss uses
  them); ImageNet EfficientNet features, tried first, carried colour but little texture
  through the same transforms. Its four levels (1/2, 1/4, 1/8, 1/16 of the photo) see
  marks from a few pixels to whole-picture patterns.
* **Transforms, not a learned style code**: every level of the photo's features gets the
  painting's mean and covariance (WCT, Li et al. 2017), so any painting works without the
  network having seen it, and several paintings blend by their statistics.
* **Decoder: trained to reconstruct photos from their features** (Avatar-Net's recipe:
  no style dataset needed), then fine-tuned with style losses so that it renders
  transformed features as paint rather than as a tinted photo. Skip connections bring
  every level in; upsampling is nearest-neighbour + convolution (no checkerboard), and the
  last step is a sub-pixel convolution, so no convolution runs at full resolution.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from atelier.style.arbitrary.transforms import adain_torch, wct_torch


@dataclass(frozen=True)
class Shape:
    """Channel widths of the four levels, the random encoder's seed, the decoder's widths."""

    widths: tuple[int, int, int, int] = (32, 64, 128, 256)
    decoder: tuple[int, int, int, int] = (32, 64, 128, 256)
    seed: int = 0

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> Shape:
        return cls(tuple(data["widths"]), tuple(data["decoder"]), int(data["seed"]))

    @property
    def multiple(self) -> int:
        """Image sides the network takes are multiples of this (the 1/16 level, then one more
        halving's worth so that reflection padding has room)."""
        return 32


def _pad(x: torch.Tensor) -> torch.Tensor:
    return F.pad(x, (1, 1, 1, 1), mode="reflect")


class RandomEncoder(nn.Module):
    """Strided first convolution, then four stages of two 3x3 convolutions with ReLU, average
    pooling between stages; fixed Kaiming-random weights from ``seed`` (stored in model files
    all the same, so that a model never depends on a random generator's version)."""

    def __init__(self, widths: tuple[int, ...], seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.first = nn.Conv2d(3, widths[0], 3, 2)
        stages, cin = [], widths[0]
        for w in widths:
            stages.append(nn.ModuleList([nn.Conv2d(cin, w, 3), nn.Conv2d(w, w, 3)]))
            cin = w
        self.stages = nn.ModuleList(stages)
        with torch.no_grad():
            for conv in [self.first, *(c for stage in self.stages for c in stage)]:
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * (2.0 / (conv.in_channels * 9)) ** 0.5)
                conv.bias.zero_()
        self.requires_grad_(False)
        self.register_buffer("mean", torch.tensor([0.45]), persistent=False)
        self.register_buffer("std", torch.tensor([0.25]), persistent=False)

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu(self.first(_pad((image - self.mean) / self.std)))
        features = []
        for index, (a, b) in enumerate(self.stages):
            if index:
                x = F.avg_pool2d(x, 2)
            x = F.relu(b(_pad(F.relu(a(_pad(x))))))
            features.append(x)
        return features


class Up(nn.Module):
    """Nearest-neighbour x2, reflection pad, 3x3 convolution, ReLU (exported as a sub-pixel convolution)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv(_pad(F.interpolate(x, scale_factor=2, mode="nearest"))))


class Decoder(nn.Module):
    """Features of the four levels (deepest last) -> picture ``(N, 3, H, W)`` in [0, 1]."""

    def __init__(self, widths: tuple[int, ...], channels: tuple[int, ...]) -> None:
        super().__init__()
        c1, c2, c3, c4 = widths
        d1, d2, d3, d4 = channels
        self.head = nn.Conv2d(c4, d4, 3)
        self.up3 = Up(d4, d3)
        self.mix3 = nn.Conv2d(d3 + c3, d3, 3)
        self.up2 = Up(d3, d2)
        self.mix2 = nn.Conv2d(d2 + c2, d2, 3)
        self.up1 = Up(d2, d1)
        self.mix1 = nn.Conv2d(d1 + c1, d1, 3)
        # The last doubling is a sub-pixel convolution: 12 channels at 1/2 resolution, shuffled
        # into 3 at full resolution, so no convolution runs on full-resolution tensors.
        self.out = nn.Conv2d(d1, 12, 3)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        f1, f2, f3, f4 = features
        x = F.relu(self.head(_pad(f4)))
        x = F.relu(self.mix3(_pad(torch.cat([self.up3(x), f3], 1))))
        x = F.relu(self.mix2(_pad(torch.cat([self.up2(x), f2], 1))))
        x = F.relu(self.mix1(_pad(torch.cat([self.up1(x), f1], 1))))
        return torch.sigmoid(self.shuffle(self.out(_pad(x))))


TRANSFORMS = {"wct": wct_torch, "adain": adain_torch}


class ArbitraryStyleNet(nn.Module):
    """Encoder, per-level transforms and decoder. ``forward(photo)`` reconstructs the photo;
    ``forward(photo, painting)`` paints it (``strength`` blends every level, 0 = the photo)."""

    def __init__(self, shape: Shape | None = None, transforms: tuple[str, ...] = ("wct", "wct", "wct", "wct")) -> None:
        super().__init__()
        self.shape = shape = shape or Shape()
        self.transforms = transforms
        self.encoder = RandomEncoder(shape.widths, shape.seed)
        self.decoder = Decoder(shape.widths, shape.decoder)

    def stylize_features(self, content: list[torch.Tensor], style: list[torch.Tensor], strength: float = 1.0) -> list[torch.Tensor]:
        return [strength * TRANSFORMS[kind](c, s) + (1 - strength) * c for kind, c, s in zip(self.transforms, content, style)]

    def forward(self, photo: torch.Tensor, painting: torch.Tensor | None = None, strength: float = 1.0) -> torch.Tensor:
        features = self.encoder(photo)
        if painting is not None:
            features = self.stylize_features(features, self.encoder(painting), strength)
        return self.decoder(features)
