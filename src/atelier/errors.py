"""Errors whose message is meant for the person using Atelier.

Front ends catch :class:`AtelierError`, print ``str(error)`` on one line and exit with
``error.exit_code``: 2 for bad input or usage, 1 for a failure during the work.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class AtelierError(Exception):
    """Base class: the message is complete and user-readable."""

    exit_code = 1


class InputError(AtelierError):
    """The user gave something we cannot use (file, option, value)."""

    exit_code = 2


class ImageError(InputError):
    """An image file could not be read or written."""


class BackboneError(AtelierError):
    """A feature extractor could not be built or its weights loaded."""


class Cancelled(AtelierError):
    """A long operation was cancelled by its caller."""

    exit_code = 130
