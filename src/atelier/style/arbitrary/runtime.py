"""Painting with the arbitrary-style network: any painting, one pass (filled in below)."""

from __future__ import annotations

from pathlib import Path

MODEL_DIR = Path(__file__).parent / "model"


def available() -> bool:
    """Whether the arbitrary-style network ships with this copy of Atelier."""
    return (MODEL_DIR / "card.json").is_file()
