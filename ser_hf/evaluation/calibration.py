"""Calibrated confidence: expected calibration error, temperature scaling fitted on validation speakers, the
reliability diagram, and accuracy against coverage for an abstention threshold.

The temperature lives in the model config as ``calibration_temperature`` (transformers refuses a model config
field named ``temperature``: it is a generation parameter) and every scoring path divides the logits by it.
"""

from __future__ import annotations

import numpy as np

from ..scoring.decision import normalize_log, safe_log, softmax

BINS = 15


def expected_calibration_error(probabilities: np.ndarray, references: np.ndarray, bins: int = BINS) -> float:
    """ECE of ``probabilities (clips, classes)`` against class ids ``references (clips,)``: the mean gap between
    confidence (top probability) and accuracy over ``bins`` equal-width confidence bins, weighted by clip count."""
    table = reliability(probabilities, references, bins)
    counts = np.asarray(table["counts"], dtype=np.float64)
    if counts.sum() == 0:
        return 0.0
    gaps = np.abs(np.asarray(table["confidence"]) - np.asarray(table["accuracy"]))
    return float((gaps * counts).sum() / counts.sum())


def reliability(probabilities: np.ndarray, references: np.ndarray, bins: int = BINS) -> dict:
    """Per confidence bin: mean ``confidence``, ``accuracy`` and ``counts`` (empty bins give 0)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(references)
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    mean_confidence = np.bincount(index, weights=confidence, minlength=bins) / np.maximum(counts, 1)
    accuracy = np.bincount(index, weights=correct.astype(float), minlength=bins) / np.maximum(counts, 1)
    return {"edges": np.linspace(0, 1, bins + 1).tolist(), "confidence": mean_confidence.tolist(),
            "accuracy": accuracy.tolist(), "counts": counts.tolist()}


def fit_temperature(log_probabilities: np.ndarray, references: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimizes the negative log-likelihood of ``references`` (temperature
    scaling, Guo et al. 2017); it changes no prediction, only the confidence."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(references))

    def nll(log_t: float) -> float:
        return float(-normalize_log(log_probabilities / np.exp(log_t))[rows, references].mean())

    best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return round(float(np.exp(best.x)), 4)


def fit_calibration(log_probabilities: np.ndarray, references: np.ndarray, columns=None,
                    temperature: float | None = None, neutral: int | None = None) -> dict:
    """What ``ser-hf calibrate`` and training store in a model's config, fitted on validation speakers' clips
    (``log_probabilities (clips, num_labels)`` at temperature 1, NaN rows for "no speech", left out): the
    ``calibration_temperature`` (:func:`fit_temperature` over ``columns``, the labels scored, which ``references
    (clips,)`` index; every label by default), unless ``temperature`` is given, and session mode's population
    statistics at that temperature (``adaptation_class_means``, ``adaptation_spread``:
    :func:`ser_hf.scoring.adaptation.population_statistics`), and the running adapter's (streams): the mean log
    probabilities of every clip (``adaptation_prior``) and, with ``neutral`` (its label index), of the neutral ones
    (``adaptation_neutral_prior``, what enrollment on neutral clips compares a speaker with)."""
    from ..scoring.adaptation import population_statistics

    rows = np.asarray(log_probabilities, dtype=np.float64)
    columns = np.arange(rows.shape[1]) if columns is None else np.asarray(columns)
    kept = ~np.isnan(rows).any(axis=1)
    rows, references = rows[kept], np.asarray(references)[kept]
    if temperature is None:
        temperature = fit_temperature(normalize_log(rows[:, columns]), references)
    scaled = normalize_log(rows / temperature)
    means, spread = population_statistics(scaled, columns[references], rows.shape[1])
    fitted = {"calibration_temperature": temperature, "adaptation_class_means": np.round(means, 4).tolist(),
              "adaptation_spread": round(spread, 4), "adaptation_prior": np.round(scaled.mean(axis=0), 4).tolist()}
    if neutral is not None and (columns[references] == neutral).any():
        fitted["adaptation_neutral_prior"] = np.round(means[neutral], 4).tolist()
    return fitted


def coverage_curve(probabilities: np.ndarray, references: np.ndarray,
                   thresholds: tuple[float, ...] = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)) -> list[dict]:
    """For each ``min_confidence`` threshold: the share of clips answered (``coverage``) and the accuracy on them
    (the rest would be answered "uncertain")."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(references)
    rows = []
    for threshold in thresholds:
        kept = confidence >= threshold
        rows.append({"min_confidence": threshold, "coverage": float(kept.mean()) if len(kept) else 0.0,
                     "accuracy": float(correct[kept].mean()) if kept.any() else 0.0})
    return rows


def plot_calibration(curves: dict[str, dict], coverage: list[dict], path, title: str = "") -> None:
    """Reliability diagrams (``curves``: name -> :func:`reliability`) beside accuracy against coverage, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    left.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for name, table in curves.items():
        used = np.asarray(table["counts"]) > 0
        left.plot(np.asarray(table["confidence"])[used], np.asarray(table["accuracy"])[used], marker="o", label=name)
    left.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top probability)", ylabel="accuracy",
             title="Reliability")
    left.legend(loc="upper left", fontsize=8)
    right.plot([row["coverage"] for row in coverage], [row["accuracy"] for row in coverage], marker="o")
    for row in coverage:
        right.annotate(f"{row['min_confidence']:.1f}", (row["coverage"], row["accuracy"]), fontsize=7,
                       textcoords="offset points", xytext=(4, -10))
    right.set(xlim=(0, 1.02), xlabel="coverage (share of clips answered)", ylabel="accuracy on the answered clips",
              title="Abstaining below --min-confidence")
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def calibration_metrics(probabilities: np.ndarray, references: np.ndarray, temperature: float = 1.0) -> dict:
    """``ece`` of ``probabilities (clips, classes)`` (rows of NaN, "no speech", are left out), ``ece_at_temperature_1``
    (the same clips before the model's ``temperature``), the ``reliability`` table of both and the ``coverage``
    curve."""
    kept = ~np.isnan(probabilities).any(axis=1)
    probabilities = probabilities[kept] / probabilities[kept].sum(axis=1, keepdims=True)
    references = np.asarray(references)[kept]
    if not len(references):
        return {}
    raw = softmax(safe_log(probabilities), 1.0 / temperature)
    return {"ece": expected_calibration_error(probabilities, references),
            "ece_at_temperature_1": expected_calibration_error(raw, references),
            "temperature": temperature,
            "reliability": {"calibrated": reliability(probabilities, references),
                            "temperature 1": reliability(raw, references)},
            "coverage": coverage_curve(probabilities, references)}
