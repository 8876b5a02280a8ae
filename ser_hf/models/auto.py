"""Registration with the ``transformers`` ``Auto*`` classes: ``AutoConfig`` and ``AutoModelForAudioClassification``
know ``ser_cnn`` and ``ser_backbone``, ``AutoFeatureExtractor`` knows ``SerFeatureExtractor`` and ``SerWhisperFeatureExtractor``.

Each class also calls ``register_for_auto_class`` where it is defined, so ``save_pretrained`` always writes
``auto_map`` and copies the code files. This module is not part of what travels with a saved model.
"""

from __future__ import annotations


def register_auto_classes() -> None:
    """Register every ser_hf model with the Auto classes (idempotent)."""
    from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

    from .configuration_ser_backbone import SerBackboneConfig
    from .configuration_ser_cnn import SerCnnConfig
    from .feature_extraction_ser import SerFeatureExtractor
    from .feature_extraction_ser_whisper import SerWhisperFeatureExtractor
    from .modeling_ser_backbone import SerBackboneForAudioClassification
    from .modeling_ser_cnn import SerCnnForAudioClassification

    AutoConfig.register("ser_cnn", SerCnnConfig, exist_ok=True)
    AutoConfig.register("ser_backbone", SerBackboneConfig, exist_ok=True)
    AutoModelForAudioClassification.register(SerCnnConfig, SerCnnForAudioClassification, exist_ok=True)
    AutoModelForAudioClassification.register(SerBackboneConfig, SerBackboneForAudioClassification, exist_ok=True)
    AutoFeatureExtractor.register(SerCnnConfig, SerFeatureExtractor, exist_ok=True)
    AutoFeatureExtractor.register(SerBackboneConfig, SerWhisperFeatureExtractor, exist_ok=True)
