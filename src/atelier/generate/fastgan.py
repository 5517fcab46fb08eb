"""Few-shot GAN networks after FastGAN (Liu, Zhu, Song & Elgammal 2021, "Towards Faster and
Stabilized GAN Training for High-fidelity Few-shot Image Synthesis"), sized for a CPU.

* The generator's upsampling blocks use gated linear units (GLU) and **skip-layer
  excitation** (SLE): the 4x4 and 8x8 features gate the channels of the 32x32 and 64x64
  ones (every level ``r`` gates level ``8r``), so the coarse layout reaches the fine layers
  in one hop and the gradients reach the coarse layers in one hop back.
* The discriminator is a **self-supervised auto-encoder** on real images: two small
  decoders rebuild the (augmented) real image from its 8x8 features and a random quadrant
  of it from its 16x16 features. It must keep what describes the picture, not only what
  tells real from fake, which is what keeps a discriminator from overfitting 100 images.

Channel widths follow ``width`` and are much narrower than the paper's (made for a GPU);
see docs/generate.md for the measurements that set them.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm


def _channels(width: int, size: int, resolution: int) -> int:
    """Channels at ``resolution``: ``width`` at the output size, doubling per halving, capped at 8x."""
    return min(width * 8, width * size // resolution)


class SkipExcitation(nn.Module):
    """SLE: a coarse feature map becomes a per-channel gate in (0, 1) for a fine one."""

    def __init__(self, coarse_channels: int, fine_channels: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(4),
            nn.Conv2d(coarse_channels, fine_channels, 4, bias=False),
            nn.LeakyReLU(0.1),
            nn.Conv2d(fine_channels, fine_channels, 1, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, fine: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
        return fine * self.gate(coarse)


def _up_block(c_in: int, c_out: int, convs: int) -> nn.Sequential:
    """Nearest-neighbour x2 (no checkerboard), then ``convs`` x (3x3 convolution, batch norm, GLU)."""
    layers: list[nn.Module] = [nn.Upsample(scale_factor=2, mode="nearest")]
    for i in range(convs):
        layers += [nn.Conv2d(c_in if i == 0 else c_out, c_out * 2, 3, padding=1, bias=False), nn.BatchNorm2d(c_out * 2), nn.GLU(dim=1)]
    return nn.Sequential(*layers)


class FastGenerator(nn.Module):
    """``(N, z_dim)`` latents -> ``(N, 3, size, size)`` images in [-1, 1]."""

    def __init__(self, size: int = 64, z_dim: int = 128, width: int = 32) -> None:
        super().__init__()
        self.size, self.z_dim = size, z_dim
        self.resolutions = [4 * 2**i for i in range(int(math.log2(size // 4)) + 1)]  # 4, 8, ..., size
        ch = {r: _channels(width, size, r) for r in self.resolutions}
        self.project = nn.Sequential(
            nn.Linear(z_dim, ch[4] * 2 * 16, bias=False), nn.Unflatten(1, (ch[4] * 2, 4, 4)), nn.BatchNorm2d(ch[4] * 2), nn.GLU(dim=1)
        )
        # Two convolutions per block where they are cheap (up to 16x16), one above.
        self.ups = nn.ModuleList(_up_block(ch[r // 2], ch[r], 2 if r <= 16 else 1) for r in self.resolutions[1:])
        self.excite = nn.ModuleDict({str(r): SkipExcitation(ch[r // 8], ch[r]) for r in self.resolutions if r // 8 >= 4})
        self.to_rgb = nn.Conv2d(ch[size], 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        features = {4: self.project(z)}
        x = features[4]
        for r, up in zip(self.resolutions[1:], self.ups):
            x = up(x)
            if str(r) in self.excite:
                x = self.excite[str(r)](x, features[r // 8])
            features[r] = x
        return torch.tanh(self.to_rgb(x))


class _Down(nn.Module):
    """Halve the resolution: a strided 4x4 convolution + 3x3 convolution, averaged with an
    average-pooled 1x1 shortcut (FastGAN's DownBlockComp, spectral norm instead of batch norm:
    real and fake images share one forward pass here, so batch statistics would mix them)."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            spectral_norm(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)),
            nn.LeakyReLU(0.2),
            spectral_norm(nn.Conv2d(c_out, c_out, 3, padding=1)),
            nn.LeakyReLU(0.2),
        )
        self.shortcut = nn.Sequential(nn.AvgPool2d(2), spectral_norm(nn.Conv2d(c_in, c_out, 1)), nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.shortcut(x)) / 2


class _Decoder(nn.Sequential):
    """8x8 features -> a 32x32 picture in [-1, 1] (the discriminator's self-supervision)."""

    def __init__(self, c_in: int, width: int) -> None:
        c1, c2 = max(width, 16) * 2, max(width, 16)
        super().__init__(
            _up_block(c_in, c1, 1),
            _up_block(c1, c2, 1),
            nn.Conv2d(c2, 3, 3, padding=1),
            nn.Tanh(),
        )


#: Side of the pictures the discriminator's decoders rebuild.
RECONSTRUCTION_SIDE = 32


def quadrant_of(x: torch.Tensor, quadrant: int) -> torch.Tensor:
    """Quadrant 0-3 (top-left, top-right, bottom-left, bottom-right) of ``(N, C, H, W)``."""
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    top, left = (quadrant // 2) * h, (quadrant % 2) * w
    return x[..., top : top + h, left : left + w]


def _resized(x: torch.Tensor, side: int) -> torch.Tensor:
    return x if x.shape[-1] == side else F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False, antialias=True)


class FastDiscriminator(nn.Module):
    """Real/fake logits, and on request the reconstruction loss on the first ``n`` images.

    ``D(x)`` -> ``(N,)`` logits. ``D(x, reconstruct=n, quadrant=q)`` -> ``(logits, loss)``,
    ``loss`` the mean L1 error of rebuilding ``x[:n]`` (at 32x32) from its 8x8 features and
    its quadrant ``q`` from the matching quadrant of its 16x16 features.
    """

    reconstructs = True

    def __init__(self, size: int = 64, width: int = 32) -> None:
        super().__init__()
        self.size = size
        resolutions = [size // 2**i for i in range(int(math.log2(size // 4)) + 1)]  # size, ..., 4
        ch = {r: _channels(width, size, r) for r in resolutions}
        self.stem = nn.Sequential(spectral_norm(nn.Conv2d(3, ch[size], 3, padding=1)), nn.LeakyReLU(0.2))
        self.downs = nn.ModuleList(_Down(ch[r], ch[r // 2]) for r in resolutions[:-1])
        self.resolutions = resolutions[1:]  # after each down block
        self.head = nn.Sequential(spectral_norm(nn.Conv2d(ch[4], ch[4], 1)), nn.LeakyReLU(0.2), spectral_norm(nn.Conv2d(ch[4], 1, 4)))
        self.decode_whole = _Decoder(ch[8], width)
        self.decode_part = _Decoder(ch[16], width) if 16 in ch else None

    def forward(self, x: torch.Tensor, reconstruct: int = 0, quadrant: int = 0):
        features = {}
        h = self.stem(x)
        for r, down in zip(self.resolutions, self.downs):
            h = down(h)
            features[r] = h
        logits = self.head(h).flatten()
        if not reconstruct:
            return logits
        real = x[:reconstruct]
        loss = (self.decode_whole(features[8][:reconstruct]) - _resized(real, RECONSTRUCTION_SIDE)).abs().mean()
        if self.decode_part is not None:
            part = self.decode_part(quadrant_of(features[16][:reconstruct], quadrant))
            loss = loss + (part - _resized(quadrant_of(real, quadrant), RECONSTRUCTION_SIDE)).abs().mean()
        return logits, loss
