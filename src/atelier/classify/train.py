"""Training, evaluating and using art classifiers (transfer learning from EfficientNet-Lite0).

Frozen features first: every training image is seen as its centre view plus a few augmented
views, each turned into a 1280-d feature once and cached on disk, so training the linear
head takes seconds and re-training it after a change of options is nearly free. With
``finetune_blocks`` > 0 the last blocks are then trained end to end on fresh augmentations.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F

from atelier import checks, distributed
from atelier.classify.data import Dataset, LabelledImage, augmented_view, center_view, scan_folder, split
from atelier.classify.model import ArtClassifier
from atelier.classify.settings import TrainSettings
from atelier.errors import Cancelled
from atelier.events import Event, OnEvent
from atelier.io import check_output_path, load_image
from atelier.io.atomic import atomic_write
from atelier.io.paths import cache_dir, check_new_file
from atelier.metrics import ClassificationReport, classification_report, confusion_matrix
from atelier.recipe import file_sha256
from atelier.runs import RunFiles, Runner, RunSettings, Trainer

#: Images are decoded at most this large before views are cut (speed; style cues survive).
DECODE_SIDE = 512


@dataclass
class TrainResult:
    model_path: Path
    classes: list[str]
    train_count: int
    val_count: int
    skipped: list[str]
    val_report: ClassificationReport | None
    epochs_run: int


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
    on_progress: OnEvent | None = None,
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
        cached = cache_dir("classify-features") / f"{key}.pt"
        if cached.is_file():
            per_item[index] = torch.load(cached, weights_only=True)
        else:
            pending.append((index, cached, _views(item.path, settings, augment)))
            if sum(len(v) for _, _, v in pending) >= settings.batch_size:
                flush()
        if on_progress:
            on_progress(Event(index + 1, len(items), phase="features"))
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


class ClassifierTrainer(Trainer):
    """One step is one epoch: over the cached features for the head (early stopping on the
    validation loss, best head kept), then, with ``finetune_blocks``, over fresh augmented
    views end to end."""

    kind = "classifier"

    def __init__(
        self, model: ArtClassifier, data: dict, settings: TrainSettings, output: Path, ctx: distributed.Context, meta: dict
    ) -> None:
        self.model, self.options, self.output, self.ctx, self.meta = model, settings, output, ctx, meta
        self.x_train, self.y_train, self.x_val, self.y_val, self.weights = (
            data["x_train"],
            data["y_train"],
            data["x_val"],
            data["y_val"],
            data["weights"],
        )
        self.train_items, self.val_items = data["train_items"], data["val_items"]
        self.global_batch = settings.batch_size
        self.head = distributed.wrap(model.head, ctx)
        self.optimizer = torch.optim.AdamW(model.head.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
        self.batches = distributed.EpochBatches(len(self.y_train), settings.batch_size, ctx, settings.seed)
        self.phase = "head"
        self.best_epoch, self.best_loss = 0, float("inf")
        self.best_state = {k: v.clone() for k, v in model.state_dict().items()}
        self.finetune_epochs_done = 0
        self.images: dict | None = None

    @property
    def metric(self) -> str:
        return "val_loss" if self.x_val is not None else "train_loss"

    def train_step(self, step: int) -> dict[str, float]:
        return self._head_epoch(step) if self.phase == "head" else self._finetune_epoch()

    def _head_epoch(self, epoch: int) -> dict[str, float]:
        losses = []
        for index in range(self.batches.per_epoch):
            batch = self.batches.batch(epoch * self.batches.per_epoch + index)
            logits = self.head((self.x_train[batch] - self.model.feature_mean) / self.model.feature_std)
            loss = F.cross_entropy(logits, self.y_train[batch], weight=self.weights)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        return {"loss": sum(losses) / len(losses)}

    def _start_finetuning(self) -> None:
        s = self.options
        self.model.load_state_dict(self.best_state)
        self.phase = "finetune"
        # Fine-tuning keeps its own best epoch (as a separate stage: its first epoch counts
        # even when the head alone had a lower validation loss).
        self.best_loss = float("inf")
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=s.weight_decay)
        self.net = distributed.wrap(self.model, self.ctx)
        self.generator = torch.Generator().manual_seed(s.seed + 1)
        self.images = {item.path: load_image(item.path, max_side=DECODE_SIDE).rgb for item in [*self.train_items, *self.val_items]}
        self.items = distributed.EpochBatches(len(self.train_items), s.batch_size, self.ctx, s.seed + 1)

    def _finetune_epoch(self) -> dict[str, float]:
        s, epoch = self.options, self.finetune_epochs_done
        self.model.train()
        losses = []
        for index in range(self.items.per_epoch):
            batch = [self.train_items[i] for i in self.items.batch(epoch * self.items.per_epoch + index)]
            x = torch.cat([augmented_view(self.images[i.path], s.image_size, self.generator) for i in batch])
            loss = F.cross_entropy(self.net(x), torch.tensor([i.label for i in batch]), weight=self.weights)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
        self.model.eval()
        self.finetune_epochs_done += 1
        return {"loss": sum(losses) / len(losses)}

    def evaluate(self, step: int) -> dict[str, float]:
        with torch.no_grad():
            if self.x_val is None:
                return {"train_loss": float(F.cross_entropy(self.model.classify_features(self.x_train), self.y_train, weight=self.weights))}
            if self.phase == "head":
                logits = self.model.classify_features(self.x_val)
            else:
                views = torch.cat([center_view(self.images[i.path], self.options.image_size) for i in self.val_items])
                logits = self.model(views)
        loss = float(F.cross_entropy(logits, self.y_val, weight=self.weights))
        if loss < self.best_loss - 1e-4:
            self.best_loss, self.best_epoch = loss, step
            self.best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
        return {"val_loss": loss, "val_accuracy": _evaluate_logits(logits, self.y_val, self.model.classes).accuracy}

    def should_stop(self, step: int, metrics: dict[str, float]) -> bool:
        if self.phase == "head":
            if self.x_val is None:
                loss = metrics.get("train_loss", float("inf"))
                if loss < self.best_loss - 1e-4:
                    self.best_loss, self.best_epoch = loss, step
                    self.best_state = {k: v.clone() for k, v in self.model.state_dict().items()}
            if step - self.best_epoch >= self.options.patience or step >= self.options.epochs:
                if not self.options.finetune_blocks:
                    return True
                self._start_finetuning()
            return False
        return self.finetune_epochs_done >= self.options.finetune_epochs

    def save_model(self, step: int, best: bool) -> Path | None:
        return None  # the model file is written once, at the end (or on Ctrl-C), with its report

    def write(self, extra: dict) -> Path:
        """The best model so far, with ``extra`` (settings, validation report) in the file."""
        current = {k: v.clone() for k, v in self.model.state_dict().items()}
        self.model.load_state_dict(self.best_state)
        try:
            return self.model.save(self.output, {"settings": vars(self.options), **extra})
        finally:
            self.model.load_state_dict(current)

    def state_dict(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "best": self.best_state,
            "optimizer": self.optimizer.state_dict(),
            "phase": self.phase,
            "best_epoch": self.best_epoch,
            "best_loss": self.best_loss,
            "finetune_epochs_done": self.finetune_epochs_done,
        }

    def load_state_dict(self, state: dict) -> None:
        if state["phase"] == "finetune":
            self._start_finetuning()
        self.model.load_state_dict(state["model"])
        self.best_state = state["best"]
        self.optimizer.load_state_dict(state["optimizer"])
        self.best_epoch, self.best_loss, self.finetune_epochs_done = (
            int(state["best_epoch"]),
            float(state["best_loss"]),
            int(state["finetune_epochs_done"]),
        )

    def settings(self) -> dict:
        return {**vars(self.options), **self.meta}


def train_classifier(
    data_dir: str | Path,
    output: str | Path,
    settings: TrainSettings | None = None,
    *,
    force: bool = False,
    resume: bool = False,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
) -> TrainResult:
    """Train a classifier on ``data_dir`` (one sub-folder per class) and save it to ``output``.

    The best model on the validation split (lowest loss) is kept; on Ctrl-C or ``cancel``
    the best so far is saved to ``output`` (marked ``interrupted``) before :class:`Cancelled`
    propagates. The training state goes beside it (``OUTPUT.train``), so ``resume`` continues.
    """
    settings = settings or TrainSettings()
    settings.validate()
    output = Path(output)
    files = RunFiles.beside(output)
    if not resume and not files.state.exists():
        check_new_file(output, force=force)
    runner = Runner(files, ClassifierTrainer.kind, resume=resume, force=force)
    if runner.previous_settings is not None:
        known = {f for f in vars(TrainSettings())}
        settings = TrainSettings(**{k: v for k, v in runner.previous_settings.items() if k in known})
        data_dir = runner.previous_settings["data"]
    ctx = runner.ctx
    dataset = scan_folder(data_dir)
    train_items, val_items = split(dataset, settings.val_split, settings.seed)
    torch.manual_seed(settings.seed)
    model = ArtClassifier(dataset.classes, settings.finetune_blocks, settings.image_size)
    classes = dataset.classes

    # Features are computed once, by the main process; the others read its cache.
    if not ctx.is_main:
        distributed.barrier(ctx)
    report = on_progress if ctx.is_main else None
    x_train, y_train = extract_features(model, train_items, settings, settings.views, report, cancel)
    x_val, y_val = extract_features(model, val_items, settings, 0, None, cancel) if val_items else (None, None)
    if ctx.is_main:
        distributed.barrier(ctx)
    model.fit_standardisation(x_train)
    data = {
        "x_train": x_train,
        "y_train": y_train,
        "x_val": x_val,
        "y_val": y_val,
        "weights": _class_weights(y_train, len(classes), settings.balance),
        "train_items": train_items,
        "val_items": val_items,
    }
    trainer = ClassifierTrainer(model, data, settings, output, ctx, {"data": str(data_dir)})
    total = settings.epochs + (settings.finetune_epochs if settings.finetune_blocks else 0)
    try:
        result = runner.run(
            trainer,
            RunSettings(steps=total, checkpoint_every=max(10, total // 10), eval_every=1, best_metric=trainer.metric),
            on_event=_phase_events(on_progress, trainer),
            cancel=cancel,
        )
    except Cancelled as stop:
        if ctx.is_main:
            trainer.write({"interrupted": True})
        raise Cancelled(f"{stop}; the best model so far was saved to {output}") from None
    model.load_state_dict(trainer.best_state)
    val_report = None
    if val_items:
        with torch.no_grad():
            x_val_now = (
                x_val if not settings.finetune_blocks else model.features(torch.cat([_views(i.path, settings, 0) for i in val_items]))
            )
            val_report = _evaluate_logits(model.classify_features(x_val_now), y_val, classes)
    if ctx.is_main:
        trainer.write({"val_report": val_report.to_dict() if val_report else None})
    return TrainResult(output, classes, len(train_items), len(val_items), dataset.skipped, val_report, result.step)


def _phase_events(on_progress: OnEvent | None, trainer: ClassifierTrainer) -> OnEvent | None:
    """The runner's events, labelled with the classifier's phase (head or finetune)."""
    if on_progress is None:
        return None

    def relabel(event: Event) -> None:
        event.phase = trainer.phase
        on_progress(event)

    return relabel


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
        results.append(
            {
                "image": str(path),
                "predictions": [{"class": model.classes[i], "probability": float(v)} for v, i in zip(values, indices)],
            }
        )
    return results


def evaluate(
    model_path: str | Path, data_dir: str | Path, confusion_png: str | Path | None = None
) -> tuple[ClassificationReport, list[str]]:
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
