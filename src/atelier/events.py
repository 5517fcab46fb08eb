"""The one progress event of every long operation: training, stylisation, feature extraction.

A trainer, the optimisation engine and the one-pass networks all report through
:class:`Event`; the command line draws it with one progress bar (``atelier.cli.progress``),
the studio streams it as JSON (:func:`Event.to_json`), and tests read it. No PyTorch here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class Event:
    """Where a long operation stands."""

    step: int
    """Steps done so far in this phase."""
    total: int | None
    """Steps the phase will take (None: not known yet)."""
    metrics: dict[str, float] = field(default_factory=dict)
    """Losses, scores: what the progress bar and the log show."""
    phase: str = "working"
    """What is being done: 'training', 'features', 'head', 'stylizing', ..."""
    detail: str = ""
    """A short status text ('scale 2/3 512x384 tile 1/4', 'preview step_000100.png')."""
    preview: Any = None
    """An image to look at now: a ``(1, 3, H, W)`` tensor, or the Path of a preview file."""
    result: Any = None
    """Set on the last event of an operation that produces an image: the image itself."""
    checkpoint: Path | None = None
    """Set when a checkpoint was written at this step."""
    extra: dict = field(default_factory=dict)
    """Operation-specific values a caller may want (the engine's scale and tile, say)."""

    @property
    def losses(self) -> dict[str, float]:
        """Another name for :attr:`metrics` (what a stylisation reports are its losses)."""
        return self.metrics

    def to_json(self) -> dict:
        """A JSON-able summary for the studio (previews are added by the caller as data URLs)."""
        data: dict[str, Any] = {"step": self.step, "total": self.total, "phase": self.phase, "losses": dict(self.metrics)}
        if self.detail:
            data["detail"] = self.detail
        if self.checkpoint is not None:
            data["checkpoint"] = str(self.checkpoint)
        if isinstance(self.preview, Path):
            data["preview_file"] = str(self.preview)
        return data


OnEvent = Callable[[Event], None]
