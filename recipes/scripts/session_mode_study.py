"""Session mode, measured: each speaker's clips answered together (offline), against clip mode.

    python recipes/scripts/session_mode_study.py --model default --protocol multi-corpus --fold 1 \
        --data-dir ../shared/data [--tune-on validation]

Scores every clip of the validation and test speakers once (cached in ``outputs/session_mode/``), fits the
population's per-emotion mean log probabilities on the validation speakers, then replays sessions per speaker:
all of the speaker's clips; 10 at random (5 draws); skewed (every neutral clip + 3 of each other emotion). Each
corpus is scored on its own emotions (the model's other labels masked). Prints one JSON line per method, part and
corpus: clip-mode and session-mode UA and WA side by side.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ser_hf.data import load_audio
from ser_hf.data.protocols import protocol_corpora
from ser_hf.evaluation.evaluate import evaluation_labels, label_columns, model_labels, scored_clips, score_clips
from ser_hf.evaluation.sessions import session_metrics
from ser_hf.scoring.adaptation import (STRENGTH, WARMUP, SessionAdapter, adapt_session, population_statistics,
                                       session_offset)
from ser_hf.scoring.loading import load_model, resolve_model_dir

CACHE = Path("outputs/session_mode")


def clip_scores(model: str, protocol: str, fold: int, part: str, data_dir) -> dict:
    """Per corpus: ``{"log_probabilities" (clips, K), "labels" (model indices), "speakers", "columns"}``, cached."""
    path = CACHE / f"{model.strip('/').replace('/', '_')}_{protocol}_fold{fold}_{part}.npz"
    if path.is_file():
        saved = np.load(path, allow_pickle=True)
        return saved["scores"].item()
    network, fe = load_model(model)
    names = model_labels(network)
    out = {}
    for corpus in protocol_corpora(protocol):
        labels = evaluation_labels(names, corpus, None)
        dataset, _, _ = scored_clips(corpus, data_dir, labels, "merge", protocol, fold, part)
        waves = (load_audio(p, fe.sampling_rate) for p in dataset["path"])
        log_probabilities, _ = score_clips(network, fe, waves, label_columns(names, labels), progress=True,
                                           total=len(dataset), desc=f"{model} {corpus} {part}")
        out[corpus] = {"log_probabilities": log_probabilities,
                       "labels": np.array([names.index(labels[i]) for i in dataset["label"]]),
                       "speakers": np.asarray(dataset["speaker"]), "columns": label_columns(names, labels),
                       "names": names}
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, scores=np.array(out, dtype=object))
    return out


def statistics(scores: dict, num_labels: int) -> tuple[np.ndarray, float]:
    """:func:`population_statistics` of every corpus's clips pooled."""
    return population_statistics(np.concatenate([s["log_probabilities"] for s in scores.values()]),
                                 np.concatenate([s["labels"] for s in scores.values()]), num_labels)


def causal(rows: np.ndarray, fit, warmup: int) -> np.ndarray:
    """Each clip adapted with what came before it only (a stream): ``fit(previous rows)`` gives the offset."""
    out = rows.copy()
    for i in range(warmup, len(rows)):
        out[i] = rows[i] - fit(rows[:i])
    return out


def methods(means: np.ndarray, spread: float, config: dict) -> dict:
    prior = means.mean(axis=0)
    running = SessionAdapter(prior=config.get("adaptation_prior"), strength=STRENGTH, warmup=WARMUP)

    def today(rows):  # the shipped running adapter, replayed clip by clip
        running.reset()
        return np.stack([running(row) for row in rows])

    return {
        "today_running": today,
        **{f"causal_shift_mix_w{w}": (lambda w: lambda rows: causal(
            rows, lambda past: session_offset(past, means, spread)[0], w))(w) for w in (3, 5, 10)},
        "center": lambda log_p: log_p - (log_p.mean(axis=0) - prior),
        **{f"shift_mix_spread{c}_shrink{k}": (lambda c, k: lambda log_p: adapt_session(
            log_p, means, spread, spread_scale=c, shrink=k))(c, k) for c in (0.5, 1, 2) for k in (0, 5, 20)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--protocol", default="multi-corpus")
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--parts", nargs="+", default=["validation", "test"])
    parser.add_argument("--means-from", default="validation", help="the part whose clips give the class means")
    args = parser.parse_args()
    scores = {part: clip_scores(args.model, args.protocol, args.fold, part, args.data_dir)
              for part in dict.fromkeys([args.means_from, *args.parts])}
    names = list(next(iter(scores[args.means_from].values()))["names"])
    means, spread = statistics(scores[args.means_from], len(names))
    config = json.loads((resolve_model_dir(args.model) / "config.json").read_text())
    for name, method in methods(means, spread, config).items():
        for part in args.parts:
            for corpus, s in scores[part].items():
                scored = [names[c] for c in s["columns"]]
                labels = np.array([list(s["columns"]).index(label) for label in s["labels"]])
                print(json.dumps({"model": args.model, "protocol": args.protocol, "fold": args.fold, "part": part,
                                  "method": name, "corpus": corpus, **session_metrics(
                                      s["log_probabilities"], labels, s["speakers"], list(s["columns"]), scored,
                                      method)}), flush=True)


if __name__ == "__main__":
    main()
