"""Decide what to do with RAVDESS ``calm`` in ``core7`` (drop it, or merge it into neutral) by measurement.

    python recipes/scripts/calm_probe.py --data-dir ../shared/data --output docs/reports/calm_decision.json

A cheap, fixed probe stands in for the full model: utterance statistics (mean and standard deviation over
time) of every layer of the frozen Whisper tiny.en encoder, standardized, and a logistic regression. For
each fold of ``ravdess-6fold`` it trains on the fold's training actors twice (calm dropped; calm labelled
neutral) and scores both on the fold's *validation* actors, on the same two views of them: calm clips
removed, and calm clips labelled neutral. Test actors are never used. The policy whose model scores better
on the view a deployed model meets (every kind of speech, so calm included, as neutral) is chosen.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ser_hf.data import get_label_set, load_corpus, make_split
from ser_hf.evaluation.metrics import ser_metrics
from ser_hf.train.probe import encoder_statistics, fit_probe

CORE7 = list(get_label_set("core7"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--output", default="docs/reports/calm_decision.json")
    args = parser.parse_args()

    dataset = load_corpus("ravdess", args.data_dir, "ravdess8")
    names = dataset.features["label"].names
    emotion = np.array([names[i] for i in dataset["label"]])
    features = encoder_statistics(list(dataset["path"]))
    neutral = CORE7.index("neutral")
    merged = np.array([neutral if e == "calm" else (CORE7.index(e) if e in CORE7 else -1) for e in emotion])
    calm = emotion == "calm"
    index = {path: i for i, path in enumerate(dataset["path"])}

    folds = {}
    for fold in range(1, 7):
        split = make_split(dataset, "ravdess-6fold", fold)
        train = np.array([index[p] for p in split["train"]["path"]])
        val = np.array([index[p] for p in split["validation"]["path"]])
        models = {"drop": fit_probe(features[train[~calm[train]]], merged[train[~calm[train]]]),
                  "merge": fit_probe(features[train], merged[train])}
        views = {"calm removed": val[~calm[val]], "calm as neutral": val}
        row = {}
        for policy, model in models.items():
            for view, rows in views.items():
                scores = ser_metrics(model.predict(features[rows]), merged[rows], CORE7)
                row[f"{policy} / {view}"] = round(scores["ua"], 4)
            row[f"{policy} / calm clips called neutral"] = round(float(np.mean(model.predict(features[val[calm[val]]]) == neutral)), 4)
        folds[fold] = row
        print(fold, row)
    mean = {key: round(float(np.mean([row[key] for row in folds.values()])), 4) for key in folds[1]}
    choice = "merge" if mean["merge / calm as neutral"] >= mean["drop / calm as neutral"] else "drop"
    result = {"probe": "frozen Whisper tiny.en, all-layer mean+std, logistic regression (C=0.01, balanced)",
              "protocol": "ravdess-6fold, validation actors of each fold (test actors unused)",
              "folds": folds, "mean": mean, "choice": choice}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"mean": mean, "choice": choice}, indent=2))


if __name__ == "__main__":
    main()
