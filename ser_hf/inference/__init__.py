"""Inference: ``EmotionRecognizer`` (files and arrays), ``StreamingRecognizer`` (live audio), ONNX export and the
benchmark."""

from __future__ import annotations

from .._lazy import lazy_getattr

_NAMES = {
    "EmotionRecognizer": ".recognizer",
    "Prediction": ".recognizer",
    "Segment": ".recognizer",
    "StreamingRecognizer": ".streaming",
    "Update": ".streaming",
    "export_onnx": ".export",
    "onnx_parity": ".export",
    "run_benchmark": ".bench",
    "NO_SPEECH": "..scoring.speech",
    "bundled_model_dir": "..scoring.loading",
}

__all__ = list(_NAMES)

__getattr__ = lazy_getattr(__name__, _NAMES)
