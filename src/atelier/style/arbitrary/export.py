"""Exporting the arbitrary-style network for onnxruntime: ``encoder.onnx`` and ``decoder.onnx``
(dynamic height and width, sides multiples of 32) and ``card.json``.

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


def export_model(network_file: str | Path, folder: str | Path) -> Path:
    """Write ``encoder.onnx``, ``decoder.onnx`` and ``card.json`` for the model file into ``folder``."""
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
    if output.is_dir() and any((output / n).exists() for n in ("encoder.onnx", "decoder.onnx")) and not force:
        raise InputError(f"{output} already holds an export; add --force to replace it")
    if output.resolve() == source.parent.resolve():
        raise InputError(f"{output}: this is the model's own folder; export to another")
    return export_model(source, output)
