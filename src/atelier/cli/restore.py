"""``atelier restore``: inpaint, denoise and enlarge pictures; train the restorers. ``atelier metrics``: PSNR and SSIM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from atelier.cli.common import EventProgress, app, err, handles_errors
from atelier.options import cli_options
from atelier.restore.settings import RestoreTrainSettings

restore_app = typer.Typer(
    help=(
        "Repair pictures offline: fill damaged or unwanted regions, remove noise, enlarge for print.\n\n"
        "  atelier restore inpaint scan.png --mask scratches.png -o fixed.png       (white in the mask = fill)\n\n"
        "  atelier restore inpaint old-print.jpg --auto-mask -o fixed.png           (finds scratches and dust)\n\n"
        "  atelier restore denoise noisy.jpg -o clean.png                           (noise level estimated)\n\n"
        "  atelier restore upscale small.png --scale 4 -o large.png\n\n"
        "  atelier restore upscale small.png --scale 2 --method dip --steps 1500 -o large.png   (no-training quality mode)"
    ),
    no_args_is_help=True,
)
app.add_typer(restore_app, name="restore")
metrics_app = typer.Typer(help="Measure pictures: PSNR and SSIM between a result and a reference.", no_args_is_help=True)
app.add_typer(metrics_app, name="metrics")

METHOD_HELP = {
    "inpaint": "auto (= fsr), fsr (frequency-selective reconstruction), telea, ns, exemplar (copies patches: large holes), dip (slow, no training).",
    "denoise": "net (the built-in network, default), nlm (non-local means), bilateral, dip (slow, no training).",
    "upscale": "net (the built-in network, default), bicubic, lanczos, dip (slow, no training).",
}
STEPS_HELP = "Deep Image Prior steps (--method dip): more is slower and, up to a point, better."
SOURCE_HELP = "The picture: a PNG, JPEG, WebP... or sample:astronaut."
# What the three restore commands share: declared once.
SOURCE_ARG = typer.Argument(..., help=SOURCE_HELP)
OUTPUT_OPT = typer.Option(..., "--output", "-o", help="The picture to write (.png keeps the recipe).")
STEPS_OPT = typer.Option(1000, "--steps", min=1, max=100_000, help=STEPS_HELP)
SUMMARY_OPT = typer.Option(False, "--json", help="Print a JSON summary on stdout.")


def _model_option(task: str):  # a typer Option: each command names its own task
    return typer.Option(None, "--model", help=f"A model file from `atelier restore train {task}` (default: the built-in).")


def _report(summary: dict, as_json: bool) -> None:
    if "warning" in summary:
        err.print(f"[yellow]warning:[/] {summary['warning']}", highlight=False)
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    extra = ""
    if "sigma" in summary:
        extra = f", noise sigma {summary['sigma']:g}{' (estimated)' if summary['sigma_estimated'] else ''}"
    elif "mask_fraction" in summary:
        extra = f", filled {summary['mask_fraction'] * 100:.2f}% of the picture"
    size = "x".join(map(str, summary["output_size"]))
    err.print(
        f"{summary['task']} ({summary['method']}{extra}): wrote {summary['output']} ({size}) in {summary['seconds']:.1f} s", highlight=False
    )


def _run(task: str, as_json: bool, **kwargs) -> None:
    from atelier.restore import restore_file

    with EventProgress(f"{task}: loading") as progress:
        summary = restore_file(task, on_progress=progress, **kwargs)
    _report(summary, as_json)


@restore_app.command("inpaint")
@handles_errors
def restore_inpaint(
    source: str = SOURCE_ARG,
    output: Path = OUTPUT_OPT,
    mask: Optional[Path] = typer.Option(None, "--mask", "-m", help="Same size as the picture; white = fill, black = keep."),
    auto_mask: bool = typer.Option(False, "--auto-mask", help="Find scratches and dust on an old print's scan (added to --mask)."),
    invert_mask: bool = typer.Option(
        False, "--invert-mask", help="The mask marks what to keep (white = keep), as Deep Image Prior's files do."
    ),
    method: str = typer.Option("auto", "--method", help=METHOD_HELP["inpaint"]),
    steps: int = STEPS_OPT,
    as_json: bool = SUMMARY_OPT,
) -> None:
    """Fill the white part of a mask with what fits around it; every other pixel is kept exactly.

    Example:  atelier restore inpaint photo.jpg --mask mask.png -o fixed.png
    """
    _run(
        "inpaint",
        as_json,
        source=source,
        output=output,
        mask=mask,
        auto_mask=auto_mask,
        invert_mask=invert_mask,
        method=method,
        steps=steps,
    )


@restore_app.command("denoise")
@handles_errors
def restore_denoise(
    source: str = SOURCE_ARG,
    output: Path = OUTPUT_OPT,
    sigma: str = typer.Option("auto", "--sigma", help="Noise strength on the 0-255 scale (5 faint, 25 strong, 50 very strong), or auto."),
    method: str = typer.Option("net", "--method", help=METHOD_HELP["denoise"]),
    model: Optional[str] = _model_option("denoise"),
    steps: int = STEPS_OPT,
    as_json: bool = SUMMARY_OPT,
) -> None:
    """Remove grain, sensor noise and JPEG blocking.

    Example:  atelier restore denoise scan.jpg --sigma 15 -o clean.png
    """
    from atelier.errors import InputError

    level: float | None = None
    if sigma != "auto":
        try:
            level = float(sigma)
        except ValueError:
            raise InputError(f"--sigma must be a number from 0 to 100 or auto, not {sigma!r}") from None
    _run("denoise", as_json, source=source, output=output, sigma=level, method=method, model=model, steps=steps)


@restore_app.command("upscale")
@handles_errors
def restore_upscale(
    source: str = SOURCE_ARG,
    output: Path = OUTPUT_OPT,
    scale: int = typer.Option(4, "--scale", help="2, 3 or 4."),
    method: str = typer.Option("net", "--method", help=METHOD_HELP["upscale"]),
    model: Optional[str] = _model_option("upscale"),
    steps: int = STEPS_OPT,
    as_json: bool = SUMMARY_OPT,
) -> None:
    """Enlarge a picture 2, 3 or 4 times with detail a plain resize cannot make.

    Example:  atelier restore upscale small.png --scale 4 -o large.png
    """
    _run("upscale", as_json, source=source, output=output, scale=scale, method=method, model=model, steps=steps)


@restore_app.command("train")
@handles_errors
@cli_options(RestoreTrainSettings)
def restore_train(
    task: str = typer.Argument(..., help="upscale (x2, x3, x4 in one model) or denoise (noise 0-50 and JPEG)."),
    data: Path = typer.Argument(..., help="A folder of clean pictures (DIV2K, BSD400, your own scans); damage is made synthetically."),
    output: Path = typer.Option(..., "--output", "-o", help="Model file to write (.pt); the training state sits beside it."),
    valid: Optional[List[Path]] = typer.Option(
        None, "--valid", help="Held-out pictures or folders (default: every tenth picture of DATA)."
    ),
    init: Optional[str] = typer.Option(
        None,
        "--init",
        help="Start from this model's weights: a built-in (upscale, denoise) or a model file; fine-tunes it on DATA (try --lr 1e-4).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the run beside --output."),
    force: bool = typer.Option(False, "--force", help="Start over, replacing the run beside --output."),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help="Stop cleanly after this long (90s, 10m, 1h)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    settings: RestoreTrainSettings = None,
    explicit: set = None,
) -> None:
    """Train a restorer on your own pictures; the best model by held-out PSNR is kept.

    Example:  atelier restore train upscale DIV2K_train_HR/ -o sr.pt --time-limit 2h

    Fine-tune the built-in on your scans:  atelier restore train denoise scans/ -o mine.pt --init denoise --lr 1e-4
    """
    from atelier.restore import train_restorer

    if resume:
        settings = RestoreTrainSettings(steps=settings.steps) if "steps" in explicit else None
    with EventProgress("reading the pictures") as progress:
        summary = train_restorer(
            task,
            data,
            output,
            settings,
            valid=list(valid) if valid else None,
            init=init,
            resume=resume,
            force=force,
            time_limit=time_limit,
            on_progress=progress,
        )
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        best = summary["best"]
        score = f", best valid_l1 {best['value']:.4f} at step {best['step']}" if best else ""
        err.print(f"{summary['stopped']} after {summary['steps']} steps ({summary['seconds']:.0f} s){score}: wrote {summary['model']}")


@restore_app.command("models")
@handles_errors
def restore_models(as_json: bool = typer.Option(False, "--json", help="Print the model cards as JSON.")) -> None:
    """The restorers that ship with Atelier and how they were trained."""
    from atelier.restore.learned import builtin_models

    cards = builtin_models()
    if as_json:
        print(json.dumps(cards, indent=2))
        return
    for card in cards:
        err.print(f"[bold]{card['name']}[/]: {card.get('title', '')} ({card.get('steps', '?')} steps)", highlight=False)


def _compare(kind: str, a: str, b: str, y_only: bool, border: int, as_json: bool) -> None:
    from atelier.errors import InputError
    from atelier.io.sources import read_source
    from atelier.metrics import psnr, ssim

    first, second = read_source(a)[0], read_source(b)[0]
    if first.shape != second.shape:
        raise InputError(f"the pictures differ in size: {first.shape[1]}x{first.shape[0]} vs {second.shape[1]}x{second.shape[0]}")
    try:
        value = (psnr if kind == "psnr" else ssim)(first, second, y_only=y_only, border=border)
    except ValueError as error:
        raise InputError(str(error)) from None
    if as_json:
        print(json.dumps({kind: value, "a": a, "b": b, "y_only": y_only, "border": border}))
    else:
        print(f"{value:.4f}" + (" dB" if kind == "psnr" else ""))


# The two metrics take the same arguments: declared once.
A_ARG = typer.Argument(..., help="The result.")
B_ARG = typer.Argument(..., help="The reference (same size).")
Y_OPT = typer.Option(False, "--y", help="Compare luma (BT.601 Y) only, as super-resolution papers do.")
BORDER_OPT = typer.Option(0, "--border", min=0, help="Shave this many pixels off each side first (super-resolution papers: the scale).")
JSON_OPT = typer.Option(False, "--json", help="Print JSON.")


@metrics_app.command("psnr")
@handles_errors
def metrics_psnr(a: str = A_ARG, b: str = B_ARG, y_only: bool = Y_OPT, border: int = BORDER_OPT, as_json: bool = JSON_OPT) -> None:
    """Peak signal-to-noise ratio in dB (higher is closer; inf when identical).

    Example:  atelier metrics psnr large.png original.png --y --border 4
    """
    _compare("psnr", a, b, y_only, border, as_json)


@metrics_app.command("ssim")
@handles_errors
def metrics_ssim(a: str = A_ARG, b: str = B_ARG, y_only: bool = Y_OPT, border: int = BORDER_OPT, as_json: bool = JSON_OPT) -> None:
    """Structural similarity (Wang et al. 2004), 1 when identical.

    Example:  atelier metrics ssim result.png reference.png
    """
    _compare("ssim", a, b, y_only, border, as_json)
