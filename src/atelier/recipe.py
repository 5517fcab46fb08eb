"""The recipe: everything needed to reproduce an output, embedded in the PNGs we write."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from atelier.errors import InputError

RECIPE_KEY = "atelier:recipe"


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _version() -> str:
    from atelier import __version__

    return __version__


@dataclass
class Recipe:
    """A reproducible description of one operation.

    ``params`` holds the operation's keyword arguments as plain JSON values;
    ``inputs`` maps a role (``content``, ``style[0]``, ``mask``) to ``{"path", "sha256"}``.
    """

    operation: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)
    seed: int | None = None
    backbone: str | None = None
    weights_sha256: str | None = None
    atelier_version: str = field(default_factory=_version)
    created: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Recipe":
        try:
            data = json.loads(text)
            return cls(**data)
        except (ValueError, TypeError) as error:
            raise InputError(f"the embedded recipe is not valid: {error}") from None

    def add_input(self, role: str, source: str | Path) -> None:
        """Record an input (a path or ``sample:NAME``) with its content hash."""
        from atelier.io.sources import is_sample, source_sha256

        location = str(source) if is_sample(source) else str(Path(source).resolve())
        self.inputs[role] = {"path": location, "sha256": source_sha256(source)}
