"""Scoring: loading a trained model, the speech gate, and the one path from a waveform to log probabilities, and the one
decision rule that answers from them."""

from __future__ import annotations

from .._lazy import lazy_getattr

_MODULES = {
    ".loading": ("BUNDLED", "bundled_model_dir", "load_model", "resolve_model_dir"),
    ".speech": ("NO_SPEECH", "SILENCE_DB", "SpeechGate"),
    ".score": ("ClipScore", "clip_logits", "model_inputs", "score_waveform"),
    ".decision": ("MIN_CLIP_S", "TOO_SHORT", "UNCERTAIN", "answer", "decide", "safe_log", "softmax"),
    ".threads": ("DEFAULT_THREADS", "inference_threads"),
    ".onnx": ("BACKENDS", "OnnxModel", "export_onnx", "onnx_parity", "quantize_int8"),
}

__all__ = [name for names in _MODULES.values() for name in names]

__getattr__ = lazy_getattr(__name__, _MODULES)
