"""Brush strokes for the instant engine: noise drawn out along the photo's contours, added to
the photo's features before the transform.

The transform moves each position's features onto the painting's distribution, so a flat
region of the photo (a clear sky) stays flat: the decoder paints it as a soft wash. Texture
synthesis with the same transforms starts from noise (Li et al. 2017); here the noise is
first smeared along the photo's edge-tangent flow (line integral convolution, Cabral &
Leedom 1993; the flow from the smoothed structure tensor, as in Kyprianidis & Döllner's
flow-based painterly filters), so that after the transform it becomes streaks of the
painting's colours and marks that follow the photo's shapes, like a painter's strokes.
Strong edges get less of it (they stay readable).

The field is made once per picture at a *reference* size (the working size divided by the
style scale), so strokes keep their size relative to the picture, a bigger ``--style-scale``
gives longer, broader strokes, and the tiles of a big photo read the same field (no seams).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atelier.io import resize_array
from atelier.style.arbitrary.halos import box_mean
from atelier.style.palette import RGB_TO_YIQ

#: The reference size's longer side at style scale 1 (the engine's default working size).
REFERENCE_SIDE = 384
#: Stroke length each way from a point, as a fraction of the reference's longer side (16 px at 384).
LENGTH = 1 / 24
#: Smoothing of the structure tensor that orients the strokes (6 px at 384): smaller follows
#: the photo's detail (and its noise) more closely; larger wraps strokes around objects in
#: wide auras (tried 12 px: visible ghost outlines beside the lighthouse).
FLOW_SMOOTHING = 1 / 64
#: How much of the noise the strongest edges keep out (1: none there).
EDGE_CALM = 0.8
#: Edge strength is the gradient magnitude over this percentile of the picture's own, or over
#: :data:`EDGE_FLOOR` if that is higher (a picture that is mostly clear sky must not read its
#: grain as edges).
EDGE_PERCENTILE = 90
#: Sobel magnitude (luminance in [0, 1], blurred over 2 px) of a luminance step of about 0.15:
#: the four photos of the benchmark have their 90th percentile at 0.25-0.66.
EDGE_FLOOR = 0.25
#: Noise per level, in units of the level's feature standard deviation, at ``--strokes 1``.
#: Level 3 (1/16) gets none: noise there only makes large blotches.
LEVEL_AMOUNTS = (0.2, 0.4, 0.4, 0.0)
#: Independent noise fields smeared per level, mixed into its channels.
NOISE_FIELDS = 8


@dataclass
class StrokeField:
    """Stroke noise per level at the reference size, and how to read it at any picture size."""

    levels: list[np.ndarray | None]
    """Per level: ``(C, h, w)`` float32 noise (unit standard deviation per channel), or None."""
    strides: list[int]
    scale: float
    """Reference pixels per picture pixel."""

    def window(self, level: int, top: int, left: int, shape: tuple[int, int]) -> np.ndarray | None:
        """The field for a ``shape`` = ``(h, w)`` grid of level ``level``'s cells whose first
        cell starts at picture pixel ``(top, left)``: ``(C, h, w)`` float32, or None."""
        field = self.levels[level]
        if field is None:
            return None
        s = self.strides[level]
        h, w = shape
        if self.scale == 1 and top % s == 0 and left % s == 0:  # the cells themselves (no copy)
            y0, x0 = top // s, left // s
            if y0 + h <= field.shape[1] and x0 + w <= field.shape[2]:
                return field[:, y0 : y0 + h, x0 : x0 + w]
        # cell centres in picture pixels -> reference pixels -> reference cells
        ys = ((top + (np.arange(h) + 0.5) * s) * self.scale) / s - 0.5
        xs = ((left + (np.arange(w) + 0.5) * s) * self.scale) / s - 0.5
        return bilinear(field.transpose(1, 2, 0), ys[:, None], xs[None, :]).transpose(2, 0, 1)


def bilinear(image: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """``image`` (``(H, W)`` or ``(H, W, C)``) read at fractional positions ``(ys, xs)``
    (broadcast together), bilinear, positions clamped to the picture."""
    h, w = image.shape[:2]
    ys = np.clip(ys, 0, h - 1).astype(np.float32)
    xs = np.clip(xs, 0, w - 1).astype(np.float32)
    y0 = np.minimum(ys.astype(np.int32), h - 2) if h > 1 else np.zeros(ys.shape, np.int32)
    x0 = np.minimum(xs.astype(np.int32), w - 2) if w > 1 else np.zeros(xs.shape, np.int32)
    fy, fx = ys - y0, xs - x0
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    if image.ndim == 3:
        fy, fx = fy[..., None], fx[..., None]
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return (top * (1 - fy) + bottom * fy).astype(np.float32)


def blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """About a Gaussian blur of ``sigma`` pixels: three box blurs (windows clipped at the borders)."""
    radius = max(0, round((np.sqrt(4 * sigma * sigma + 1) - 1) / 2))
    for _ in range(3):
        image = box_mean(image, radius)
    return image.astype(np.float32)


def gradients(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sobel derivatives ``(gx, gy)`` of ``gray`` (``(H, W)``), borders repeated."""
    p = np.pad(gray, 1, mode="edge").astype(np.float32)
    smooth_y = p[:-2] + 2 * p[1:-1] + p[2:]  # (H, W + 2)
    smooth_x = p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]  # (H + 2, W)
    return smooth_y[:, 2:] - smooth_y[:, :-2], smooth_x[2:] - smooth_x[:-2]


def structure_tensor(gx: np.ndarray, gy: np.ndarray, smoothing: float, s: int = 2) -> np.ndarray:
    """``(3, H / s, W / s)``: the structure tensor ``(Jxx, Jyy, Jxy)`` of a picture's derivatives
    ``(gx, gy)`` (:func:`gradients`) averaged over ``s`` x ``s`` blocks, then smoothed over
    ``smoothing`` pixels (of the picture)."""
    products = block_mean(np.stack([gx * gx, gy * gy, gx * gy]), s)
    return np.stack([blur(j, smoothing / s) for j in products])


def tangent_flow(tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``(tx, ty)`` along the edges: the tensor's minor eigenvector."""
    jxx, jyy, jxy = tensor
    theta = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + np.pi / 2  # the gradient's direction, turned a quarter
    return np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)


def block_mean(array: np.ndarray, s: int) -> np.ndarray:
    """``(..., H, W)`` averaged over ``s`` x ``s`` blocks (the last ones padded by repetition):
    ``(..., ceil(H / s), ceil(W / s))``, one value per feature cell of stride ``s``."""
    h, w = array.shape[-2:]
    lh, lw = -(-h // s), -(-w // s)
    if (lh * s, lw * s) != (h, w):
        array = np.pad(array, [(0, 0)] * (array.ndim - 2) + [(0, lh * s - h), (0, lw * s - w)], mode="edge")
    total = np.zeros((*array.shape[:-2], lh, lw), dtype=np.float32)
    for dy in range(s):  # strided sums: several times faster than a mean over reshaped axes
        for dx in range(s):
            total += array[..., dy::s, dx::s]
    return total / np.float32(s * s)


def smear(noise: np.ndarray, tx: np.ndarray, ty: np.ndarray, steps: int) -> np.ndarray:
    """``noise`` (``(C, H, W)`` float32) averaged along the flow's streamlines, ``steps`` cells
    each way, with a Hann taper (line integral convolution; nearest cells, which the averaging
    smooths anyway, and several times faster than bilinear reads). Orientations have no sign,
    so each step keeps the direction closest to the previous one."""
    c, h, w = noise.shape
    rows = np.ascontiguousarray(noise.reshape(c, -1).T)  # (cells, C): one read fetches a cell's channels
    flat_tx, flat_ty = tx.reshape(-1), ty.reshape(-1)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    total, weight = rows.copy(), 1.0
    for sign in (1.0, -1.0):
        py, px = ys.reshape(-1).copy(), xs.reshape(-1).copy()
        dx, dy = sign * flat_tx, sign * flat_ty
        for step in range(1, steps + 1):
            px, py = np.clip(px + dx, 0, w - 1), np.clip(py + dy, 0, h - 1)
            cell = (py + 0.5).astype(np.int32) * w + (px + 0.5).astype(np.int32)
            nx, ny = flat_tx[cell], flat_ty[cell]
            flip = np.where(nx * dx + ny * dy < 0, np.float32(-1), np.float32(1))
            dx, dy = nx * flip, ny * flip
            taper = 0.5 + 0.5 * np.cos(np.pi * step / (steps + 1))
            total += np.float32(taper) * np.take(rows, cell, axis=0)
            weight += taper
    return np.ascontiguousarray((total / np.float32(weight)).T).reshape(c, h, w)


def edge_calm(gx: np.ndarray, gy: np.ndarray, s: int = 2) -> np.ndarray:
    """How much stroke noise to keep per ``s`` x ``s`` block of a picture with derivatives
    ``(gx, gy)``: 1 in flat regions, down to ``1 - EDGE_CALM`` on the strongest edges."""
    magnitude = blur(block_mean(np.sqrt(gx * gx + gy * gy), s), 2.0 / s)
    flat = magnitude.reshape(-1)
    k = (flat.size - 1) * EDGE_PERCENTILE // 100  # (np.percentile would import numpy.ma: 20 ms)
    edges = np.clip(magnitude / max(float(np.partition(flat, k)[k]), EDGE_FLOOR), 0, 1)
    return (1 - EDGE_CALM * edges).astype(np.float32)


def stroke_field(photo: np.ndarray, channels: list[int], strides: list[int], style_scale: float = 1.0, seed: int = 0) -> StrokeField:
    """The stroke noise for ``photo`` (``(H, W, 3)`` float in [0, 1], the picture as painted),
    for levels of ``channels`` features at ``strides``. Deterministic for a ``seed``."""
    h, w = photo.shape[:2]
    side = max(32, min(max(h, w), round(REFERENCE_SIDE / style_scale)))
    scale = side / max(h, w)
    rh, rw = max(1, round(h * scale)), max(1, round(w * scale))
    gray = resize_array(photo, rw, rh) @ RGB_TO_YIQ[0].astype(np.float32)
    # One tensor and one edge map for all levels, at the first level's cells, averaged down to
    # each level's (smoothing at the reference size, so strokes turn the same way at every level).
    first = strides[0]
    gx, gy = gradients(gray)
    keep = edge_calm(gx, gy, first)
    tensor = structure_tensor(gx, gy, side * FLOW_SMOOTHING, first)
    rng = np.random.default_rng(seed)
    levels: list[np.ndarray | None] = []
    for level, (c, s) in enumerate(zip(channels, strides)):
        if level_amount(level) == 0:
            levels.append(None)
            continue
        tx, ty = tangent_flow(block_mean(tensor, s // first))
        # A few smeared noise fields mixed into the level's channels (the smearing is linear, so
        # this is smearing noise that lies in a few random directions of the feature space).
        # Measured on Tübingen x The Starry Night, mean change of the picture from no strokes:
        # one field per channel 0.036, 8 fields 0.032, 4 fields 0.024 (visibly fainter); 8
        # take about half the time of one per channel.
        base = min(c, NOISE_FIELDS)
        noise = rng.standard_normal((base, *tx.shape), dtype=np.float32)
        # (one cell per step: steps of 2 cells, half the time, left a fine ribbed grain in skies)
        field = smear(noise, tx, ty, max(1, round(side * LENGTH / s)))
        mix = rng.standard_normal((c, base), dtype=np.float32)
        field = (mix @ field.reshape(base, -1)).reshape(c, *tx.shape)
        field /= field.std(axis=(1, 2), keepdims=True) + 1e-6
        field *= block_mean(keep, s // first)[None]
        levels.append(field)
    return StrokeField(levels, list(strides), scale)


def level_amount(level: int) -> float:
    """Noise of level ``level`` at ``--strokes 1``, in feature standard deviations."""
    return LEVEL_AMOUNTS[level] if level < len(LEVEL_AMOUNTS) else 0.0
