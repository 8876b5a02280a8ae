"""Choose how much of a pretrained encoder to fine-tune on fold 1's validation speakers, then cross-validate.

    python recipes/scripts/freeze_sweep.py RECIPE --output-dir DIR [--deadline-s S] [--key value ...]

Each setting (frozen encoder, first layers frozen, all fine-tuned) trains fold 1 and is scored by
validation UA only; the best one then trains every other fold. ``DIR/summary.json`` holds every run's
validation and test metrics, the choice and the cross-validated mean and std. With ``--deadline-s`` the
script stops starting new runs once that many seconds have passed and reports what it finished.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ser_hf.data.protocols import num_folds
from ser_hf.evaluation.crossval import KEYS, mean_and_std
from ser_hf.train import parse_recipe, train

SETTINGS = {
    "frozen": ["--freeze_encoder", "true", "--learning_rate", "0.001"],
    "top_layers": ["--freeze_encoder", "false", "--freeze_layers", "2", "--learning_rate", "0.0001"],
    "full": ["--freeze_encoder", "false", "--freeze_layers", "0", "--learning_rate", "0.0001"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe")
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--deadline-s", type=float, default=None)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args, overrides = parser.parse_known_args()
    started, out = time.time(), Path(args.output_dir)
    summary: dict = {"recipe": args.recipe, "overrides": overrides, "sweep": {}, "folds": {}}

    def save() -> None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(summary, indent=2))

    def run(setting: str, fold: int) -> dict:
        t0 = time.time()
        result = train(parse_recipe(args.recipe, overrides + SETTINGS[setting] + [
            "--fold", str(fold), "--output_dir", str(out / setting / f"fold{fold}"), "--save_total_limit", "1"]))
        brief = {part: {k: result[part][k] for k in KEYS} for part in ("validation", "test")}
        return {**brief, "confusion_matrix": result["test"]["confusion_matrix"], "labels": result["labels"],
                "global_step": result["global_step"], "wall_time_s": round(time.time() - t0, 1)}

    for setting in args.settings:
        summary["sweep"][setting] = run(setting, 1)
        print(setting, json.dumps(summary["sweep"][setting]["validation"]), flush=True)
        save()
    best = max(summary["sweep"], key=lambda s: summary["sweep"][s]["validation"]["ua"])
    summary["chosen"] = best
    summary["folds"]["1"] = summary["sweep"][best]
    for fold in range(2, num_folds(parse_recipe(args.recipe, overrides).data.protocol) + 1):
        if args.deadline_s and time.time() - started > args.deadline_s:
            summary["stopped"] = f"deadline reached before fold {fold}"
            break
        summary["folds"][str(fold)] = run(best, fold)
        print(f"fold {fold}", json.dumps(summary["folds"][str(fold)]["test"]), flush=True)
        save()
    summary.update(mean_and_std([f["test"] for f in summary["folds"].values()]), num_folds=len(summary["folds"]))
    summary["wall_time_s"] = round(time.time() - started, 1)
    save()
    print(json.dumps({k: summary[k] for k in KEYS}), flush=True)


if __name__ == "__main__":
    main()
