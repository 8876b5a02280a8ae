"""ser_hf: speech emotion recognition built the Hugging Face way."""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import SerAudioError, SerDataError, SerError
from .features import SerFeatureExtractor
from .inference import EmotionRecognizer
from .labels import EMOTIONS, LABEL_SETS, get_label_set
from .models import (
    SerBackboneConfig,
    SerBackboneForAudioClassification,
    SerCnnConfig,
    SerCnnForAudioClassification,
)

__all__ = [
    "EMOTIONS",
    "EmotionRecognizer",
    "LABEL_SETS",
    "SerAudioError",
    "SerBackboneConfig",
    "SerBackboneForAudioClassification",
    "SerCnnConfig",
    "SerCnnForAudioClassification",
    "SerFeatureExtractor",
    "SerDataError",
    "SerError",
    "__version__",
    "get_label_set",
]
