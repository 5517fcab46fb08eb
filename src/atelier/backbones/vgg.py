"""VGG-19 (Simonyan & Zisserman 2014) in torchvision's state-dict layout (``features.N.weight``).

Two flavours share one builder:

* ImageNet weights, downloaded to the torch cache on first use or read from a file;
* deterministic random weights (Kaiming init from a fixed seed), optionally narrower.
  Random VGGs with average pooling synthesise textures surprisingly well
  (Ustyuzhaninov et al. 2017) and are what makes good stylisation possible offline.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from atelier.backbones.base import IMAGENET_MEAN, IMAGENET_STD, Encoder, state_dict_sha256
from atelier.errors import BackboneError

VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
VGG19_FILENAME = VGG19_URL.rsplit("/", 1)[1]
#: Channels per conv; "M" is a pooling layer (torchvision's configuration "E").
VGG19_CFG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def vgg19_features(width: float = 1.0, pooling: str = "max") -> tuple[nn.Sequential, list[str]]:
    """The ``features`` part of VGG-19 and a name for every module (``conv1_1``, ``relu1_1``, ``pool1`` …)."""
    if pooling not in ("max", "avg"):
        raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
    modules: list[nn.Module] = []
    names: list[str] = []
    in_ch, block, index = 3, 1, 1
    for item in VGG19_CFG:
        if item == "M":
            modules.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
            names.append(f"pool{block}")
            block, index = block + 1, 1
            continue
        out_ch = max(8, int(round(int(item) * width)))
        modules += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.ReLU(inplace=False)]
        names += [f"conv{block}_{index}", f"relu{block}_{index}"]
        in_ch, index = out_ch, index + 1
    return nn.Sequential(*modules), names


def _encoder(name: str, features: nn.Sequential, names: list[str], state: dict[str, torch.Tensor], source: str) -> Encoder:
    encoder = Encoder(name, list(zip(names, features)), IMAGENET_MEAN, IMAGENET_STD)
    encoder.weights_sha256 = state_dict_sha256(state)
    encoder.weights_source = source
    return encoder.freeze()


def hub_weights_path() -> Path:
    """Where torch.hub keeps the downloaded ImageNet VGG-19 weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / VGG19_FILENAME


def _load_imagenet_state(weights: str | Path | None) -> tuple[dict[str, torch.Tensor], str]:
    if weights is not None:
        from atelier.checkpoints import load_weights_file

        return load_weights_file(weights, "VGG-19 weights file not found", BackboneError), str(weights)
    cached = hub_weights_path()
    if not cached.is_file():
        if os.environ.get("ATELIER_OFFLINE"):
            raise BackboneError(_offline_message(cached, "ATELIER_OFFLINE is set"))
        try:
            torch.hub.load_state_dict_from_url(VGG19_URL, map_location="cpu", progress=True, check_hash=True)
        except Exception as error:  # URLError, socket errors, hash mismatch…
            raise BackboneError(_offline_message(cached, str(error))) from None
    return torch.load(cached, map_location="cpu", weights_only=True), str(cached)


def _offline_message(cached: Path, reason: str) -> str:
    return (
        f"could not download the ImageNet VGG-19 weights ({reason}). Fetch {VGG19_URL} on a "
        f"machine with internet and put it at {cached}, or pass --weights FILE; "
        "the offline backbones 'efficientnet-lite0' and 'atelier' need no download"
    )


def build_imagenet(weights: str | Path | None = None, pooling: str = "max") -> Encoder:
    """VGG-19 with ImageNet weights; ``pooling='avg'`` swaps max pooling as Gatys et al. suggest."""
    state, source = _load_imagenet_state(weights)
    features, names = vgg19_features(1.0, pooling)
    feature_state = {key[len("features.") :]: value for key, value in state.items() if key.startswith("features.")}
    try:
        features.load_state_dict(feature_state)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise BackboneError(f"{source}: not VGG-19 weights in torchvision's layout ({first})") from None
    return _encoder("vgg19", features, names, {f"features.{k}": v for k, v in feature_state.items()}, source)


def build_random(width: float = 1.0, seed: int = 0, pooling: str = "avg", name: str = "vgg19-random") -> Encoder:
    """VGG-19 architecture with deterministic Kaiming-initialised weights (same seed, same network)."""
    features, names = vgg19_features(width, pooling)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in features:
            if isinstance(module, nn.Conv2d):
                fan_in = module.in_channels * 9
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                module.bias.zero_()
    return _encoder(name, features, names, features.state_dict(), f"random (seed {seed}, width {width:g})")
