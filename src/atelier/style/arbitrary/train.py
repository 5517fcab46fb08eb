"""Training the arbitrary-style network's decoder (the encoder is fixed and random).

Phase 1, reconstruction: photo -> features -> decoder -> the photo again (L1 plus an
EfficientNet-Lite0 perceptual term). No style data at all: this alone already makes every
transform of the features a stylisation (Avatar-Net's recipe).

Phase 2, style: a photo's features transformed (WCT at every level) toward a style sample's,
decoded, and judged by the optimisation engine's kind of losses: random-VGG covariance and
mean/std against the style, EfficientNet-Lite0 features against the photo, plus a little
reconstruction so that strength 0 still gives the photo back. Style samples come from the
paintings given, procedural paintings, photos and textures (:mod:`atelier.style.arbitrary.data`).

The lifecycle (checkpoints, resume, Ctrl-C, previews, time limit, several processes) is the
runner's (:mod:`atelier.runs`).
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from atelier import backbones, distributed
from atelier.checkpoints import load_checkpoint, model_file_errors, save_checkpoint
from atelier.errors import InputError
from atelier.events import OnEvent
from atelier.io import find_images, load_source, save_image
from atelier.io.images import array_to_tensor
from atelier.options import from_dict
from atelier.runs import RunFiles, Runner, RunSettings, Trainer, parse_duration
from atelier.style.arbitrary.data import StylePool, procedural_painting
from atelier.style.arbitrary.network import ArbitraryStyleNet, Shape
from atelier.style.arbitrary.settings import ArbitrarySettings, upgrade_settings
from atelier.style.data import PhotoCrops, load_training_photos
from atelier.style.losses import content_loss, covariance, mean_std, total_variation

MODEL_FORMAT = "atelier-arbitrary-style"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
CONTENT_LAYERS = ("block2", "block5")
PREVIEW_PHOTO = "sample:astronaut"


def _relative(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per item ``||v - t||^2 / ||t||^2``, averaged over the batch (every item has its own style)."""
    dims = tuple(range(1, value.dim()))
    return ((value - target).pow(2).sum(dims) / (target.pow(2).sum(dims) + 1e-8)).mean()


def save_network(net: ArbitraryStyleNet, path: str | Path, info: dict) -> Path:
    """A model file: the shape, the transforms, the encoder's and decoder's weights (plain data)."""
    return save_checkpoint(
        {
            "format": MODEL_FORMAT,
            "version": 1,
            "shape": net.shape.to_dict(),
            "transforms": list(net.transforms),
            "encoder": net.encoder.state_dict(),
            "decoder": net.decoder.state_dict(),
            "info": info,
        },
        path,
    )


def load_network(path: str | Path) -> tuple[ArbitraryStyleNet, dict]:
    data = load_checkpoint(path, MODEL_FORMAT)
    with model_file_errors(path, "arbitrary-style network"):
        net = ArbitraryStyleNet(Shape.from_dict(data["shape"]), tuple(data["transforms"]))
        net.encoder.load_state_dict(data["encoder"])
        net.decoder.load_state_dict(data["decoder"])
    return net.eval(), dict(data.get("info", {}))


def average_networks(files: list[str | Path], output: str | Path) -> Path:
    """The decoders of ``files`` (checkpoints of one run: same shape and encoder) averaged
    weight by weight, as stochastic weight averaging does along a run, saved to ``output``
    with the last file's encoder and info."""
    nets = [load_network(f) for f in files]
    net, info = nets[-1]
    if any(other.shape != net.shape for other, _ in nets):
        raise InputError("only networks of one shape (checkpoints of one run) can be averaged")
    states = [other.decoder.state_dict() for other, _ in nets]
    net.decoder.load_state_dict({name: torch.stack([s[name] for s in states]).mean(0) for name in states[-1]})
    return save_network(net, output, {**info, "averaged": [str(f) for f in files]})


def skip_masks(batch: int, p: float, device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """Per item, 1 (kept) or 0 (blanked) for the two finest levels (``skip_dropout``). Level 1
    is only blanked where level 0 is, so the decoder always sees a contiguous set of deep levels."""
    if p <= 0:
        return []
    drop0 = torch.rand(batch, device=device) < p
    drop1 = drop0 & (torch.rand(batch, device=device) < p)
    return [(~d).float().view(-1, 1, 1, 1) for d in (drop0, drop1)]


def drop_skips(features: list[torch.Tensor], keep: list[torch.Tensor]) -> list[torch.Tensor]:
    """``features`` with the finest levels multiplied by ``keep`` (from :func:`skip_masks`)."""
    return [f * keep[i] if i < len(keep) else f for i, f in enumerate(features)]


def sliced_features(content: list[torch.Tensor], style: list[torch.Tensor], passes: int) -> list[torch.Tensor]:
    """The runtime's transform, item by item in NumPy: WCT at every level, then ``passes``
    sliced-matching passes where :func:`~atelier.style.arbitrary.transforms.passes_at` gives
    them, toward each style item's own statistics and sample; so the decoder learns to paint
    exactly what the runtime gives it."""
    from atelier.style.arbitrary.transforms import SAMPLE, Moments, apply, passes_at

    out = []
    for level, (c, st) in enumerate(zip(content, style)):
        moved = torch.empty_like(c)
        for item in range(c.shape[0]):
            flat = c[item].detach().cpu().numpy().reshape(c.shape[1], -1)
            target = st[item].detach().cpu().numpy().reshape(st.shape[1], -1)
            moments = Moments(SAMPLE, target.shape[1])
            moments.add(target)
            result = apply("wct", flat, moments.statistics(), passes=passes_at(level, passes))
            moved[item] = torch.from_numpy(np.ascontiguousarray(result).reshape(c.shape[1:])).to(c.device)
        out.append(moved)
    return out


class ArbitraryTrainer(Trainer):
    kind = "arbitrary-style"

    def __init__(
        self,
        settings: ArbitrarySettings,
        photos: list[torch.Tensor],
        paintings: list[torch.Tensor],
        output: Path,
        ctx: distributed.Context,
        sources: dict,
    ) -> None:
        self.options, self.output, self.ctx, self.sources = settings, output, ctx, sources
        self.global_batch = settings.batch
        torch.manual_seed(settings.seed)
        self.net = ArbitraryStyleNet(Shape(settings.widths, settings.decoder_widths, settings.seed)).to(ctx.device)
        self.decoder = distributed.wrap(self.net.decoder, ctx)
        self.optimizer = torch.optim.Adam(self.net.decoder.parameters(), lr=settings.learning_rate)
        self.photos = PhotoCrops(photos, settings.crop, settings.seed)
        self.styles = StylePool(paintings, photos, settings.crop, settings.seed, settings.style_mix)
        self.batches = distributed.EpochBatches(len(photos), settings.batch, ctx, settings.seed)
        self.content_net = backbones.get("efficientnet-lite0").to(ctx.device)
        self.style_net = backbones.get(settings.style_net).to(ctx.device)
        self.previews = self._preview_inputs(paintings)

    def _preview_inputs(self, paintings: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        photo = load_source(PREVIEW_PHOTO, max_side=256).rgb
        rng = random.Random(12345)
        styles = [array_to_tensor(procedural_painting(rng, 256, kind)) for kind in ("strokes", "cells")]
        styles += [p for p in paintings[:2]]
        return photo[..., : 256 // 32 * 32, : 256 // 32 * 32], styles

    def _set_learning_rate(self, step: int) -> None:
        rate = self.options.learning_rate if step < self.options.recon_steps else self.options.style_learning_rate
        for group in self.optimizer.param_groups:
            group["lr"] = rate

    def train_step(self, step: int) -> dict[str, float]:
        s, device = self.options, self.ctx.device
        self._set_learning_rate(step)
        epoch = self.batches.epoch_of(step)
        indices = self.batches.batch(step)
        photos = self.photos.batch(indices, epoch).to(device)
        with torch.no_grad():
            features = self.net.encoder(photos)
            targets = self.content_net(photos, list(CONTENT_LAYERS))
        keep = skip_masks(photos.shape[0], s.skip_dropout, device)
        reconstruction = self.decoder(drop_skips(features, keep))
        recon = (reconstruction - photos).abs().mean()
        if step < s.recon_steps:
            perceptual = sum(content_loss(v, targets[k]) for k, v in self.content_net(reconstruction, list(CONTENT_LAYERS)).items()) / len(
                CONTENT_LAYERS
            )
            loss = recon + s.perceptual_weight * perceptual
            metrics = {"recon": recon.item(), "perceptual": perceptual.item()}
        else:
            styles = self.styles.batch(indices, epoch).to(device)  # a new style for every photo, every epoch
            with torch.no_grad():
                style_features = self.net.encoder(styles)
                if s.match_passes:
                    moved = drop_skips(sliced_features(features, style_features, s.match_passes), keep)
                else:
                    moved = drop_skips(self.net.stylize_features(features, style_features), keep)
                style_feats = self.style_net(styles, list(STYLE_LAYERS))
            if s.painting_recon_weight:
                # one decoder call for the painted photos and the style samples' own reconstruction
                both = self.decoder([torch.cat([m, f]) for m, f in zip(moved, style_features)])
                painted, painting_back = both[: photos.shape[0]], both[photos.shape[0] :]
                painting_recon = (painting_back - styles).abs().mean()
            else:
                painted, painting_recon = self.decoder(moved), torch.zeros((), device=device)
            out_feats = self.style_net(painted, list(STYLE_LAYERS))
            style = sum(
                _relative(covariance(out_feats[k]), covariance(style_feats[k]))
                + _relative(mean_std(out_feats[k]), mean_std(style_feats[k]))
                for k in STYLE_LAYERS
            ) / len(STYLE_LAYERS)
            content = sum(content_loss(v, targets[k]) for k, v in self.content_net(painted, list(CONTENT_LAYERS)).items()) / len(
                CONTENT_LAYERS
            )
            tv = total_variation(painted)
            loss = (
                s.style_weight * style
                + s.content_weight * content
                + s.recon_weight * recon
                + s.tv_weight * tv
                + s.painting_recon_weight * painting_recon
            )
            metrics = {"recon": recon.item(), "style": style.item(), "content": content.item(), "tv": tv.item()}
            if s.painting_recon_weight:
                metrics["painting_recon"] = painting_recon.item()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return metrics

    def preview(self, step: int, folder: Path) -> Path | None:
        photo, styles = self.previews
        with torch.no_grad():
            self.net.eval()
            row = [photo, self.net(photo)] + [
                self.net(photo, style[..., : style.shape[-2] // 32 * 32, : style.shape[-1] // 32 * 32]) for style in styles
            ]
            self.net.train()
        return save_image(torch.cat(row, -1), folder / f"step_{step:06d}.png")

    def save_model(self, step: int, best: bool) -> Path | None:
        return save_network(self.net, self.output / "network.pt", {"trained_steps": step, "settings": self.settings()})

    def state_dict(self) -> dict:
        return {
            "decoder": self.net.decoder.state_dict(),
            "encoder": self.net.encoder.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.net.encoder.load_state_dict(state["encoder"])
        self.net.decoder.load_state_dict(state["decoder"])
        self.optimizer.load_state_dict(state["optimizer"])

    def settings(self) -> dict:
        return {**asdict(self.options), **self.sources}


def train_arbitrary(
    photos: str | Path | None,
    output: str | Path,
    settings: ArbitrarySettings | None = None,
    *,
    paintings: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    init: str | Path | None = None,
    time_limit: float | str | None = None,
    export: bool = True,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Train the arbitrary-style network into the folder ``output`` and export it for onnxruntime.

    ``photos``: a folder of photos (None: scikit-image's); ``paintings``: an optional folder of
    paintings to draw style samples from (procedural paintings, photos and textures are
    always used). The folder receives ``network.pt``, ``encoder.onnx``, ``decoder.onnx``, ``decoder.int8.onnx`` and
    ``card.json`` (what the runtime loads) beside the run's files. ``init``: a ``network.pt``
    to start from (fine-tuning; its shape wins over ``settings``' widths).
    """
    output = Path(output)
    files = RunFiles.in_folder(output, previews="previews")
    runner = Runner(files, ArbitraryTrainer.kind, resume=resume, force=force)
    if runner.previous_settings is not None:
        old = upgrade_settings(runner.previous_settings)
        photos, paintings = old.get("photos"), old.get("paintings")
        steps = {"style_steps": settings.style_steps, "recon_steps": settings.recon_steps} if settings else {}
        settings = from_dict(ArbitrarySettings, old, **steps)
    settings = settings or ArbitrarySettings()
    settings.validate()
    limit = parse_duration(time_limit)
    photo_list, _, _ = load_training_photos(photos, max_side=768)
    painting_list = []
    if paintings is not None:
        folder = Path(paintings)
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder of paintings")
        painting_list = [load_source(p, max_side=1024).rgb for p in find_images(folder)]
    trainer = ArbitraryTrainer(
        settings,
        photo_list,
        painting_list,
        output,
        runner.ctx,
        {"photos": None if photos is None else str(photos), "paintings": None if paintings is None else str(paintings)},
    )
    if init is not None and runner.start_step == 0:
        start, _ = load_network(init)
        if start.shape != trainer.net.shape:
            raise InputError(f"{init}: its shape {start.shape.to_dict()} differs from the settings' widths")
        trainer.net.decoder.load_state_dict(start.decoder.state_dict())
        trainer.net.encoder.load_state_dict(start.encoder.state_dict())
    runner.run(
        trainer,
        RunSettings(
            steps=settings.steps, checkpoint_every=settings.checkpoint_every, preview_every=settings.preview_every, time_limit=limit
        ),
        on_event=on_progress,
        cancel=cancel,
    )
    if export and runner.ctx.is_main:
        from atelier.style.arbitrary.export import export_model

        export_model(output / "network.pt", output)
    return output


def model_card(net: ArbitraryStyleNet, info: dict) -> dict:
    """What the runtime needs to know (``card.json``), plus how the model was made."""
    strides = (2, 4, 8, 16)
    return {
        "format": MODEL_FORMAT,
        "multiple": net.shape.multiple,
        "levels": [
            {"name": f"level{i}", "channels": c, "stride": s, "transform": t}
            for i, (c, s, t) in enumerate(zip(net.shape.widths, strides, net.transforms))
        ],
        "shape": net.shape.to_dict(),
        **{k: v for k, v in info.items() if k in ("trained_steps", "settings", "measured")},
    }


def write_card(net: ArbitraryStyleNet, info: dict, folder: Path) -> Path:
    from atelier.io.atomic import atomic_write_text

    return atomic_write_text(folder / "card.json", json.dumps(model_card(net, info), indent=2))
