"""Restoring pictures: inpainting, denoising and super-resolution, each with a choice of method.

Every function takes and returns ``(H, W, 3)`` float32 arrays in [0, 1]; :func:`restore_file`
reads a file, restores it and writes the result atomically with its recipe (what the CLI and
the studio call).

Methods:

* ``net`` (default for denoise and upscale): the small networks that ship with Atelier,
  trained here (:mod:`atelier.restore.learned`); a second or less for a 512 px picture.
* ``dip``: Deep Image Prior (:mod:`atelier.restore.dip`), no training data, minutes.
* classical ones from OpenCV and Pillow (:mod:`atelier.restore.classical`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from atelier.errors import InputError
from atelier.events import Event, OnEvent
from atelier.restore import classical

INPAINT_METHODS = ("auto", *classical.INPAINT_METHODS, "dip")
DENOISE_METHODS = ("net", *classical.DENOISE_METHODS, "dip")
UPSCALE_METHODS = ("net", *classical.UPSCALE_METHODS, "dip")
METHODS = {"inpaint": INPAINT_METHODS, "denoise": DENOISE_METHODS, "upscale": UPSCALE_METHODS}
SCALES = (2, 3, 4)
MAX_SIGMA = 100.0
DEFAULT_DIP_STEPS = 1000


def check_method(task: str, method: str) -> None:
    """One line for a method ``task`` does not have (also what the studio checks before queueing)."""
    if method not in METHODS[task]:
        raise InputError(f"unknown {task} method {method!r}; choose one of: {', '.join(METHODS[task])}")


def _dip(task: str, rgb: np.ndarray, steps: int, on_progress: OnEvent | None, cancel: threading.Event | None, **kwargs) -> np.ndarray:
    from atelier.restore.dip import DIPSettings, numpy_dip

    return numpy_dip(task, rgb, settings=DIPSettings(steps=steps), on_progress=on_progress, cancel=cancel, **kwargs)


def upscale(
    rgb: np.ndarray,
    scale: int = 4,
    *,
    method: str = "net",
    model: str | Path | None = None,
    steps: int = DEFAULT_DIP_STEPS,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Enlarge ``scale`` (2, 3 or 4) times. ``model``: a model file from ``atelier restore train upscale``."""
    check_method("upscale", method)
    if scale not in SCALES:
        raise InputError(f"scale must be one of {', '.join(map(str, SCALES))}, not {scale}")
    if method == "net":
        from atelier.restore.learned import upscale_net

        return upscale_net(rgb, scale, model)
    if method == "dip":
        return _dip("upscale", rgb, steps, on_progress, cancel, scale=scale)
    return classical.upscale(rgb, scale, method)


def denoise(
    rgb: np.ndarray,
    sigma: float | None = None,
    *,
    method: str = "net",
    model: str | Path | None = None,
    steps: int = DEFAULT_DIP_STEPS,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, float]:
    """Remove noise of strength ``sigma`` (0-255 scale; None: measured from the picture, the
    Gaussian noise level or, for a JPEG, its blocking level).
    Returns the clean picture and the sigma used."""
    check_method("denoise", method)
    if sigma is None:
        from atelier.restore.learned import estimate_level

        sigma = estimate_level(rgb)
    if not 0 <= sigma <= MAX_SIGMA:
        raise InputError(f"sigma must be between 0 and {MAX_SIGMA:g} (0-255 scale), not {sigma:g}")
    if method == "net":
        from atelier.restore.learned import denoise_net

        return denoise_net(rgb, sigma, model), sigma
    if method == "dip":
        return _dip("denoise", rgb, steps, on_progress, cancel), sigma
    return classical.denoise(rgb, sigma, method), sigma


def inpaint(
    rgb: np.ndarray,
    hole: np.ndarray,
    *,
    method: str = "auto",
    steps: int = DEFAULT_DIP_STEPS,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> np.ndarray:
    """Fill ``hole`` (``(H, W)`` bool, True = missing); the other pixels are kept exactly.
    ``auto`` is frequency-selective reconstruction (``fsr``), the best measured in docs/restore.md."""
    check_method("inpaint", method)
    from atelier.restore.masks import check_mask

    if hole.shape != rgb.shape[:2]:
        raise InputError(f"the mask is {hole.shape[1]}x{hole.shape[0]} but the photo is {rgb.shape[1]}x{rgb.shape[0]}; they must match")
    check_mask(hole)
    if method == "dip":
        return _dip("inpaint", rgb, steps, on_progress, cancel, mask=hole)
    return classical.inpaint(rgb, hole, "fsr" if method == "auto" else method)


def restore_file(
    task: str,
    source: str | Path,
    output: str | Path,
    *,
    method: str | None = None,
    scale: int = 4,
    sigma: float | None = None,
    mask: str | Path | None = None,
    auto_mask: bool = False,
    invert_mask: bool = False,
    model: str | Path | None = None,
    steps: int = DEFAULT_DIP_STEPS,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Read ``source`` (a file or ``sample:NAME``), restore it and write ``output`` (PNG, JPEG,
    WebP) atomically with the recipe; alpha is carried (enlarged with the picture). Returns a
    JSON-able summary: task, method, sizes, seconds, sigma or mask coverage."""
    from atelier.io.images import check_output_path, resize_array, write_image
    from atelier.io.sources import read_source
    from atelier.recipe import Recipe

    if task not in METHODS:
        raise InputError(f"unknown task {task!r}; choose one of: {', '.join(METHODS)}")
    method = method or METHODS[task][0]
    check_method(task, method)
    check_output_path(output, [source, mask])
    rgb, alpha = read_source(source)
    height, width = rgb.shape[:2]
    if task == "upscale":
        from atelier.io.images import max_megapixels

        megapixels = width * height * scale * scale / 1e6
        if megapixels > max_megapixels():
            raise InputError(
                f"{source}: x{scale} would make a {megapixels:.0f}-megapixel picture, over the {max_megapixels():g} MP limit "
                "(ATELIER_MAX_MEGAPIXELS); enlarge a smaller picture or by less"
            )
    started = time.perf_counter()
    summary: dict = {"task": task, "method": method, "input": str(source), "output": str(output), "input_size": [width, height]}
    params: dict = {"method": method}
    if on_progress is not None:
        on_progress(Event(0, None, phase=task, detail=method))
    if task == "inpaint":
        from atelier.restore.masks import load_mask, scratch_mask

        if mask is None and not auto_mask:
            raise InputError("inpainting needs a mask (--mask FILE, white = fill) or --auto-mask for scratches and dust")
        hole = load_mask(mask, (width, height), invert=invert_mask) if mask is not None else np.zeros((height, width), bool)
        if auto_mask:
            hole = hole | scratch_mask(rgb)
            if not hole.any():
                raise InputError(f"{source}: no scratches or dust found (try a mask file)")
        result = inpaint(rgb, hole, method=method, steps=steps, on_progress=on_progress, cancel=cancel)
        summary["mask_fraction"] = round(float(hole.mean()), 5)
        if hole.mean() > 0.5:
            summary["warning"] = (
                f"the mask covers {hole.mean():.0%} of the picture (white = fill); if white marks what to keep, use --invert-mask"
            )
        params.update(auto_mask=auto_mask, invert_mask=invert_mask)
    elif task == "denoise":
        result, used = denoise(rgb, sigma, method=method, model=model, steps=steps, on_progress=on_progress, cancel=cancel)
        summary["sigma"] = round(used, 2)
        summary["sigma_estimated"] = sigma is None
        params["sigma"] = round(used, 2)
    else:
        result = upscale(rgb, scale, method=method, model=model, steps=steps, on_progress=on_progress, cancel=cancel)
        if alpha is not None:
            alpha = resize_array(alpha, result.shape[1], result.shape[0])
        summary["scale"] = params["scale"] = scale
    if method == "dip":
        params["steps"] = steps
    if model is not None:
        params["model"] = str(model)
    recipe = Recipe(f"restore-{task}", params)
    recipe.add_input("photo", source)
    if mask is not None:
        recipe.add_input("mask", mask)
    write_image(result, output, alpha=alpha, text=recipe.png_text())
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["output_size"] = [result.shape[1], result.shape[0]]
    if on_progress is not None:
        on_progress(Event(1, 1, phase=task, detail=method, result=result))
    return summary
