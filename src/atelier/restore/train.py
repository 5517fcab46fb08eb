"""Training the learned restorers (``atelier restore train upscale|denoise``).

Random patches of the user's pictures with synthetic damage (:mod:`atelier.restore.data`),
L1 loss, Adam with cosine decay. The upscaler trains x2, x3 and x4 together (half the steps
x4, the hardest); the denoiser draws a noise level (or a JPEG quality) per patch. Held-out
PSNR is measured every ``eval_every`` steps and the best model is kept. ``init`` starts from
the weights of a model (a built-in or a file: fine-tuning on one's own pictures, or more
training for a shipped model). Checkpoints, exact resume, Ctrl-C and ``--time-limit`` are the
runner's (:mod:`atelier.runs`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from atelier import distributed
from atelier.checkpoints import save_checkpoint
from atelier.errors import InputError
from atelier.events import OnEvent
from atelier.io.images import find_images, read_image
from atelier.metrics.images import psnr
from atelier.restore import data, degrade
from atelier.restore.models import SCALES, Denoiser, DenoiserConfig, SRConfig, SuperResolver
from atelier.restore.settings import TASKS, RestoreTrainSettings
from atelier.runs import RunFiles, Runner, RunSettings, Trainer, parse_duration

KIND = "restore"
MODEL_FORMAT = "atelier-restore-model"
#: Held-out noise levels (0-255) and the order scales are trained in (x4 every other step).
VALID_SIGMAS = (15, 25, 50)
SCALE_CYCLE = (4, 2, 4, 3)
VALID_SIDE = 320


def to_tensor(batch: np.ndarray) -> torch.Tensor:
    """``(B, H, W, 3)`` or ``(H, W, 3)`` float array -> ``(B, 3, H, W)`` tensor."""
    array = batch[None] if batch.ndim == 3 else batch
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).permute(0, 3, 1, 2).contiguous()


def to_array(tensor: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` tensor -> ``(H, W, 3)`` float32 array clipped to [0, 1]."""
    return tensor[0].clamp(0, 1).permute(1, 2, 0).numpy()


def build_model(task: str, config: dict) -> torch.nn.Module:
    if task == "upscale":
        return SuperResolver(SRConfig(**{**config, "scales": tuple(config.get("scales", SCALES))}))
    return Denoiser(DenoiserConfig(**config))


def centre_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    y, x = max(0, (h - side) // 2), max(0, (w - side) // 2)
    return rgb[y : y + side, x : x + side]


class RestoreTrainer(Trainer):
    kind = KIND

    def __init__(
        self,
        task: str,
        settings: RestoreTrainSettings,
        pictures: list[np.ndarray],
        valid: list[np.ndarray],
        ctx: distributed.Context,
        info: dict,
        init_weights: dict[str, torch.Tensor] | None = None,
    ) -> None:
        self.task, self.options, self.pictures, self.valid, self.ctx, self.info = task, settings, pictures, valid, ctx, info
        self.global_batch = settings.batch
        torch.manual_seed(settings.seed)
        if task == "upscale":
            self.model: torch.nn.Module = SuperResolver(SRConfig(settings.channels, settings.depth))
        else:
            self.model = Denoiser(DenoiserConfig(settings.channels, settings.depth))
        if init_weights is not None:
            self.model.load_state_dict(init_weights)
        self.net = distributed.wrap(self.model, ctx)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=settings.lr)
        self.best_path: Path | None = None

    def learning_rate(self, step: int) -> float:
        s = self.options
        return s.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / s.steps))))

    def train_step(self, step: int) -> dict[str, float]:
        s = self.options
        for group in self.opt.param_groups:
            group["lr"] = self.learning_rate(step)
        rng = np.random.default_rng([s.seed, step, self.ctx.rank])
        local = distributed.local_batch(s.batch, self.ctx)
        self.net.train()
        if self.task == "upscale":
            scale = SCALE_CYCLE[step % len(SCALE_CYCLE)]
            low, high = data.sr_batch(self.pictures, scale, s.patch, local, rng)
            out = self.net(to_tensor(low), scale)
            target, metric = to_tensor(high), f"l1_x{scale}"
        else:
            noisy, clean, levels = data.denoise_batch(self.pictures, s.patch, local, rng, max_sigma=s.max_sigma, jpeg_share=s.jpeg)
            out = self.net(to_tensor(noisy), torch.from_numpy(levels))
            target, metric = to_tensor(clean), "l1"
        loss = F.l1_loss(out, target)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": loss.item(), metric: loss.item()}

    @torch.no_grad()
    def evaluate(self, step: int) -> dict[str, float]:
        if not self.ctx.is_main or not self.valid:
            return {}
        self.model.eval()
        metrics: dict[str, float] = {}
        errors = []
        if self.task == "upscale":
            for scale in sorted(self.model.config.scales):
                scores = []
                for picture in self.valid:
                    high = degrade.crop_to_multiple(picture, scale)
                    out = to_array(self.model(to_tensor(degrade.downscale(high, scale)), scale))
                    scores.append(psnr(out, high, y_only=True, border=scale))
                    errors.append(float(np.abs(out - high).mean()))
                metrics[f"valid_psnr_x{scale}"] = float(np.mean(scores))
        else:
            for sigma in VALID_SIGMAS:
                rng = np.random.default_rng(sigma)
                scores = []
                for picture in self.valid:
                    noisy = degrade.add_noise(picture, sigma, rng)
                    out = to_array(self.model(to_tensor(noisy), sigma / 255.0))
                    scores.append(psnr(out, picture))
                    errors.append(float(np.abs(out - picture).mean()))
                metrics[f"valid_psnr_s{sigma}"] = float(np.mean(scores))
        metrics["valid_l1"] = float(np.mean(errors))
        return metrics

    def save_model(self, step: int, best: bool) -> Path | None:
        if not best or self.best_path is None:
            return None
        return save_restore_model(self.task, self.model, self.best_path, {**self.info, "step": step, "settings": self.settings()})

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "opt": self.opt.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])

    def settings(self) -> dict:
        return {**asdict(self.options), "task": self.task, "data": self.info.get("data")}


def save_restore_model(task: str, model: torch.nn.Module, path: str | Path, info: dict) -> Path:
    # Half-precision weights: half the file, and the restorers lose nothing measurable (< 0.01 dB).
    weights = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    return save_checkpoint(
        {"format": MODEL_FORMAT, "version": 1, "task": task, "config": model.config.to_dict(), "weights": weights, "info": info}, path
    )


def _valid_pictures(sources: list[str | Path] | list[Path]) -> list[np.ndarray]:
    """Centre crops of every picture in ``sources`` (files or folders)."""
    paths: list[Path] = []
    for item in sources:
        paths += find_images(item) if Path(item).is_dir() else [Path(item)]
    return [centre_crop(read_image(p)[0], VALID_SIDE) for p in paths]


def _initial_weights(task: str, init: str | Path, settings: RestoreTrainSettings) -> tuple[dict[str, torch.Tensor], RestoreTrainSettings]:
    """The weights of the model ``init`` names, and ``settings`` with its network size."""
    from atelier.restore.learned import load_restorer

    model, _ = load_restorer(task, init)  # a built-in's name or a file; the task is checked there
    config = model.config
    if task == "upscale" and tuple(config.scales) != tuple(SCALES):
        raise InputError(f"{init}: trained for x{', x'.join(map(str, config.scales))}; training covers x2, x3 and x4 together")
    for name, given, own in (("channels", settings.channels, config.channels), ("depth", settings.depth, config.blocks)):
        if given and given != own:
            raise InputError(f"--{name} {given}: the model given to --init has {name} {own} (leave --{name} out to keep it)")
    # A copy: the loaded model is cached for restoring pictures and must not train.
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return weights, replace(settings, channels=config.channels, depth=config.blocks)


def train_restorer(
    task: str,
    data_source: str | Path,
    model_path: str | Path,
    settings: RestoreTrainSettings | None = None,
    *,
    valid: str | Path | list[str | Path] | None = None,
    init: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    time_limit: float | str | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Train an ``upscale`` (x2/x3/x4) or ``denoise`` model on the pictures in ``data_source``
    and keep the best by held-out PSNR in ``model_path``. Held-out pictures: ``valid`` (files
    or folders; centre crops), else every tenth picture of ``data_source``. ``init``: start
    from this model's weights (a built-in's name, e.g. ``upscale``, or a model file of the same
    task); the network's size is the model's."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; choose one of: {', '.join(TASKS)}")
    if init is not None and resume:
        raise InputError("--init starts a new run from a model's weights and --resume continues a run: give one of them")
    model_path = Path(model_path)
    runner = Runner(RunFiles.beside(model_path), KIND, resume=resume, force=force)
    settings = runner.resumed_settings(RestoreTrainSettings, settings)
    settings.validate()
    init_weights = None
    if init is not None:
        init_weights, settings = _initial_weights(task, init, settings)
    settings = settings.resolved(task)
    source = Path(data_source)
    if not source.exists():
        raise InputError(f"{source}: no such file or folder")
    paths = find_images(source) if source.is_dir() else [source]
    if valid is None:
        held, paths = paths[::10] if len(paths) > 1 else [], [p for i, p in enumerate(paths) if i % 10 or len(paths) == 1]
        valid_pictures = _valid_pictures(held)
    else:
        valid_pictures = _valid_pictures(valid if isinstance(valid, list) else [valid])
    need = settings.patch * (max(SCALES) if task == "upscale" else 1)
    pictures = [pic for p in paths for pic in data.load_pictures(p, min_side=need)]
    info = {"data": str(data_source), "task": task, "train_pictures": len(paths), "valid_pictures": len(valid_pictures)}
    if init is not None:
        info["init"] = str(init)
    trainer = RestoreTrainer(task, settings, pictures, valid_pictures, runner.ctx, info, init_weights)
    trainer.best_path = model_path
    result = runner.run(
        trainer,
        RunSettings(
            steps=settings.steps,
            checkpoint_every=settings.checkpoint_every,
            eval_every=settings.eval_every,
            time_limit=parse_duration(time_limit),
            best_metric="valid_l1" if valid_pictures else None,
        ),
        on_event=on_progress,
        cancel=cancel,
    )
    if not valid_pictures:
        trainer.save_model(result.step, best=True)
    return {
        "model": str(model_path),
        "steps": result.step,
        "stopped": result.stopped,
        "best": result.best,
        "seconds": round(result.seconds, 1),
        **info,
    }
