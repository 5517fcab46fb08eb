"""Recognise style, artist or genre by transfer learning from EfficientNet-Lite0.

Names are imported on first use, so that the settings and ``--help`` load no PyTorch.
"""

from atelier.lazy import lazy_exports

_EXPORTS = {
    "Dataset": "atelier.classify.data",
    "scan_folder": "atelier.classify.data",
    "split": "atelier.classify.data",
    "ArtClassifier": "atelier.classify.model",
    "TrainSettings": "atelier.classify.settings",
    "TrainResult": "atelier.classify.train",
    "evaluate": "atelier.classify.train",
    "predict": "atelier.classify.train",
    "train_classifier": "atelier.classify.train",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
