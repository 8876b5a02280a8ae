"""Scoring: loading a trained model, the speech gate, and the one path from a waveform to probabilities."""

from __future__ import annotations

from .._lazy import lazy_getattr

_NAMES = {
    "BUNDLED": ".loading",
    "bundled_model_dir": ".loading",
    "load_model": ".loading",
    "resolve_model_dir": ".loading",
    "NO_SPEECH": ".speech",
    "SILENCE_DB": ".speech",
    "SpeechGate": ".speech",
    "ClipScore": ".score",
    "clip_logits": ".score",
    "model_inputs": ".score",
    "score_waveform": ".score",
}

__all__ = list(_NAMES)

__getattr__ = lazy_getattr(__name__, _NAMES)
