"""Atomic checkpoint files: a crash or Ctrl-C never leaves a half-written model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from atelier.errors import InputError
from atelier.io.atomic import atomic_write


def save_checkpoint(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename over it."""
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    return atomic_write(path, lambda stream: torch.save(obj, stream))


def load_checkpoint(path: str | Path, kind: str) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint` and check its ``format`` field."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:
        raise InputError(f"{path}: not an Atelier {kind} file ({type(error).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != kind:
        raise InputError(f"{path}: not an Atelier {kind} file")
    return data


def load_weights_file(path: str | Path, not_found: str, error: type[Exception] = InputError) -> dict:
    """A plain state-dict file (``weights_only``), with one-line errors for the user.

    ``not_found`` completes the message when the file is missing (e.g. where to get it).
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {not_found}")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as failure:
        raise error(f"{path}: not a readable PyTorch weights file ({type(failure).__name__})") from None

