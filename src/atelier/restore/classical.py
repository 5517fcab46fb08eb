"""Classical restoration from libraries, as baselines and fallbacks: OpenCV inpainting (Telea,
Navier-Stokes, frequency-selective reconstruction, shift-map), non-local means (scikit-image) and bilateral
denoising, bicubic and Lanczos enlargement. Arrays are ``(H, W, 3)`` float32 in [0, 1]."""

from __future__ import annotations

import numpy as np
from PIL import Image

from atelier.restore.degrade import to_uint8

INPAINT_METHODS = ("fsr", "telea", "ns", "exemplar")
DENOISE_METHODS = ("nlm", "bilateral")
UPSCALE_METHODS = ("bicubic", "lanczos")


def inpaint(rgb: np.ndarray, hole: np.ndarray, method: str = "fsr") -> np.ndarray:
    """Fill ``hole`` (``(H, W)`` bool, True = missing). ``fsr``: OpenCV's frequency-selective
    reconstruction (Genser et al. 2018; best PSNR); ``telea``, ``ns``: fast diffusion (thin
    damage only: large holes smear); ``exemplar``: shift-map (He & Sun 2012), which copies
    whole patches from elsewhere in the picture: plausible texture in large holes."""
    import cv2

    image = to_uint8(rgb)
    missing = hole.astype(np.uint8)
    if method in ("telea", "ns"):
        flag = cv2.INPAINT_TELEA if method == "telea" else cv2.INPAINT_NS
        out = cv2.inpaint(image, missing, 3, flag)
    elif method == "fsr":
        out = np.zeros_like(image)
        cv2.xphoto.inpaint(np.where(hole[..., None], 0, image), 1 - missing, out, cv2.xphoto.INPAINT_FSR_FAST)
    elif method == "exemplar":
        lab = cv2.cvtColor(np.where(hole[..., None], 0, image).astype(np.uint8), cv2.COLOR_RGB2LAB)
        out = np.zeros_like(lab)
        cv2.xphoto.inpaint(lab, 1 - missing, out, cv2.xphoto.INPAINT_SHIFTMAP)
        out = cv2.cvtColor(out, cv2.COLOR_LAB2RGB)
    else:
        raise ValueError(f"unknown inpainting method {method!r}")
    result = out.astype(np.float32) / 255.0
    return np.where(hole[..., None], result, rgb).astype(np.float32)


def denoise(rgb: np.ndarray, sigma: float, method: str = "nlm") -> np.ndarray:
    """Remove noise of ``sigma`` (0-255 scale). ``nlm``: non-local means (scikit-image's, which
    takes the noise level; OpenCV's colour variant measured 3 dB worse here); ``bilateral``:
    edge-preserving smoothing (OpenCV)."""
    if method == "nlm":
        from skimage.restoration import denoise_nl_means

        # scikit-image's NLM takes the noise level itself; h = 0.8 sigma is its documented choice.
        level = max(sigma, 0.5) / 255.0
        out = denoise_nl_means(
            np.asarray(rgb, np.float32), h=0.8 * level, sigma=level, patch_size=5, patch_distance=6, fast_mode=True, channel_axis=-1
        )
        return np.clip(out, 0, 1).astype(np.float32)
    if method == "bilateral":
        import cv2

        # Colour range 3 sigma: measured best of 1-3 sigma at sigma 15-50 (docs/restore.md).
        return cv2.bilateralFilter(to_uint8(rgb), 9, max(1.0, 3.0 * sigma), 3.0).astype(np.float32) / 255.0
    raise ValueError(f"unknown denoising method {method!r}")


def upscale(rgb: np.ndarray, scale: int, method: str = "bicubic") -> np.ndarray:
    """Enlarge ``scale`` times with Pillow's bicubic or Lanczos filter."""
    kind = {"bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS}[method]
    h, w = rgb.shape[:2]
    return np.asarray(Image.fromarray(to_uint8(rgb)).resize((w * scale, h * scale), kind), dtype=np.float32) / 255.0
