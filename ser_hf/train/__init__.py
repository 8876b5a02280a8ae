"""Training: a YAML recipe -> argument dataclasses -> ``SerTrainer`` (under ``accelerate``) -> a saved model.

The same recipe runs as ``python -m ser_hf.train RECIPE``, ``ser-hf train RECIPE`` and
``accelerate launch -m ser_hf.train RECIPE``; ``--key value`` after the recipe overrides any field.
A recipe is a YAML file whose sections (``data``, ``features``, ``model``, ``augment``, ``training``)
are flattened into the fields of :class:`DataArguments`, :class:`FeatureArguments`,
:class:`ModelArguments`, :class:`AugmentArguments` and :class:`SerTrainingArguments`.
"""

from __future__ import annotations

from .arguments import (
    AugmentArguments,
    DataArguments,
    FeatureArguments,
    ModelArguments,
    RunArguments,
    SerTrainingArguments,
)
from .crossval import crossval
from .data import AudioCollator, WaveformTransform, prepare_split
from .recipes import parse_recipe, recipe_as_run
from .run import train
from .trainer import SerTrainer

__all__ = [
    "AudioCollator",
    "AugmentArguments",
    "DataArguments",
    "FeatureArguments",
    "ModelArguments",
    "RunArguments",
    "SerTrainer",
    "SerTrainingArguments",
    "WaveformTransform",
    "crossval",
    "parse_recipe",
    "prepare_split",
    "recipe_as_run",
    "train",
]
