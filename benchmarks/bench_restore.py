"""Restoration measured on held-out pictures: super-resolution, denoising and inpainting, every
method side by side in one run (PSNR, SSIM, seconds), per picture and mean.

    python benchmarks/bench_restore.py [--dip-steps 300] [--only sr,denoise,jpeg,inpaint] [--sheet]

Pictures (none trained on; the built-in networks saw only ../shared/photos):
* super-resolution: zebra and barbara (both from Set14), F16, the two content photos, and the
  scikit-image photos astronaut, chelsea, coffee, rocket and camera. Y-channel PSNR/SSIM with
  ``scale`` pixels shaved, low-resolution inputs by Pillow bicubic (MATLAB-like, antialiased).
* denoising: the same pictures in grey (BSD68's convention) at sigma 15, 25 and 50 (seeded,
  unclipped Gaussian noise, as the papers), and in colour at sigma 25; JPEG blocking at
  quality 10, 20 and 30 (the denoiser with its level measured).
* inpainting: Deep Image Prior's three pictures with their masks, and synthetic masks (text,
  scribbles, large blocks) on held-out photos.

Writes benchmarks/results/restore.json (and contact sheets in docs/images with --sheet).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from atelier.io.images import read_image
from atelier.io.sources import skimage_picture
from atelier.metrics import psnr, ssim
from atelier.restore import api, degrade
from atelier.restore.learned import builtin_models

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RESULTS = ROOT / "benchmarks" / "results" / "restore.json"
IMAGES = ROOT / "docs" / "images"
SR_METHODS = ("bicubic", "lanczos", "net")
DENOISE_METHODS = ("nlm", "bilateral", "net", "net-auto")
INPAINT_METHODS = ("telea", "ns", "fsr", "exemplar")


def held_out() -> dict[str, np.ndarray]:
    pictures = {}
    for path in [SHARED / "restore" / "sr" / "zebra_GT.png", SHARED / "restore" / "denoising" / "barbara.png",
                 SHARED / "restore" / "denoising" / "F16_GT.png", *sorted((SHARED / "images" / "content").glob("*"))]:  # fmt: skip
        if path.is_file():
            pictures[path.stem.replace("_GT", "")] = read_image(path, max_side=768)[0]
    for name in ("astronaut", "chelsea", "coffee", "rocket", "camera"):
        pictures[name] = skimage_picture(name)
    return pictures


def timed(fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - started


def bench_sr(pictures: dict[str, np.ndarray], dip_steps: int) -> dict:
    rows = []
    for scale in (2, 3, 4):
        for name, rgb in pictures.items():
            high = degrade.crop_to_multiple(rgb, scale)
            low = degrade.downscale(high, scale)
            row = {"picture": name, "scale": scale}
            for method in SR_METHODS:
                out, seconds = timed(api.upscale, low, scale, method=method)
                row[method] = {"psnr_y": round(psnr(out, high, y_only=True, border=scale), 3),
                               "ssim_y": round(ssim(out, high, y_only=True, border=scale), 4), "seconds": round(seconds, 3)}  # fmt: skip
            rows.append(row)
    summary = {
        f"x{scale}": {m: round(float(np.mean([r[m]["psnr_y"] for r in rows if r["scale"] == scale])), 3) for m in SR_METHODS}
        for scale in (2, 3, 4)
    }
    # Deep Image Prior on one small picture (minutes per picture on a CPU).
    high = degrade.crop_to_multiple(
        np.asarray(Image.fromarray(degrade.to_uint8(pictures["zebra"])).resize((256, 168)), np.float32) / 255, 4
    )
    low = degrade.downscale(high, 4)
    dip, seconds = timed(api.upscale, low, 4, method="dip", steps=dip_steps)
    dip_row = {"picture": "zebra at 256x168", "scale": 4, "steps": dip_steps, "seconds": round(seconds, 1)}
    for method, out in (("dip", dip), ("bicubic", api.upscale(low, 4, method="bicubic")), ("net", api.upscale(low, 4))):
        dip_row[method] = round(psnr(out, high, y_only=True, border=4), 3)
    # Speed: a 512 px output (x4 from 128 px), median of 5.
    low = degrade.downscale(degrade.crop_to_multiple(pictures["astronaut"], 4), 4)
    api.upscale(low, 4)
    times = [timed(api.upscale, low, 4)[1] for _ in range(5)]
    return {"rows": rows, "mean_psnr_y": summary, "dip": dip_row, "seconds_512px_output_x4": round(float(np.median(times)), 3)}


def grey(rgb: np.ndarray) -> np.ndarray:
    y = rgb @ np.float32([0.299, 0.587, 0.114])
    return np.repeat(y[..., None], 3, axis=2)


def bench_denoise(pictures: dict[str, np.ndarray], dip_steps: int) -> dict:
    rows = []
    for colour in (False, True):
        for sigma in (25,) if colour else (15, 25, 50):
            for name, rgb in pictures.items():
                clean = rgb if colour else grey(rgb)
                noisy = degrade.add_noise(clean, sigma, np.random.default_rng(sigma))
                row = {"picture": name, "sigma": sigma, "colour": colour, "noisy": round(psnr(np.clip(noisy, 0, 1), clean), 3)}
                for method in DENOISE_METHODS:
                    kind = "net" if method == "net-auto" else method
                    level = None if method == "net-auto" else sigma
                    (out, used), seconds = timed(api.denoise, noisy if kind == "net" else np.clip(noisy, 0, 1), level, method=kind)
                    row[method] = {"psnr": round(psnr(out, clean), 3), "ssim": round(ssim(out, clean), 4), "seconds": round(seconds, 3)}
                    if method == "net-auto":
                        row[method]["sigma_estimated"] = round(used, 2)
                rows.append(row)
    summary = {}
    for colour, sigmas in ((False, (15, 25, 50)), (True, (25,))):
        for sigma in sigmas:
            chosen = [r for r in rows if r["colour"] == colour and r["sigma"] == sigma]
            summary[f"{'colour' if colour else 'grey'}_s{sigma}"] = {
                m: round(float(np.mean([r[m]["psnr"] for r in chosen])), 3) for m in DENOISE_METHODS
            } | {"noisy": round(float(np.mean([r["noisy"] for r in chosen])), 3)}
    clean = grey(pictures["F16"])
    small = np.asarray(Image.fromarray(degrade.to_uint8(clean)).resize((256, 256)), np.float32) / 255
    noisy = degrade.add_noise(small, 25, np.random.default_rng(25))
    (dip, _), seconds = timed(api.denoise, np.clip(noisy, 0, 1), 25, method="dip", steps=dip_steps)
    dip_row = {"picture": "F16 grey at 256x256", "sigma": 25, "steps": dip_steps, "seconds": round(seconds, 1),
               "dip": round(psnr(dip, small), 3), "net": round(psnr(api.denoise(noisy, 25)[0], small), 3)}  # fmt: skip
    # Speed: a 481x321 picture (BSD68's size), median of 5.
    noisy = degrade.add_noise(
        np.asarray(Image.fromarray(degrade.to_uint8(clean)).resize((481, 321)), np.float32) / 255, 25, np.random.default_rng(0)
    )
    api.denoise(noisy, 25)
    times = [timed(api.denoise, noisy, 25)[1] for _ in range(5)]
    return {"rows": rows, "mean_psnr": summary, "dip": dip_row, "seconds_481x321": round(float(np.median(times)), 3)}


def bench_jpeg(pictures: dict[str, np.ndarray]) -> dict:
    """JPEG blocking: the denoiser with its level measured (--sigma auto) or given, against the JPEG itself."""
    rows = []
    for quality in (10, 20, 30):
        for name, rgb in pictures.items():
            damaged = degrade.jpeg(rgb, quality)
            (out, used), seconds = timed(api.denoise, damaged)
            row = {"picture": name, "quality": quality, "jpeg": round(psnr(damaged, rgb), 3), "net-auto": round(psnr(out, rgb), 3),
                   "sigma_estimated": round(used, 2), "seconds": round(seconds, 3)}  # fmt: skip
            for level in (5, 10, 20):
                row[f"net-s{level}"] = round(psnr(api.denoise(damaged, level)[0], rgb), 3)
            rows.append(row)
    keys = ("jpeg", "net-auto", "net-s5", "net-s10", "net-s20")
    summary = {f"q{q}": {k: round(float(np.mean([r[k] for r in rows if r["quality"] == q])), 3) for k in keys} for q in (10, 20, 30)}
    return {"rows": rows, "mean_psnr": summary}


def synthetic_masks(size: tuple[int, int], seed: int) -> dict[str, np.ndarray]:
    width, height = size
    rng = np.random.default_rng(seed)
    masks = {}
    text = Image.new("L", size, 0)
    draw = ImageDraw.Draw(text)
    font = ImageFont.load_default(size=max(12, height // 14))
    for row in range(1, 7):
        draw.text((10, row * height // 7 - height // 20), "Atelier restores old pictures " * 3, fill=255, font=font)
    masks["text"] = np.asarray(text) > 0
    scribble = Image.new("L", size, 0)
    draw = ImageDraw.Draw(scribble)
    for _ in range(12):
        points = [tuple(int(v) for v in rng.integers(0, (width, height))) for _ in range(4)]
        draw.line(points, fill=255, width=int(rng.integers(4, 14)))
    masks["scribbles"] = np.asarray(scribble) > 0
    blocks = np.zeros((height, width), bool)
    for _ in range(3):
        side = int(min(size) * 0.12)
        y, x = rng.integers(0, height - side), rng.integers(0, width - side)
        blocks[y : y + side, x : x + side] = True
    masks["blocks"] = blocks
    return masks


def bench_inpaint(pictures: dict[str, np.ndarray], dip_steps: int) -> dict:
    cases = []
    folder = SHARED / "restore" / "inpainting"
    for name in ("kate", "library", "vase"):
        if (folder / f"{name}.png").is_file():
            rgb = read_image(folder / f"{name}.png")[0]
            keep = np.asarray(Image.open(folder / f"{name}_mask.png").convert("L")) > 127  # DIP's masks: white = keep
            cases.append((name, "dip-mask", rgb, ~keep))
    for i, name in enumerate(("tubingen", "astronaut", "chelsea")):
        rgb = pictures[name]
        if max(rgb.shape[:2]) > 512:
            rgb = np.asarray(Image.fromarray(degrade.to_uint8(rgb)).resize((512, 512 * rgb.shape[0] // rgb.shape[1])), np.float32) / 255
        for kind, hole in synthetic_masks((rgb.shape[1], rgb.shape[0]), i).items():
            cases.append((name, kind, rgb, hole))
    rows = []
    for name, kind, rgb, hole in cases:
        damaged = np.where(hole[..., None], 0.0, rgb).astype(np.float32)
        row = {"picture": name, "mask": kind, "hole_fraction": round(float(hole.mean()), 4)}
        for method in INPAINT_METHODS:
            out, seconds = timed(api.inpaint, damaged, hole, method=method)
            row[method] = {"psnr": round(psnr(out, rgb), 3), "ssim": round(ssim(out, rgb), 4), "seconds": round(seconds, 3)}
        rows.append(row)
    summary = {m: round(float(np.mean([r[m]["psnr"] for r in rows])), 3) for m in INPAINT_METHODS}
    by_mask = {
        kind: {m: round(float(np.mean([r[m]["psnr"] for r in rows if r["mask"] == kind])), 3) for m in INPAINT_METHODS}
        for kind in sorted({r["mask"] for r in rows})
    }
    name, kind, rgb, hole = cases[2] if len(cases) > 2 else cases[0]  # vase (320 px): DIP is minutes per picture
    damaged = np.where(hole[..., None], 0.0, rgb).astype(np.float32)
    dip, seconds = timed(api.inpaint, damaged, hole, method="dip", steps=dip_steps)
    dip_row = {"picture": name, "mask": kind, "steps": dip_steps, "seconds": round(seconds, 1), "dip": round(psnr(dip, rgb), 3)}
    dip_row |= {m: next(r[m]["psnr"] for r in rows if r["picture"] == name and r["mask"] == kind) for m in INPAINT_METHODS}
    return {"rows": rows, "mean_psnr": summary, "mean_psnr_by_mask": by_mask, "dip": dip_row}, cases


def contact_sheets(pictures: dict[str, np.ndarray], cases: list) -> None:
    """Crops of each method's output, side by side, to look at."""
    IMAGES.mkdir(parents=True, exist_ok=True)

    def strip(tiles: list[tuple[str, np.ndarray]], path: Path) -> None:
        side = tiles[0][1].shape[0]
        sheet = Image.new("RGB", (side * len(tiles), side + 22), (30, 26, 20))
        draw = ImageDraw.Draw(sheet)
        for i, (label, tile) in enumerate(tiles):
            sheet.paste(Image.fromarray(degrade.to_uint8(tile)), (i * side, 22))
            draw.text((i * side + 6, 4), label, fill=(240, 230, 214))
        sheet.save(path, quality=90)

    rows = []
    high = degrade.crop_to_multiple(pictures["zebra"], 4)
    low = degrade.downscale(high, 4)
    crop = (slice(100, 292), slice(150, 342))
    outs = [("bicubic x4", api.upscale(low, 4, method="bicubic")), ("Atelier x4", api.upscale(low, 4)), ("original", high)]
    rows.append([(label, out[crop]) for label, out in outs])
    clean = grey(pictures["F16"])
    noisy = degrade.add_noise(clean, 25, np.random.default_rng(25))
    crop = (slice(150, 342), slice(150, 342))
    outs = [
        ("noisy s25", np.clip(noisy, 0, 1)),
        ("NLM", api.denoise(np.clip(noisy, 0, 1), 25, method="nlm")[0]),
        ("Atelier", api.denoise(noisy, 25)[0]),
        ("original", clean),
    ]
    rows.append([(label, out[crop]) for label, out in outs])
    for label, tiles in (("sr", rows[0]), ("denoise", rows[1])):
        strip(tiles, IMAGES / f"restore-{label}.jpg")
    for name, kind in (("library", "dip-mask"), ("chelsea", "blocks")):
        case = next((c for c in cases if c[0] == name and c[1] == kind), None)
        if case is None:
            continue
        _, _, rgb, hole = case
        damaged = np.where(hole[..., None], 0.0, rgb).astype(np.float32)
        side = min(rgb.shape[:2])
        tiles = [("damaged", damaged)] + [(m, api.inpaint(damaged, hole, method=m)) for m in INPAINT_METHODS] + [("original", rgb)]
        strip([(label, t[:side, :side]) for label, t in tiles], IMAGES / f"restore-inpaint-{name}.jpg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dip-steps", type=int, default=300)
    parser.add_argument("--only", default="sr,denoise,jpeg,inpaint")
    parser.add_argument("--sheet", action="store_true", help="Also write contact sheets to docs/images.")
    args = parser.parse_args()
    torch.set_num_threads(2)
    pictures = held_out()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results.update(
        {
            "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "models": {c["name"]: {k: c.get(k) for k in ("steps", "trained_seconds")} for c in builtin_models()},
        }  # fmt: skip
    )
    cases: list = []
    for part in args.only.split(","):
        print("measuring", part, flush=True)
        if part == "sr":
            results["super_resolution"] = bench_sr(pictures, args.dip_steps)
        elif part == "denoise":
            results["denoising"] = bench_denoise(pictures, args.dip_steps)
        elif part == "jpeg":
            results["jpeg"] = bench_jpeg(pictures)
        elif part == "inpaint":
            results["inpainting"], cases = bench_inpaint(pictures, args.dip_steps)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    if args.sheet:
        contact_sheets(pictures, cases or bench_inpaint(pictures, 1)[1])
    for key in ("super_resolution", "denoising", "jpeg", "inpainting"):
        if key in results:
            part = results[key]
            print(key, json.dumps({k: v for k, v in part.items() if k != "rows"}, indent=1))


if __name__ == "__main__":
    main()
