"""Painting with the arbitrary-style network: any painting, one pass, no PyTorch needed.

The network is an encoder, a transform and a decoder (see :mod:`atelier.style.arbitrary.network`).
Here the encoder and decoder run as two onnxruntime sessions and the transform runs in NumPy
(:mod:`atelier.style.arbitrary.transforms`), which is what lets a whole
``atelier stylize photo.jpg --style painting.jpg`` process start in a fraction of a second.

For a photo the network takes in one go (up to :data:`TILE_MEGAPIXELS`), the steps are:

1. each painting is read at the output's size times ``style_scale`` (its brush strokes keep
   their size relative to the output), encoded, and summarised level by level as a mean and
   a covariance (:class:`~atelier.style.arbitrary.transforms.Statistics`); several paintings
   are blended with their weights; ``--preserve-color histogram`` recolours them first;
2. the photo is encoded; every level is transformed toward the paintings' statistics, with
   ``strength`` blending (above 1: beyond), and a mask limiting where;
3. the decoder paints the picture; ``--preserve-color`` (luminance) puts the photo's chroma back.

Bigger photos are processed in overlapping tiles that share the *whole photo's* statistics
(a first pass over the tiles measures them), so memory stays bounded and no seam shows.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from atelier.errors import InputError
from atelier.io import fit_size, read_source, resize_array
from atelier.io.paths import file_sha256
from atelier.ort import session as ort_session
from atelier.style.arbitrary.stored import load_statistics
from atelier.style.arbitrary.transforms import Statistics, apply
from atelier.style.fast.pack import resolve_style
from atelier.style.options import normalised_weights
from atelier.style.palette import keep_photo_colours, match_colours

#: The shipped model; ``ATELIER_ARBITRARY_MODEL`` names another folder (one written by
#: ``atelier train-arbitrary``) to use instead.
SHIPPED_MODEL = Path(__file__).parent / "model"
MODEL_ENV = "ATELIER_ARBITRARY_MODEL"


def model_dir() -> Path:
    return Path(os.environ[MODEL_ENV]) if os.environ.get(MODEL_ENV) else SHIPPED_MODEL


#: Photos with more pixels than this are painted in tiles (bounded memory).
TILE_MEGAPIXELS = 2.5
TILE = 1024
HALO = 64
#: Paintings are never read larger than this (their statistics need no more pixels).
MAX_STYLE_SIDE = 2048


@dataclass(frozen=True)
class Card:
    """What the shipped model is and how to run it (``model/card.json``)."""

    multiple: int
    """Image sides the encoder takes are multiples of this (the photo is padded, then cropped)."""
    levels: list[dict]
    """Per feature level: ``{"name", "channels", "stride", "transform": "wct"|"adain"}``."""
    info: dict

    @classmethod
    def load(cls, folder: Path) -> Card:
        data = json.loads((folder / "card.json").read_text())
        return cls(int(data["multiple"]), list(data["levels"]), data)


def available(folder: Path | None = None) -> bool:
    """Whether the arbitrary-style network is installed (shipped, or named by ``ATELIER_ARBITRARY_MODEL``)."""
    folder = folder or model_dir()
    return all((folder / name).is_file() for name in ("card.json", "encoder.onnx", "decoder.onnx"))


class Network:
    """The encoder and decoder, on onnxruntime; arrays ``(H, W, 3)`` in, feature lists out."""

    def __init__(self, folder: Path) -> None:
        if not available(folder):
            raise InputError(f"{folder}: no arbitrary-style network here (card.json, encoder.onnx, decoder.onnx); use --engine optimize")
        self.card = Card.load(folder)
        self.files = [folder / "encoder.onnx", folder / "decoder.onnx"]
        self.encoder, self.decoder = (ort_session(str(f), memory_arena=False) for f in self.files)

    def level_weights(self, detail: float) -> list[float]:
        """How much of each level the decoder gets at ``detail`` (1: all; 0.5: the finest level
        blanked; 0: the two finest). Networks trained without skip dropout always get all."""
        levels = len(self.card.levels)
        if float(self.card.info.get("settings", {}).get("skip_dropout", 0)) <= 0:
            return [1.0] * levels
        weights = [min(1.0, max(0.0, 2 * detail - 1)), min(1.0, max(0.0, 2 * detail))]
        return weights + [1.0] * (levels - 2)

    @cached_property
    def encoder_sha256(self) -> str:
        """Identifies the encoder (stored painting statistics are only valid for the one they were measured with)."""
        return file_sha256(self.files[0])

    def padded(self, n: int) -> int:
        m = self.card.multiple
        return max(2 * m, n + (-n) % m)

    def encode(self, image: np.ndarray) -> list[np.ndarray]:
        """``(H, W, 3)`` in [0, 1] (sides multiples of ``card.multiple``) -> ``[(C, h, w), ...]``."""
        batch = np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)
        return [f[0] for f in self.encoder.run(None, {self.encoder.get_inputs()[0].name: batch})]

    def decode(self, features: Sequence[np.ndarray]) -> np.ndarray:
        names = [i.name for i in self.decoder.get_inputs()]
        out = self.decoder.run(None, {n: np.ascontiguousarray(f[None], dtype=np.float32) for n, f in zip(names, features)})[0]
        return np.clip(out[0].transpose(1, 2, 0), 0, 1)


@lru_cache(maxsize=2)
def _network(folder: str) -> Network:
    return Network(Path(folder))


def network() -> Network:
    """The installed network (loaded once per process and folder)."""
    return _network(str(model_dir()))


def _pad(image: np.ndarray, net: Network, mode: str = "reflect") -> tuple[np.ndarray, int, int]:
    """``image`` padded to sides the network takes (cropped back after), and its own height and width."""
    h, w = image.shape[:2]
    mode = mode if min(h, w) > 1 else "edge"
    return np.pad(image, ((0, net.padded(h) - h), (0, net.padded(w) - w), (0, 0)), mode=mode), h, w


def painting_statistics(net: Network, painting: np.ndarray) -> list[Statistics]:
    """Per level, the mean and covariance of a painting's features (``(H, W, 3)`` in [0, 1])."""
    padded, _, _ = _pad(painting, net)
    return [Statistics.of(f.reshape(f.shape[0], -1)) for f in net.encode(padded)]


def style_statistics(net: Network, paintings: Sequence[np.ndarray], weights: Sequence[float]) -> list[Statistics]:
    """Per level, the blended mean and covariance of the paintings' features."""
    return blend_statistics([painting_statistics(net, p) for p in paintings], weights)


def blend_statistics(per_painting: Sequence[list[Statistics]], weights: Sequence[float]) -> list[Statistics]:
    return [Statistics.blend([p[level] for p in per_painting], list(weights)) for level in range(len(per_painting[0]))]


def _transform(
    net: Network,
    features: list[np.ndarray],
    styles: list[Statistics],
    strength: float,
    mask: np.ndarray | None,
    content: list[Statistics] | None = None,
    detail: float = 1.0,
) -> list[np.ndarray]:
    out = []
    for level, (f, style, keep) in enumerate(zip(features, styles, net.level_weights(detail))):
        c, h, w = f.shape
        m = None if mask is None else resize_array(mask[..., 0], w, h).reshape(-1)
        kind = net.card.levels[level].get("transform", "wct")
        moved = apply(kind, f.reshape(c, -1), style, strength, m, None if content is None else content[level])
        if keep < 1:
            # Blank the finest levels (as in training with skip dropout), by strength and only where the mask paints.
            fade = min(strength, 1.0) * (1 - keep) * (np.ones(1) if m is None else m.reshape(1, -1))
            moved = moved * (1 - fade).astype(np.float32)
        out.append(moved.reshape(c, h, w).astype(np.float32))
    return out


def _tiles(n: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the core of each tile along a side of ``n`` pixels."""
    count = max(1, -(-n // TILE))
    edges = np.linspace(0, n, count + 1).round().astype(int)
    return list(zip(edges[:-1], edges[1:]))


def _paint_tiled(
    net: Network,
    photo: np.ndarray,
    styles: list[Statistics],
    strength: float,
    mask: np.ndarray | None,
    shared: bool = True,
    detail: float = 1.0,
) -> np.ndarray:
    """Paint a big photo tile by tile (with a halo of context) using whole-photo statistics
    (``shared=False``: each tile's own, which makes tiles disagree; kept to show the difference)."""
    h, w = photo.shape[:2]
    boxes = [(y0, y1, x0, x1) for y0, y1 in _tiles(h) for x0, x1 in _tiles(w)]

    def window(y0, y1, x0, x1):
        top, left = max(0, y0 - HALO), max(0, x0 - HALO)
        bottom, right = min(h, y1 + HALO), min(w, x1 + HALO)
        return top, bottom, left, right

    # First pass: the photo's statistics, accumulated over the tiles' cores.
    sums = [[0, 0.0, 0.0] for _ in styles]  # per level: positions, sum, sum of outer products
    for y0, y1, x0, x1 in boxes:
        top, bottom, left, right = window(y0, y1, x0, x1)
        padded, _, _ = _pad(photo[top:bottom, left:right], net)
        for level, f in enumerate(net.encode(padded)):
            c, fh, fw = f.shape
            sy, sx = padded.shape[0] // fh, padded.shape[1] // fw
            core = f[:, (y0 - top) // sy : (y1 - top) // sy, (x0 - left) // sx : (x1 - left) // sx].reshape(c, -1).astype(np.float64)
            sums[level][0] += core.shape[1]
            sums[level][1] = sums[level][1] + core.sum(1)
            sums[level][2] = sums[level][2] + core @ core.T
    content = []
    for n, s1, s2 in sums:
        mean = s1 / n
        content.append(Statistics(mean, (s2 - n * np.outer(mean, mean)) / max(1, n - 1)))

    # Second pass: transform and decode each tile, keep its core.
    out = np.zeros_like(photo)
    for y0, y1, x0, x1 in boxes:
        top, bottom, left, right = window(y0, y1, x0, x1)
        padded, th, tw = _pad(photo[top:bottom, left:right], net)
        tile_mask = None if mask is None else _pad(mask[top:bottom, left:right], net, mode="edge")[0]
        features = _transform(net, net.encode(padded), styles, strength, tile_mask, content if shared else None, detail)
        painted = net.decode(features)[:th, :tw]
        out[y0:y1, x0:x1] = painted[y0 - top : y1 - top, x0 - left : x1 - left]
    return out


@dataclass
class PreparedStyle:
    """The style side of a painting, computed once: per level, the blended statistics of the
    paintings (a video reuses it for every frame)."""

    statistics: list[Statistics]
    files: list[Path]
    """Model and stored-statistics files used (for the recipe)."""
    stored: bool
    """True when a built-in's stored statistics took part (colours are then kept by luminance)."""


def prepare_style(
    styles: Sequence[str], style_weights: Sequence[float] | None, settings, size: tuple[int, int], photo: np.ndarray | None = None
) -> PreparedStyle:
    """The paintings at ``styles`` read at the scale a ``size`` = ``(height, width)`` output
    needs (``settings.style_scale``), as blended statistics. ``photo`` is what
    ``--preserve-color --color-method histogram`` recolours the paintings towards."""
    net = network()
    weights = normalised_weights(style_weights, len(styles))
    h, w = size
    side = min(MAX_STYLE_SIDE, max(16, round(max(h, w) * settings.style_scale)))
    per_painting, used, files, stored = [], [], list(net.files), False
    for spec, weight in zip(styles, weights):
        if weight <= 0:
            continue
        builtin = resolve_style(str(spec))
        if builtin is not None and builtin.stored:
            # A built-in style: the painting's stored statistics (the file does not ship).
            per_painting.append(load_statistics(builtin.stats_path, side, encoder_sha256=net.encoder_sha256))
            files.append(builtin.stats_path)
            stored = True
        else:
            rgb, _ = read_source(spec, max_side=side)
            rgb = resize_array(rgb, *fit_size(rgb.shape[1], rgb.shape[0], side))
            if settings.preserve_color and settings.color_method == "histogram" and photo is not None:
                rgb = match_colours(rgb, photo)  # the painting in the photo's palette
            per_painting.append(painting_statistics(net, rgb))
        used.append(weight)
    return PreparedStyle(blend_statistics(per_painting, used), files, stored)


def paint_prepared(photo: np.ndarray, style: PreparedStyle, settings, *, mask: np.ndarray | None = None) -> np.ndarray:
    """``photo`` (``(H, W, 3)`` in [0, 1]) painted with a prepared style."""
    net = network()
    h, w = photo.shape[:2]
    if h * w > TILE_MEGAPIXELS * 1e6:
        image = _paint_tiled(net, photo, style.statistics, settings.strength, mask, detail=settings.detail)
    else:
        padded, _, _ = _pad(photo, net)
        padded_mask = None if mask is None else _pad(mask, net, mode="edge")[0]
        features = _transform(net, net.encode(padded), style.statistics, settings.strength, padded_mask, detail=settings.detail)
        image = net.decode(features)[:h, :w]
    if settings.preserve_color and (settings.color_method == "luminance" or style.stored):
        # (a stored painting cannot be recoloured first, so built-ins keep colours by luminance)
        image = keep_photo_colours(image, photo)
    return image.astype(np.float32)


def paint(
    photo: np.ndarray, styles: Sequence[str], style_weights: Sequence[float] | None, settings, *, mask: np.ndarray | None = None
) -> tuple[np.ndarray, list[str], list[Path]]:
    """Paint ``photo`` (``(H, W, 3)`` in [0, 1], already at the output size) with the paintings at
    ``styles``. Returns the picture, the runtimes used and the model files (for the recipe)."""
    style = prepare_style(styles, style_weights, settings, photo.shape[:2], photo)
    return paint_prepared(photo, style, settings, mask=mask), ["onnx"], style.files
