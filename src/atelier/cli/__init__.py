"""The ``atelier`` command line: a thin front end over the Python API, one module per capability.

Every command calls one documented library function. User mistakes end with one line on
stderr and exit code 2; failures during the work with exit code 1; ``--debug`` shows the
traceback. Importing this package loads no model and no PyTorch.
"""

from __future__ import annotations

# Each module registers its commands; the order here is the order of `atelier --help`.
from atelier.cli.common import app
from atelier.cli import style  # noqa: E402, F401, I001
from atelier.cli import classify  # noqa: E402, F401, I001
from atelier.cli import studio  # noqa: E402, F401, I001
from atelier.cli import generate  # noqa: E402, F401, I001


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
