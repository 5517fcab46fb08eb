"""What every route of the studio shares: folders, limits, the job queue and the guard."""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request

from atelier.studio.jobs import Job, JobManager
from atelier.studio.security import Guard

UPLOAD_ID = re.compile(r"^[0-9a-f]{16}\.(png|jpg|webp|tif|bmp|gif)$")
JOB_ID = re.compile(r"^[0-9a-f]{12}$")


def default_data_dir() -> Path:
    root = os.environ.get("ATELIER_STUDIO_DIR") or os.path.join(os.path.expanduser("~"), ".local", "share", "atelier", "studio")
    return Path(root)


@dataclass
class Studio:
    data: Path
    manager: JobManager
    guard: Guard
    max_upload_mb: float
    max_megapixels: float
    # One upload is decoded at a time: decoding is what costs memory.
    decoding: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"

    @property
    def videos(self) -> Path:
        return self.data / "videos"

    @property
    def previews(self) -> Path:
        return self.data / "style-previews"

    def upload_path(self, upload_id: str) -> Path:
        if not UPLOAD_ID.match(upload_id) or not (self.uploads / upload_id).is_file():
            raise HTTPException(404, f"no upload {upload_id!r}; upload the image again")
        return self.uploads / upload_id

    def job(self, job_id: str) -> Job:
        job = self.manager.jobs.get(job_id) if JOB_ID.match(job_id) else None
        if job is None:
            raise HTTPException(404, "no such job (it may belong to an earlier session)")
        return job


def studio(request: Request) -> Studio:
    """FastAPI dependency: the studio the request belongs to."""
    return request.app.state.studio
