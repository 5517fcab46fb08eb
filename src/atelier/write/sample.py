"""Loading text models, writing with them (streamed, key/value cache, temperature, top-k, top-p)
and measuring them per character, so that character and BPE models compare."""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Iterator

import torch
import torch.nn.functional as F

from atelier import catalog
from atelier.checkpoints import load_checkpoint, model_file_errors
from atelier.errors import InputError
from atelier.write.data import read_corpus
from atelier.write.model import GPT, GPTConfig
from atelier.write.tokenizer import CharTokenizer, StreamDecoder, Tokenizer, tokenizer_from_dict
from atelier.write.train import MODEL_FORMAT

BUILTIN_DIR = Path(__file__).parent / "builtin"


def builtin_models() -> list[dict]:
    """The models that ship with Atelier (``builtin/models.json``): name, file, how each was trained, ``path``."""
    return catalog.builtin_models(BUILTIN_DIR)


def resolve_model(name_or_path: str | Path) -> Path:
    """A built-in model's name (``shakespeare``) or a model file from ``atelier text train``."""
    return catalog.resolve_model(name_or_path, BUILTIN_DIR, "built-in model")


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> tuple[GPT, Tokenizer, dict]:
    data = load_checkpoint(path, MODEL_FORMAT)
    with model_file_errors(path, "text model"):
        config = GPTConfig(**data["config"])
        model = GPT(config)
        weights = {k: v.float() if v.is_floating_point() else v for k, v in data["weights"].items()}
        weights["head.weight"] = weights["embed.weight"]
        model.load_state_dict(weights)
        tokenizer = tokenizer_from_dict(data["tokenizer"])
    return model.eval(), tokenizer, dict(data.get("info", {}))


def load_text_model(name_or_path: str | Path) -> tuple[GPT, Tokenizer, dict]:
    """The model, its tokenizer and its training info (a cached copy: do not train it)."""
    path = resolve_model(name_or_path)
    return _load(str(path), path.stat().st_mtime)


def filter_logits(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """``logits`` ``(..., V)`` with everything outside the top ``k`` and outside the smallest set
    of tokens whose probability reaches ``p`` set to -inf (the most likely token always stays)."""
    if top_k is not None and top_k > 0 and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and 0 < top_p < 1:
        ordered, order = torch.sort(logits, dim=-1, descending=True)
        probs = ordered.softmax(-1)
        before = probs.cumsum(-1) - probs  # probability of the tokens ranked above each one
        drop = before >= top_p
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return logits


def check_sampling(length: int, temperature: float, top_k: int | None, top_p: float | None) -> None:
    if length < 1:
        raise InputError(f"--length must be at least 1, got {length}")
    if not (temperature > 0 and math.isfinite(temperature)):
        raise InputError(f"--temperature must be above 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise InputError(f"--top-k must be at least 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise InputError(f"--top-p must be above 0 and at most 1, got {top_p}")


def default_prompt(tokenizer: Tokenizer) -> str:
    return "\n" if tokenizer.encode("\n") and tokenizer.decode(tokenizer.encode("\n")) == "\n" else tokenizer.decode([1])


@torch.no_grad()
def write(
    model: str | Path | tuple[GPT, Tokenizer, dict],
    prompt: str | None = None,
    *,
    length: int = 500,
    temperature: float = 0.8,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int = 0,
) -> Iterator[str]:
    """Continue ``prompt`` by ``length`` tokens, yielding text as it is written (the prompt is
    not repeated). The same seed gives the same text."""
    check_sampling(length, temperature, top_k, top_p)
    net, tokenizer, _ = load_text_model(model) if not isinstance(model, tuple) else model
    prompt = default_prompt(tokenizer) if not prompt else prompt
    if isinstance(tokenizer, CharTokenizer) and tokenizer.unknown(prompt):
        raise InputError(f"the prompt has characters this model never saw: {tokenizer.unknown(prompt)!r}")
    ids = tokenizer.encode(prompt)[-net.config.context :]
    if not ids:
        raise InputError("the prompt is empty after tokenisation")
    generator = torch.Generator().manual_seed(seed)
    cache = net.new_cache()
    logits = net(torch.tensor([ids]), cache)[0, -1]
    stream = StreamDecoder(tokenizer)
    for _ in range(length):
        probs = filter_logits(logits.float() / temperature, top_k, top_p).softmax(-1)
        token = int(torch.multinomial(probs, 1, generator=generator))
        piece = stream.push(token)
        if piece:
            yield piece
        logits = net(torch.tensor([[token]]), cache)[0, -1]
    tail = stream.flush()
    if tail:
        yield tail


def write_text(model: str | Path, prompt: str | None = None, **options) -> str:
    """The whole text of :func:`write` at once."""
    return "".join(write(model, prompt, **options))


@torch.no_grad()
def evaluate_text(model: str | Path | tuple[GPT, Tokenizer, dict], text_path: str | Path) -> dict:
    """Negative log-likelihood of a text **per character** (whatever the tokenizer), in nats and
    bits, and the per-character perplexity. Every token after the first is predicted with at
    least half a context of history (overlapping windows, each scoring its second half)."""
    net, tokenizer, info = load_text_model(model) if not isinstance(model, tuple) else model
    text = read_corpus(text_path)
    ids = torch.tensor(tokenizer.encode(text))
    if len(ids) < 2:
        raise InputError(f"{text_path}: too short to evaluate (fewer than 2 tokens)")
    context = net.config.context
    stride = max(1, context // 2)
    total, count, start = 0.0, 0, 0
    while True:
        window = ids[start : start + context + 1]
        logits = net(window[None, :-1])[0]
        nll = F.cross_entropy(logits.float(), window[1:], reduction="none")
        skip = 0 if start == 0 else context - stride  # already scored by the previous window
        total += nll[skip:].sum().item()
        count += len(nll) - skip
        if start + context + 1 >= len(ids):
            break
        start += stride
    chars = max(1, len(text) - len(tokenizer.decode(ids[:1].tolist())))
    nats_per_char = total / chars
    unknown = len([c for c in text if isinstance(tokenizer, CharTokenizer) and c not in tokenizer.index])
    return {
        "nats_per_char": nats_per_char,
        "bits_per_char": nats_per_char / math.log(2),
        "perplexity_per_char": math.exp(nats_per_char),
        "nats_per_token": total / count,
        "tokens": count,
        "chars": chars,
        "unknown_chars": unknown,
        "tokenizer": tokenizer.kind,
        "context": context,
        "model_step": info.get("step"),
    }
