"""Loading a trained model and its feature extractor, run by torch or ONNX Runtime (folders: :mod:`.model_files`)."""

from __future__ import annotations

import os

from ..models.errors import SerError
from .model_files import BUNDLED, bundled_model_dir, load_torch_model, resolve_model_dir

__all__ = ["BUNDLED", "bundled_model_dir", "load_model", "resolve_model_dir"]


def load_model(path: str | os.PathLike | None = None, backend: str = "torch", threads: int | None = 1):
    """``(model, feature_extractor)`` of a trained model folder or a bundled model, the model in eval mode.

    ``backend``: ``"torch"``, ``"onnx"`` or ``"onnx-int8"`` (the graph :mod:`ser_hf.scoring.onnx` exports once
    and caches, run by ONNX Runtime on ``threads`` threads; the same scoring path takes either)."""
    from transformers import AutoConfig, AutoFeatureExtractor

    from .onnx import BACKENDS

    if backend not in BACKENDS:
        raise SerError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    folder = resolve_model_dir(path)
    if backend == "torch":
        return load_torch_model(folder)
    try:
        feature_extractor = AutoFeatureExtractor.from_pretrained(folder)
        config = AutoConfig.from_pretrained(folder)
    except (OSError, ValueError, KeyError) as err:
        raise SerError(f"Cannot load the model in {folder} ({str(err).splitlines()[0]}).") from None
    try:
        from .onnx import OnnxModel, cached_onnx
    except ImportError:
        raise SerError("The ONNX backend needs onnx and onnxruntime: pip install 'ser-hf[onnx]'.") from None
    return OnnxModel(cached_onnx(folder, int8=backend == "onnx-int8"), config, threads=threads), feature_extractor
