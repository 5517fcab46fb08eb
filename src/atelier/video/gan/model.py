"""A two-stream video generator and a spatio-temporal discriminator (Vondrick et al. 2016,
"Generating Videos with Scene Dynamics"), with the small-data fixes of the image GAN.

The generator paints a still background (2D convolutions) and a moving foreground with a
mask (3D convolutions over time and space): ``video = mask * foreground + (1 - mask) *
background``. A static background is easy to keep coherent; motion lives where the mask is.
Upsampling is nearest-neighbour then convolution (no checkerboard); the discriminator uses
3D convolutions with spectral normalisation.

Clips are ``(N, 3, T, H, W)`` in [-1, 1].
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import spectral_norm


def _up3d(c_in: int, c_out: int, time: bool) -> list[nn.Module]:
    return [
        nn.Upsample(scale_factor=(2 if time else 1, 2, 2), mode="nearest"),
        nn.Conv3d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm3d(c_out),
        nn.ReLU(True),
    ]


class VideoGenerator(nn.Module):
    def __init__(self, size: int = 32, frames: int = 16, z_dim: int = 100, width: int = 32) -> None:
        super().__init__()
        self.size, self.frames, self.z_dim = size, frames, z_dim
        blocks = int(math.log2(size // 4))  # 4 -> size
        t0 = max(1, frames // 2**blocks)
        channels = [width * 2 ** (blocks - i) for i in range(blocks + 1)]
        self.t0 = t0
        # Foreground: (C, t0, 4, 4) grown to (frames, size, size); time doubles until it reaches ``frames``.
        self.project = nn.Sequential(nn.Linear(z_dim, channels[0] * t0 * 16), nn.Unflatten(1, (channels[0], t0, 4, 4)))
        layers: list[nn.Module] = [nn.BatchNorm3d(channels[0]), nn.ReLU(True)]
        t = t0
        for c_in, c_out in zip(channels, channels[1:]):
            grow = t < frames
            layers += _up3d(c_in, c_out, grow)
            t *= 2 if grow else 1
        while t < frames:  # more frames than spatial blocks: grow time alone
            layers += [nn.Upsample(scale_factor=(2, 1, 1), mode="nearest"), nn.Conv3d(channels[-1], channels[-1], 3, padding=1, bias=False),
                       nn.BatchNorm3d(channels[-1]), nn.ReLU(True)]  # fmt: skip
            t *= 2
        self.foreground = nn.Sequential(*layers)
        self.to_rgb = nn.Conv3d(channels[-1], 3, 3, padding=1)
        self.to_mask = nn.Conv3d(channels[-1], 1, 3, padding=1)
        # Background: one still picture.
        still: list[nn.Module] = [
            nn.Linear(z_dim, channels[0] * 16),
            nn.Unflatten(1, (channels[0], 4, 4)),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(True),
        ]
        for c_in, c_out in zip(channels, channels[1:]):
            still += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        still += [nn.Conv2d(channels[-1], 3, 3, padding=1), nn.Tanh()]
        self.background = nn.Sequential(*still)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``(N, z_dim)`` -> clips in [-1, 1], ``(N, 3, frames, size, size)``."""
        h = self.foreground(self.project(z))
        fg, mask = torch.tanh(self.to_rgb(h)), torch.sigmoid(self.to_mask(h))
        bg = self.background(z).unsqueeze(2)  # the same picture at every time step
        return mask * fg + (1 - mask) * bg


class VideoDiscriminator(nn.Module):
    def __init__(self, size: int = 32, frames: int = 16, width: int = 32) -> None:
        super().__init__()
        blocks = int(math.log2(size // 4))
        layers: list[nn.Module] = []
        c_in, t = 3, frames
        for i in range(blocks):
            c_out = width * 2**i
            stride_t = 2 if t > 1 else 1
            layers += [spectral_norm(nn.Conv3d(c_in, c_out, 4, stride=(stride_t, 2, 2), padding=1)), nn.LeakyReLU(0.2, True)]
            c_in, t = c_out, max(1, t // stride_t)
        self.body = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Linear(c_in * t * 16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)
