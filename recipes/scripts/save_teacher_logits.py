"""Save a teacher's logits on the training clips of a recipe's fold, for distilling that fold's student later
(``--teacher FILE.parquet``) when the teacher's folder is gone (a fresh machine starts without outputs/).

    python recipes/scripts/save_teacher_logits.py recipes/cnn_multi_corpus_robust.yaml \
        --teacher outputs/whisper_robust_ft/fold3 --output recipes/teachers/default_fold3.parquet \
        --fold 3 --data_dir ../shared/data
"""

from __future__ import annotations

import argparse

from ser_hf.train import parse_recipe
from ser_hf.train.distill import export_teacher_logits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipe", help="the student's recipe (its data section chooses the clips)")
    parser.add_argument("--teacher", required=True, help="trained model folder")
    parser.add_argument("--output", required=True, help="the .parquet file to write")
    args, overrides = parser.parse_known_args()
    run = parse_recipe(args.recipe, [*overrides, "--teacher", args.teacher])
    print(export_teacher_logits(run, args.teacher, args.output))


if __name__ == "__main__":
    main()
