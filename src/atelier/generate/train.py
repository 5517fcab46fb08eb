"""Training a GAN on a small collection: FastGAN-style networks (or DCGAN ones, or a projected
discriminator) with DiffAugment, hinge loss, spectral norm, TTUR, bfloat16 compute where the
hardware has it, and EMA sampling.

The lifecycle (run folder, checkpoints, exact resume, Ctrl-C, sample grids, ``log.csv`` and
``curves.png``, time limit, keeping the best generator, several processes) is the runner's
(:mod:`atelier.runs`); this module supplies the models, the data and one step.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from atelier import distributed
from atelier.checkpoints import load_checkpoint, model_file_errors, save_checkpoint
from atelier.errors import InputError
from atelier.events import OnEvent
from atelier.generate.augment import diff_augment
from atelier.generate.data import load_dataset
from atelier.generate.models import EMA, Discriminator, Generator, calibrate_batch_norm, to_unit, truncated_noise
from atelier.generate.settings import DISCRIMINATORS, SIZES, GanSettings, upgrade_settings  # noqa: F401 (re-exported)
from atelier.io import save_image
from atelier.options import from_dict
from atelier.runs import RunFiles, Runner, RunSettings, Trainer, parse_duration

KIND = "gan"
LEGACY_FORMAT = "atelier-gan"  # checkpoints written before the runner (sampling still reads them)
#: Samples the averaged generator's batch-norm statistics are measured on: when a run is
#: loaded (sampling, evaluation) and for in-training scores; previews take fewer (they come
#: every ``sample_every`` steps, inside the time budget).
CALIBRATION_SAMPLES, PREVIEW_CALIBRATION_SAMPLES = 512, 128


def build_generator(settings: GanSettings) -> torch.nn.Module:
    if settings.architecture == "fastgan":
        from atelier.generate.fastgan import FastGenerator

        return FastGenerator(settings.size, settings.z_dim, settings.channels)
    return Generator(settings.size, settings.z_dim, settings.channels)


def build_discriminator(settings: GanSettings) -> torch.nn.Module:
    if settings.discriminator == "projected":
        from atelier.generate.projected import ProjectedDiscriminator

        return ProjectedDiscriminator()
    if settings.architecture == "fastgan":
        from atelier.generate.fastgan import FastDiscriminator

        return FastDiscriminator(settings.size, settings.channels)
    return Discriminator(settings.size, settings.channels)


def compute_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device`` (None: plain float32).

    ``auto`` picks bfloat16 where the hardware computes it natively (AVX-512 BF16 / AMX CPUs,
    Ampere and later GPUs): 1.29x/1.52x/1.75x the GAN steps per second at 32/64/128 px on this
    machine's CPU (benchmarks/bench_gan.py); elsewhere bfloat16 is emulated and slower, so float32."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cuda":  # Ampere and later (is_bf16_supported() also counts emulation)
        return torch.bfloat16 if torch.cuda.get_device_capability(device)[0] >= 8 else None
    try:
        native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    except (AttributeError, RuntimeError):
        native = False
    return torch.bfloat16 if native else None


def image_grid(images: torch.Tensor, columns: int | None = None) -> torch.Tensor:
    """Tile ``(N, 3, S, S)`` images in [0, 1] into one ``(1, 3, H, W)`` grid with 2 px gutters."""
    n, c, s, _ = images.shape
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    grid = torch.ones(c, rows * (s + 2) + 2, columns * (s + 2) + 2)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        grid[:, 2 + r * (s + 2) : 2 + r * (s + 2) + s, 2 + col * (s + 2) : 2 + col * (s + 2) + s] = image
    return grid[None]


@functools.lru_cache(maxsize=1)
def _classifier():
    from atelier.backbones.efficientnet_lite import load_classifier

    with torch.random.fork_rng():  # building it initialises weights from the global RNG
        return load_classifier()


def effnet_features(images: torch.Tensor, batch: int = 64) -> np.ndarray:
    """Pooled EfficientNet-Lite0 features (1280-d) of images in [0, 1], at 160 px."""
    from atelier.backbones.efficientnet_lite import LITE_MEAN, LITE_STD

    mean, std = torch.tensor(LITE_MEAN).view(1, 3, 1, 1), torch.tensor(LITE_STD).view(1, 3, 1, 1)
    model = _classifier()
    out = []
    # Measuring must not change training: nothing here may draw from the global RNG.
    with torch.no_grad(), torch.random.fork_rng():
        for start in range(0, len(images), batch):
            x = F.interpolate(images[start : start + batch].float().cpu(), size=(160, 160), mode="bilinear", align_corners=False)
            out.append(model.features((x - mean) / std).mean(dim=(2, 3)))
    return torch.cat(out).numpy()


def _step_generator(seed: int, step: int, rank: int) -> torch.Generator:
    """The random numbers of one step on one rank: the same on a resume, different across ranks."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 1009 + rank)


class AdversarialTrainer(Trainer):
    """What every GAN here keeps (the image GAN, the video GAN): a generator and a discriminator,
    their optimisers, the EMA generator that samples; the best EMA generator goes to
    ``best_path``. Subclasses set these attributes and ``options``/``data_path``, and write the step."""

    generator: torch.nn.Module
    discriminator: torch.nn.Module
    ema: EMA
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    best_path: Path | None = None
    autocast_dtype: torch.dtype | None = None

    def augment(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """DiffAugment as this GAN's data needs it (images; clips: one draw per clip)."""
        return diff_augment(x, self.options.augment, rng)

    def _autocast(self):
        device = next(self.generator.parameters()).device.type
        return torch.autocast(device, dtype=self.autocast_dtype or torch.bfloat16, enabled=self.autocast_dtype is not None)

    def adversarial_step(self, real: torch.Tensor, z: torch.Tensor, rng: torch.Generator, step: int) -> dict[str, float]:
        """One hinge-loss update of the discriminator on ``real`` and ``G(z)`` (plus its
        reconstruction loss on ``real`` when it has decoders), then of the generator through
        the same (differentiable) augmentation, then the EMA."""
        metrics = {}
        with self._autocast():
            fake = self.g(z)
            # Discriminator: real and fake in one forward pass (one pass per DDP iteration).
            batch = torch.cat([self.augment(real, rng), self.augment(fake.detach(), rng)])
            if getattr(self.discriminator, "reconstructs", False):
                quadrant = int(torch.randint(4, (1,), generator=rng))
                scores, reconstruction = self.d(batch, reconstruct=len(real), quadrant=quadrant)
                metrics["recon"] = reconstruction.detach()
            else:
                scores, reconstruction = self.d(batch), 0.0
            d_real, d_fake = scores[: len(real)].float(), scores[len(real) :].float()
            loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean() + reconstruction
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # Generator: through the plain discriminator with its weights frozen: no weight
        # gradients to compute, and nothing for DDP to reduce (only G's gradients matter).
        trainable = [p for p in self.discriminator.parameters() if p.requires_grad]
        for p in trainable:
            p.requires_grad_(False)
        try:
            with self._autocast():
                loss_g = -self.discriminator(self.augment(fake, rng)).float().mean()
            self.opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
        finally:
            for p in trainable:
                p.requires_grad_(True)
        self.opt_g.step()
        self.ema.update(self.generator, step)
        return {"loss_d": loss_d.item(), "loss_g": loss_g.item(), **{k: float(v) for k, v in metrics.items()}}

    def save_model(self, step: int, best: bool) -> Path | None:
        """The best generator by the run's metric goes to ``best.pt`` (the latest is in the training state)."""
        if not best or self.best_path is None:
            return None
        return save_checkpoint(
            {
                "format": f"atelier-run-{self.kind}",
                "version": 1,
                "step": step,
                "settings": self.settings(),
                "trainer": {"generator_ema": self.ema.model.state_dict()},
            },
            self.best_path,
        )

    def state_dict(self) -> dict:
        return {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "generator_ema": self.ema.model.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.ema.model.load_state_dict(state["generator_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])

    def settings(self) -> dict:
        return {**asdict(self.options), "data": self.data_path}


class GanTrainer(AdversarialTrainer):
    """One step: a discriminator update on real and generated images (hinge loss, both through
    DiffAugment), then a generator update through the same augmentation, then EMA."""

    kind = KIND

    def __init__(self, settings: GanSettings, images: torch.Tensor, ctx: distributed.Context, data_path: str) -> None:
        self.options, self.images, self.ctx, self.data_path = settings, images, ctx, data_path
        self.global_batch = settings.batch
        torch.manual_seed(settings.seed)
        device = ctx.device
        self.generator = build_generator(settings).to(device)
        self.discriminator = build_discriminator(settings).to(device)
        self.autocast_dtype = compute_dtype(settings.precision, device)
        self.g, self.d = distributed.wrap(self.generator, ctx), distributed.wrap(self.discriminator, ctx)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=settings.lr, betas=settings.betas)
        trainable = [p for p in self.discriminator.parameters() if p.requires_grad]
        self.opt_d = torch.optim.Adam(trainable, lr=settings.lr_d or settings.lr, betas=settings.betas)
        self.ema = EMA(self.generator, settings.ema_decay)
        self.batches = distributed.EpochBatches(len(images), settings.batch, ctx, settings.seed)
        self.fixed_z = truncated_noise(64, settings.z_dim, None, torch.Generator().manual_seed(1234)).to(device)
        self._real_features: np.ndarray | None = None

    def train_step(self, step: int) -> dict[str, float]:
        s, device = self.options, self.ctx.device
        rng = _step_generator(s.seed, step, self.ctx.rank)
        real = self.images[self.batches.batch(step)].float() / 127.5 - 1
        flip = torch.rand(len(real), generator=rng) < 0.5
        real = torch.where(flip[:, None, None, None], real.flip(-1), real).to(device)
        z = torch.randn(len(real), s.z_dim, generator=rng).to(device)
        return self.adversarial_step(real, z, rng, step)

    def evaluate(self, step: int) -> dict[str, float]:
        """``fid_effnet`` of the EMA generator against the collection (main process only)."""
        if not self.ctx.is_main:
            return {}
        from atelier.metrics import frechet_between

        n = self.options.eval_samples
        if self._real_features is None:
            pick = torch.randperm(len(self.images), generator=torch.Generator().manual_seed(0))[:n]
            self._real_features = effnet_features(self.images[pick].float() / 255)
        calibrate_batch_norm(self.ema.model, CALIBRATION_SAMPLES, dtype=self.autocast_dtype)
        with torch.no_grad():
            z = truncated_noise(n, self.options.z_dim, None, torch.Generator().manual_seed(99)).to(self.ctx.device)
            fake = to_unit(self.ema.model(z))
        return {"fid_effnet": frechet_between(effnet_features(fake), self._real_features)}

    def preview(self, step: int, folder: Path) -> Path | None:
        calibrate_batch_norm(self.ema.model, PREVIEW_CALIBRATION_SAMPLES, dtype=self.autocast_dtype)
        with torch.no_grad():
            return save_image(image_grid(to_unit(self.ema.model(self.fixed_z)).cpu()), folder / f"step_{step:06d}.png")


def load_generator(run_dir: str | Path, which: str = "latest") -> tuple[torch.nn.Module, dict]:
    """The EMA generator of a run (what sampling uses) and its metadata: ``step``, ``settings``.

    ``which`` is ``latest`` (the training state) or ``best`` (the lowest ``fid_effnet`` seen).
    Reads runs written by the runner and runs from earlier versions of Atelier alike. The
    generator's batch-norm statistics are measured on its own samples (seeded, so every load
    gives the same generator): a weight average does not go with the running statistics saved
    beside it (:func:`~atelier.generate.models.calibrate_batch_norm`).
    """
    files = RunFiles.in_folder(run_dir)
    path = files.state if which == "latest" else files.folder / "best.pt"
    if not path.is_file():
        hint = "train with `atelier gan train DATA --out " + str(run_dir) + "`" if which == "latest" else "no evaluation has run yet"
        raise InputError(f"{run_dir}: no {path.name} here; {hint}")
    data = load_checkpoint(path, (f"atelier-run-{KIND}", LEGACY_FORMAT))
    with model_file_errors(path, "GAN"):
        state = data["trainer"] if "trainer" in data else data
        settings = from_dict(GanSettings, upgrade_settings(data["settings"]))
        generator = build_generator(settings)
        generator.load_state_dict(state["generator_ema"])
    return calibrated(generator, settings), {"step": int(data["step"]), "settings": asdict(settings)}


def calibrated(generator: torch.nn.Module, settings: GanSettings) -> torch.nn.Module:
    """``generator`` (on the CPU) with its batch-norm statistics measured as a loaded run's are."""
    return calibrate_batch_norm(generator, CALIBRATION_SAMPLES, dtype=compute_dtype(settings.precision, torch.device("cpu")))


def train_gan(
    data_path: str | Path,
    run_dir: str | Path,
    settings: GanSettings | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    time_limit: float | str | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> RunFiles:
    """Train (or with ``resume``, continue; with ``force``, start over) a GAN in ``run_dir``.

    With ``resume`` the run's own settings are kept and ``settings.steps`` (when given) is
    the new total; resumed with a ``time_limit`` and no settings, it trains until the limit.
    Returns the run's files (``state``, ``log``, ``curves``, ``previews``).
    """
    files = RunFiles.in_folder(run_dir)
    runner = Runner(files, KIND, resume=resume, force=force)
    limit = parse_duration(time_limit)
    new_total = settings is not None
    settings = runner.resumed_settings(GanSettings, settings, upgrade_settings)
    if resume and limit is not None and not new_total:
        settings = replace(settings, steps=None)  # resumed for a time, not to the old total
    settings.validate()
    # What the run is saved with: the width in use and, without a time limit, the step total
    # (so that a later change of defaults never changes what a saved run is).
    settings = replace(settings, width=settings.channels, steps=settings.total_steps(limit))
    if settings.steps is not None and settings.steps <= runner.start_step:
        raise InputError(f"{run_dir}: the run is at step {runner.start_step}; give --steps above that, or --time-limit")
    dataset = load_dataset(data_path, settings.size)
    if len(dataset.images) < 2:
        raise InputError("a GAN needs at least 2 training images")
    trainer = GanTrainer(settings, dataset.images, runner.ctx, str(data_path))
    trainer.best_path = files.folder / "best.pt"
    runner.run(
        trainer,
        RunSettings(
            steps=settings.steps,
            checkpoint_every=settings.checkpoint_every,
            preview_every=settings.sample_every,
            eval_every=settings.eval_every,
            time_limit=limit,
            best_metric="fid_effnet",
        ),
        on_event=on_progress,
        cancel=cancel,
    )
    return files
