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

Every request passes :mod:`atelier.studio.security` first (host names, origin, token, body size).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from atelier import __version__
from atelier.errors import AtelierError
from atelier.io.images import probe_image
from atelier.studio.jobs import Job, JobManager, QueueFull, preview_data_url
from atelier.studio.security import Guard, GuardMiddleware, allowed_hosts_for, is_loopback

STATIC = Path(__file__).parent / "static"
UPLOAD_ID = re.compile(r"^[0-9a-f]{16}\.(png|jpg|webp|tif|bmp|gif)$")
JOB_ID = re.compile(r"^[0-9a-f]{12}$")
PREVIEW_PHOTO = "sample:chelsea"
FORMAT_EXT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp", "GIF": "gif", "MPO": "jpg"}


def default_data_dir() -> Path:
    root = os.environ.get("ATELIER_STUDIO_DIR") or os.path.join(os.path.expanduser("~"), ".local", "share", "atelier", "studio")
    return Path(root)


class StyleChoice(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    id: str | None = Field(None, description="Upload id of a painting (from POST /api/uploads).")
    builtin: str | None = Field(None, description="Or the name of a built-in fast style (GET /api/styles).")
    weight: float = Field(1.0, ge=0, le=100, description="Blend weight.")


class StylizeRequest(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    content: str = Field(description="Upload id of the photo.")
    styles: list[StyleChoice] = Field(min_length=1, max_length=4)
    size: int = Field(512, ge=64, le=2048, description="Longest side of the output.")
    steps: int = Field(160, ge=1, le=2000)
    strength: float = Field(1.0, ge=0, le=10, description="Paintings: style weight multiplier. Fast styles: 0-1 blend with the photo.")
    style_scale: float = Field(1.0, ge=0.25, le=4)
    preserve_color: bool = False
    mask: str | None = Field(None, description="Upload id of a mask (white = stylise).")
    seed: int = Field(0, ge=0, le=2**31 - 1)


def create_app(
    data_dir: str | Path | None = None,
    max_running: int = 1,
    max_upload_mb: float = 25.0,
    max_megapixels: float = 24.0,
    *,
    max_queued: int = 8,
    host: str = "127.0.0.1",
    allow_hosts: tuple[str, ...] = (),
    token: str | None = None,
) -> FastAPI:
    """Build the studio app; nothing heavy is loaded until the first job runs.

    ``host`` is the address the server listens on: it decides which host names are
    accepted (plus ``allow_hosts``) and whether the page itself needs the token.
    ``token`` fixes the per-launch token (default: a new random one; see ``app.state.guard``).
    """
    data = Path(data_dir) if data_dir is not None else default_data_dir()
    if not data.exists():
        data.mkdir(parents=True, mode=0o700)  # uploads and results are the user's own pictures
    uploads = data / "uploads"
    uploads.mkdir(exist_ok=True, mode=0o700)
    manager = JobManager(data / "results", max_running=max_running, max_queued=max_queued)
    guard = Guard(allowed_hosts_for(host, allow_hosts), max_upload_bytes=int(max_upload_mb * 1024 * 1024), page_needs_token=not is_loopback(host))
    if token:
        guard.token = token
    # One upload is decoded at a time: decoding is what costs memory.
    decoding = asyncio.Semaphore(1)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        manager.shutdown()  # running jobs are cancelled between two steps

    app = FastAPI(title="Atelier studio", version=__version__, description="Make art with neural style transfer, locally.", lifespan=lifespan)
    app.state.manager = manager
    app.state.guard = guard
    app.add_middleware(GuardMiddleware, guard=guard)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        # One readable line; the offending values are left out (a NaN is not even valid JSON).
        return JSONResponse(status_code=422, content={"detail": validation_message(error.errors())})

    def upload_path(upload_id: str) -> Path:
        if not UPLOAD_ID.match(upload_id) or not (uploads / upload_id).is_file():
            raise HTTPException(404, f"no upload {upload_id!r}; upload the image again")
        return uploads / upload_id

    def get_job(job_id: str) -> Job:
        job = manager.jobs.get(job_id) if JOB_ID.match(job_id) else None
        if job is None:
            raise HTTPException(404, "no such job (it may belong to an earlier session)")
        return job

    def submit(params: dict, work) -> dict:
        try:
            job = manager.submit(params, work)
        except QueueFull as error:
            raise HTTPException(429, str(error)) from None
        return {"id": job.id, "status": job.status, "events_url": f"/api/jobs/{job.id}/events"}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    @app.post("/api/uploads", summary="Upload an image (photo, painting or mask)")
    async def upload(file: UploadFile = File(...)) -> dict:
        # The body was capped while it streamed in (security.GuardMiddleware); this is the file's own size.
        limit = guard.max_upload_bytes
        body = await file.read(limit + 1)
        if len(body) > limit:
            raise HTTPException(413, f"the file is larger than {max_upload_mb:g} MB")
        if not body:
            raise HTTPException(400, "the file is empty")
        digest = hashlib.sha256(body).hexdigest()[:16]
        staging = uploads / f".{digest}.part"
        staging.write_bytes(body)
        del body
        name = file.filename or "upload"
        try:
            # Decoding a big image takes seconds: off the event loop, one at a time.
            async with decoding:
                ext, width, height = await run_in_threadpool(_check_upload, staging, max_megapixels)
            target = uploads / f"{digest}.{ext}"
            os.replace(staging, target)
        except AtelierError as error:
            # The message names our staging file; the user knows their file by its name.
            raise HTTPException(400, f"{name}: {str(error).split(': ', 1)[-1]}") from None
        finally:
            staging.unlink(missing_ok=True)
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

        return submit(request.model_dump(), work)

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

        return submit(request.model_dump(), work)

    @app.get("/api/jobs/{job_id}", summary="A job's status")
    def job_status(job_id: str) -> dict:
        return get_job(job_id).summary()

    @app.post("/api/jobs/{job_id}/cancel", summary="Cancel a queued or running job")
    def cancel(job_id: str) -> dict:
        job = get_job(job_id)
        manager.cancel(job.id)
        return {"id": job.id, "cancelling": not job.finished}

    @app.get("/api/jobs/{job_id}/events", summary="Live progress (Server-Sent Events)")
    async def events(job_id: str, request: Request) -> StreamingResponse:
        job = get_job(job_id)

        async def stream():
            sent = 0
            while not await request.is_disconnected():  # a closed tab stops its stream
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


def validation_message(errors: list[dict]) -> str:
    """``[{"loc": ("body", "strength"), "msg": ...}]`` -> ``"strength: Input should be ..."``."""
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def _check_upload(path: Path, max_megapixels: float) -> tuple[str, int, int]:
    """``(extension, width, height)`` of an uploaded image, or an ImageError saying what is wrong.

    The size is read from the header first, so a decompression bomb is refused as one
    before a single pixel is decoded; then the whole image is decoded once to catch damage.
    """
    from atelier.io.images import verify_image

    fmt, width, height = probe_image(path, max_megapixels)
    ext = FORMAT_EXT.get(fmt)
    if ext is None:
        raise AtelierError(f"{path}: this is not an image the studio can read (JPEG, PNG, WebP, TIFF, BMP, GIF)")
    verify_image(path, max_megapixels)
    return ext, width, height
