"""The feed-forward transformation network (Johnson, Alahi & Fei-Fei 2016), made lighter.

Differences from the paper's network, each for a measured reason (docs/fast-styles.md):

- instance normalisation (Ulyanov et al. 2017) instead of batch norm: stylisation is a
  per-image contrast operation;
- the first convolution is already strided and there are three down/up stages instead
  of two, so the residual blocks run at 1/8 resolution: 0.24 s instead of 1.5 s for a
  1024x768 photo on 2 cores (onnxruntime), with a larger receptive field for brush strokes;
- upsampling is nearest-neighbour resize followed by a convolution (Odena et al. 2016),
  never a transposed convolution, so there is no checkerboard pattern;
- reflection padding everywhere, so borders are not darkened.

The normalisation layers can *freeze* their statistics: :func:`frozen_statistics` records
each layer's mean and standard deviation over a whole image (tile by tile), so that a very
large photo can then be processed in tiles that all share the same, global statistics
and blend without visible seams.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from atelier.style.fast.geometry import NetworkShape, padded_side  # noqa: F401 (NetworkShape re-exported)


class InstanceNorm(nn.Module):
    """Affine instance normalisation whose statistics can be recorded and then frozen."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps
        self.mode = "normal"  # "normal", "record" or "frozen"
        self._sum = self._sq = self._count = None
        self.frozen: tuple[torch.Tensor, torch.Tensor] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "normal":
            return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)
        if self.mode == "record":
            # Sums over the tile, accumulated over all tiles: the image's global moments.
            count = x.shape[-1] * x.shape[-2]
            s, sq = x.sum(dim=(2, 3)), x.pow(2).sum(dim=(2, 3))
            self._sum = s if self._sum is None else self._sum + s
            self._sq = sq if self._sq is None else self._sq + sq
            self._count = count if self._count is None else self._count + count
            return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)
        assert self.frozen is not None
        mean, std = self.frozen
        return (x - mean[..., None, None]) / std[..., None, None] * self.weight[:, None, None] + self.bias[:, None, None]

    def freeze(self) -> None:
        mean = self._sum / self._count
        var = (self._sq / self._count - mean.pow(2)).clamp_min(0)
        self.frozen = (mean, (var + self.eps).sqrt())
        self._sum = self._sq = self._count = None


class ConvLayer(nn.Sequential):
    """[nearest upsample x2] -> reflection pad -> conv -> [instance norm] -> [ReLU]."""

    def __init__(
        self, cin: int, cout: int, kernel: int = 3, stride: int = 1, *, upsample: bool = False, norm: bool = True, relu: bool = True
    ) -> None:
        layers: list[nn.Module] = []
        if upsample:
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers += [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride)]
        if norm:
            layers.append(InstanceNorm(cout))
        if relu:
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvLayer(channels, channels), ConvLayer(channels, channels, relu=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class StyleNet(nn.Module):
    """Photo ``(N, 3, H, W)`` in [0, 1] -> stylised photo of the same size, in [0, 1].

    Any ``H, W`` works: inputs are edge-padded to a multiple of 8 (at least 16) and cropped back.
    """

    def __init__(self, shape: NetworkShape | None = None) -> None:
        super().__init__()
        self.shape = shape = shape or NetworkShape()
        a, b, c = shape.channels
        self.encoder = nn.Sequential(ConvLayer(3, a, 3, 2), ConvLayer(a, b, 3, 2), ConvLayer(b, c, 3, 2))
        self.residual = nn.Sequential(*[ResidualBlock(c) for _ in range(shape.residual_blocks)])
        self.decoder = nn.Sequential(
            ConvLayer(c, b, upsample=True),
            ConvLayer(b, a, upsample=True),
            ConvLayer(a, shape.last_channels, upsample=True),
            ConvLayer(shape.last_channels, 3, norm=False, relu=False),
        )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        h, w = image.shape[-2:]
        pad_h, pad_w = padded_side(h) - h, padded_side(w) - w
        x = F.pad(image, (0, pad_w, 0, pad_h), mode="replicate") if pad_h or pad_w else image
        return self.core(x)[..., :h, :w]

    def core(self, image: torch.Tensor) -> torch.Tensor:
        """The network proper, for sides that are multiples of :data:`MULTIPLE` (what ONNX exports)."""
        return torch.sigmoid(self.decoder(self.residual(self.encoder(image))))

    def norms(self) -> list[InstanceNorm]:
        return [m for m in self.modules() if isinstance(m, InstanceNorm)]


def _set_mode(net: StyleNet, mode: str) -> None:
    for norm in net.norms():
        norm.mode = mode


@contextlib.contextmanager
def frozen_statistics(net: StyleNet, tiles: Iterator[torch.Tensor]) -> Iterator[StyleNet]:
    """Record the normalisation statistics over ``tiles`` (all of one image), then freeze them.

    Inside the ``with`` block every forward pass normalises with the recorded, global
    statistics; on exit the network is back to ordinary instance normalisation.
    """
    try:
        _set_mode(net, "record")
        with torch.no_grad():
            for tile in tiles:
                net(tile)
        for norm in net.norms():
            norm.freeze()
        _set_mode(net, "frozen")
        yield net
    finally:
        _set_mode(net, "normal")
        for norm in net.norms():
            norm.frozen = None
            norm._sum = norm._sq = norm._count = None
