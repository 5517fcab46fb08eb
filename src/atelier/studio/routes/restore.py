"""Restoration in the studio: ``POST /api/restore`` (inpaint with a mask painted in the page,
denoise, upscale) as a job on the shared queue; progress and the result PNG like any job.

The work is one call to :func:`atelier.restore.api.restore_file`; mistakes (an unknown method,
a mask of another size, an empty mask) are reported at once with a 400.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from atelier.errors import InputError
from atelier.studio.context import Studio, studio
from atelier.studio.jobs import Job, QueueFull
from atelier.studio.routes.jobs import event_message

router = APIRouter()


class RestoreRequest(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")

    task: Literal["inpaint", "denoise", "upscale"]
    photo: str = Field(description="Upload id of the picture.")
    mask: str | None = Field(None, description="inpaint: upload id of the mask (white = fill), same size as the photo.")
    auto_mask: bool = Field(False, description="inpaint: also find scratches and dust.")
    method: str | None = Field(None, description="See `atelier restore TASK --help`; default: the task's first method.")
    scale: Literal[2, 3, 4] = 4
    sigma: float | None = Field(None, ge=0, le=100, description="denoise: noise strength (0-255 scale); null: estimated.")
    steps: int = Field(300, ge=1, le=5000, description="Deep Image Prior steps (method dip).")


@router.post("/api/restore", summary="Start restoring a picture", status_code=202)
def restore(body: RestoreRequest, ctx: Studio = Depends(studio)) -> dict:
    from atelier.io.images import probe_image
    from atelier.restore.api import METHODS, check_method, restore_file
    from atelier.restore.masks import load_mask

    photo = ctx.upload_path(body.photo)
    mask = ctx.upload_path(body.mask) if body.mask else None
    method = body.method or METHODS[body.task][0]
    try:
        check_method(body.task, method)
        if body.task == "inpaint":
            if mask is None and not body.auto_mask:
                raise InputError("paint over what to fill first (or tick 'find scratches and dust')")
            if mask is not None:
                _, width, height = probe_image(photo)
                load_mask(mask, (width, height))

        def work(job: Job, report) -> None:
            restore_file(
                body.task,
                photo,
                ctx.manager.results_dir / f"{job.id}.png",
                method=method,
                scale=body.scale,
                sigma=body.sigma,
                mask=mask,
                auto_mask=body.auto_mask,
                steps=body.steps,
                on_progress=lambda event: report(event_message(event)),
                cancel=job.cancel,
            )

        job = ctx.manager.submit({**body.model_dump(), "method": method, "kind": "restore"}, work)
    except InputError as error:
        raise HTTPException(400, str(error).replace(str(ctx.uploads) + "/", "")) from None
    except QueueFull as error:
        raise HTTPException(429, str(error)) from None
    return {"id": job.id, "status": job.status, "events_url": f"/api/jobs/{job.id}/events"}
