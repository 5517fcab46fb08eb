"""A confusion-matrix picture, drawn with Pillow (no plotting library needed)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from atelier.io import pil_to_tensor, save_image
from atelier.metrics import ClassificationReport


def draw_confusion(report: ClassificationReport, path: str | Path, cell: int = 64) -> Path:
    """Rows: true class, columns: predicted. Cells are shaded by the row's fraction."""
    n = len(report.classes)
    label_w = max(80, 7 * max(len(c) for c in report.classes) + 16)
    width, height = label_w + n * cell + 10, label_w + n * cell + 30
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((10, 8), f"accuracy {report.accuracy:.3f}   macro F1 {report.macro_f1:.3f}", fill="black")
    draw.text((6, label_w - 16), "true \\ predicted", fill="gray")
    for i, name in enumerate(report.classes):
        draw.text((6, label_w + i * cell + cell // 2 - 6), name[:24], fill="black")
        column = Image.new("RGB", (label_w - 30, 14), "white")
        ImageDraw.Draw(column).text((0, 0), name[:24], fill="black")
        image.paste(column.rotate(90, expand=True), (label_w + i * cell + cell // 2 - 7, 24))
    for t, row in enumerate(report.confusion):
        total = max(1, sum(row))
        for p, count in enumerate(row):
            share = count / total
            shade = int(255 - 200 * share)
            x, y = label_w + p * cell, label_w + t * cell
            draw.rectangle([x, y, x + cell - 2, y + cell - 2], fill=(shade, shade, 255) if t == p else (255, shade, shade))
            draw.text((x + cell // 2 - 8, y + cell // 2 - 6), str(count), fill="black")
    return save_image(pil_to_tensor(image), path)
