"""Style transfer: the optimisation engine (any painting) and fast feed-forward styles.

Names are imported lazily so that ``atelier.style.fast.runtime`` (built-in styles on
onnxruntime) starts without loading PyTorch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Progress": "atelier.style.engine",
    "StyleSettings": "atelier.style.engine",
    "stylize": "atelier.style.engine",
    "stylize_steps": "atelier.style.engine",
    "StyleResult": "atelier.style.files",
    "parse_layer_weights": "atelier.style.options",
    "parse_style_weights": "atelier.style.options",
    "replay": "atelier.style.files",
    "stylize_file": "atelier.style.files",
    "PRESETS": "atelier.style.presets",
    "LossNetwork": "atelier.style.presets",
    "get_preset": "atelier.style.presets",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'atelier.style' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
