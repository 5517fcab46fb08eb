"""Atelier: deep generative models in an artist's hands."""

__version__ = "0.1.0"
