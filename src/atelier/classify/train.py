"""Training, evaluating and using art classifiers (transfer learning from EfficientNet-Lite0).

Frozen features first: every training image is seen as its centre view plus a few augmented
views, each turned into a 1280-d feature once and cached on disk, so training the linear
head takes seconds and re-training it after a change of options is nearly free. With
``finetune_blocks`` > 0 the last blocks are then trained end to end on fresh augmentations.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from atelier import checks
from atelier.classify.data import Dataset, LabelledImage, augmented_view, center_view, scan_folder, split
from atelier.classify.model import ArtClassifier
from atelier.errors import Cancelled
from atelier.io import check_output_path, load_image
from atelier.io.atomic import atomic_write
from atelier.io.paths import check_new_file
from atelier.metrics import ClassificationReport, classification_report, confusion_matrix
from atelier.recipe import file_sha256

#: Images are decoded at most this large before views are cut (speed; style cues survive).
DECODE_SIDE = 512


@dataclass
class TrainSettings:
    epochs: int = 200
    """Epochs over the cached features for the head (early stopping usually ends sooner)."""
    finetune_blocks: int = 0
    finetune_epochs: int = 5
    val_split: float = 0.2
    views: int = 8
    """Augmented views per training image (plus its centre view)."""
    batch_size: int = 32
    learning_rate: float = 1e-2
    weight_decay: float = 1e-3
    patience: int = 20
    image_size: int = 224
    seed: int = 0
    balance: bool = True
    """Weight the loss by inverse class frequency (class-imbalance handling)."""

    def validate(self) -> None:
        checks.in_range("epochs", self.epochs, 1, 100_000)
        checks.in_range("finetune_blocks", self.finetune_blocks, 0, 16)
        checks.in_range("finetune_epochs", self.finetune_epochs, 1, 10_000)
        checks.in_range("val_split", self.val_split, 0, 0.9)
        checks.in_range("views", self.views, 0, 64)
        checks.in_range("batch_size", self.batch_size, 1, 4096)
        checks.in_range("learning_rate", self.learning_rate, 1e-8, 10)
        checks.in_range("weight_decay", self.weight_decay, 0, 10)
        checks.in_range("patience", self.patience, 1, 100_000)
        checks.in_range("image_size", self.image_size, 32, 1024, " pixels")
        checks.seed(self.seed)


@dataclass
class TrainEvent:
    phase: str
    """'features', 'head' or 'finetune'."""
    step: int
    total: int
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class TrainResult:
    model_path: Path
    classes: list[str]
    train_count: int
    val_count: int
    skipped: list[str]
    val_report: ClassificationReport | None
    epochs_run: int


def cache_dir() -> Path:
    root = os.environ.get("ATELIER_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "atelier")
    path = Path(root) / "classify-features"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _views(path: Path, settings: TrainSettings, augment: int) -> torch.Tensor:
    image = load_image(path, max_side=DECODE_SIDE).rgb
    generator = torch.Generator().manual_seed(settings.seed)
    views = [center_view(image, settings.image_size)]
    views += [augmented_view(image, settings.image_size, generator) for _ in range(augment)]
    return torch.cat(views)


def extract_features(
    model: ArtClassifier,
    items: Sequence[LabelledImage],
    settings: TrainSettings,
    augment: int,
    on_progress: Callable[[TrainEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features (N * (1 + augment), D), labels)``, computed in batches of views across
    images and cached per file (by content hash and view settings)."""
    key_base = f"{model.weights_sha256[:16]}-v2-{settings.image_size}-{augment}-{settings.seed}-{DECODE_SIDE}"
    per_item: list[torch.Tensor | None] = [None] * len(items)
    pending: list[tuple[int, Path, torch.Tensor]] = []  # (index, cache file, views)

    def flush() -> None:
        if not pending:
            return
        with torch.no_grad():
            feats = model.features(torch.cat([views for _, _, views in pending]))
        offset = 0
        for index, cached, views in pending:
            feature = feats[offset : offset + len(views)].clone()
            offset += len(views)
            atomic_write(cached, lambda stream, f=feature: torch.save(f, stream))  # never a bad cache entry
            per_item[index] = feature
        pending.clear()

    for index, item in enumerate(items):
        if cancel is not None and cancel.is_set():
            raise Cancelled("training cancelled")
        key = hashlib.sha256(f"{file_sha256(item.path)}-{key_base}".encode()).hexdigest()
        cached = cache_dir() / f"{key}.pt"
        if cached.is_file():
            per_item[index] = torch.load(cached, weights_only=True)
        else:
            pending.append((index, cached, _views(item.path, settings, augment)))
            if sum(len(v) for _, _, v in pending) >= settings.batch_size:
                flush()
        if on_progress:
            on_progress(TrainEvent("features", index + 1, len(items)))
    flush()
    feats = [f for f in per_item if f is not None]
    labels = [torch.full((len(f),), item.label, dtype=torch.long) for f, item in zip(feats, items)]
    return torch.cat(feats), torch.cat(labels)


def _class_weights(labels: torch.Tensor, num_classes: int, balance: bool) -> torch.Tensor:
    counts = torch.bincount(labels, minlength=num_classes).float()
    if not balance:
        return torch.ones(num_classes)
    weights = counts.sum() / (num_classes * counts.clamp_min(1))
    return weights


def _evaluate_logits(logits: torch.Tensor, labels: torch.Tensor, classes: list[str]) -> ClassificationReport:
    matrix = confusion_matrix(labels.tolist(), logits.argmax(1).tolist(), len(classes))
    return classification_report(matrix, classes)


def train_classifier(
    data_dir: str | Path,
    output: str | Path,
    settings: TrainSettings | None = None,
    *,
    force: bool = False,
    on_progress: Callable[[TrainEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> TrainResult:
    """Train a classifier on ``data_dir`` (one sub-folder per class) and save it to ``output``.

    The best model on the validation split (lowest loss) is kept; on Ctrl-C or ``cancel``
    the best so far is saved before the exception propagates.
    """
    settings = settings or TrainSettings()
    settings.validate()
    output = check_new_file(output, force=force)
    dataset = scan_folder(data_dir)
    train_items, val_items = split(dataset, settings.val_split, settings.seed)
    torch.manual_seed(settings.seed)
    model = ArtClassifier(dataset.classes, settings.finetune_blocks, settings.image_size)
    classes = dataset.classes

    x_train, y_train = extract_features(model, train_items, settings, settings.views, on_progress, cancel)
    x_val, y_val = extract_features(model, val_items, settings, 0, None, cancel) if val_items else (None, None)
    weights = _class_weights(y_train, len(classes), settings.balance)
    model.fit_standardisation(x_train)

    best_state = {k: v.clone() for k, v in model.head.state_dict().items()}
    best_loss, best_epoch, epochs_run = float("inf"), 0, 0
    optimizer = torch.optim.AdamW(model.head.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    generator = torch.Generator().manual_seed(settings.seed)
    try:
        for epoch in range(1, settings.epochs + 1):
            if cancel is not None and cancel.is_set():
                raise Cancelled("training cancelled")
            order = torch.randperm(len(y_train), generator=generator)
            for start in range(0, len(order), settings.batch_size):
                batch = order[start : start + settings.batch_size]
                loss = F.cross_entropy(model.classify_features(x_train[batch]), y_train[batch], weight=weights)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            epochs_run = epoch
            with torch.no_grad():
                if x_val is not None:
                    logits = model.classify_features(x_val)
                    monitored = float(F.cross_entropy(logits, y_val, weight=weights))
                    metrics = {"val_loss": monitored, "val_accuracy": _evaluate_logits(logits, y_val, classes).accuracy}
                else:
                    monitored = float(F.cross_entropy(model.classify_features(x_train), y_train, weight=weights))
                    metrics = {"train_loss": monitored}
            if monitored < best_loss - 1e-4:
                best_loss, best_epoch = monitored, epoch
                best_state = {k: v.clone() for k, v in model.head.state_dict().items()}
            if on_progress:
                on_progress(TrainEvent("head", epoch, settings.epochs, metrics))
            if epoch - best_epoch >= settings.patience:
                break  # early stopping
        model.head.load_state_dict(best_state)
        if settings.finetune_blocks:
            _finetune(model, train_items, val_items, settings, weights, on_progress, cancel)
    except (KeyboardInterrupt, Cancelled) as stop:
        if not settings.finetune_blocks:
            model.head.load_state_dict(best_state)
        model.save(output, {"settings": vars(settings), "interrupted": True})
        reason = "cancelled" if isinstance(stop, Cancelled) else "interrupted"
        raise Cancelled(f"training {reason}: the best model so far was saved to {output}") from None
    val_report = None
    if val_items:
        with torch.no_grad():
            x_val_now = x_val if not settings.finetune_blocks else model.features(torch.cat([_views(i.path, settings, 0) for i in val_items]))
            val_report = _evaluate_logits(model.classify_features(x_val_now), y_val, classes)
    model.save(output, {"settings": vars(settings), "val_report": val_report.to_dict() if val_report else None})
    return TrainResult(output, classes, len(train_items), len(val_items), dataset.skipped, val_report, epochs_run)


def _finetune(model, train_items, val_items, settings, weights, on_progress, cancel) -> None:
    """Train the last blocks and the head end to end on fresh augmentations, keeping the best."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=settings.weight_decay)
    generator = torch.Generator().manual_seed(settings.seed + 1)
    images = {item.path: load_image(item.path, max_side=DECODE_SIDE).rgb for item in [*train_items, *val_items]}
    val_x = torch.cat([center_view(images[i.path], settings.image_size) for i in val_items]) if val_items else None
    val_y = torch.tensor([i.label for i in val_items]) if val_items else None
    best = float("inf")
    best_state = {k: v.clone() for k, v in model.state_dict().items()}
    for epoch in range(1, settings.finetune_epochs + 1):
        model.train()
        order = torch.randperm(len(train_items), generator=generator).tolist()
        for start in range(0, len(order), settings.batch_size):
            if cancel is not None and cancel.is_set():
                raise Cancelled("training cancelled")
            batch = [train_items[i] for i in order[start : start + settings.batch_size]]
            x = torch.cat([augmented_view(images[i.path], settings.image_size, generator) for i in batch])
            y = torch.tensor([i.label for i in batch])
            loss = F.cross_entropy(model(x), y, weight=weights)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            monitored = float(F.cross_entropy(model(val_x), val_y, weight=weights)) if val_x is not None else float(loss)
        if monitored < best:
            best = monitored
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        if on_progress:
            on_progress(TrainEvent("finetune", epoch, settings.finetune_epochs, {"loss": monitored}))
    model.load_state_dict(best_state)


def predict(model_path: str | Path, images: Sequence[str | Path], top_k: int = 3) -> list[dict]:
    """Top-k classes with probabilities for each image: ``[{"image", "predictions": [{"class", "probability"}]}]``."""
    checks.in_range("top_k", top_k, 1, 1000)
    model, _ = ArtClassifier.load(model_path)
    results = []
    for path in images:
        view = center_view(load_image(path, max_side=DECODE_SIDE).rgb, model.image_size)
        with torch.no_grad():
            probs = model(view).softmax(1)[0]
        values, indices = probs.topk(min(top_k, len(model.classes)))
        results.append({
            "image": str(path),
            "predictions": [{"class": model.classes[i], "probability": float(v)} for v, i in zip(values, indices)],
        })
    return results


def evaluate(model_path: str | Path, data_dir: str | Path, confusion_png: str | Path | None = None) -> tuple[ClassificationReport, list[str]]:
    """Metrics of a trained model on a labelled folder; optionally draw the confusion matrix."""
    model, _ = ArtClassifier.load(model_path)
    if confusion_png is not None:
        check_output_path(confusion_png)
    dataset: Dataset = scan_folder(data_dir, classes=model.classes)
    logits = []
    with torch.no_grad():
        for start in range(0, len(dataset.items), 32):
            batch = dataset.items[start : start + 32]
            views = torch.cat([center_view(load_image(i.path, max_side=DECODE_SIDE).rgb, model.image_size) for i in batch])
            logits.append(model(views))
    labels = torch.tensor([item.label for item in dataset.items])
    report = _evaluate_logits(torch.cat(logits), labels, model.classes)
    if confusion_png is not None:
        from atelier.classify.plots import draw_confusion

        draw_confusion(report, confusion_png)
    return report, dataset.skipped
