"""``atelier studio``: the local web studio."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from atelier.cli.common import app, err, handles_errors


@app.command()
@handles_errors
def studio(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default: only this computer)."),
    port: int = typer.Option(8765, "--port", min=1, max=65535, help="Port to listen on."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Do not open a browser tab (servers, tests)."),
    data_dir: Optional[Path] = typer.Option(
        None, "--data-dir", help="Where uploads and the gallery live (default ~/.local/share/atelier/studio)."
    ),
    max_jobs: int = typer.Option(1, "--max-jobs", min=1, max=16, help="Stylisations running at once; others wait in a queue."),
    max_queued: int = typer.Option(
        8, "--max-queued", min=1, max=1000, help="Jobs that may wait at once; more are refused (HTTP 429) until one finishes."
    ),
    allow_host: List[str] = typer.Option(
        [], "--allow-host", help="Another host name the studio answers to (e.g. a name on your network); repeat for several."
    ),
) -> None:
    """Start the local web studio: upload a photo and paintings, watch the picture evolve.

    Example:  atelier studio            (opens http://127.0.0.1:8765 in your browser)

    On 127.0.0.1 (the default) only this computer can reach it. With --host 0.0.0.0 other
    machines can too: the URL printed then carries the studio's token, which the page
    needs; share it only with people you trust (see docs/security.md).

    The HTTP API is documented at /docs and /openapi.json.
    """
    import threading
    import webbrowser

    import uvicorn

    from atelier.studio import create_app
    from atelier.studio.security import is_loopback

    application = create_app(data_dir, max_running=max_jobs, max_queued=max_queued, host=host, allow_hosts=tuple(allow_host))
    guard = application.state.guard
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    if not is_loopback(host):
        url += f"?token={guard.token}"
    err.print(f"Atelier studio on [bold]{url}[/]  (Ctrl-C to stop)")
    if is_loopback(host):
        err.print(f"API token for scripts (header X-Atelier-Token): {guard.token}", highlight=False)
    if not no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        uvicorn.run(application, host=host, port=port, log_level="warning")
    except OSError as error:
        from atelier.errors import InputError

        raise InputError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
