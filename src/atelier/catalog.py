"""Models that ship inside the package, listed in a folder's ``models.json`` (no PyTorch here).

Text and music keep their built-in models this way: ``models.json`` is a list of cards (``name``,
``file`` and how the model was trained); a command takes a card's name or a model file.
"""

from __future__ import annotations

import json
from pathlib import Path

from atelier.errors import InputError


def builtin_models(folder: Path) -> list[dict]:
    """The cards of ``folder/models.json`` whose file is installed, each with its ``path``."""
    index = folder / "models.json"
    cards = json.loads(index.read_text()) if index.is_file() else []
    return [{**card, "path": str(folder / card["file"])} for card in cards if (folder / card["file"]).is_file()]


def resolve_model(name_or_path: str | Path, folder: Path, what: str = "built-in model") -> Path:
    """A built-in's name (any case) or an existing model file; one clear line otherwise."""
    text = str(name_or_path)
    cards = builtin_models(folder)
    for card in cards:
        if text.lower() == card["name"]:
            return Path(card["path"])
    if Path(text).is_file():
        return Path(text)
    names = ", ".join(c["name"] for c in cards) or "none installed"
    raise InputError(f"{text}: no such model file or {what} (built-ins: {names})")
