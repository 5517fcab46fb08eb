"""Shapes and sizes of fast-style networks: a leaf module shared by the network, the model
files and the onnxruntime path (no PyTorch, no other Atelier module)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Image sides the exported network accepts are multiples of this, and at least twice it
#: (so that the 1/8-scale stage is at least 2 pixels for its reflection padding).
MULTIPLE = 8

#: Photos with more pixels than this are processed in tiles (bounded memory).
TILE_MEGAPIXELS = 6.0


def padded_side(n: int) -> int:
    """The side a photo side ``n`` is edge-padded to before the network (then cropped back)."""
    return max(2 * MULTIPLE, n + (-n) % MULTIPLE)


@dataclass(frozen=True)
class NetworkShape:
    """Channel widths of the three stages and the number of residual blocks."""

    channels: tuple[int, int, int] = (24, 48, 96)
    residual_blocks: int = 4
    last_channels: int = 8

    def to_dict(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}

    @classmethod
    def from_dict(cls, data: dict) -> NetworkShape:
        return cls(tuple(data["channels"]), int(data["residual_blocks"]), int(data["last_channels"]))
