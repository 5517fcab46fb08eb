"""What other web pages, oversized requests and floods of jobs cannot do to the studio."""

from __future__ import annotations

import asyncio
import json
import stat
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from atelier.studio import create_app

BASE = "http://127.0.0.1:8765"


@pytest.fixture
def app(tmp_path: Path):
    return create_app(tmp_path / "studio")


@pytest.fixture
def client(app):
    with TestClient(app, base_url=BASE) as test_client:
        assert test_client.get("/").status_code == 200  # the page hands out the token cookie
        yield test_client


def _upload(client: TestClient, path: Path, **kwargs):
    return client.post("/api/uploads", files={"file": (path.name, path.read_bytes(), "application/octet-stream")}, **kwargs)


def test_a_foreign_host_name_is_refused(app) -> None:
    """DNS rebinding: a foreign name pointed at 127.0.0.1 must get nothing."""
    with TestClient(app, base_url="http://evil.example.com:8765") as foreign:
        for path in ("/", "/api/history", "/api/styles"):
            response = foreign.get(path)
            assert response.status_code == 400, path
            assert "host name" in response.json()["detail"]
        assert foreign.get("/api/history", headers={"X-Atelier-Token": app.state.guard.token}).status_code == 400


def test_the_api_needs_the_token(app) -> None:
    with TestClient(app, base_url=BASE) as fresh:  # has not opened the page: no cookie
        assert fresh.get("/api/history").status_code == 401
        assert fresh.get("/api/history", headers={"X-Atelier-Token": "wrong"}).status_code == 401
        assert fresh.get("/api/history", headers={"X-Atelier-Token": app.state.guard.token}).status_code == 200
        assert fresh.get(f"/api/history?token={app.state.guard.token}").status_code == 200
        assert fresh.get("/").status_code == 200
        assert "atelier_token" in fresh.cookies and fresh.get("/api/history").status_code == 200
        cookie = fresh.get("/").headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_state_changes_from_another_origin_are_refused(client: TestClient, photo: Path, tmp_path: Path) -> None:
    foreign = {"Origin": "http://evil.example.com"}
    upload = _upload(client, photo, headers=foreign)
    assert upload.status_code == 403
    assert not list((tmp_path / "studio" / "uploads").iterdir())
    # A body-less cancel (what a plain HTML form or fetch(no-cors) can send) is refused too.
    assert client.post("/api/jobs/0123456789ab/cancel", headers=foreign).status_code == 403
    assert client.post("/api/jobs/0123456789ab/cancel", headers={"Origin": "http://127.0.0.1:9999"}).status_code == 403
    assert client.post("/api/jobs/0123456789ab/cancel", headers={"Origin": "null"}).status_code == 403
    assert client.post("/api/jobs/0123456789ab/cancel", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # The studio's own page is fine (same origin), and so are scripts that send no Origin.
    assert _upload(client, photo, headers={"Origin": BASE}).status_code == 200
    assert client.post("/api/jobs/0123456789ab/cancel").status_code == 404


def test_on_the_network_the_page_itself_needs_the_token(tmp_path: Path) -> None:
    app = create_app(tmp_path / "lan", host="0.0.0.0", allow_hosts=("studio.lan",))
    token = app.state.guard.token
    with TestClient(app, base_url="http://studio.lan:8765") as lan:
        assert lan.get("/").status_code == 401
        assert lan.get(f"/?token={token}").status_code == 200
        assert lan.get("/api/history").status_code == 200  # the cookie from the page
    with TestClient(app, base_url="http://other.lan:8765") as other:
        assert other.get(f"/?token={token}").status_code == 400


def _asgi_post(app, path: str, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[int, int]:
    """POST through the raw ASGI interface; returns (status, bytes the app pulled from the client)."""
    pulled = 0
    status = 0
    pending = list(chunks)

    async def receive() -> dict:
        nonlocal pulled
        if not pending:
            return {"type": "http.disconnect"}
        chunk = pending.pop(0)
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8765"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8765),
    }
    asyncio.run(app(scope, receive, send))
    return status, pulled


def test_an_oversized_upload_is_refused_before_it_is_read(tmp_path: Path) -> None:
    app = create_app(tmp_path / "cap", max_upload_mb=1)
    token = app.state.guard.token.encode()
    boundary = b"XyZ"
    head = b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
    megabyte = b"\0" * (1024 * 1024)
    headers = [(b"x-atelier-token", token), (b"content-type", b"multipart/form-data; boundary=" + boundary)]
    # Declared too large: refused from the header, not one byte read.
    status, pulled = _asgi_post(app, "/api/uploads", [*headers, (b"content-length", str(50 * 2**20).encode())], [head, *[megabyte] * 50])
    assert status == 413 and pulled == 0
    # Streamed without a length (chunked): reading stops just past the cap.
    status, pulled = _asgi_post(app, "/api/uploads", headers, [head, *[megabyte] * 50])
    assert status == 413 and pulled <= 3 * 2**20
    assert not [p for p in (tmp_path / "cap" / "uploads").iterdir()]
    # Settings bodies have their own, small cap.
    status, _ = _asgi_post(
        app, "/api/stylize", [(b"x-atelier-token", token), (b"content-type", b"application/json")], [b"{" + b" " * 2**20 + b"}"]
    )
    assert status == 413


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A tiny file whose header claims ``width`` x ``height``: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))
    return path


def test_a_bomb_is_reported_as_a_bomb_and_decoding_leaves_the_event_loop(
    client: TestClient, tmp_path: Path, photo: Path, monkeypatch
) -> None:
    bomb = _png_header_only(tmp_path / "bomb.png", 30000, 30000)
    response = _upload(client, bomb)
    assert response.status_code == 400
    assert "megapixels" in response.json()["detail"] and "bomb" in response.json()["detail"]

    import atelier.studio.routes.uploads as studio_app

    threads = []
    original = studio_app.check_upload

    def recording(*args):
        threads.append(threading.current_thread())
        return original(*args)

    monkeypatch.setattr(studio_app, "check_upload", recording)
    assert _upload(client, photo).status_code == 200
    assert threads and threads[0] is not threading.main_thread()
    assert "worker" in threads[0].name.lower()  # anyio's thread pool, not the event loop


def test_the_queue_is_bounded_with_a_clear_429(tmp_path: Path, photo: Path, painting: Path) -> None:
    app = create_app(tmp_path / "q", max_running=1, max_queued=2)
    with TestClient(app, base_url=BASE) as client:
        client.get("/")
        content = _upload(client, photo).json()["id"]
        style = _upload(client, painting).json()["id"]
        body = {"content": content, "styles": [{"id": style}], "size": 64, "steps": 2000}
        answers = [client.post("/api/stylize", json=body) for _ in range(6)]
        codes = [a.status_code for a in answers]
        assert codes.count(202) <= 3 and 429 in codes, codes  # one running, two waiting
        refused = answers[codes.index(429)].json()["detail"]
        assert "busy" in refused and "waiting" in refused
        for answer in answers:
            if answer.status_code == 202:
                client.post(f"/api/jobs/{answer.json()['id']}/cancel")


def test_finished_jobs_drop_their_previews_and_old_jobs_are_forgotten(tmp_path: Path, photo: Path, painting: Path) -> None:
    from atelier.studio.jobs import JobManager

    manager = JobManager(tmp_path / "results", keep_finished=3)

    def work(job, report) -> None:
        for step in range(20):
            report({"step": step, "total": 20, "losses": {}, "preview": "data:image/jpeg;base64," + "A" * 10000})
        (manager.results_dir / f"{job.id}.png").write_bytes(b"a result")

    jobs = [manager.submit({}, work) for _ in range(5)]
    deadline = time.time() + 30
    while not all(j.finished for j in jobs) and time.time() < deadline:
        time.sleep(0.02)
    assert all(j.status == "done" for j in jobs)
    assert sum("preview" in e for e in jobs[-1].events) == 1  # only the last picture is kept
    assert list(manager.jobs) == [j.id for j in jobs[-3:]]
    assert len(manager.history()) == 5  # every result is still in the gallery, on disk
    manager.shutdown()


def test_nan_infinity_and_huge_numbers_are_refused(client: TestClient, photo: Path) -> None:
    content = _upload(client, photo).json()["id"]
    base = {"content": content, "styles": [{"id": content}], "size": 64, "steps": 2}
    for field, value in (("strength", "NaN"), ("strength", "Infinity"), ("style_scale", "-Infinity")):
        raw = json.dumps(base)[:-1] + f', "{field}": {value}}}'
        response = client.post("/api/stylize", content=raw, headers={"Content-Type": "application/json"})
        assert response.status_code == 422, (field, value, response.text)
    for bad in ({"seed": 2**70}, {"seed": -1}, {"steps": 10**9}, {"size": 10**9}):
        assert client.post("/api/stylize", json={**base, **bad}).status_code == 422, bad
    weight_nan = json.dumps(base).replace('"styles": [{"id": "' + content + '"}]', '"styles": [{"id": "' + content + '", "weight": NaN}]')
    assert client.post("/api/stylize", content=weight_nan, headers={"Content-Type": "application/json"}).status_code == 422


def test_the_data_folder_is_private(tmp_path: Path) -> None:
    create_app(tmp_path / "private")
    for folder in (tmp_path / "private", tmp_path / "private" / "uploads", tmp_path / "private" / "results"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_an_event_stream_ends_when_the_client_goes(tmp_path: Path, photo: Path, painting: Path) -> None:
    app = create_app(tmp_path / "sse")
    with TestClient(app, base_url=BASE) as client:
        client.get("/")
        content = _upload(client, photo).json()["id"]
        style = _upload(client, painting).json()["id"]
        job = client.post("/api/stylize", json={"content": content, "styles": [{"id": style}], "size": 64, "steps": 2000}).json()["id"]
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": f"/api/jobs/{job}/events",
            "raw_path": f"/api/jobs/{job}/events".encode(),
            "query_string": f"token={app.state.guard.token}".encode(),
            "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8765")],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8765),
        }
        calls = 0

        async def receive() -> dict:
            nonlocal calls
            calls += 1
            if calls == 1:
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.sleep(0.3)
            return {"type": "http.disconnect"}  # the tab was closed

        async def send(message: dict) -> None:
            pass

        started = time.time()
        asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=20))
        assert time.time() - started < 20  # returned although the job is still running
        client.post(f"/api/jobs/{job}/cancel")
