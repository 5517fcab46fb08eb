"""Which moving average of the generator should a short GAN run sample from?

    python benchmarks/gan_ema.py [--work DIR] [--budget 20m | --steps N] [--variants 9:0.999,30:0.999,9:0.99]
                                 [--set lr=2e-4 ...] [--calibrate 0,512] [--tag NAME]

One default 64 px run on the crops of benchmarks/gan_hour.py (``train_gan``, what
``atelier gan train TRAIN --out RUN --time-limit 20m`` does), keeping beside the trainer's own
average a *shadow* average for every variant ``RAMP:CAP`` (decay ``min(CAP, 1 - RAMP / (step
+ RAMP + 1))``, atelier.generate.models.EMA). The averages never feed back into training, so
one run gives every variant on the same trajectory. Snapshots of each average and of the raw
generator at ``--snapshots`` steps and at the end are scored on the 500 held-out crops
exactly as ``atelier gan evaluate RUN HELD_OUT -n 500`` scores a run.
``--set KEY=VALUE`` changes one of the run's settings (``GanSettings``: ``lr``, ``lr_d``,
``batch``, ...), so that other settings can be compared on their own trajectories at the same
snapshots; ``--steps`` trains a fixed number of steps instead of a time budget (what compares
settings whatever the machine's speed that hour); ``--calibrate 0,512`` scores every snapshot
with its saved batch-norm statistics (0) and with them measured on 512 of its own samples (what
``atelier gan evaluate`` does since 2026-12-07, the default). Writes benchmarks/results/gan_ema.json, or
gan_ema-TAG.json with ``--tag``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from dataclasses import fields, replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gan_modes import make_crops, untrained_scores  # noqa: E402

from atelier.generate import GanSettings, train_gan  # noqa: E402
from atelier.generate.models import EMA, calibrate_batch_norm  # noqa: E402
from atelier.generate.sample import real_side, score_generator  # noqa: E402
from atelier.generate.train import build_generator, compute_dtype  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def with_overrides(settings: GanSettings, overrides: list[str]) -> GanSettings:
    """``settings`` with ``KEY=VALUE`` changes, each value read as its field's type."""
    types = {f.name: type(getattr(settings, f.name)) for f in fields(settings)}
    for override in overrides:
        key, _, value = override.partition("=")
        if key not in types:
            raise SystemExit(f"--set {override}: no setting {key!r} (one of {', '.join(types)})")
        kind = types[key]
        parsed = tuple(float(v) for v in value.split(",")) if kind is tuple else (None if value == "None" else kind(value))
        settings = replace(settings, **{key: parsed})
    return settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("gan-ema"), help="Folder for the crops and the run.")
    parser.add_argument("--budget", default="20m")
    parser.add_argument("--variants", default="9:0.999,30:0.999,9:0.99,9:0.995", help="RAMP:CAP pairs, comma-separated.")
    parser.add_argument("--snapshots", default="1000,1500,2000,2500,3000", help="Steps at which every average is scored.")
    parser.add_argument("--steps", type=int, help="Train this many steps instead of --budget.")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="A setting other than the default.")
    parser.add_argument("--tag", help="Results go to gan_ema-TAG.json.")
    parser.add_argument(
        "--calibrate",
        default="512",
        help="Score each snapshot with its batch-norm statistics measured on N samples (512: as atelier gan evaluate); 0: as saved.",
    )
    args = parser.parse_args()
    settings = with_overrides(GanSettings(size=64), args.set)
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
        if args.steps:
            train_gan(train, args.work / "run", replace(settings, steps=args.steps), force=True)
        else:
            train_gan(train, args.work / "run", settings, force=True, time_limit=args.budget)
    finally:
        EMA.update = trainer_update
    snapshots[trained["step"]] = states()

    length = f"--steps {args.steps}" if args.steps else f"--budget {args.budget}"
    extra = "".join(f" --set {o}" for o in args.set) + (f" --tag {args.tag}" if args.tag else "") + f" --calibrate {args.calibrate}"
    report: dict = {
        "command": f"python benchmarks/gan_ema.py {length} --variants {args.variants} --snapshots {args.snapshots}{extra}",
        "budget": None if args.steps else args.budget,
        "settings": {o.split("=")[0]: getattr(settings, o.split("=")[0]) for o in args.set},
    }
    real = real_side(held_out, settings.size, 500)  # measured once for every score below
    report["untrained"] = untrained_scores(GanSettings(size=64), real, 500)
    report["steps"] = trained["step"]
    report["scores"] = {}
    for step in sorted(snapshots):
        for name, state in snapshots[step].items():
            for samples in map(int, args.calibrate.split(",")):
                generator = build_generator(settings)
                generator.load_state_dict(state)
                if samples:
                    calibrate_batch_norm(generator, samples, dtype=compute_dtype(settings.precision, torch.device("cpu")))
                scores = score_generator(generator.eval(), real)
                row = {k: round(scores[k], 3) for k in ("fid_effnet", "fd_random_vgg")}
                row["fid_effnet_vs_untrained"] = round(scores["fid_effnet"] / report["untrained"]["fid_effnet"], 3)
                key = f"{step} / {name}" + (f" / calibrated on {samples}" if samples else "")
                report["scores"][key] = row
                print(key, json.dumps(row), flush=True)
    name = f"gan_ema-{args.tag}.json" if args.tag else "gan_ema.json"
    (ROOT / "benchmarks" / "results" / name).write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
