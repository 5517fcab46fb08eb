"""A bounded job queue for long stylisations: several tabs or users, a fixed number of jobs
running at once, a fixed number waiting (more are refused), progress kept per job for
streaming, cooperative cancellation. Memory stays bounded over a server's lifetime: a
finished job drops its preview images, and only the newest finished jobs stay in memory
(every finished result is on disk, in the gallery)."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from atelier.errors import AtelierError, Cancelled
from atelier.io import tensor_to_pil, to_uint8
from atelier.io.atomic import atomic_write_text

PREVIEW_SIDE = 384


class QueueFull(AtelierError):
    """Too many jobs are waiting; the caller should try again later."""


def preview_data_url(image) -> str:
    """A small JPEG data URL of a ``(1, 3, H, W)`` tensor or an ``(H, W, 3)`` array, for the page."""
    if isinstance(image, np.ndarray):
        pil = Image.fromarray(to_uint8(image))
    else:
        pil = tensor_to_pil(image)
    pil.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buffer = io.BytesIO()
    pil.save(buffer, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass
class Job:
    id: str
    params: dict[str, Any]
    status: str = "queued"  # queued, running, done, failed, cancelled
    created: float = field(default_factory=time.time)
    step: int = 0
    total: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    events: list[dict] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    result_ext: str = "png"
    """What the job writes: a PNG picture, or an MP4 clip."""

    def summary(self) -> dict:
        return {
            "id": self.id,
            "status": self.status,
            "step": self.step,
            "total": self.total,
            "losses": self.losses,
            "error": self.error,
            "params": self.params,
            "created": self.created,
            "result_url": f"/api/results/{self.id}.{self.result_ext}" if self.status == "done" else None,
        }

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "cancelled")


class JobManager:
    """Runs ``work(job, report)`` callables on at most ``max_running`` threads.

    At most ``max_queued`` jobs may wait at once (:class:`QueueFull` beyond that), and at
    most ``keep_finished`` finished jobs are remembered (the oldest are forgotten).
    """

    def __init__(self, results_dir: Path, max_running: int = 1, max_queued: int = 8, keep_finished: int = 50) -> None:
        self.results_dir = results_dir
        self.results_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.max_queued = max_queued
        self.keep_finished = keep_finished
        self.pool = ThreadPoolExecutor(max_workers=max_running, thread_name_prefix="atelier-job")

    def submit(self, params: dict, work: Callable[[Job, Callable[[dict], None]], None], result_ext: str = "png") -> Job:
        job = Job(uuid.uuid4().hex[:12], params, result_ext=result_ext)
        with self.lock:
            waiting = sum(1 for j in self.jobs.values() if j.status == "queued")
            if waiting >= self.max_queued:
                raise QueueFull(f"the studio is busy: {waiting} jobs are already waiting; wait for one to finish or cancel one")
            self.jobs[job.id] = job
        job.events.append({"type": "status", "status": "queued"})
        self.pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable) -> None:
        if job.cancel.is_set():
            self._finish(job, "cancelled")
            return
        job.status = "running"
        job.events.append({"type": "status", "status": "running"})

        def report(event: dict) -> None:
            job.step, job.total = event.get("step", job.step), event.get("total", job.total)
            job.losses = event.get("losses") or job.losses
            job.events.append({"type": "progress", **event})

        try:
            work(job, report)
        except Cancelled:
            self._finish(job, "cancelled")
        except AtelierError as error:
            self._finish(job, "failed", str(error))
        except Exception as error:  # a bug: say so on the page, keep the server alive
            self._finish(job, "failed", f"internal error: {type(error).__name__}: {error}")
        else:
            self._finish(job, "done")

    def _finish(self, job: Job, status: str, error: str | None = None) -> None:
        if status == "done":
            record = {**job.summary(), "status": status, "result_url": f"/api/results/{job.id}.{job.result_ext}"}
            record.pop("error")
            atomic_write_text(self.results_dir / f"{job.id}.json", json.dumps(record))
        # Previews are only worth watching live (a 2000-step job held ~12 MB of them): keep the
        # last one, for a page that connects late. Events are replaced, not edited, because
        # an event stream may be reading them right now.
        with_preview = [i for i, e in enumerate(job.events) if "preview" in e]
        for i in with_preview[:-1]:
            job.events[i] = {k: v for k, v in job.events[i].items() if k != "preview"}
        # The last event goes out before the status flips, so a stream that sees the job
        # finished has already seen the event saying how.
        job.events.append({"type": "status", "status": status, "error": error})
        job.error = error
        job.status = status
        with self.lock:
            finished = [j for j in self.jobs.values() if j.finished]
            for old in finished[: max(0, len(finished) - self.keep_finished)]:
                del self.jobs[old.id]

    def cancel(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        if job is not None and not job.finished:
            job.cancel.set()
        return job

    def history(self) -> list[dict]:
        """Finished results on disk (pictures and clips), newest first (survives restarts)."""
        items = []
        for sidecar in self.results_dir.glob("*.json"):
            try:
                item = json.loads(sidecar.read_text())
            except ValueError:
                continue
            ext = str(item.get("result_url", ".png")).rsplit(".", 1)[-1]
            if ext in ("png", "mp4") and (self.results_dir / f"{sidecar.stem}.{ext}").is_file():
                items.append(item)
        return sorted(items, key=lambda item: item.get("created", 0), reverse=True)

    def shutdown(self) -> None:
        for job in self.jobs.values():
            job.cancel.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
