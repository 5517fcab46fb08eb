"""Styles to train the arbitrary-style network's decoder on, offline.

There is no WikiArt here, so the decoder learns to render marks from four sources:

* crops of the paintings it is given (at several scales, sometimes with their palette changed);
* **procedural paintings**: random brush strokes, geometric shapes with outlines, hatching,
  pointillist dots, flat cells with dark contours, swirls, each in a random harmonious
  palette, so that the decoder meets more kinds of mark-making than five paintings hold;
* photos (natural textures: foliage, water, stone) with their colours jittered;
* the textures bundled with scikit-image.

Every sample is deterministic in ``(seed, epoch, index)`` (resumable, the same on any
number of processes).
"""

from __future__ import annotations

import colorsys
import math
import random
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter

from atelier.io.images import array_to_tensor
from atelier.io.sources import skimage_picture
from atelier.style.data import random_crop

PROCEDURAL_KINDS = ("strokes", "shapes", "hatch", "dots", "cells", "swirl")
SKIMAGE_TEXTURES = (
    "brick",
    "grass",
    "gravel",
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "text",
    "moon",
    "camera",
    "horse",
    "page",
)


def palette(rng: random.Random, count: int) -> list[tuple[int, int, int]]:
    """A random palette built on a colour-harmony rule (analogous, complementary, triad, earth, mono)."""
    base = rng.random()
    mode = rng.choice(["analogous", "complementary", "triad", "random", "earth", "mono"])
    colours = []
    for i in range(count):
        hue = {
            "analogous": (base + rng.uniform(-0.08, 0.08)) % 1,
            "complementary": (base + (0.5 if i % 2 else 0) + rng.uniform(-0.04, 0.04)) % 1,
            "triad": (base + (i % 3) / 3 + rng.uniform(-0.03, 0.03)) % 1,
            "earth": rng.uniform(0.02, 0.14),
            "mono": base,
        }.get(mode, rng.random())
        saturation = rng.uniform(0.0, 0.5) if mode == "mono" else rng.uniform(0.15, 1.0)
        colours.append(tuple(int(255 * c) for c in colorsys.hsv_to_rgb(hue, saturation, rng.uniform(0.1, 1.0))))
    return colours


def procedural_painting(rng: random.Random, size: int = 320, kind: str | None = None) -> np.ndarray:
    """A random 'painting' ``(size, size, 3)`` in [0, 1]: one kind of mark in one palette."""
    kind = kind or rng.choice(PROCEDURAL_KINDS)
    colours = palette(rng, rng.randint(3, 7))
    ground = colours[0] if kind != "hatch" else tuple(int(c * 0.2 + 230 * 0.8) for c in colours[0])
    image = Image.new("RGB", (size, size), ground)
    draw = ImageDraw.Draw(image)
    if kind == "strokes":
        width = rng.randint(3, 24)
        angle0 = rng.uniform(0, math.pi)
        for _ in range(int(size * size / (width * 30))):
            x, y = rng.uniform(0, size), rng.uniform(0, size)
            angle, length = angle0 + rng.gauss(0, 0.6), rng.uniform(width * 1.5, width * 6)
            points = [(x, y)]
            for _ in range(3):
                angle += rng.gauss(0, 0.3)
                x, y = x + math.cos(angle) * length / 3, y + math.sin(angle) * length / 3
                points.append((x, y))
            draw.line(points, fill=rng.choice(colours), width=width, joint="curve")
    elif kind == "shapes":
        for _ in range(rng.randint(8, 40)):
            x, y, r = rng.uniform(0, size), rng.uniform(0, size), rng.uniform(5, size / 4)
            fill, outline = rng.choice(colours), ((20, 20, 20) if rng.random() < 0.6 else None)
            pick = rng.random()
            if pick < 0.35:
                draw.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline=outline, width=rng.randint(1, 4))
            elif pick < 0.65:
                sides, turn = rng.randint(3, 6), rng.random()
                draw.polygon(
                    [(x + r * math.cos(a), y + r * math.sin(a)) for a in np.linspace(0, 2 * math.pi, sides, endpoint=False) + turn],
                    fill=fill,
                    outline=outline,
                )
            else:
                draw.line(
                    [(x, y), (x + rng.uniform(-size, size) / 2, y + rng.uniform(-size, size) / 2)],
                    fill=outline or fill,
                    width=rng.randint(1, 6),
                )
    elif kind == "hatch":
        ink = tuple(int(v * 0.3) for v in rng.choice(colours[1:]))
        for _ in range(rng.randint(300, 1200)):
            x, y = rng.uniform(0, size), rng.uniform(0, size)
            angle, length = rng.choice([0.8, 2.3, 0.0, 1.57]) + rng.gauss(0, 0.1), rng.uniform(5, 30)
            draw.line([(x, y), (x + math.cos(angle) * length, y + math.sin(angle) * length)], fill=ink, width=rng.randint(1, 2))
    elif kind == "dots":
        r = rng.uniform(1.5, 6)
        for _ in range(int(size * size / (r * r * 3))):
            x, y = rng.uniform(0, size), rng.uniform(0, size)
            draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.choice(colours))
    elif kind == "cells":
        n = rng.randint(10, 80)
        centres = np.array([[rng.uniform(0, size), rng.uniform(0, size)] for _ in range(n)])
        yy, xx = np.mgrid[0:size, 0:size]
        labels = ((xx[..., None] - centres[:, 0]) ** 2 + (yy[..., None] - centres[:, 1]) ** 2).argmin(-1)
        pixels = np.array([rng.choice(colours) for _ in range(n)], dtype=np.uint8)[labels]
        if rng.random() < 0.7:  # dark contours, as in posters and stained glass
            edges = (np.abs(np.diff(labels, axis=0, prepend=labels[:1])) + np.abs(np.diff(labels, axis=1, prepend=labels[:, :1]))) > 0
            edges = np.asarray(Image.fromarray((edges * 255).astype(np.uint8)).filter(ImageFilter.MaxFilter(3))) > 0
            pixels[edges] = (25, 25, 25)
        image = Image.fromarray(pixels)
    else:  # swirl
        yy, xx = np.mgrid[0:size, 0:size] / size
        f, phase = rng.uniform(2, 8), rng.random() * 6
        field = np.sin(f * (xx + 0.3 * np.sin(f * yy * 2 + phase))) + np.cos(f * (yy + 0.3 * np.cos(f * xx * 1.7)))
        bands = ((field - field.min()) / (np.ptp(field) + 1e-6) * (len(colours) - 0.01)).astype(int)
        image = Image.fromarray(np.array(colours, dtype=np.uint8)[bands])
        draw = ImageDraw.Draw(image)
        for _ in range(200):
            x, y = rng.uniform(0, size), rng.uniform(0, size)
            draw.line([(x, y), (x + rng.uniform(-8, 8), y + rng.uniform(-8, 8))], fill=rng.choice(colours), width=rng.randint(2, 5))
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2)))
    array = np.asarray(image, dtype=np.float32) / 255.0
    if rng.random() < 0.5:  # canvas or paper grain
        array = array + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(0.01, 0.05), array.shape[:2])[..., None]
    return np.clip(array, 0, 1).astype(np.float32)


def jitter_colours(image: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """The same marks in another palette: channels permuted, saturation changed."""
    if rng.random() < 0.5:
        image = image[:, rng.sample([0, 1, 2], 3)]
    if rng.random() < 0.3:
        grey = image.mean(1, keepdim=True)
        image = (grey + (image - grey) * rng.uniform(0.3, 1.6)).clamp(0, 1)
    return image


class StylePool:
    """Style crops for training, deterministic per ``(epoch, index)``.

    ``mix`` gives the share of each source: paintings, procedural, photos, textures.
    """

    def __init__(
        self,
        paintings: Sequence[torch.Tensor],
        photos: Sequence[torch.Tensor],
        crop: int,
        seed: int = 0,
        mix: tuple[float, float, float, float] = (0.4, 0.35, 0.13, 0.12),
    ) -> None:
        self.paintings, self.photos, self.crop, self.seed = list(paintings), list(photos), crop, seed
        self.textures = [array_to_tensor(skimage_picture(name)) for name in SKIMAGE_TEXTURES]
        total = sum(mix) if paintings else sum(mix[1:])
        shares = mix if paintings else (0.0, *mix[1:])
        self.cumulative = np.cumsum([m / total for m in shares])

    def get(self, index: int, epoch: int) -> torch.Tensor:
        rng = random.Random(f"{self.seed}:style:{epoch}:{index}")
        source = int(np.searchsorted(self.cumulative, rng.random(), side="right"))
        if source == 0:
            crop = random_crop(rng.choice(self.paintings), self.crop, rng, max_zoom_out=3.0)
            return jitter_colours(crop, rng) if rng.random() < 0.3 else crop
        if source == 1:
            return array_to_tensor(procedural_painting(rng, max(self.crop, 320)))[..., : self.crop, : self.crop]
        if source == 2:
            return jitter_colours(random_crop(rng.choice(self.photos), self.crop, rng), rng)
        return random_crop(rng.choice(self.textures), self.crop, rng, max_zoom_out=2.0)

    def batch(self, indices: Sequence[int], epoch: int) -> torch.Tensor:
        return torch.cat([self.get(i, epoch) for i in indices])
