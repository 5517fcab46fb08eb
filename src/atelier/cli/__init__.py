"""The ``atelier`` command line: a thin front end over the Python API, one module per capability.

Every command calls one documented library function. User mistakes end with one line on
stderr and exit code 2; failures during the work with exit code 1; ``--debug`` shows the
traceback. Importing this package loads no model and no PyTorch.
"""

from __future__ import annotations

from atelier.cli import (
    classify,  # noqa: E402, F401, I001
    compose,  # noqa: E402, F401, I001
    generate,  # noqa: E402, F401, I001
    restore,  # noqa: E402, F401, I001
    studio,  # noqa: E402, F401, I001
    style,  # noqa: E402, F401, I001
    video,  # noqa: E402, F401, I001
    write,  # noqa: E402, F401, I001
)

# Each module registers its commands; the order here is the order of `atelier --help`.
from atelier.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
