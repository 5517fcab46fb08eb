"""The art classifier: the ImageNet EfficientNet-Lite0 trunk, its last N blocks optionally
fine-tuned, global average pooling and a linear head."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from atelier.backbones.efficientnet_lite import LITE_MEAN, LITE_STD, EfficientNetLite0, load_classifier
from atelier.checkpoints import load_checkpoint, model_file_errors, save_checkpoint
from atelier.errors import InputError

FORMAT = "atelier-classifier"
NUM_BLOCKS = 16
#: Blocks whose per-channel mean and std join the descriptor: texture statistics carry style
#: (Gatys et al.), the pooled head features carry subject matter.
STYLE_BLOCKS = {4: 40, 10: 112, 15: 320}
FEATURE_DIM = 1280 + 2 * sum(STYLE_BLOCKS.values())


class ArtClassifier(nn.Module):
    """``forward(images in [0, 1]) -> logits``. The first ``16 - finetune_blocks`` blocks stay frozen."""

    def __init__(self, classes: list[str], finetune_blocks: int = 0, image_size: int = 224) -> None:
        super().__init__()
        if not 0 <= finetune_blocks <= NUM_BLOCKS:
            raise InputError(f"--finetune-blocks must be between 0 and {NUM_BLOCKS}, got {finetune_blocks}")
        self.classes = list(classes)
        self.finetune_blocks = finetune_blocks
        self.image_size = image_size
        self.net: EfficientNetLite0 = copy.deepcopy(load_classifier())
        self.weights_sha256 = self.net.weights_sha256  # type: ignore[attr-defined]
        self.net.requires_grad_(False)
        for block in self.trainable_blocks():
            block.requires_grad_(True)
        if finetune_blocks:
            self.net._conv_head.requires_grad_(True)
            self.net._bn1.requires_grad_(True)
        self.head = nn.Linear(FEATURE_DIM, len(classes))
        # Standardisation of the descriptor, fitted on the training features.
        self.register_buffer("feature_mean", torch.zeros(FEATURE_DIM))
        self.register_buffer("feature_std", torch.ones(FEATURE_DIM))
        self.register_buffer("mean", torch.tensor(LITE_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(LITE_STD).view(1, 3, 1, 1), persistent=False)

    def trainable_blocks(self) -> list[nn.Module]:
        blocks = list(self.net._blocks)
        return blocks[NUM_BLOCKS - self.finetune_blocks :] if self.finetune_blocks else []

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """The raw descriptor: pooled head features plus mean/std of the style blocks."""
        first_trainable = NUM_BLOCKS - self.finetune_blocks
        parts: list[torch.Tensor] = []
        x = (images - self.mean) / self.std
        with torch.set_grad_enabled(torch.is_grad_enabled() and first_trainable == 0):
            x = F.relu6(self.net._bn0(self.net._conv_stem(x)))
        for index, block in enumerate(self.net._blocks):
            with torch.set_grad_enabled(torch.is_grad_enabled() and index >= first_trainable):
                x = block(x)
            if index in STYLE_BLOCKS:
                parts += [x.mean(dim=(2, 3)), x.std(dim=(2, 3))]
        x = F.relu6(self.net._bn1(self.net._conv_head(x)))
        return torch.cat([x.mean(dim=(2, 3)), *parts], dim=1)

    def fit_standardisation(self, features: torch.Tensor) -> None:
        self.feature_mean.copy_(features.mean(0))
        self.feature_std.copy_(features.std(0).clamp_min(1e-4))

    def classify_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.head((features - self.feature_mean) / self.feature_std)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classify_features(self.features(images))

    def train(self, mode: bool = True) -> ArtClassifier:
        # Batch-norm statistics stay those of ImageNet: a few dozen images cannot re-estimate them.
        super().train(mode)
        self.net.eval()
        return self

    def save(self, path: str | Path, extra: dict | None = None) -> Path:
        trainable = {
            f"_blocks.{NUM_BLOCKS - self.finetune_blocks + i}.{k}": v
            for i, b in enumerate(self.trainable_blocks())
            for k, v in b.state_dict().items()
        }
        if self.finetune_blocks:
            trainable.update({f"_conv_head.{k}": v for k, v in self.net._conv_head.state_dict().items()})
            trainable.update({f"_bn1.{k}": v for k, v in self.net._bn1.state_dict().items()})
        return save_checkpoint(
            {
                "format": FORMAT,
                "version": 1,
                "classes": self.classes,
                "finetune_blocks": self.finetune_blocks,
                "image_size": self.image_size,
                "backbone": "efficientnet-lite0",
                "backbone_sha256": self.weights_sha256,
                "head": self.head.state_dict(),
                "trunk": trainable,
                "standardisation": {"mean": self.feature_mean, "std": self.feature_std},
                **(extra or {}),
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path) -> tuple[ArtClassifier, dict]:
        data = load_checkpoint(path, FORMAT)
        with model_file_errors(path, "classifier"):
            model = cls(list(data["classes"]), int(data["finetune_blocks"]), int(data["image_size"]))
            model.head.load_state_dict(data["head"])
            model.feature_mean.copy_(data["standardisation"]["mean"])
            model.feature_std.copy_(data["standardisation"]["std"])
            if data["trunk"]:
                model.net.load_state_dict(data["trunk"], strict=False)
        return model.eval(), data
