"""Fast style model files (``.pt``) and their PyTorch inference path, tiled for big photos."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from atelier.checkpoints import load_checkpoint, model_file_errors, save_checkpoint
from atelier.style.fast.geometry import TILE_MEGAPIXELS
from atelier.style.fast.network import NetworkShape, StyleNet, frozen_statistics
from atelier.style.tiles import feather, tile_starts

MODEL_FORMAT = "atelier-fast-style"

TILE_SIZE = 1536
TILE_OVERLAP = 128


@dataclass
class FastStyleModel:
    """A trained transformation network and what it was trained on."""

    network: StyleNet
    name: str
    style_source: str = ""
    trained_steps: int = 0
    settings: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        """Stylise ``(1, 3, H, W)`` in [0, 1]; tiles with shared statistics above ``TILE_MEGAPIXELS``."""
        return stylize_tensor(self.network, image)


def save_model(model: FastStyleModel, path: str | Path) -> Path:
    """Write a model file: fp16 weights (half the size; the outputs differ by < 1/255)."""
    state = {k: v.detach().to(torch.float16) if v.is_floating_point() else v for k, v in model.network.state_dict().items()}
    return save_checkpoint(
        {
            "format": MODEL_FORMAT,
            "version": 1,
            "name": model.name,
            "style_source": model.style_source,
            "trained_steps": model.trained_steps,
            "settings": model.settings,
            "shape": model.network.shape.to_dict(),
            "network": state,
        },
        path,
    )


def load_model(path: str | Path) -> FastStyleModel:
    """Read a model written by :func:`save_model` (or by ``atelier train-style``)."""
    data = load_checkpoint(path, MODEL_FORMAT)
    with model_file_errors(path, "fast style"):
        net = StyleNet(NetworkShape.from_dict(data["shape"]))
        net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in data["network"].items()})
        return FastStyleModel(
            net.eval(), str(data["name"]), data.get("style_source", ""), data.get("trained_steps", 0), data.get("settings", {})
        )


def stylize_tensor(
    net: StyleNet, image: torch.Tensor, *, tile_megapixels: float = TILE_MEGAPIXELS, tile: int = TILE_SIZE, overlap: int = TILE_OVERLAP
) -> torch.Tensor:
    """Run ``net`` on ``(1, 3, H, W)``; large images in overlapping tiles, feather-blended.

    Tiles share the normalisation statistics of the whole image (recorded in a first
    pass), so their tones agree and the seams do not show.
    """
    net.eval()
    h, w = image.shape[-2:]
    with torch.no_grad():
        if h * w <= tile_megapixels * 1e6:
            return net(image)
        boxes = [(y, x, min(tile, h - y), min(tile, w - x)) for y in tile_starts(h, tile, overlap) for x in tile_starts(w, tile, overlap)]
        out = torch.zeros_like(image)
        total = torch.zeros(1, 1, h, w)
        with frozen_statistics(net, (image[..., y : y + th, x : x + tw] for y, x, th, tw in boxes)):
            for y, x, th, tw in boxes:
                weight = feather(th, tw, overlap, (y > 0, y + th < h, x > 0, x + tw < w))
                out[..., y : y + th, x : x + tw] += net(image[..., y : y + th, x : x + tw]) * weight
                total[..., y : y + th, x : x + tw] += weight
        return out / total
