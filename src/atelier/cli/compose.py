"""``atelier music``: train a recurrent network on music, compose new pieces, measure it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from atelier.cli.common import EventProgress, app, err, handles_errors, out
from atelier.compose.settings import MusicSettings
from atelier.options import cli_options

music_app = typer.Typer(
    help=(
        "Train a recurrent network (LSTM-NADE) on music and compose new pieces: MIDI and audio.\n\n"
        "  atelier music sample -o chorale.mid --wav chorale.wav          (the built-in JSB chorales model)\n\n"
        "  atelier music train my-midi-folder/ -o mine.pt --time-limit 30m\n\n"
        "  atelier music train music21:essenFolksong -o folk.pt          (a corpus that ships inside music21)\n\n"
        "  atelier music sample mine.pt -o piece.mid --steps 128 --temperature 0.9 --primer opening.mid\n\n"
        "  atelier music evaluate jsb-chorales jsb-chorales-quarter.json --split test --json"
    ),
    no_args_is_help=True,
)
app.add_typer(music_app, name="music")


@music_app.command("train")
@handles_errors
@cli_options(MusicSettings)
def music_train(
    data: str = typer.Argument(
        ...,
        help="A folder of MIDI files, one MIDI file, a benchmark .json (its train split), or a corpus inside music21: "
        "music21:essenFolksong, music21:bach (read once, then cached).",
    ),
    output: Path = typer.Option(..., "--output", "-o", help="Model file to write (.pt); the training state sits beside it."),
    valid: Optional[Path] = typer.Option(None, "--valid", help="Held-out pieces (default: the data's valid split, else a tenth)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run beside --output."),
    force: bool = typer.Option(False, "--force", help="Start over, replacing the run beside --output."),
    time_limit: Optional[str] = typer.Option(None, "--time-limit", help="Stop cleanly after this long (90s, 10m, 1h)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    settings: MusicSettings = None,
    explicit: set = None,
) -> None:
    """Train an LSTM-NADE; the best model by validation NLL (nats per time step) is kept.

    Example:  atelier music train chorales/ -o chorales.pt --time-limit 20m
    """
    from atelier.compose import train_music

    if resume:
        settings = MusicSettings(steps=settings.steps) if "steps" in explicit else None
    with EventProgress("reading the music") as progress:
        summary = train_music(data, output, settings, valid=valid, resume=resume, force=force, time_limit=time_limit, on_progress=progress)
    for message in summary["skipped"]:
        err.print(f"[yellow]skipped:[/] {message}", highlight=False)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        best = summary["best"]
        score = f", best valid_nll {best['value']:.3f} at step {best['step']}" if best else ""
        err.print(f"{summary['stopped']} after {summary['steps']} steps ({summary['seconds']:.0f} s){score}: wrote {summary['model']}")


@music_app.command("sample")
@handles_errors
def music_sample(
    model: str = typer.Argument("jsb-chorales", help="A built-in model's name or a model file from `atelier music train`."),
    output: Path = typer.Option(..., "--output", "-o", help="MIDI file to write (.mid); with -n, NAME-1.mid, NAME-2.mid..."),
    wav: Optional[Path] = typer.Option(None, "--wav", help="Also render audio to this WAV file (FluidSynth when installed)."),
    n: int = typer.Option(1, "-n", min=1, max=100, help="How many pieces (seeds SEED, SEED+1, ...)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, max=100_000, help="Time steps to compose (default 64, or --bars)."),
    bars: Optional[int] = typer.Option(None, "--bars", min=1, max=10_000, help="Length in 4/4 bars instead of steps."),
    temperature: float = typer.Option(1.0, "--temperature", "-t", help="Below 1: safer; above 1: more adventurous."),
    primer: Optional[Path] = typer.Option(None, "--primer", help="A MIDI file to continue."),
    seed: int = typer.Option(0, "--seed", min=0),
    tempo: float = typer.Option(100.0, "--tempo", help="Beats per minute."),
    instrument: str = typer.Option(
        "piano", "--instrument", help="piano, harpsichord, organ, guitar, strings, choir, flute, clarinet or a GM number 0-127."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a summary as JSON."),
) -> None:
    """Compose new pieces: a MIDI file each, and audio with --wav.

    Example:  atelier music sample jsb-chorales -o chorale.mid --wav chorale.wav --bars 8 --instrument organ
    """
    from atelier.compose.data import read_midi
    from atelier.compose.sample import compose, instrument_program, load_music_model, render_audio, write_midi

    instrument_program(instrument)  # a bad name fails before any work
    net, info = load_music_model(model)
    per_quarter = int(info.get("steps_per_quarter", 1))
    length = steps or (bars * 4 * per_quarter if bars else 64)
    opening = read_midi(primer, per_quarter) if primer else None
    results = []
    for i in range(n):
        target = output if n == 1 else output.with_name(f"{output.stem}-{i + 1}{output.suffix}")
        roll = compose((net, info), length, temperature=temperature, primer=opening, seed=seed + i)
        write_midi(roll, target, tempo=tempo, steps_per_quarter=per_quarter, instrument=instrument)
        entry = {"midi": str(target), "seed": seed + i, "steps": length, "notes_per_step": float(roll.sum(1).mean())}
        if wav:
            audio = wav if n == 1 else wav.with_name(f"{wav.stem}-{i + 1}{wav.suffix}")
            entry["wav"], entry["renderer"] = str(audio), render_audio(target, audio, roll, tempo=tempo, steps_per_quarter=per_quarter)
        results.append(entry)
        if not as_json:
            err.print(f"wrote {target}" + (f" and {entry['wav']} ({entry['renderer']})" if wav else ""))
    if as_json:
        print(json.dumps(results, indent=2))


@music_app.command("evaluate")
@handles_errors
def music_evaluate(
    model: str = typer.Argument(..., help="A built-in model's name or a model file."),
    data: str = typer.Argument(..., help="A benchmark .json, a MIDI file, a folder of MIDI files or music21:NAME."),
    split: str = typer.Option("test", "--split", help="Which split of a benchmark file: train, valid or test."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Negative log-likelihood per time step (nats), the JSB Chorales benchmark's measure.

    Example:  atelier music evaluate jsb-chorales jsb-chorales-quarter.json --split test --json
    """
    from atelier.compose import evaluate_music

    result = evaluate_music(model, data, split)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        out.print(f"{result['nll_per_step']:.4f} nats per step  ({result['split']}: {result['pieces']} pieces, {result['steps']} steps)")


@music_app.command("models")
@handles_errors
def music_models(as_json: bool = typer.Option(False, "--json")) -> None:
    """The music models that ship with Atelier."""
    from atelier.compose.sample import builtin_models

    models = builtin_models()
    if as_json:
        print(json.dumps(models, indent=2))
        return
    if not models:
        err.print("no built-in music models installed")
    for m in models:
        out.print(f"[bold]{m['name']}[/]  {m.get('description', '')}")
