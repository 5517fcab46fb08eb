"""Train a built-in music model and install it in the package (its card in builtin/models.json).

    python scripts/train_builtin_music.py jsb-chorales --work /tmp/jsb [--time-limit 36m] [--resume]
    python scripts/train_builtin_music.py folk-songs --work /tmp/folk [--time-limit 22m] [--resume]

jsb-chorales: ../shared/music/jsb-chorales-quarter.json (Boulanger-Lewandowski 2012: train / valid /
test, quarter-note steps). folk-songs: the Essen folk song collection that ships inside music21
(music21:essenFolksong, eighth-note steps, split 90/5/5 by a hash of each song's name). Both are
trained on the **train split only**; the best model by the valid split's NLL is kept, and the
test split is scored once at the end, so the numbers on the cards are honest.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

from atelier.compose.sample import BUILTIN_DIR, evaluate_music
from atelier.compose.settings import MusicSettings
from atelier.compose.train import train_music

ROOT = Path(__file__).resolve().parents[1]
MODELS = {
    "jsb-chorales": {
        "data": str(ROOT.parent / "shared" / "music" / "jsb-chorales-quarter.json"),
        "settings": MusicSettings(steps=2800, lr=3e-3, dropout=0.2, eval_every=200, checkpoint_every=200),
        "card": {
            "title": "Bach chorales",
            "description": "LSTM-NADE trained on the JSB Chorales benchmark's train split (four-part chorales, quarter-note steps).",
            "steps_per_quarter": 1,
            "data": "jsb-chorales-quarter.json (Boulanger-Lewandowski 2012), train split only",
        },
    },
    "folk-songs": {
        "data": "music21:essenFolksong",
        "settings": MusicSettings(steps=1600, lr=3e-3, dropout=0.2, eval_every=200, checkpoint_every=200),
        "card": {
            "title": "Folk songs",
            "description": "LSTM-NADE trained on the Essen folk song collection inside music21 (melodies, eighth-note steps).",
            "steps_per_quarter": 2,
            "data": "music21:essenFolksong (music21's corpus), train split only (90/5/5 by song-name hash)",
        },
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=sorted(MODELS))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--time-limit", default="20m")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--steps", type=int, help="A new step total (with --resume: train on to it).")
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    spec = MODELS[args.model]
    data, settings = spec["data"], spec["settings"]
    if args.steps:
        settings = replace(settings, steps=args.steps)
    model_path = args.work / f"{args.model}.pt"

    def report(event) -> None:
        if event.step % 50 == 0 or "valid_nll" in event.metrics:
            print(event.step, {k: round(v, 4) for k, v in event.metrics.items()}, flush=True)

    started = time.time()
    summary = train_music(data, model_path, settings, resume=args.resume, time_limit=args.time_limit, on_progress=report)
    print(summary, f"{time.time() - started:.0f} s", flush=True)
    scores = {split: evaluate_music(model_path, data, split)["nll_per_step"] for split in ("train", "valid", "test")}
    print(scores, flush=True)
    if args.no_install:
        return
    BUILTIN_DIR.mkdir(exist_ok=True)
    cards_path = BUILTIN_DIR / "models.json"
    cards = json.loads(cards_path.read_text()) if cards_path.exists() else []
    # a resumed run's card counts the time of every session
    previous_seconds = next((c.get("trained_seconds", 0) for c in cards if c["name"] == args.model), 0)
    shutil.copy(model_path, BUILTIN_DIR / f"{args.model}.pt")
    card = {
        "name": args.model,
        "file": f"{args.model}.pt",
        **spec["card"],
        "steps": summary["best"]["step"] if summary["best"] else summary["steps"],
        "trained_seconds": round(summary["seconds"] + (previous_seconds if args.resume else 0), 1),
        "nll_per_step": {k: round(v, 3) for k, v in scores.items()},
        "settings": {k: v for k, v in vars(settings).items()},
        "command": f"python scripts/train_builtin_music.py {args.model} --work DIR --time-limit {args.time_limit}"
        + (" --resume" if args.resume else "")
        + (f" --steps {args.steps}" if args.steps else ""),
        "trained_on": "2-core CPU (AMD EPYC), " + time.strftime("%Y-%m-%d"),
    }
    cards = [c for c in cards if c["name"] != args.model] + [card]
    cards.sort(key=lambda c: list(MODELS).index(c["name"]) if c["name"] in MODELS else len(MODELS))
    cards_path.write_text(json.dumps(cards, indent=2) + "\n")
    print(f"installed in {BUILTIN_DIR}")


if __name__ == "__main__":
    main()
