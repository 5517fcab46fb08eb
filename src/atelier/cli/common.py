"""What every command shares: the Typer app, error handling, consoles and the one progress bar."""

from __future__ import annotations

import functools
import os
from typing import Callable, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from atelier import __version__
from atelier.errors import AtelierError, Cancelled
from atelier.events import Event

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
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    threads: Optional[int] = typer.Option(
        None, "--threads", min=1, envvar="ATELIER_THREADS", help="CPU threads for PyTorch (default: all cores)."
    ),
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


class EventProgress:
    """One Rich progress bar for any stream of :class:`~atelier.events.Event`: a line per phase.

    Every long command (stylisation, any training, feature extraction) draws its progress
    through this one adapter: ``with EventProgress("loading the photos") as progress:
    library_call(..., on_progress=progress)``.
    """

    def __init__(self, starting: str = "starting") -> None:
        self.bar = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
        )
        self.tasks: dict[str, int] = {}
        self.waiting: int | None = self.bar.add_task(starting, total=None, info="")

    def __enter__(self) -> EventProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:  # a failure: no half-drawn bar above its one-line error
            for task in list(self.bar.task_ids):
                self.bar.remove_task(task)
        self.bar.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        if self.waiting is not None:
            self.bar.remove_task(self.waiting)
            self.waiting = None
        if event.phase not in self.tasks:
            self.tasks[event.phase] = self.bar.add_task(event.phase, total=event.total, info="")
        info = "  ".join(filter(None, [event.detail, metrics_text(event.metrics)]))
        self.bar.update(self.tasks[event.phase], completed=event.step, total=event.total, info=info)


def metrics_text(metrics: dict[str, float]) -> str:
    return "  ".join(f"{name} {value:.3g}" for name, value in metrics.items())
