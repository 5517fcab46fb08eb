"""The encoder interface every loss and head builds on: named layers in, feature maps out."""

from __future__ import annotations

import hashlib

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def state_dict_sha256(state: dict[str, torch.Tensor]) -> str:
    """A stable hash of a state dict's names and values (recorded in recipes)."""
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(name.encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()


class Encoder(nn.Module):
    """A frozen feature extractor made of named stages run in order.

    Input images are ``(N, 3, H, W)`` in ``[0, 1]``; the encoder normalises them itself.
    ``forward(x, layers)`` returns ``{name: feature_map}`` for the layers asked for and
    stops after the deepest one, so shallow losses never pay for deep layers.
    """

    def __init__(
        self,
        name: str,
        stages: list[tuple[str, nn.Module]],
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
    ) -> None:
        super().__init__()
        self.name = name
        self.stage_names = [stage_name for stage_name, _ in stages]
        self.stages = nn.ModuleList(module for _, module in stages)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.weights_sha256: str | None = None
        self.weights_source: str = "unknown"

    @property
    def layer_names(self) -> list[str]:
        """Names that ``forward`` accepts, shallowest first."""
        return list(self.stage_names)

    def freeze(self) -> Encoder:
        """Evaluation mode, no gradients for the weights; returns self."""
        self.eval()
        for parameter in self.parameters():
            parameter.requires_grad_(False)
        return self

    def forward(self, image: torch.Tensor, layers: list[str] | tuple[str, ...]) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        unknown = wanted.difference(self.stage_names)
        if unknown:
            raise KeyError(f"{self.name} has no layer(s) {sorted(unknown)}; it has {self.stage_names}")
        out: dict[str, torch.Tensor] = {}
        x = (image - self.mean) / self.std
        for stage_name, stage in zip(self.stage_names, self.stages):
            x = stage(x)
            if stage_name in wanted:
                out[stage_name] = x
                if len(out) == len(wanted):
                    break
        return out
