"""Evaluation reports: ``metrics.json``, ``report.md`` (with an error analysis) and ``confusion_matrix.png``."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from .calibration import calibration_metrics, plot_calibration
from .metrics import ser_metrics


def write_report(output_dir, predictions: np.ndarray, references: np.ndarray, labels: list[str], *, rows=None,
                 skipped: list[dict] | None = None, title: str = "Evaluation", probabilities: np.ndarray | None = None,
                 temperature: float = 1.0, left_out: dict | None = None, calm: str | None = None,
                 sessions: dict | None = None) -> dict:
    """Write ``metrics.json``, ``report.md`` and ``confusion_matrix.png``; ``rows`` (a Dataset or dict of
    columns with ``speaker``, ``gender``, ``intensity``, ``corpus``) enables the error analysis, and
    ``probabilities (clips, len(labels))`` the calibration (``ece``, ``calibration.png``); ``left_out`` (emotion ->
    clips outside the scored labels) and ``calm`` are recorded and said in the report, and so are ``sessions``
    (:func:`ser_hf.evaluation.sessions.session_metrics`: clip and session mode side by side)."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    computed = ser_metrics(predictions, references, labels)
    metrics = {key: computed[key] for key in ("ua", "wa", "macro_f1", "weighted_f1")}
    metrics.update(labels=labels, per_class=computed["per_class"], confusion_matrix=computed["confusion_matrix"],
                   num_records=computed["num_records"], skipped=skipped or [])
    if computed["no_speech"]:  # clips answered "no speech": left out of the figures, and said so
        metrics["no_speech"] = computed["no_speech"]
    if left_out:
        metrics["left_out"] = left_out
    if calm is not None:
        metrics["calm"] = calm
    if sessions:
        metrics["sessions"] = sessions
    calibration = calibration_metrics(probabilities, references, temperature) if probabilities is not None else {}
    if calibration:
        metrics.update(ece=calibration["ece"], ece_at_temperature_1=calibration["ece_at_temperature_1"],
                       calibration={k: calibration[k] for k in ("temperature", "reliability", "coverage")})
        plot_calibration(calibration["reliability"], calibration["coverage"], out / "calibration.png", title)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    analysis = error_analysis(predictions, references, labels, rows, metrics["confusion_matrix"]) if rows is not None else {}
    (out / "report.md").write_text(report_markdown(metrics, analysis, title))
    plot_confusion_matrix(np.asarray(metrics["confusion_matrix"]), labels, out / "confusion_matrix.png", title)
    return metrics


def error_analysis(predictions, references, labels: list[str], rows, confusion_matrix: list[list[int]]) -> dict:
    """Accuracy per speaker and per gender, the most confused pairs (from the metric's ``confusion_matrix``), and
    RAVDESS normal vs strong intensity. Clips answered "no speech" (prediction -1) count as wrong here."""
    correct = np.asarray(predictions) == np.asarray(references)
    columns = {name: list(rows[name]) for name in ("speaker", "gender", "intensity", "corpus") if name in
               (rows.column_names if hasattr(rows, "column_names") else rows)}

    def grouped(column: str) -> dict:
        groups: dict = defaultdict(list)
        for key, ok in zip(columns.get(column, []), correct):
            groups[key].append(ok)
        return {key: {"accuracy": float(np.mean(v)), "num_records": len(v)} for key, v in sorted(groups.items())}

    matrix = np.asarray(confusion_matrix)
    support = matrix.sum(axis=1, keepdims=True)
    rates = np.divide(matrix, support, out=np.zeros(matrix.shape), where=support > 0)
    pairs = [(labels[i], labels[j], float(rates[i, j]), int(matrix[i, j]))
             for i in range(len(labels)) for j in range(len(labels)) if i != j and matrix[i, j]]
    pairs.sort(key=lambda p: -p[2])
    analysis = {"per_speaker": grouped("speaker"), "per_gender": grouped("gender"),
                "confused_pairs": [{"true": a, "predicted": b, "rate": r, "count": c} for a, b, r, c in pairs[:8]]}
    corpora = Counter(columns.get("corpus", []))
    if corpora.get("ravdess"):
        analysis["ravdess_intensity"] = {k: v for k, v in grouped("intensity").items() if k in ("normal", "strong")}
    return analysis


def left_out_sentence(left_out: dict, calm: str | None) -> str:
    """One sentence that says which clips the scored labels left out, and why."""
    parts = ", ".join(f"{n} {emotion}" for emotion, n in left_out.items())
    hint = " (RAVDESS calm: --calm merge scores it as neutral)" if "calm" in left_out and calm != "merge" else ""
    return f"Left out: {parts} clip(s), outside the labels scored{hint}."


def report_markdown(metrics: dict, analysis: dict, title: str) -> str:
    labels = metrics["labels"]
    no_speech = metrics.get("no_speech", 0)
    left_out = f"; {no_speech} answered \"no speech\" and left out of the figures" if no_speech else ""
    lines = [f"# {title}", "", f"{metrics['num_records']} clips; {len(metrics['skipped'])} skipped{left_out}.", ""]
    if metrics.get("left_out"):
        lines += [left_out_sentence(metrics["left_out"], metrics.get("calm")), ""]
    lines += [
             "| UA | WA | macro F1 | weighted F1 |", "|---:|---:|---:|---:|",
             f"| **{metrics['ua']:.3f}** | {metrics['wa']:.3f} | {metrics['macro_f1']:.3f} | {metrics['weighted_f1']:.3f} |",
             "", "UA (unweighted accuracy) is the mean of the per-class recalls; WA is plain accuracy.", "",
             "## Per class", "", "| emotion | precision | recall | F1 | clips |", "|---|---:|---:|---:|---:|"]
    for label in labels:
        c = metrics["per_class"][label]
        lines.append(f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
    lines += ["", "## Confusion matrix (rows: true, columns: predicted)", "",
              "| true \\ predicted | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for label, row in zip(labels, metrics["confusion_matrix"]):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    lines += ["", "![confusion matrix](confusion_matrix.png)"]
    if "ece" in metrics:
        calibration = metrics["calibration"]
        lines += ["", "## Calibration", "", f"Expected calibration error {metrics['ece']:.3f} at the model's temperature "
                  f"{calibration['temperature']:g} ({metrics['ece_at_temperature_1']:.3f} at temperature 1). "
                  "Answering \"uncertain\" below a confidence threshold (`--min-confidence`):", "",
                  "| min confidence | clips answered | accuracy on them |", "|---:|---:|---:|"]
        lines += [f"| {row['min_confidence']:.1f} | {row['coverage']:.1%} | {row['accuracy']:.3f} |"
                  for row in calibration["coverage"]]
        lines += ["", "![reliability and coverage](calibration.png)"]
    if metrics.get("sessions"):
        lines += ["", "## Sessions: clip mode and session mode", "",
                  "Each speaker's clips answered one by one (clip mode) and together (session mode: the speaker's shift "
                  "and the session's emotion mix fitted by EM, `--adapt`). Sessions: all of a speaker's clips; 10 at "
                  "random (5 draws); skewed, every neutral clip and 3 of each other emotion.", "",
                  "| sessions | sessions scored | clips | clip UA | session UA | clip WA | session WA |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {kind} | {r['sessions']} | {r['clips']} | {r['clip']['ua']:.3f} | {r['session']['ua']:.3f} | "
                  f"{r['clip']['wa']:.3f} | {r['session']['wa']:.3f} |" for kind, r in metrics["sessions"].items()]
    if analysis:
        lines += ["", "## Error analysis", "", "### Most confused pairs", "", "| true | predicted as | share of the true class | clips |",
                  "|---|---|---:|---:|"]
        lines += [f"| {p['true']} | {p['predicted']} | {p['rate']:.1%} | {p['count']} |" for p in analysis["confused_pairs"]]
        for key, heading in (("per_gender", "Accuracy per gender"), ("ravdess_intensity", "RAVDESS intensity"),
                             ("per_speaker", "Accuracy per speaker")):
            if analysis.get(key):
                lines += ["", f"### {heading}", "", "| group | accuracy | clips |", "|---|---:|---:|"]
                lines += [f"| {k} | {v['accuracy']:.3f} | {v['num_records']} |" for k, v in analysis[key].items()]
    if metrics["skipped"]:
        lines += ["", "## Skipped files", ""] + [f"- `{s['path']}`: {s['reason']}" for s in metrics["skipped"]]
    return "\n".join(lines) + "\n"


def plot_confusion_matrix(matrix: np.ndarray, labels: list[str], path, title: str = "") -> None:
    """Confusion matrix normalized by true class (rows sum to 1), with counts, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    support = matrix.sum(axis=1, keepdims=True)
    rates = np.divide(matrix, support, out=np.zeros(matrix.shape), where=support > 0)
    size = 1.0 + 0.75 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.5, size), constrained_layout=True)
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=40, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set(xlabel="predicted", ylabel="true", title=title or "Confusion matrix")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{rates[i, j]:.2f}\n({matrix[i, j]})", ha="center", va="center", fontsize=7,
                    color="white" if rates[i, j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the true class")
    fig.savefig(path, dpi=110)
    plt.close(fig)
