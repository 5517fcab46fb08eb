"""Exporting the arbitrary-style network for onnxruntime: ``encoder.onnx`` and ``decoder.onnx``
(dynamic height and width, sides multiples of 32), ``decoder.int8.onnx`` (the decoder with int8
weights and activations, what the runtime uses by default) and ``card.json``.

The transform between them runs in NumPy (eigendecompositions are not ONNX operators), so a
painted photo needs no PyTorch at all. Upsampling is exported as a low-resolution convolution
followed by a pixel shuffle (exactly equal, and faster: see :func:`atelier.style.fast.export.subpixel_upconv`).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from atelier.io.atomic import atomic_write
from atelier.style.arbitrary.network import ArbitraryStyleNet, Decoder, _pad
from atelier.style.fast.export import OPSET, subpixel_upconv


class _Encoder(nn.Module):
    def __init__(self, net: ArbitraryStyleNet) -> None:
        super().__init__()
        self.encoder = net.encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.encoder(image))


class _Decoder(nn.Module):
    """The decoder with every upsampling as a sub-pixel convolution."""

    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self.d = decoder
        self.up3, self.up2, self.up1 = (
            nn.Sequential(subpixel_upconv(up.conv), nn.ReLU()) for up in (decoder.up3, decoder.up2, decoder.up1)
        )

    def forward(self, f1: torch.Tensor, f2: torch.Tensor, f3: torch.Tensor, f4: torch.Tensor) -> torch.Tensor:
        d = self.d
        x = F.relu(d.head(_pad(f4)))
        x = F.relu(d.mix3(_pad(torch.cat([self.up3(x), f3], 1))))
        x = F.relu(d.mix2(_pad(torch.cat([self.up2(x), f2], 1))))
        x = F.relu(d.mix1(_pad(torch.cat([self.up1(x), f1], 1))))
        return torch.sigmoid(d.shuffle(d.out(_pad(x))))


def _export(module: nn.Module, example: tuple[torch.Tensor, ...], names: list[str], output_names: list[str], target: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = Path(tmp) / "model.onnx"
        torch.onnx.export(
            module,
            example,
            str(plain),
            input_names=names,
            output_names=output_names,
            dynamic_axes={n: {2: f"{n}_height", 3: f"{n}_width"} for n in names + output_names},
            opset_version=OPSET,
            dynamo=False,
        )
        data = plain.read_bytes()
    return atomic_write(target, lambda stream: stream.write(data))


#: The int8 decoder's file name in a model folder.
INT8_DECODER = "decoder.int8.onnx"
#: What the int8 decoder is calibrated on: sample photos, and paintings that are procedural or
#: scikit-image textures (nothing a user gives, so any model folder can be quantised offline).
CALIBRATION_PHOTOS = ("sample:astronaut", "sample:coffee", "sample:chelsea", "sample:rocket")
CALIBRATION_STYLES = ("strokes", "shapes", "cells", "swirl", "dots", "hatch", "brick", "gravel")


def _calibration_inputs(folder: Path, side: int = 256) -> list[dict]:
    """Decoder inputs as the runtime makes them: each photo's features moved toward a painting's
    at several strengths and details (the ranges activations take in use)."""
    import random

    import numpy as np

    from atelier.io import fit_size, read_source, resize_array
    from atelier.io.sources import skimage_picture
    from atelier.style.arbitrary import runtime
    from atelier.style.arbitrary.data import PROCEDURAL_KINDS, procedural_painting

    net = runtime.Network(folder, precision="fp32")
    rng = random.Random(0)
    names = [i.name for i in net.decoder.get_inputs()]
    inputs = []
    for index, spec in enumerate(CALIBRATION_PHOTOS):
        photo, _ = read_source(spec)
        photo, _, _ = runtime._pad(resize_array(photo, *fit_size(photo.shape[1], photo.shape[0], side)), net)
        for turn, (strength, detail) in enumerate(((1.0, 1.0), (1.0, 0.5), (0.5, 1.0), (0.0, 1.0))):
            kind = CALIBRATION_STYLES[(2 * index + turn) % len(CALIBRATION_STYLES)]
            painting = procedural_painting(rng, side, kind) if kind in PROCEDURAL_KINDS else skimage_picture(kind)[:side, :side]
            styles = runtime.painting_statistics(net, painting)
            features = runtime._transform(net, net.encode(photo), styles, strength, None, detail=detail)
            inputs.append({n: np.ascontiguousarray(f[None], dtype=np.float32) for n, f in zip(names, features)})
    return inputs


def quantize_decoder(folder: str | Path) -> Path:
    """Write ``folder/decoder.int8.onnx``: ``decoder.onnx`` with int8 weights (per channel) and
    activations (static ranges calibrated by :func:`_calibration_inputs`), which onnxruntime runs
    with integer convolutions: about 1.6x faster here, 39 dB PSNR from the float
    decoder (``benchmarks/bench_arbitrary.py`` measures both)."""
    import logging

    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    folder = Path(folder)
    items = iter(_calibration_inputs(folder))

    class Reader(CalibrationDataReader):
        def get_next(self) -> dict | None:
            return next(items, None)

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / INT8_DECODER
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # the quantiser's advice to pre-process the model is expected, not actionable
        try:
            quantize_static(
                str(folder / "decoder.onnx"),
                str(target),
                Reader(),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QUInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
            )
        finally:
            root.setLevel(level)
        data = target.read_bytes()
    return atomic_write(folder / INT8_DECODER, lambda stream: stream.write(data))


def export_model(network_file: str | Path, folder: str | Path) -> Path:
    """Write ``encoder.onnx``, ``decoder.onnx``, ``decoder.int8.onnx`` and ``card.json`` for the model file into ``folder``."""
    from atelier.style.arbitrary.train import load_network, write_card

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    net, info = load_network(network_file)
    example = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        features = net.encoder(example)
    _export(_Encoder(net).eval(), (example,), ["image"], [f"level{i}" for i in range(4)], folder / "encoder.onnx")
    _export(_Decoder(net.decoder).eval(), tuple(features), [f"level{i}" for i in range(4)], ["picture"], folder / "decoder.onnx")
    write_card(net, info, folder)
    quantize_decoder(folder)
    return folder


def is_arbitrary(spec: str | Path) -> bool:
    """``arbitrary`` (the installed network), a model folder, or a ``network.pt`` of one."""
    path = Path(spec)
    return str(spec) == "arbitrary" or (path.is_dir() and (path / "network.pt").is_file()) or (path.name == "network.pt" and path.is_file())


def export_folder(spec: str | Path, output: str | Path, *, force: bool = False) -> Path:
    """Export the network named by ``spec`` (see :func:`is_arbitrary`) into the folder ``output``."""
    from atelier.errors import InputError
    from atelier.style.arbitrary.runtime import model_dir

    path = Path(spec)
    source = model_dir() / "network.pt" if str(spec) == "arbitrary" else (path / "network.pt" if path.is_dir() else path)
    if not source.is_file():
        raise InputError(f"{source}: no arbitrary-style network file here")
    output = Path(output)
    if output.suffix.lower() == ".onnx":
        raise InputError(f"{output}: the arbitrary network exports to a folder (encoder.onnx, decoder.onnx, card.json); give a folder name")
    if output.exists() and not output.is_dir():
        raise InputError(f"{output}: exists and is not a folder")
    if output.is_dir() and any((output / n).exists() for n in ("encoder.onnx", "decoder.onnx", INT8_DECODER)) and not force:
        raise InputError(f"{output} already holds an export; add --force to replace it")
    if output.resolve() == source.parent.resolve():
        raise InputError(f"{output}: this is the model's own folder; export to another")
    return export_model(source, output)
