"""Style transfer: one request (:class:`StyleRequest`), one entry point (:func:`stylize`), three
engines: the arbitrary-style network (any painting, one pass), per-style networks (built-ins)
and the optimisation engine (the slow quality reference).

Names are imported lazily so that the fast engines (onnxruntime) start without loading PyTorch.
"""

from __future__ import annotations

from atelier.lazy import lazy_exports

_EXPORTS = {
    "Progress": "atelier.style.engine",
    "StyleSettings": "atelier.style.settings",
    "stylize_steps": "atelier.style.engine",
    "StyleRequest": "atelier.style.api",
    "StyleResult": "atelier.style.api",
    "stylize": "atelier.style.api",
    "parse_layer_weights": "atelier.style.options",
    "parse_style_weights": "atelier.style.options",
    "refine": "atelier.style.api",
    "replay": "atelier.style.api",
    "stylize_file": "atelier.style.api",
    "PRESETS": "atelier.style.presets",
    "LossNetwork": "atelier.style.presets",
    "get_preset": "atelier.style.presets",
}

__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
