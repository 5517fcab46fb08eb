"""Style commands: stylize, info, replay, styles, train-style, export-onnx, backbones."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import List, Optional

import typer

from atelier.cli.common import EventProgress, app, err, handles_errors, out
from atelier.options import cli_options
from atelier.style.arbitrary.settings import ArbitrarySettings
from atelier.style.fast.settings import TrainStyleSettings
from atelier.style.settings import StyleSettings


@app.command()
@handles_errors
@cli_options(StyleSettings)
def stylize(
    content: str = typer.Argument(..., help="Photo to restyle: a file, or sample:astronaut / chelsea / coffee / rocket."),
    style: List[str] = typer.Option(
        ...,
        "--style",
        "-s",
        help="A painting (any image file), a built-in style name (`atelier styles`) or a style model file (.pt/.onnx). Repeat to blend several.",
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the result (.png keeps the recipe; .jpg, .webp)."),
    style_weights: Optional[str] = typer.Option(None, "--style-weights", help="Blend weights for several styles, e.g. 0.7,0.3."),
    mask: Optional[str] = typer.Option(
        None, "--mask", help="Image whose white (or opaque) areas get the style; black areas keep the photo."
    ),
    style_layers: Optional[str] = typer.Option(
        None,
        "--style-layers",
        help="Style layers and weights, e.g. relu1_1=1,relu3_1=0.5 (names: `atelier backbones`). --engine optimize only.",
    ),
    content_layers: Optional[str] = typer.Option(
        None, "--content-layers", help="Content layers and weights, e.g. block5=1. --engine optimize only."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary (output, size, engine, seconds) on stdout."),
    settings: StyleSettings = None,
) -> None:
    """Restyle a photo with any painting: with the optimisation engine, or instantly (--engine fast).

    A painting file is painted step by step by the optimisation engine (Gatys et al.; about a
    minute at 512 px, the quality reference) unless you ask for --engine fast: one pass of the
    arbitrary-style network, about a second, a lighter stylisation; `atelier refine` then
    continues it with the optimiser. Built-in styles (`atelier styles`) are paintings stored for
    that network (always one pass; they blend with painting files); style model files (.pt,
    .onnx) are networks of their own. --detail sets how much fine photo detail survives.

    Examples:

      atelier stylize photo.jpg --style starry_night.jpg -o out.png

      atelier stylize photo.jpg --style starry_night.jpg --engine fast -o instant.png

      atelier stylize photo.jpg -s monet.jpg -s hokusai.jpg --style-weights 0.7,0.3 -o mix.png

      atelier stylize portrait.png -s scream.jpg --preserve-color --strength 0.6 -o soft.png

      atelier stylize photo.jpg -s painting.jpg --mask sky.png --size 2048 -o big.png

      atelier stylize photo.jpg --style starry-night -o builtin.png
    """
    from atelier.style.api import StyleRequest
    from atelier.style.api import stylize as paint
    from atelier.style.options import parse_layer_weights, parse_style_weights

    settings.style_layers = parse_layer_weights(style_layers, "--style-layers")
    settings.content_layers = parse_layer_weights(content_layers, "--content-layers")
    request = StyleRequest(content, list(style), str(output), parse_style_weights(style_weights, len(style)), mask, settings)
    start = time.perf_counter()
    with EventProgress("loading") as progress:
        result = paint(request, on_progress=progress)
    width, height = result.size
    took = time.perf_counter() - start
    if as_json:
        print(
            json.dumps(
                {
                    "output": str(result.output),
                    "width": width,
                    "height": height,
                    "engine": result.painter,
                    "runtime": result.runtime,
                    "seconds": round(took, 3),
                    "painting_seconds": round(result.seconds, 3),
                    "losses": result.losses,
                }
            )
        )
    err.print(f"wrote [bold]{result.output}[/] ({width}x{height}) in {took:.2f}s ({result.painter}, {result.runtime})")


@app.command()
@handles_errors
def info(
    image: Path = typer.Argument(..., help="A PNG written by Atelier."),
    as_json: bool = typer.Option(False, "--json", help="Print the recipe as JSON."),
) -> None:
    """Show the recipe embedded in an output: parameters, seed, inputs and their hashes, backbone, version.

    Example:  atelier info out.png --json
    """
    from atelier.errors import InputError
    from atelier.recipe import read_recipe

    recipe = read_recipe(image)
    if recipe is None:
        raise InputError(f"{image}: no Atelier recipe in this file (only PNGs written by Atelier carry one)")
    if as_json:
        print(json.dumps(json.loads(recipe.to_json()), indent=2))
        return
    from rich.table import Table  # only where a table is shown (start-up time)

    table = Table(title=f"{image}", show_header=False)
    table.add_row("operation", recipe.operation)
    table.add_row("created", recipe.created)
    table.add_row("atelier", recipe.atelier_version)
    table.add_row("backbone", f"{recipe.backbone} (weights {(recipe.weights_sha256 or '?')[:16]}…)")
    table.add_row("seed", str(recipe.seed))
    for role, entry in recipe.inputs.items():
        table.add_row(role, f"{entry['path']}  sha256 {entry['sha256'][:16]}…")
    settings = recipe.params.get("settings")
    for key, value in (settings if isinstance(settings, dict) else recipe.params).items():
        table.add_row(str(key), str(value))
    if isinstance(settings, dict) and recipe.params.get("style_weights"):
        table.add_row("style_weights", str(recipe.params["style_weights"]))
    out.print(table)


@app.command()
@handles_errors
def replay(
    image: Path = typer.Argument(..., help="A PNG written by Atelier."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write (default: NAME.replay.png beside it)."),
) -> None:
    """Re-run the recipe embedded in an output, with the same inputs, settings and seed.

    Example:  atelier replay out.png -o again.png
    """
    from atelier.style.api import replay as replay_recipe

    target = output or image.with_name(f"{image.stem}.replay.png")
    with EventProgress("loading the inputs") as progress:
        result, warnings = replay_recipe(image, target, on_progress=progress)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    err.print(f"wrote [bold]{result.output}[/]")


@app.command()
@handles_errors
def refine(
    image: Path = typer.Argument(..., help="A fast result: a PNG written by `atelier stylize` with a painting."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the refined picture."),
    steps: Optional[int] = typer.Option(
        None, "--steps", help="Optimisation steps (default: a quarter of a full run's; see docs/arbitrary-style.md)."
    ),
) -> None:
    """Refine a fast result with the optimisation engine, starting from it.

    The same photo, paintings, blend and size; fewer steps than a run from scratch.

    Example:  atelier stylize photo.jpg -s painting.jpg --engine fast -o fast.png && atelier refine fast.png -o refined.png
    """
    from atelier.style.api import REFINE_STEPS
    from atelier.style.api import refine as refine_result

    with EventProgress("loading the inputs and loss networks") as progress:
        result = refine_result(image, output, steps=REFINE_STEPS if steps is None else steps, on_progress=progress)
    width, height = result.size
    err.print(f"wrote [bold]{result.output}[/] ({width}x{height}) in {result.seconds:.1f}s")


@app.command("styles")
@handles_errors
def list_styles(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of objects (name, title, artist, date, sizes)."),
) -> None:
    """List the built-in fast styles: use one with `atelier stylize photo.jpg --style NAME`.

    Example:  atelier styles --json
    """
    from atelier.style.fast.pack import builtin_styles

    styles = builtin_styles()
    if as_json:
        print(json.dumps([s.to_dict() for s in styles], indent=2))
        return
    from rich.table import Table  # only where a table is shown (start-up time)

    table = Table(title="built-in styles")
    for column in ("name", "painting", "artist, date", "painted by", "files"):
        table.add_column(column)
    for s in styles:
        table.add_row(s.name, s.title, f"{s.artist}, {s.date}", s.painted_by, f"{s.size_bytes / 1e6:.1f} MB")
    out.print(table)


@app.command("train-style")
@handles_errors
@cli_options(TrainStyleSettings)
def train_style_cmd(
    style: str = typer.Option(..., "--style", "-s", help="The painting to learn (an image file)."),
    output: Path = typer.Option(..., "--output", "-o", help="Model file to write (.pt); training state goes beside it as MODEL.pt.train."),
    content_dir: Optional[Path] = typer.Option(
        None,
        "--content-dir",
        help="Folder of photos to train on (COCO or your own; sub-folders searched). Default: photos bundled with scikit-image.",
    ),
    name: Optional[str] = typer.Option(None, "--name", help="The style's name (default: from the painting's file name)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run saved beside --output (step count, optimiser, random state)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model (and its training state) at --output."),
    time_limit: Optional[str] = typer.Option(
        None, "--time-limit", help="Stop cleanly after this long (90s, 10m, 1h): the model so far is saved, --resume continues."
    ),
    settings: TrainStyleSettings = None,
    explicit: set = None,
) -> None:
    """Train a fast style network on one painting (Johnson et al. 2016, instance norm).

    The network learns to paint any photo like the painting in one pass. It uses the
    same losses as `atelier stylize`. On 2 CPU cores a step at the default size takes
    about half a second (1200 steps: 10 minutes); a CUDA GPU is used when PyTorch sees
    one. A preview of a photo it never trained on is written every --preview-every steps.
    Ctrl-C saves; --resume continues.

    Examples:

      atelier train-style --style monet.jpg -o monet.pt

      atelier train-style --style monet.jpg --content-dir ~/coco/train2017 -o monet.pt --steps 40000

      atelier stylize photo.jpg --style monet.pt -o out.png
    """
    from atelier.style.fast.train import train_style

    if resume:  # the run's own settings, with a new step total only if one was given
        settings = TrainStyleSettings(steps=settings.steps) if "steps" in explicit else None
    with EventProgress("loading the painting, photos and loss networks") as progress:
        model = train_style(
            style,
            output,
            settings,
            content_dir=content_dir,
            name=name,
            resume=resume,
            force=force,
            time_limit=time_limit,
            on_progress=progress,
        )
    for skipped in model.skipped:
        err.print(f"[yellow]skipped:[/] {skipped}")
    err.print(f"wrote [bold]{output}[/] ({model.trained_steps} steps). Try it:  atelier stylize photo.jpg --style {output} -o out.png")


@app.command("train-arbitrary")
@handles_errors
@cli_options(ArbitrarySettings)
def train_arbitrary_cmd(
    output: Path = typer.Option(
        ...,
        "--output",
        "-o",
        help="Model folder to write: network.pt, encoder.onnx, decoder.onnx, decoder.int8.onnx, card.json (and the run's files).",
    ),
    photos: Optional[Path] = typer.Option(
        None, "--photos", help="Folder of photos (sub-folders searched). Default: photos bundled with scikit-image."
    ),
    paintings: Optional[Path] = typer.Option(
        None,
        "--paintings",
        help="Folder of paintings to draw style samples from (procedural paintings, photos and textures are always used).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --output."),
    force: bool = typer.Option(False, "--force", help="Start over in --output, replacing the run there."),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help="Stop cleanly after this long (90s, 10m, 1h); --resume continues."),
    settings: ArbitrarySettings = None,
    explicit: set = None,
) -> None:
    """Train the arbitrary-style network (any painting, one pass) on your own photos and paintings.

    The decoder first learns to reconstruct photos, then to paint (docs/arbitrary-style.md).
    Use the result with ATELIER_ARBITRARY_MODEL=FOLDER atelier stylize photo.jpg -s art.jpg --engine fast -o out.png.

    Example:  atelier train-arbitrary --photos ~/coco/train2017 --paintings ~/wikiart -o my-model --time-limit 8h
    """
    from atelier.style.arbitrary.train import train_arbitrary

    if resume:  # the run's own settings, with new step totals only if given
        settings = (
            ArbitrarySettings(**{k: getattr(settings, k) for k in ("recon_steps", "style_steps") if k in explicit})
            if explicit & {"recon_steps", "style_steps"}
            else None
        )
    with EventProgress("loading the photos and loss networks") as progress:
        folder = train_arbitrary(
            photos, output, settings, paintings=paintings, resume=resume, force=force, time_limit=time_limit, on_progress=progress
        )
    err.print(
        f"wrote [bold]{folder}[/]. Try it:  ATELIER_ARBITRARY_MODEL={folder} atelier stylize photo.jpg -s painting.jpg --engine fast -o out.png"
    )


@app.command("export-onnx")
@handles_errors
def export_onnx_cmd(
    style: str = typer.Argument(
        ...,
        help="A built-in style name (`atelier styles`), a .pt style model, or `arbitrary` (the any-painting network; or a folder from `atelier train-arbitrary`).",
    ),
    output: Path = typer.Option(..., "--output", "-o", help="ONNX file to write (for the arbitrary network: a folder)."),
    quantize: bool = typer.Option(
        False, "--int8", help="Int8 dynamic quantisation of the weights (smaller file; see docs for its quality cost)."
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing file at --output."),
) -> None:
    """Export a style network to ONNX, with dynamic height and width.

    A fast style: input `image` (1, 3, H, W) float in [0, 1] (sides multiples of 8; pad others),
    output `stylized`, same shape; use it with onnxruntime anywhere, or with
    `atelier stylize photo.jpg --style FILE.onnx`.

    The arbitrary network: a folder with encoder.onnx (image -> level0..level3 features),
    decoder.onnx (features -> picture), decoder.int8.onnx (the same with int8 weights and
    activations, calibrated on sample photos: what the runtime uses unless
    ATELIER_ARBITRARY_PRECISION=fp32) and card.json; the transform between them is NumPy
    (docs/arbitrary-style.md). Use it with ATELIER_ARBITRARY_MODEL=FOLDER.

    Examples:

      atelier export-onnx starry-night -o starry.onnx

      atelier export-onnx arbitrary -o arbitrary-onnx/
    """
    from atelier.style.arbitrary.export import export_folder, is_arbitrary

    if is_arbitrary(style):
        with err.status("exporting…"):
            folder = export_folder(style, output, force=force)
        err.print(f"wrote [bold]{folder}[/] (encoder.onnx, decoder.onnx, decoder.int8.onnx, card.json)")
        return
    from atelier.style.fast.export import export_onnx

    with err.status("exporting…"):
        path = export_onnx(style, output, quantize=quantize, force=force)
    err.print(f"wrote [bold]{path}[/] ({path.stat().st_size / 1e6:.1f} MB)")


@app.command("backbones")
@handles_errors
def list_backbones(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")) -> None:
    """List the loss networks (for --backbone) and the feature extractors behind them, with their layers.

    Example:  atelier backbones --json
    """
    from dataclasses import asdict

    from atelier.backbones import available
    from atelier.style import PRESETS

    presets = [
        {
            "name": p.name,
            "description": p.description,
            "content": p.content_backbone,
            "style": p.style_backbone,
            "offline": all(next(b.offline for b in available() if b.name == n) for n in p.backbones),
        }
        for p in PRESETS.values()
    ]
    from atelier.style.engine import layer_names

    extractors = [{**asdict(b), "layers": layer_names(b.name)} for b in available()]
    if as_json:
        print(json.dumps({"presets": presets, "backbones": extractors}, indent=2))
        return
    from rich.table import Table  # only where a table is shown (start-up time)

    table = Table(title="loss networks (--backbone)")
    for column in ("name", "offline", "description"):
        table.add_column(column)
    for p in presets:
        table.add_row(p["name"], "yes" if p["offline"] else "download", p["description"])
    out.print(table)
    table = Table(title="feature extractors (layers for --style-layers / --content-layers)")
    for column in ("name", "weights", "layers"):
        table.add_column(column)
    for b in extractors:
        layers = [n for n in b["layers"] if not n.startswith("conv")]
        table.add_row(b["name"], b["weights"], ", ".join(layers))
    out.print(table)
