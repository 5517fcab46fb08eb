"""``atelier classify``: train, evaluate and use art classifiers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from atelier.classify.settings import TrainSettings
from atelier.cli.common import EventProgress, app, err, handles_errors, out
from atelier.options import cli_options

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
@cli_options(TrainSettings)
def classify_train(
    data: Path = typer.Argument(..., help="Folder with one sub-folder of images per class."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to save the model (.pt)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    force: bool = typer.Option(False, "--force", help="Replace an existing model at --output."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted training (its state is beside --output)."),
    settings: TrainSettings = None,
) -> None:
    """Train a classifier by transfer learning from the ImageNet EfficientNet-Lite0.

    Features are extracted once (cached), so re-training takes seconds.

    Example:  atelier classify train paintings/ -o artists.pt --val-split 0.2
    """
    from atelier.classify import train_classifier

    with EventProgress("reading the images") as progress:
        result = train_classifier(data, output, settings, force=force, resume=resume, on_progress=progress)
    for message in result.skipped:
        err.print(f"[yellow]skipped:[/] {message}")
    summary = {
        "model": str(result.model_path),
        "classes": result.classes,
        "train_images": result.train_count,
        "val_images": result.val_count,
        "skipped": len(result.skipped),
        "epochs": result.epochs_run,
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
    from rich.table import Table  # only where a table is shown (start-up time)

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
