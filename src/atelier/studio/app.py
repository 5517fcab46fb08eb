"""The web studio: a FastAPI app over the same library calls as the command line.

Endpoints (documented at ``/openapi.json`` and ``/docs``) live in :mod:`atelier.studio.routes`:
uploads, styles, and stylisation jobs with live progress. Every request passes
:mod:`atelier.studio.security` first (host names, origin, token, body size).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from atelier import __version__
from atelier.studio.context import Studio, default_data_dir
from atelier.studio.jobs import JobManager
from atelier.studio.routes import compose, jobs, restore, styles, uploads, video, write
from atelier.studio.security import (
    Guard,
    GuardMiddleware,
    allowed_hosts_for,
    is_loopback,
)

STATIC = Path(__file__).parent / "static"


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
    (data / "uploads").mkdir(exist_ok=True, mode=0o700)
    (data / "videos").mkdir(exist_ok=True, mode=0o700)
    manager = JobManager(data / "results", max_running=max_running, max_queued=max_queued)
    guard = Guard(
        allowed_hosts_for(host, allow_hosts), max_upload_bytes=int(max_upload_mb * 1024 * 1024), page_needs_token=not is_loopback(host)
    )
    if token:
        guard.token = token

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        manager.shutdown()  # running jobs are cancelled between two steps

    app = FastAPI(
        title="Atelier studio", version=__version__, description="Make art with neural style transfer, locally.", lifespan=lifespan
    )
    app.state.studio = Studio(data, manager, guard, max_upload_mb, max_megapixels)
    app.state.manager, app.state.guard = manager, guard
    app.add_middleware(GuardMiddleware, guard=guard)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        # One readable line; the offending values are left out (a NaN is not even valid JSON).
        return JSONResponse(status_code=422, content={"detail": validation_message(error.errors())})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> str:
        return (STATIC / "index.html").read_text(encoding="utf-8")

    for module in (uploads, styles, jobs, video, restore, write, compose):
        app.include_router(module.router)
    return app


def validation_message(errors: list[dict]) -> str:
    """``[{"loc": ("body", "strength"), "msg": ...}]`` -> ``"strength: Input should be ..."``."""
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"
