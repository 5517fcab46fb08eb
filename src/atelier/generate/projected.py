"""A projected discriminator (Sauer, Chitta, Müller & Geiger 2021, "Projected GANs Converge Faster").

Real and generated images are seen through a *frozen* pretrained network (EfficientNet-Lite0,
as in the paper's code, shipped offline with Atelier) at four scales. Fixed random
projections mix the features across channels (1x1 convolutions, "CCM") and across scales
(a top-down pyramid of random 3x3 convolutions, "CSM"), and one small discriminator per
scale, the only trained part, judges each mixed map. Their logits are concatenated, so
the usual hinge loss applies unchanged.

Only the random projections and the small discriminators are saved in checkpoints;
the pretrained network is rebuilt from the installed weights.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

#: EfficientNet-Lite0 stages at strides 4, 8, 16 and 32 (24, 40, 112 and 320 channels).
LAYERS = ("block2", "block4", "block10", "block15")
FEATURE_CHANNELS = (24, 40, 112, 320)


@functools.lru_cache(maxsize=1)
def _features():
    from atelier import backbones

    with torch.random.fork_rng():  # building it must not shift the training's random stream
        return backbones.get("efficientnet-lite0")


class _DownBlock(nn.Sequential):
    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__(spectral_norm(nn.Conv2d(c_in, c_out, 4, 2, 1)), nn.LeakyReLU(0.2, True))


class _ScaleDiscriminator(nn.Sequential):
    """Halves the map down to 4x4, then a 4x4 convolution gives one logit per image."""

    def __init__(self, channels: int, side: int, width: int) -> None:
        layers: list[nn.Module] = []
        c = channels
        while side > 4:
            layers.append(_DownBlock(c, width))
            c, side = width, side // 2
        layers.append(spectral_norm(nn.Conv2d(c, 1, 4)))
        super().__init__(*layers)


class ProjectedDiscriminator(nn.Module):
    """``(N, 3, S, S)`` images in [-1, 1] -> ``(N, 4)`` logits, one per feature scale.

    Images are resized to ``resolution`` before the feature network (its receptive
    fields want more than 32 or 64 pixels).
    """

    def __init__(self, resolution: int = 128, mix_channels: tuple[int, ...] = (32, 64, 128, 256), width: int = 64) -> None:
        super().__init__()
        self.resolution = resolution
        # Fixed random projections: created from the seeded global RNG, never trained.
        self.ccm = nn.ModuleList(nn.Conv2d(c, m, 1) for c, m in zip(FEATURE_CHANNELS, mix_channels))
        self.csm = nn.ModuleList(nn.Conv2d(mix_channels[i + 1], mix_channels[i], 3, padding=1) for i in range(len(LAYERS) - 1))
        for module in (*self.ccm, *self.csm):
            nn.init.kaiming_normal_(module.weight)
            module.requires_grad_(False)
        sides = [resolution // s for s in (4, 8, 16, 32)]
        self.heads = nn.ModuleList(_ScaleDiscriminator(m, max(4, side), width) for m, side in zip(mix_channels, sides))

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def project(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The mixed feature maps, shallowest first."""
        x = F.interpolate((images + 1) / 2, size=(self.resolution, self.resolution), mode="bilinear", align_corners=False)
        feats = _features()(x, LAYERS)
        mixed = [ccm(feats[name]) for ccm, name in zip(self.ccm, LAYERS)]
        # Top-down: each scale also receives the (upsampled, randomly convolved) deeper one.
        for i in reversed(range(len(mixed) - 1)):
            deeper = F.interpolate(mixed[i + 1], size=mixed[i].shape[-2:], mode="bilinear", align_corners=False)
            mixed[i] = mixed[i] + self.csm[i](deeper)
        return mixed

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.project(images)
        if maps[-1].shape[-1] < 4:  # tiny resolutions: pad the deepest map up to the head's 4x4
            maps[-1] = F.interpolate(maps[-1], size=(4, 4), mode="nearest")
        return torch.cat([head(m).flatten(1) for head, m in zip(self.heads, maps)], dim=1)
