"""Stylisation jobs: ``POST /api/stylize``, their progress (Server-Sent Events), cancel, history, results.

The request body is generated from :class:`atelier.style.settings.StyleSettings` (the same
defaults and ranges as the command line); the work is one call to :func:`atelier.style.api.stylize`.
"""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from atelier.events import Event
from atelier.options import api_model
from atelier.studio.context import JOB_ID, Studio, studio
from atelier.studio.jobs import Job, QueueFull, preview_data_url
from atelier.style.settings import StyleSettings

router = APIRouter()

#: The settings the page offers; the rest keep the library's defaults.
STUDIO_SETTINGS = (
    "engine",
    "size",
    "steps",
    "strength",
    "style_scale",
    "detail",
    "calm_halos",
    "palette_match",
    "match_passes",
    "strokes",
    "preserve_color",
    "color_method",
    "seed",
)


class StyleChoice(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    id: str | None = Field(None, description="Upload id of a painting (from POST /api/uploads).")
    builtin: str | None = Field(None, description="Or the name of a built-in style (GET /api/styles).")
    weight: float = Field(1.0, ge=0, le=100, description="Blend weight.")


StylizeRequest = api_model(
    StyleSettings,
    "StylizeRequest",
    include=STUDIO_SETTINGS,
    extra={
        "content": (str, Field(description="Upload id of the photo.")),
        "styles": (list[StyleChoice], Field(min_length=1, max_length=4)),
        "mask": (str | None, Field(None, description="Upload id of a mask (white = stylise).")),
    },
)


def event_message(event: Event) -> dict:
    """The studio's view of any progress event: JSON, with the preview as a small JPEG data URL."""
    message = event.to_json()
    image = event.preview if event.preview is not None else event.result
    if image is not None and not hasattr(image, "suffix"):
        message["preview"] = preview_data_url(image)
    return message


@router.post("/api/stylize", summary="Start a stylisation job", status_code=202)
def stylize(body: StylizeRequest, ctx: Studio = Depends(studio)) -> dict:  # type: ignore[valid-type]
    from atelier.style.api import StyleRequest
    from atelier.style.api import stylize as paint

    for choice in body.styles:
        if (choice.id is None) == (choice.builtin is None):
            raise HTTPException(422, "each style needs exactly one of 'id' (an uploaded painting) or 'builtin' (a built-in style)")
        if choice.builtin is not None:
            from atelier.style.fast.pack import resolve_style

            if resolve_style(choice.builtin) is None:
                raise HTTPException(400, f"no built-in style {choice.builtin!r}; see GET /api/styles")
    content = ctx.upload_path(body.content)
    mask = ctx.upload_path(body.mask) if body.mask else None
    styles = [str(ctx.upload_path(c.id)) if c.id is not None else c.builtin for c in body.styles]
    settings = StyleSettings(**{name: getattr(body, name) for name in STUDIO_SETTINGS}, preview_every=5)
    params = body.model_dump()

    def work(job: Job, report) -> None:
        request = StyleRequest(
            str(content),
            styles,
            str(ctx.manager.results_dir / f"{job.id}.png"),
            [c.weight for c in body.styles],
            None if mask is None else str(mask),
            settings,
        )
        paint(request, on_progress=lambda event: report(event_message(event)), cancel=job.cancel)

    # Mistakes are reported now, with a 400, not later as a failed job.
    from atelier.errors import InputError
    from atelier.style.api import choose_painter
    from atelier.style.options import normalised_weights

    try:
        settings.validate()
        normalised_weights([c.weight for c in body.styles], len(styles))
        choose_painter(styles, settings)
        job = ctx.manager.submit(params, work)
    except InputError as error:
        raise HTTPException(400, str(error)) from None
    except QueueFull as error:
        raise HTTPException(429, str(error)) from None
    return {"id": job.id, "status": job.status, "events_url": f"/api/jobs/{job.id}/events"}


class RefineRequest(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")

    job: str = Field(description="Id of a finished job that painted with paintings (the fast result to refine).")
    steps: int = Field(40, ge=1, le=2000, description="Optimisation steps, starting from the fast result.")


@router.post("/api/refine", summary="Refine a fast result with the optimisation engine", status_code=202)
def refine(body: RefineRequest, ctx: Studio = Depends(studio)) -> dict:
    from atelier.style.api import refine as refine_result

    source = ctx.manager.results_dir / f"{body.job}.png"
    if not JOB_ID.match(body.job) or not source.is_file():
        raise HTTPException(404, "no finished result with that id to refine")
    record = next((item for item in ctx.manager.history() if item.get("id") == body.job), {})
    if any(choice.get("builtin") for choice in record.get("params", {}).get("styles", [])):
        raise HTTPException(400, "built-in styles are networks: only pictures painted from paintings can be refined")
    params = {**record.get("params", {}), "engine": "optimize", "steps": body.steps, "refine_of": body.job}

    def work(job: Job, report) -> None:
        refine_result(
            source,
            ctx.manager.results_dir / f"{job.id}.png",
            steps=body.steps,
            on_progress=lambda event: report(event_message(event)),
            cancel=job.cancel,
        )

    try:
        job = ctx.manager.submit(params, work)
    except QueueFull as error:
        raise HTTPException(429, str(error)) from None
    return {"id": job.id, "status": job.status, "events_url": f"/api/jobs/{job.id}/events"}


@router.get("/api/jobs/{job_id}", summary="A job's status")
def job_status(job_id: str, ctx: Studio = Depends(studio)) -> dict:
    return ctx.job(job_id).summary()


@router.post("/api/jobs/{job_id}/cancel", summary="Cancel a queued or running job")
def cancel(job_id: str, ctx: Studio = Depends(studio)) -> dict:
    job = ctx.job(job_id)
    ctx.manager.cancel(job.id)
    return {"id": job.id, "cancelling": not job.finished}


@router.get("/api/jobs/{job_id}/events", summary="Live progress (Server-Sent Events)")
async def events(job_id: str, request: Request, ctx: Studio = Depends(studio)) -> StreamingResponse:
    job = ctx.job(job_id)

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


@router.get("/api/history", summary="Finished results, newest first")
def history(ctx: Studio = Depends(studio)) -> list[dict]:
    return ctx.manager.history()


RESULT_MEDIA = {"png": "image/png", "mp4": "video/mp4"}


@router.get("/api/results/{name}", summary="Download a result (PNG with its recipe, or an MP4 clip)")
def result(name: str, ctx: Studio = Depends(studio)) -> FileResponse:
    job_id, _, ext = name.partition(".")
    path = ctx.manager.results_dir / name
    if not JOB_ID.match(job_id) or ext not in RESULT_MEDIA or not path.is_file():
        raise HTTPException(404, "no such result")
    return FileResponse(path, media_type=RESULT_MEDIA[ext], filename=f"atelier-{name}")
