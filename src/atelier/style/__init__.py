"""Style transfer: optimisation-based (Gatys) today, feed-forward networks next."""

from atelier.style.engine import Progress, StyleSettings, stylize, stylize_steps
from atelier.style.files import StyleResult, parse_layer_weights, parse_style_weights, replay, stylize_file
from atelier.style.presets import PRESETS, LossNetwork, get_preset

__all__ = [
    "PRESETS", "LossNetwork", "Progress", "StyleResult", "StyleSettings", "get_preset",
    "parse_layer_weights", "parse_style_weights", "replay", "stylize", "stylize_file", "stylize_steps",
]
