"""The recipe: everything needed to reproduce an output, embedded in the PNGs we write."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from atelier.errors import InputError
from atelier.io.paths import file_sha256  # noqa: F401 (re-exported)

RECIPE_KEY = "atelier:recipe"


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
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def png_text(self) -> dict[str, str]:
        """The text chunk that carries this recipe in a PNG (``save_image(..., text=...)``)."""
        return {RECIPE_KEY: self.to_json()}

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        """Parse and check a recipe; anything malformed is one :class:`InputError` line."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise InputError(f"the embedded recipe is not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise InputError("the embedded recipe is not valid: not a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"the embedded recipe is not valid: unknown field(s) {', '.join(unknown)}")
        problems = [
            name
            for name, ok in (
                ("operation", isinstance(data.get("operation"), str)),
                ("params", isinstance(data.get("params", {}), dict)),
                (
                    "inputs",
                    isinstance(data.get("inputs", {}), dict)
                    and all(
                        isinstance(v, dict) and isinstance(v.get("path"), str) and isinstance(v.get("sha256"), str)
                        for v in data.get("inputs", {}).values()
                    ),
                ),
                ("seed", data.get("seed") is None or (isinstance(data["seed"], int) and not isinstance(data["seed"], bool))),
            )
            if not ok
        ]
        for name in ("backbone", "weights_sha256", "atelier_version", "created"):
            if data.get(name) is not None and not isinstance(data[name], str):
                problems.append(name)
        if problems:
            raise InputError(f"the embedded recipe is not valid: bad {', '.join(problems)}")
        return cls(**data)

    def add_input(self, role: str, source: str | Path) -> None:
        """Record an input (a path or ``sample:NAME``) with its content hash."""
        from atelier.io.sources import is_sample, source_sha256

        location = str(source) if is_sample(source) else str(Path(source).resolve())
        self.inputs[role] = {"path": location, "sha256": source_sha256(source)}


def read_recipe(path: str | Path) -> Recipe | None:
    """The recipe embedded in a PNG written by Atelier, or None when there is none."""
    from atelier.io import read_text_chunks

    text = read_text_chunks(path).get(RECIPE_KEY)
    return None if text is None else Recipe.from_json(text)
