"""Training a feed-forward style network on one painting (Johnson et al. 2016).

The losses are the optimisation engine's own (:class:`atelier.style.engine._Objective`):
the same backbones, statistics and weights, so a fast style looks like what
``atelier stylize`` would paint, only in a fraction of a second.

A long run behaves: progress events with losses, a preview every N steps, atomic
checkpoints (``MODEL.train.pt``) from which ``resume`` continues the step count,
optimiser and random state; Ctrl-C saves and stops with a message saying where.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from atelier import checks
from atelier.checkpoints import load_checkpoint, model_file_errors, save_checkpoint
from atelier.io.atomic import remove_stale_parts
from atelier.errors import Cancelled, ImageError, InputError
from atelier.io import find_images, load_source, resize_longest, save_image
from atelier.io.images import array_to_tensor
from atelier.io.paths import check_new_file
from atelier.io.sources import skimage_picture
from atelier.style.engine import StyleSettings, _Objective
from atelier.style.fast.model import TRAIN_FORMAT, FastStyleModel, save_model
from atelier.style.fast.network import NetworkShape, StyleNet
from atelier.style.presets import get_preset

#: Photos bundled with scikit-image used when no ``content_dir`` is given (held out for
#: checking generalisation: ``astronaut``, a portrait).
PREVIEW_PHOTO = "sample:astronaut"
SAMPLE_TRAINING_PHOTOS = ("chelsea", "coffee", "rocket", "camera", "brick", "grass", "gravel", "clock", "hubble_deep_field")


#: Content layers for training. The optimiser needs only a deep layer (it starts from the
#: photo); a network starts from nothing, and with ``block5`` alone it lost the photo's
#: structure (side-by-side at 100 steps); adding the stride-4 ``block2`` keeps the edges.
FAST_CONTENT_LAYERS = {
    "atelier": {"block2": 1.0, "block5": 1.0},
    "efficientnet-lite0": {"block2": 1.0, "block5": 1.0},
}


@dataclass
class TrainStyleSettings:
    """Everything that shapes a trained style. The defaults are what the built-ins used."""

    steps: int = 1200
    batch: int = 4
    crop: int = 192
    """Side of the square training crops, in pixels (256 or more on a GPU)."""
    style_size: int = 512
    """Longest side the painting is seen at: sets the brush-stroke size (in pixels) the network learns."""
    learning_rate: float = 1e-3
    style_weight: float = 100.0
    content_weight: float = 1.0
    tv_weight: float = 10.0
    statistic: str = "gram"
    """The plain Gram matrix: unlike the optimiser, which starts from the photo recoloured,
    a network must learn the palette too, and the Gram matrix carries the colour means
    (the centred 'covariance' gave blotchy, palette-less results in a side-by-side run)."""
    backbone: str = "atelier"
    content_layers: dict[str, float] | None = None
    """None: the backbone's fast-style default (see :data:`FAST_CONTENT_LAYERS`)."""
    style_layers: dict[str, float] | None = None
    weights: str | None = None
    """Weights file for backbones that accept one (vgg19)."""
    shape: dict = field(default_factory=lambda: NetworkShape().to_dict())
    preview_every: int = 100
    checkpoint_every: int = 100
    seed: int = 0

    def validate(self) -> None:
        checks.in_range("steps", self.steps, 1, 10_000_000)
        checks.in_range("batch", self.batch, 1, 256)
        checks.in_range("crop", self.crop, 64, 2048, " pixels")
        if self.crop % 8:
            raise InputError(f"--crop must be a multiple of 8, got {self.crop}")
        checks.in_range("style_size", self.style_size, 64, 4096, " pixels")
        checks.in_range("learning_rate", self.learning_rate, 1e-8, 1)
        checks.in_range("preview_every", self.preview_every, 0, 10_000_000)
        checks.in_range("checkpoint_every", self.checkpoint_every, 1, 10_000_000)
        self.loss_settings().validate()

    def loss_settings(self) -> StyleSettings:
        """The engine settings whose objective this training minimises."""
        return StyleSettings(
            style_weight=self.style_weight, content_weight=self.content_weight, tv_weight=self.tv_weight,
            statistic=self.statistic, backbone=self.backbone,
            content_layers=self.content_layers or FAST_CONTENT_LAYERS.get(self.backbone),
            style_layers=self.style_layers, weights=self.weights, seed=self.seed,
        )


@dataclass
class TrainEvent:
    step: int
    total: int
    losses: dict[str, float]
    preview: Path | None = None
    checkpoint: bool = False


def checkpoint_path(model_path: str | Path) -> Path:
    """Where training state for ``model_path`` lives (beside it)."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name + ".train")


def previews_folder(model_path: str | Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}-previews")


class PhotoCrops:
    """Random training crops from a few photos: random scale, position and flip.

    With a handful of photos (there is no COCO offline) the scale jitter is what gives
    variety: each photo is seen from close-ups to the whole frame.
    """

    def __init__(self, photos: Sequence[torch.Tensor], crop: int, seed: int) -> None:
        self.photos = photos
        self.crop = crop
        self.rng = random.Random(seed)

    def sample(self) -> torch.Tensor:
        photo = self.photos[self.rng.randrange(len(self.photos))]
        h, w = photo.shape[-2:]
        smallest = self.crop / min(h, w)  # the crop just fits the short side
        scale = smallest * (1.0 + self.rng.random() * max(0.0, 1.6 / smallest - 1.0)) if smallest < 1 else smallest
        th, tw = max(self.crop, round(h * scale)), max(self.crop, round(w * scale))
        scaled = F.interpolate(photo, size=(th, tw), mode="bilinear", antialias=scale < 1, align_corners=False)
        top, left = self.rng.randint(0, th - self.crop), self.rng.randint(0, tw - self.crop)
        patch = scaled[..., top : top + self.crop, left : left + self.crop]
        if self.rng.random() < 0.5:
            patch = patch.flip(-1)
        return patch.clamp(0, 1)

    def batch(self, size: int) -> torch.Tensor:
        return torch.cat([self.sample() for _ in range(size)])

    def state(self) -> object:
        return self.rng.getstate()

    def set_state(self, state: object) -> None:
        self.rng.setstate(state)


def _skimage_photo(name: str, max_side: int) -> torch.Tensor:
    """One of scikit-image's bundled pictures as ``(1, 3, H, W)``, longest side ``max_side``."""
    return resize_longest(array_to_tensor(skimage_picture(name)), max_side)


def load_training_photos(content_dir: str | Path | None, max_side: int = 1024) -> tuple[list[torch.Tensor], list[str], list[str]]:
    """The training photos (``(1, 3, H, W)`` each), their names, and the unreadable files skipped."""
    if content_dir is None:
        return [_skimage_photo(name, max_side) for name in SAMPLE_TRAINING_PHOTOS], list(SAMPLE_TRAINING_PHOTOS), []
    root = Path(content_dir)
    if not root.is_dir():
        raise InputError(f"{root}: not a folder of photos")
    photos, names, skipped = [], [], []
    for path in find_images(root):
        try:
            photos.append(load_source(path, max_side=max_side).rgb)
            names.append(str(path.relative_to(root)))
        except ImageError as error:
            skipped.append(str(error))
    if not photos:
        raise InputError(f"{root}: no readable photos found (searched sub-folders too; {len(skipped)} unreadable)")
    return photos, names, skipped


def train_style(
    style: str | Path,
    output: str | Path,
    settings: TrainStyleSettings | None = None,
    *,
    content_dir: str | Path | None = None,
    name: str | None = None,
    resume: bool = False,
    force: bool = False,
    on_progress: Callable[[TrainEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> FastStyleModel:
    """Train a fast style network on the painting ``style``; write the model to ``output``.

    ``content_dir`` is any folder of photos (COCO, your own); without it, photos bundled
    with scikit-image are used. Training state is checkpointed to ``OUTPUT.train`` every
    ``checkpoint_every`` steps (the model file is refreshed at the same time, so it can be
    tried mid-run); ``resume=True`` continues from there. Returns the trained model.
    """
    output = Path(output)
    state_path = checkpoint_path(output)
    previous = None
    if resume:
        if not state_path.is_file():
            raise InputError(f"{output}: nothing to resume (no {state_path.name} beside it)")
        previous = load_checkpoint(state_path, TRAIN_FORMAT)
        steps = settings.steps if settings else previous["settings"]["steps"]
        settings = TrainStyleSettings(**{**previous["settings"], "steps": steps})
        style, content_dir, name = previous["style"], previous["content_dir"], previous["name"]
    elif state_path.exists() and not force:
        raise InputError(f"{output}: a training run is already here ({state_path.name}); use --resume, --force to start over, or another -o")
    else:
        if output.suffix.lower() != ".pt":
            raise InputError(f"{output}: the model file must end in .pt (export to ONNX afterwards with `atelier export-onnx`)")
        check_new_file(output, force=force, inputs=[style])
    settings = settings or TrainStyleSettings()
    settings.validate()
    style_image = load_source(style, max_side=settings.style_size).rgb
    photos, _, skipped = load_training_photos(content_dir)

    # A CUDA GPU is used when PyTorch sees one; crops are cut on the CPU either way.
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(settings.seed)
    net = StyleNet(NetworkShape.from_dict(settings.shape)).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.learning_rate)
    crops = PhotoCrops(photos, settings.crop, settings.seed)
    objective = _Objective(get_preset(settings.backbone), settings.loss_settings(), smoothing=False)
    objective.content_encoder.to(device)
    objective.style_encoder.to(device)
    objective.set_style([style_image.to(device)], [1.0])
    step = 0
    if previous is not None:
        with model_file_errors(state_path, "fast-style training"):
            net.load_state_dict(previous["network"])  # load_state_dict copies onto the network's device
            optimizer.load_state_dict(previous["optimizer"])
            crops.set_state(previous["crops_rng"])
            torch.set_rng_state(previous["torch_rng"])
            step = int(previous["step"])
        remove_stale_parts(state_path)
        remove_stale_parts(output)
    # A fixed preview on a photo never trained on, so progress and generalisation show.
    preview_input = load_source(PREVIEW_PHOTO, max_side=384).rgb.to(device)
    previews = previews_folder(output)
    name = name or Path(str(style)).stem.replace("_", "-")

    def model() -> FastStyleModel:
        return FastStyleModel(net.eval(), name=name, style_source=str(style), trained_steps=step, settings=asdict(settings))

    def save() -> None:
        save_checkpoint({
            "format": TRAIN_FORMAT, "version": 1, "settings": asdict(settings), "step": step,
            "network": net.state_dict(), "optimizer": optimizer.state_dict(),
            "crops_rng": crops.state(), "torch_rng": torch.get_rng_state(),
            "style": str(style), "content_dir": None if content_dir is None else str(content_dir), "name": name,
        }, state_path)
        save_model(model(), output)
        net.train()

    net.train()
    try:
        while step < settings.steps:
            if cancel is not None and cancel.is_set():
                raise Cancelled("training cancelled")
            batch = crops.batch(settings.batch).to(device)
            objective.set_content(batch, None)
            loss, parts = objective.loss(net(batch))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            preview_file = None
            if settings.preview_every and (step % settings.preview_every == 0 or step == settings.steps):
                previews.mkdir(exist_ok=True)
                with torch.no_grad():
                    net.eval()
                    preview_file = save_image(net(preview_input), previews / f"step_{step:06d}.png")
                    net.train()
            saved = step % settings.checkpoint_every == 0 or step == settings.steps
            if saved:
                save()
            if on_progress is not None:
                on_progress(TrainEvent(step, settings.steps, parts, preview_file, saved))
    except (KeyboardInterrupt, Cancelled) as stop:
        if step > 0:
            save()  # at most the step in flight is lost
            where = f"checkpoint saved as {state_path}; continue with --resume"
        else:
            where = "nothing was saved (no step had finished)"
        reason = "cancelled" if isinstance(stop, Cancelled) else "interrupted"
        raise Cancelled(f"training {reason} at step {step}: {where}") from None
    result = model()
    result.skipped = skipped
    return result
