"""Compare style-transfer configurations side by side: time and a contact sheet to look at.

    python benchmarks/style_search.py --out out/search --size 256 --steps 120 \
        --config atelier --config "vgg19-random-half" --config "atelier,tv_weight=1"

Each --config is ``PRESET[,field=value...]`` over :class:`atelier.style.StyleSettings`.
Writes one PNG per (config, pair), a contact sheet ``sheet.png`` and ``results.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from atelier.io import load_image, save_image, tensor_to_pil
from atelier.style import StyleSettings, stylize_steps

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "images"


def parse_config(text: str) -> tuple[str, StyleSettings]:
    preset, *pairs = text.split(",")
    settings = StyleSettings(backbone=preset)
    for pair in pairs:
        key, value = pair.split("=")
        current = getattr(settings, key)
        if isinstance(current, bool) or current is None and value in ("true", "false"):
            setattr(settings, key, value == "true")
        elif isinstance(current, (int, float)) and not isinstance(current, bool):
            setattr(settings, key, type(current)(float(value)))
        elif current is None and value.replace(".", "").isdigit():
            setattr(settings, key, float(value) if "." in value else int(value))
        else:
            setattr(settings, key, None if value == "none" else value)
    return text, settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/search"))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--config", action="append", required=True)
    parser.add_argument("--content", action="append", default=None)
    parser.add_argument("--style", action="append", default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    contents = args.content or [str(SHARED / "content" / "tubingen.jpg")]
    styles = args.style or [str(SHARED / "styles" / "starry_night.jpg")]
    rows, results = [], []
    for text in args.config:
        label, settings = parse_config(text)
        settings.size, settings.steps, settings.preview_every = args.size, args.steps, 0
        row = []
        for content_path in contents:
            for style_path in styles:
                content = load_image(content_path, max_side=max(args.size, 64)).rgb
                style = load_image(style_path, max_side=1024).rgb
                start = time.perf_counter()
                first = last = None
                for event in stylize_steps(content, [style], settings=settings):
                    if event.losses and first is None:
                        first = event.losses
                    if event.losses:
                        last = event.losses
                    if event.result is not None:
                        result = event.result
                seconds = time.perf_counter() - start
                name = f"{len(rows):02d}_{Path(content_path).stem}_{Path(style_path).stem}.png"
                save_image(result, args.out / name)
                results.append(
                    {
                        "config": label,
                        "content": content_path,
                        "style": style_path,
                        "seconds": round(seconds, 2),
                        "first": first,
                        "last": last,
                    }
                )
                print(
                    f"{label:60s} {Path(content_path).stem}+{Path(style_path).stem}: {seconds:6.1f}s  style {first['style']:.3f}->{last['style']:.3f} content {last['content']:.3f}",
                    flush=True,
                )
                row.append(tensor_to_pil(result))
        rows.append((label, row))
    cell = args.size
    sheet = Image.new("RGB", (cell * max(len(r) for _, r in rows), (cell + 18) * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (label, row) in enumerate(rows):
        draw.text((4, i * (cell + 18) + 2), label, fill="black")
        for j, im in enumerate(row):
            im.thumbnail((cell, cell))
            sheet.paste(im, (j * cell, i * (cell + 18) + 18))
    sheet.save(args.out / "sheet.png")
    (args.out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
