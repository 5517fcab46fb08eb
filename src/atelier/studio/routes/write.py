"""``POST /api/write``: continue a prompt with a built-in text model, streaming the text.

Only built-in models (``GET /api/text-models``) can be named: a web request never picks a
file on disk. One text is written at a time (it uses both cores); another request gets 429.
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from atelier import checks
from atelier.errors import InputError

router = APIRouter()
_writing = threading.Semaphore(1)
MAX_LENGTH = 5000


class WriteRequest(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, protected_namespaces=())

    model: str = Field("shakespeare", description="A built-in text model's name (GET /api/text-models).")
    prompt: str = Field("", max_length=4000, description="Text to continue (empty: start a new piece).")
    length: int = Field(400, ge=1, le=MAX_LENGTH, description="Tokens to write (characters for character models).")
    temperature: float = Field(0.8, gt=0, le=5)
    top_k: int | None = Field(None, ge=1)
    top_p: float | None = Field(None, gt=0, le=1)
    seed: int = Field(0, ge=0, le=checks.MAX_SEED)


def _builtins() -> list[dict]:
    from atelier.write.sample import builtin_models

    return builtin_models()


@router.get("/api/text-models", summary="The built-in text models")
def text_models() -> list[dict]:
    return [{k: v for k, v in m.items() if k not in ("path", "file")} for m in _builtins()]


@router.post("/api/write", summary="Write with a built-in text model (streamed as plain text)")
def write(body: WriteRequest) -> StreamingResponse:
    from atelier.write.sample import write as generate

    if body.model not in {m["name"] for m in _builtins()}:
        raise HTTPException(404, f"no built-in text model {body.model!r}")
    if not _writing.acquire(blocking=False):
        raise HTTPException(429, "already writing a text: wait for it to finish or stop it")
    try:
        pieces = generate(
            body.model,
            body.prompt or None,
            length=body.length,
            temperature=body.temperature,
            top_k=body.top_k,
            top_p=body.top_p,
            seed=body.seed,
        )
        first = next(pieces, "")  # a bad prompt fails here, before the response starts
    except InputError as error:
        _writing.release()
        raise HTTPException(400, str(error)) from None
    except BaseException:
        _writing.release()
        raise

    def stream():
        try:
            yield first
            yield from pieces
        finally:
            pieces.close()
            _writing.release()

    return StreamingResponse(
        stream(), media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    )
