"""Training curves drawn with Pillow: losses on top, the Frechet score below."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image, ImageDraw

from atelier.io import pil_to_tensor, save_image

COLORS = {"loss_d": (214, 96, 77), "loss_g": (70, 130, 180), "fid_effnet": (60, 150, 80)}


def _panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], series: dict[str, list[tuple[float, float]]], title: str) -> None:
    left, top, right, bottom = box
    draw.rectangle(box, outline=(180, 180, 180))
    points = [p for values in series.values() for p in values]
    if not points:
        draw.text((left + 8, top + 8), f"{title}: no data yet", fill="gray")
        return
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)
    scale = lambda x, y: (left + 40 + (x - x0) / (x1 - x0) * (right - left - 50), bottom - 20 - (y - y0) / (y1 - y0) * (bottom - top - 40))  # noqa: E731
    for offset, (name, values) in enumerate(series.items()):
        xy = [scale(x, y) for x, y in values]
        if len(xy) > 1:
            draw.line(xy, fill=COLORS[name], width=2)
        for x, y in xy if len(xy) < 40 else []:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=COLORS[name])
        draw.text((left + 50 + 120 * offset, top + 6), name, fill=COLORS[name])
    draw.text((left + 4, top + 20), f"{y1:.3g}", fill="gray")
    draw.text((left + 4, bottom - 30), f"{y0:.3g}", fill="gray")
    draw.text((right - 80, bottom - 16), f"step {int(x1)}", fill="gray")
    draw.text((left + 40, bottom - 16), f"step {int(x0)}", fill="gray")


def plot_curves(log_csv: str | Path, output: str | Path) -> Path:
    rows = list(csv.DictReader(open(log_csv, newline="")))
    series = {name: [] for name in COLORS}
    for row in rows:
        for name in COLORS:
            if row.get(name):
                series[name].append((float(row["step"]), float(row[name])))
    image = Image.new("RGB", (720, 480), "white")
    draw = ImageDraw.Draw(image)
    _panel(draw, (10, 10, 710, 250), {k: series[k] for k in ("loss_d", "loss_g")}, "losses")
    _panel(draw, (10, 260, 710, 470), {"fid_effnet": series["fid_effnet"]}, "fid_effnet")
    return save_image(pil_to_tensor(image), output)
