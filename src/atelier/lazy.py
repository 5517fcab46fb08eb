"""Lazy package exports: ``import atelier.generate`` must not import PyTorch until it is used."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_exports(package: str, exports: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``exports[name]`` (a module path) on first use."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name])
        # Importing ``package.sample`` binds the *module* as ``package.sample``: bind every export
        # of that module now, so that the exported function wins over its module's name.
        for other, source in exports.items():
            if source == exports[name]:
                setattr(sys.modules[package], other, getattr(module, other))
        return getattr(module, name)

    return __getattr__
