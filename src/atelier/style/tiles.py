"""Overlapping tiles and their blend weights, for images too large to process at once."""

from __future__ import annotations

import math

import torch


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    stride = (length - tile) / (count - 1)
    return [round(i * stride) for i in range(count)]


def feather(height: int, width: int, overlap: int, edges: tuple[bool, bool, bool, bool]) -> torch.Tensor:
    """Blend weights for one tile: linear ramps over the overlap on inner edges, 1 elsewhere."""
    top, bottom, left, right = edges

    def ramp(n: int, start: bool, end: bool) -> torch.Tensor:
        w = torch.ones(n)
        k = min(overlap, n // 2)
        ramp_up = (torch.arange(k, dtype=torch.float32) + 0.5) / k
        if start:
            w[:k] = ramp_up
        if end:
            w[n - k :] = ramp_up.flip(0)
        return w

    return ramp(height, top, bottom)[:, None] * ramp(width, left, right)[None, :]
