"""The local web studio (``atelier studio``): a thin web front end over the library."""

from atelier.studio.app import create_app

__all__ = ["create_app"]
