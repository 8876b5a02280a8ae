"""Cross-validation: train and evaluate every fold of a recipe's protocol, resuming where an earlier run stopped."""

from __future__ import annotations

import json
from pathlib import Path

from ..data.protocols import num_folds
from ..evaluation.crossval import KEYS, summarize_folds
from .recipes import parse_recipe
from .run import train


def crossval(recipe: str, output_dir: str, overrides: list[str] | None = None, *, rerun: bool = False) -> dict:
    """Train and evaluate every fold of the recipe's protocol; write ``crossval.json`` and ``crossval.md``.

    A fold whose ``metrics.json`` already exists in ``output_dir/foldK`` is read, not trained again (so an
    interrupted cross-validation resumes where it stopped), unless ``rerun``."""
    probe = parse_recipe(recipe, overrides)
    folds = []
    for fold in range(1, num_folds(probe.data.protocol) + 1):
        fold_dir = Path(output_dir) / f"fold{fold}"
        if (fold_dir / "metrics.json").is_file() and not rerun:
            result = json.loads((fold_dir / "metrics.json").read_text())
        else:
            result = train(parse_recipe(recipe, list(overrides or []) + ["--fold", str(fold), "--output_dir",
                                                                         str(fold_dir)]))
        folds.append({"fold": fold, **{k: result["test"][k] for k in KEYS},
                      "num_records": result["test"]["num_records"], "train_runtime_s": result["train_runtime_s"],
                      "wall_time_s": result.get("wall_time_s")})
    return summarize_folds(probe.data.protocol, folds, output_dir)
