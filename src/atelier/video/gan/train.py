"""Training the 3D GAN on clips from the user's videos: hinge loss, spectral norm in the
discriminator, DiffAugment drawn once per clip and applied identically to all its frames, EMA
sampling. The lifecycle (run folder, checkpoints, exact resume, Ctrl-C, time limit, the best
generator by Frechet distance, ``log.csv``) is the runner's (:mod:`atelier.runs`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from atelier import distributed
from atelier.checkpoints import load_checkpoint, model_file_errors
from atelier.errors import InputError
from atelier.events import OnEvent
from atelier.generate.augment import diff_augment
from atelier.generate.models import EMA, to_unit
from atelier.generate.train import AdversarialTrainer
from atelier.options import from_dict
from atelier.runs import RunFiles, Runner, RunSettings, parse_duration
from atelier.video.gan.data import load_clips
from atelier.video.gan.model import VideoDiscriminator, VideoGenerator
from atelier.video.gan.settings import VideoGanSettings

KIND = "video-gan"


def clip_augment(clips: torch.Tensor, policy: str, generator: torch.Generator) -> torch.Tensor:
    """DiffAugment on ``(N, 3, T, H, W)`` clips with **one draw per clip**, the same for all its
    frames (a shifted or recoloured clip, never a jittering one): every frame is augmented from
    the same generator state."""
    if not policy:
        return clips
    state = generator.get_state()
    frames = []
    for t in range(clips.shape[2]):
        generator.set_state(state)
        frames.append(diff_augment(clips[:, :, t], policy, generator))
    return torch.stack(frames, dim=2)


def motion_statistics(clips: torch.Tensor) -> np.ndarray:
    """Per clip: how much each frame differs from the next (mean absolute difference, ``T-1``
    values) and where the motion is (temporal standard deviation pooled on a 4x4 grid). Clips in
    [0, 1]. Frozen noise scores high differences everywhere; a still picture scores zero."""
    differences = (clips[:, :, 1:] - clips[:, :, :-1]).abs().mean(dim=(1, 3, 4))
    where = F.adaptive_avg_pool2d(clips.std(dim=2).mean(dim=1, keepdim=True), 4).flatten(1)
    return torch.cat([differences, where], dim=1).numpy().astype(np.float64)


def frame_features(clips: torch.Tensor, per_clip: int = 4) -> np.ndarray:
    """EfficientNet-Lite0 features of ``per_clip`` evenly spaced frames of each clip in [0, 1]."""
    from atelier.generate.train import effnet_features

    t = clips.shape[2]
    pick = np.linspace(0, t - 1, per_clip).round().astype(int)
    frames = clips[:, :, pick].permute(0, 2, 1, 3, 4).reshape(-1, 3, clips.shape[3], clips.shape[4])
    return effnet_features(frames)


def clip_scores(fake: torch.Tensor, real: torch.Tensor, real_cache: dict | None = None) -> dict[str, float]:
    """``fd_frames`` (Frechet distance of per-frame EfficientNet features) and ``fd_motion``
    (of :func:`motion_statistics`) between generated and real clips, both in [0, 1]."""
    from atelier.metrics import frechet_between

    cache = real_cache if real_cache is not None else {}
    if "frames" not in cache:
        cache["frames"], cache["motion"] = frame_features(real), motion_statistics(real)
    return {
        "fd_frames": frechet_between(frame_features(fake), cache["frames"]),
        "fd_motion": frechet_between(motion_statistics(fake), cache["motion"]),
    }


def _step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 1009 + rank)


class VideoGanTrainer(AdversarialTrainer):
    kind = KIND

    def __init__(self, settings: VideoGanSettings, clips: torch.Tensor, ctx: distributed.Context, data_path: str) -> None:
        self.options, self.clips, self.ctx, self.data_path = settings, clips, ctx, data_path
        self.global_batch = settings.batch
        torch.manual_seed(settings.seed)
        s = settings
        self.generator = VideoGenerator(s.size, s.frames, s.z_dim, s.width)
        self.discriminator = VideoDiscriminator(s.size, s.frames, s.width_d)
        self.g, self.d = distributed.wrap(self.generator, ctx), distributed.wrap(self.discriminator, ctx)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=s.lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=s.lr_d, betas=(0.5, 0.999))
        self.ema = EMA(self.generator, s.ema_decay)
        self.batches = distributed.EpochBatches(len(clips), s.batch, ctx, s.seed)
        self.fixed_z = torch.randn(16, s.z_dim, generator=torch.Generator().manual_seed(1234))
        self._real: dict = {}

    def train_step(self, step: int) -> dict[str, float]:
        s = self.options
        rng = _step_generator(s.seed, step, self.ctx.rank)
        real = self.clips[self.batches.batch(step)].float() / 127.5 - 1
        flip = torch.rand(len(real), generator=rng) < 0.5
        real = torch.where(flip[:, None, None, None, None], real.flip(-1), real)
        z = torch.randn(len(real), s.z_dim, generator=rng)
        return self.adversarial_step(real, z, rng, step)

    def augment(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        return clip_augment(x, self.options.augment, rng)

    def evaluate(self, step: int) -> dict[str, float]:
        if not self.ctx.is_main:
            return {}
        n = min(self.options.eval_samples, len(self.clips))
        if "real" not in self._real:
            pick = torch.randperm(len(self.clips), generator=torch.Generator().manual_seed(0))[:n]
            self._real["real"] = self.clips[pick].float() / 255
        with torch.no_grad(), torch.random.fork_rng():
            z = torch.randn(n, self.options.z_dim, generator=torch.Generator().manual_seed(99))
            fake = to_unit(self.ema.model(z))
        return clip_scores(fake, self._real["real"], self._real)

    def preview(self, step: int, folder: Path) -> Path | None:
        from atelier.video.gan.sample import write_clip_grid

        with torch.no_grad():
            clips = to_unit(self.ema.model(self.fixed_z))
        folder.mkdir(parents=True, exist_ok=True)
        return write_clip_grid(clips, folder / f"step_{step:06d}.gif")


def load_video_generator(run_dir: str | Path, which: str = "latest") -> tuple[VideoGenerator, dict]:
    """The EMA generator of a run and its metadata (``step``, ``settings``); ``which`` is
    ``latest`` (the training state) or ``best`` (the lowest ``fd_frames`` seen)."""
    files = RunFiles.in_folder(run_dir)
    path = files.state if which == "latest" else files.folder / "best.pt"
    if not path.is_file():
        raise InputError(f"{run_dir}: no {path.name} here; train with `atelier video-gan train CLIPS --out {run_dir}`")
    data = load_checkpoint(path, (f"atelier-run-{KIND}",))
    with model_file_errors(path, "video GAN"):
        s = from_dict(VideoGanSettings, data["settings"])
        generator = VideoGenerator(s.size, s.frames, s.z_dim, s.width)
        generator.load_state_dict(data["trainer"]["generator_ema"])
    return generator.eval(), {"step": int(data["step"]), "settings": asdict(s)}


def train_video_gan(
    data_path: str | Path,
    run_dir: str | Path,
    settings: VideoGanSettings | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    time_limit: float | str | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> dict:
    """Train (``resume``: continue; ``force``: start over) a 3D GAN in ``run_dir`` on clips cut
    from the videos at ``data_path`` (a folder or one file). Returns a summary."""
    files = RunFiles.in_folder(run_dir)
    runner = Runner(files, KIND, resume=resume, force=force)
    settings = runner.resumed_settings(VideoGanSettings, settings)
    settings.validate()
    skipped: list[str] = []
    clips = load_clips(data_path, settings.size, settings.frames, settings.stride, max_clips=settings.max_clips, skipped=skipped)
    if len(clips) < 2:
        raise InputError(f"{data_path}: a video GAN needs at least 2 clips (found {len(clips)})")
    trainer = VideoGanTrainer(settings, clips, runner.ctx, str(data_path))
    trainer.best_path = files.folder / "best.pt"
    result = runner.run(
        trainer,
        RunSettings(
            steps=settings.steps,
            checkpoint_every=settings.checkpoint_every,
            preview_every=settings.sample_every,
            eval_every=settings.eval_every,
            time_limit=parse_duration(time_limit),
            best_metric="fd_frames",
        ),
        on_event=on_progress,
        cancel=cancel,
    )
    return {"run": str(files.folder), "steps": result.step, "stopped": result.stopped, "seconds": round(result.seconds, 1),
            "clips": int(len(clips)), "metrics": result.metrics, "best": result.best, "skipped": skipped}  # fmt: skip
