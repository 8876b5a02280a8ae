"""The ``evaluate`` metric module of ser_hf, loaded by path (offline), and the one call every figure goes through."""

from __future__ import annotations

from pathlib import Path

import numpy as np

METRIC_PATH = str(Path(__file__).resolve().parent / "ser_metrics")
_METRIC = None


def load_ser_metrics():
    """``evaluate.load`` of the ser_metrics module shipped in this package."""
    import evaluate

    return evaluate.load(METRIC_PATH)


def ser_metrics(predictions, references, labels: list[str]) -> dict:
    """UA, WA, macro and weighted F1, per-class scores and the confusion matrix of class ids ``predictions`` against
    ``references`` over ``labels`` (their names, in id order), plus ``num_records``. A prediction of -1 (no
    speech) is left out, and counted in ``no_speech``."""
    global _METRIC
    if _METRIC is None:
        _METRIC = load_ser_metrics()
    predictions, references = np.asarray(predictions), np.asarray(references)
    scored = predictions >= 0
    out = _METRIC.compute(predictions=predictions[scored], references=references[scored],
                          labels=list(range(len(labels))), label_names=labels)
    out["num_records"] = int(scored.sum())
    out["no_speech"] = int((~scored).sum())
    return out
