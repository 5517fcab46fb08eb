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
from atelier.style.fast.model import FastStyleModel, load_model
from atelier.style.fast.pack import resolve_style

OPSET = 17


class _Core(nn.Module):
    """The network without its padding wrapper: inputs are padded by the runtime."""

    def __init__(self, model: FastStyleModel) -> None:
        super().__init__()
        self.net = model.network.eval()

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.net.core(image)


def load_style_model(style: str | Path) -> FastStyleModel:
    """A built-in by name, or a ``.pt`` file from ``atelier train-style``."""
    builtin = resolve_style(str(style))
    if builtin is not None:
        return load_model(builtin.pt_path)
    path = Path(style)
    if path.suffix.lower() != ".pt":
        raise InputError(f"{style}: not a built-in style (see `atelier styles`) or a .pt model from `atelier train-style`")
    return load_model(path)


def export_onnx(style: str | Path | FastStyleModel, output: str | Path, *, quantize: bool = False) -> Path:
    """Write ``style`` as an ONNX model taking ``image`` ``(1, 3, H, W)`` in [0, 1], H and W
    dynamic multiples of 8, and returning ``stylized`` of the same shape.

    ``quantize`` stores int8 weights (onnxruntime dynamic quantisation): a smaller file;
    its speed and quality cost are measured in ``benchmarks/bench_fast.py``.
    """
    output = Path(output)
    if output.suffix.lower() != ".onnx":
        raise InputError(f"{output}: the output must end in .onnx")
    if not output.parent.is_dir():
        raise InputError(f"{output}: the folder {output.parent} does not exist")
    model = style if isinstance(style, FastStyleModel) else load_style_model(style)
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "plain.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on instance norm in eval mode are expected
            torch.onnx.export(
                _Core(model), torch.rand(1, 3, 64, 64), str(plain), input_names=["image"], output_names=["stylized"],
                dynamic_axes={"image": {2: "height", 3: "width"}, "stylized": {2: "height", 3: "width"}},
                opset_version=OPSET, dynamo=False,
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
