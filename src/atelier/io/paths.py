"""Checks on the paths Atelier writes, made before any work starts.

Two rules hold for every command: an output never replaces one of the operation's own
inputs, and a model or a run that already exists is only replaced when the user says so
(``--force``), because it may hold hours of training.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable, Sequence

from atelier.errors import InputError


def is_same_file(a: str | Path, b: str | Path) -> bool:
    """True when ``a`` and ``b`` name the same file (links and ``..`` resolved)."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_not_an_input(output: str | Path, inputs: Iterable[str | Path | None]) -> None:
    """Refuse to write over one of the operation's own inputs (the original photo, say)."""
    for source in inputs:
        if source is not None and not str(source).startswith("sample:") and is_same_file(output, source):
            raise InputError(f"{output}: this is one of the inputs; Atelier never overwrites an input, choose another -o")


def check_new_file(
    path: str | Path,
    *,
    force: bool = False,
    suffixes: Sequence[str] = (),
    inputs: Iterable[str | Path | None] = (),
    what: str = "model",
) -> Path:
    """Check that ``path`` may be written as a new ``what`` (before hours of training).

    Its folder must exist, its ending be one of ``suffixes`` (when given), it must not be an
    input, and it must not exist yet unless ``force``.
    """
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise InputError(f"{path}: the {what} file must end in {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise InputError(f"{path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give a file name")
    check_not_an_input(path, inputs)
    if path.exists() and not force:
        raise InputError(f"{path} already exists; add --force to replace it (or choose another name)")
    return path


def cache_dir(name: str) -> Path:
    """``~/.cache/atelier/NAME`` (``ATELIER_CACHE`` moves the root), created: derived data kept
    between runs (feature caches, parsed corpora), safe to delete."""
    root = os.environ.get("ATELIER_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "atelier")
    path = Path(root) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
