"""Train the built-in JSB Chorales music model and install it in the package.

    python scripts/train_builtin_music.py --work /tmp/jsb [--time-limit 20m] [--resume]

Data: ../shared/music/jsb-chorales-quarter.json (Boulanger-Lewandowski 2012: train / valid /
test, quarter-note steps). Trained on the **train split only**; the best model by the valid
split's NLL is kept, and the test split is scored once at the end, so the benchmark number in
builtin/models.json is honest.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from atelier.compose.sample import BUILTIN_DIR, evaluate_music
from atelier.compose.settings import MusicSettings
from atelier.compose.train import train_music

ROOT = Path(__file__).resolve().parents[1]
JSB = ROOT.parent / "shared" / "music" / "jsb-chorales-quarter.json"
SETTINGS = MusicSettings(steps=2800, lr=3e-3, dropout=0.2, eval_every=200, checkpoint_every=200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--time-limit", default="20m")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    model_path = args.work / "jsb-chorales.pt"

    def report(event) -> None:
        if event.step % 50 == 0 or "valid_nll" in event.metrics:
            print(event.step, {k: round(v, 4) for k, v in event.metrics.items()}, flush=True)

    started = time.time()
    summary = train_music(JSB, model_path, SETTINGS, resume=args.resume, time_limit=args.time_limit, on_progress=report)
    print(summary, f"{time.time() - started:.0f} s", flush=True)
    scores = {split: evaluate_music(model_path, JSB, split)["nll_per_step"] for split in ("train", "valid", "test")}
    print(scores, flush=True)
    if args.no_install:
        return
    BUILTIN_DIR.mkdir(exist_ok=True)
    shutil.copy(model_path, BUILTIN_DIR / "jsb-chorales.pt")
    card = {
        "name": "jsb-chorales",
        "file": "jsb-chorales.pt",
        "title": "Bach chorales",
        "description": "LSTM-NADE trained on the JSB Chorales benchmark's train split (four-part chorales, quarter-note steps).",
        "steps_per_quarter": 1,
        "data": "jsb-chorales-quarter.json (Boulanger-Lewandowski 2012), train split only",
        "steps": summary["best"]["step"] if summary["best"] else summary["steps"],
        "trained_seconds": summary["seconds"],
        "nll_per_step": {k: round(v, 3) for k, v in scores.items()},
        "settings": {k: v for k, v in vars(SETTINGS).items()},
        "command": f"python scripts/train_builtin_music.py --work DIR --time-limit {args.time_limit}",
        "trained_on": "2-core CPU (AMD EPYC), " + time.strftime("%Y-%m-%d"),
    }
    (BUILTIN_DIR / "models.json").write_text(json.dumps([card], indent=2))
    print(f"installed in {BUILTIN_DIR}")


if __name__ == "__main__":
    main()
