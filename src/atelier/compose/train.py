"""Training an LSTM-NADE on a collection of pieces (MIDI files or a benchmark split).

Random crops of random pieces, transposed by a random interval that keeps them on the
keyboard; Adam with cosine decay and gradient clipping. The lifecycle (checkpoints, exact
resume, Ctrl-C, ``--time-limit``, the best model by validation NLL, ``log.csv``) is the
runner's (:mod:`atelier.runs`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from atelier import distributed
from atelier.checkpoints import save_checkpoint
from atelier.compose.data import read_music, transpose, transpose_range
from atelier.compose.model import LSTMNADE, MusicConfig
from atelier.compose.settings import MusicSettings
from atelier.errors import InputError
from atelier.events import OnEvent
from atelier.runs import RunFiles, Runner, RunSettings, Trainer, parse_duration

KIND = "music"
MODEL_FORMAT = "atelier-music-model"


def pad_batch(rolls: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pieces of different lengths -> ``(B, T, 88)`` rolls and a ``(B, T)`` mask of real steps."""
    longest = max(len(r) for r in rolls)
    batch = torch.zeros(len(rolls), longest, rolls[0].shape[1])
    mask = torch.zeros(len(rolls), longest)
    for i, r in enumerate(rolls):
        batch[i, : len(r)] = torch.from_numpy(r.astype(np.float32))
        mask[i, : len(r)] = 1
    return batch, mask


@torch.no_grad()
def nll_per_step(model: LSTMNADE, pieces: list[np.ndarray], batch: int = 16) -> float:
    """Mean negative log-likelihood (nats) of a time step over every step of ``pieces`` (whole
    pieces, each from silence): the JSB benchmark's convention."""
    model.eval()
    total, steps = 0.0, 0
    order = sorted(range(len(pieces)), key=lambda i: len(pieces[i]))  # similar lengths together: less padding
    for start in range(0, len(order), batch):
        rolls, mask = pad_batch([pieces[i] for i in order[start : start + batch]])
        total += (model.step_nll(rolls) * mask).sum().item()
        steps += int(mask.sum().item())
    return total / steps


class MusicTrainer(Trainer):
    kind = KIND

    def __init__(
        self, settings: MusicSettings, train: list[np.ndarray], valid: list[np.ndarray], ctx: distributed.Context, info: dict
    ) -> None:
        self.options, self.train, self.valid, self.ctx, self.info = settings, train, valid, ctx, info
        self.global_batch = settings.batch
        torch.manual_seed(settings.seed)
        self.config = MusicConfig(settings.hidden, settings.layers, settings.nade_hidden, settings.dropout)
        self.model = LSTMNADE(self.config)
        self.net = distributed.wrap(self.model, ctx)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=settings.lr)
        self.best_path: Path | None = None

    def learning_rate(self, step: int) -> float:
        s = self.options
        return s.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / s.steps))))

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.options
        rng = np.random.default_rng([s.seed, step, self.ctx.rank])
        rolls = []
        for index in rng.integers(0, len(self.train), distributed.local_batch(s.batch, self.ctx)):
            roll = self.train[index]
            if len(roll) > s.crop:
                begin = int(rng.integers(0, len(roll) - s.crop + 1))
                roll = roll[begin : begin + s.crop]
            low, high = transpose_range(roll)
            low, high = max(low, -s.transpose), min(high, s.transpose)
            rolls.append(transpose(roll, int(rng.integers(low, high + 1))))
        return pad_batch(rolls)

    def train_step(self, step: int) -> dict[str, float]:
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate(step)
        rolls, mask = self.batch(step)
        self.net.train()
        nll = self.net(rolls)  # forward = per-step NLL (through DDP when distributed)
        loss = (nll * mask).sum() / mask.sum()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.opt.step()
        return {"nll": loss.item()}

    def evaluate(self, step: int) -> dict[str, float]:
        if not self.ctx.is_main or not self.valid:
            return {}
        return {"valid_nll": nll_per_step(self.model, self.valid)}

    def save_model(self, step: int, best: bool) -> Path | None:
        if not best or self.best_path is None:
            return None
        return save_music_model(self.model, self.best_path, {**self.info, "step": step, "settings": self.settings()})

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])

    def settings(self) -> dict:
        return {**asdict(self.options), "data": self.info.get("data")}


def save_music_model(model: LSTMNADE, path: str | Path, info: dict) -> Path:
    return save_checkpoint(
        {"format": MODEL_FORMAT, "version": 1, "config": model.config.to_dict(), "weights": model.state_dict(), "info": info}, path
    )


def train_music(
    data: str | Path,
    model_path: str | Path,
    settings: MusicSettings | None = None,
    *,
    valid: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    time_limit: float | str | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Train an LSTM-NADE on ``data`` (a benchmark JSON file's ``train`` split, a MIDI file or a
    folder of them, or ``music21:NAME``, a corpus inside music21) and keep the best model by validation NLL in ``model_path``. Validation:
    ``valid`` (another file or folder), else the data's ``valid`` split, else a tenth of the pieces."""
    model_path = Path(model_path)
    files = RunFiles.beside(model_path)
    runner = Runner(files, KIND, resume=resume, force=force)
    settings = runner.resumed_settings(MusicSettings, settings)
    settings.validate()
    skipped: list[str] = []
    splits = read_music(data, settings.steps_per_quarter, skipped, on_progress)
    train = splits.get("train", [])
    if valid is not None:
        held = read_music(valid, settings.steps_per_quarter, skipped)
        held_out = held.get("valid") or held.get("train", [])
    elif splits.get("valid"):
        held_out = splits["valid"]
    else:
        cut = max(1, len(train) // 10) if len(train) > 1 else 0
        train, held_out = train[cut:], train[:cut]
    if not train:
        raise InputError(f"{data}: no pieces to train on")
    # The benchmark files are in quarter notes; MIDI files are read at --steps-per-quarter.
    per_quarter = 1 if str(data).lower().endswith(".json") else settings.steps_per_quarter
    info = {"data": str(data), "train_pieces": len(train), "valid_pieces": len(held_out), "steps_per_quarter": per_quarter}
    trainer = MusicTrainer(settings, train, held_out, runner.ctx, info)
    trainer.best_path = model_path
    result = runner.run(
        trainer,
        RunSettings(
            steps=settings.steps,
            checkpoint_every=settings.checkpoint_every,
            eval_every=settings.eval_every,
            time_limit=parse_duration(time_limit),
            best_metric="valid_nll" if held_out else None,
        ),
        on_event=on_progress,
        cancel=cancel,
    )
    if not held_out:  # nothing to choose by: the last model is the model
        trainer.save_model(result.step, best=True)
    return {
        "model": str(model_path),
        "steps": result.step,
        "stopped": result.stopped,
        "best": result.best,
        "seconds": round(result.seconds, 1),
        **info,
        "skipped": skipped,
    }
