"""A head that sees the speaker: a linear classifier on the default model's pooled embedding ``z`` and on
``z - m``, where ``m`` is the mean embedding of the speaker's clips heard so far, measured beside the shipped head
(``adaptation_study.py``'s sessions and admissibility rule).

Training rows pair each training clip with ``m`` from a random subset of 3 to 20 clips of the same training speaker
(half the subsets 60% neutral), so the head learns how far to trust a session's mean, skew included. In a session
the clips arrive one by one: before ``warmup`` clips the shipped head answers, then the new head with the
session's running mean. ``C`` and the warm-up are chosen on the validation speakers; the test speakers are scored
once with that choice.

    python recipes/scripts/speaker_normalized_head.py --fold 1 --data-dir ../shared/data

Caches the embeddings in ``outputs/adaptation/embeddings_*.npz`` (a few MB) and prints one line per configuration.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch
from scipy.special import log_softmax
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).parent))
import adaptation_probe as probe  # noqa: E402
import adaptation_study as study  # noqa: E402

from ser_hf.data import load_audio, load_split  # noqa: E402
from ser_hf.scoring.loading import load_model  # noqa: E402
from ser_hf.scoring.score import model_inputs  # noqa: E402


def embeddings(model: str, fold: int, part: str, data_dir) -> dict:
    """Per clip: the pooled embedding the classifier reads ``(clips, 2 * conv_channels)``, logits, labels, speakers."""
    path = study.CACHE / f"embeddings_{study.cache_name(model)}_fold{fold}_{part}.npz"
    if not path.is_file():
        from tqdm import tqdm

        network, fe = load_model(model)
        network.eval()
        split, names = load_split(["ravdess", "crema_d", "tess"], data_dir, "core7", calm="merge",
                                  protocol="multi-corpus", fold=fold)
        rows, grab = split[part], {}
        hook = network.classifier.register_forward_hook(lambda m, i, o: grab.__setitem__("z", i[0][0].numpy()))
        pooled, logits = [], []
        for clip in tqdm(rows["path"], desc=f"{model} fold {fold} {part}", mininterval=30):
            with torch.inference_mode():
                logits.append(network(**model_inputs(fe, load_audio(clip, fe.sampling_rate),
                                                     network.main_input_name)).logits[0].numpy())
            pooled.append(grab["z"].copy())
        hook.remove()
        study.CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, z=np.stack(pooled), logits=np.stack(logits), labels=np.asarray(rows["label"]),
                 speakers=np.asarray(rows["speaker"]), label_names=np.asarray(names))
    saved = np.load(path, allow_pickle=True)
    out = {k: saved[k] for k in saved.files}
    out["log_probabilities"] = log_softmax(out["logits"], axis=1)  # what the study's sessions read
    return out


def training_rows(data: dict, copies: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``[z, z - m]`` for every training clip, ``copies`` times, ``m`` the mean of a random subset of its speaker."""
    rng = np.random.default_rng(seed)
    neutral = list(data["label_names"]).index("neutral")
    features, labels = [], []
    for speaker in np.unique(data["speakers"]):
        rows = np.flatnonzero(data["speakers"] == speaker)
        is_neutral = data["labels"][rows] == neutral
        for i in rows:
            for _ in range(copies):
                k = int(rng.integers(3, 21))
                if rng.random() < 0.5 and is_neutral.any() and (~is_neutral).any():  # a skewed session
                    n = int(round(0.6 * k))
                    subset = np.concatenate([rng.choice(rows[is_neutral], n), rng.choice(rows[~is_neutral], k - n)])
                else:
                    subset = rng.choice(rows, k)
                m = data["z"][subset].mean(0)
                features.append(np.concatenate([data["z"][i], data["z"][i] - m]))
                labels.append(data["labels"][i])
    return np.stack(features), np.asarray(labels)


class NormalizedHead:
    """Scores of clip ``i`` in one session: the shipped head's logits before ``warmup`` clips, then the new head's
    log probabilities on ``[z, z - m]`` with ``m`` the mean ``z`` of the session's clips so far."""

    def __init__(self, data: dict, head, scaler, warmup: int):
        self.data, self.head, self.scaler, self.warmup = data, head, scaler, warmup
        self.total, self.count = np.zeros(data["z"].shape[1]), 0

    def __call__(self, i: int) -> np.ndarray:
        z = self.data["z"][i]
        if self.head is None or self.count < self.warmup:
            out = self.data["logits"][i]
        else:
            x = self.scaler.transform(np.concatenate([z, z - self.total / self.count])[None])
            out = np.full(len(self.data["label_names"]), -np.inf)
            out[self.head.classes_] = self.head.predict_log_proba(x)[0]
        self.total, self.count = self.total + z, self.count + 1
        return out


def replay(data: dict, head, scaler, warmup: int, skewed: bool) -> tuple[float, float]:
    """UA and WA over the study's sessions (:func:`adaptation_probe.replay`) with :class:`NormalizedHead`."""
    return probe.replay(data, lambda: NormalizedHead(data, head, scaler, warmup), skewed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--output", default="docs/reports/adaptation/speaker_normalized_head.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    parts = {part: embeddings(args.model, args.fold, part, args.data_dir) for part in ("train", "validation", "test")}
    x, y = training_rows(parts["train"], args.copies)
    scaler = StandardScaler().fit(x)
    results = {"none": {part: [replay(parts[part], None, None, 0, s) for s in (False, True)]
                        for part in ("validation", "test")}}
    heads = {}
    for c in (0.001, 0.01, 0.1):
        heads[c] = LogisticRegression(C=c, max_iter=300, class_weight="balanced").fit(scaler.transform(x), y)
        for warmup in (3, 5, 10):
            results[f"C={c} warmup={warmup}"] = {"validation": [replay(parts["validation"], heads[c], scaler, warmup, s)
                                                                for s in (False, True)]}
    base = results["none"]["validation"]

    def admissible(r) -> bool:
        return all(r["validation"][1][k] >= base[1][k] - 0.01 for k in (0, 1))

    for key, r in results.items():
        change = [round(r["validation"][s][k] - base[s][k], 3) for s, k in itertools.product((0, 1), (0, 1))]
        print(key, "admissible" if admissible(r) else "-", "validation change (bal UA, WA, skew UA, WA)", change,
              flush=True)
    options = [k for k in results if k != "none" and admissible(results[k])]
    chosen = max(options or [k for k in results if k != "none"], key=lambda k: results[k]["validation"][0][0])
    c, warmup = (float(v.split("=")[1]) for v in chosen.split())
    results[chosen]["test"] = [replay(parts["test"], heads[c], scaler, int(warmup), s) for s in (False, True)]
    change = [round(results[chosen]["test"][s][k] - results["none"]["test"][s][k], 3)
              for s, k in itertools.product((0, 1), (0, 1))]
    print("chosen", chosen, "admissible" if options else "(none admissible)", "test change", change,
          "test none", results["none"]["test"], flush=True)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"model": args.model, "fold": args.fold, "chosen": chosen,
                                             "admissible": bool(options), "results": results}, indent=2))


if __name__ == "__main__":
    main()
