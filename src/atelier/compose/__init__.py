"""Compose: a recurrent network (LSTM-NADE) that learns music and plays it back.

Names are imported on first use, so that the settings (``atelier.compose.settings``) and
``--help`` load no PyTorch.
"""

from atelier.lazy import lazy_exports

_EXPORTS = {
    "MusicSettings": "atelier.compose.settings",
    "train_music": "atelier.compose.train",
    "compose": "atelier.compose.sample",
    "evaluate_music": "atelier.compose.sample",
    "write_midi": "atelier.compose.sample",
    "render_audio": "atelier.compose.sample",
    "load_music_model": "atelier.compose.sample",
    "builtin_models": "atelier.compose.sample",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
