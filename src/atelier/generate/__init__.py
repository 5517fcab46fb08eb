"""Generate new images with GANs trained on an artist's own small collection.

Names are imported on first use, so that the settings (``atelier.generate.settings``) and
``--help`` load no PyTorch.
"""

from atelier.lazy import lazy_exports

_EXPORTS = {
    "GanSettings": "atelier.generate.settings",
    "load_dataset": "atelier.generate.data",
    "evaluate": "atelier.generate.sample",
    "interpolate": "atelier.generate.sample",
    "nearest_grid": "atelier.generate.sample",
    "nearest_neighbours": "atelier.generate.sample",
    "sample": "atelier.generate.sample",
    "sample_grid": "atelier.generate.sample",
    "load_generator": "atelier.generate.train",
    "train_gan": "atelier.generate.train",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
