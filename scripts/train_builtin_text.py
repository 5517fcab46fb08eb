"""Train the built-in text model on Shakespeare and install it in the package.

    python scripts/train_builtin_text.py --work /tmp/bard [--time-limit 30m] [--resume]

Corpus: ../shared/text/tinyshakespeare.txt (Karpathy's tiny Shakespeare, public domain); the
last 10% is held out and never trained on, as in nanoGPT. The best model by validation loss
is stored with float16 weights as src/atelier/write/builtin/shakespeare.pt, and
builtin/models.json records how it was trained and its held-out score (``atelier text
evaluate`` on the held-out 10%, nats per character).
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from atelier.write.data import read_corpus, split_text
from atelier.write.sample import BUILTIN_DIR, _load, evaluate_text
from atelier.write.settings import TextSettings
from atelier.write.train import save_text_model, train_text

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "text" / "tinyshakespeare.txt"
SETTINGS = TextSettings(size="small", context=256, batch=16, lr=2e-3, dropout=0.1, eval_every=250, checkpoint_every=250, eval_windows=128)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--time-limit", default="30m")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model_path = args.work / "shakespeare.pt"

    def report(event) -> None:
        if event.step % 50 == 0 or "val_loss" in event.metrics:
            print(event.step, {k: round(v, 4) for k, v in event.metrics.items()}, flush=True)

    started = time.time()
    summary = train_text(CORPUS, model_path, SETTINGS, resume=args.resume, time_limit=args.time_limit, on_progress=report)
    print(summary, f"{time.time() - started:.0f} s", flush=True)
    _, val = split_text(read_corpus(CORPUS), SETTINGS.val_fraction)
    (args.work / "val.txt").write_text(val)
    model, tokenizer, info = _load(str(model_path), model_path.stat().st_mtime)
    info = {**info, "trained_on": "2-core CPU (AMD EPYC, bf16 autocast), " + time.strftime("%Y-%m-%d")}
    shipped = save_text_model(model, tokenizer, args.work / "shakespeare-fp16.pt", info, half=True)
    scored = evaluate_text(shipped, args.work / "val.txt")  # the file that ships, float16 weights
    print(scored, flush=True)
    if args.no_install:
        return
    BUILTIN_DIR.mkdir(exist_ok=True)
    shutil.copy(shipped, BUILTIN_DIR / "shakespeare.pt")
    card = {
        "name": "shakespeare",
        "file": "shakespeare.pt",
        "title": "Shakespeare",
        "description": "A character-level Transformer trained on tiny Shakespeare (plays: speakers, verse, prose).",
        "example_prompt": "ROMEO:",
        "corpus": "tinyshakespeare.txt (Karpathy; public domain), first 90%",
        "parameters": summary["parameters"],
        "steps": info["step"],
        "trained_seconds": info["trained_seconds"],
        "val_nats_per_char": round(scored["nats_per_char"], 4),
        "val_bits_per_char": round(scored["bits_per_char"], 4),
        "val_loss_windows": round(summary["best"]["value"], 4),
        "settings": {k: v for k, v in info["settings"].items() if k != "tokenizer_state"},
        "command": f"python scripts/train_builtin_text.py --work DIR --time-limit {args.time_limit}",
    }
    (BUILTIN_DIR / "models.json").write_text(json.dumps([card], indent=2))
    print(f"installed in {BUILTIN_DIR}")


if __name__ == "__main__":
    main()
