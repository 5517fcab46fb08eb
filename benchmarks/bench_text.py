"""Text Transformer: the same wall-clock budget as nanoGPT's CPU recipe, and tokens per second.

    python benchmarks/bench_text.py budget [--configs atelier,wide]   # ~3x the recipe's time
    python benchmarks/bench_text.py speed                              # ~2 minutes

``budget``: trains nanoGPT's CPU recipe for Shakespeare (README: 4 layers, 4 heads, 128 wide,
context 64, batch 12, 2000 iterations, lr 1e-3 decaying to 1e-4, warm-up 100, AdamW
beta2 0.99, weight decay 0.1, no dropout, learned positions) on Atelier's code, times it,
then trains Atelier's settings for exactly that long (``--time-limit``), on the same first
90% of ``../shared/text/tinyshakespeare.txt``. Both are scored on the held-out last 10% two
ways: nanoGPT's own estimate (mean loss over windows of the model's context) and
``atelier text evaluate`` (nats per character, every character with at least half a context).

``speed``: training tokens/s (eager fp32, bf16 autocast, torch.compile) and sampling tokens/s
with and without the key/value cache. Results go to benchmarks/results/text.json (each part
updates its own key). This machine's speed drifts: compare numbers from one run only.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from atelier.write.data import read_corpus, split_text
from atelier.write.model import GPT, SIZES, GPTConfig
from atelier.write.sample import evaluate_text, load_text_model
from atelier.write.settings import TextSettings
from atelier.write.train import train_text

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "text" / "tinyshakespeare.txt"
RESULTS = ROOT / "benchmarks" / "results" / "text.json"

NANOGPT_CPU = TextSettings(
    size="tiny", context=64, batch=12, steps=2000, lr=1e-3, min_lr_ratio=0.1, warmup=0.05, dropout=0.0,
    positions="learned", bf16=False, eval_every=2000, checkpoint_every=2000, eval_windows=200,
)  # fmt: skip
CONFIGS = {
    "atelier": TextSettings(),  # the defaults `atelier text train` uses
    "atelier-fp32": TextSettings(bf16=False),
    "tiny-ctx128": TextSettings(size="tiny", context=128, batch=32),
    "small-ctx128": TextSettings(size="small", context=128, batch=16),
    "nanogpt-recipe-rotary-bf16": TextSettings(size="tiny", context=64, batch=12, lr=1e-3),
    "tiny-ctx128-b16": TextSettings(size="tiny", context=128, batch=16),
    "tiny-ctx128-lr3e-3": TextSettings(size="tiny", context=128, batch=32, lr=3e-3),
    "tiny-ctx256-b16": TextSettings(size="tiny", context=256, batch=16),
}


def _save(key: str, value) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    data[key] = value
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2))


def _run(name: str, settings: TextSettings, work: Path, val_file: Path, time_limit: float | None) -> dict:
    settings.eval_every = settings.checkpoint_every = 10_000_000  # evaluate once, at the end
    settings.eval_windows = 200
    started = time.perf_counter()
    summary = train_text(CORPUS, work / f"{name}.pt", settings, time_limit=time_limit)
    seconds = time.perf_counter() - started
    model = load_text_model(work / f"{name}.pt")
    scored = evaluate_text(model, val_file)
    row = {
        "settings": {k: getattr(settings, k) for k in ("size", "context", "batch", "lr", "positions", "dropout", "bf16")},
        "steps": summary["steps"],
        "parameters": summary["parameters"],
        "seconds": round(seconds, 1),
        "val_loss_windows": round(summary["best"]["value"], 4),
        "val_nats_per_char": round(scored["nats_per_char"], 4),
        "tokens_per_s": round(summary["steps"] * settings.batch * settings.context / seconds),
    }
    print(name, row, flush=True)
    return row


def budget(configs: list[str]) -> None:
    text = read_corpus(CORPUS)
    _, val = split_text(text, 0.1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        val_file = work / "val.txt"
        val_file.write_text(val)
        rows = {"nanogpt-cpu-recipe": _run("nanogpt", NANOGPT_CPU, work, val_file, None)}
        limit = rows["nanogpt-cpu-recipe"]["seconds"]
        for name in configs:
            rows[name] = _run(name, CONFIGS[name], work, val_file, limit)
    _save("budget", {"budget_seconds": limit, "runs": rows, "when": time.strftime("%Y-%m-%d %H:%M")})


def _train_speed(size: str, context: int, batch: int, mode: str, steps: int = 12) -> float:
    layers, heads, width = SIZES[size]
    torch.manual_seed(0)
    model = GPT(GPTConfig(65, context, layers, heads, width))
    opt = model.optimizer(1e-3, 0.1, (0.9, 0.99))
    net = torch.compile(model) if mode == "compile" else model
    x = torch.randint(0, 65, (batch, context + 1))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode == "bf16"):
            loss = F.cross_entropy(net(x[:, :-1]).flatten(0, 1).float(), x[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):  # warm-up (and compilation)
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch * context / (time.perf_counter() - started)


@torch.no_grad()
def _sample_speed(size: str, context: int, length: int, cached: bool) -> float:
    layers, heads, width = SIZES[size]
    model = GPT(GPTConfig(65, context, layers, heads, width)).eval()
    ids = torch.zeros(1, 1, dtype=torch.long)
    started = time.perf_counter()
    if cached:
        cache = model.new_cache()
        logits = model(ids, cache)
        for _ in range(length):
            logits = model(logits[:, -1:].argmax(-1), cache)
    else:
        for _ in range(length):
            nxt = model(ids[:, -context:])[:, -1:].argmax(-1)
            ids = torch.cat([ids, nxt], 1)
    return length / (time.perf_counter() - started)


def speed() -> None:
    train = {}
    for size, context, batch in (("tiny", 64, 12), ("small", 256, 32)):
        for mode in ("eager", "bf16", "compile"):
            key = f"{size} ctx{context} batch{batch} {mode}"
            try:
                train[key] = round(_train_speed(size, context, batch, mode))
            except Exception as error:  # torch.compile needs a working C++ toolchain
                train[key] = f"failed: {type(error).__name__}"
            print(key, train[key], flush=True)
    sample = {}
    for cached in (True, False):
        for length in (256, 1024):
            key = f"small ctx256 {'cache' if cached else 'no cache'} {length} tokens"
            sample[key] = round(_sample_speed("small", 256, length, cached), 1)
            print(key, sample[key], flush=True)
    _save(
        "speed",
        {
            "train_tokens_per_s": train,
            "sample_tokens_per_s": sample,
            "threads": torch.get_num_threads(),
            "when": time.strftime("%Y-%m-%d %H:%M"),
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=("budget", "speed"))
    parser.add_argument("--configs", default="atelier")
    args = parser.parse_args()
    if args.part == "budget":
        budget([c for c in args.configs.split(",") if c])
    else:
        speed()
    print("ln(65) =", round(math.log(65), 4))


if __name__ == "__main__":
    main()
