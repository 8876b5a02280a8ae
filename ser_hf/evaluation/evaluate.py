"""Evaluation reports: ``metrics.json``, ``report.md`` (with an error analysis) and ``confusion_matrix.png``.

``evaluate_model`` scores a trained model on a whole corpus or on one fold's test speakers;
``write_report`` turns any predictions into the report (the classic baseline uses it too);
``cross_corpus`` fills the train-corpus x test-corpus matrix.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .errors import SerError
from .metrics import load_ser_metrics


def masked_logits(logits: np.ndarray, model_labels: list[str], labels: list[str]) -> np.ndarray:
    """Logits over ``labels`` only: the model's other labels are dropped, which is the same as masking them
    to -inf before the argmax. Every label in ``labels`` must be one of the model's."""
    missing = [label for label in labels if label not in model_labels]
    if missing:
        raise SerError(
            f"The model does not predict {', '.join(missing)} (it knows {', '.join(model_labels)}); choose a label "
            "set within the model's labels (for example --label-set core6), or --calm merge for RAVDESS calm."
        )
    return logits[..., [model_labels.index(label) for label in labels]]


def evaluation_labels(model_labels: list[str], corpus: str, label_set: str | None) -> list[str]:
    """The labels to score: ``label_set`` if given, else the model's labels that the corpus has."""
    from .corpora import NATIVE_LABEL_SETS
    from .labels import get_label_set

    if label_set:
        return list(get_label_set(label_set))
    native = get_label_set(NATIVE_LABEL_SETS[corpus])
    return [label for label in model_labels if label in native]


def evaluate_model(
    model: str | os.PathLike | None,
    corpus: str,
    data_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    protocol: str | None = None,
    fold: int = 1,
    label_set: str | None = None,
    calm: str = "drop",
    progress: bool = True,
) -> dict:
    """Score ``model`` (a folder; ``None``/``"compact"`` for the bundled ones) on ``corpus``: the whole corpus,
    or ``corpus``'s share of the test part of ``fold`` of ``protocol`` (multi-corpus included). Writes the report files to ``output_dir``; returns the metrics."""
    from .corpora import load_corpus
    from .models.loading import clip_logits, load_model
    from .protocols import PROTOCOL_CORPORA, make_split

    network, feature_extractor = load_model(model)
    model_labels = [network.config.id2label[i] for i in range(network.config.num_labels)]
    labels = evaluation_labels(model_labels, corpus, label_set)
    masked_logits(np.zeros(len(model_labels)), model_labels, labels)  # fail early on unknown labels
    dataset, skipped = load_corpus(corpus, data_dir, labels, calm=calm, return_skipped=True)
    if protocol:
        if corpus not in PROTOCOL_CORPORA[protocol]:
            raise SerError(f"Protocol {protocol} does not split {corpus}; use the corpus's own protocol.")
        dataset = make_split(dataset, protocol, fold)["test"]
    rate = feature_extractor.sampling_rate
    logits = np.stack([
        masked_logits(clip_logits(network, feature_extractor, _load(path, rate)), model_labels, labels)
        for path in tqdm(dataset["path"], desc=f"Evaluating on {corpus}", disable=not progress)
    ])
    name = "/".join(Path(str(model)).parts[-2:]) if model and str(model) not in ("default", "compact") else (model or "default")
    title = f"{name} on {corpus}" + (f", {protocol} fold {fold}" if protocol else "")
    return write_report(output_dir, logits.argmax(axis=1), np.asarray(dataset["label"]), labels,
                        rows=dataset, skipped=[vars(s) for s in skipped], title=title)


def evaluate_per_corpus(
    model: str | os.PathLike | None,
    data_dir: str | os.PathLike,
    output_dir: str | os.PathLike,
    *,
    protocol: str = "multi-corpus",
    fold: int = 1,
    label_set: str | None = None,
    calm: str = "drop",
    progress: bool = True,
) -> dict:
    """Score ``model`` on each corpus of ``protocol``'s ``fold`` test part separately (reports in
    ``output_dir/<corpus>``); writes and returns ``per_corpus.json``: ``{corpus: metrics summary}``."""
    from .protocols import PROTOCOL_CORPORA

    results = {}
    for corpus in PROTOCOL_CORPORA[protocol]:
        metrics = evaluate_model(model, corpus, data_dir, Path(output_dir) / corpus, protocol=protocol, fold=fold,
                                 label_set=label_set, calm=calm, progress=progress)
        results[corpus] = {"protocol": protocol, "fold": fold, "labels": metrics["labels"], "calm": calm,
                           **{k: metrics[k] for k in ("ua", "wa", "macro_f1", "weighted_f1", "num_records")}}
    (Path(output_dir) / "per_corpus.json").write_text(json.dumps(results, indent=2))
    return results


def _load(path: str, rate: int) -> np.ndarray:
    from .audio import load_audio

    return load_audio(path, rate)


def write_report(output_dir, predictions: np.ndarray, references: np.ndarray, labels: list[str], *, rows=None,
                 skipped: list[dict] | None = None, title: str = "Evaluation") -> dict:
    """Write ``metrics.json``, ``report.md`` and ``confusion_matrix.png``; ``rows`` (a Dataset or dict of
    columns with ``speaker``, ``gender``, ``intensity``, ``corpus``) enables the error analysis."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    computed = load_ser_metrics().compute(predictions=predictions, references=references,
                                          labels=list(range(len(labels))), label_names=labels)
    metrics = {
        "ua": computed["ua"], "wa": computed["wa"], "macro_f1": computed["macro_f1"],
        "weighted_f1": computed["weighted_f1"], "labels": labels, "per_class": computed["per_class"],
        "confusion_matrix": computed["confusion_matrix"], "num_records": int(len(references)),
        "skipped": skipped or [],
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    analysis = error_analysis(predictions, references, labels, rows) if rows is not None else {}
    (out / "report.md").write_text(report_markdown(metrics, analysis, title))
    plot_confusion_matrix(np.asarray(metrics["confusion_matrix"]), labels, out / "confusion_matrix.png", title)
    return metrics


def error_analysis(predictions, references, labels: list[str], rows) -> dict:
    """Accuracy per speaker and per gender, the most confused pairs, and RAVDESS normal vs strong intensity."""
    correct = np.asarray(predictions) == np.asarray(references)
    columns = {name: list(rows[name]) for name in ("speaker", "gender", "intensity", "corpus") if name in
               (rows.column_names if hasattr(rows, "column_names") else rows)}

    def grouped(column: str) -> dict:
        groups: dict = defaultdict(list)
        for key, ok in zip(columns.get(column, []), correct):
            groups[key].append(ok)
        return {key: {"accuracy": float(np.mean(v)), "num_records": len(v)} for key, v in sorted(groups.items())}

    matrix = np.zeros((len(labels), len(labels)), dtype=int)
    for truth, guess in zip(references, predictions):
        matrix[truth, guess] += 1
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


def report_markdown(metrics: dict, analysis: dict, title: str) -> str:
    labels = metrics["labels"]
    lines = [f"# {title}", "", f"{metrics['num_records']} clips; {len(metrics['skipped'])} skipped.", "",
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


def cross_corpus(models: dict[str, str], data_dir, output_dir, label_set: str = "core6", progress: bool = True) -> dict:
    """Evaluate each model (trained on the corpus named by its key) on every corpus in ``models``' keys, on
    ``label_set``; write ``cross_corpus.json``, ``cross_corpus.md`` and ``cross_corpus.png``."""
    out = Path(output_dir)
    names = list(models)
    matrix: dict = {}
    for train_corpus, model_dir in models.items():
        for test_corpus in names:
            result = evaluate_model(model_dir, test_corpus, data_dir, out / f"{train_corpus}_on_{test_corpus}",
                                    label_set=label_set, progress=progress)
            matrix.setdefault(train_corpus, {})[test_corpus] = {"ua": result["ua"], "wa": result["wa"]}
    return write_cross_corpus(matrix, out, label_set, {k: str(v) for k, v in models.items()})


CROSS_CORPUS_NOTE = ("The whole test corpus is scored (including, on the diagonal, the model's own training speakers: "
                     "read the diagonal as an upper bound, and the protocols' test folds for in-corpus results).")


def write_cross_corpus(matrix: dict, output_dir, label_set: str, models: dict, note: str = CROSS_CORPUS_NOTE) -> dict:
    """Write ``cross_corpus.json``, ``.md`` and ``.png`` of ``matrix[train_corpus][test_corpus] = {"ua", "wa"}``."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = list(matrix)
    summary = {"label_set": label_set, "models": models, "ua": matrix}
    (out / "cross_corpus.json").write_text(json.dumps(summary, indent=2))
    lines = [f"# Cross-corpus UA ({label_set}); rows: trained on, columns: tested on", "",
             "| trained on \\ tested on | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for train_corpus in names:
        lines.append(f"| {train_corpus} | " + " | ".join(f"{matrix[train_corpus][t]['ua']:.3f}" for t in names) + " |")
    lines += ["", note, "", "![cross-corpus UA](cross_corpus.png)"]
    (out / "cross_corpus.md").write_text("\n".join(lines) + "\n")
    _plot_matrix(np.array([[matrix[a][b]["ua"] for b in names] for a in names]), names, out / "cross_corpus.png", label_set)
    return summary


def _plot_matrix(values: np.ndarray, names: list[str], path, label_set: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.5 + 1.3 * len(names), 1.2 + 1.1 * len(names)), constrained_layout=True)
    image = ax.imshow(values, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="tested on", ylabel="trained on", title=f"Cross-corpus UA ({label_set})")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{values[i, j]:.2f}", ha="center", va="center", color="white" if values[i, j] < 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.savefig(path, dpi=110)
    plt.close(fig)
