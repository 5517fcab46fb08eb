"""Feature extractors with named layers; everything else asks for layers by name."""

from atelier.backbones.base import Encoder
from atelier.backbones.registry import BackboneInfo, available, get, register

__all__ = ["BackboneInfo", "Encoder", "available", "get", "register"]
