"""Inference: ``EmotionRecognizer`` (files and arrays), ``StreamingRecognizer`` (live audio), ONNX export and the
benchmark."""

from __future__ import annotations

from .._lazy import lazy_getattr

_MODULES = {
    ".recognizer": ("EmotionRecognizer", "Prediction", "Segment"),
    ".streaming": ("StreamingRecognizer", "Update"),
    ".bench": ("run_benchmark",),
    "..scoring.speech": ("NO_SPEECH",),
    "..scoring.decision": ("TOO_SHORT", "UNCERTAIN"),
    "..scoring.loading": ("bundled_model_dir",),
}

__all__ = [name for names in _MODULES.values() for name in names]

__getattr__ = lazy_getattr(__name__, _MODULES)
