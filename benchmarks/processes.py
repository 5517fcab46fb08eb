"""Helpers shared by the whole-process benchmarks (bench_fast.py, bench_arbitrary.py)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from PIL import Image


def run_child(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one child process, as a user runs it."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {process.stderr.read().decode()[-500:]}")
    return wall, usage.ru_maxrss / 1024


def resized_photo(photo: Path, side: int, folder: Path) -> Path:
    """``photo`` resized (up or down) so that its longest side is ``side``, as a JPEG in ``folder``."""
    image = Image.open(photo).convert("RGB")
    scale = side / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    path = folder / f"photo_{side}.jpg"
    image.save(path, quality=95)
    return path
