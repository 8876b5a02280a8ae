"""Models registered with the ``transformers`` ``Auto*`` classes on import.

``AutoConfig``, ``AutoModelForAudioClassification`` and ``AutoFeatureExtractor`` know ``ser_cnn`` and
``ser_backbone``; ``save_pretrained`` writes ``auto_map`` and copies the code files, so a saved folder
loads with ``trust_remote_code=True`` where ser_hf is not installed.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification

from ..features import SerFeatureExtractor
from .configuration_ser_backbone import SerBackboneConfig
from .configuration_ser_cnn import SerCnnConfig
from .modeling_ser_backbone import SerBackboneForAudioClassification
from .modeling_ser_cnn import SerCnnForAudioClassification

AutoConfig.register("ser_cnn", SerCnnConfig, exist_ok=True)
AutoConfig.register("ser_backbone", SerBackboneConfig, exist_ok=True)
AutoModelForAudioClassification.register(SerCnnConfig, SerCnnForAudioClassification, exist_ok=True)
AutoModelForAudioClassification.register(SerBackboneConfig, SerBackboneForAudioClassification, exist_ok=True)
AutoFeatureExtractor.register(SerCnnConfig, SerFeatureExtractor, exist_ok=True)

SerCnnConfig.register_for_auto_class()
SerBackboneConfig.register_for_auto_class()
SerCnnForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")
SerBackboneForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")
SerFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")

__all__ = [
    "SerBackboneConfig",
    "SerBackboneForAudioClassification",
    "SerCnnConfig",
    "SerCnnForAudioClassification",
    "SerFeatureExtractor",
]
