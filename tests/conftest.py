from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

SHARED_IMAGES = Path(__file__).resolve().parents[1].parent / "shared" / "images"

torch.set_num_threads(2)


@pytest.fixture
def shared_images() -> Path:
    if not SHARED_IMAGES.is_dir():
        pytest.skip(f"shared images not found at {SHARED_IMAGES}")
    return SHARED_IMAGES


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A small real photo (skimage's coffee) as a JPEG file."""
    from skimage import data

    path = tmp_path / "photo.jpg"
    Image.fromarray(data.coffee()).resize((96, 64)).save(path, quality=95)
    return path


@pytest.fixture
def painting(tmp_path: Path) -> Path:
    """A small, strongly textured 'painting': coloured diagonal stripes with noise."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:96, 0:96]
    stripes = ((x + y) // 8) % 2
    array = np.stack([200 * stripes + 30, 60 + 120 * (1 - stripes), 40 + 20 * stripes], axis=-1)
    array = np.clip(array + rng.normal(0, 12, array.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "painting.png"
    Image.fromarray(array).save(path)
    return path
