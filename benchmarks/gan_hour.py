"""The GAN bar as a user meets it: default settings, 64 px, 20 minutes, then to an hour.

    python benchmarks/gan_hour.py [--work DIR] [--first 20m] [--then 40m [60m ...]] [--size 64]

Makes 400 training crops and 500 held-out crops of the paintings in ../shared/images/styles
(the crops of benchmarks/gan_modes.py), then runs exactly what a user types:

    atelier gan train TRAIN --out RUN --time-limit 20m
    atelier gan evaluate RUN HELD_OUT -n 500 --json
    atelier gan train TRAIN --out RUN --resume --time-limit 40m
    atelier gan evaluate RUN HELD_OUT -n 500 --json
    atelier gan nearest RUN TRAIN -o nearest.png -n 12 -k 4 --json

and scores the untrained generator of the same settings on the same held-out crops (as
initialised, the stricter baseline by fid_effnet, and with its batch-norm statistics measured on
its own samples, as ``atelier gan evaluate`` treats a run).
Writes benchmarks/results/gan_hour.json and, in docs/images/, gan-hour.jpg (held-out
crops | 20 minutes | 1 hour) and gan-nearest.png. ``--size 128`` trains at 128 px (crops
saved at 192 px) and writes gan_hour_128.json, gan-hour-128.jpg and gan-nearest-128.png.
Several ``--then`` durations resume the run once each (the run after each stage but the last
is kept as ``run-then1``, ``run-then2``, ...), and the picture gets a column per stage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gan_modes import make_crops, side_by_side, untrained_scores  # noqa: E402

from atelier.generate import GanSettings  # noqa: E402
from atelier.generate.data import load_dataset  # noqa: E402
from atelier.generate.sample import sample  # noqa: E402
from atelier.generate.train import image_grid  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def atelier(*args: object) -> str:
    result = subprocess.run([sys.executable, "-m", "atelier", *map(str, args)], capture_output=True, text=True, check=True)
    return result.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("gan-hour"), help="Folder for the crops and the run.")
    parser.add_argument("--first", default="20m")
    parser.add_argument("--then", nargs="+", default=["40m"], help="Durations of the resumed stages after the first.")
    parser.add_argument("--size", type=int, default=64, choices=(32, 64, 128))
    parser.add_argument(
        "--report-only", action="store_true", help="Score and draw runs already in --work (run-first/, run-then1/ ..., run/)."
    )
    args = parser.parse_args()
    size = args.size
    suffix = "" if size == 64 else f"-{size}"
    side_px = max(96, size * 3 // 2)
    train = make_crops(args.work / "train", 400, seed=0, side_px=side_px)
    held_out = make_crops(args.work / "held-out", 500, seed=1, side_px=side_px)
    run, first = args.work / "run", args.work / "run-first"
    command = f"python benchmarks/gan_hour.py --first {args.first} --then {' '.join(args.then)}" + (f" --size {size}" if suffix else "")
    report: dict = {"command": command, "size": size, "stages": {}}
    report["untrained"] = untrained_scores(GanSettings(size=size), held_out, 500)
    grids = [image_grid(load_dataset(held_out, size).images[:36].float() / 255, columns=6)]
    stages = [(args.first, first, ())] + [
        (duration, run if i == len(args.then) else args.work / f"run-then{i}", ("--resume",)) for i, duration in enumerate(args.then, 1)
    ]
    for number, (stage, folder, extra) in enumerate(stages):
        if not args.report_only:
            atelier("gan", "train", train, "--out", run, "--time-limit", stage, "--size", size, *extra)
            if folder != run:
                shutil.copytree(run, folder, dirs_exist_ok=True)  # the run as it was after this stage
        stage = stage if stage not in report["stages"] else f"{stage} (stage {number + 1})"
        meta = json.loads((folder / "run.json").read_text())
        scores = json.loads(atelier("gan", "evaluate", folder, held_out, "-n", 500, "--json"))
        for name in ("fid_effnet", "fd_random_vgg"):
            scores[f"{name}_vs_untrained"] = round(scores[name] / report["untrained"][name], 3)
            scores[f"{name}_vs_untrained_calibrated"] = round(scores[name] / report["untrained"]["calibrated"][name], 3)
        report["stages"][stage] = {"training_seconds_this_stage": meta["seconds"], "status": meta["status"], **scores}
        print(stage, json.dumps(report["stages"][stage]), flush=True)
        grids.append(image_grid(sample(folder, 36, seed=0), columns=6))
    report["nearest"] = json.loads(
        atelier("gan", "nearest", run, train, "-o", ROOT / "docs" / "images" / f"gan-nearest{suffix}.png", "-n", 12, "-k", 4, "--json")
    )
    picture = side_by_side(grids)
    if size == 64:  # (128 px grids are big enough as they are)
        picture = picture.resize((picture.width * 3 // 2, picture.height * 3 // 2), Image.NEAREST)
    picture.save(ROOT / "docs" / "images" / f"gan-hour{suffix}.jpg", quality=90)
    (ROOT / "benchmarks" / "results" / f"gan_hour{suffix.replace('-', '_')}.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
