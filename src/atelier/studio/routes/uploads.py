"""``POST /api/uploads`` and ``GET /api/uploads/{id}``: checked images stored under content hashes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

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


async def store_upload(file: UploadFile, ctx: Studio, folder: Path, check: Callable[[Path, str], tuple[str, dict]]) -> tuple[Path, dict]:
    """Receive an upload (capped at the studio's limit), stage it, run ``check(staged, name)``
    off the event loop and one at a time (decoding is what costs memory and time), and keep it
    as ``folder/<content hash>.<ext>``. ``check`` returns the extension and what to tell the
    page; its one-line error becomes a 400 that names the user's file, never our staging file."""
    # The body was capped while it streamed in (security.GuardMiddleware); this is the file's own size.
    limit = ctx.guard.max_upload_bytes
    body = await file.read(limit + 1)
    if len(body) > limit:
        raise HTTPException(413, f"the file is larger than {ctx.max_upload_mb:g} MB")
    if not body:
        raise HTTPException(400, "the file is empty")
    digest = hashlib.sha256(body).hexdigest()[:16]
    staging = folder / f".{digest}.part"
    staging.write_bytes(body)
    del body
    name = file.filename or "upload"
    try:
        async with ctx.decoding:
            ext, info = await run_in_threadpool(check, staging, name)
        target = folder / f"{digest}.{ext}"
        os.replace(staging, target)
    except AtelierError as error:
        raise HTTPException(400, f"{name}: {str(error).split(': ', 1)[-1]}") from None
    finally:
        staging.unlink(missing_ok=True)
    return target, info


@router.post("/api/uploads", summary="Upload an image (photo, painting or mask)")
async def upload(file: UploadFile = File(...), ctx: Studio = Depends(studio)) -> dict:
    def check(path: Path, _name: str) -> tuple[str, dict]:
        ext, width, height = check_upload(path, ctx.max_megapixels)
        return ext, {"width": width, "height": height}

    target, info = await store_upload(file, ctx, ctx.uploads, check)
    return {"id": target.name, **info, "url": f"/api/uploads/{target.name}"}


@router.get("/api/uploads/{upload_id}", summary="An uploaded image")
def get_upload(upload_id: str, ctx: Studio = Depends(studio)) -> FileResponse:
    return FileResponse(ctx.upload_path(upload_id))
