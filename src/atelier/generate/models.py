"""DCGAN-family networks (Radford et al. 2016) with the fixes that make small data work:
resize-convolution upsampling (no checkerboard), spectral normalisation in the
discriminator (Miyato et al. 2018), and an exponential moving average of the generator."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn.utils import spectral_norm


class Generator(nn.Module):
    def __init__(self, size: int = 64, z_dim: int = 128, width: int = 64) -> None:
        super().__init__()
        self.size, self.z_dim = size, z_dim
        blocks = int(math.log2(size // 4))
        channels = [min(width * 8, width * 2 ** (blocks - i)) for i in range(blocks + 1)]
        self.project = nn.Sequential(
            nn.Linear(z_dim, channels[0] * 16), nn.Unflatten(1, (channels[0], 4, 4)), nn.BatchNorm2d(channels[0]), nn.ReLU(True)
        )
        layers: list[nn.Module] = []
        for c_in, c_out in zip(channels, channels[1:]):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(True),
            ]
        layers += [nn.Conv2d(channels[-1], 3, 3, padding=1), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """``(N, z_dim)`` -> images in [-1, 1], ``(N, 3, size, size)``."""
        return self.body(self.project(z))


class Discriminator(nn.Module):
    def __init__(self, size: int = 64, width: int = 64) -> None:
        super().__init__()
        blocks = int(math.log2(size // 4))
        layers: list[nn.Module] = []
        c_in = 3
        for i in range(blocks):
            c_out = min(width * 8, width * 2**i)
            layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, True)]
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.head = spectral_norm(nn.Linear(c_in * 16, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).flatten(1)).squeeze(1)


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """Generator outputs in [-1, 1] to images in [0, 1]."""
    return (images.clamp(-1, 1) + 1) / 2


class EMA:
    """Exponential moving average of a model's weights, used for sampling.

    The decay ramps up as ``min(decay, 1 - ramp / (step + ramp + 1))``: a weighted average
    over roughly the last ``1 / (ramp + 1)`` of the steps so far (in the manner of the
    power-function EMA of Karras et al. 2024, EDM2), capped at ``decay``. Short runs are not
    dominated by the random initial weights, and a 20-minute run samples an average of about
    its last hundred steps rather than of its last tenth, where its generator was still much
    worse. ``ramp = 30`` against the earlier 9 was measured on the 64 px bar (docs/generate.md).
    """

    def __init__(self, model: nn.Module, decay: float = 0.999, ramp: float = 30.0) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay, self.ramp = decay, ramp

    def decay_at(self, step: int) -> float:
        return min(self.decay, 1 - self.ramp / (step + self.ramp + 1))

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        decay = self.decay_at(step)
        for ema_p, p in zip(self.model.parameters(), model.parameters()):
            ema_p.lerp_(p.detach(), 1 - decay)
        for ema_b, b in zip(self.model.buffers(), model.buffers()):
            ema_b.copy_(b)


def calibrate_batch_norm(
    generator: nn.Module, samples: int = 512, *, batch: int = 64, seed: int = 0, dtype: torch.dtype | None = None
) -> nn.Module:
    """Measure ``generator``'s batch-norm statistics on ``samples`` of its own outputs, in
    place, and leave it in eval mode ("standing statistics", Brock et al. 2019, BigGAN).

    A moving average of the weights does not go with the running statistics of the generator
    it averages (those follow the latest weights, over the last ten or so steps): sampling the
    average with them normalises every layer slightly wrongly. Measured on the 64 px bar
    (docs/generate.md). Latents come from their own seeded generator (the global RNG is not
    touched); ``dtype`` computes under autocast (e.g. bfloat16, as training does)."""
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return generator.eval()
    device = next(generator.parameters()).device
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a plain average over all the batches below
    rng = torch.Generator().manual_seed(seed)
    generator.train()
    try:
        with torch.no_grad(), torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            for start in range(0, samples, batch):
                generator(torch.randn(min(batch, samples - start), generator.z_dim, generator=rng).to(device))
    finally:
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        generator.eval()
    return generator


def truncated_noise(n: int, z_dim: int, truncation: float | None, generator: torch.Generator) -> torch.Tensor:
    """Gaussian latents; with ``truncation`` t, values with ``|z| > t`` are redrawn (the truncation trick)."""
    z = torch.randn(n, z_dim, generator=generator)
    if truncation is not None:
        if truncation <= 0:
            raise ValueError("truncation must be positive")
        for _ in range(100):
            outside = z.abs() > truncation
            if not outside.any():
                break
            z[outside] = torch.randn(int(outside.sum()), generator=generator)
        z = z.clamp(-truncation, truncation)
    return z
