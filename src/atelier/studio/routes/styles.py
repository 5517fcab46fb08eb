"""``GET /api/styles``: the built-in styles, each with a preview on a sample photo."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse

from atelier.studio.context import Studio, studio

router = APIRouter()
PREVIEW_PHOTO = "sample:chelsea"


@router.get("/api/styles", summary="The built-in fast styles")
def styles() -> list[dict]:
    from atelier.style.fast.pack import builtin_styles

    return [{**s.to_dict(), "preview_url": f"/api/styles/{s.name}/preview.jpg"} for s in builtin_styles()]


@router.get("/api/styles/{name}/preview.jpg", summary="A built-in style applied to a sample photo")
def style_preview(name: str, ctx: Studio = Depends(studio)) -> FileResponse:
    from atelier.style.api import stylize_file
    from atelier.style.fast.pack import resolve_style
    from atelier.style.settings import StyleSettings

    style = resolve_style(name)
    if style is None or style.name != name:
        raise HTTPException(404, f"no built-in style {name!r}")
    path = ctx.previews / f"{name}.jpg"
    if not path.is_file():  # made once, then served from disk
        ctx.previews.mkdir(parents=True, exist_ok=True)
        stylize_file(PREVIEW_PHOTO, [name], path, settings=StyleSettings(size=320))
    return FileResponse(path, media_type="image/jpeg")
