"""Video stylisation settings, declared once (defaults, help, ranges) for the library, CLI and
studio. No PyTorch here."""

from __future__ import annotations

from dataclasses import dataclass

from atelier import checks
from atelier.options import check, option


@dataclass
class VideoSettings:
    size: int = option(
        640,
        "Longest side of the output at most this many pixels (0: the clip's own size; smaller clips are not enlarged; "
        "odd sides lose a pixel for H.264).",
        low=0,
        high=checks.MAX_SIDE,
    )
    strength: float = option(1.0, "How much style: 0 keeps the clip, 1 is the default, up to 4 is bolder.", low=0, high=4)
    style_scale: float = option(1.0, "Brush-stroke size relative to the frame: 2 gives larger strokes.", low=0.05, high=8)
    detail: float = option(1.0, "How much of the frames' fine detail survives (1: all; 0: loosest strokes).", low=0, high=1)
    preserve_color: bool = option(False, "Keep the clip's colours; take only texture from the painting.")
    start: float = option(0.0, "Start this many seconds into the clip.", low=0, high=1e7, unit=" s")
    end: float | None = option(None, "Stop this many seconds into the clip (default: its end).", low=0, high=1e7, unit=" s")
    temporal: str = option(
        "on",
        "on: carry strokes along the motion (optical flow) so they do not flicker; off: every frame on its own.",
        choices=("on", "off"),
    )
    carry: float = option(
        0.7, "With --temporal on: how much of the previous frame a steady pixel keeps (higher: steadier, softer).", low=0, high=0.95
    )
    crf: int = option(18, "H.264 quality (lower: better and larger files; 18 is visually lossless).", low=0, high=51)

    def validate(self) -> None:
        check(self)
