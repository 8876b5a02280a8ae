"""Module attributes that import their module on first use (PEP 562), so that ``import ser_hf`` and the
command line's ``--help`` stay free of torch, transformers, datasets and gradio."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_getattr(package: str, modules: dict[str, tuple[str, ...]]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: ``modules`` maps a module (relative to ``package`` when it starts
    with a dot) to the names it provides; the first access to a name imports its module."""
    where = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str):
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(where[name], package), name)

    return __getattr__
