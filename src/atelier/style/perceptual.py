"""The perceptual loss shared by every style-transfer method: content features of one
backbone, style statistics of another, total variation (see :class:`PerceptualLoss`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Sequence

import torch
import torch.nn.functional as F

from atelier import backbones
from atelier.style.losses import STATISTICS, content_loss, normalised_mse, smooth_activations, total_variation
from atelier.style.presets import LossNetwork

if TYPE_CHECKING:
    from atelier.style.settings import StyleSettings


class PerceptualLoss:
    """The style-transfer objective (Gatys et al.): content and style targets, and the loss of
    a candidate image against them.

    The optimisation engine minimises it over pixels; the fast-style trainers minimise it
    over a network's weights. Content and style may be measured by different backbones
    (a :class:`~atelier.style.presets.LossNetwork`), with any statistic of
    :data:`~atelier.style.losses.STATISTICS` and an optional mask.
    """

    def __init__(self, net: LossNetwork, settings: StyleSettings, smoothing: bool) -> None:
        if settings.content_layers is not None or settings.style_layers is not None:
            net = replace(
                net,
                content_layers=settings.content_layers or net.content_layers,
                style_layers=settings.style_layers or net.style_layers,
            )
        self.net = net
        self.settings = settings
        self.smoothing = smoothing
        self.content_encoder = backbones.get(net.content_backbone, settings.weights if net.content_backbone == "vgg19" else None)
        self.style_encoder = backbones.get(net.style_backbone, settings.weights if net.style_backbone == "vgg19" else None)
        self.statistic = STATISTICS[settings.statistic]
        self.style_targets: dict[str, torch.Tensor] = {}
        self.content_targets: dict[str, torch.Tensor] = {}
        self.mask: torch.Tensor | None = None

    def _style_features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        feats = self.style_encoder(image, list(self.net.style_layers))
        if self.smoothing:
            feats = {k: smooth_activations(v) for k, v in feats.items()}
        return feats

    def set_style(self, styles: Sequence[torch.Tensor], weights: Sequence[float]) -> None:
        """Blend the styles' statistics layer by layer (a weighted mean of Gram matrices)."""
        targets: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            for style, weight in zip(styles, weights):
                for name, feat in self._style_features(style).items():
                    stat = self.statistic(feat) * weight
                    targets[name] = stat if name not in targets else targets[name] + stat
        self.style_targets = targets

    def set_content(self, content: torch.Tensor, mask: torch.Tensor | None) -> None:
        with torch.no_grad():
            self.content_targets = self.content_encoder(content, list(self.net.content_layers))
        self.mask = mask

    def loss(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        s = self.settings
        content_feats = self.content_encoder(image, list(self.net.content_layers))
        c_loss = sum(self.net.content_layers[k] * content_loss(v, self.content_targets[k]) for k, v in content_feats.items())
        style_feats = self._style_features(image)
        st_loss = image.new_zeros(())
        for name, feat in style_feats.items():
            layer_mask = None
            if self.mask is not None:
                layer_mask = F.interpolate(self.mask, size=feat.shape[-2:], mode="area")
            st_loss = st_loss + self.net.style_layers[name] * normalised_mse(self.statistic(feat, layer_mask), self.style_targets[name])
        st_loss = st_loss / max(1, len(style_feats))
        tv = total_variation(image)
        total = s.content_weight * c_loss + s.style_weight * s.strength * st_loss + s.tv_weight * tv
        return total, {k: float(v.detach()) for k, v in (("total", total), ("content", c_loss), ("style", st_loss), ("tv", tv))}
