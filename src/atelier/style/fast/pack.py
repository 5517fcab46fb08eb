"""The built-in style pack: four public-domain paintings.

Each style ships as ``builtin/NAME.stats.npz``, the painting stored as statistics for the
arbitrary-style network (:mod:`atelier.style.arbitrary.stored`; this is what paints it), and
as its own per-style network, ``builtin/NAME.pt`` (fp16 PyTorch weights) and
``builtin/NAME.onnx`` (the same network for onnxruntime), kept for ``atelier export-onnx NAME``,
``--style builtin/NAME.onnx`` and replaying pictures painted before the pack moved to the
arbitrary network. All are described in ``builtin/styles.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUILTIN_DIR = Path(__file__).parent / "builtin"


@dataclass(frozen=True)
class BuiltinStyle:
    name: str
    title: str
    artist: str
    date: str
    trained_steps: int
    training: str
    """How it was trained (photos, crop size, steps, time), for the record."""

    @property
    def pt_path(self) -> Path:
        return BUILTIN_DIR / f"{self.name}.pt"

    @property
    def onnx_path(self) -> Path:
        return BUILTIN_DIR / f"{self.name}.onnx"

    @property
    def stats_path(self) -> Path:
        """The painting's statistics for the arbitrary-style network (what paints this style)."""
        return BUILTIN_DIR / f"{self.name}.stats.npz"

    @property
    def stored(self) -> bool:
        """Whether the painting ships as statistics (then the arbitrary-style network paints it)."""
        return self.stats_path.is_file()

    @property
    def painted_by(self) -> str:
        """What paints this style: the arbitrary-style network from the stored painting, else its own network."""
        return "arbitrary network" if self.stored else "own network"

    @property
    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.pt_path, self.onnx_path, self.stats_path) if p.exists())

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "artist": self.artist,
            "date": self.date,
            "trained_steps": self.trained_steps,
            "training": self.training,
            "painted_by": self.painted_by,
            "stats_bytes": self.stats_path.stat().st_size if self.stored else None,
            "onnx_bytes": self.onnx_path.stat().st_size if self.onnx_path.exists() else None,
            "pt_bytes": self.pt_path.stat().st_size if self.pt_path.exists() else None,
        }


@lru_cache(maxsize=1)
def builtin_styles() -> tuple[BuiltinStyle, ...]:
    """The built-in styles, in the order of ``styles.json`` (empty if the pack is missing)."""
    index = BUILTIN_DIR / "styles.json"
    if not index.is_file():
        return ()
    entries = json.loads(index.read_text())
    return tuple(BuiltinStyle(**entry) for entry in entries)


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def resolve_style(name: str) -> BuiltinStyle | None:
    """The built-in called ``name`` (``starry-night``, ``Starry Night``, ``starry_night``), or None."""
    key = _normalise(name)
    for style in builtin_styles():
        if key in (style.name, _normalise(style.title)) and (style.pt_path.exists() or style.stored):
            return style
    return None
