"""``atelier gan``: train GANs on a collection, sample, walk the latent space, evaluate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from atelier.cli.common import EventProgress, app, err, handles_errors, out
from atelier.generate.settings import GanSettings
from atelier.options import cli_options

gan_app = typer.Typer(
    help=(
        "Train a GAN on your own small collection (50-2,000 images) and sample new pictures.\n\n"
        "  atelier gan train my-sketches/ --out runs/sketches --steps 2000 --size 64\n\n"
        "  atelier gan sample runs/sketches -n 64 -o grid.png\n\n"
        "  atelier gan interpolate runs/sketches -o walk.gif\n\n"
        "  atelier gan nearest runs/sketches my-sketches/ -o nearest.png\n\n"
        "  atelier gan evaluate runs/sketches my-sketches/ --json"
    ),
    no_args_is_help=True,
)
app.add_typer(gan_app, name="gan")


@gan_app.command("train")
@handles_errors
@cli_options(GanSettings)
def gan_train(
    data: Path = typer.Argument(..., help="Folder of images (searched recursively) or a CIFAR-10 python archive."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoint.pt, run.json, samples/, log.csv, curves.png, best.pt."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (step count, optimisers and RNG restored)."),
    force: bool = typer.Option(False, "--force", help="Start over in --out, replacing the run there."),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help="Stop cleanly after this long (90s, 10m, 1h); --resume continues."),
    settings: GanSettings = None,
    explicit: set = None,
) -> None:
    """Train a GAN generator with DiffAugment, hinge loss, spectral norm and EMA sampling.

    Ctrl-C saves a checkpoint; --resume continues from it. Under torchrun, several
    processes share each batch (docs/distributed.md).

    Example:  atelier gan train paintings/ --out runs/p --steps 500 --size 32
    """
    from atelier.generate import train_gan

    if resume:  # the run's own settings, with a new step total only if one was given
        settings = GanSettings(steps=settings.steps) if "steps" in explicit else None
    with EventProgress("loading the images") as progress:
        run = train_gan(data, out, settings, resume=resume, force=force, time_limit=time_limit, on_progress=progress)
    err.print(f"done: samples in {run.previews}, curves in {run.curves}")


@gan_app.command("sample")
@handles_errors
def gan_sample(
    run: Path = typer.Argument(..., help="A run folder from `atelier gan train`."),
    n: int = typer.Option(64, "-n", help="How many images."),
    output: Path = typer.Option(..., "--output", "-o", help="Grid image to write (.png)."),
    seed: int = typer.Option(0, "--seed"),
    truncation: Optional[float] = typer.Option(
        None, "--truncation", help="Truncation trick: redraw latents beyond this (e.g. 0.7: safer, less varied)."
    ),
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


@gan_app.command("nearest")
@handles_errors
def gan_nearest(
    run: Path = typer.Argument(..., help="A run folder."),
    data: Path = typer.Argument(..., help="The training images (folder or CIFAR archive)."),
    output: Path = typer.Option(..., "--output", "-o", help="Grid to write (.png): each row a sample, then its nearest training images."),
    n: int = typer.Option(16, "-n", help="How many samples (rows)."),
    k: int = typer.Option(3, "-k", help="Nearest training images per sample."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Check that samples are new pictures, not copies: each beside its nearest training images.

    Similarity is measured on EfficientNet-Lite0 features. sample_to_train (the mean distance
    from a sample to its nearest training image) well below train_to_train (the same between
    the collection's own pictures) would mean the generator copies.

    Example:  atelier gan nearest runs/p paintings/ -o nearest.png
    """
    from atelier.generate import nearest_grid

    path, numbers = nearest_grid(run, data, output, n, k, seed)
    if as_json:
        print(json.dumps({"output": str(path), **numbers}, indent=2))
    else:
        err.print(f"wrote {path}")
        out.print(
            f"sample -> nearest training image: {numbers['sample_to_train']:.4f} (closest {numbers['closest_sample']:.4f});  "
            f"training image -> nearest other: {numbers['train_to_train']:.4f}  (cosine distance, step {numbers['step']})"
        )


@gan_app.command("evaluate")
@handles_errors
def gan_evaluate(
    run: Path = typer.Argument(..., help="A run folder."),
    data: Path = typer.Argument(..., help="The real images (folder or CIFAR archive)."),
    n: int = typer.Option(512, "-n", help="Images per side."),
    inception_weights: Optional[Path] = typer.Option(
        None,
        "--inception-weights",
        envvar="ATELIER_INCEPTION_WEIGHTS",
        help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth: adds the standard FID (fid).",
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Frechet distance and KID between generated and real images (offline), and FID with Inception weights.

    On EfficientNet-Lite0 features (named fid_effnet / kid_effnet because they are not
    Inception-based FID), a second opinion on random-VGG features (fd_random_vgg), and the
    standard FID when you give Inception weights.

    Example:  atelier gan evaluate runs/p paintings/ --json
    """
    from atelier.generate import evaluate

    result = evaluate(run, data, n, inception_weights=inception_weights)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        fid = f"fid {result['fid']:.3f}   " if "fid" in result else ""
        out.print(
            f"{fid}fid_effnet {result['fid_effnet']:.3f}   kid_effnet {result['kid_effnet']:.4f}   fd_random_vgg {result['fd_random_vgg']:.4f}   (step {result['step']}, {result['images_real']} images)"
        )
