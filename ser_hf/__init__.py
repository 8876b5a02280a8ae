"""ser_hf: speech emotion recognition built the Hugging Face way.

The package is arranged by layer; each imports only from the ones before it:

- ``ser_hf.models``: what travels with a saved model (errors, audio normalizer, signal chain, feature
  extractor, configurations, models);
- ``ser_hf.data``: audio files, label sets, corpora, speaker-independent protocols;
- ``ser_hf.scoring``: loading a trained model, and the one path from a waveform to probabilities;
- ``ser_hf.evaluation``: metrics, reports, cross-validation summaries;
- ``ser_hf.train``: recipes, the Trainer, cross-validation, the classic baseline;
- ``ser_hf.inference``: ``EmotionRecognizer``, streaming, ONNX export, the benchmark;
- surfaces: ``ser_hf.cli``, ``ser_hf.demo`` (Gradio), ``ser_hf.hub``.

``import ser_hf`` is cheap: the names below load on first use, and the models are registered with the
transformers ``Auto*`` classes as soon as transformers is imported.
"""

from __future__ import annotations

from ._auto_registration import install as _install_auto_registration
from ._lazy import lazy_getattr

__version__ = "0.1.0"

_MODULES = {
    "ser_hf.models.errors": ("SerAudioError", "SerDataError", "SerError"),
    "ser_hf.models.feature_extraction_ser": ("SerFeatureExtractor",),
    "ser_hf.models.configuration_ser_cnn": ("SerCnnConfig",),
    "ser_hf.models.modeling_ser_cnn": ("SerCnnForAudioClassification",),
    "ser_hf.models.configuration_ser_backbone": ("SerBackboneConfig",),
    "ser_hf.models.modeling_ser_backbone": ("SerBackboneForAudioClassification",),
    "ser_hf.data.labels": ("EMOTIONS", "LABEL_SETS", "get_label_set"),
    "ser_hf.inference.recognizer": ("EmotionRecognizer",),
    "ser_hf.inference.streaming": ("StreamingRecognizer",),
}

__all__ = [*(name for names in _MODULES.values() for name in names), "__version__"]

_install_auto_registration()

__getattr__ = lazy_getattr(__name__, _MODULES)


def __dir__() -> list[str]:
    return sorted(__all__)
