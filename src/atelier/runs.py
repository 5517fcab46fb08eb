"""One training lifecycle for every trainer (fast styles, the arbitrary-style network, GANs,
classifiers, and every trainer to come).

A trainer supplies its models, its data and one step (:class:`Trainer`); the :class:`Runner`
owns everything around it:

* the run's files (:class:`RunFiles`): training state, ``run.json`` metadata, ``log.csv``,
  ``curves.png``, previews;
* starting, refusing or replacing a run (an existing run needs ``resume`` or ``force``);
* atomic checkpoints of the trainer's state plus the step, the random generators and the
  best score, and exact resume from them (also on another number of processes);
* Ctrl-C and cancellation (the step in flight is lost, everything before it is saved);
* every-N hooks: previews, checkpoints, evaluation; a wall-clock time limit; keeping the
  best model by an evaluation metric; early stopping when the trainer asks for it;
* one :class:`~atelier.events.Event` per step for progress bars and the studio;
* several processes under ``torchrun`` (:mod:`atelier.distributed`): only rank 0 writes
  files and reports, metrics are averaged over the ranks.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from atelier import distributed
from atelier.checkpoints import load_checkpoint, model_file_errors, save_checkpoint
from atelier.errors import Cancelled, InputError
from atelier.events import Event, OnEvent
from atelier.io.atomic import atomic_write_text, remove_stale_parts
from atelier.options import from_dict


@dataclass
class RunSettings:
    """When the runner checkpoints, previews, evaluates and stops."""

    steps: int | None
    """Total steps; None: no step limit (stop at ``time_limit``, which must then be set)."""
    checkpoint_every: int = 100
    preview_every: int = 0
    """0: never (a preview is still made at the last step when previews are on)."""
    eval_every: int = 0
    """0: only at the last step."""
    time_limit: float | None = None
    """Seconds this invocation may train; it then stops cleanly, as if the steps were done."""
    best_metric: str | None = None
    """An evaluation metric to minimise; the model with the lowest value is kept."""


@dataclass
class RunFiles:
    """Where one run keeps its files."""

    state: Path
    """The training state (checkpoint) file."""
    meta: Path
    log: Path
    curves: Path
    previews: Path
    label: str = ""
    """How messages name the run: its folder, or its model file."""

    @classmethod
    def in_folder(cls, folder: str | Path, previews: str = "samples") -> RunFiles:
        """A run folder: ``checkpoint.pt``, ``run.json``, ``log.csv``, ``curves.png``, ``samples/``."""
        folder = Path(folder)
        return cls(folder / "checkpoint.pt", folder / "run.json", folder / "log.csv", folder / "curves.png", folder / previews, str(folder))

    @classmethod
    def beside(cls, model: str | Path) -> RunFiles:
        """Files beside a model file ``NAME.pt``: ``NAME.pt.train``, ``NAME-run.json``, ``NAME-log.csv``,
        ``NAME-curves.png``, ``NAME-previews/``."""
        model = Path(model)
        stem = model.with_suffix("")
        return cls(
            model.with_name(model.name + ".train"),
            Path(f"{stem}-run.json"),
            Path(f"{stem}-log.csv"),
            Path(f"{stem}-curves.png"),
            Path(f"{stem}-previews"),
            str(model),
        )

    def all(self) -> list[Path]:
        return [self.state, self.meta, self.log, self.curves, self.previews]

    @property
    def folder(self) -> Path:
        return self.state.parent


class Trainer:
    """What a capability supplies to the runner. Override what applies; the defaults do nothing.

    ``train_step`` does one optimisation step and returns its metrics (losses). Everything a
    resume needs (models unwrapped from DDP, optimisers, schedulers, data positions) goes in
    ``state_dict``; the runner adds the step and the random generators itself.
    """

    #: Names the checkpoint format (``atelier-run-KIND``).
    kind: str = "model"
    #: Images per step over all processes, recorded in ``run.json``.
    global_batch: int | None = None

    def state_dict(self) -> dict:
        raise NotImplementedError

    def load_state_dict(self, state: dict) -> None:
        raise NotImplementedError

    def train_step(self, step: int) -> dict[str, float]:
        """Do step number ``step`` (0-based) and return its metrics."""
        raise NotImplementedError

    def preview(self, step: int, folder: Path) -> Path | None:
        """Write a preview of the model after ``step`` steps into ``folder``; return its path."""
        return None

    def evaluate(self, step: int) -> dict[str, float]:
        """Held-out metrics after ``step`` steps (called every ``eval_every`` and at the end)."""
        return {}

    def save_model(self, step: int, best: bool) -> Path | None:
        """Write the user-facing model (``best``: the best so far by the run's metric)."""
        return None

    def should_stop(self, step: int, metrics: dict[str, float]) -> bool:
        """Early stopping: True ends the run cleanly after this step."""
        return False

    def settings(self) -> dict:
        """The trainer's own settings, recorded in ``run.json`` (plain JSON values)."""
        return {}


@dataclass
class RunResult:
    step: int
    stopped: str
    """'done', 'time limit', 'early stop'."""
    files: RunFiles
    best: dict[str, Any] | None = None
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)


def parse_duration(text: str | float | int | None) -> float | None:
    """``"90s"``, ``"10m"``, ``"1h"``, ``"1h30m"`` or a number of seconds -> seconds (None passes)."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        raw, seconds, number = str(text).strip().lower(), 0.0, ""
        units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        try:
            for char in raw:
                if char.isdigit() or char == ".":
                    number += char
                elif char in units and number:
                    seconds, number = seconds + float(number) * units[char], ""
                elif not char.isspace():
                    raise ValueError
            if number:
                seconds += float(number)
        except ValueError:
            raise InputError(f"--time-limit: {text!r} is not a duration; write e.g. 90s, 10m, 1h or 1h30m") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"--time-limit must be a positive duration, got {text!r}")
    return seconds


def _rng_state() -> dict:
    return {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()[1].tolist()}


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(_as_tuple(state["python"]))
    np.random.seed(0)
    np_state = list(np.random.get_state())
    np_state[1] = np.asarray(state["numpy"], dtype=np.uint32)
    np.random.set_state(tuple(np_state))


def _as_tuple(value: Any) -> Any:
    return tuple(_as_tuple(v) for v in value) if isinstance(value, (list, tuple)) else value


class Runner:
    """Prepares a run (new, resumed or replaced) and then drives a :class:`Trainer` through it.

    ``Runner(files, kind, resume=..., force=...)`` checks the files first, so that a mistake
    is reported before data is loaded; ``previous_settings`` then holds the resumed run's
    trainer settings (a trainer usually continues with its own settings), and
    :meth:`run` trains.
    """

    def __init__(
        self, files: RunFiles, kind: str, *, resume: bool = False, force: bool = False, ctx: distributed.Context | None = None
    ) -> None:
        self.files, self.kind = files, kind
        self.format = f"atelier-run-{kind}"
        self.ctx = ctx or distributed.context()
        self.previous: dict | None = None
        if resume and force:
            raise InputError("--resume continues a run and --force replaces it: choose one")
        if resume:
            if not files.state.is_file():
                raise InputError(f"{files.label}: nothing to resume (no training state {files.state.name})")
            self.previous = load_checkpoint(files.state, self.format)
            with model_file_errors(files.state, f"{kind} training"):
                int(self.previous["step"]), dict(self.previous["trainer"]), dict(self.previous["settings"])
        elif files.state.exists():
            if not force:
                raise InputError(
                    f"{files.label} already holds a training run; use --resume to continue it, --force to start over, or choose another output"
                )
            if self.ctx.is_main:
                for path in files.all():
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
            distributed.barrier(self.ctx)

    @property
    def previous_settings(self) -> dict | None:
        """The trainer settings of the run being resumed (None for a new run)."""
        return None if self.previous is None else dict(self.previous["settings"])

    def resumed_settings(self, cls: type, given: Any = None, upgrade: Callable[[dict], dict] | None = None) -> Any:
        """On a resume: the run's own settings (a ``cls`` dataclass; ``upgrade`` translates
        those saved by older versions), with ``given.steps`` as the new total when settings
        were given; for a new run: ``given`` (or the defaults)."""
        if self.previous is None:
            return given if given is not None else cls()
        saved = self.previous_settings or {}
        old = from_dict(cls, upgrade(saved) if upgrade else saved)
        return old if given is None else replace(old, steps=given.steps)

    @property
    def start_step(self) -> int:
        return 0 if self.previous is None else int(self.previous["step"])

    # -- the loop -------------------------------------------------------------------------

    def run(
        self, trainer: Trainer, settings: RunSettings, *, on_event: OnEvent | None = None, cancel: threading.Event | None = None
    ) -> RunResult:
        """Train from the current step to ``settings.steps`` (or the time limit)."""
        if settings.steps is None and settings.time_limit is None:
            raise ValueError("a run without a step total needs a time limit")
        files, ctx, main = self.files, self.ctx, self.ctx.is_main
        report = on_event if (on_event is not None and main) else None
        step = self.start_step
        best: dict[str, Any] | None = None
        if self.previous is not None:
            with model_file_errors(files.state, f"{self.kind} training"):
                trainer.load_state_dict(self.previous["trainer"])
                _set_rng_state(self.previous["rng"])
                best = self.previous.get("best")
        log = _Log(files.log, step if self.previous is not None else 0) if main else None
        if main:
            files.folder.mkdir(parents=True, exist_ok=True)
            remove_stale_parts(files.state)
        started = time.monotonic()
        self.started, self.first_step = started, step
        if main:
            self._write_meta(trainer, settings, step, best, "running")
        stopped = "done"
        metrics: dict[str, float] = {}

        def save() -> Path | None:
            if not main:
                return None
            save_checkpoint(
                {
                    "format": self.format,
                    "version": 1,
                    "step": step,
                    "trainer": trainer.state_dict(),
                    "rng": _rng_state(),
                    "best": best,
                    "settings": trainer.settings(),
                },
                files.state,
            )
            trainer.save_model(step, best=False)
            assert log is not None
            log.plot(files.curves)
            self._write_meta(trainer, settings, step, best, "running")
            return files.state

        try:
            while settings.steps is None or step < settings.steps:
                if cancel is not None and cancel.is_set():
                    raise Cancelled("training cancelled")
                metrics = {k: distributed.all_mean(float(v), ctx) for k, v in trainer.train_step(step).items()}
                step += 1
                last = step == settings.steps
                # Every rank must take the same decision, or one would wait for the others forever.
                out_of_time = distributed.any_rank(
                    settings.time_limit is not None and time.monotonic() - started >= settings.time_limit, ctx
                )
                if out_of_time:
                    stopped = "time limit"
                if (settings.eval_every and step % settings.eval_every == 0) or last or out_of_time:
                    scores = trainer.evaluate(step)
                    metrics.update(scores)
                    name = settings.best_metric
                    if main and name and name in scores and (best is None or scores[name] < best["value"]):
                        best = {"metric": name, "value": float(scores[name]), "step": step}
                        trainer.save_model(step, best=True)
                if trainer.should_stop(step, metrics) and not last:
                    stopped = "early stop"
                preview = None
                if main and settings.preview_every and (step % settings.preview_every == 0 or last or stopped != "done"):
                    files.previews.mkdir(parents=True, exist_ok=True)
                    preview = trainer.preview(step, files.previews)
                if main:
                    assert log is not None
                    log.add(step, metrics)
                checkpoint = None
                if step % settings.checkpoint_every == 0 or last or stopped != "done":
                    checkpoint = save()
                if report is not None:
                    report(
                        Event(
                            step,
                            settings.steps,
                            metrics,
                            phase="training",
                            preview=preview,
                            checkpoint=checkpoint,
                            detail=f"preview {preview.name}" if isinstance(preview, Path) else "",
                        )
                    )
                if stopped != "done":
                    break
        except (KeyboardInterrupt, Cancelled) as stop:
            reason = "cancelled" if isinstance(stop, Cancelled) else "interrupted"
            if step > self.start_step or self.previous is not None:
                save()  # the step in flight is lost, everything before it is kept
                where = f"training state saved in {files.state}; continue with --resume"
            else:
                where = "nothing was saved (no step had finished)"
            if main:
                self._write_meta(trainer, settings, step, best, reason)
            raise Cancelled(f"training {reason} at step {step}: {where}") from None
        if main:
            self._write_meta(trainer, settings, step, best, stopped)
        return RunResult(step, stopped, files, best, time.monotonic() - started, metrics)

    def _write_meta(self, trainer: Trainer, settings: RunSettings, step: int, best: dict | None, status: str) -> None:
        from atelier import __version__

        meta = {
            "kind": self.kind,
            "status": status,
            "step": step,
            "steps": settings.steps,
            "world_size": self.ctx.world_size,
            "global_batch": trainer.global_batch,
            "local_batch": None if trainer.global_batch is None else trainer.global_batch // self.ctx.world_size,
            "device": str(self.ctx.device),
            "best": best,
            "run_settings": asdict(settings),
            "settings": trainer.settings(),
            "atelier_version": __version__,
            "seconds": round(time.monotonic() - self.started, 3),
            "steps_this_session": step - self.first_step,
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        atomic_write_text(self.files.meta, json.dumps(meta, indent=2))


class _Log:
    """``log.csv``: one row per step, a column per metric (new metrics widen the table).

    On resume the rows after the checkpoint's step are dropped: a run killed between two
    checkpoints logged steps that will be trained again.
    """

    def __init__(self, path: Path, resume_step: int) -> None:
        self.path = path
        self.columns: list[str] = ["step"]
        self.rows: list[dict[str, str]] = []
        if resume_step and path.is_file():
            with open(path, newline="") as handle:
                reader = csv.DictReader(handle)
                self.columns = list(reader.fieldnames or ["step"])
                self.rows = [row for row in reader if row.get("step", "").isdigit() and int(row["step"]) <= resume_step]
            self._rewrite()
        elif path.exists():
            path.unlink()

    def add(self, step: int, metrics: dict[str, float]) -> None:
        row = {"step": str(step), **{k: f"{v:.6g}" for k, v in metrics.items()}}
        new = [k for k in row if k not in self.columns]
        self.rows.append(row)
        if new or not self.path.exists():
            self.columns += new
            self._rewrite()
        else:
            with open(self.path, "a", newline="") as handle:
                csv.DictWriter(handle, self.columns).writerow(row)

    def _rewrite(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, self.columns)
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, buffer.getvalue())

    def plot(self, target: Path) -> None:
        from atelier.plots import plot_log

        if self.rows:
            plot_log(self.path, target)
