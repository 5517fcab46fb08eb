"""Restoring pictures: inpainting, denoising and super-resolution (learned networks shipped in
the package, Deep Image Prior, classical methods), and training the networks.

PyTorch is imported only by the learned methods and Deep Image Prior.
"""

from atelier.lazy import lazy_exports

_EXPORTS = {
    "denoise": "atelier.restore.api",
    "inpaint": "atelier.restore.api",
    "upscale": "atelier.restore.api",
    "restore_file": "atelier.restore.api",
    "train_restorer": "atelier.restore.train",
    "builtin_models": "atelier.restore.learned",
    "load_mask": "atelier.restore.masks",
    "scratch_mask": "atelier.restore.masks",
    "deep_image_prior": "atelier.restore.dip",
}
__all__ = sorted(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
