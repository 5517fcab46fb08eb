"""Running the learned restorers: built-in or user-trained model files, tiled so any picture
size runs in bounded memory (tiles overlap by more than the networks' reach, so no seams)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from atelier import catalog
from atelier.checkpoints import load_checkpoint, model_file_errors
from atelier.errors import InputError
from atelier.restore.train import MODEL_FORMAT, build_model, to_array, to_tensor

BUILTIN_DIR = Path(__file__).parent / "builtin"
#: Tile side (input pixels) and the margin each tile borrows from its neighbours.
TILE, MARGIN = 384, 32


def builtin_models() -> list[dict]:
    """The restorers that ship with Atelier (``builtin/models.json``), each with its ``path``."""
    return catalog.builtin_models(BUILTIN_DIR)


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> tuple[str, torch.nn.Module, dict]:
    data = load_checkpoint(path, MODEL_FORMAT)
    with model_file_errors(path, "restoration model"):
        model = build_model(data["task"], data["config"])
        model.load_state_dict({k: v.float() for k, v in data["weights"].items()})
    return data["task"], model.eval(), dict(data.get("info", {}))


def load_restorer(task: str, name_or_path: str | Path | None = None) -> tuple[torch.nn.Module, dict]:
    """The model for ``task`` (``upscale`` or ``denoise``): a model file, or the built-in."""
    path = catalog.resolve_model(name_or_path or task, BUILTIN_DIR, "built-in restoration model")
    kind, model, info = _load(str(path), path.stat().st_mtime)
    if kind != task:
        raise InputError(f"{path}: a model that does {kind}, not {task}")
    return model, info


def tiled(
    run: Callable[[torch.Tensor], torch.Tensor], rgb: np.ndarray, scale: int = 1, tile: int = TILE, margin: int = MARGIN
) -> np.ndarray:
    """Apply ``run`` (a ``(1, 3, h, w)`` -> ``(1, 3, h*scale, w*scale)`` network) tile by tile."""
    h, w = rgb.shape[:2]
    if h <= tile and w <= tile:
        with torch.no_grad():
            return to_array(run(to_tensor(rgb)))
    out = np.zeros((h * scale, w * scale, 3), np.float32)
    for y in range(0, h, tile):
        for x in range(0, w, tile):
            y0, x0 = max(0, y - margin), max(0, x - margin)
            y1, x1 = min(h, y + tile + margin), min(w, x + tile + margin)
            with torch.no_grad():
                piece = to_array(run(to_tensor(rgb[y0:y1, x0:x1])))
            ty, tx = (y - y0) * scale, (x - x0) * scale
            th, tw = (min(h, y + tile) - y) * scale, (min(w, x + tile) - x) * scale
            out[y * scale : y * scale + th, x * scale : x * scale + tw] = piece[ty : ty + th, tx : tx + tw]
    return out


def upscale_net(rgb: np.ndarray, scale: int, model: str | Path | None = None) -> np.ndarray:
    net, _ = load_restorer("upscale", model)
    if scale not in net.config.scales:
        raise InputError(f"this model enlarges x{', x'.join(map(str, net.config.scales))}, not x{scale}")
    return tiled(lambda x: net(x, scale), rgb, scale)


def denoise_net(rgb: np.ndarray, sigma: float, model: str | Path | None = None) -> np.ndarray:
    """``sigma`` on the 0-255 scale."""
    net, _ = load_restorer("denoise", model)
    return tiled(lambda x: net(x, sigma / 255.0), rgb)


def estimate_sigma(rgb: np.ndarray) -> float:
    """The Gaussian noise level of a picture, 0-255 scale: Donoho's estimator, the median
    absolute finest-scale diagonal (Haar HH) wavelet coefficient / 0.6745, averaged over the
    channels. Picture detail barely reaches that band, noise fills it evenly."""
    image = np.asarray(rgb, np.float64)
    image = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]
    diagonal = (image[0::2, 0::2] - image[0::2, 1::2] - image[1::2, 0::2] + image[1::2, 1::2]) / 2.0
    channels = diagonal.reshape(-1, diagonal.shape[-1] if diagonal.ndim == 3 else 1)
    return float(np.mean(np.median(np.abs(channels), axis=0) / 0.6745)) * 255.0


def blocking_level(rgb: np.ndarray) -> float:
    """A denoising level (0-255 scale) for JPEG blocking: how much stronger the luminance steps
    are across the 8x8 block grid than inside the blocks. Clean and noisy pictures measure
    1.0-1.12, JPEGs of quality 30 or less 1.4-3.2 (docs/restore.md); below 1.2 this is 0, above
    it 15 x (ratio - 1), at most 20 (the levels that measured best at quality 10-30)."""
    luma = np.asarray(rgb, np.float64).mean(axis=2)
    ratios = []
    for steps in (np.abs(np.diff(luma, axis=1)), np.abs(np.diff(luma, axis=0)).T):
        on_grid = np.arange(steps.shape[1]) % 8 == 7
        if on_grid.any() and (~on_grid).any():
            ratios.append(steps[:, on_grid].mean() / max(steps[:, ~on_grid].mean(), 1e-6))
    ratio = float(np.mean(ratios)) if ratios else 1.0
    return 0.0 if ratio < 1.2 else float(min(20.0, 15.0 * (ratio - 1.0)))


def estimate_level(rgb: np.ndarray) -> float:
    """``--sigma auto``: the Gaussian noise level or the JPEG blocking level, whichever is higher."""
    return max(estimate_sigma(rgb), blocking_level(rgb))
