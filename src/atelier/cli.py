"""The ``atelier`` command line: a thin front end over the Python API.

Every command calls one documented library function. User mistakes end with one line
on stderr and exit code 2; failures during the work with exit code 1; ``--debug`` shows
the traceback.
"""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from typing import Callable, List, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from atelier import __version__
from atelier.errors import AtelierError, Cancelled

app = typer.Typer(
    name="atelier",
    help=(
        "Atelier: deep generative models in an artist's hands.\n\n"
        "Restyle a photo with any painting, offline, on a laptop CPU:\n\n"
        "  atelier stylize photo.jpg --style starry_night.jpg -o out.png\n\n"
        "Try it with a bundled photo:  atelier stylize sample:astronaut --style painting.jpg -o out.png"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
#: Mirrors ``GanSettings.discriminator`` (kept here so `--help` needs no PyTorch import).
GAN_DEFAULT_DISCRIMINATOR = "dcgan"
err = Console(stderr=True)
out = Console()
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        print(f"atelier {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, envvar="ATELIER_THREADS", help="CPU threads for PyTorch (default: all cores)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    _state["debug"] = debug
    if threads:
        # Read by PyTorch when (and only if) it is imported, and by onnxruntime sessions:
        # fast styles never pay PyTorch's import just to set a thread count.
        os.environ["OMP_NUM_THREADS"] = os.environ["ATELIER_THREADS"] = str(threads)


def handles_errors(command: Callable) -> Callable:
    """Turn Atelier errors and Ctrl-C into one clear line and an exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except AtelierError as error:
            if _state["debug"]:
                raise
            label = "[yellow]stopped:[/]" if isinstance(error, Cancelled) else "[bold red]error:[/]"
            err.print(f"{label} {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            err.print("[yellow]interrupted[/]: nothing was written")
            raise typer.Exit(130) from None
        except OSError as error:
            # Disk full, a folder that cannot be written, a file that vanished: the system's
            # own words, on one line. Writes are atomic, so nothing half-written is left.
            if _state["debug"]:
                raise
            where = f"{error.filename}: " if error.filename else ""
            err.print(f"[bold red]error:[/] {where}{error.strerror or error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def _progress_bar() -> Progress:
    """The progress bar every long command shows: label, bar, n/total, a status text, times."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


def _metrics_text(metrics: dict[str, float]) -> str:
    return "  ".join(f"{name} {value:.3f}" for name, value in metrics.items())


def _style_progress() -> tuple[Progress, Callable]:
    bar = _progress_bar()
    task = bar.add_task("stylizing", total=None, info="loading")

    def on_progress(event) -> None:
        info = f"scale {event.scale + 1}/{event.scales} {event.size[0]}x{event.size[1]}"
        if event.tile:
            info += f" tile {event.tile[0]}/{event.tile[1]}"
        if event.losses:
            info += f"  style {event.losses['style']:.3g} content {event.losses['content']:.3g}"
        bar.update(task, completed=event.step, total=event.total, info=info)

    return bar, on_progress


@app.command()
@handles_errors
def stylize(
    content: str = typer.Argument(..., help="Photo to restyle: a file, or sample:astronaut / chelsea / coffee / rocket."),
    style: List[str] = typer.Option(..., "--style", "-s", help="A painting (image file), or a fast style: a built-in name (`atelier styles`) or a model file (.pt/.onnx). Repeat to blend several."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the result (.png keeps the recipe; .jpg, .webp)."),
    style_weights: Optional[str] = typer.Option(None, "--style-weights", help="Blend weights for several styles, e.g. 0.7,0.3."),
    size: Optional[int] = typer.Option(None, "--size", help="Longest side of the output in pixels (default: 512 with a painting; the photo's own size with a fast style)."),
    steps: int = typer.Option(160, "--steps", help="Optimisation steps in all (more: finer finish, slower). Paintings only."),
    strength: float = typer.Option(1.0, "--strength", help="How strongly to apply the style. Painting: 0.5 subtle, 2 bold. Fast style: 0 to 1, blended with the photo."),
    style_scale: float = typer.Option(1.0, "--style-scale", help="Brush-stroke size relative to the output: 2 gives larger strokes."),
    preserve_color: bool = typer.Option(False, "--preserve-color", help="Keep the photo's colours; take only texture from the painting."),
    color_method: str = typer.Option("luminance", "--color-method", help="How --preserve-color works: luminance (texture on brightness only) or histogram (recolour the painting first)."),
    mask: Optional[str] = typer.Option(None, "--mask", help="Image whose white (or opaque) areas get the style; black areas keep the photo."),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same picture."),
    backbone: str = typer.Option("atelier", "--backbone", help="Loss network (see `atelier backbones`)."),
    weights: Optional[str] = typer.Option(None, "--weights", help="Weights file for --backbone vgg19 (torchvision layout)."),
    init: str = typer.Option("palette", "--init", help="Starting image: palette (photo in the painting's colours), content, noise or style."),
    optimizer: str = typer.Option("lbfgs", "--optimizer", help="lbfgs (fast convergence) or adam."),
    statistic: str = typer.Option("covariance", "--statistic", help="Style statistic: covariance (centred Gram: strongest brushwork), gram (classic Gatys) or mean-std."),
    tv_weight: float = typer.Option(10.0, "--tv-weight", help="Smoothness: higher removes more speckle."),
    tile_size: int = typer.Option(768, "--tile-size", help="Scales larger than this are refined in overlapping tiles (bounds memory)."),
    style_layers: Optional[str] = typer.Option(None, "--style-layers", help="Style layers and weights, e.g. relu1_1=1,relu3_1=0.5 (names: `atelier backbones`)."),
    content_layers: Optional[str] = typer.Option(None, "--content-layers", help="Content layers and weights, e.g. block5=1."),
    smoothing: Optional[bool] = typer.Option(None, "--smoothing/--no-smoothing", help="Activation smoothing (Wang et al. 2021); default: the backbone's choice."),
    engine: str = typer.Option("auto", "--engine", help="Fast styles only: auto (onnxruntime on CPU, PyTorch on GPU or for huge photos), onnx or torch."),
) -> None:
    """Restyle a photo with one or more paintings (Gatys et al. neural style transfer),
    or in well under a second with a fast style (a trained network, Johnson et al. 2016).

    With a painting, the picture is optimised step by step (a minute or so at 512 px);
    with a fast style (`atelier styles` lists the built-ins) one network pass paints
    a photo of any size. The two kinds cannot be mixed in one call.

    Examples:

      atelier stylize photo.jpg --style starry-night -o out.png

      atelier stylize photo.jpg -s starry-night -s the-scream --style-weights 0.5,0.5 --strength 0.8 -o mix.png

      atelier stylize photo.jpg --style starry_night.jpg -o out.png

      atelier stylize photo.jpg -s monet.jpg -s hokusai.jpg --style-weights 0.7,0.3 -o mix.png

      atelier stylize portrait.png -s scream.jpg --preserve-color --strength 0.6 -o soft.png

      atelier stylize photo.jpg -s painting.jpg --mask sky.png --size 2048 -o big.png
    """
    from atelier.style.fast.runtime import uses_fast_styles
    from atelier.style.options import parse_style_weights

    if color_method not in ("luminance", "histogram"):
        raise typer.BadParameter("must be luminance or histogram", param_hint="--color-method")
    weights_list = parse_style_weights(style_weights, len(style))
    if uses_fast_styles(style):
        from atelier.errors import InputError
        from atelier.style.fast.files import stylize_fast_file

        if preserve_color and color_method != "luminance":
            raise InputError("fast styles preserve colour by luminance only; drop --color-method")
        start = time.perf_counter()
        with err.status("painting…"):
            fast_result = stylize_fast_file(
                content, style, output, style_weights=weights_list, strength=strength,
                preserve_color=preserve_color, mask=mask, size=size, engine=engine,
            )
        height, width = fast_result.image.shape[:2]
        err.print(f"wrote [bold]{fast_result.output}[/] ({width}x{height}) in {time.perf_counter() - start:.2f}s ({fast_result.engine})")
        return

    from atelier.style import StyleSettings, parse_layer_weights, stylize_file

    settings = StyleSettings(
        size=512 if size is None else size, steps=steps, strength=strength, style_scale=style_scale,
        preserve_color=color_method if preserve_color else None, seed=seed, backbone=backbone,
        weights=weights, init=init, optimizer=optimizer, statistic=statistic, tv_weight=tv_weight,
        tile_size=tile_size, smoothing=smoothing,
        style_layers=parse_layer_weights(style_layers, "--style-layers"),
        content_layers=parse_layer_weights(content_layers, "--content-layers"),
    )
    settings.validate()
    bar, on_progress = _style_progress()
    start = time.perf_counter()
    with bar:
        result = stylize_file(content, style, output, style_weights=weights_list, mask=mask, settings=settings, on_progress=on_progress)
    height, width = result.image.shape[-2:]
    err.print(f"wrote [bold]{result.output}[/] ({width}x{height}) in {time.perf_counter() - start:.1f}s")


@app.command()
@handles_errors
def info(
    image: Path = typer.Argument(..., help="A PNG written by Atelier."),
    as_json: bool = typer.Option(False, "--json", help="Print the recipe as JSON."),
) -> None:
    """Show the recipe embedded in an output: parameters, seed, inputs and their hashes, backbone, version.

    Example:  atelier info out.png --json
    """
    from atelier.io import read_recipe
    from atelier.errors import InputError

    recipe = read_recipe(image)
    if recipe is None:
        raise InputError(f"{image}: no Atelier recipe in this file (only PNGs written by Atelier carry one)")
    if as_json:
        print(json.dumps(json.loads(recipe.to_json()), indent=2))
        return
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
    from atelier.io import read_recipe
    from atelier.style import replay as replay_recipe
    from atelier.style.fast.files import OPERATION as FAST_OPERATION

    target = output or image.with_name(f"{image.stem}.replay.png")
    recipe = read_recipe(image)
    if recipe is not None and recipe.operation == FAST_OPERATION:
        with err.status("painting…"):  # one network pass: nothing to count
            result, warnings = replay_recipe(image, target)
    else:
        bar, on_progress = _style_progress()
        with bar:
            result, warnings = replay_recipe(image, target, on_progress=on_progress)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    err.print(f"wrote [bold]{result.output}[/]")


@app.command("styles")
@handles_errors
def list_styles(as_json: bool = typer.Option(False, "--json", help="Print a JSON list of objects (name, title, artist, date, sizes).")) -> None:
    """List the built-in fast styles: use one with `atelier stylize photo.jpg --style NAME`.

    Example:  atelier styles --json
    """
    from atelier.style.fast.pack import builtin_styles

    styles = builtin_styles()
    if as_json:
        print(json.dumps([s.to_dict() for s in styles], indent=2))
        return
    table = Table(title="built-in fast styles")
    for column in ("name", "painting", "artist, date", "model size"):
        table.add_column(column)
    for s in styles:
        table.add_row(s.name, s.title, f"{s.artist}, {s.date}", f"{s.size_bytes / 1e6:.1f} MB")
    out.print(table)


@app.command("train-style")
@handles_errors
def train_style_cmd(
    style: str = typer.Option(..., "--style", "-s", help="The painting to learn (an image file)."),
    output: Path = typer.Option(..., "--output", "-o", help="Model file to write (.pt); training state goes beside it as MODEL.pt.train."),
    content_dir: Optional[Path] = typer.Option(None, "--content-dir", help="Folder of photos to train on (COCO or your own; sub-folders searched). Default: photos bundled with scikit-image."),
    name: Optional[str] = typer.Option(None, "--name", help="The style's name (default: from the painting's file name)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Training steps (default 1200; with --resume: the new total, default the run's)."),
    batch: int = typer.Option(4, "--batch", min=1, help="Photos per step."),
    crop: int = typer.Option(192, "--crop", help="Side of the square training crops (multiple of 8; 256 on a GPU)."),
    style_size: int = typer.Option(512, "--style-size", help="Longest side the painting is seen at: larger gives smaller brush strokes."),
    style_weight: float = typer.Option(100.0, "--style-weight", help="Style against content: higher paints more boldly."),
    tv_weight: float = typer.Option(10.0, "--tv-weight", help="Smoothness."),
    backbone: str = typer.Option("atelier", "--backbone", help="Loss network (see `atelier backbones`)."),
    weights: Optional[str] = typer.Option(None, "--weights", help="Weights file for --backbone vgg19."),
    preview_every: int = typer.Option(100, "--preview-every", min=0, help="Write a preview (a photo never trained on) every N steps; 0: never."),
    checkpoint_every: int = typer.Option(100, "--checkpoint-every", min=1, help="Save the model and the training state every N steps."),
    seed: int = typer.Option(0, "--seed"),
    resume: bool = typer.Option(False, "--resume", help="Continue the run saved beside --output (step count, optimiser, random state)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model (and its training state) at --output."),
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
    from atelier.style.fast.train import TrainStyleSettings, train_style

    if resume:
        # The run's own settings are kept; only a new step total comes from here.
        settings = None if steps is None else TrainStyleSettings(steps=steps)
    else:
        settings = TrainStyleSettings(
            steps=steps or 1200, batch=batch, crop=crop, style_size=style_size, style_weight=style_weight,
            tv_weight=tv_weight, backbone=backbone, weights=weights, preview_every=preview_every,
            checkpoint_every=checkpoint_every, seed=seed,
        )
    bar = _progress_bar()
    task = bar.add_task("training", total=steps, info="loading the painting, photos and loss networks")

    def on_progress(event) -> None:
        info = _metrics_text({k: event.losses[k] for k in ("style", "content")})
        if event.preview:
            info += f"  preview {event.preview.name}"
        bar.update(task, completed=event.step, total=event.total, info=info)

    with bar:
        model = train_style(style, output, settings, content_dir=content_dir, name=name, resume=resume, force=force, on_progress=on_progress)
    for skipped in model.skipped:
        err.print(f"[yellow]skipped:[/] {skipped}")
    err.print(f"wrote [bold]{output}[/] ({model.trained_steps} steps). Try it:  atelier stylize photo.jpg --style {output} -o out.png")


@app.command("export-onnx")
@handles_errors
def export_onnx_cmd(
    style: str = typer.Argument(..., help="A built-in style name (`atelier styles`) or a .pt model."),
    output: Path = typer.Option(..., "--output", "-o", help="ONNX file to write."),
    quantize: bool = typer.Option(False, "--int8", help="Int8 dynamic quantisation of the weights (smaller file; see docs for its quality cost)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file at --output."),
) -> None:
    """Export a fast style to ONNX, with dynamic height and width (multiples of 8; pad others).

    Input `image` (1, 3, H, W) float in [0, 1]; output `stylized`, same shape. Use it with
    onnxruntime anywhere, or with `atelier stylize photo.jpg --style FILE.onnx`.

    Example:  atelier export-onnx starry-night -o starry.onnx
    """
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
        {"name": p.name, "description": p.description, "content": p.content_backbone, "style": p.style_backbone,
         "offline": all(next(b.offline for b in available() if b.name == n) for n in p.backbones)}
        for p in PRESETS.values()
    ]
    from atelier.style.engine import layer_names

    extractors = [{**asdict(b), "layers": layer_names(b.name)} for b in available()]
    if as_json:
        print(json.dumps({"presets": presets, "backbones": extractors}, indent=2))
        return
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


classify_app = typer.Typer(
    help=(
        "Recognise style, artist or genre from a few dozen examples per class.\n\n"
        "  atelier classify train paintings/ -o artists.pt\n\n"
        "  atelier classify predict artists.pt unknown.jpg --top-k 3\n\n"
        "  atelier classify evaluate artists.pt held-out/ --json"
    ),
    no_args_is_help=True,
)
app.add_typer(classify_app, name="classify")


@classify_app.command("train")
@handles_errors
def classify_train(
    data: Path = typer.Argument(..., help="Folder with one sub-folder of images per class."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to save the model (.pt)."),
    epochs: int = typer.Option(200, "--epochs", help="Most epochs for the head (early stopping usually ends sooner)."),
    finetune_blocks: int = typer.Option(0, "--finetune-blocks", help="Also train the last N of EfficientNet's 16 blocks (slower; for larger sets)."),
    finetune_epochs: int = typer.Option(5, "--finetune-epochs", help="Epochs of end-to-end fine-tuning when --finetune-blocks > 0."),
    val_split: float = typer.Option(0.2, "--val-split", help="Fraction of each class held out for validation and early stopping."),
    views: int = typer.Option(8, "--views", help="Augmented views per training image (crops, flips, mild colour jitter)."),
    seed: int = typer.Option(0, "--seed", help="Random seed for the split and augmentations."),
    no_balance: bool = typer.Option(False, "--no-balance", help="Do not weight classes by inverse frequency."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model at --output."),
) -> None:
    """Train a classifier by transfer learning from the ImageNet EfficientNet-Lite0.

    Features are extracted once (cached), so re-training takes seconds.

    Example:  atelier classify train paintings/ -o artists.pt --val-split 0.2
    """
    from atelier.classify import TrainSettings, train_classifier

    settings = TrainSettings(epochs=epochs, finetune_blocks=finetune_blocks, finetune_epochs=finetune_epochs, val_split=val_split, views=views, seed=seed, balance=not no_balance)
    bar = _progress_bar()
    tasks: dict[str, int] = {}

    def on_progress(event) -> None:
        if event.phase not in tasks:
            tasks[event.phase] = bar.add_task(event.phase, total=event.total, info="")
        bar.update(tasks[event.phase], completed=event.step, total=event.total, info=_metrics_text(event.metrics))

    with bar:
        result = train_classifier(data, output, settings, force=force, on_progress=on_progress)
    for message in result.skipped:
        err.print(f"[yellow]skipped:[/] {message}")
    summary = {
        "model": str(result.model_path), "classes": result.classes, "train_images": result.train_count,
        "val_images": result.val_count, "skipped": len(result.skipped), "epochs": result.epochs_run,
        "val": result.val_report.to_dict() if result.val_report else None,
    }
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    val = f", validation accuracy {result.val_report.accuracy:.3f}" if result.val_report else ""
    err.print(f"wrote [bold]{result.model_path}[/]: {len(result.classes)} classes, {result.train_count} training images{val}")


@classify_app.command("evaluate")
@handles_errors
def classify_evaluate(
    model: Path = typer.Argument(..., help="A model from `atelier classify train`."),
    data: Path = typer.Argument(..., help="Labelled folder (one sub-folder per class)."),
    confusion: Optional[Path] = typer.Option(None, "--confusion", help="Confusion-matrix PNG (default: MODEL.confusion.png)."),
    as_json: bool = typer.Option(False, "--json", help="Print accuracy, macro_f1 and per-class metrics as JSON."),
) -> None:
    """Accuracy, macro F1, per-class precision/recall/F1 and a confusion-matrix picture.

    Example:  atelier classify evaluate artists.pt held-out/ --json
    """
    from atelier.classify import evaluate

    target = confusion or model.with_suffix(".confusion.png")
    report, skipped = evaluate(model, data, target)
    for message in skipped:
        err.print(f"[yellow]skipped:[/] {message}")
    if as_json:
        print(json.dumps({**report.to_dict(), "confusion_png": str(target)}, indent=2))
        return
    table = Table(title=f"accuracy {report.accuracy:.3f}  macro F1 {report.macro_f1:.3f}")
    for column in ("class", "precision", "recall", "f1", "support"):
        table.add_column(column)
    for name, m in report.per_class.items():
        table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    out.print(table)
    err.print(f"wrote {target}")


@classify_app.command("predict")
@handles_errors
def classify_predict(
    model: Path = typer.Argument(..., help="A model from `atelier classify train`."),
    images: List[Path] = typer.Argument(..., help="One or more images."),
    top_k: int = typer.Option(3, "--top-k", help="How many classes to show per image."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The most likely classes for each image.

    Example:  atelier classify predict artists.pt a.jpg b.jpg --top-k 2 --json
    """
    from atelier.classify import predict

    results = predict(model, images, top_k)
    if as_json:
        print(json.dumps(results, indent=2))
        return
    for result in results:
        ranked = ", ".join(f"{p['class']} {p['probability']:.1%}" for p in result["predictions"])
        out.print(f"{result['image']}: {ranked}", highlight=False)


@app.command()
@handles_errors
def studio(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default: only this computer)."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser tab (servers, tests)."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Where uploads and the gallery live (default ~/.local/share/atelier/studio)."),
    max_jobs: int = typer.Option(1, "--max-jobs", min=1, max=16, help="Stylisations running at once; others wait in a queue."),
    max_queued: int = typer.Option(8, "--max-queued", min=1, max=1000, help="Jobs that may wait at once; more are refused (HTTP 429) until one finishes."),
    allow_host: List[str] = typer.Option([], "--allow-host", help="Another host name the studio answers to (e.g. a name on your network); repeat for several."),
) -> None:
    """Start the local web studio: upload a photo and paintings, watch the picture evolve.

    Example:  atelier studio            (opens http://127.0.0.1:8765 in your browser)

    On 127.0.0.1 (the default) only this computer can reach it. With --host 0.0.0.0 other
    machines can too: the URL printed then carries the studio's token, which the page
    needs; share it only with people you trust (see docs/security.md).

    The HTTP API is documented at /docs and /openapi.json.
    """
    import threading
    import webbrowser

    import uvicorn

    from atelier.studio import create_app
    from atelier.studio.security import is_loopback

    application = create_app(data_dir, max_running=max_jobs, max_queued=max_queued, host=host, allow_hosts=tuple(allow_host))
    guard = application.state.guard
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    if not is_loopback(host):
        url += f"?token={guard.token}"
    err.print(f"Atelier studio on [bold]{url}[/]  (Ctrl-C to stop)")
    if is_loopback(host):
        err.print(f"API token for scripts (header X-Atelier-Token): {guard.token}", highlight=False)
    if not no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning")
    except OSError as error:
        from atelier.errors import InputError

        raise InputError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


gan_app = typer.Typer(
    help=(
        "Train a GAN on your own small collection (50-2,000 images) and sample new pictures.\n\n"
        "  atelier gan train my-sketches/ --out runs/sketches --steps 2000 --size 64\n\n"
        "  atelier gan sample runs/sketches -n 64 -o grid.png\n\n"
        "  atelier gan interpolate runs/sketches -o walk.gif\n\n"
        "  atelier gan evaluate runs/sketches my-sketches/ --json"
    ),
    no_args_is_help=True,
)
app.add_typer(gan_app, name="gan")


@gan_app.command("train")
@handles_errors
def gan_train(
    data: Path = typer.Argument(..., help="Folder of images (searched recursively) or a CIFAR-10 python archive."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoint.pt, samples/, log.csv, curves.png."),
    steps: int = typer.Option(1000, "--steps", min=1, help="Total training steps (with --resume: the new total)."),
    size: int = typer.Option(64, "--size", help="Image size: 32, 64 or 128."),
    batch: int = typer.Option(32, "--batch", min=2, help="Images per step."),
    sample_every: int = typer.Option(100, "--sample-every", min=1, help="Save a sample grid every N steps."),
    checkpoint_every: int = typer.Option(100, "--checkpoint-every", min=1, help="Save a checkpoint every N steps."),
    eval_every: int = typer.Option(0, "--eval-every", min=0, help="Frechet score every N steps (0: at the end only)."),
    seed: int = typer.Option(0, "--seed"),
    discriminator: str = typer.Option(GAN_DEFAULT_DISCRIMINATOR, "--discriminator", help="projected: small discriminators on frozen EfficientNet-Lite0 features (Sauer et al. 2021); dcgan: a discriminator on pixels (faster steps). See docs/generate.md for the comparison."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (step count, optimisers and RNG restored)."),
) -> None:
    """Train a GAN generator with DiffAugment, hinge loss, spectral norm and EMA sampling.

    Ctrl-C saves a checkpoint; --resume continues from it.

    Example:  atelier gan train paintings/ --out runs/p --steps 500 --size 32
    """
    from atelier.generate import GanSettings, train_gan

    # With --resume the run's own settings are used; only the new step total comes from here.
    settings = GanSettings(steps=steps) if resume else GanSettings(
        size=size, steps=steps, batch=batch, sample_every=sample_every,
        checkpoint_every=checkpoint_every, eval_every=eval_every, seed=seed, discriminator=discriminator,
    )
    bar = _progress_bar()
    task = bar.add_task("training", total=steps, info="loading data")

    def on_progress(event) -> None:
        bar.update(task, completed=event.step, total=event.total, info=_metrics_text(event.losses))

    with bar:
        run = train_gan(data, out, settings, resume=resume, on_progress=on_progress)
    err.print(f"done: samples in {run.samples}, curves in {run.curves}")


@gan_app.command("sample")
@handles_errors
def gan_sample(
    run: Path = typer.Argument(..., help="A run folder from `atelier gan train`."),
    n: int = typer.Option(64, "-n", help="How many images."),
    output: Path = typer.Option(..., "--output", "-o", help="Grid image to write (.png)."),
    seed: int = typer.Option(0, "--seed"),
    truncation: Optional[float] = typer.Option(None, "--truncation", help="Truncation trick: redraw latents beyond this (e.g. 0.7: safer, less varied)."),
) -> None:
    """Sample a grid of new images from a trained run.

    Example:  atelier gan sample runs/p -n 36 -o grid.png --truncation 0.8
    """
    from atelier.generate import sample_grid

    err.print(f"wrote {sample_grid(run, output, n, seed, truncation)}")


@gan_app.command("interpolate")
@handles_errors
def gan_interpolate(
    run: Path = typer.Argument(..., help="A run folder."),
    output: Path = typer.Option(..., "--output", "-o", help="walk.gif (or .mp4 with PyAV installed)."),
    keyframes: int = typer.Option(4, "--keyframes", min=2),
    frames: int = typer.Option(16, "--frames", min=2, help="Frames between two keyframes."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """A looping walk through latent space (spherical interpolation).

    Example:  atelier gan interpolate runs/p -o walk.gif
    """
    from atelier.generate import interpolate

    err.print(f"wrote {interpolate(run, output, keyframes, frames, seed)}")


@gan_app.command("evaluate")
@handles_errors
def gan_evaluate(
    run: Path = typer.Argument(..., help="A run folder."),
    data: Path = typer.Argument(..., help="The real images (folder or CIFAR archive)."),
    n: int = typer.Option(512, "-n", help="Images per side."),
    inception_weights: Optional[Path] = typer.Option(None, "--inception-weights", envvar="ATELIER_INCEPTION_WEIGHTS", help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth: adds the standard FID (fid)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Frechet distance and KID between generated and real images, on EfficientNet-Lite0 features
    (offline; named fid_effnet / kid_effnet because they are not Inception-based FID), a second
    opinion on random-VGG features (fd_random_vgg), and the standard FID when you give
    Inception weights.

    Example:  atelier gan evaluate runs/p paintings/ --json
    """
    from atelier.generate import evaluate

    result = evaluate(run, data, n, inception_weights=inception_weights)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        fid = f"fid {result['fid']:.3f}   " if "fid" in result else ""
        out.print(f"{fid}fid_effnet {result['fid_effnet']:.3f}   kid_effnet {result['kid_effnet']:.4f}   fd_random_vgg {result['fd_random_vgg']:.4f}   (step {result['step']}, {result['images_real']} images)")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
