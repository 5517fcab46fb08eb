"""Steps per second of fast-style training on 1 process (2 threads) vs 2 processes (1 thread each).

    python benchmarks/bench_distributed.py [--steps 20]

Both runs train the same network on the same photos with the same global batch, one after
the other in this process's lifetime (compare them, not across hours: this machine's speed
drifts). Writes benchmarks/results/distributed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WORKER = ROOT / "tests" / "ddp_worker.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    painting = SHARED / "images" / "styles" / "starry_night.jpg"
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"
        photos.mkdir()
        for source in sorted((SHARED / "photos").glob("*.jpg"))[:16]:
            shutil.copy(source, photos / source.name)
        for processes, threads in ((1, 2), (2, 1)):
            out = Path(tmp) / f"p{processes}"
            out.mkdir()
            env = {**os.environ, "OMP_NUM_THREADS": str(threads), "ATELIER_BENCH_FULL": "1"}
            command = (
                [sys.executable, str(WORKER)]
                if processes == 1
                else [torchrun, "--standalone", f"--nproc_per_node={processes}", str(WORKER)]
            )
            start = time.perf_counter()
            subprocess.run(
                [*command, str(painting), str(photos), str(out / "m.pt"), str(out / "r"), str(args.steps), "new"],
                check=True,
                env=env,
                capture_output=True,
            )
            seconds = time.perf_counter() - start
            meta = json.loads((out / "m-run.json").read_text())
            results[f"{processes}x{threads}"] = {
                "processes": processes,
                "threads_each": threads,
                "steps": meta["steps_this_session"],
                "training_seconds": meta["seconds"],
                "steps_per_second": round(meta["steps_this_session"] / meta["seconds"], 3),
                "seconds_whole_process": round(seconds, 2),
            }
            print(results[f"{processes}x{threads}"], flush=True)
    target = ROOT / "benchmarks" / "results" / "distributed.json"
    target.write_text(
        json.dumps(
            {
                "command": f"python benchmarks/bench_distributed.py --steps {args.steps}",
                "note": "default fast-style network (24-48-96), 192 px crops, global batch 4; steps/s over the training loop only",
                "results": results,
            },
            indent=2,
        )
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
