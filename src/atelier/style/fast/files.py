"""File-level fast stylisation: what ``atelier stylize photo.jpg --style starry-night`` calls.

No PyTorch here on the onnxruntime path (see :mod:`atelier.style.fast.runtime`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from atelier import checks
from atelier.io import check_output_path, fit_size, read_source, resize_array, write_image
from atelier.recipe import Recipe, file_sha256
from atelier.style.fast.runtime import apply_styles, choose_engine, find_style

OPERATION = "stylize-fast"


@dataclass
class FastResult:
    image: np.ndarray
    """``(H, W, 3)`` float32 in [0, 1]."""
    output: Path
    recipe: Recipe
    engine: str
    seconds: float
    """Time spent painting (excluding reading and writing files)."""


def stylize_fast_file(
    content: str | Path,
    styles: Sequence[str | Path],
    output: str | Path,
    *,
    style_weights: Sequence[float] | None = None,
    strength: float = 1.0,
    preserve_color: bool = False,
    mask: str | Path | None = None,
    size: int | None = None,
    engine: str = "auto",
) -> FastResult:
    """Paint the photo at ``content`` with fast styles (built-in names or model files).

    ``size`` sets the longest side of the output (the photo is resized, up or down, aspect
    ratio kept); by default the output has the photo's own size. ``mask`` (white =
    stylise) limits the style to a region. The PNG output embeds a replayable recipe.
    """
    output = Path(output)
    check_output_path(output, [content, mask, *styles])
    refs = [find_style(s) for s in styles]
    checks.side("size", size)
    photo, alpha = read_source(content)
    if size is not None:
        width, height = fit_size(photo.shape[1], photo.shape[0], size)
        photo = resize_array(photo, width, height)
        alpha = None if alpha is None else resize_array(alpha, width, height)
    region = None
    if mask is not None:
        mask_rgb, mask_alpha = read_source(mask)
        region = mask_alpha if mask_alpha is not None and mask_alpha.min() < 1 else mask_rgb.mean(axis=2)
        region = resize_array(region, photo.shape[1], photo.shape[0])[..., None]

    start = time.perf_counter()
    image = apply_styles(photo, refs, weights=style_weights, strength=strength, preserve_color=preserve_color, engine=engine)
    if region is not None:
        image = image * region + photo * (1 - region)
    seconds = time.perf_counter() - start
    engines = [choose_engine(r, photo.shape[0] * photo.shape[1], engine) for r in refs]

    recipe = Recipe(OPERATION, params={
        "styles": [r.name if r.builtin else str(Path(s).resolve()) for r, s in zip(refs, styles)],
        "style_weights": list(style_weights) if style_weights else None,
        "strength": strength, "preserve_color": preserve_color, "size": size, "engine": engine,
    })
    recipe.add_input("content", content)
    if mask is not None:
        recipe.add_input("mask", mask)
    # The exact model files used, so a replay can tell whether a style has changed since.
    hashes = [file_sha256(r.onnx if e == "onnx" else r.pt) for r, e in zip(refs, engines)]
    recipe.weights_sha256 = "+".join(h[:16] for h in hashes) if len(hashes) > 1 else hashes[0]
    write_image(image, output, alpha=alpha, recipe=recipe)
    return FastResult(image, output, recipe, ",".join(dict.fromkeys(engines)), seconds)


def replay_fast(recipe: Recipe, output: str | Path) -> FastResult:
    """Re-run a ``stylize-fast`` recipe."""
    p = recipe.params
    mask = recipe.inputs.get("mask", {}).get("path")
    return stylize_fast_file(
        recipe.inputs["content"]["path"], p["styles"], output, style_weights=p.get("style_weights"),
        strength=p.get("strength", 1.0), preserve_color=p.get("preserve_color", False), mask=mask,
        size=p.get("size"), engine=p.get("engine", "auto"),
    )
