"""What travels with a saved model: errors, the audio normalizer, the signal chain, the feature extractor,
the configurations and the models, as sibling modules with single-dot imports (transformers' remote-code
copier follows only those).

The names below load on first use, so that ``import ser_hf.models.errors`` stays free of torch and
transformers. :mod:`ser_hf.models.auto` registers the models with the ``Auto*`` classes; ``import ser_hf``
arranges for that to happen as soon as transformers is imported.
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_MODULES = {
    ".errors": ("SerAudioError", "SerDataError", "SerError"),
    ".audio": ("normalize_audio",),
    ".feature_extraction_ser": ("SerFeatureExtractor",),
    ".feature_extraction_ser_whisper": ("SerWhisperFeatureExtractor",),
    ".configuration_ser_cnn": ("SerCnnConfig",),
    ".modeling_ser_cnn": ("SerCnnForAudioClassification",),
    ".configuration_ser_backbone": ("SerBackboneConfig",),
    ".modeling_ser_backbone": ("SerBackboneForAudioClassification",),
}

__all__ = [name for names in _MODULES.values() for name in names]

__getattr__ = lazy_getattr(__name__, _MODULES)
