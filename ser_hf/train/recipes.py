"""Recipes: a YAML file plus ``--key value`` overrides -> argument dataclasses, through one ``HfArgumentParser``.

The recipe's values become the parser's defaults and the overrides are parsed on top; then
``HfArgumentParser.parse_dict(..., allow_extra_keys=False)`` builds the dataclasses and rejects any field no
dataclass has. Training and the classic baseline both parse their recipes here.
"""

from __future__ import annotations

import argparse
import ast
import os
from dataclasses import asdict, fields
from enum import Enum
from pathlib import Path
from typing import Sequence

import yaml
from transformers import HfArgumentParser

from ..models.errors import SerError
from .arguments import ARGUMENT_CLASSES, RunArguments, SerTrainingArguments

SECTIONS = ("data", "features", "model", "augment", "training", "baseline")


def read_recipe(recipe: str | os.PathLike | None) -> dict:
    """The fields of a YAML recipe, its sections (``data:``, ``model:``, ...) flattened; ``{}`` for ``None``."""
    if recipe is None:
        return {}
    path = Path(recipe)
    if not path.is_file():
        raise SerError(f"Recipe {path} not found; expected a YAML file such as recipes/cnn_ravdess_6fold.yaml.")
    try:
        loaded = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        raise SerError(f"Recipe {path} is not valid YAML ({str(err).splitlines()[0]}).") from None
    if not isinstance(loaded, dict):
        raise SerError(f"Recipe {path} must be a mapping of sections or fields.")
    flat: dict = {}
    for key, value in loaded.items():
        flat.update(value if isinstance(value, dict) and key in SECTIONS else {key: value})
    return flat


def parser_for(classes: Sequence[type], what: str = "training") -> HfArgumentParser:
    """An ``HfArgumentParser`` over ``classes`` whose errors are one :class:`SerError` sentence."""
    parser = HfArgumentParser(classes)

    def error(message: str):
        raise SerError(f"Invalid {what} arguments: {message}.")

    parser.error = error
    return parser


def parse_arguments(classes: Sequence[type], recipe: str | os.PathLike | None,
                    overrides: Sequence[str] | None = None, what: str = "training") -> tuple:
    """The dataclasses of ``classes`` from ``recipe`` and ``--key value`` ``overrides`` (overrides win)."""
    flat = read_recipe(recipe)
    parser = parser_for(classes, what)
    namespace, unknown = parser.parse_known_args(list(overrides or []), namespace=argparse.Namespace(**flat))
    if unknown:
        raise SerError(f"Unknown argument(s): {' '.join(unknown)}; see `python -m ser_hf.train --help`.")
    try:
        return parser.parse_dict(vars(namespace), allow_extra_keys=False)
    except ValueError as err:  # unknown recipe fields, and TrainingArguments' own consistency checks
        message = " ".join(str(err).split())
        if message.startswith("Some keys are not used"):
            names = ast.literal_eval(message.split(":", 1)[1].strip())
            raise SerError(f"Unknown recipe field(s): {', '.join(names)}; see `python -m ser_hf.train --help`.") from None
        raise SerError(f"Invalid {what} arguments: {message.rstrip('.')}.") from None


OWN_DATA_RECIPE = Path(__file__).with_name("own_data.yaml")


def parse_recipe(recipe: str | os.PathLike | None, overrides: Sequence[str] | None = None) -> RunArguments:
    """Parse a training recipe plus ``--key value`` overrides into :class:`RunArguments`. Without a recipe, a run on
    one's own recordings (``--dataset``) takes :data:`OWN_DATA_RECIPE` (fine-tuning the default model)."""
    if recipe is None and any(o == "--dataset" or str(o).startswith("--dataset=") for o in overrides or ()):
        recipe = OWN_DATA_RECIPE
    return RunArguments(*parse_arguments(ARGUMENT_CLASSES, recipe, overrides))


def recipe_as_run(run: RunArguments) -> dict:
    """The arguments as run, in recipe sections (only the training fields that differ from the defaults)."""
    defaults = SerTrainingArguments(output_dir=run.training.output_dir)
    training = {f.name: getattr(run.training, f.name) for f in fields(SerTrainingArguments)
                if f.init and getattr(run.training, f.name) != getattr(defaults, f.name)}
    training["output_dir"] = run.training.output_dir
    simple = (str, int, float, bool, list, type(None))
    return {
        "data": asdict(run.data),
        "features": asdict(run.features),
        "model": asdict(run.model),
        "augment": asdict(run.augment),
        "training": {k: (v.value if isinstance(v, Enum) else v if isinstance(v, simple) else str(v))
                     for k, v in training.items()},
    }
