"""Helpers shared by the whole-process benchmarks (bench_fast.py, bench_arbitrary.py, bench_video.py)."""

from __future__ import annotations

import compileall
import json
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

# A child's peak memory (ru_maxrss) starts at its parent's size at fork time, so a benchmark
# that holds frames or images would inflate every child it measures: a small Python process
# starts the command and reports the peak of its own child instead.
_MEASURE = """
import json, resource, subprocess, sys
run = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
print(json.dumps({"rc": run.returncode, "peak_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "stderr": run.stderr.decode(errors="replace")[-500:]}))
"""


def run_child(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one child process, as a user runs it."""
    start = time.perf_counter()
    measured = subprocess.run([sys.executable, "-c", _MEASURE, *command], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    report = json.loads(measured.stdout.strip().splitlines()[-1])
    if report["rc"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {report['stderr']}")
    return wall, report["peak_kb"] / 1024


def resized_photo(photo: Path, side: int, folder: Path) -> Path:
    """``photo`` resized (up or down) so that its longest side is ``side``, as a JPEG in ``folder``."""
    image = Image.open(photo).convert("RGB")
    scale = side / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    path = folder / f"photo_{side}.jpg"
    image.save(path, quality=95)
    return path


def compile_atelier() -> bool:
    """Give Atelier's modules compiled bytecode, as any wheel install has (pip compiles the
    peer's at install time). An editable install on a machine that sets
    PYTHONDONTWRITEBYTECODE (this one does) would otherwise compile about 60 modules from
    source at every start of every command: 0.03-0.08 s measured at 512-1024 px (2026-12-07).
    Returns whether all compiled (files already up to date are left alone)."""
    import atelier

    return bool(compileall.compile_dir(Path(atelier.__file__).parent, quiet=1))
