"""How stylised a picture is, and how much of the photo's structure it kept.

Used to compare style-transfer engines (ours against each other and against other tools)
with measures that none of them trains on:

* :func:`palette_distance`: sliced Wasserstein distance between the colours of the result
  and of the painting, in CIELAB (perceptual units): does the result use the painting's palette?
* :func:`texture_distance`: relative distance between Gram matrices of a random-weight VGG-19
  at **full width and another seed** than the half-width network Atelier's losses use
  (Ustyuzhaninov et al. 2017: random networks capture texture): does it have the painting's marks?
* :func:`luminance_ssim`: SSIM between the result's and the photo's luminance: is the
  photo's structure still there?
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Seed of the judging network: different from every network Atelier trains or optimises with.
JUDGE_SEED = 7
JUDGE_SIDE = 256
JUDGE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


def _lab(rgb: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(np.clip(rgb, 0, 1)).reshape(-1, 3)


def palette_distance(image: np.ndarray, painting: np.ndarray, projections: int = 64, samples: int = 20000, seed: int = 0) -> float:
    """Sliced Wasserstein-1 distance between the pixel colours of two ``(H, W, 3)`` pictures, in Lab units."""
    rng = np.random.default_rng(seed)
    a, b = _lab(image), _lab(painting)
    a = a[rng.choice(len(a), min(samples, len(a)), replace=False)]
    b = b[rng.choice(len(b), min(samples, len(b)), replace=False)]
    directions = rng.normal(size=(projections, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    quantiles = np.linspace(0, 1, 200)
    total = 0.0
    for d in directions:
        total += float(np.mean(np.abs(np.quantile(a @ d, quantiles) - np.quantile(b @ d, quantiles))))
    return total / projections


@lru_cache(maxsize=1)
def _judge():
    from atelier.backbones.vgg import build_random

    return build_random(width=1.0, seed=JUDGE_SEED, name="vgg19-random-judge")


def texture_distance(image: np.ndarray, painting: np.ndarray) -> float:
    """Mean over layers of ``||G(image) - G(painting)||^2 / ||G(painting)||^2`` (centred Gram
    matrices of the judging network, both pictures at ``JUDGE_SIDE`` px on the long side)."""
    import torch

    from atelier.io.images import array_to_tensor, resize_longest
    from atelier.style.losses import covariance

    net = _judge()
    with torch.no_grad():
        a = net(resize_longest(array_to_tensor(image), JUDGE_SIDE), JUDGE_LAYERS)
        b = net(resize_longest(array_to_tensor(painting), JUDGE_SIDE), JUDGE_LAYERS)
        errors = [float((covariance(a[k]) - covariance(b[k])).pow(2).sum() / covariance(b[k]).pow(2).sum()) for k in JUDGE_LAYERS]
    return float(np.mean(errors))


def luminance_ssim(image: np.ndarray, photo: np.ndarray) -> float:
    """SSIM of the luminance (Rec. 601) of two pictures, the photo resized to the image if needed."""
    from skimage.metrics import structural_similarity
    from skimage.transform import resize

    if photo.shape[:2] != image.shape[:2]:
        photo = resize(photo, image.shape[:2], anti_aliasing=True)
    weights = np.array([0.299, 0.587, 0.114])
    return float(structural_similarity(image @ weights, photo @ weights, data_range=1.0))
