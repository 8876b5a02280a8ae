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
import torch
from tqdm.auto import tqdm

from ser_hf.data import get_label_set, load_audio, load_corpus, make_split
from ser_hf.evaluation.metrics import ser_metrics
from ser_hf.scoring.score import model_inputs
from ser_hf.train.factory import model_from_backbone

CORE7 = list(get_label_set("core7"))


def layer_statistics(paths: list[str], max_duration_s: float = 6.0) -> np.ndarray:
    """``(clips, 2 * (layers + 1) * hidden)``: mean and std over frames of every frozen encoder layer."""
    model, feature_extractor = model_from_backbone("whisper-tiny.en", CORE7, freeze_encoder=True)
    model.eval()
    rows = []
    for path in tqdm(paths, desc="frozen Whisper tiny.en statistics"):
        wave = load_audio(path)[: int(max_duration_s * 16000)]
        inputs = model_inputs(feature_extractor, wave, "input_features")
        with torch.no_grad():
            states, mask = model.hidden_states(inputs["input_features"], inputs["attention_mask"])
        m = mask[0].bool()
        rows.append(np.concatenate([torch.cat([s[0][m].mean(0), s[0][m].std(0)]).numpy() for s in states]))
    return np.stack(rows)


def fit(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=2000, class_weight="balanced")).fit(x, y)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--output", default="docs/reports/calm_decision.json")
    args = parser.parse_args()

    dataset = load_corpus("ravdess", args.data_dir, "ravdess8")
    names = dataset.features["label"].names
    emotion = np.array([names[i] for i in dataset["label"]])
    features = layer_statistics(list(dataset["path"]))
    neutral = CORE7.index("neutral")
    merged = np.array([neutral if e == "calm" else (CORE7.index(e) if e in CORE7 else -1) for e in emotion])
    calm = emotion == "calm"
    index = {path: i for i, path in enumerate(dataset["path"])}

    folds = {}
    for fold in range(1, 7):
        split = make_split(dataset, "ravdess-6fold", fold)
        train = np.array([index[p] for p in split["train"]["path"]])
        val = np.array([index[p] for p in split["validation"]["path"]])
        models = {"drop": fit(features[train[~calm[train]]], merged[train[~calm[train]]]),
                  "merge": fit(features[train], merged[train])}
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
