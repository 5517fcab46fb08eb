"""Text-model settings, declared once (defaults, help, ranges) for the library, CLI and studio.

No PyTorch here (``atelier text train --help`` stays instant).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from atelier import checks
from atelier.options import check, option

MODEL_SIZES = ("auto", "tiny", "small", "base")
#: Under this time limit ``size auto`` trains the tiny shape: in a short budget more steps of a
#: smaller model win (docs/write.md, measured at the nanoGPT recipe's 80-90 s budget).
SHORT_BUDGET_SECONDS = 600
TOKENIZER_KINDS = ("char", "bpe")


@dataclass
class TextSettings:
    size: str = option(
        "auto",
        "Model size: tiny (4 layers x 128), small (6 x 192), base (6 x 384; wants a GPU); auto: tiny with a --time-limit under "
        "10 minutes, small otherwise.",
        choices=MODEL_SIZES,
    )
    context: int | None = option(None, "Tokens the model sees at once (default: 128 for tiny, 256 otherwise).", low=8, high=4096)
    steps: int = option(
        5000, "Training steps (with --resume: the new total). With --time-limit the schedule follows the clock.", low=1, high=10_000_000
    )
    batch: int = option(16, "Text windows per step (over all processes under torchrun).", low=1, high=4096)
    tokenizer: str = option(
        "char", "char: one token per character (any language); bpe: byte-level BPE trained on the corpus.", choices=TOKENIZER_KINDS
    )
    vocab_size: int = option(1024, "BPE vocabulary size (with --tokenizer bpe).", low=260, high=65536)
    dropout: float = option(0.0, "Dropout (0.1-0.2 helps on corpora under a megabyte trained for long).", low=0, high=0.9)
    positions: str = option(
        "rotary", "Position encoding: rotary, or learned (nanoGPT's; for comparisons).", choices=("rotary", "learned"), cli=False
    )
    bf16: bool = option(True, "Compute in bfloat16 where the CPU supports it (1.3x faster steps here; float32 otherwise).")
    lr: float = option(2e-3, "Peak learning rate (AdamW).", low=1e-6, high=1)
    min_lr_ratio: float = option(0.1, "Final learning rate as a fraction of the peak (cosine decay).", low=0, high=1, cli=False)
    warmup: float = option(
        0.03, "Fraction of the run (steps, or the time limit) spent warming up the learning rate.", low=0, high=0.5, cli=False
    )
    weight_decay: float = option(0.1, "AdamW weight decay on matrices.", low=0, high=10, cli=False)
    grad_clip: float = option(1.0, "Clip the gradient norm to this (0: off).", low=0, high=1000, cli=False)
    val_fraction: float = option(0.1, "Fraction of the corpus held out at its end for validation (without --val).", low=0.01, high=0.5)
    eval_every: int = option(250, "Validation loss every N steps (the best model is kept).", low=1, high=10_000_000)
    eval_windows: int = option(64, "Validation windows per evaluation during training.", low=1, high=100_000, cli=False)
    checkpoint_every: int = option(250, "Save the training state every N steps.", low=1, high=10_000_000)
    seed: int = option(0, "Random seed.", low=0, high=checks.MAX_SEED)

    def validate(self) -> None:
        check(self)

    def resolved(self, time_limit: float | None) -> TextSettings:
        """These settings with ``size auto`` and the default context made concrete."""
        size = self.size
        if size == "auto":
            size = "tiny" if time_limit is not None and time_limit < SHORT_BUDGET_SECONDS else "small"
        context = self.context or (128 if size == "tiny" else 256)
        return replace(self, size=size, context=context)
