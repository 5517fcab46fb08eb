"""Atomic file writes: write to a temporary file beside the target, then rename over it.

A crash, kill or Ctrl-C during the write leaves the previous file (or none) under the
target name, never a half-written one; the temporary file is removed on failure.
"""

from __future__ import annotations

import glob
import os
import tempfile
import threading
from pathlib import Path
from typing import BinaryIO, Callable

# Read once at import: os.umask can only be read by setting it, which is not thread-safe.
_UMASK = os.umask(0o022)
os.umask(_UMASK)

# Temporary files this process is writing right now: never "stale", whatever their age.
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def _part_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_stale_parts(path: str | Path) -> list[Path]:
    """Delete temporary files that an interrupted write of ``path`` left beside it.

    A write killed outright (SIGKILL, power cut) cannot clean up after itself; its
    ``.NAME.*.part`` file would stay forever. Files this process is writing are kept.
    Returns the files removed.
    """
    path = Path(path)
    removed = []
    with _ACTIVE_LOCK:
        active = set(_ACTIVE)
    for candidate in path.parent.glob(glob.escape(_part_prefix(path)) + "*.part"):
        if str(candidate) not in active:
            candidate.unlink(missing_ok=True)
            removed.append(candidate)
    return removed


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(stream)`` on a temporary file, then rename it to ``path``."""
    path = Path(path)
    handle, tmp = tempfile.mkstemp(prefix=_part_prefix(path), suffix=".part", dir=path.parent)
    with _ACTIVE_LOCK:
        _ACTIVE.add(tmp)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); give it the permissions any new file gets.
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(tmp)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write a UTF-8 text file atomically (JSON sidecars, logs rewritten on resume)."""
    return atomic_write(path, lambda stream: stream.write(text.encode("utf-8")))
