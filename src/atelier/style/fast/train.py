"""Training a feed-forward style network on one painting (Johnson et al. 2016).

The losses are the optimisation engine's own (:class:`atelier.style.perceptual.PerceptualLoss`):
the same backbones, statistics and weights, so a fast style looks like what
``atelier stylize`` would paint, only in a fraction of a second. The lifecycle (checkpoints,
resume, Ctrl-C, previews, time limit, several processes) is the runner's (:mod:`atelier.runs`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

import torch

from atelier import distributed
from atelier.errors import InputError
from atelier.events import OnEvent
from atelier.io import load_source, save_image
from atelier.io.paths import check_new_file
from atelier.runs import RunFiles, Runner, RunSettings, Trainer, parse_duration
from atelier.style.data import SAMPLE_TRAINING_PHOTOS, PhotoCrops, load_training_photos  # noqa: F401 (re-exported)
from atelier.style.fast.model import FastStyleModel, save_model
from atelier.style.fast.network import NetworkShape, StyleNet
from atelier.style.fast.settings import FAST_CONTENT_LAYERS, TrainStyleSettings  # noqa: F401 (re-exported)
from atelier.style.perceptual import PerceptualLoss
from atelier.style.presets import get_preset

#: A portrait never trained on (the default photos are scikit-image's others): previews show generalisation.
PREVIEW_PHOTO = "sample:astronaut"


class FastStyleTrainer(Trainer):
    """One painting, many photos: trains a :class:`StyleNet` to minimise the perceptual loss."""

    kind = "fast-style"

    def __init__(
        self, settings: TrainStyleSettings, style: str | Path, photos: list[torch.Tensor], name: str, output: Path, ctx: distributed.Context
    ) -> None:
        self.options, self.style, self.name, self.output, self.ctx = settings, str(style), name, output, ctx
        self.global_batch = settings.batch
        device = ctx.device
        torch.manual_seed(settings.seed)
        self.net = StyleNet(NetworkShape.from_dict(settings.shape)).to(device)
        self.model = distributed.wrap(self.net, ctx)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=settings.learning_rate)
        self.crops = PhotoCrops(photos, settings.crop, settings.seed)
        self.batches = distributed.EpochBatches(len(photos), settings.batch, ctx, settings.seed)
        self.loss = PerceptualLoss(get_preset(settings.backbone), settings.loss_settings(), smoothing=False)
        self.loss.content_encoder.to(device)
        self.loss.style_encoder.to(device)
        self.loss.set_style([load_source(style, max_side=settings.style_size).rgb.to(device)], [1.0])
        # A fixed preview on a photo never trained on, so progress and generalisation show.
        self.preview_input = load_source(PREVIEW_PHOTO, max_side=384).rgb.to(device)
        self.steps_done = 0

    def train_step(self, step: int) -> dict[str, float]:
        batch = self.crops.batch(self.batches.batch(step), self.batches.epoch_of(step)).to(self.ctx.device)
        self.net.train()
        self.loss.set_content(batch, None)
        loss, parts = self.loss.loss(self.model(batch))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps_done = step + 1
        return parts

    def state_dict(self) -> dict:
        return {"network": self.net.state_dict(), "optimizer": self.optimizer.state_dict(), "style": self.style, "name": self.name}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["network"])  # copies onto the network's device
        self.optimizer.load_state_dict(state["optimizer"])

    def settings(self) -> dict:
        return {**asdict(self.options), "style": self.style, "name": self.name, "content_dir": self.content_dir}

    content_dir: str | None = None

    def fast_model(self, step: int) -> FastStyleModel:
        return FastStyleModel(self.net.eval(), name=self.name, style_source=self.style, trained_steps=step, settings=asdict(self.options))

    def preview(self, step: int, folder: Path) -> Path | None:
        with torch.no_grad():
            self.net.eval()
            return save_image(self.net(self.preview_input), folder / f"step_{step:06d}.png")

    def save_model(self, step: int, best: bool) -> Path | None:
        # The model file is refreshed with every checkpoint, so it can be tried mid-run.
        return save_model(self.fast_model(step), self.output)


def checkpoint_path(model_path: str | Path) -> Path:
    """Where the training state of ``model_path`` lives (beside it, ``NAME.pt.train``)."""
    return RunFiles.beside(model_path).state


def train_style(
    style: str | Path,
    output: str | Path,
    settings: TrainStyleSettings | None = None,
    *,
    content_dir: str | Path | None = None,
    name: str | None = None,
    resume: bool = False,
    force: bool = False,
    time_limit: float | str | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> FastStyleModel:
    """Train a fast style network on the painting ``style``; write the model to ``output``.

    ``content_dir`` is any folder of photos (COCO, your own); without it, photos bundled
    with scikit-image are used. The training state is checkpointed beside the model
    (``OUTPUT.train``, with ``-run.json``, ``-log.csv``, ``-curves.png`` and ``-previews/``)
    every ``checkpoint_every`` steps, and the model file is refreshed at the same time, so
    it can be tried mid-run; ``resume=True`` continues (with the run's own settings, and
    ``settings.steps`` as the new total when given). Runs under ``torchrun`` too.
    """
    output = Path(output)
    files = RunFiles.beside(output)
    if not resume:
        if output.suffix.lower() != ".pt":
            raise InputError(f"{output}: the model file must end in .pt (export to ONNX afterwards with `atelier export-onnx`)")
        if not files.state.exists():
            check_new_file(output, force=force, inputs=[style])
    runner = Runner(files, FastStyleTrainer.kind, resume=resume, force=force)
    if runner.previous_settings is not None:
        old = runner.previous_settings
        style, content_dir, name = old.pop("style"), old.pop("content_dir"), old.pop("name")
        steps = settings.steps if settings else old["steps"]
        settings = TrainStyleSettings(**{**old, "steps": steps})
    settings = settings or TrainStyleSettings()
    settings.validate()
    limit = parse_duration(time_limit)
    photos, _, skipped = load_training_photos(content_dir)
    trainer = FastStyleTrainer(settings, style, photos, name or Path(str(style)).stem.replace("_", "-"), output, runner.ctx)
    trainer.content_dir = None if content_dir is None else str(content_dir)
    result = runner.run(
        trainer,
        RunSettings(
            steps=settings.steps,
            checkpoint_every=settings.checkpoint_every,
            preview_every=settings.preview_every,
            time_limit=limit,
        ),
        on_event=on_progress,
        cancel=cancel,
    )
    model = trainer.fast_model(result.step)
    model.skipped = skipped
    return model
