"""Stylising a video: frames streamed from the clip, painted by the fast engines (built-in
styles and any painting through the arbitrary-style network), steadied along the optical flow
(:mod:`atelier.video.temporal`), and written with the clip's own timing and audio.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from atelier.errors import Cancelled, InputError
from atelier.events import Event, OnEvent
from atelier.io import fit_size, to_uint8
from atelier.io.paths import check_new_file
from atelier.video.io import OutputSpec, VideoReader, even, write_video
from atelier.video.settings import VideoSettings
from atelier.video.temporal import TemporalBlender

OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov")


def output_size(width: int, height: int, size: int) -> tuple[int, int]:
    """The painted frames' ``(width, height)``: longest side at most ``size`` (0: as the clip;
    small clips are never enlarged), even sides."""
    if size and max(width, height) > size:
        width, height = fit_size(width, height, size)
    return even(width), even(height)


class FramePainter:
    """Paints ``size`` = ``(height, width)`` frames one at a time with the fast engines. The
    style side (the paintings' statistics) is prepared once, here, so that an unreadable
    painting fails before any frame is decoded."""

    def __init__(self, styles: Sequence[str], weights: Sequence[float] | None, settings: VideoSettings, size: tuple[int, int]) -> None:
        from atelier.style.api import choose_painter
        from atelier.style.settings import StyleSettings

        self.styles, self.weights = list(styles), weights
        self.style_settings = StyleSettings(
            engine="fast",
            strength=settings.strength,
            style_scale=settings.style_scale,
            detail=settings.detail,
            preserve_color=settings.preserve_color,
            # Covariance only, the network's colours: the photos' sliced matching and palette
            # match amplify a frame's small changes (warping error 2.8 -> 4.6 x1e-3 on carphone
            # painted frame by frame, also with the maps fitted once per shot; docs/video.md).
            match_passes=0,
            palette_match=0.0,
            # No strokes: their noise is fixed to the picture, not the scene (it would stay put
            # while the scene moves under it).
            strokes=0.0,
        )
        self.painter = choose_painter(self.styles, self.style_settings)
        self.prepared, self.networks = None, []
        if self.painter == "arbitrary":
            from atelier.style.arbitrary.runtime import prepare_style

            self.prepared = prepare_style(self.styles, weights, self.style_settings, size)
        else:
            from atelier.style.fast.runtime import find_style

            self.networks = [find_style(s) for s in self.styles]

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """``frame``: ``(H, W, 3)`` float32 in [0, 1]; returns its painting, same size."""
        if self.networks:
            from atelier.style.fast.runtime import apply_styles

            s = self.style_settings
            return apply_styles(frame, self.networks, weights=self.weights, strength=s.strength, preserve_color=s.preserve_color).astype(
                np.float32
            )
        from atelier.style.arbitrary.runtime import paint_prepared

        return paint_prepared(frame, self.prepared, self.style_settings)


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    if image.shape[1] == width and image.shape[0] == height:
        return image
    shrink = width * height < image.shape[0] * image.shape[1]
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


@dataclass
class VideoJob:
    """A checked request to stylise a clip (:func:`plan_video`); :func:`run_video` paints it."""

    source: Path
    output: Path
    reader: VideoReader
    width: int
    height: int
    expected_frames: int
    painter: FramePainter
    settings: VideoSettings


def plan_video(
    source: str | Path,
    styles: Sequence[str],
    output: str | Path,
    *,
    style_weights: Sequence[float] | None = None,
    settings: VideoSettings | None = None,
) -> VideoJob:
    """Check everything before any frame is painted: the settings, the output path, the clip
    (a readable video stream), the range, the styles. One :class:`InputError` line for a mistake."""
    settings = settings or VideoSettings()
    settings.validate()
    if not styles:
        raise InputError("give at least one --style")
    source, output = Path(source), Path(output)
    check_new_file(output, force=True, suffixes=OUTPUT_SUFFIXES, inputs=[source, *styles], what="video")
    reader = VideoReader(source, settings.start, settings.end)
    info = reader.info
    width, height = output_size(info.width, info.height, settings.size)
    span = (settings.end if settings.end is not None else info.duration) - settings.start
    expected = max(1, int(round(min(span, info.duration - settings.start) * float(info.fps))))
    painter = FramePainter(styles, style_weights, settings, (height, width))
    return VideoJob(source, output, reader, width, height, expected, painter, settings)


def stylize_video(
    source: str | Path,
    styles: Sequence[str],
    output: str | Path,
    *,
    style_weights: Sequence[float] | None = None,
    settings: VideoSettings | None = None,
    on_progress: OnEvent | None = None,
    cancel: threading.Event | None = None,
    preview_every: int = 0,
) -> dict:
    """Paint every frame of ``source`` (between ``settings.start`` and ``settings.end``) with
    ``styles`` and write an H.264 MP4 at ``output`` with the clip's frame timing and audio.

    Memory stays flat whatever the clip's length (one frame in flight). Nothing is written if
    anything fails, Ctrl-C is pressed or ``cancel`` is set. Returns a summary: frames, seconds,
    frames per second, scene cuts found, mean fraction of each frame carried from the last.
    ``preview_every``: put the painted frame on every N-th progress event (0: never).
    """
    job = plan_video(source, styles, output, style_weights=style_weights, settings=settings)
    return run_video(job, on_progress=on_progress, cancel=cancel, preview_every=preview_every)


def run_video(job: VideoJob, *, on_progress: OnEvent | None = None, cancel: threading.Event | None = None, preview_every: int = 0) -> dict:
    """Paint and write a planned job (see :func:`stylize_video`)."""
    settings, info, painter = job.settings, job.reader.info, job.painter
    width, height, expected = job.width, job.height, job.expected_frames
    source, output = job.source, job.output
    blender = TemporalBlender(settings.carry) if settings.temporal == "on" else None
    counts = {"frames": 0, "carried": 0.0}
    started = time.perf_counter()

    def frames():
        for frame in job.reader:
            if cancel is not None and cancel.is_set():
                raise Cancelled("video stylisation cancelled")
            picture = _resize(frame.image, width, height)
            painted = painter(picture.astype(np.float32) / 255)
            if blender is not None:
                step = blender(picture, painted)
                painted, counts["carried"] = step.image, counts["carried"] + step.reliable
            image = to_uint8(painted)
            counts["frames"] += 1
            if on_progress is not None:
                done = counts["frames"]
                rate = done / max(1e-9, time.perf_counter() - started)
                show = preview_every and (done == 1 or done % preview_every == 0)
                on_progress(Event(done, max(done, expected), phase="stylizing", detail=f"{rate:.1f} fps", preview=image if show else None))
            yield image, frame.pts

    spec = OutputSpec(width, height, info.time_base, info.fps, source if info.audio else None, settings.start, settings.end, settings.crf)
    write_video(output, frames(), spec)
    if counts["frames"] == 0:
        output.unlink(missing_ok=True)
        raise InputError(f"{source}: no frames between {settings.start} s and {settings.end} s")
    seconds = time.perf_counter() - started
    return {
        "output": str(output),
        "frames": counts["frames"],
        "width": width,
        "height": height,
        "fps": float(info.fps),
        "audio": info.audio,
        "seconds": round(seconds, 2),
        "frames_per_second": round(counts["frames"] / seconds, 2),
        "painter": painter.painter,
        "temporal": settings.temporal,
        "cuts": blender.cuts if blender else 0,
        "carried": round(counts["carried"] / counts["frames"], 3) if blender else 0.0,
    }
