"""Stylising a photo: one request, one entry point, one result, whichever engine paints.

:func:`stylize` owns every decision the front ends used to make: which engine paints (see
:mod:`atelier.style.settings`), how a mask is applied, what the output's recipe holds. The
command line, the studio and :func:`replay` all build a :class:`StyleRequest` and call it.

The fast engines never import PyTorch (built-in styles and the arbitrary-style network run
on onnxruntime); the optimisation engine does, when it is chosen.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from atelier.errors import InputError
from atelier.events import Event, OnEvent
from atelier.io import as_float, check_output_path, fit_size, read_source, resize_array, resize_sized, to_uint8, write_image
from atelier.io.images import probe_image
from atelier.io.paths import check_not_an_input, file_sha256
from atelier.io.sources import is_sample, source_sha256
from atelier.options import from_dict
from atelier.ort import release_memory
from atelier.recipe import Recipe, read_recipe
from atelier.style.options import normalised_weights
from atelier.style.settings import StyleSettings

OPERATION = "stylize"
LEGACY_FAST_OPERATION = "stylize-fast"  # recipes written before the engines were unified
#: What :func:`stylize` reports as the engine that painted.
PAINTERS = ("optimize", "arbitrary", "networks")


@dataclass
class StyleRequest:
    """What to paint: a photo, one or more styles (painting files, built-in names, model
    files), where to write, and the settings."""

    content: str
    styles: list[str]
    output: str
    style_weights: list[float] | None = None
    mask: str | None = None
    settings: StyleSettings = field(default_factory=StyleSettings)
    painter: str | None = None
    """Force a painter (replaying a recipe: built-ins painted by their per-style networks before
    they became stored paintings replay that way); None: :func:`choose_painter` decides."""


@dataclass
class StyleResult:
    pixels: np.ndarray
    """What was written, ``(H, W, 3)``: float32 in [0, 1], or 8-bit where the fast engine
    enlarged a picture straight to 8-bit (a quarter of the memory). :attr:`image` is always float."""
    output: Path
    recipe: Recipe
    painter: str
    """Which engine painted: 'optimize', 'arbitrary' (fast, any painting) or 'networks' (fast, per-style networks)."""
    runtime: str
    """'onnx', 'torch' or both ('onnx,torch') for the fast engines; 'torch' for optimize."""
    seconds: float
    """Time spent painting (excluding reading and writing files)."""
    losses: dict[str, float] = field(default_factory=dict)

    @property
    def image(self) -> np.ndarray:
        """``(H, W, 3)`` float32 in [0, 1]: what was written (a new float copy of 8-bit pixels)."""
        return as_float(self.pixels)

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` of what was written (without the float copy :attr:`image` makes)."""
        return self.pixels.shape[1], self.pixels.shape[0]


def is_style_network(spec: str | Path) -> bool:
    """True for built-in style names and fast-style model files (.pt, .onnx); False for paintings."""
    from atelier.style.fast.pack import resolve_style

    return resolve_style(str(spec)) is not None or Path(spec).suffix.lower() in (".pt", ".onnx")


def _stored_painting(spec: str) -> bool:
    """A built-in name whose painting is stored as statistics for the arbitrary-style network."""
    from atelier.style.arbitrary.runtime import available
    from atelier.style.fast.pack import resolve_style

    builtin = resolve_style(str(spec))
    return builtin is not None and builtin.stored and available()


def choose_painter(styles: Sequence[str], settings: StyleSettings) -> str:
    """Which engine paints ``styles`` with ``settings.engine``; a clear error for impossible asks.

    Built-in names are paintings stored as statistics, painted by the arbitrary-style network
    (fast only); style model files (``.pt``, ``.onnx``, and built-ins without stored statistics)
    are per-style networks. Painting files go to the arbitrary-style network with ``fast`` and
    to the optimiser with ``optimize`` and ``auto``.
    """
    from atelier.style.fast.pack import builtin_styles

    networks = [is_style_network(s) for s in styles]
    for spec, is_network in zip(styles, networks):
        if not is_network and not is_sample(spec) and not Path(spec).suffix and not Path(spec).exists():
            names = ", ".join(b.name for b in builtin_styles()) or "none installed"
            raise InputError(f"--style {spec}: no such file and no built-in style by that name (built-ins: {names})")
    if any(networks):
        stored = [n and _stored_painting(s) for s, n in zip(styles, networks)]
        if not all(networks):
            if settings.engine != "optimize" and all(st or not n for st, n in zip(stored, networks)):
                return "arbitrary"  # built-ins are stored paintings: they blend with painting files
            raise InputError(
                "style model files and painting images cannot be mixed in one call (built-in styles can, with --engine fast)"
                if settings.engine != "optimize"
                else "built-in styles are painted by the instant network: they cannot be mixed with paintings under --engine optimize"
            )
        if settings.engine == "optimize":
            raise InputError(
                "built-in styles and style model files are networks: they run on the fast engine only (drop --engine optimize)"
            )
        return "arbitrary" if all(stored) else "networks"
    if settings.engine != "fast":  # auto: the optimiser still paints better (docs/arbitrary-style.md)
        return "optimize"
    from atelier.style.arbitrary.runtime import available

    if not available():
        raise InputError("the arbitrary-style network is not installed in this copy of Atelier; use --engine optimize")
    return "arbitrary"


def _mask_weights(mask: str) -> np.ndarray:
    """A mask file as ``(H, W)`` weights at its own size: its alpha where it has transparency,
    else its brightness (white or opaque = stylise). The one rule for every engine."""
    rgb, alpha = read_source(mask)
    return alpha if alpha is not None and alpha.min() < 1 else rgb.mean(axis=2)


def _region(mask: str | None, width: int, height: int) -> np.ndarray | None:
    """The mask as ``(H, W, 1)`` weights, at the output's size."""
    return None if mask is None else resize_array(_mask_weights(mask), width, height)[..., None]


def _check(request: StyleRequest) -> list[float]:
    settings = request.settings
    settings.validate()
    if not request.styles:
        raise InputError("give at least one --style")
    check_output_path(request.output, [request.content, *request.styles, request.mask, settings.init_image])
    # Every picture's header now: a missing or unreadable file is one line before any engine
    # loads (PyTorch's import alone takes 2 s). Names without a suffix are left to choose_painter.
    for spec in (request.content, request.mask, settings.init_image, *request.styles):
        if spec is not None and not is_sample(spec) and not is_style_network(spec) and (Path(spec).suffix or Path(spec).exists()):
            probe_image(spec)
    return normalised_weights(request.style_weights, len(request.styles))


def stylize(request: StyleRequest, *, on_progress: OnEvent | None = None, cancel: threading.Event | None = None) -> StyleResult:
    """Paint ``request.content`` with ``request.styles`` and write ``request.output`` (PNG: with its recipe).

    The output keeps the photo's alpha. Nothing is written if anything fails or the
    run is cancelled (``cancel`` is checked between the optimiser's steps).
    """
    settings = request.settings
    _check(request)
    painter = choose_painter(request.styles, settings)
    if request.painter == "networks" and painter == "arbitrary":
        painter = "networks"  # an old recipe's built-ins: their per-style networks, as recorded
    if painter == "optimize":
        return _optimize(request, on_progress, cancel)

    # (the instant engine reads 8-bit pictures: no float copy of the photo)
    photo, alpha = read_source(request.content, max_side=settings.size, eight_bit=painter == "arbitrary")
    if settings.size is not None:
        width, height = fit_size(photo.shape[1], photo.shape[0], settings.size)
        photo = resize_sized(photo, width, height)
        alpha = None if alpha is None else resize_sized(alpha, width, height)
    region = _region(request.mask, photo.shape[1], photo.shape[0])
    if on_progress is not None:
        on_progress(Event(0, 1, phase="painting"))
    start = time.perf_counter()
    if painter == "networks":
        from atelier.style.fast.runtime import apply_styles, choose_runtime, find_style

        refs = [find_style(s) for s in request.styles]
        image = apply_styles(
            photo,
            refs,
            weights=request.style_weights,
            strength=settings.strength,
            preserve_color=settings.preserve_color,
            runtime=settings.runtime,
        )
        runtimes = [choose_runtime(r, photo.shape[0] * photo.shape[1], settings.runtime) for r in refs]
        model_files = [r.onnx if rt == "onnx" else r.pt for r, rt in zip(refs, runtimes)]
    else:
        from atelier.style.arbitrary.runtime import paint

        # 8-bit from here on (what the file gets): big pictures need a quarter of the memory
        photo = to_uint8(photo)
        release_memory()
        image, runtimes, model_files = paint(photo, request.styles, request.style_weights, settings, mask=region, as_uint8=True)
    if region is not None:
        image = as_float(image) * region + as_float(photo) * (1 - region)
    seconds = time.perf_counter() - start

    recipe = _recipe(request, painter)
    hashes = [file_sha256(f) for f in model_files]
    recipe.weights_sha256 = "+".join(h[:16] for h in hashes) if len(hashes) > 1 else hashes[0]
    output = write_image(image, request.output, alpha=alpha, text=recipe.png_text())
    if on_progress is not None:
        on_progress(Event(1, 1, phase="painting", result=image))
    return StyleResult(image, output, recipe, painter, ",".join(dict.fromkeys(runtimes)), seconds)


def _recipe(request: StyleRequest, painter: str) -> Recipe:
    recipe = Recipe(
        OPERATION,
        params={
            "settings": request.settings.to_dict(),
            "painter": painter,
            "styles": [s if is_style_network(s) and not Path(s).exists() else None for s in request.styles],
            "style_weights": list(request.style_weights) if request.style_weights else None,
        },
        seed=request.settings.seed,
        backbone=request.settings.backbone if painter == "optimize" else painter,
    )
    recipe.add_input("content", request.content)
    for index, style in enumerate(request.styles):
        if Path(style).exists() or is_sample(style):
            recipe.add_input(f"style[{index}]", style)
    if request.mask is not None:
        recipe.add_input("mask", request.mask)
    if request.settings.init_image is not None:
        recipe.add_input("init", request.settings.init_image)
    return recipe


def _optimize(request: StyleRequest, on_progress: OnEvent | None, cancel: threading.Event | None) -> StyleResult:
    """The optimisation engine (PyTorch): tensors in, tensor out, written like the others."""
    from atelier.io import load_source, resize_to
    from atelier.io.images import array_to_tensor
    from atelier.style.engine import check_layers, stylize_steps, weights_hash

    settings = request.settings
    check_layers(settings)
    loaded = load_source(request.content)
    # Styles are read at a bounded size: their statistics do not need more pixels.
    style_side = max(512, round(settings.output_size * settings.style_scale))
    style_images = [load_source(s, max_side=style_side).rgb for s in request.styles]
    mask_tensor = None if request.mask is None else array_to_tensor(_mask_weights(request.mask))
    init_image = None if settings.init_image is None else load_source(settings.init_image).rgb
    recipe = _recipe(request, "optimize")
    recipe.weights_sha256 = weights_hash(settings)

    result, losses = None, {}
    start = time.perf_counter()
    for event in stylize_steps(
        loaded.rgb,
        style_images,
        style_weights=request.style_weights,
        mask=mask_tensor,
        settings=settings,
        init_image=init_image,
        cancel=cancel,
    ):
        losses = event.metrics or losses
        if on_progress is not None:
            on_progress(event)
        if event.result is not None:
            result = event.result
    assert result is not None
    seconds = time.perf_counter() - start
    image = result[0].permute(1, 2, 0).numpy().astype(np.float32)
    alpha = None if loaded.alpha is None else resize_to(loaded.alpha, result.shape[-2], result.shape[-1])[0, 0].numpy()
    output = write_image(image, request.output, alpha=alpha, text=recipe.png_text())
    return StyleResult(image, output, recipe, "optimize", "torch", seconds, losses)


# -- recipes ---------------------------------------------------------------------------------


def request_from_recipe(recipe: Recipe, output: str | Path) -> StyleRequest:
    """The request a recipe records, also from recipes written by earlier versions of Atelier."""
    p = recipe.params
    inputs = recipe.inputs
    mask = inputs.get("mask", {}).get("path")
    if recipe.operation == LEGACY_FAST_OPERATION:  # fast styles before the engines were unified
        settings = StyleSettings(
            engine="fast",
            size=p.get("size"),
            strength=p.get("strength", 1.0),
            preserve_color=bool(p.get("preserve_color")),
            runtime=p.get("engine", "auto"),
        )
        return StyleRequest(inputs["content"]["path"], list(p["styles"]), str(output), p.get("style_weights"), mask, settings, "networks")
    if recipe.operation != OPERATION:
        raise InputError(f"replaying '{recipe.operation}' is not supported")
    raw = dict(p["settings"])
    if "engine" not in raw:  # an optimisation recipe from before the engines were unified
        mode = raw.pop("preserve_color", None)
        raw.update(engine="optimize", preserve_color=mode is not None, color_method=mode or "luminance")
    raw.setdefault("calm_halos", 0.0)  # recipes from before halo calming painted without it
    raw.setdefault("work_size", 0)  # ... and from before the working size, every pixel
    raw.setdefault("match_passes", 0)  # ... and from before sliced matching, covariance only
    raw.setdefault("palette_match", 0.0)  # ... without moving the colours afterwards
    raw.setdefault("strokes", 0.0)  # ... and without brush strokes
    settings = from_dict(StyleSettings, raw)
    roles = sorted((k for k in inputs if k.startswith("style[") and k.endswith("]")), key=lambda k: int(k[6:-1]))
    files = {int(k[6:-1]): inputs[k]["path"] for k in roles}
    names = p.get("styles") or [None] * len(files)
    styles = [files.get(i) or names[i] for i in range(max(len(names), len(files)))]
    if any(s is None for s in styles):
        raise InputError("the recipe names a style that is neither a file nor a built-in")
    painter = p.get("painter") if p.get("painter") in PAINTERS else None
    return StyleRequest(inputs["content"]["path"], styles, str(output), p.get("style_weights"), mask, settings, painter)


def replay(
    image: str | Path, output: str | Path, *, on_progress: OnEvent | None = None, cancel: threading.Event | None = None
) -> tuple[StyleResult, list[str]]:
    """Re-run the recipe embedded in ``image``: the request it records, then :func:`stylize`.

    Returns the result and warnings (inputs or models that changed since the recipe was written).
    """
    from atelier.checkpoints import model_file_errors

    check_not_an_input(output, [image])
    recipe = read_recipe(image)
    if recipe is None:
        raise InputError(f"{image}: no Atelier recipe in this file (only PNGs written by Atelier carry one)")
    with model_file_errors(image, "recipe"):
        request = request_from_recipe(recipe, output)
        request.settings.validate()
    warnings: list[str] = []
    for role, entry in recipe.inputs.items():
        source = entry["path"]
        if not is_sample(source) and not Path(source).exists():
            raise InputError(f"{image}: the {role} input {source} no longer exists")
        if source_sha256(source) != entry["sha256"]:
            warnings.append(f"{role} input {source} has changed since the recipe was written")
    result = stylize(request, on_progress=on_progress, cancel=cancel)
    if recipe.weights_sha256 and result.recipe.weights_sha256 != recipe.weights_sha256:
        warnings.append("the model or loss-network weights differ from the ones recorded (the output may differ)")
    return result, warnings


#: Steps of a refinement: the fast result is already close, so a quarter of a full run
#: (measured in benchmarks/bench_arbitrary.py: docs/arbitrary-style.md).
REFINE_STEPS = 40


def refine(
    fast_result: str | Path,
    output: str | Path,
    *,
    steps: int = REFINE_STEPS,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> StyleResult:
    """Run the optimisation engine on a fast result (a PNG written by Atelier), starting from it:
    the same photo, paintings, blend, mask and size, ``steps`` optimisation steps."""
    recipe = read_recipe(fast_result)
    if recipe is None:
        raise InputError(f"{fast_result}: no Atelier recipe in this file (only PNGs written by Atelier can be refined)")
    request = request_from_recipe(recipe, output)
    if any(is_style_network(s) for s in request.styles):
        raise InputError(f"{fast_result}: painted with built-in styles, whose paintings do not ship; only painting files can be refined")
    from PIL import Image

    with Image.open(fast_result) as picture:
        size = max(picture.size)
    settings = request.settings
    request.settings = from_dict(
        StyleSettings, {**settings.to_dict(), "engine": "optimize", "steps": steps, "init_image": str(fast_result), "size": size}
    )
    return stylize(request, on_progress=on_progress, cancel=cancel)


def stylize_file(
    content: str | Path,
    styles: Sequence[str | Path],
    output: str | Path,
    *,
    style_weights: Sequence[float] | None = None,
    mask: str | Path | None = None,
    settings: StyleSettings | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> StyleResult:
    """:func:`stylize` with plain arguments: ``stylize_file("photo.jpg", ["art.jpg"], "out.png")``."""
    request = StyleRequest(
        str(content),
        [str(s) for s in styles],
        str(output),
        list(style_weights) if style_weights else None,
        None if mask is None else str(mask),
        settings or StyleSettings(),
    )
    return stylize(request, on_progress=on_progress, cancel=cancel)
