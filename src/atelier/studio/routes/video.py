"""Video in the studio: ``POST /api/video-uploads`` (a clip, checked by probing it),
``POST /api/video-stylize`` (a job on the shared queue, progress streamed like any job) and the
result as ``GET /api/results/{id}.mp4``.

The request body is generated from :class:`atelier.video.settings.VideoSettings` (the command
line's defaults and ranges); the work is :func:`atelier.video.stylize.run_video`.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile
from fastapi.responses import FileResponse
from pydantic import Field

from atelier.errors import InputError
from atelier.options import api_model
from atelier.studio.context import Studio, studio
from atelier.studio.jobs import Job, QueueFull
from atelier.studio.routes.jobs import StyleChoice, event_message
from atelier.studio.routes.uploads import store_upload
from atelier.video.settings import VideoSettings

router = APIRouter()
VIDEO_ID = re.compile(r"^[0-9a-f]{16}\.(mp4|mov|m4v|mkv|webm|avi)$")
CONTAINERS = ("mp4", "mov", "m4v", "mkv", "webm", "avi")
#: The studio paints short clips; longer ones belong on the command line (`atelier video stylize`).
MAX_CLIP_SECONDS = 120.0
STUDIO_SETTINGS = ("size", "strength", "style_scale", "detail", "preserve_color", "temporal", "carry")

VideoStylizeRequest = api_model(
    VideoSettings,
    "VideoStylizeRequest",
    include=STUDIO_SETTINGS,
    extra={
        "video": (str, Field(description="Upload id of the clip (from POST /api/video-uploads).")),
        "styles": (list[StyleChoice], Field(min_length=1, max_length=4)),
    },
)


def check_clip(path: Path) -> dict:
    from atelier.video.io import probe

    info = probe(path)
    if info.duration > MAX_CLIP_SECONDS:
        raise InputError(f"{path}: {info.duration:.0f} s is longer than the studio's {MAX_CLIP_SECONDS:.0f} s; use `atelier video stylize`")
    return info.to_dict()


@router.post("/api/video-uploads", summary="Upload a short video clip")
async def upload_video(file: UploadFile = File(...), ctx: Studio = Depends(studio)) -> dict:
    def check(path: Path, name: str) -> tuple[str, dict]:
        ext = Path(name).suffix.lower().lstrip(".")
        return (ext if ext in CONTAINERS else "mp4"), check_clip(path)  # FFmpeg reads the content, not the name

    target, info = await store_upload(file, ctx, ctx.videos, check)
    keep = ("width", "height", "fps", "frames", "duration", "audio")
    return {"id": target.name, "url": f"/api/video-uploads/{target.name}", **{k: info[k] for k in keep}}


@router.get("/api/video-uploads/{video_id}", summary="An uploaded clip")
def get_video(video_id: str, ctx: Studio = Depends(studio)) -> FileResponse:
    path = ctx.videos / video_id
    if not VIDEO_ID.match(video_id) or not path.is_file():
        raise HTTPException(404, "no such clip; upload it again")
    return FileResponse(path)


@router.post("/api/video-stylize", summary="Start stylising a clip", status_code=202)
def video_stylize(body: VideoStylizeRequest, ctx: Studio = Depends(studio)) -> dict:  # type: ignore[valid-type]
    from atelier.style.fast.pack import resolve_style
    from atelier.video.stylize import plan_video, run_video

    for choice in body.styles:
        if (choice.id is None) == (choice.builtin is None):
            raise HTTPException(422, "each style needs exactly one of 'id' (an uploaded painting) or 'builtin' (a built-in style)")
        if choice.builtin is not None and resolve_style(choice.builtin) is None:
            raise HTTPException(400, f"no built-in style {choice.builtin!r}; see GET /api/styles")
    source = ctx.videos / body.video
    if not VIDEO_ID.match(body.video) or not source.is_file():
        raise HTTPException(404, f"no clip {body.video!r}; upload it again")
    styles = [str(ctx.upload_path(c.id)) if c.id is not None else c.builtin for c in body.styles]
    settings = VideoSettings(**{name: getattr(body, name) for name in STUDIO_SETTINGS})
    params = {**body.model_dump(), "kind": "video"}
    try:
        # Mistakes (a bad painting, weights, settings) are reported now, with a 400.
        weights = [c.weight for c in body.styles]
        checked = plan_video(source, styles, ctx.manager.results_dir / "pending.mp4", style_weights=weights, settings=settings)

        def work(job: Job, report) -> None:
            checked.output = ctx.manager.results_dir / f"{job.id}.mp4"
            run_video(checked, on_progress=lambda event: report(event_message(event)), cancel=job.cancel, preview_every=10)

        job = ctx.manager.submit(params, work, result_ext="mp4")
    except InputError as error:
        raise HTTPException(400, str(error)) from None
    except QueueFull as error:
        raise HTTPException(429, str(error)) from None
    return {"id": job.id, "status": job.status, "events_url": f"/api/jobs/{job.id}/events"}
