"""Classifier training settings, declared once for the library, CLI and studio (no PyTorch)."""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option


@dataclass
class TrainSettings:
    epochs: int = option(200, "Most epochs for the head (early stopping usually ends sooner).", low=1, high=100_000)
    finetune_blocks: int = option(0, "Also train the last N of EfficientNet's 16 blocks (slower; for larger sets).", low=0, high=16)
    finetune_epochs: int = option(5, "Epochs of end-to-end fine-tuning when --finetune-blocks > 0.", low=1, high=10_000)
    val_split: float = option(0.2, "Fraction of each class held out for validation and early stopping.", low=0, high=0.9)
    views: int = option(8, "Augmented views per training image (crops, flips, mild colour jitter).", low=0, high=64)
    batch_size: int = option(32, "Feature rows per step.", low=1, high=4096, cli=False)
    learning_rate: float = option(1e-2, "Learning rate of the head.", low=1e-8, high=10, cli=False)
    weight_decay: float = option(1e-3, "AdamW weight decay.", low=0, high=10, cli=False)
    patience: int = option(20, "Epochs without a better validation loss before stopping.", low=1, high=100_000, cli=False)
    image_size: int = option(224, "Side of the views the network sees.", low=32, high=1024, unit=" pixels", cli=False)
    seed: int = option(0, "Random seed for the split and augmentations.", low=0, high=checks.MAX_SEED)
    balance: bool = option(True, "Weight classes by inverse frequency (class-imbalance handling).")

    def validate(self) -> None:
        check(self)
