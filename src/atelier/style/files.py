"""File-level style transfer: read inputs, stylise, write the output with its recipe.

This is what the command line and the web studio call; it takes plain arguments.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Sequence

import torch

from atelier import backbones
from atelier.checkpoints import model_file_errors
from atelier.errors import InputError
from atelier.io import check_not_an_input, check_output_path, load_source, read_recipe, resize_to, save_image
from atelier.io.sources import is_sample, source_sha256
from atelier.recipe import Recipe
from atelier.style.engine import Progress, StyleSettings, stylize_steps
from atelier.style.fast.files import FastResult
from atelier.style.options import parse_layer_weights, parse_style_weights  # noqa: F401 (re-exported)
from atelier.style.presets import get_preset

OPERATION = "stylize"


@dataclass
class StyleResult:
    image: torch.Tensor
    output: Path
    recipe: Recipe
    final_losses: dict[str, float]


def _weights_hash(settings: StyleSettings) -> str:
    """Hash of the backbones' weights, recorded so a replay can tell if they changed."""
    net = get_preset(settings.backbone)
    hashes = [backbones.get(name, settings.weights if name == "vgg19" else None).weights_sha256 or "" for name in net.backbones]
    return hashes[0] if len(hashes) == 1 else "+".join(h[:16] for h in hashes)


def stylize_file(
    content: str | Path,
    styles: Sequence[str | Path],
    output: str | Path,
    *,
    style_weights: Sequence[float] | None = None,
    mask: str | Path | None = None,
    settings: StyleSettings | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> StyleResult:
    """Stylise the image at ``content`` with the paintings at ``styles`` and write ``output``.

    ``content`` may be ``sample:NAME`` (a scikit-image photo). The output keeps the
    content's alpha channel and, as PNG, embeds the full recipe. Nothing is written if
    the run fails or is cancelled.
    """
    settings = settings or StyleSettings()
    settings.validate()
    output = Path(output)
    check_output_path(output, [content, *styles, mask])  # fail before minutes of work, not after
    if not styles:
        raise InputError("give at least one --style image")
    loaded = load_source(content)
    # Styles are read at a bounded size: their statistics do not need more pixels.
    style_images = [load_source(s, max_side=max(512, round(settings.size * settings.style_scale))).rgb for s in styles]
    mask_tensor = None
    if mask is not None:
        mask_image = load_source(mask)
        mask_tensor = mask_image.alpha if mask_image.alpha is not None and mask_image.alpha.min() < 1 else mask_image.rgb.mean(1, keepdim=True)

    recipe = Recipe(OPERATION, params={"settings": settings.to_dict(), "style_weights": list(style_weights) if style_weights else None}, seed=settings.seed, backbone=settings.backbone)
    recipe.add_input("content", content)
    for index, style in enumerate(styles):
        recipe.add_input(f"style[{index}]", style)
    if mask is not None:
        recipe.add_input("mask", mask)
    recipe.weights_sha256 = _weights_hash(settings)

    result = None
    last_losses: dict[str, float] = {}
    for event in stylize_steps(loaded.rgb, style_images, style_weights=style_weights, mask=mask_tensor, settings=settings, cancel=cancel):
        if event.losses:
            last_losses = event.losses
        if on_progress is not None:
            on_progress(event)
        if event.result is not None:
            result = event.result
    assert result is not None
    alpha = None if loaded.alpha is None else resize_to(loaded.alpha, result.shape[-2], result.shape[-1])
    save_image(result, output, alpha=alpha, recipe=recipe)
    return StyleResult(result, output, recipe, last_losses)


def replay(
    image: str | Path,
    output: str | Path,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[StyleResult | FastResult, list[str]]:
    """Re-run the recipe embedded in ``image`` (a stylisation, optimised or fast), writing ``output``.

    Returns the result and a list of warnings (inputs whose content changed since).
    """
    from atelier.style.fast.files import OPERATION as FAST_OPERATION
    from atelier.style.fast.files import replay_fast

    check_not_an_input(output, [image])
    recipe = read_recipe(image)
    if recipe is None:
        raise InputError(f"{image}: no Atelier recipe in this file (only PNGs written by Atelier carry one)")
    if recipe.operation not in (OPERATION, FAST_OPERATION):
        raise InputError(f"{image}: replaying '{recipe.operation}' is not supported")
    warnings: list[str] = []
    for role, entry in recipe.inputs.items():
        source = entry["path"]
        if not is_sample(source) and not Path(source).exists():
            raise InputError(f"{image}: the {role} input {source} no longer exists")
        if source_sha256(source) != entry["sha256"]:
            warnings.append(f"{role} input {source} has changed since the recipe was written")
    if recipe.operation == FAST_OPERATION:
        with model_file_errors(image, "recipe"):
            result = replay_fast(recipe, output)
        if result.recipe.weights_sha256 != recipe.weights_sha256:
            warnings.append("the style model files differ from the ones recorded (the output may differ)")
        return result, warnings
    with model_file_errors(image, "recipe"):
        known = {f.name for f in fields(StyleSettings)}
        settings = StyleSettings(**{k: v for k, v in recipe.params["settings"].items() if k in known})
        settings.validate()
        roles = [k for k in recipe.inputs if k.startswith("style[") and k.endswith("]")]
        styles = [recipe.inputs[k]["path"] for k in sorted(roles, key=lambda k: int(k[6:-1]))]
        mask = recipe.inputs.get("mask", {}).get("path")
        content = recipe.inputs["content"]["path"]
    result = stylize_file(
        content, styles, output,
        style_weights=recipe.params.get("style_weights"), mask=mask, settings=settings,
        on_progress=on_progress, cancel=cancel,
    )
    return result, warnings
