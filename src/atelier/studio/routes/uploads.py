"""``POST /api/uploads`` and ``GET /api/uploads/{id}``: checked images stored under content hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from fastapi import APIRouter, Depends, File, HTTPException, UploadFile
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from atelier.errors import AtelierError
from atelier.io.images import probe_image, verify_image
from atelier.studio.context import Studio, studio

router = APIRouter()
FORMAT_EXT = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "TIFF": "tif", "BMP": "bmp", "GIF": "gif", "MPO": "jpg"}


def check_upload(path: Path, max_megapixels: float) -> tuple[str, int, int]:
    """``(extension, width, height)`` of an uploaded image, or an error saying what is wrong.

    The size is read from the header first, so a decompression bomb is refused as one
    before a single pixel is decoded; then the whole image is decoded once to catch damage.
    """
    fmt, width, height = probe_image(path, max_megapixels)
    ext = FORMAT_EXT.get(fmt)
    if ext is None:
        raise AtelierError(f"{path}: this is not an image the studio can read (JPEG, PNG, WebP, TIFF, BMP, GIF)")
    verify_image(path, max_megapixels)
    return ext, width, height


@router.post("/api/uploads", summary="Upload an image (photo, painting or mask)")
async def upload(file: UploadFile = File(...), ctx: Studio = Depends(studio)) -> dict:
    # The body was capped while it streamed in (security.GuardMiddleware); this is the file's own size.
    limit = ctx.guard.max_upload_bytes
    body = await file.read(limit + 1)
    if len(body) > limit:
        raise HTTPException(413, f"the file is larger than {ctx.max_upload_mb:g} MB")
    if not body:
        raise HTTPException(400, "the file is empty")
    digest = hashlib.sha256(body).hexdigest()[:16]
    staging = ctx.uploads / f".{digest}.part"
    staging.write_bytes(body)
    del body
    name = file.filename or "upload"
    try:
        # Decoding a big image takes seconds: off the event loop, one at a time.
        async with ctx.decoding:
            ext, width, height = await run_in_threadpool(check_upload, staging, ctx.max_megapixels)
        target = ctx.uploads / f"{digest}.{ext}"
        os.replace(staging, target)
    except AtelierError as error:
        # The message names our staging file; the user knows their file by its name.
        raise HTTPException(400, f"{name}: {str(error).split(': ', 1)[-1]}") from None
    finally:
        staging.unlink(missing_ok=True)
    return {"id": target.name, "width": width, "height": height, "url": f"/api/uploads/{target.name}"}


@router.get("/api/uploads/{upload_id}", summary="An uploaded image")
def get_upload(upload_id: str, ctx: Studio = Depends(studio)) -> FileResponse:
    return FileResponse(ctx.upload_path(upload_id))
