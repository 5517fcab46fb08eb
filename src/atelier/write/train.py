"""Training a small Transformer on a writer's corpus (nanoGPT's model/train/sample split).

AdamW with weight decay on matrices, linear warm-up then cosine decay, gradient clipping,
random windows of the training text. The lifecycle (checkpoints, exact resume, Ctrl-C,
``--time-limit``, keeping the best model by validation loss, ``log.csv``/``curves.png``,
several processes) is the runner's (:mod:`atelier.runs`).

With a time limit, the learning-rate schedule follows the clock (the fraction of the budget
used) rather than the step count, so a 10-minute run ends its cosine decay at 10 minutes:
that is what makes a wall-clock budget count (measured in docs/write.md).
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from dataclasses import asdict
from pathlib import Path

import torch
import torch.nn.functional as F

from atelier import distributed
from atelier.checkpoints import save_checkpoint
from atelier.errors import InputError
from atelier.events import OnEvent
from atelier.runs import RunFiles, Runner, RunSettings, Trainer, parse_duration
from atelier.write.data import read_corpus, split_text
from atelier.write.model import GPT, SIZES, GPTConfig
from atelier.write.settings import TextSettings
from atelier.write.tokenizer import Tokenizer, tokenizer_from_dict, train_tokenizer

KIND = "text"
MODEL_FORMAT = "atelier-text-model"


def _windows_nats(model: GPT, ids: torch.Tensor, context: int, starts: list[int]) -> tuple[float, int]:
    """Summed next-token negative log-likelihood (nats) and the number of predicted tokens over
    windows of ``context + 1`` tokens starting at ``starts``."""
    total, count = 0.0, 0
    for chunk in range(0, len(starts), 32):
        batch = torch.stack([ids[s : s + context + 1] for s in starts[chunk : chunk + 32]]).long()
        logits = model(batch[:, :-1])
        total += F.cross_entropy(logits.flatten(0, 1).float(), batch[:, 1:].flatten(), reduction="sum").item()
        count += batch[:, 1:].numel()
    return total, count


def bf16_autocast(device: torch.device) -> torch.autocast | None:
    """bfloat16 autocast where it is fast: CUDA, or a CPU with native bf16 (AVX512-BF16, AMX)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return None


class TextTrainer(Trainer):
    kind = KIND

    def __init__(
        self,
        settings: TextSettings,
        tokenizer: Tokenizer,
        train_ids: torch.Tensor,
        val_ids: torch.Tensor,
        ctx: distributed.Context,
        info: dict,
    ) -> None:
        self.options, self.tokenizer, self.ctx, self.info = settings, tokenizer, ctx, info
        self.train_ids, self.val_ids = train_ids, val_ids
        self.global_batch = settings.batch
        self.local_batch = distributed.local_batch(settings.batch, ctx)
        layers, heads, width = SIZES[settings.size]
        self.config = GPTConfig(tokenizer.vocab_size, settings.context, layers, heads, width, settings.dropout, settings.positions)
        torch.manual_seed(settings.seed)
        self.model = GPT(self.config).to(ctx.device)
        self.net = distributed.wrap(self.model, ctx)
        self.opt = self.model.optimizer(settings.lr, settings.weight_decay, (0.9, 0.99))
        self.time_limit: float | None = None
        self.clock = 0.0
        """Seconds spent in training steps over all sessions (the schedule's clock under a time limit)."""
        self.best_path: Path | None = None
        self.autocast = bf16_autocast(ctx.device) if settings.bf16 else None
        # Fixed, evenly spaced validation windows: every evaluation scores the same text.
        span = len(val_ids) - settings.context - 1
        n = min(settings.eval_windows, max(1, span // max(1, settings.context // 2)))
        self.val_starts = [round(i * span / max(1, n - 1)) for i in range(n)] if span > 0 else []

    def progress(self, step: int) -> float:
        done = step / self.options.steps
        if self.time_limit:
            done = max(done, self.clock / self.time_limit)
        return min(1.0, done)

    def learning_rate(self, step: int) -> float:
        """Linear warm-up over the first ``warmup`` of the run, then cosine decay to ``min_lr_ratio``."""
        s = self.options
        done = self.progress(step + 1)
        if done < s.warmup:
            return s.lr * done / s.warmup
        low = s.lr * s.min_lr_ratio
        return low + 0.5 * (s.lr - low) * (1 + math.cos(math.pi * (done - s.warmup) / (1 - s.warmup)))

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Random windows for this step and rank (drawn from (seed, step, rank): resume-exact)."""
        s = self.options
        g = torch.Generator().manual_seed((s.seed * 1_000_003 + step) * 1009 + self.ctx.rank)
        starts = torch.randint(0, len(self.train_ids) - s.context - 1, (self.local_batch,), generator=g)
        rows = torch.stack([self.train_ids[i : i + s.context + 1] for i in starts.tolist()]).long().to(self.ctx.device)
        return rows[:, :-1], rows[:, 1:]

    def train_step(self, step: int) -> dict[str, float]:
        began = time.monotonic()
        lr = self.learning_rate(step)
        for group in self.opt.param_groups:
            group["lr"] = lr
        x, y = self.batch(step)
        self.net.train()
        with self.autocast or contextlib.nullcontext():
            logits = self.net(x)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), y.flatten())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if self.options.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.options.grad_clip)
        self.opt.step()
        self.clock += time.monotonic() - began
        return {"loss": loss.item(), "lr": lr}

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        if not self.ctx.is_main or not self.val_starts:
            return {}
        self.model.eval()
        nats, tokens = _windows_nats(self.model, self.val_ids, self.options.context, self.val_starts)
        return {"val_loss": nats / tokens}

    def save_model(self, step: int, best: bool) -> Path | None:
        if not best or self.best_path is None:
            return None
        info = {**self.info, "step": step, "trained_seconds": round(self.clock, 1), "settings": self.settings()}
        return save_text_model(self.model, self.tokenizer, self.best_path, info)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "clock": self.clock}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.clock = float(state.get("clock", 0.0))

    def settings(self) -> dict:
        return {**asdict(self.options), "corpus": self.info.get("corpus"), "tokenizer_state": self.tokenizer.to_dict()}


def save_text_model(model: GPT, tokenizer: Tokenizer, path: str | Path, info: dict, half: bool = False) -> Path:
    """A model file: config, tokenizer and weights (plain data; ``half`` stores fp16 weights)."""
    weights = {k: (v.half() if half and v.is_floating_point() else v) for k, v in model.state_dict().items() if k != "head.weight"}
    return save_checkpoint(
        {
            "format": MODEL_FORMAT,
            "version": 1,
            "config": model.config.to_dict(),
            "tokenizer": tokenizer.to_dict(),
            "weights": weights,
            "info": info,
        },
        path,
    )


def train_text(
    corpus: str | Path,
    model_path: str | Path,
    settings: TextSettings | None = None,
    *,
    val: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    time_limit: float | str | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Train a Transformer on ``corpus`` (a UTF-8 file or a folder of them) and write the best
    model by validation loss to ``model_path``. ``val`` is a held-out file; without it the last
    ``settings.val_fraction`` of the corpus is held out (never trained on).

    With ``resume`` the run's own settings are kept and ``settings.steps`` (when given) is the
    new total. Returns a summary: steps, stop reason, best validation loss, files.
    """
    model_path = Path(model_path)
    files = RunFiles.beside(model_path)
    runner = Runner(files, KIND, resume=resume, force=force)
    previous = runner.previous_settings
    limit = parse_duration(time_limit)
    settings = runner.resumed_settings(TextSettings, settings).resolved(limit)
    settings.validate()
    text = read_corpus(corpus)
    if val is not None:
        train_part, val_text = text, read_corpus(val)
    else:
        train_part, val_text = split_text(text, settings.val_fraction)
    if previous is not None:
        tokenizer = tokenizer_from_dict(previous["tokenizer_state"])
    else:
        # Characters: every character of the corpus gets a token (as nanoGPT does); BPE merges
        # are learnt from the training part only.
        tokenizer = train_tokenizer(settings.tokenizer, text if settings.tokenizer == "char" else train_part, settings.vocab_size)
    train_ids = torch.tensor(tokenizer.encode(train_part), dtype=torch.int32)
    val_ids = torch.tensor(tokenizer.encode(val_text), dtype=torch.int32)
    if len(train_ids) < settings.context + 2:
        raise InputError(
            f"{corpus}: too little text for --context {settings.context} ({len(train_ids)} tokens to train on); use a smaller --context"
        )
    if len(val_ids) < settings.context + 2:
        raise InputError(
            f"{val or corpus}: the held-out text is shorter than --context {settings.context} ({len(val_ids)} tokens); "
            "use a smaller --context, a larger --val-fraction or more text"
        )
    info = {
        "corpus": str(corpus),
        "val": str(val) if val is not None else f"last {settings.val_fraction:.0%} of the corpus",
        "train_chars": len(train_part),
        "val_chars": len(val_text),
        "chars_per_token": len(train_part) / max(1, len(train_ids)),
    }
    trainer = TextTrainer(settings, tokenizer, train_ids, val_ids, runner.ctx, info)
    trainer.best_path, trainer.time_limit = model_path, limit
    result = runner.run(
        trainer,
        RunSettings(
            steps=settings.steps,
            checkpoint_every=settings.checkpoint_every,
            eval_every=settings.eval_every,
            time_limit=limit,
            best_metric="val_loss",
        ),
        on_event=on_progress,
        cancel=cancel,
    )
    return {
        "model": str(model_path),
        "steps": result.step,
        "stopped": result.stopped,
        "best": result.best,
        "seconds": round(result.seconds, 1),
        "parameters": trainer.model.parameter_count(),
        "vocab_size": tokenizer.vocab_size,
        "log": str(files.log),
        "curves": str(files.curves),
    }
