"""Register ser_hf's models with the transformers ``Auto*`` classes once transformers is imported, without
importing it (or torch) on ``import ser_hf``.

:func:`install` puts a finder first on ``sys.meta_path`` that wraps two kinds of imports: ``transformers``
itself and ser_hf's model modules. Registration (:func:`ser_hf.models.auto.register_auto_classes`) runs as
soon as transformers has been imported and no model module is half-executed: when one of them is what
imported transformers, registration waits until the outermost of them has finished, because it needs their
classes. The finder then removes itself.
"""

from __future__ import annotations

import importlib.abc
import sys

_MODELS = "ser_hf.models."


class _RegisterWithTransformers(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.depth = 0  # model modules being executed right now
        self.pending = False  # transformers is imported, registration has not run yet

    def find_spec(self, fullname, path, target=None):
        is_model = fullname.startswith(_MODELS)
        if fullname != "transformers" and not is_model:
            return None
        spec = next((s for f in sys.meta_path if f is not self and hasattr(f, "find_spec")
                     for s in [f.find_spec(fullname, path, target)] if s is not None), None)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            self.depth += is_model
            try:
                run(module)
            finally:
                self.depth -= is_model
            self.pending = self.pending or not is_model
            if self.pending and self.depth == 0:
                self.register()

        spec.loader.exec_module = exec_module
        return spec

    def register(self) -> None:
        self.pending = False
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        from .models.auto import register_auto_classes

        register_auto_classes()


def install() -> None:
    """Register now if transformers is already imported, else when it is."""
    finder = _RegisterWithTransformers()
    if "transformers" in sys.modules:
        finder.register()
    elif not any(isinstance(f, _RegisterWithTransformers) for f in sys.meta_path):
        sys.meta_path.insert(0, finder)
