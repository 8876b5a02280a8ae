"""Module attributes that import their module on first use (PEP 562), so that ``import ser_hf`` and the
command line's ``--help`` stay free of torch, transformers, datasets and gradio."""

from __future__ import annotations

import importlib
from typing import Callable


def lazy_getattr(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that imports ``names[attribute]`` (relative to ``package`` when it
    starts with a dot) and returns the attribute of the same name from it."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(names[name], package), name)

    return __getattr__
