"""What keeps other web pages and oversized requests away from the studio (see docs/security.md).

Three checks run before any route, as one plain ASGI middleware:

1. **Host allow-list.** A request whose ``Host`` header is not one of the studio's own names
   is refused (400). This defeats DNS rebinding, where a foreign site points its own name
   at 127.0.0.1 and then reads the studio's answers as same-origin.
2. **Origin check.** A state-changing request (anything but GET/HEAD/OPTIONS) sent by a
   browser from another origin is refused (403): browsers always say where a cross-origin
   request comes from (``Origin``, or ``Sec-Fetch-Site``).
3. **Per-launch token.** Every ``/api`` request must carry the token made at start-up: the
   ``atelier_token`` cookie (set, SameSite=Strict, when the page is loaded), an
   ``X-Atelier-Token`` header or a ``token`` query parameter (401 otherwise). On loopback
   the page hands the cookie out; on any other address the page itself needs the token,
   which ``atelier studio`` prints as part of the URL.

Request bodies are capped while they stream in (413), so an oversized upload never reaches
the disk: by its ``Content-Length`` before a byte is read, and by counting otherwise.
"""

from __future__ import annotations

import json
import secrets
import socket
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Awaitable, Callable
from urllib.parse import parse_qs

TOKEN_COOKIE = "atelier_token"
TOKEN_HEADER = "x-atelier-token"
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


def is_loopback(host: str) -> bool:
    return host.strip("[]").lower() in LOOPBACK_NAMES or host.startswith("127.")


def allowed_hosts_for(bind_host: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The names a browser may use to reach a studio listening on ``bind_host``.

    Loopback names always; the bound address itself; for a wildcard bind (0.0.0.0), this
    machine's name and addresses; and any ``extra`` names (``--allow-host``).
    """
    names = set(LOOPBACK_NAMES) | {h.strip("[]").lower() for h in extra}
    if bind_host in WILDCARD_HOSTS:
        hostname = socket.gethostname()
        names |= {hostname.lower(), socket.getfqdn().lower()}
        try:
            names |= {info[4][0] for info in socket.getaddrinfo(hostname, None)}
        except OSError:
            pass
    else:
        names.add(bind_host.strip("[]").lower())
    return frozenset(names)


def _host_name(host_header: str) -> str:
    """``example.com:8765`` -> ``example.com``; ``[::1]:8765`` -> ``::1``."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")].lower() if "]" in host_header else ""
    return host_header.rsplit(":", 1)[0].lower() if host_header.count(":") == 1 else host_header.lower()


@dataclass
class Guard:
    """The studio's security settings: allowed host names, the token, body size caps."""

    allowed_hosts: frozenset[str]
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    max_upload_bytes: int = 25 * 1024 * 1024
    max_body_bytes: int = 256 * 1024
    """Cap for every request body that is not an upload (JSON settings are tiny)."""
    upload_path: str = "/api/uploads"
    page_needs_token: bool = False
    """True when the studio listens on a non-loopback address: the page needs ``?token=``."""

    def token_ok(self, candidate: str | None) -> bool:
        return bool(candidate) and secrets.compare_digest(str(candidate), self.token)


async def _reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Applies a :class:`Guard` to every HTTP request (see the module's docstring)."""

    def __init__(self, app, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        guard = self.guard
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        method, path = scope["method"], scope["path"]

        host = _host_name(headers.get("host", ""))
        if host not in guard.allowed_hosts:
            return await _reply(send, 400, "this studio does not answer to that host name (see docs/security.md, --allow-host)")

        if method not in SAFE_METHODS:
            origin = headers.get("origin")
            own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}".lower()
            if origin is not None and origin.lower() != own:
                return await _reply(send, 403, "requests from other web pages are refused")
            if origin is None and headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                return await _reply(send, 403, "requests from other web pages are refused")

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is simply no cookie
            cookie = SimpleCookie()
        presented = headers.get(TOKEN_HEADER) or (query.get("token") or [None])[0]
        if presented is None and TOKEN_COOKIE in cookie:
            presented = cookie[TOKEN_COOKIE].value
        set_cookie = False
        if path.startswith("/api/") or path in ("/docs", "/openapi.json", "/redoc"):
            if not guard.token_ok(presented):
                return await _reply(
                    send, 401, "missing or wrong studio token: open the studio's page first, or send the token printed by `atelier studio`"
                )
        elif path == "/":
            if guard.page_needs_token and not guard.token_ok(presented):
                return await _reply(send, 401, "open the studio with the URL `atelier studio` printed (it carries the token)")
            set_cookie = True

        limit = guard.max_upload_bytes + 64 * 1024 if path == guard.upload_path else guard.max_body_bytes
        declared = headers.get("content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                return await _reply(send, 400, "bad Content-Length")
            if too_big:
                return await _reply(send, 413, _too_large(guard, path))

        received = 0
        too_large = False

        async def limited_receive() -> dict:
            nonlocal received, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Stop reading: the app sees a client that went away and gives up (the
                    # framework may wrap that as its own error, which tracking_send replaces).
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: dict) -> None:
            if too_large:
                if message["type"] == "http.response.start":
                    await _reply(send, 413, _too_large(guard, path))
                return  # the app's own answer to a cut-off body is replaced by the 413
            if message["type"] == "http.response.start" and set_cookie:
                cookie_value = f"{TOKEN_COOKIE}={guard.token}; Path=/; HttpOnly; SameSite=Strict"
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie_value.encode())]}
            await send(message)

        await self.app(scope, limited_receive, tracking_send)


def _too_large(guard: Guard, path: str) -> str:
    if path == guard.upload_path:
        return f"the file is larger than {guard.max_upload_bytes / 1024 / 1024:g} MB"
    return "the request body is too large"
