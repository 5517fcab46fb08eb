"""Painting with the arbitrary-style network: any painting, one pass, no PyTorch needed.

The network is an encoder, a transform and a decoder (see :mod:`atelier.style.arbitrary.network`).
Here the encoder and decoder run as two onnxruntime sessions and the transform runs in NumPy
(:mod:`atelier.style.arbitrary.transforms`), which is what lets a whole
``atelier stylize photo.jpg --style painting.jpg`` process start in a fraction of a second.

For a photo the network takes in one go (up to :data:`TILE_MEGAPIXELS`), the steps are:

0. a photo bigger than the working size (``work_size``, 384 px) is painted at that size and
   enlarged afterwards with its own fine detail added back
   (:mod:`atelier.style.arbitrary.enlarge`);
1. each painting is read at the painted size times ``style_scale`` (its brush strokes keep
   their size relative to the output), encoded, and summarised level by level as a mean, a
   covariance and a sample of feature vectors
   (:class:`~atelier.style.arbitrary.transforms.Statistics`), and its pixels' colours the
   same way; several paintings are blended with their weights; ``--preserve-color
   histogram`` recolours them first;
2. the photo is encoded; every level is transformed toward the paintings' statistics (WCT,
   then ``match_passes`` sliced-matching passes), with ``strength`` blending (above 1:
   beyond), and a mask limiting where;
3. the decoder paints the picture; halos are calmed; its colours move ``palette_match`` of
   the way onto the painting's (a sliced match of the pixels); ``--preserve-color``
   (luminance) puts the photo's chroma back instead.

The encoder and decoder run on horizontal strips of the picture (about :data:`STRIP_PIXELS`
each, with :data:`STRIP_HALO` rows of context above and below that are cropped off again):
the picture of one pass (measured identical at 700 and 1024 px; 32 rows of context left up to
0.08 apart next to strip borders) with a fraction of onnxruntime's working memory, which grows with
the pixels a convolution runs on.
The decoder is the int8 one where the model has it (:data:`PRECISIONS`), and a painting's
statistics are cached by content (:data:`STATISTICS_CACHE`).

Bigger photos are processed in overlapping tiles that share the *whole photo's* statistics
(a first pass over the tiles measures them), so memory stays bounded and no seam shows.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from atelier.errors import InputError
from atelier.io import as_float, fit_size, read_source, resize_array, to_uint8
from atelier.io.paths import cache_dir, file_sha256
from atelier.io.sources import source_sha256
from atelier.ort import release_memory
from atelier.ort import session as ort_session
from atelier.style.arbitrary.enlarge import enlarge, working_shape
from atelier.style.arbitrary.halos import calm_halos
from atelier.style.arbitrary.stored import load_statistics, save_statistics
from atelier.style.arbitrary.strokes import StrokeField, level_amount, stroke_field
from atelier.style.arbitrary.transforms import FIT_POSITIONS, SAMPLE, Moments, Statistics, apply, passes_at, sliced_match
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
#: Pixels in a strip's core (its rows: this over the picture's width, a multiple of 32, at
#: least 64; 256 rows at the 512 px working width), and rows of context added above and below it.
STRIP_PIXELS = 128 * 1024
STRIP_HALO = 64
#: Painting statistics measured from files are kept in ``~/.cache/atelier/painting-statistics``
#: (the same painting is usually tried on many photos, and measuring it is a fifth of a
#: 1024 px run); bump the version when the measurement changes. ``ATELIER_CACHE`` moves it.
STATISTICS_CACHE = "painting-statistics"
STATISTICS_VERSION = 4  # 3: strips of 128K pixels; 4: samples for sliced matching, colours (2026-12-07)
CACHE_ENTRIES = 200  # (about 0.7 MB each, uncompressed: 140 MB at most)
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


#: ``int8``: the decoder with integer weights and activations where the model folder has one
#: (``decoder.int8.onnx``: about 1.6x faster, within about 39 dB PSNR of the float decoder);
#: ``fp32``: always the float decoder. ``ATELIER_ARBITRARY_PRECISION`` chooses for a process.
PRECISIONS = ("int8", "fp32")
PRECISION_ENV = "ATELIER_ARBITRARY_PRECISION"


class Network:
    """The encoder and decoder, on onnxruntime; arrays ``(H, W, 3)`` in, feature lists out."""

    def __init__(self, folder: Path, precision: str = "int8") -> None:
        if not available(folder):
            raise InputError(f"{folder}: no arbitrary-style network here (card.json, encoder.onnx, decoder.onnx); use --engine optimize")
        if precision not in PRECISIONS:
            raise InputError(f"precision {precision!r} ({PRECISION_ENV}): choose one of {', '.join(PRECISIONS)}")
        self.card = Card.load(folder)
        decoder = folder / "decoder.int8.onnx"
        self.precision = "int8" if precision == "int8" and decoder.is_file() else "fp32"
        self.files = [folder / "encoder.onnx", decoder if self.precision == "int8" else folder / "decoder.onnx"]
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
        features = [f[0] for f in self.encoder.run(None, {self.encoder.get_inputs()[0].name: batch})]
        del batch
        release_memory()  # (the run's working memory: see release_memory)
        return features

    def decode(self, features: Sequence[np.ndarray]) -> np.ndarray:
        names = [i.name for i in self.decoder.get_inputs()]
        out = self.decoder.run(None, {n: np.ascontiguousarray(f[None], dtype=np.float32) for n, f in zip(names, features)})[0]
        release_memory()
        return np.clip(out[0].transpose(1, 2, 0), 0, 1)


@lru_cache(maxsize=2)
def _network(folder: str, precision: str) -> Network:
    return Network(Path(folder), precision)


def network(precision: str | None = None) -> Network:
    """The installed network (loaded once per process, folder and precision; ``precision``
    None: ``ATELIER_ARBITRARY_PRECISION``, else ``int8``)."""
    return _network(str(model_dir()), precision or os.environ.get(PRECISION_ENV) or "int8")


def _pad(image: np.ndarray, net: Network, mode: str = "reflect") -> tuple[np.ndarray, int, int]:
    """``image`` padded to sides the network takes (cropped back after), and its own height and width."""
    h, w = image.shape[:2]
    mode = mode if min(h, w) > 1 else "edge"
    return np.pad(image, ((0, net.padded(h) - h), (0, net.padded(w) - w), (0, 0)), mode=mode), h, w


def _strips(n: int, width: int) -> list[tuple[int, int]]:
    """``(start, stop)`` rows of the strips covering ``n`` rows of a picture ``width`` wide
    (``n`` and the starts multiples of 32), each about :data:`STRIP_PIXELS` in area."""
    core = max(64, STRIP_PIXELS // max(1, width) // 32 * 32)
    count = max(1, round(n / core))
    edges = [round(i * n / count / 32) * 32 for i in range(count)] + [n]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _strip_features(net: Network, image: np.ndarray) -> Iterator[tuple[int, int, list[np.ndarray]]]:
    """For each strip of ``image`` padded to sides the network takes (each window is padded on
    its own, as slicing the padded picture would give, without a padded copy of it all): its
    rows ``(start, stop)`` and its features per level, computed with :data:`STRIP_HALO` rows of
    context that are cropped off again."""
    h, w = image.shape[:2]
    height, width = net.padded(h), net.padded(w)
    mode = "reflect" if min(h, w) > 1 else "edge"
    for y0, y1 in _strips(height, width):
        top, bottom = max(0, y0 - STRIP_HALO), min(height, y1 + STRIP_HALO)
        window = image[top : min(bottom, h)]
        if window.shape[0] < bottom - top or w < width:
            # (the last window reaches the picture's bottom: its mirrored rows are all inside it)
            window = np.pad(window, ((0, bottom - top - window.shape[0]), (0, width - w), (0, 0)), mode=mode)
        cores = []
        for f in net.encode(window):
            stride = (bottom - top) // f.shape[1]
            cores.append(f[:, (y0 - top) // stride : (y1 - top) // stride])
        yield y0, y1, cores


def encode_strips(net: Network, image: np.ndarray) -> list[np.ndarray]:
    """``net.encode`` of ``image`` padded to sides the network takes, computed strip by strip:
    bounded memory, and the same features (measured identical at 700 and 1024 px: 64 rows of
    context cover what matters of the encoder's reach)."""
    out: list[np.ndarray] = []
    height = net.padded(image.shape[0])
    for y0, y1, cores in _strip_features(net, image):
        for level, f in enumerate(cores):
            stride = (y1 - y0) // f.shape[1]
            if len(out) <= level:
                out.append(np.empty((f.shape[0], height // stride, f.shape[2]), dtype=np.float32))
            out[level][:, y0 // stride : y1 // stride] = f
    return out


def decode_strips(net: Network, features: Sequence[np.ndarray], height: int) -> np.ndarray:
    """``net.decode(features)`` computed strip by strip, for a picture ``height`` rows high."""
    strides = [height // f.shape[1] for f in features]
    out = None
    for y0, y1 in _strips(height, features[0].shape[2] * strides[0]):
        top, bottom = max(0, y0 - STRIP_HALO), min(height, y1 + STRIP_HALO)
        piece = net.decode([f[:, top // s : bottom // s] for f, s in zip(features, strides)])
        if out is None:
            out = np.empty((height, piece.shape[1], 3), dtype=np.float32)
        out[y0:y1] = piece[y0 - top : y1 - top]
    return out


#: Pixels of a painting kept as the sample of its colours (for ``palette_match``).
COLOUR_SAMPLE = 4096
#: Sliced-matching passes of the palette match (in RGB: the painting's colour axes, then 2 rotations).
COLOUR_PASSES = 3


def painting_statistics(net: Network, painting: np.ndarray) -> list[Statistics]:
    """Per level, the mean, covariance and a sample of a painting's features (``(H, W, 3)``
    in [0, 1]), accumulated strip by strip (the features of the whole painting are never held
    at once); then, one more entry, the same of its pixels' colours (:func:`colours_of`)."""
    height, width = net.padded(painting.shape[0]), net.padded(painting.shape[1])
    moments = [Moments(SAMPLE, (height // lv["stride"]) * (width // lv["stride"])) for lv in net.card.levels]
    for _, _, cores in _strip_features(net, painting):
        for level, f in enumerate(cores):
            moments[level].add(f.reshape(f.shape[0], -1))
    colours = Moments(COLOUR_SAMPLE, painting.shape[0] * painting.shape[1])
    colours.add(painting.reshape(-1, 3).T)
    return [m.statistics() for m in moments] + [colours.statistics()]


def colours_of(statistics: Sequence[Statistics], net: Network) -> Statistics | None:
    """The colour entry of a painting's statistics (after its levels), if it has one."""
    return statistics[len(net.card.levels)] if len(statistics) > len(net.card.levels) else None


def style_statistics(net: Network, paintings: Sequence[np.ndarray], weights: Sequence[float]) -> list[Statistics]:
    """Per level, the blended mean and covariance of the paintings' features."""
    return blend_statistics([painting_statistics(net, p) for p in paintings], weights)


def blend_statistics(per_painting: Sequence[list[Statistics]], weights: Sequence[float]) -> list[Statistics]:
    return [Statistics.blend([p[level] for p in per_painting], list(weights)) for level in range(min(map(len, per_painting)))]


def _transform(
    net: Network,
    features: list[np.ndarray],
    styles: list[Statistics],
    strength: float,
    mask: np.ndarray | None,
    content: list[Statistics] | None = None,
    detail: float = 1.0,
    passes: int = 0,
    strokes: StrokePlacement | None = None,
) -> list[np.ndarray]:
    """``features`` transformed level by level, in place (they are not needed afterwards).
    ``content``: the whole photo's statistics (tiles), with samples for the sliced passes.
    ``strokes``: the stroke noise for these features, added (by strength, where the mask
    paints) before the transform.
    (Running the levels on threads was slower here: 0.36 against 0.24 s at 1024 px.)"""
    for level, (f, style, keep) in enumerate(zip(features, styles, net.level_weights(detail))):
        c, h, w = f.shape
        flat = f.reshape(c, -1)
        m = None if mask is None else resize_array(mask[..., 0], w, h).reshape(-1)
        kind = net.card.levels[level].get("transform", "wct")
        whole = None if content is None else content[level]
        noise = None if strokes is None or strength == 0 else strokes.noise(level, (h, w), m)
        if noise is not None:
            std = strokes.stds[level] if strokes.stds is not None else flat.std(axis=1)
            flat += strokes.scale(level, std, strength)[:, None] * noise
        sample = None if whole is None else whole.sample
        apply(kind, flat, style, strength, m, whole, out=flat, passes=passes_at(level, passes), content_sample=sample)
        if keep < 1:
            # Blank the finest levels (as in training with skip dropout), by strength and only where the mask paints.
            fade = min(strength, 1.0) * (1 - keep) * (np.ones(1) if m is None else m.reshape(1, -1))
            flat *= (1 - fade).astype(np.float32)
    return features


@dataclass
class StrokePlacement:
    """The stroke field (:mod:`atelier.style.arbitrary.strokes`) as one piece of the picture
    reads it: the piece's first pixel, the amount, and (tiles) the whole photo's feature
    standard deviations per level, measured without the noise."""

    field: StrokeField
    amount: float
    top: int = 0
    left: int = 0
    stds: list[np.ndarray] | None = None

    def at(self, top: int, left: int) -> StrokePlacement:
        return StrokePlacement(self.field, self.amount, top, left, self.stds)

    def noise(self, level: int, shape: tuple[int, int], mask: np.ndarray | None) -> np.ndarray | None:
        """``(C, h * w)`` unscaled noise for this piece's level ``level`` (times the mask), or None."""
        window = self.field.window(level, self.top, self.left, shape)
        if window is None:
            return None
        flat = window.reshape(window.shape[0], -1)
        return flat if mask is None else flat * mask.reshape(1, -1).astype(np.float32)

    def scale(self, level: int, std: np.ndarray, strength: float) -> np.ndarray:
        """Per channel, what the noise is multiplied by: the amount at this level, in the
        features' standard deviations, faded by strength."""
        return (self.amount * level_amount(level) * min(strength, 1.0) * std).astype(np.float32)


def with_noise(joint: Statistics, channels: int, scale: np.ndarray) -> Statistics:
    """The statistics of ``f + scale * n`` from the joint statistics of ``[f; n]`` (exactly:
    mean, covariance with the cross terms, and the paired samples)."""
    c, d = channels, scale.astype(np.float64)
    cov = joint.cov
    cross = cov[:c, c:] * d[None, :]
    mixed = cov[:c, :c] + cross + cross.T + d[:, None] * cov[c:, c:] * d[None, :]
    sample = None if joint.sample is None else (joint.sample[:c] + scale[:, None] * joint.sample[c:]).astype(np.float32)
    return Statistics(joint.mean[:c] + d * joint.mean[c:], mixed, sample)


def _tiles(n: int, align: int = 1) -> list[tuple[int, int]]:
    """``(start, stop)`` of the core of each tile along a side of ``n`` pixels, inner edges on
    multiples of ``align`` (the deepest stride: every tile's feature cells then lie on the
    whole picture's grid)."""
    count = max(1, -(-n // TILE))
    edges = (np.linspace(0, n, count + 1) / align).round().astype(int) * align
    edges[-1] = n
    edges = np.unique(np.clip(edges, 0, n))
    return list(zip(edges[:-1], edges[1:]))


def _paint_tiled(
    net: Network,
    photo: np.ndarray,
    styles: list[Statistics],
    strength: float,
    mask: np.ndarray | None,
    shared: bool = True,
    detail: float = 1.0,
    passes: int = 0,
    strokes: StrokePlacement | None = None,
) -> np.ndarray:
    """Paint a big photo tile by tile (with a halo of context) using whole-photo statistics
    (``shared=False``: each tile's own, which makes tiles disagree; kept to show the difference).
    With ``strokes``, the statistics are those of the features with the stroke noise added,
    as the one-pass painting measures them."""
    h, w = photo.shape[:2]
    align = net.card.levels[-1]["stride"]
    boxes = [(y0, y1, x0, x1) for y0, y1 in _tiles(h, align) for x0, x1 in _tiles(w, align)]

    def window(y0, y1, x0, x1):
        top, left = max(0, y0 - HALO), max(0, x0 - HALO)
        bottom, right = min(h, y1 + HALO), min(w, x1 + HALO)
        return top, bottom, left, right

    # First pass: the photo's statistics (and a sample for the sliced passes), over the tiles'
    # cores; with strokes, of the features and the noise together ([f; n], to combine below).
    moments = [Moments(FIT_POSITIONS, (h // lv["stride"]) * (w // lv["stride"])) for lv in net.card.levels]
    noisy = [False] * len(moments)
    for y0, y1, x0, x1 in boxes:
        top, bottom, left, right = window(y0, y1, x0, x1)
        padded, _, _ = _pad(photo[top:bottom, left:right], net)
        tile_mask = None if mask is None else _pad(mask[top:bottom, left:right], net, mode="edge")[0]
        for level, f in enumerate(encode_strips(net, padded)):
            c, fh, fw = f.shape
            sy, sx = padded.shape[0] // fh, padded.shape[1] // fw
            rows, cols = slice((y0 - top) // sy, (y1 - top) // sy), slice((x0 - left) // sx, (x1 - left) // sx)
            core = f[:, rows, cols].reshape(c, -1)
            m = None if tile_mask is None else resize_array(tile_mask[..., 0], fw, fh)
            noise = None if strokes is None or strength == 0 else strokes.at(top, left).noise(level, (fh, fw), m)
            if noise is not None:
                noisy[level] = True
                core = np.concatenate([core, noise.reshape(c, fh, fw)[:, rows, cols].reshape(c, -1)])
            moments[level].add(core)
    content = [m.statistics() for m in moments]
    if strokes is not None and any(noisy):
        stds = [np.sqrt(np.clip(np.diag(s.cov), 0, None))[: lv["channels"]] for s, lv in zip(content, net.card.levels)]
        strokes = StrokePlacement(strokes.field, strokes.amount, stds=stds)
        content = [
            with_noise(s, lv["channels"], strokes.scale(level, stds[level], strength)) if noisy[level] else s
            for level, (s, lv) in enumerate(zip(content, net.card.levels))
        ]

    # Second pass: transform and decode each tile, keep its core.
    out = np.zeros_like(photo)
    for y0, y1, x0, x1 in boxes:
        top, bottom, left, right = window(y0, y1, x0, x1)
        padded, th, tw = _pad(photo[top:bottom, left:right], net)
        tile_mask = None if mask is None else _pad(mask[top:bottom, left:right], net, mode="edge")[0]
        at = None if strokes is None else strokes.at(top, left)
        features = _transform(net, encode_strips(net, padded), styles, strength, tile_mask, content if shared else None, detail, passes, at)
        painted = decode_strips(net, features, padded.shape[0])[:th, :tw]
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

    @property
    def colours(self) -> Statistics | None:
        """The paintings' blended colours (for ``palette_match``), if their statistics have them."""
        return colours_of(self.statistics, network())


def prepare_style(
    styles: Sequence[str], style_weights: Sequence[float] | None, settings, size: tuple[int, int], photo: np.ndarray | None = None
) -> PreparedStyle:
    """The paintings at ``styles`` read at the scale a ``size`` = ``(height, width)`` output
    needs (``settings.style_scale`` x the longer side the network paints, see
    ``settings.work_size``), as blended statistics. ``photo`` is what
    ``--preserve-color --color-method histogram`` recolours the paintings towards."""
    net = network()
    weights = normalised_weights(style_weights, len(styles))
    h, w = working_shape(*size, settings.work_size)
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
        elif settings.preserve_color and settings.color_method == "histogram" and photo is not None:
            # the painting in the photo's palette: statistics of this photo's version only
            per_painting.append(painting_statistics(net, match_colours(_read_painting(spec, side), as_float(photo))))
        else:
            per_painting.append(_file_statistics(net, spec, side))
        used.append(weight)
    return PreparedStyle(blend_statistics(per_painting, used), files, stored)


def _read_painting(spec: str, side: int) -> np.ndarray:
    rgb, _ = read_source(spec, max_side=side)
    return resize_array(rgb, *fit_size(rgb.shape[1], rgb.shape[0], side))


def _file_statistics(net: Network, spec: str, side: int) -> list[Statistics]:
    """A painting's statistics at ``side``: from the cache when this painting (by content) was
    measured at this size with this encoder before, else measured and kept there. Both ways
    give the same numbers (float32, as stored), so a picture never depends on the cache."""
    key = f"{source_sha256(spec)[:32]}-{side}-{net.encoder_sha256[:16]}-v{STATISTICS_VERSION}.npz"
    try:
        folder = cache_dir(STATISTICS_CACHE)
    except OSError:  # no writable cache: measure every time
        folder = None
    path = None if folder is None else folder / key
    if path is not None and path.is_file():
        try:
            return load_statistics(path, side, encoder_sha256=net.encoder_sha256)
        except InputError:  # a damaged entry: measure again
            path.unlink(missing_ok=True)
    measured = painting_statistics(net, _read_painting(spec, side))
    stats = [
        Statistics(s.mean.astype(np.float32).astype(np.float64), s.cov.astype(np.float32).astype(np.float64), s.sample) for s in measured
    ]
    if path is not None:
        try:
            save_statistics(path, {side: stats}, encoder_sha256=net.encoder_sha256, compress=False)
            entries = sorted(folder.glob("*.npz"), key=lambda p: p.stat().st_mtime)
            for stale in entries[:-CACHE_ENTRIES]:  # keep the cache small: the newest entries
                stale.unlink(missing_ok=True)
        except OSError:
            pass
    return stats


def paint_prepared(
    photo: np.ndarray, style: PreparedStyle, settings, *, mask: np.ndarray | None = None, as_uint8: bool = False
) -> np.ndarray:
    """``photo`` (``(H, W, 3)``, float in [0, 1] or 8-bit) painted with a prepared style: at the
    working size (``settings.work_size``), then enlarged with the photo's fine detail where it
    is bigger. Float32 in [0, 1], or 8-bit with ``as_uint8`` (for a file: less memory)."""
    h, w = photo.shape[:2]
    work_h, work_w = working_shape(h, w, settings.work_size)
    if (work_h, work_w) == (h, w):
        image = _paint_at_size(as_float(photo), style, settings, mask)
        return to_uint8(image) if as_uint8 else image
    small = resize_array(photo, work_w, work_h)
    small_mask = None if mask is None else resize_array(mask[..., 0], work_w, work_h)[..., None]
    painted = _paint_at_size(small, style, settings, small_mask)
    release_memory()
    return enlarge(painted, photo, small, settings.detail, as_uint8=as_uint8)


def _paint_at_size(photo: np.ndarray, style: PreparedStyle, settings, mask: np.ndarray | None) -> np.ndarray:
    """``photo`` painted pixel for pixel (tiled when it is big)."""
    net = network()
    h, w = photo.shape[:2]
    passes = settings.match_passes
    strokes = None
    if settings.strokes > 0 and settings.strength > 0:
        levels = net.card.levels
        field = stroke_field(photo, [lv["channels"] for lv in levels], [lv["stride"] for lv in levels], settings.style_scale, settings.seed)
        strokes = StrokePlacement(field, settings.strokes)
    if h * w > TILE_MEGAPIXELS * 1e6:
        image = _paint_tiled(net, photo, style.statistics, settings.strength, mask, detail=settings.detail, passes=passes, strokes=strokes)
    else:
        padded_mask = None if mask is None else _pad(mask, net, mode="edge")[0]
        features = _transform(
            net,
            encode_strips(net, photo),
            style.statistics,
            settings.strength,
            padded_mask,
            detail=settings.detail,
            passes=passes,
            strokes=strokes,
        )
        release_memory()  # (the transform's temporaries, before the decoder's working memory)
        image = decode_strips(net, features, net.padded(h))[:h, :w]
        del features
    # (by strength too, so that strength 0 stays the network's exact reconstruction of the photo)
    image = calm_halos(image, photo, min(settings.strength, 1.0) * settings.calm_halos)
    if settings.palette_match > 0 and not settings.preserve_color and style.colours is not None:
        image = match_palette(image, style.colours, min(settings.strength, 1.0) * settings.palette_match, mask)
    if settings.preserve_color and (settings.color_method == "luminance" or style.stored):
        # (a stored painting cannot be recoloured first, so built-ins keep colours by luminance)
        image = keep_photo_colours(image, photo)
    return image.astype(np.float32, copy=False)


def paint(
    photo: np.ndarray,
    styles: Sequence[str],
    style_weights: Sequence[float] | None,
    settings,
    *,
    mask: np.ndarray | None = None,
    as_uint8: bool = False,
) -> tuple[np.ndarray, list[str], list[Path]]:
    """Paint ``photo`` (``(H, W, 3)``, float in [0, 1] or 8-bit, already at the output size) with
    the paintings at ``styles``. Returns the picture (see :func:`paint_prepared`), the runtimes
    used and the model files (for the recipe)."""
    style = prepare_style(styles, style_weights, settings, photo.shape[:2], photo)
    return paint_prepared(photo, style, settings, mask=mask, as_uint8=as_uint8), ["onnx"], style.files


def match_palette(image: np.ndarray, colours: Statistics, amount: float, mask: np.ndarray | None = None) -> np.ndarray:
    """``image`` (``(H, W, 3)`` float) with its colours moved ``amount`` of the way onto the
    painting's colour distribution (a sliced match of the pixels, :data:`COLOUR_PASSES`
    passes, fitted on this picture; where ``mask`` paints only)."""
    h, w = image.shape[:2]
    weights = None if mask is None else mask[..., 0].reshape(-1)
    moved = sliced_match(image.reshape(-1, 3).T, colours, COLOUR_PASSES, amount, weights)
    return np.clip(moved.T.reshape(h, w, 3), 0, 1)
