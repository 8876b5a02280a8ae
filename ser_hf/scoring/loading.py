"""Loading a trained model and its feature extractor: a folder, or a model shipped as package data."""

from __future__ import annotations

import os
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from ..models.errors import SerError

BUNDLED = ("default", "compact")


def bundled_model_dir(name: str = "default") -> Path:
    """The folder of a model shipped as package data (``ser_hf/pretrained/<name>``)."""
    folder = Path(str(resources.files("ser_hf").joinpath("pretrained", name)))
    if not (folder / "config.json").is_file():
        raise SerError(
            f"The bundled {name} model is not in this installation ({folder}); pass a trained model folder "
            "(the output_dir of `ser-hf train`)."
        )
    return folder


def resolve_model_dir(path: str | os.PathLike | None) -> Path:
    """``None`` or ``"default"``/``"compact"`` -> the bundled folder; anything else must be a model folder."""
    folder = bundled_model_dir(str(path or "default")) if path is None or str(path) in BUNDLED else Path(path)
    if not (folder / "config.json").is_file():
        raise SerError(f"{folder} is not a model folder (no config.json); expected the output of `ser-hf train`.")
    return folder


def load_model(path: str | os.PathLike | None = None, backend: str = "torch", threads: int | None = 1):
    """``(model, feature_extractor)`` of a trained model folder or a bundled model, the model in eval mode.

    ``backend``: ``"torch"``, ``"onnx"`` or ``"onnx-int8"`` (the graph :mod:`ser_hf.scoring.onnx` exports once
    and caches, run by ONNX Runtime on ``threads`` threads; the same scoring path takes either)."""
    from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

    from .onnx import BACKENDS

    if backend not in BACKENDS:
        raise SerError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    folder = resolve_model_dir(path)
    try:
        feature_extractor = AutoFeatureExtractor.from_pretrained(folder)
        if backend == "torch":
            with _no_loading_bar():
                return AutoModelForAudioClassification.from_pretrained(folder).eval(), feature_extractor
        config = AutoConfig.from_pretrained(folder)
    except (OSError, ValueError, KeyError) as err:
        raise SerError(f"Cannot load the model in {folder} ({str(err).splitlines()[0]}).") from None
    try:
        from .onnx import OnnxModel, cached_onnx
    except ImportError:
        raise SerError("The ONNX backend needs onnx and onnxruntime: pip install 'ser-hf[onnx]'.") from None
    return OnnxModel(cached_onnx(folder, int8=backend == "onnx-int8"), config, threads=threads), feature_extractor


@contextmanager
def _no_loading_bar():
    """transformers' "Loading weights" progress bar off while a model loads (a library call prints nothing), as the
    caller had it afterwards."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
