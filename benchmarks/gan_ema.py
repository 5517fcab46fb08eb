"""Which moving average of the generator should a short GAN run sample from?

    python benchmarks/gan_ema.py [--work DIR] [--budget 20m] [--variants 9:0.999,30:0.999,9:0.99]

One default 64 px run on the crops of benchmarks/gan_hour.py (``train_gan``, what
``atelier gan train TRAIN --out RUN --time-limit 20m`` does), keeping beside the trainer's own
average a *shadow* average for every variant ``RAMP:CAP`` (decay ``min(CAP, 1 - RAMP / (step
+ RAMP + 1))``, atelier.generate.models.EMA). The averages never feed back into training, so
one run gives every variant on the same trajectory. Snapshots of each average and of the raw
generator at ``--snapshots`` steps and at the end are scored on the 500 held-out crops
exactly as ``atelier gan evaluate RUN HELD_OUT -n 500`` scores a run.
Writes benchmarks/results/gan_ema.json.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gan_modes import make_crops, untrained_scores  # noqa: E402

from atelier.generate import GanSettings, train_gan  # noqa: E402
from atelier.generate.models import EMA  # noqa: E402
from atelier.generate.sample import score_generator  # noqa: E402
from atelier.generate.train import build_generator  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("gan-ema"), help="Folder for the crops and the run.")
    parser.add_argument("--budget", default="20m")
    parser.add_argument("--variants", default="9:0.999,30:0.999,9:0.99,9:0.995", help="RAMP:CAP pairs, comma-separated.")
    parser.add_argument("--snapshots", default="1000,1500,2000,2500,3000", help="Steps at which every average is scored.")
    args = parser.parse_args()
    variants = [(float(r), float(c)) for r, c in (v.split(":") for v in args.variants.split(","))]
    at_steps = {int(s) for s in args.snapshots.split(",")}
    train = make_crops(args.work / "train", 400, seed=0)
    held_out = make_crops(args.work / "held-out", 500, seed=1)

    shadows: dict[str, EMA] = {}
    snapshots: dict[int, dict[str, dict]] = {}
    trained: dict = {}  # the trainer's generator and its last step
    trainer_update = EMA.update

    def states() -> dict[str, dict]:
        return {"raw": trained["model"].state_dict(), **{name: s.model.state_dict() for name, s in shadows.items()}}

    def update(ema: EMA, model: torch.nn.Module, step: int) -> None:
        trainer_update(ema, model, step)
        if ema in shadows.values():
            return
        if not shadows:
            shadows.update({f"ramp {r:g}, cap {c:g}": EMA(model, c, r) for r, c in variants})
        for shadow in shadows.values():
            shadow.update(model, step)
        trained.update(model=model, step=step)
        if step in at_steps:
            snapshots[step] = copy.deepcopy(states())

    EMA.update = update  # the trainer's average is updated as usual; the shadows follow it
    try:
        train_gan(train, args.work / "run", GanSettings(size=64), force=True, time_limit=args.budget)
    finally:
        EMA.update = trainer_update
    snapshots[trained["step"]] = states()

    report: dict = {
        "command": f"python benchmarks/gan_ema.py --budget {args.budget} --variants {args.variants} --snapshots {args.snapshots}",
        "budget": args.budget,
    }
    report["untrained"] = untrained_scores(GanSettings(size=64), held_out, 500)
    report["steps"] = trained["step"]
    report["scores"] = {}
    for step in sorted(snapshots):
        for name, state in snapshots[step].items():
            generator = build_generator(GanSettings(size=64))
            generator.load_state_dict(state)
            scores = score_generator(generator.eval(), held_out, 500)
            row = {k: round(scores[k], 3) for k in ("fid_effnet", "fd_random_vgg")}
            row["fid_effnet_vs_untrained"] = round(scores["fid_effnet"] / report["untrained"]["fid_effnet"], 3)
            report["scores"][f"{step} / {name}"] = row
            print(step, name, json.dumps(row), flush=True)
    (ROOT / "benchmarks" / "results" / "gan_ema.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
