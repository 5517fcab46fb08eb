"""``POST /api/compose``: a new piece from a built-in music model, as MIDI, audio and a piano roll.

Only built-in models can be named (a request never picks a file on disk); one piece is
composed at a time (429 otherwise). Files go to ``music/<id>.{mid,wav,png}`` in the data folder.
"""

from __future__ import annotations

import re
import secrets
import threading

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from atelier import checks
from atelier.errors import InputError
from atelier.studio.context import Studio, studio

router = APIRouter()
_composing = threading.Semaphore(1)
PIECE_ID = re.compile(r"^[0-9a-f]{12}$")
MEDIA = {"mid": "audio/midi", "wav": "audio/wav", "png": "image/png"}


class ComposeRequest(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, protected_namespaces=())

    model: str = Field("jsb-chorales", description="A built-in music model's name (GET /api/music-models).")
    bars: int = Field(8, ge=1, le=64, description="Length in 4/4 bars.")
    temperature: float = Field(1.0, gt=0, le=3)
    tempo: float = Field(90, ge=20, le=300, description="Beats per minute.")
    instrument: str = Field("piano", max_length=20)
    seed: int = Field(0, ge=0, le=checks.MAX_SEED)


def piano_roll_png(roll, path) -> None:
    """A picture of the piece: time left to right, pitch upwards, the used range plus a margin."""
    import numpy as np
    from PIL import Image

    used = np.flatnonzero(roll.any(0))
    low, high = (int(used[0]) - 3, int(used[-1]) + 4) if len(used) else (30, 60)
    low, high = max(0, low), min(roll.shape[1], high)
    part = roll[:, low:high].T[::-1]
    image = np.full(part.shape + (3,), (33, 29, 23), dtype=np.uint8)
    image[(np.arange(low, high)[::-1] % 12 == 0)] = (48, 42, 33)  # a faint line at every C
    image[part.astype(bool)] = (224, 164, 88)
    Image.fromarray(image).resize((part.shape[1] * 12, part.shape[0] * 6), Image.NEAREST).save(path)


def _builtins() -> list[dict]:
    from atelier.compose.sample import builtin_models

    return builtin_models()


@router.get("/api/music-models", summary="The built-in music models")
def music_models() -> list[dict]:
    return [{k: v for k, v in m.items() if k not in ("path", "file", "settings")} for m in _builtins()]


@router.post("/api/compose", summary="Compose a piece with a built-in music model")
def compose_piece(body: ComposeRequest, ctx: Studio = Depends(studio)) -> dict:
    from atelier.compose.sample import compose, load_music_model, render_audio, write_midi

    if body.model not in {m["name"] for m in _builtins()}:
        raise HTTPException(404, f"no built-in music model {body.model!r}")
    if not _composing.acquire(blocking=False):
        raise HTTPException(429, "already composing a piece: wait for it to finish")
    try:
        net, info = load_music_model(body.model)
        per_quarter = int(info.get("steps_per_quarter", 1))
        roll = compose((net, info), body.bars * 4 * per_quarter, temperature=body.temperature, seed=body.seed)
        folder = ctx.data / "music"
        folder.mkdir(exist_ok=True, mode=0o700)
        piece = secrets.token_hex(6)
        write_midi(roll, folder / f"{piece}.mid", tempo=body.tempo, steps_per_quarter=per_quarter, instrument=body.instrument)
        renderer = render_audio(folder / f"{piece}.mid", folder / f"{piece}.wav", roll, tempo=body.tempo, steps_per_quarter=per_quarter)
        piano_roll_png(roll, folder / f"{piece}.png")
    except InputError as error:
        raise HTTPException(400, str(error)) from None
    finally:
        _composing.release()
    urls = {kind: f"/api/music/{piece}.{kind}" for kind in MEDIA}
    return {"id": piece, "midi_url": urls["mid"], "wav_url": urls["wav"], "roll_url": urls["png"], "renderer": renderer,
            "steps": int(len(roll)), "notes_per_step": float(roll.sum(1).mean())}  # fmt: skip


@router.get("/api/music/{name}", summary="A composed piece's MIDI, audio or piano roll")
def music_file(name: str, ctx: Studio = Depends(studio)) -> FileResponse:
    piece, _, kind = name.partition(".")
    path = ctx.data / "music" / name
    if not PIECE_ID.match(piece) or kind not in MEDIA or not path.is_file():
        raise HTTPException(404, "no such piece")
    return FileResponse(path, media_type=MEDIA[kind], filename=name if kind == "mid" else None)
