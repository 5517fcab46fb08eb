"""``atelier text``: train a Transformer on your own texts, write with it, measure it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from atelier.cli.common import EventProgress, app, err, handles_errors, out
from atelier.options import cli_options
from atelier.write.settings import TextSettings

text_app = typer.Typer(
    help=(
        "Train a small Transformer on your own texts (poems, lyrics, prose, any language) and write new ones.\n\n"
        '  atelier text sample shakespeare --prompt "ROMEO:"          (the built-in model)\n\n'
        "  atelier text train my-poems/ -o poems.pt --time-limit 20m\n\n"
        '  atelier text sample poems.pt --prompt "The sea" -n 3 --length 400 --temperature 0.8\n\n'
        "  atelier text evaluate poems.pt held-out.txt --json"
    ),
    no_args_is_help=True,
)
app.add_typer(text_app, name="text")


@text_app.command("train")
@handles_errors
@cli_options(TextSettings)
def text_train(
    corpus: Path = typer.Argument(..., help="A UTF-8 text file, or a folder of .txt/.md files."),
    output: Path = typer.Option(..., "--output", "-o", help="Model file to write (.pt); the training state sits beside it."),
    val: Optional[Path] = typer.Option(None, "--val", help="Held-out text to validate on (default: the corpus's last 10%)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run beside --output (optimiser, step and clock restored)."),
    force: bool = typer.Option(False, "--force", help="Start over, replacing the run beside --output."),
    time_limit: Optional[str] = typer.Option(
        None, "--time-limit", help="Train this long (90s, 10m, 1h); the learning rate decays to the budget."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    settings: TextSettings = None,
    explicit: set = None,
) -> None:
    """Train a character-level (or BPE) Transformer; the best model by validation loss is kept.

    Progress shows the training loss and, every --eval-every steps, the validation loss (nats
    per token; per character with the default tokenizer). Ctrl-C saves; --resume continues.

    Example:  atelier text train shakespeare.txt -o bard.pt --time-limit 10m
    """
    from atelier.write import train_text

    if resume:
        settings = TextSettings(steps=settings.steps) if "steps" in explicit else None
    with EventProgress("reading the corpus") as progress:
        summary = train_text(corpus, output, settings, val=val, resume=resume, force=force, time_limit=time_limit, on_progress=progress)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        best = summary["best"]
        score = f", best val_loss {best['value']:.4f} at step {best['step']}" if best else ""
        err.print(f"{summary['stopped']} after {summary['steps']} steps ({summary['seconds']:.0f} s){score}: wrote {summary['model']}")


@text_app.command("sample")
@handles_errors
def text_sample(
    model: str = typer.Argument("shakespeare", help="A built-in model's name or a model file from `atelier text train`."),
    prompt: Optional[str] = typer.Option(None, "--prompt", "-p", help="Text to continue, or a file holding it (default: a new line)."),
    n: int = typer.Option(1, "-n", min=1, max=100, help="How many texts (seeds SEED, SEED+1, ...)."),
    length: int = typer.Option(500, "--length", min=1, max=100_000, help="Tokens to write (characters with a character model)."),
    temperature: float = typer.Option(0.8, "--temperature", "-t", help="Below 1: safer, more repetitive; above 1: wilder."),
    top_k: Optional[int] = typer.Option(None, "--top-k", help="Only the k most likely tokens at each step."),
    top_p: Optional[float] = typer.Option(None, "--top-p", help="Only the most likely tokens that together reach probability p (nucleus)."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed: the same seed writes the same text."),
    as_json: bool = typer.Option(False, "--json", help="Print the texts as a JSON list instead of streaming them."),
) -> None:
    """Write with a model, streaming the text as it comes.

    Example:  atelier text sample shakespeare --prompt "ROMEO:" -n 2 --length 300 --top-p 0.95
    """
    from atelier.write import write
    from atelier.write.data import read_text

    if prompt and len(prompt) < 4096 and Path(prompt).is_file():
        prompt = read_text(prompt)
    texts = []
    for i in range(n):
        pieces = []
        stream = write(model, prompt, length=length, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed + i)
        first = next(stream, "")  # a prompt the model cannot read fails here, before anything is printed
        if not as_json:
            if n > 1:
                err.print(f"[dim]--- sample {i + 1} (seed {seed + i})[/]")
            sys.stdout.write((prompt or "") + first)
        pieces.append(first)
        for piece in stream:
            pieces.append(piece)
            if not as_json:
                sys.stdout.write(piece)
                sys.stdout.flush()
        if not as_json:
            sys.stdout.write("\n")
        texts.append((prompt or "") + "".join(pieces))
    if as_json:
        print(json.dumps([{"seed": seed + i, "text": t} for i, t in enumerate(texts)], indent=2, ensure_ascii=False))


@text_app.command("evaluate")
@handles_errors
def text_evaluate(
    model: str = typer.Argument(..., help="A built-in model's name or a model file."),
    text: Path = typer.Argument(..., help="Held-out UTF-8 text (a file or a folder)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Negative log-likelihood per character (nats and bits) and per-character perplexity.

    Per character whatever the tokenizer, so character and BPE models compare.

    Example:  atelier text evaluate bard.pt held-out.txt --json
    """
    from atelier.write import evaluate_text

    result = evaluate_text(model, text)
    if as_json:
        print(json.dumps(result, indent=2))
    else:
        out.print(
            f"{result['nats_per_char']:.4f} nats/char   {result['bits_per_char']:.4f} bits/char   "
            f"perplexity {result['perplexity_per_char']:.3f}   ({result['chars']} characters, {result['tokens']} tokens)"
        )


@text_app.command("models")
@handles_errors
def text_models(as_json: bool = typer.Option(False, "--json")) -> None:
    """The text models that ship with Atelier."""
    from atelier.write.sample import builtin_models

    models = builtin_models()
    if as_json:
        print(json.dumps(models, indent=2))
        return
    if not models:
        err.print("no built-in text models installed")
    for m in models:
        out.print(f"[bold]{m['name']}[/]  {m.get('description', '')}  (val {m.get('val_nats_per_char', float('nan')):.3f} nats/char)")
