"""Benchmark optimisation-based stylisation on this machine.

    python benchmarks/bench_stylize.py [--content PHOTO] [--style PAINTING] [--skip-variants]

1. The whole `atelier stylize CONTENT --style STYLE --size 512` process, as a user runs it:
   wall time and peak resident memory (the goal: under 60 s on 2 cores).
2. Time per optimisation step (loss + backward + L-BFGS update) at each pyramid scale.
3. Variants of one step at 512 px: 1 vs 2 threads, channels_last, torch.compile.

Writes benchmarks/results/stylize.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from atelier.io import load_source
from atelier.style import StyleSettings
from atelier.style.engine import pyramid_sizes
from atelier.style.perceptual import PerceptualLoss
from atelier.style.presets import get_preset

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
RESULTS = ROOT / "benchmarks" / "results"


def whole_process(content: str, style: str, size: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.png"
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "atelier", "stylize", content, "--style", style, "--size", str(size), "-o", str(out)],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"size": size, "seconds": round(seconds, 2), "peak_rss_mib": round(peak_mib)}


def time_steps(objective: PerceptualLoss, image: torch.Tensor, repeats: int, channels_last: bool = False) -> float:
    # L-BFGS flattens gradients with .view(), so the parameter itself stays contiguous
    # and is converted on its way into the (channels_last) networks.
    image = image.clone().requires_grad_(True)
    layout = torch.channels_last if channels_last else torch.contiguous_format
    optimizer = torch.optim.LBFGS([image], max_iter=1, history_size=20)

    def closure():
        optimizer.zero_grad()
        loss, _ = objective.loss(image.contiguous(memory_format=layout))
        loss.backward()
        return loss

    optimizer.step(closure)  # warm-up (and compilation)
    start = time.perf_counter()
    for _ in range(repeats):
        optimizer.step(closure)
    return (time.perf_counter() - start) / repeats


def make_objective(content: torch.Tensor, style: torch.Tensor, w: int, h: int) -> tuple[PerceptualLoss, torch.Tensor]:
    settings = StyleSettings()
    objective = PerceptualLoss(get_preset(settings.backbone), settings, smoothing=False)
    scaled = torch.nn.functional.interpolate(content, size=(h, w), mode="bilinear", antialias=True)
    objective.set_style([style], [1.0])
    objective.set_content(scaled, None)
    return objective, scaled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--content", default=str(SHARED / "content" / "tubingen.jpg") if SHARED.is_dir() else "sample:astronaut")
    parser.add_argument("--style", default=str(SHARED / "styles" / "starry_night.jpg"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-variants", action="store_true")
    parser.add_argument("--skip-process", action="store_true", help="Skip the whole-process timing.")
    args = parser.parse_args()

    report: dict = {"machine": {"cpus": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version()}}
    if not args.skip_process:
        report["whole_process"] = [whole_process(args.content, args.style, 512)]
        print(f"atelier stylize --size 512 (whole process): {report['whole_process'][0]}", flush=True)

    content = load_source(args.content).rgb
    style = load_source(args.style, max_side=512).rgb
    settings = StyleSettings()
    report["per_step"] = []
    for w, h in pyramid_sizes(content.shape[-1], content.shape[-2], 512, None):
        objective, scaled = make_objective(content, style, w, h)
        seconds = time_steps(objective, scaled, args.repeats)
        report["per_step"].append({"size": [w, h], "seconds_per_step": round(seconds, 3)})
        print(f"step at {w}x{h}: {seconds:.3f} s", flush=True)
    report["default_steps"] = settings.steps

    if not args.skip_variants:
        w, h = pyramid_sizes(content.shape[-1], content.shape[-2], 512, None)[-1]
        variants = {}
        for threads in (1, 2):
            torch.set_num_threads(threads)
            objective, scaled = make_objective(content, style, w, h)
            variants[f"threads={threads}"] = time_steps(objective, scaled, args.repeats)
        torch.set_num_threads(2)
        objective, scaled = make_objective(content, style, w, h)
        for encoder in {objective.content_encoder, objective.style_encoder}:
            encoder.to(memory_format=torch.channels_last)
        variants["channels_last"] = time_steps(objective, scaled, args.repeats, channels_last=True)
        for encoder in {objective.content_encoder, objective.style_encoder}:
            encoder.to(memory_format=torch.contiguous_format)
        try:
            objective, scaled = make_objective(content, style, w, h)
            objective.loss = torch.compile(objective.loss)  # type: ignore[method-assign]
            variants["torch.compile"] = time_steps(objective, scaled, args.repeats)
        except Exception as error:  # no C++ toolchain, unsupported op...
            variants["torch.compile"] = f"failed: {type(error).__name__}: {str(error).splitlines()[0][:120]}"
        report["variants_512"] = {k: round(v, 3) if isinstance(v, float) else v for k, v in variants.items()}
        for name, value in report["variants_512"].items():
            print(f"variant {name}: {value}", flush=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "stylize.json").write_text(json.dumps(report, indent=2))
    print(f"wrote {RESULTS / 'stylize.json'}")


if __name__ == "__main__":
    main()
