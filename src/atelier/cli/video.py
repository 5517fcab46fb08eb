"""``atelier video``: stylise clips without flicker, keeping their timing and sound."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from atelier.cli.common import EventProgress, app, err, handles_errors, out
from atelier.options import cli_options
from atelier.video.gan.settings import VideoGanSettings
from atelier.video.settings import VideoSettings

video_app = typer.Typer(
    help=(
        "Stylise video clips with the instant engines, steadied along the motion so strokes do not flicker; "
        "the frame rate, duration and audio track are kept.\n\n"
        "  atelier video stylize clip.mp4 --style starry-night -o painted.mp4\n\n"
        "  atelier video stylize clip.mov -s my-painting.jpg --size 720 --start 5 --end 15 -o part.mp4\n\n"
        "  atelier video info clip.mp4 --json"
    ),
    no_args_is_help=True,
)
app.add_typer(video_app, name="video")


@video_app.command("stylize")
@handles_errors
@cli_options(VideoSettings)
def video_stylize(
    source: Path = typer.Argument(..., help="The clip: any video file FFmpeg reads (MP4, MOV, MKV, WebM, AVI...)."),
    style: List[str] = typer.Option(
        ..., "--style", "-s", help="A built-in style name (`atelier styles`), a painting file, or a style model file. Repeat to blend."
    ),
    output: Path = typer.Option(..., "--output", "-o", help="The H.264 MP4 to write (written only when complete)."),
    style_weights: Optional[str] = typer.Option(None, "--style-weights", help="Blend weights for several styles, e.g. 0.7,0.3."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary (frames, fps, cuts...) on stdout."),
    settings: VideoSettings = None,
) -> None:
    """Paint every frame of a clip with a style, without flicker.

    Each frame is painted by the instant engine (built-in styles, or any painting through the
    arbitrary-style network); with --temporal on (the default) the last painted frame is carried
    along the optical flow of the clip and blended in wherever the motion is reliable, so strokes
    stay put instead of boiling. Occlusions, fast motion and scene cuts are painted afresh (no
    ghosts). The output keeps the clip's exact frame timing, its audio track and its duration.

    Examples:

      atelier video stylize clip.mp4 --style starry-night -o painted.mp4

      atelier video stylize clip.mp4 -s the-scream -s starry-night --style-weights 0.6,0.4 -o mix.mp4

      atelier video stylize phone.mov -s painting.jpg --preserve-color --strength 0.7 --size 0 -o full-size.mp4
    """
    from atelier.style.options import parse_style_weights
    from atelier.video.stylize import plan_video, run_video

    job = plan_video(source, list(style), output, style_weights=parse_style_weights(style_weights, len(style)), settings=settings)
    with EventProgress("painting the first frame") as progress:
        summary = run_video(job, on_progress=progress)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        cuts = f", {summary['cuts']} scene cut(s)" if summary["cuts"] else ""
        err.print(
            f"wrote {summary['output']}: {summary['frames']} frames at {summary['width']}x{summary['height']}, "
            f"{summary['frames_per_second']:.1f} frames/s{cuts}"
        )


@video_app.command("info")
@handles_errors
def video_info(
    source: Path = typer.Argument(..., help="A video file."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """What a clip holds: size, rotation, frame rate, frames, duration, codecs.

    Example:  atelier video info clip.mp4 --json
    """
    from atelier.video.io import probe

    info = probe(source).to_dict()
    if as_json:
        print(json.dumps(info, indent=2))
        return
    audio = info["audio"] or "no audio"
    turned = f", turned {info['rotation']} degrees" if info["rotation"] else ""
    out.print(
        f"{info['width']}x{info['height']}{turned}, {info['fps']:.3f} fps ({info['fps_ratio']}), "
        f"{info['frames']} frames, {info['duration']:.2f} s, {info['codec']}, {audio}"
    )


video_gan_app = typer.Typer(
    help=(
        "Generate short clips with a 3D GAN trained on your own videos (spatio-temporal convolutions, "
        "a still background and a moving foreground).\n\n"
        "  atelier video-gan train my-videos/ --out runs/waves --time-limit 1h\n\n"
        "  atelier video-gan sample runs/waves -o clips.gif -n 16\n\n"
        "  atelier video-gan evaluate runs/waves my-videos/ --json"
    ),
    no_args_is_help=True,
)
app.add_typer(video_gan_app, name="video-gan")


@video_gan_app.command("train")
@handles_errors
@cli_options(VideoGanSettings)
def video_gan_train(
    clips: Path = typer.Argument(..., help="A folder of videos (searched recursively) or one video file; clips are cut from them."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoint.pt, run.json, samples/*.gif, log.csv, curves.png, best.pt."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out (step count, optimisers and RNG restored)."),
    force: bool = typer.Option(False, "--force", help="Start over in --out, replacing the run there."),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help="Stop cleanly after this long (90s, 10m, 1h); --resume continues."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    settings: VideoGanSettings = None,
    explicit: set = None,
) -> None:
    """Train a 3D GAN on clips cut from your videos (Ctrl-C saves; --resume continues).

    Example:  atelier video-gan train my-videos/ --out runs/v --size 32 --frames 16 --time-limit 1h
    """
    from atelier.video.gan.train import train_video_gan

    if resume:
        settings = VideoGanSettings(steps=settings.steps) if "steps" in explicit else None
    with EventProgress("cutting clips from the videos") as progress:
        summary = train_video_gan(clips, out, settings, resume=resume, force=force, time_limit=time_limit, on_progress=progress)
    for message in summary["skipped"]:
        err.print(f"[yellow]skipped:[/] {message}", highlight=False)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        err.print(f"{summary['stopped']} after {summary['steps']} steps on {summary['clips']} clips: samples in {out / 'samples'}")


@video_gan_app.command("sample")
@handles_errors
def video_gan_sample(
    run: Path = typer.Argument(..., help="A run folder from `atelier video-gan train`."),
    output: Path = typer.Option(..., "--output", "-o", help="An animated grid: clips.gif or clips.mp4."),
    n: int = typer.Option(16, "-n", min=1, max=64, help="How many clips."),
    seed: int = typer.Option(0, "--seed", min=0),
    best: bool = typer.Option(False, "--best", help="Use the best generator by Frechet score (best.pt) instead of the latest."),
    scale: int = typer.Option(2, "--scale", min=1, max=8, help="Enlarge the pixels this many times."),
) -> None:
    """Generate clips from a trained run, as one animated grid.

    Example:  atelier video-gan sample runs/v -o clips.gif -n 16 --seed 3
    """
    from atelier.video.gan.sample import sample_clips

    err.print(f"wrote {sample_clips(run, output, n, seed, 'best' if best else 'latest', scale)}")


@video_gan_app.command("evaluate")
@handles_errors
def video_gan_evaluate(
    run: Path = typer.Argument(..., help="A run folder."),
    clips: Path = typer.Argument(..., help="Videos to compare with (a folder or one file)."),
    n: int = typer.Option(256, "-n", min=2, max=10_000, help="Clips per side."),
    best: bool = typer.Option(False, "--best", help="Evaluate best.pt instead of the latest generator."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Frechet distances of per-frame features and of motion, against an untrained generator's.

    Example:  atelier video-gan evaluate runs/v my-videos/ --json
    """
    from atelier.video.gan.sample import evaluate_video_gan

    result = evaluate_video_gan(run, clips, n, which="best" if best else "latest")
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        out.print(
            f"step {result['step']}: fd_frames {result['fd_frames']:.1f} (untrained {result['untrained_fd_frames']:.1f}), "
            f"fd_motion {result['fd_motion']:.4f} (untrained {result['untrained_fd_motion']:.4f}) on {result['clips']} clips"
        )
