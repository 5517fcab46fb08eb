"""onnxruntime sessions for the models Atelier ships (no PyTorch needed to run them)."""

from __future__ import annotations

import os
from functools import lru_cache

from atelier.errors import InputError


def threads() -> int:
    """CPU threads: ``ATELIER_THREADS`` (what ``--threads`` sets), else every core."""
    env = os.environ.get("ATELIER_THREADS")
    return int(env) if env and env.isdigit() and int(env) > 0 else (os.cpu_count() or 1)


@lru_cache(maxsize=1)
def _libc():
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def release_memory() -> None:
    """Give the memory freed since the last call back to the system (glibc's ``malloc_trim``;
    a no-op elsewhere).

    onnxruntime's working memory for a run is freed afterwards but glibc keeps the pages, and
    the next run (in another thread's heap, or needing other sizes) takes new ones, so a
    process's peak grows with every stage. Released between runs, the peak is one run's
    working memory; re-using the pages costs a few milliseconds of page faults per call
    (trimming on every free, ``MALLOC_TOP_PAD_=0``, cost 0.3 s per picture instead).
    """
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@lru_cache(maxsize=8)
def session(path: str, memory_arena: bool = True):
    """An ``InferenceSession`` on the CPU for ``path`` (cached per file); one clear line for a bad file.

    ``memory_arena=False`` frees activations as soon as they are used instead of keeping a
    growing arena: less peak memory for big pictures, at a small cost in speed.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads()
    options.log_severity_level = 3
    options.enable_cpu_mem_arena = memory_arena
    # No busy-waiting between runs: numpy works between the sessions' runs (the arbitrary
    # network's transforms), and spinning onnxruntime threads would take its cores.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises its own exception types for bad files
        raise InputError(f"{path}: not an ONNX model onnxruntime can load ({str(error).splitlines()[0][:200]})") from None
