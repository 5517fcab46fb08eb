"""Write: a small Transformer that learns a writer's own texts and writes new ones.

Names are imported on first use, so that the settings (``atelier.write.settings``) and
``--help`` load no PyTorch.
"""

from atelier.lazy import lazy_exports

_EXPORTS = {
    "TextSettings": "atelier.write.settings",
    "train_text": "atelier.write.train",
    "write": "atelier.write.sample",
    "write_text": "atelier.write.sample",
    "evaluate_text": "atelier.write.sample",
    "load_text_model": "atelier.write.sample",
    "builtin_models": "atelier.write.sample",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
