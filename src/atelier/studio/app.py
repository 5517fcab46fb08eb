"""The web studio: a FastAPI app over the same library calls as the command line.

Endpoints (all documented at ``/openapi.json`` and ``/docs``):

* ``POST /api/uploads``: upload an image (photo, painting or mask); it is checked (size,
  megapixels, format, damage) and stored under a name derived from its content.
* ``GET /api/styles``: the built-in fast styles, each with a preview on a sample photo.
* ``POST /api/stylize``: start a stylisation job from upload ids (paintings) or built-in
  style names (fast styles, well under a second) and settings.
* ``GET /api/jobs/{id}/events``: live progress as Server-Sent Events, previews included.
* ``POST /api/jobs/{id}/cancel``, ``GET /api/jobs/{id}``, ``GET /api/history``,
  ``GET /api/results/{id}.png``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, File, HTTPException, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field

from atelier import __version__
from atelier.errors import AtelierError
from atelier.io import load_image
from atelier.studio.jobs import Job, JobManager, preview_data_url

STATIC = Path(__file__).parent / "static"
UPLOAD_ID = re.compile(r"^[0-9a-f]{16}\.(png|jpg|webp|tif|bmp|gif)$")
JOB_ID = re.compile(r"^[0-9a-f]{12}$")
PREVIEW_PHOTO = "sample:chelsea"
FORMAT_EXT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp", "GIF": "gif", "MPO": "jpg"}


def default_data_dir() -> Path:
    root = os.environ.get("ATELIER_STUDIO_DIR") or os.path.join(os.path.expanduser("~"), ".local", "share", "atelier", "studio")
    return Path(root)


class StyleChoice(BaseModel):
    id: str | None = Field(None, description="Upload id of a painting (from POST /api/uploads).")
    builtin: str | None = Field(None, description="Or the name of a built-in fast style (GET /api/styles).")
    weight: float = Field(1.0, ge=0, le=100, description="Blend weight.")


class StylizeRequest(BaseModel):
    content: str = Field(description="Upload id of the photo.")
    styles: list[StyleChoice] = Field(min_length=1, max_length=4)
    size: int = Field(512, ge=64, le=2048, description="Longest side of the output.")
    steps: int = Field(160, ge=1, le=2000)
    strength: float = Field(1.0, ge=0, le=10, description="Paintings: style weight multiplier. Fast styles: 0-1 blend with the photo.")
    style_scale: float = Field(1.0, ge=0.25, le=4)
    preserve_color: bool = False
    mask: str | None = Field(None, description="Upload id of a mask (white = stylise).")
    seed: int = 0


def create_app(data_dir: str | Path | None = None, max_running: int = 1, max_upload_mb: float = 25.0, max_megapixels: float = 40.0) -> FastAPI:
    """Build the studio app; nothing heavy is loaded until the first job runs."""
    data = Path(data_dir) if data_dir is not None else default_data_dir()
    uploads = data / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    manager = JobManager(data / "results", max_running=max_running)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        manager.shutdown()  # running jobs are cancelled between two steps

    app = FastAPI(title="Atelier studio", version=__version__, description="Make art with neural style transfer, locally.", lifespan=lifespan)
    app.state.manager = manager

    def upload_path(upload_id: str) -> Path:
        if not UPLOAD_ID.match(upload_id) or not (uploads / upload_id).is_file():
            raise HTTPException(404, f"no upload {upload_id!r}; upload the image again")
        return uploads / upload_id

    def get_job(job_id: str) -> Job:
        job = manager.jobs.get(job_id) if JOB_ID.match(job_id) else None
        if job is None:
            raise HTTPException(404, "no such job (it may belong to an earlier session)")
        return job

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    @app.post("/api/uploads", summary="Upload an image (photo, painting or mask)")
    async def upload(file: UploadFile = File(...)) -> dict:
        limit = int(max_upload_mb * 1024 * 1024)
        body = await file.read(limit + 1)
        if len(body) > limit:
            raise HTTPException(413, f"the file is larger than {max_upload_mb:g} MB")
        if not body:
            raise HTTPException(400, "the file is empty")
        digest = hashlib.sha256(body).hexdigest()[:16]
        staging = uploads / f".{digest}.part"
        staging.write_bytes(body)
        try:
            from PIL import Image

            with Image.open(staging) as probe:
                ext = FORMAT_EXT.get(probe.format or "", "")
        except Exception:
            ext = ""
        try:
            if not ext:
                raise HTTPException(400, "this is not an image the studio can read (JPEG, PNG, WebP, TIFF, BMP, GIF)")
            try:
                image = load_image(staging, max_megapixels_limit=max_megapixels)
            except AtelierError as error:
                # The message names our staging file; the user knows their file by its name.
                message = str(error).split(": ", 1)[-1]
                raise HTTPException(400, f"{file.filename or 'upload'}: {message}") from None
            target = uploads / f"{digest}.{ext}"
            os.replace(staging, target)
        finally:
            staging.unlink(missing_ok=True)
        width, height = image.size
        return {"id": target.name, "width": width, "height": height, "url": f"/api/uploads/{target.name}"}

    @app.get("/api/uploads/{upload_id}", summary="An uploaded image")
    def get_upload(upload_id: str) -> FileResponse:
        return FileResponse(upload_path(upload_id))

    previews = data / "style-previews"

    @app.get("/api/styles", summary="The built-in fast styles")
    def styles() -> list[dict]:
        from atelier.style.fast.pack import builtin_styles

        return [{**s.to_dict(), "preview_url": f"/api/styles/{s.name}/preview.jpg"} for s in builtin_styles()]

    @app.get("/api/styles/{name}/preview.jpg", summary="A built-in style applied to a sample photo")
    def style_preview(name: str) -> FileResponse:
        from atelier.style.fast.files import stylize_fast_file
        from atelier.style.fast.pack import resolve_style

        style = resolve_style(name)
        if style is None or style.name != name:
            raise HTTPException(404, f"no built-in style {name!r}")
        path = previews / f"{name}.jpg"
        if not path.is_file():  # made once, then served from disk
            previews.mkdir(parents=True, exist_ok=True)
            stylize_fast_file(PREVIEW_PHOTO, [name], path, size=320)
        return FileResponse(path, media_type="image/jpeg")

    def check_choice(choice: StyleChoice) -> None:
        if (choice.id is None) == (choice.builtin is None):
            raise HTTPException(422, "each style needs exactly one of 'id' (an uploaded painting) or 'builtin' (a fast style)")

    @app.post("/api/stylize", summary="Start a stylisation job", status_code=202)
    def stylize(request: StylizeRequest) -> dict:
        from atelier.style import StyleSettings, stylize_file

        for choice in request.styles:
            check_choice(choice)
        content = upload_path(request.content)
        mask = upload_path(request.mask) if request.mask else None
        if sum(choice.weight for choice in request.styles) <= 0:
            raise HTTPException(400, "at least one style needs a weight above zero")
        fast = [choice.builtin is not None for choice in request.styles]
        if any(fast):
            if not all(fast):
                raise HTTPException(400, "built-in fast styles and uploaded paintings cannot be mixed in one job")
            return start_fast(request, content, mask)
        styles = [upload_path(choice.id) for choice in request.styles]
        settings = StyleSettings(
            size=request.size, steps=request.steps, strength=request.strength, style_scale=request.style_scale,
            preserve_color="luminance" if request.preserve_color else None, seed=request.seed, preview_every=5,
        )

        def work(job: Job, report) -> None:
            def on_progress(event) -> None:
                message = {"step": event.step, "total": event.total, "losses": event.losses}
                if event.preview is not None:
                    message["preview"] = preview_data_url(event.preview)
                report(message)

            stylize_file(
                content, styles, manager.results_dir / f"{job.id}.png",
                style_weights=[choice.weight for choice in request.styles], mask=mask, settings=settings,
                on_progress=on_progress, cancel=job.cancel,
            )

        job = manager.submit(request.model_dump(), work)
        return {"id": job.id, "status": job.status, "events_url": f"/api/jobs/{job.id}/events"}

    def start_fast(request: StylizeRequest, content: Path, mask: Path | None) -> dict:
        from atelier.style.fast.files import stylize_fast_file
        from atelier.style.fast.pack import resolve_style

        names = [choice.builtin for choice in request.styles]
        unknown = [n for n in names if resolve_style(n) is None]
        if unknown:
            raise HTTPException(400, f"no built-in style {unknown[0]!r}; see GET /api/styles")
        if request.strength > 1:
            raise HTTPException(400, "with fast styles, strength is a blend with the photo: 0 to 1")

        def work(job: Job, report) -> None:
            report({"step": 0, "total": 1, "losses": {}})
            stylize_fast_file(
                content, names, manager.results_dir / f"{job.id}.png",
                style_weights=[choice.weight for choice in request.styles], strength=request.strength,
                preserve_color=request.preserve_color, mask=mask, size=request.size,
            )
            report({"step": 1, "total": 1, "losses": {}})

        job = manager.submit(request.model_dump(), work)
        return {"id": job.id, "status": job.status, "events_url": f"/api/jobs/{job.id}/events"}

    @app.get("/api/jobs/{job_id}", summary="A job's status")
    def job_status(job_id: str) -> dict:
        return get_job(job_id).summary()

    @app.post("/api/jobs/{job_id}/cancel", summary="Cancel a queued or running job")
    def cancel(job_id: str) -> dict:
        job = get_job(job_id)
        manager.cancel(job.id)
        return {"id": job.id, "cancelling": not job.finished}

    @app.get("/api/jobs/{job_id}/events", summary="Live progress (Server-Sent Events)")
    async def events(job_id: str) -> StreamingResponse:
        job = get_job(job_id)

        async def stream():
            sent = 0
            while True:
                while sent < len(job.events):
                    yield f"data: {json.dumps(job.events[sent])}\n\n"
                    sent += 1
                if job.finished and sent >= len(job.events):
                    return
                await asyncio.sleep(0.15)

        return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.get("/api/history", summary="Finished results, newest first")
    def history() -> list[dict]:
        return manager.history()

    @app.get("/api/results/{name}", summary="Download a result (PNG with its recipe)")
    def result(name: str) -> FileResponse:
        job_id = name.removesuffix(".png")
        path = manager.results_dir / f"{job_id}.png"
        if not JOB_ID.match(job_id) or not path.is_file():
            raise HTTPException(404, "no such result")
        return FileResponse(path, media_type="image/png", filename=f"atelier-{job_id}.png")

    return app
