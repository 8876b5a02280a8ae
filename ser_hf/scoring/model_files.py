"""Where trained models are (a folder, or a model shipped as package data) and how the torch one loads."""

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


def load_torch_model(folder: Path):
    """``(model in eval mode, feature extractor)`` of a model folder, with transformers (no progress bar)."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    try:
        feature_extractor = AutoFeatureExtractor.from_pretrained(folder)
        with _no_loading_bar():
            return AutoModelForAudioClassification.from_pretrained(folder).eval(), feature_extractor
    except (OSError, ValueError, KeyError) as err:
        raise SerError(f"Cannot load the model in {folder} ({str(err).splitlines()[0]}).") from None


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
