"""Music-model settings, declared once (defaults, help, ranges) for the library, CLI and studio.

No PyTorch here (``atelier music train --help`` stays instant).
"""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option


@dataclass
class MusicSettings:
    steps: int = option(3000, "Training steps (with --resume: the new total).", low=1, high=10_000_000)
    batch: int = option(16, "Pieces per step.", low=1, high=1024)
    crop: int = option(128, "Longest stretch of a piece trained on at once (time steps).", low=8, high=100_000)
    hidden: int = option(256, "LSTM width.", low=8, high=4096)
    layers: int = option(2, "LSTM layers.", low=1, high=8)
    nade_hidden: int = option(128, "Hidden units of the NADE that models each step's chord.", low=4, high=4096)
    # Measured on JSB (docs/compose.md): dropout 0.3 and lr 2e-3 under-fitted (test 7.75 at
    # 1,200 steps); 0.2 and 3e-3 reached 5.81 at 2,800.
    dropout: float = option(0.2, "Dropout on the LSTM's outputs.", low=0, high=0.9)
    lr: float = option(3e-3, "Adam learning rate (cosine decay to a tenth).", low=1e-6, high=1)
    transpose: int = option(6, "Transpose each training piece by up to this many semitones either way (0: off).", low=0, high=12)
    steps_per_quarter: int = option(2, "Time steps per beat when reading MIDI files (the JSB benchmark has 1).", low=1, high=16)
    eval_every: int = option(250, "Validation NLL every N steps (the best model is kept).", low=1, high=10_000_000)
    checkpoint_every: int = option(250, "Save the training state every N steps.", low=1, high=10_000_000)
    seed: int = option(0, "Random seed.", low=0, high=checks.MAX_SEED)

    def validate(self) -> None:
        check(self)
