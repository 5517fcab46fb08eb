"""Deep Image Prior (Ulyanov, Vedaldi & Lempitsky 2018): restoration with no training data.

A randomly initialised encoder-decoder is fitted, from a fixed noise input, to the one damaged
picture. Its structure fits natural images long before it fits noise or fills holes with
nonsense, so stopping early gives a restored picture:

* inpainting: the loss sees only the known pixels; the network invents the holes;
* denoising: the loss sees the noisy picture; the result is an average of the outputs over
  the last steps (as in the paper), before the network starts to reproduce the noise;
* super-resolution: the network's output, reduced by the same bicubic filter, must match the
  small picture.

The input is jittered by a little noise every step (the paper's regulariser). This is the
slow, quality mode: a few minutes on a CPU for a 512 px picture at the default budget.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from atelier.errors import Cancelled
from atelier.events import Event, OnEvent

TASKS = ("inpaint", "denoise", "upscale")


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    # Reflection padding as in the paper: zero padding leaves dark seams at the borders.
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3, stride), nn.BatchNorm2d(cout), nn.LeakyReLU(0.2, inplace=True))


class SkipNet(nn.Module):
    """The paper's hourglass with skip connections: ``levels`` stride-2 stages down, bilinear
    up, a few skip channels at each level. Sides must divide by ``2**levels``."""

    def __init__(self, cin: int = 32, channels: int = 64, skip: int = 4, levels: int = 5, cout: int = 3) -> None:
        super().__init__()
        self.levels = levels
        self.down = nn.ModuleList()
        self.skips = nn.ModuleList()
        self.up = nn.ModuleList()
        c = cin
        for _ in range(levels):
            self.skips.append(nn.Sequential(nn.Conv2d(c, skip, 1), nn.BatchNorm2d(skip), nn.LeakyReLU(0.2, inplace=True)))
            self.down.append(nn.Sequential(_conv(c, channels, 2), _conv(channels, channels)))
            c = channels
        for _ in range(levels):
            self.up.append(
                nn.Sequential(
                    nn.BatchNorm2d(channels + skip),
                    _conv(channels + skip, channels),
                    nn.Conv2d(channels, channels, 1),
                    nn.BatchNorm2d(channels),
                    nn.LeakyReLU(0.2, inplace=True),
                )
            )
        self.out = nn.Conv2d(channels, cout, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        skips = []
        x = z
        for down, skip in zip(self.down, self.skips):
            skips.append(skip(x))
            x = down(x)
        for up, s in zip(self.up, reversed(skips)):
            x = F.interpolate(x, size=s.shape[-2:], mode="bilinear", align_corners=False)
            x = up(torch.cat([x, s], 1))
        return torch.sigmoid(self.out(x))


@dataclass
class DIPSettings:
    steps: int = 1500
    lr: float = 0.01
    channels: int = 48
    """Width of every level: 128 in the paper, 48 here for CPU speed (measured in docs/restore.md)."""
    input_jitter: float = 1 / 30
    """Std of the noise added to the fixed input each step (the paper's regulariser)."""
    average_last: float = 0.99
    """Denoising: weight of the running average of the outputs."""
    seed: int = 0
    preview_every: int = 100


def deep_image_prior(
    task: str,
    image: torch.Tensor,
    *,
    mask: torch.Tensor | None = None,
    scale: int = 1,
    settings: DIPSettings | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> torch.Tensor:
    """Restore ``image`` ``(1, 3, H, W)`` in [0, 1] by fitting a Deep Image Prior.

    ``task``: ``inpaint`` (``mask`` ``(1, 1, H, W)``, 1 = missing), ``denoise``, or ``upscale``
    (the result is ``scale`` times larger). Returns the restored ``(1, 3, H', W')`` image; for
    inpainting the known pixels are kept exactly.
    """
    if task not in TASKS:
        raise ValueError(f"unknown DIP task {task!r}")
    s = settings or DIPSettings()
    generator = torch.Generator().manual_seed(s.seed)
    torch.manual_seed(s.seed)
    out_h, out_w = image.shape[-2] * scale, image.shape[-1] * scale
    # Five levels as in the paper, fewer for small pictures (the deepest level keeps >= 4 px).
    levels = max(1, min(5, int(np.log2(min(out_h, out_w))) - 2))
    # The network's canvas: the output size, padded to a multiple of 2**levels.
    canvas_h, canvas_w = out_h + (-out_h) % 2**levels, out_w + (-out_w) % 2**levels
    net = SkipNet(channels=s.channels, levels=levels)
    z = torch.rand(1, 32, canvas_h, canvas_w, generator=generator) * 0.1
    known = None if mask is None else (1 - mask.clamp(0, 1))
    opt = torch.optim.Adam(net.parameters(), lr=s.lr)
    average: torch.Tensor | None = None
    for step in range(1, s.steps + 1):
        if cancel is not None and cancel.is_set():
            raise Cancelled("restoration cancelled")
        jitter = torch.randn(z.shape, generator=generator) * s.input_jitter * 0.1
        out = net(z + jitter)[..., :out_h, :out_w]
        if task == "inpaint":
            loss = (((out - image) * known) ** 2).sum() / (known.sum() * 3).clamp(min=1)
        elif task == "denoise":
            loss = F.mse_loss(out, image)
        else:
            small = F.interpolate(out, size=image.shape[-2:], mode="bicubic", antialias=True, align_corners=False)
            loss = F.mse_loss(small, image)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        detached = out.detach()
        average = detached if average is None else average * s.average_last + detached * (1 - s.average_last)
        if on_progress is not None:
            preview = step % s.preview_every == 0 or step == s.steps
            on_progress(
                Event(
                    step,
                    s.steps,
                    {"loss": loss.item()},
                    phase="deep image prior",
                    preview=_result(task, average if task == "denoise" else detached, image, known) if preview else None,
                )
            )
    with torch.no_grad():
        final = average if task == "denoise" else net(z)[..., :out_h, :out_w]
    return _result(task, final, image, known)


def _result(task: str, out: torch.Tensor, image: torch.Tensor, known: torch.Tensor | None) -> torch.Tensor:
    if task == "inpaint" and known is not None:
        return (image * known + out * (1 - known)).clamp(0, 1)
    return out.clamp(0, 1)


def numpy_dip(task: str, rgb: np.ndarray, **kwargs) -> np.ndarray:
    """:func:`deep_image_prior` for ``(H, W, 3)`` arrays (``mask``: ``(H, W)`` bool, True = missing)."""
    image = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)[None]
    if kwargs.get("mask") is not None:
        kwargs["mask"] = torch.from_numpy(np.asarray(kwargs["mask"], np.float32))[None, None]
    return deep_image_prior(task, image, **kwargs)[0].permute(1, 2, 0).numpy()
