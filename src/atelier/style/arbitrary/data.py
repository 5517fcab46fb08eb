"""Styles to train the arbitrary-style network's decoder on, offline.

There is no WikiArt here, so the decoder learns to render marks from five sources:

* crops of the paintings it is given (at several scales, sometimes with their palette changed);
* **procedural paintings**: random brush strokes, geometric shapes with outlines, hatching,
  pointillist dots, flat cells with dark contours, swirls, each in a random harmonious
  palette, so that the decoder meets more kinds of mark-making than five paintings hold;
* photos (natural textures: foliage, water, stone) with their colours jittered;
* the textures bundled with scikit-image;
* **painted photos**: the photos repainted in curved brush strokes of several sizes
  (:func:`painterly_rendering`), scenes in bold strokes, as most paintings are.

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
from atelier.style.arbitrary.settings import style_shares
from atelier.style.data import random_crop
from atelier.style.palette import RGB_TO_YIQ

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

RENDER_VARIANTS = 3  # painted renderings kept per photo (brush, palette and stroke length differ)
RENDER_SIDE = 320  # longer side of a photo before it is painted
LUMA = RGB_TO_YIQ[0].astype(np.float32)  # Rec. 601 luma weights


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

    ``mix`` gives the share of each source: paintings, procedural, photos, textures and
    painted photos (a fifth share of 0 when only four are given).
    """

    def __init__(
        self,
        paintings: Sequence[torch.Tensor],
        photos: Sequence[torch.Tensor],
        crop: int,
        seed: int = 0,
        mix: Sequence[float] = (0.4, 0.35, 0.13, 0.12, 0.0),
    ) -> None:
        self.paintings, self.photos, self.crop, self.seed = list(paintings), list(photos), crop, seed
        self.textures = [array_to_tensor(skimage_picture(name)) for name in SKIMAGE_TEXTURES]
        mix = style_shares(tuple(mix))
        total = sum(mix) if paintings else sum(mix[1:])
        shares = mix if paintings else (0.0, *mix[1:])
        self.cumulative = np.cumsum([m / total for m in shares])
        self.rendered: dict[tuple[int, int], torch.Tensor] = {}

    def painted_photo(self, photo: int, variant: int) -> torch.Tensor:
        """Photo ``photo`` painted in strokes, one of :data:`RENDER_VARIANTS` renderings, made once
        (a rendering takes about 0.2 s, so each is kept for the run)."""
        key = (photo, variant)
        if key not in self.rendered:
            image = self.photos[photo]
            scale = RENDER_SIDE / max(image.shape[-2:])
            if scale < 1:
                image = torch.nn.functional.interpolate(image, scale_factor=scale, mode="bilinear", antialias=True)
            array = image[0].permute(1, 2, 0).numpy()
            rng = random.Random(f"{self.seed}:render:{photo}:{variant}")
            self.rendered[key] = array_to_tensor(painterly_rendering(array, rng))
        return self.rendered[key]

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
        if source == 3:
            return random_crop(rng.choice(self.textures), self.crop, rng, max_zoom_out=2.0)
        painted = self.painted_photo(rng.randrange(len(self.photos)), rng.randrange(RENDER_VARIANTS))
        return random_crop(painted, self.crop, rng, max_zoom_out=1.5)

    def batch(self, indices: Sequence[int], epoch: int) -> torch.Tensor:
        return torch.cat([self.get(i, epoch) for i in indices])


def painterly_rendering(photo: np.ndarray, rng: random.Random) -> np.ndarray:
    """A photo ``(H, W, 3)`` in [0, 1] repainted in curved brush strokes, in [0, 1].

    Hertzmann's layered painterly rendering (SIGGRAPH 1998): coarse strokes first, then finer
    ones only where the canvas is still far from the photo; each stroke starts at a grid point,
    takes the colour of the photo blurred at the brush's scale, and runs along the photo's
    edges (perpendicular to the gradient) until the colour changes. The brush size, the number
    of layers, the stroke length, the colours (the photo's, a random palette or jittered) and
    dark contours are drawn at random, so that the decoder meets scenes painted in bold
    strokes, what most real paintings are and what five paintings cannot show it.
    """
    import cv2

    height, width = photo.shape[:2]
    reference = photo.astype(np.float32)
    recolour = rng.random()
    if recolour < 0.35:  # the photo's luminance through a random palette (a gradient map), as a painter's palette
        colours = np.array(sorted(palette(rng, rng.randint(3, 6)), key=sum), dtype=np.float32) / 255.0
        grey = reference @ LUMA
        stops = np.linspace(0, 1, len(colours))
        reference = np.stack([np.interp(grey, stops, colours[:, c]) for c in range(3)], -1).astype(np.float32)
        reference = 0.75 * reference + 0.25 * photo  # keep a little of the photo's own colour variety
    elif recolour < 0.6:
        order = rng.sample([0, 1, 2], 3)
        grey = reference.mean(-1, keepdims=True)
        reference = np.clip(grey + (reference[..., order] - grey) * rng.uniform(0.6, 1.8), 0, 1)
    largest = rng.choice([4, 6, 8, 12, 16]) * max(1.0, min(height, width) / 256)
    layers = rng.randint(2, 3) if largest >= 8 else rng.randint(1, 2)
    radii = [largest / 2**i for i in range(layers) if largest / 2**i >= 2]
    max_steps, curvature, threshold = rng.randint(3, 10), rng.uniform(0.3, 0.9), rng.uniform(0.04, 0.1)
    jitter = rng.uniform(0.0, 0.05)  # each stroke's colour varies a little, as mixed paint does
    canvas = Image.fromarray((cv2.GaussianBlur(reference, (0, 0), largest) * 255).astype(np.uint8))
    noise = np.random.default_rng(rng.randrange(1 << 30))
    for layer, radius in enumerate(radii):
        blurred = cv2.GaussianBlur(reference, (0, 0), max(0.5, radius / 2))
        luminance = blurred @ LUMA
        gx, gy = cv2.Sobel(luminance, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(luminance, cv2.CV_32F, 0, 1, ksize=3)
        error = np.abs(np.asarray(canvas, dtype=np.float32) / 255.0 - blurred).sum(-1)
        area = cv2.blur(error, (max(1, int(radius)), max(1, int(radius))))
        step = max(1, int(radius))
        points = [(x, y) for y in range(0, height, step) for x in range(0, width, step)]
        rng.shuffle(points)
        draw = ImageDraw.Draw(canvas)
        for x0, y0 in points:
            x0, y0 = min(width - 1, x0 + rng.randrange(step)), min(height - 1, y0 + rng.randrange(step))
            if layer and area[y0, x0] < threshold * 3:
                continue
            colour = blurred[y0, x0] + noise.normal(0, jitter, 3).astype(np.float32)
            path, (x, y), (dx, dy) = [(x0, y0)], (float(x0), float(y0)), (0.0, 0.0)
            for _ in range(max_steps):
                xi, yi = int(x), int(y)
                if len(path) > 1 and np.abs(blurred[yi, xi] - colour).sum() > threshold * 3:
                    break
                gxv, gyv = gx[yi, xi], gy[yi, xi]
                if gxv * gxv + gyv * gyv < 1e-6:
                    break
                nx, ny = -gyv, gxv  # along the edge, not across it
                if nx * dx + ny * dy < 0:
                    nx, ny = -nx, -ny
                nx, ny = curvature * nx + (1 - curvature) * dx, curvature * ny + (1 - curvature) * dy
                norm = math.hypot(nx, ny) or 1.0
                dx, dy = nx / norm, ny / norm
                x, y = x + radius * dx, y + radius * dy
                if not (0 <= x < width and 0 <= y < height):
                    break
                path.append((x, y))
            fill = tuple(int(v) for v in np.clip(colour * 255, 0, 255))
            r = radius / 2
            if len(path) > 1:
                draw.line(path, fill=fill, width=max(1, int(radius)), joint="curve")
            for px, py in (path[0], path[-1]):  # round ends
                draw.ellipse([px - r, py - r, px + r, py + r], fill=fill)
    array = np.asarray(canvas, dtype=np.float32) / 255.0
    if rng.random() < 0.3:  # dark contours along the photo's strongest edges, as in drawings and woodcuts
        edges = cv2.Canny((cv2.GaussianBlur(photo, (0, 0), 1.5) * 255).astype(np.uint8).mean(-1).astype(np.uint8), 60, 140)
        edges = cv2.dilate(edges, np.ones((2, 2), np.uint8)) > 0
        array[edges] = array[edges] * rng.uniform(0.0, 0.3)
    if rng.random() < 0.4:  # canvas grain
        array = array + noise.normal(0, rng.uniform(0.01, 0.04), array.shape[:2])[..., None]
    return np.clip(array, 0, 1).astype(np.float32)
