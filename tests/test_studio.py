"""The web studio's HTTP API through FastAPI's test client."""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from atelier.recipe import read_recipe
from atelier.studio import create_app

BASE = "http://127.0.0.1:8765"


@contextlib.contextmanager
def studio(app):
    """A test client that opens the page first, as a browser would (which hands it the token)."""
    with TestClient(app, base_url=BASE) as test_client:
        assert test_client.get("/").status_code == 200
        yield test_client


@pytest.fixture
def client(tmp_path: Path):
    with studio(create_app(tmp_path / "studio")) as test_client:
        yield test_client


def _upload(client: TestClient, path: Path, name: str | None = None):
    return client.post("/api/uploads", files={"file": (name or path.name, path.read_bytes(), "application/octet-stream")})


def _events(client: TestClient, job_id: str) -> list[dict]:
    with client.stream("GET", f"/api/jobs/{job_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        return [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]


def test_page_and_openapi(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "Atelier" in page.text and 'id="stylize"' in page.text
    spec = client.get("/openapi.json").json()
    assert "/api/stylize" in spec["paths"] and "post" in spec["paths"]["/api/stylize"]
    assert "/api/uploads" in spec["paths"]


def test_upload_checks(tmp_path: Path, client: TestClient, photo: Path) -> None:
    ok = _upload(client, photo)
    assert ok.status_code == 200 and ok.json()["id"].endswith(".jpg") and ok.json()["width"] == 96
    text = tmp_path / "notes.png"
    text.write_text("hello")
    bad = _upload(client, text)
    assert bad.status_code == 400 and "not an image" in bad.json()["detail"]
    empty = client.post("/api/uploads", files={"file": ("e.png", b"", "image/png")})
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    cut = tmp_path / "cut.png"
    buffer = io.BytesIO()
    Image.effect_noise((64, 64), 50).convert("RGB").save(buffer, "PNG")
    cut.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    truncated = _upload(client, cut)
    assert truncated.status_code == 400 and "cut.png" in truncated.json()["detail"]
    assert "Traceback" not in truncated.text


def test_size_and_megapixel_limits(tmp_path: Path, photo: Path) -> None:
    with studio(create_app(tmp_path / "s", max_upload_mb=0.001)) as small:
        assert _upload(small, photo).status_code == 413
    with studio(create_app(tmp_path / "m", max_megapixels=0.001)) as strict:
        response = _upload(strict, photo)
        assert response.status_code == 400 and "megapixels" in response.json()["detail"]


def test_user_file_names_never_touch_disk(tmp_path: Path, client: TestClient, photo: Path) -> None:
    response = _upload(client, photo, name="../../../evil.png")
    assert response.status_code == 200
    assert not (tmp_path / "evil.png").exists() and not (tmp_path.parent / "evil.png").exists()
    stored = list((tmp_path / "studio" / "uploads").iterdir())
    assert [p.name for p in stored] == [response.json()["id"]]
    assert client.get("/api/uploads/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_stylize_streams_progress_and_keeps_history(tmp_path: Path, client: TestClient, photo: Path, painting: Path) -> None:
    content = _upload(client, photo).json()["id"]
    style = _upload(client, painting).json()["id"]
    started = client.post(
        "/api/stylize",
        json={"content": content, "styles": [{"id": style, "weight": 1}], "engine": "optimize", "size": 64, "steps": 10, "seed": 3},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    events = _events(client, job_id)
    progress = [e for e in events if e["type"] == "progress"]
    assert [e["step"] for e in progress] == list(range(1, 11)) + [10]
    assert any(e.get("preview", "").startswith("data:image/jpeg;base64,") for e in progress)
    assert events[-1] == {"type": "status", "status": "done", "error": None}
    result = client.get(f"/api/results/{job_id}.png")
    assert result.status_code == 200 and result.headers["content-type"] == "image/png"
    saved = tmp_path / "r.png"
    saved.write_bytes(result.content)
    assert read_recipe(saved).params["settings"]["seed"] == 3
    assert client.get("/api/history").json()[0]["id"] == job_id
    # the gallery survives a restart: a new app on the same folder still lists the result
    with studio(create_app(tmp_path / "studio")) as restarted:
        history = restarted.get("/api/history").json()
        assert [item["id"] for item in history] == [job_id]
        assert history[0]["params"]["content"] == content  # what "use these settings again" needs
        assert restarted.get(f"/api/results/{job_id}.png").status_code == 200


def test_bad_requests_get_messages(client: TestClient, photo: Path) -> None:
    content = _upload(client, photo).json()["id"]
    missing = client.post("/api/stylize", json={"content": content, "styles": [{"id": "0123456789abcdef.png"}]})
    assert missing.status_code == 404 and "upload the image again" in missing.json()["detail"]
    too_big = client.post("/api/stylize", json={"content": content, "styles": [{"id": content}], "size": 99999})
    assert too_big.status_code == 422
    zero = client.post("/api/stylize", json={"content": content, "styles": [{"id": content, "weight": 0}]})
    assert zero.status_code == 400
    assert client.get("/api/jobs/nothere").status_code == 404
    assert client.get("/api/results/../../x.png").status_code == 404


def test_queue_is_bounded_and_jobs_cancel(tmp_path: Path, photo: Path, painting: Path) -> None:
    with studio(create_app(tmp_path / "q", max_running=1)) as client:
        content = _upload(client, photo).json()["id"]
        style = _upload(client, painting).json()["id"]
        body = {"content": content, "styles": [{"id": style}], "engine": "optimize", "size": 64, "steps": 400}
        first = client.post("/api/stylize", json=body).json()["id"]
        second = client.post("/api/stylize", json=body).json()["id"]
        deadline = time.time() + 60
        while client.get(f"/api/jobs/{first}").json()["status"] != "running" and time.time() < deadline:
            time.sleep(0.05)
        assert client.get(f"/api/jobs/{second}").json()["status"] == "queued"  # only one runs at once
        assert client.post(f"/api/jobs/{second}/cancel").json()["cancelling"] is True
        client.post(f"/api/jobs/{first}/cancel")
        assert _events(client, first)[-1]["status"] == "cancelled"
        assert _events(client, second)[-1]["status"] == "cancelled"
        assert not (tmp_path / "q" / "results" / f"{first}.png").exists()
        assert client.get("/api/history").json() == []


def test_builtin_fast_styles_from_the_studio(client: TestClient, photo: Path, painting: Path) -> None:
    styles = client.get("/api/styles").json()
    names = [s["name"] for s in styles]
    assert "starry-night" in names and len(names) >= 4
    preview = client.get(styles[0]["preview_url"])
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert client.get("/api/styles/nope/preview.jpg").status_code == 404

    content = _upload(client, photo).json()["id"]
    started = client.post(
        "/api/stylize",
        json={
            "content": content,
            "styles": [{"builtin": "starry-night", "weight": 1}, {"builtin": "the-scream", "weight": 1}],
            "size": 80,
            "strength": 0.9,
        },
    )
    assert started.status_code == 202, started.text
    events = _events(client, started.json()["id"])
    assert events[-1] == {"type": "status", "status": "done", "error": None}
    result = client.get(f"/api/results/{started.json()['id']}.png")
    image = Image.open(io.BytesIO(result.content))
    assert image.size == (80, 53)
    history = client.get("/api/history").json()
    assert history[0]["params"]["styles"][0]["builtin"] == "starry-night"

    painting_id = _upload(client, painting).json()["id"]
    mixed = client.post(
        "/api/stylize",
        json={
            "content": content,
            "styles": [{"builtin": "starry-night"}, {"id": painting_id}],
            "size": 64,
            "palette_match": 1,
            "match_passes": 2,
            "strokes": 2,
        },
    )
    assert mixed.status_code == 202, mixed.text  # built-ins are stored paintings: they blend with uploaded ones
    assert _events(client, mixed.json()["id"])[-1]["status"] == "done"
    history = client.get("/api/history").json()
    assert history[0]["params"]["palette_match"] == 1 and history[0]["params"]["match_passes"] == 2
    assert history[0]["params"]["strokes"] == 2
    too_many = client.post("/api/stylize", json={"content": content, "styles": [{"id": painting_id}], "match_passes": 99})
    assert too_many.status_code == 422 and "match_passes" in too_many.text
    too_bold = client.post("/api/stylize", json={"content": content, "styles": [{"id": painting_id}], "strokes": 9})
    assert too_bold.status_code == 422 and "strokes" in too_bold.text
    slow = client.post(
        "/api/stylize", json={"content": content, "styles": [{"builtin": "starry-night"}, {"id": painting_id}], "engine": "optimize"}
    )
    assert slow.status_code == 400 and "cannot be mixed" in slow.json()["detail"]
    too_strong = client.post("/api/stylize", json={"content": content, "styles": [{"builtin": "the-scream"}], "strength": 5})
    assert too_strong.status_code == 422 and "strength" in too_strong.json()["detail"]
    neither = client.post("/api/stylize", json={"content": content, "styles": [{"weight": 1}]})
    assert neither.status_code == 422
    unknown = client.post("/api/stylize", json={"content": content, "styles": [{"builtin": "nope"}]})
    assert unknown.status_code == 400 and "no built-in style" in unknown.json()["detail"]


def test_write_streams_text_from_a_builtin_model(client: TestClient) -> None:
    models = client.get("/api/text-models").json()
    assert "shakespeare" in [m["name"] for m in models] and all("path" not in m for m in models)
    body = {"model": "shakespeare", "prompt": "ROMEO:", "length": 60, "seed": 1}
    with client.stream("POST", "/api/write", json=body) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        text = "".join(response.iter_text())
    assert len(text) == 60 and text == client.post("/api/write", json=body).text
    assert client.post("/api/write", json={**body, "seed": 2}).text != text
    assert client.post("/api/write", json={**body, "model": "../../etc/passwd"}).status_code == 404
    assert client.post("/api/write", json={**body, "temperature": 0}).status_code == 422
    unknown = client.post("/api/write", json={**body, "prompt": "☃ snow"})
    assert unknown.status_code == 400 and "never saw" in unknown.json()["detail"]
    # The one writing slot is free again after every request above, failed ones included.
    assert client.post("/api/write", json=body).status_code == 200


def test_compose_makes_a_piece_from_a_builtin_model(client: TestClient) -> None:
    models = client.get("/api/music-models").json()
    assert "jsb-chorales" in [m["name"] for m in models] and all("path" not in m for m in models)
    piece = client.post("/api/compose", json={"bars": 2, "seed": 1, "tempo": 120})
    assert piece.status_code == 200, piece.text
    data = piece.json()
    midi, wav, roll = (client.get(data[k]) for k in ("midi_url", "wav_url", "roll_url"))
    assert midi.status_code == wav.status_code == roll.status_code == 200
    assert midi.content[:4] == b"MThd" and wav.content[:4] == b"RIFF" and roll.content[:4] == b"\x89PNG"
    assert data["steps"] == 8 and 1 <= data["notes_per_step"] <= 6
    assert client.post("/api/compose", json={"model": "../x"}).status_code == 404
    assert client.post("/api/compose", json={"instrument": "kazoo"}).status_code == 400
    assert client.post("/api/compose", json={"bars": 0}).status_code == 422
    assert client.get("/api/music/..%2Fsecret.wav").status_code == 404
    assert client.get("/api/music/abcdefabcdef.exe").status_code == 404


def test_video_upload_stylize_and_play(tmp_path: Path, client: TestClient, painting: Path) -> None:
    pytest.importorskip("av")
    from atelier.video.io import probe, synthetic_clip

    clip = synthetic_clip(tmp_path / "clip.mp4", frames=12)
    uploaded = client.post("/api/video-uploads", files={"file": ("../holiday.mp4", clip.read_bytes(), "video/mp4")})
    assert uploaded.status_code == 200, uploaded.text
    info = uploaded.json()
    assert info["frames"] == 12 and info["audio"] == "aac" and "holiday" not in info["id"]
    notes = client.post("/api/video-uploads", files={"file": ("notes.mp4", b"not a video at all", "video/mp4")})
    assert notes.status_code == 400 and "not a video" in notes.json()["detail"]
    painting_id = _upload(client, painting).json()["id"]
    bad = client.post("/api/video-stylize", json={"video": info["id"], "styles": [{"builtin": "nope"}]})
    assert bad.status_code == 400
    started = client.post("/api/video-stylize", json={"video": info["id"], "styles": [{"id": painting_id}], "size": 64})
    assert started.status_code == 202, started.text
    events = _events(client, started.json()["id"])
    assert events[-1] == {"type": "status", "status": "done", "error": None}
    frames = [e for e in events if e["type"] == "progress"]
    assert frames[-1]["step"] == 12 and any("preview" in e for e in frames)
    result = client.get(f"/api/results/{started.json()['id']}.mp4")
    assert result.status_code == 200 and result.headers["content-type"] == "video/mp4"
    out = tmp_path / "result.mp4"
    out.write_bytes(result.content)
    assert probe(out).frames == 12 and probe(out).audio == "aac" and max(probe(out).width, probe(out).height) == 64
    assert any(item["result_url"].endswith(".mp4") for item in client.get("/api/history").json())
