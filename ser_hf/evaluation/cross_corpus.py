"""The cross-corpus matrix: models trained on one corpus, scored on each corpus (``cross_corpus.json``, ``.md``, ``.png``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .evaluate import evaluate_model


def cross_corpus(models: dict[str, str], data_dir, output_dir, label_set: str = "core6", progress: bool = True,
                 vad: bool = True) -> dict:
    """Evaluate each model (trained on the corpus named by its key) on every corpus in ``models``' keys, on
    ``label_set``; write ``cross_corpus.json``, ``cross_corpus.md`` and ``cross_corpus.png``."""
    out = Path(output_dir)
    names = list(models)
    matrix: dict = {}
    for train_corpus, model_dir in models.items():
        for test_corpus in names:
            result = evaluate_model(model_dir, test_corpus, data_dir, out / f"{train_corpus}_on_{test_corpus}",
                                    label_set=label_set, progress=progress, vad=vad)
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
