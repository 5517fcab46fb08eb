"""Training clips cut from a folder of videos: ``frames`` consecutive frames (every
``stride``-th frame of the source), square crops (three along a wide frame), resized to ``size``.
Clips do not cross a scene cut. Stored as one uint8 tensor ``(N, 3, T, S, S)``."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import numpy as np
import torch

from atelier.errors import InputError

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi")


def find_videos(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        videos = sorted(p for p in path.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith("."))
        if videos:
            return videos
        raise InputError(f"{path}: no videos here ({', '.join(VIDEO_SUFFIXES)})")
    raise InputError(f"{path}: no such file or folder")


def _squares(frame: np.ndarray, size: int) -> list[np.ndarray]:
    """The largest square crops of a frame, resized: one for a near-square frame, three (start,
    middle, end of the long side) for a wide or tall one."""
    import cv2

    h, w = frame.shape[:2]
    side = min(h, w)
    count = 3 if max(h, w) > 1.3 * side else 1
    offsets = np.linspace(0, max(h, w) - side, count + 2)[1:-1] if count == 1 else np.linspace(0, max(h, w) - side, count)
    crops = []
    for offset in offsets.round().astype(int):
        crop = frame[offset : offset + side] if h > w else frame[:, offset : offset + side]
        crops.append(cv2.resize(np.ascontiguousarray(crop[:side, :side]), (size, size), interpolation=cv2.INTER_AREA))
    return crops


def load_clips(
    path: str | Path,
    size: int,
    frames: int,
    stride: int = 2,
    hop: int | None = None,
    max_clips: int = 4000,
    skipped: list[str] | None = None,
) -> torch.Tensor:
    """Clips from every video under ``path`` (``hop``: frames between clip starts, default a
    quarter clip). Unreadable videos are skipped (their reasons appended to ``skipped``)."""
    import cv2

    from atelier.video.flow import gray
    from atelier.video.io import VideoReader
    from atelier.video.temporal import is_cut

    hop = hop or max(1, frames // 4)
    clips: list[np.ndarray] = []
    for video in find_videos(path):
        try:
            reader = VideoReader(video)
        except InputError as error:
            if skipped is not None:
                skipped.append(str(error))
            continue
        shots: list[deque[np.ndarray]] = []  # one per crop position
        since, previous = hop, None  # frames added since the last clips were cut
        for i, frame in enumerate(reader):
            if i % stride:
                continue
            crops = _squares(frame.image, size)
            h, w = frame.image.shape[:2]
            grey = gray(cv2.resize(frame.image, (max(16, 96 * w // max(h, w)), max(16, 96 * h // max(h, w))), interpolation=cv2.INTER_AREA))
            if previous is None or is_cut(previous, grey):
                shots = [deque(maxlen=frames) for _ in crops]  # a new scene: clips never span a cut
                since = hop
            previous = grey
            for shot, crop in zip(shots, crops):
                shot.append(crop)
            since += 1
            if len(shots[0]) == frames and since >= hop:
                clips.extend(np.stack(shot) for shot in shots)
                since = 0
            if len(clips) >= max_clips:
                break
        if len(clips) >= max_clips:
            break
    if not clips:
        raise InputError(f"{path}: no clip of {frames} frames (every {stride}) could be cut from these videos")
    array = np.stack(clips[:max_clips])  # (N, T, S, S, 3)
    return torch.from_numpy(array).permute(0, 4, 1, 2, 3).contiguous()
