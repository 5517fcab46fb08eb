"""Inception-v3 pool features for the standard FID (Heusel et al. 2017), when the user has the weights.

The network is the FID variant of Inception-v3 that pytorch-fid ports from TensorFlow
(average pools that ignore padding, a max pool in the last block), with the
torchvision key layout. Load ``pt_inception-2015-12-05-6726825d.pth`` (pytorch-fid's
release) to get FIDs comparable with published ones; nothing is downloaded here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from atelier.errors import InputError

FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
FID_WEIGHTS_URL = f"https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/{FID_WEIGHTS_NAME}"


class _Conv(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel, stride: int = 1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg(x: torch.Tensor) -> torch.Tensor:
    return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


class _A(nn.Module):
    def __init__(self, c: int, pool: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(c, 64, 1)
        self.branch5x5_1, self.branch5x5_2 = _Conv(c, 48, 1), _Conv(48, 64, 5, padding=2)
        self.branch3x3dbl_1, self.branch3x3dbl_2, self.branch3x3dbl_3 = (
            _Conv(c, 64, 1),
            _Conv(64, 96, 3, padding=1),
            _Conv(96, 96, 3, padding=1),
        )
        self.branch_pool = _Conv(c, pool, 1)

    def forward(self, x):
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg(x)),
            ],
            1,
        )


class _B(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.branch3x3 = _Conv(c, 384, 3, stride=2)
        self.branch3x3dbl_1, self.branch3x3dbl_2, self.branch3x3dbl_3 = (
            _Conv(c, 64, 1),
            _Conv(64, 96, 3, padding=1),
            _Conv(96, 96, 3, stride=2),
        )

    def forward(self, x):
        return torch.cat([self.branch3x3(x), self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))), F.max_pool2d(x, 3, 2)], 1)


class _C(nn.Module):
    def __init__(self, c: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _Conv(c, 192, 1)
        self.branch7x7_1, self.branch7x7_2, self.branch7x7_3 = (
            _Conv(c, c7, 1),
            _Conv(c7, c7, (1, 7), padding=(0, 3)),
            _Conv(c7, 192, (7, 1), padding=(3, 0)),
        )
        self.branch7x7dbl_1 = _Conv(c, c7, 1)
        self.branch7x7dbl_2 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _Conv(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _Conv(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _Conv(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _Conv(c, 192, 1)

    def forward(self, x):
        dbl = x
        for layer in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            dbl = layer(dbl)
        return torch.cat([self.branch1x1(x), self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x))), dbl, self.branch_pool(_avg(x))], 1)


class _D(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.branch3x3_1, self.branch3x3_2 = _Conv(c, 192, 1), _Conv(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _Conv(c, 192, 1)
        self.branch7x7x3_2 = _Conv(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _Conv(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _Conv(192, 192, 3, stride=2)

    def forward(self, x):
        seven = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), seven, F.max_pool2d(x, 3, 2)], 1)


class _E(nn.Module):
    def __init__(self, c: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool  # the last block of the TensorFlow graph pools by max (pytorch-fid)
        self.branch1x1 = _Conv(c, 320, 1)
        self.branch3x3_1 = _Conv(c, 384, 1)
        self.branch3x3_2a, self.branch3x3_2b = _Conv(384, 384, (1, 3), padding=(0, 1)), _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1, self.branch3x3dbl_2 = _Conv(c, 448, 1), _Conv(448, 384, 3, padding=1)
        self.branch3x3dbl_3a, self.branch3x3dbl_3b = _Conv(384, 384, (1, 3), padding=(0, 1)), _Conv(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _Conv(c, 192, 1)

    def forward(self, x):
        a = self.branch3x3_1(x)
        b = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, 1, 1) if self.max_pool else _avg(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(a),
                self.branch3x3_2b(a),
                self.branch3x3dbl_3a(b),
                self.branch3x3dbl_3b(b),
                self.branch_pool(pooled),
            ],
            1,
        )


class InceptionFID(nn.Module):
    """Images ``(N, 3, H, W)`` in [0, 1] -> 2048-d pool features (resized to 299 px)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3, self.Conv2d_2a_3x3, self.Conv2d_2b_3x3 = (
            _Conv(3, 32, 3, stride=2),
            _Conv(32, 32, 3),
            _Conv(32, 64, 3, padding=1),
        )
        self.Conv2d_3b_1x1, self.Conv2d_4a_3x3 = _Conv(64, 80, 1), _Conv(80, 192, 3)
        self.Mixed_5b, self.Mixed_5c, self.Mixed_5d = _A(192, 32), _A(256, 64), _A(288, 64)
        self.Mixed_6a = _B(288)
        self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e = _C(768, 128), _C(768, 160), _C(768, 160), _C(768, 192)
        self.Mixed_7a = _D(768)
        self.Mixed_7b, self.Mixed_7c = _E(1280, max_pool=False), _E(2048, max_pool=True)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False) * 2 - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(F.max_pool2d(x, 3, 2)))
        x = F.max_pool2d(x, 3, 2)
        for block in (
            self.Mixed_5b,
            self.Mixed_5c,
            self.Mixed_5d,
            self.Mixed_6a,
            self.Mixed_6b,
            self.Mixed_6c,
            self.Mixed_6d,
            self.Mixed_6e,
            self.Mixed_7a,
            self.Mixed_7b,
            self.Mixed_7c,
        ):
            x = block(x)
        return x.mean(dim=(2, 3))


def load_inception(weights: str | Path) -> InceptionFID:
    """The FID Inception-v3 with ``weights`` (a state dict file; extra keys such as ``fc`` are ignored)."""
    from atelier.checkpoints import load_weights_file

    path = Path(weights)
    state = load_weights_file(path, f"Inception weights not found; download {FID_WEIGHTS_URL} (pytorch-fid's file) and pass its path")
    model = InceptionFID()
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    if missing or any(state[k].shape != own[k].shape for k in own):
        raise InputError(f"{path}: not Inception-v3 weights in the torchvision/pytorch-fid layout (e.g. missing {missing[:1] or 'shapes'})")
    model.load_state_dict({k: state[k] for k in own})
    return model.eval().requires_grad_(False)


def inception_features(model: InceptionFID, images: torch.Tensor, batch: int = 32) -> np.ndarray:
    """2048-d features of images in [0, 1], batched."""
    with torch.no_grad():
        return torch.cat([model(images[i : i + batch].float()) for i in range(0, len(images), batch)]).numpy()
