"""Training curves drawn with Pillow (no plotting library needed): any ``log.csv`` of the runner.

The top panel shows the metrics logged at (nearly) every step, smoothed; the bottom panel
the ones logged now and then (evaluation scores such as ``val_loss`` or ``fid_effnet``).
"""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image, ImageDraw

from atelier.io.atomic import atomic_write

PALETTE = [(214, 96, 77), (70, 130, 180), (60, 150, 80), (150, 90, 170), (230, 160, 40), (90, 90, 90), (40, 170, 170), (200, 80, 150)]
Series = dict[str, list[tuple[float, float]]]


def _panel(draw: ImageDraw.ImageDraw, box: tuple[int, int, int, int], series: Series, title: str, colors: dict[str, tuple]) -> None:
    left, top, right, bottom = box
    draw.rectangle(box, outline=(180, 180, 180))
    points = [p for values in series.values() for p in values]
    if not points:
        draw.text((left + 8, top + 8), f"{title}: no data yet", fill="gray")
        return
    x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
    y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def scale(x: float, y: float) -> tuple[float, float]:
        return left + 40 + (x - x0) / (x1 - x0) * (right - left - 50), bottom - 20 - (y - y0) / (y1 - y0) * (bottom - top - 40)

    for offset, (name, values) in enumerate(series.items()):
        xy = [scale(x, y) for x, y in values]
        if len(xy) > 1:
            draw.line(xy, fill=colors[name], width=2)
        for x, y in xy if len(xy) < 40 else []:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=colors[name])
        draw.text((left + 50 + 130 * offset, top + 6), name, fill=colors[name])
    draw.text((left + 4, top + 20), f"{y1:.3g}", fill="gray")
    draw.text((left + 4, bottom - 30), f"{y0:.3g}", fill="gray")
    draw.text((right - 90, bottom - 16), f"step {int(x1)}", fill="gray")
    draw.text((left + 40, bottom - 16), f"step {int(x0)}", fill="gray")


def _smooth(values: list[tuple[float, float]], points: int = 300) -> list[tuple[float, float]]:
    """Mean of consecutive windows, so that thousands of noisy steps read as a curve."""
    if len(values) <= points:
        return values
    size = len(values) / points
    return [
        (
            values[int((i + 1) * size) - 1][0],
            sum(v for _, v in values[int(i * size) : int((i + 1) * size)]) / max(1, int((i + 1) * size) - int(i * size)),
        )
        for i in range(points)
    ]


def plot_log(log_csv: str | Path, output: str | Path) -> Path:
    """Draw every numeric column of ``log_csv`` against its ``step`` column into ``output`` (PNG)."""
    with open(log_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [n for n in (rows[0].keys() if rows else []) if n != "step"]
    series: Series = {n: [] for n in names}
    for row in rows:
        for name in names:
            try:
                series[name].append((float(row["step"]), float(row[name])))
            except (TypeError, ValueError):
                continue
    dense = {n: _smooth(v) for n, v in series.items() if v and len(v) >= 0.5 * len(rows)}
    sparse = {n: v for n, v in series.items() if v and n not in dense}
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}
    image = Image.new("RGB", (720, 480), "white")
    draw = ImageDraw.Draw(image)
    _panel(draw, (10, 10, 710, 250), dense, "losses", colors)
    _panel(draw, (10, 260, 710, 470), sparse, "evaluation", colors)
    return atomic_write(Path(output), lambda stream: image.save(stream, format="PNG"))
