"""Exporting fast styles to ONNX (dynamic height and width), optionally int8-quantised."""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from atelier.errors import InputError
from atelier.io.atomic import atomic_write
from atelier.io.paths import check_new_file
from atelier.style.fast.model import FastStyleModel, load_model
from atelier.style.fast.runtime import find_style

OPSET = 17


def subpixel_upconv(conv: nn.Conv2d) -> nn.Sequential:
    """Rewrite nearest-x2-upsample + reflection-pad-1 + 3x3 ``conv`` as an equivalent
    low-resolution convolution followed by a pixel shuffle (exactly the same output).

    Each output pixel of the upsampled convolution sees its low-resolution neighbours through
    one of four phase-specific kernels; computing the four phases at low resolution and
    interleaving them skips writing, padding and reading the 4x larger upsampled tensor,
    which onnxruntime spent a third of its time on (profiled: Pad and Resize).
    At the borders, reflecting the upsampled image equals replicating the small one.
    """
    weight, bias = conv.weight.detach(), conv.bias.detach()
    out_c, in_c = weight.shape[:2]
    kernel = torch.zeros(4 * out_c, in_c, 3, 3)
    for p in (0, 1):
        for q in (0, 1):
            phase = p * 2 + q  # PixelShuffle reads channel c * 4 + phase
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ly, lx = (p + dy) // 2 + 1, (q + dx) // 2 + 1
                    kernel[phase::4, :, ly, lx] += weight[:, :, dy + 1, dx + 1]
    low = nn.Conv2d(in_c, 4 * out_c, 3)
    low.weight.data.copy_(kernel)
    low.bias.data.copy_(bias.repeat_interleave(4))
    return nn.Sequential(nn.ReplicationPad2d(1), low, nn.PixelShuffle(2))


def _fast_decoder_layer(layer: nn.Sequential) -> nn.Sequential:
    """A decoder ``ConvLayer`` with its upsampling rewritten by :func:`subpixel_upconv`."""
    modules = list(layer)
    if not isinstance(modules[0], nn.Upsample):
        return layer
    conv = modules[2]
    return nn.Sequential(*subpixel_upconv(conv), *modules[3:])


class _Core(nn.Module):
    """The network as exported: no padding wrapper (the runtime pads), sub-pixel upsampling."""

    def __init__(self, model: FastStyleModel) -> None:
        super().__init__()
        net = model.network.eval()
        self.encoder, self.residual = net.encoder, net.residual
        self.decoder = nn.Sequential(*[_fast_decoder_layer(layer) for layer in net.decoder])

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.decoder(self.residual(self.encoder(image))))


def load_style_model(style: str | Path) -> FastStyleModel:
    """A built-in by name, or a ``.pt`` file from ``atelier train-style``."""
    ref = find_style(style)
    if ref.pt is None:
        raise InputError(f"{style}: already an ONNX file; export from the .pt model it came from")
    return load_model(ref.pt)


def export_onnx(style: str | Path | FastStyleModel, output: str | Path, *, quantize: bool = False, force: bool = False) -> Path:
    """Write ``style`` as an ONNX model taking ``image`` ``(1, 3, H, W)`` in [0, 1], H and W
    dynamic multiples of 8, and returning ``stylized`` of the same shape.

    ``quantize`` stores int8 weights (onnxruntime dynamic quantisation): a smaller file;
    its speed and quality cost are measured in ``benchmarks/bench_fast.py``.
    An existing ``output`` is only replaced with ``force``.
    """
    output = check_new_file(output, force=force, suffixes=(".onnx",), inputs=[style if not isinstance(style, FastStyleModel) else None])
    model = style if isinstance(style, FastStyleModel) else load_style_model(style)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on instance norm in eval mode are expected
            torch.onnx.export(
                _Core(model),
                torch.rand(1, 3, 64, 64),
                str(plain),
                input_names=["image"],
                output_names=["stylized"],
                dynamic_axes={"image": {2: "height", 3: "width"}, "stylized": {2: "height", 3: "width"}},
                opset_version=OPSET,
                dynamo=False,
            )
        source = plain
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            source = Path(tmp) / "int8.onnx"
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)  # the quantiser logs a warning per padding node: expected, not actionable
            try:
                quantize_dynamic(str(plain), str(source), weight_type=QuantType.QUInt8)
            finally:
                root.setLevel(level)
        data = source.read_bytes()
    return atomic_write(output, lambda stream: stream.write(data))
