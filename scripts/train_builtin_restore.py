"""Train a built-in restorer and install it in the package (its card in builtin/models.json).

    python scripts/train_builtin_restore.py upscale --work /tmp/sr [--time-limit 40m] [--resume] [--steps N]
    python scripts/train_builtin_restore.py denoise --work /tmp/dn [--time-limit 40m] [--resume] [--steps N]
    python scripts/train_builtin_restore.py upscale --work /tmp/sr2 --init --lr 2e-4 --steps 4000   # more training for the installed one

Training pictures: the 80 scene photos of ../shared/photos (and their 0.6x copies). Held out
(never trained on): the Deep Image Prior test pictures in ../shared/restore (zebra and barbara
are Set14 pictures) and the two content photos, centre-cropped to 320 px; the best model by
their L1 error is kept. The card records the held-out PSNR at every scale or noise level.
``--init`` starts from the installed model (a new learning-rate cycle, ``--lr``); the card then
adds the installed model's steps and time to this run's.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

from atelier.restore.settings import RestoreTrainSettings
from atelier.restore.train import train_restorer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BUILTIN_DIR = ROOT / "src" / "atelier" / "restore" / "builtin"
VALID = [SHARED / "restore" / "sr", SHARED / "restore" / "denoising", SHARED / "images" / "content"]
MODELS = {
    "upscale": {"settings": RestoreTrainSettings(steps=4000, eval_every=250, checkpoint_every=250), "title": "Super-resolution x2, x3, x4"},
    "denoise": {
        "settings": RestoreTrainSettings(steps=5000, eval_every=250, checkpoint_every=250),
        "title": "Blind denoiser (noise 0-50, JPEG)",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=sorted(MODELS))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--time-limit", default="40m")
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--steps", type=int, help="A new step total (with --resume: train on to it).")
    parser.add_argument("--init", action="store_true", help="Start from the installed model's weights.")
    parser.add_argument("--lr", type=float, help="Peak learning rate (default: the settings' 5e-4).")
    parser.add_argument("--no-install", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    settings = MODELS[args.task]["settings"]
    if args.steps:
        settings = replace(settings, steps=args.steps)
    if args.lr:
        settings = replace(settings, lr=args.lr)
    cards_path = BUILTIN_DIR / "models.json"
    cards = json.loads(cards_path.read_text()) if cards_path.exists() else []
    installed = next((c for c in cards if c["name"] == args.task), {})
    model_path = args.work / f"{args.task}.pt"
    # What the card must add to this run's steps and time, kept beside the run so that a resumed
    # session still knows (the runner's summary has only this session's seconds, and a resumed
    # --init run no longer says it began from the installed model's weights).
    ledger_path = args.work / f"{args.task}-ledger.json"
    if args.resume and ledger_path.exists():
        ledger = json.loads(ledger_path.read_text())
    elif args.resume:  # a run from before the ledger: the installed model came from its earlier sessions
        ledger = {"init_steps": installed.get("init_steps", 0), "seconds": installed.get("trained_seconds", 0)}
    else:
        ledger = {
            "init_steps": installed.get("steps", 0) if args.init else 0,
            "seconds": installed.get("trained_seconds", 0) if args.init else 0,
        }
    ledger.setdefault("from_init", bool(args.init))

    def report(event) -> None:
        if event.step % 50 == 0 or any(k.startswith("valid") for k in event.metrics):
            print(event.step, {k: round(v, 4) for k, v in event.metrics.items()}, flush=True)

    started = time.time()
    summary = train_restorer(
        args.task,
        SHARED / "photos",
        model_path,
        settings,
        valid=VALID,
        resume=args.resume,
        time_limit=args.time_limit,
        on_progress=report,
        init=args.task if args.init else None,
    )
    print(summary, f"{time.time() - started:.0f} s", flush=True)
    ledger["seconds"] = round(ledger["seconds"] + summary["seconds"], 1)
    ledger_path.write_text(json.dumps(ledger, indent=2) + "\n")
    if args.no_install:
        return
    before = (installed.get("best") or {}).get("value")
    if ledger["from_init"] and before is not None and not (summary["best"] and summary["best"]["value"] < before):
        print(f"not installed: held-out valid_l1 {summary['best']} is no better than the installed model's {before:.5f}", flush=True)
        return
    with open(args.work / f"{args.task}-log.csv") as log:
        evaluated = [row for row in csv.DictReader(log) if row.get("valid_l1")]
    best_step = (summary["best"] or {}).get("step")
    chosen = next((row for row in evaluated if int(row["step"]) == best_step), evaluated[-1] if evaluated else {})
    held_out = {k: round(float(v), 3) for k, v in chosen.items() if k.startswith("valid_psnr")}  # of the installed (best) model
    BUILTIN_DIR.mkdir(exist_ok=True)
    shutil.copyfile(model_path, BUILTIN_DIR / f"{args.task}.pt")
    # The card counts every session of this run, and, for a run from the installed model, that
    # model's time and steps too (init_steps: the steps before this run).
    init_steps = ledger["init_steps"]
    cards = [c for c in cards if c["name"] != args.task]
    cards.append(
        {
            "name": args.task,
            "file": f"{args.task}.pt",
            "title": MODELS[args.task]["title"],
            "data": "../shared/photos (80 scene photos) and 0.6x copies; held out: ../shared/restore, ../shared/images/content",
            "steps": init_steps + summary["steps"],
            **({"init_steps": init_steps} if init_steps else {}),
            "best": summary["best"],
            "trained_seconds": ledger["seconds"],
            "held_out_psnr": held_out,
        }
    )
    cards_path.write_text(json.dumps(sorted(cards, key=lambda c: c["name"]), indent=2) + "\n")
    print("installed", BUILTIN_DIR / f"{args.task}.pt", flush=True)


if __name__ == "__main__":
    main()
