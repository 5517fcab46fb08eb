"""Model and training-state files: atomic to write, safe to load.

Every file Atelier writes with :func:`save_checkpoint` holds plain data only (dicts, lists,
numbers, strings and tensors), so every file is read back with ``torch.load(weights_only=True)``:
a shared ``.pt`` that smuggles in code (a pickle ``__reduce__``) is refused, never run.
A file of the right kind but the wrong shape (missing keys, tensors of other sizes) is
reported in one line by :func:`model_file_errors`.
"""

from __future__ import annotations

import contextlib
import pickle
from pathlib import Path
from typing import Any, Iterator

import torch

from atelier.errors import InputError
from atelier.io.atomic import atomic_write, remove_stale_parts


def save_checkpoint(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to a temporary file beside ``path``, then rename over it.

    Temporary files left by an earlier save that was killed (power cut, SIGKILL) are
    removed first, so a long run never piles up half-written checkpoints.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    remove_stale_parts(path)
    return atomic_write(path, lambda stream: torch.save(obj, stream))


def _carries_code(error: Exception) -> bool:
    """Whether ``torch.load(weights_only=True)`` refused the file for naming code or classes
    (as opposed to the file not being a pickle at all)."""
    return isinstance(error, pickle.UnpicklingError) and "Unsupported global" in str(error)


def _safe_load(path: Path, what: str, error: type[Exception] = InputError, unreadable: str = "not a readable") -> Any:
    if not path.is_file():
        raise error(f"{path}: file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as failure:
        if _carries_code(failure):
            # weights_only refuses anything but plain data: this file carries code or objects.
            raise error(
                f"{path}: refused: the file contains code or objects other than plain data, which "
                f"Atelier never loads (not a {what} written by Atelier, or tampered with)"
            ) from None
        raise error(f"{path}: {unreadable} {what} ({type(failure).__name__})") from None


def load_checkpoint(path: str | Path, kind: str | tuple[str, ...]) -> dict:
    """Load a file written by :func:`save_checkpoint` and check its ``format`` field is ``kind``
    (or one of several kinds)."""
    path = Path(path)
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    kind = kinds[0]
    data = _safe_load(path, f"Atelier {kind} file", unreadable="not an")
    if not isinstance(data, dict) or data.get("format") not in kinds:
        found = data.get("format") if isinstance(data, dict) else None
        hint = f" (it is an '{found}' file)" if isinstance(found, str) else ""
        raise InputError(f"{path}: not an Atelier {kind} file{hint}")
    return data


@contextlib.contextmanager
def model_file_errors(path: str | Path, kind: str) -> Iterator[None]:
    """Turn the errors of building a model from a loaded file into one line for the user.

    A file whose ``format`` field is right but whose content is not (a missing key, a tensor
    of another shape, a value of the wrong type) raises KeyError, RuntimeError, TypeError
    or ValueError deep inside PyTorch; the user only needs to know the file is unusable.
    """
    try:
        yield
    except (KeyError, RuntimeError, TypeError, ValueError, AttributeError, IndexError) as error:
        detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
        raise InputError(f"{path}: a damaged or incompatible Atelier {kind} file ({detail})") from None


def load_weights_file(path: str | Path, not_found: str, error: type[Exception] = InputError) -> dict:
    """A plain state-dict file (``weights_only``), with one-line errors for the user.

    ``not_found`` completes the message when the file is missing (e.g. where to get it).
    """
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: {not_found}")
    return _safe_load(path, "PyTorch weights file", error)
