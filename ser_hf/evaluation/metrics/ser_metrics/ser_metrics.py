"""Speech emotion recognition metrics: UA, WA, macro and weighted F1, per-class scores, confusion matrix."""

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """
Metrics for speech emotion recognition on imbalanced corpora.

- `ua` (unweighted accuracy, the headline): the mean of the per-class recalls over the classes present
  in the references. Each emotion counts equally, however many clips it has.
- `wa` (weighted accuracy): plain accuracy, dominated by the largest classes.
- `macro_f1` / `weighted_f1`: F1 averaged over the classes present in the references, plainly or
  weighted by their support.
- `per_class`: precision, recall, F1 and support of every class in `labels`.
- `confusion_matrix`: counts, rows are true classes and columns predicted classes, in the order of `labels`.

A class that is never predicted has precision 0 (not undefined); a class absent from the references has
recall 0 and support 0 and is left out of `ua`, `macro_f1` and `weighted_f1`.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list[int]`): predicted class ids.
    references (`list[int]`): true class ids.
    labels (`list[int]`, *optional*): the class ids, in the order of the report; defaults to the sorted
        union of predictions and references.
    label_names (`list[str]`, *optional*): a name for each id in `labels`, used as keys of `per_class`.
Returns:
    `ua`, `wa`, `macro_f1`, `weighted_f1` (floats), `per_class` (dict), `confusion_matrix` (list of lists),
    `labels` (the names, or ids as strings).
Examples:
    >>> metric = evaluate.load("ser_hf/evaluation/metrics/ser_metrics")
    >>> metric.compute(predictions=[0, 1, 1, 2], references=[0, 1, 2, 2])["ua"]
    0.8333333333333334
"""

_CITATION = """
@inproceedings{schuller2009interspeech,
  title={The INTERSPEECH 2009 emotion challenge},
  author={Schuller, Bj{\\"o}rn and Steidl, Stefan and Batliner, Anton},
  booktitle={Proc. Interspeech},
  year={2009}
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SerMetrics(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("int32"), "references": datasets.Value("int32")}
            ),
        )

    def _compute(self, predictions, references, labels=None, label_names=None):
        return compute_ser_metrics(predictions, references, labels, label_names)


def compute_ser_metrics(predictions, references, labels=None, label_names=None) -> dict:
    """The metrics above as a pure function of predictions and references."""
    predictions = np.asarray(predictions, dtype=np.int64)
    references = np.asarray(references, dtype=np.int64)
    if labels is None:
        labels = sorted(set(predictions.tolist()) | set(references.tolist()))
    labels = [int(label) for label in labels]
    names = [str(n) for n in label_names] if label_names is not None else [str(label) for label in labels]
    if len(names) != len(labels):
        raise ValueError(f"label_names has {len(names)} entries for {len(labels)} labels.")
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for truth, guess in zip(references, predictions):
        if truth in index and guess in index:
            matrix[index[truth], index[guess]] += 1
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    true_positive = np.diag(matrix)
    recall = np.divide(true_positive, support, out=np.zeros(len(labels)), where=support > 0)
    precision = np.divide(true_positive, predicted, out=np.zeros(len(labels)), where=predicted > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(len(labels)), where=denominator > 0)
    present = support > 0
    total = int(support.sum())
    return {
        "ua": float(recall[present].mean()) if present.any() else 0.0,
        "wa": float(true_positive.sum() / total) if total else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_f1": float((f1 * support).sum() / total) if total else 0.0,
        "per_class": {
            name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(names, precision, recall, f1, support)
        },
        "confusion_matrix": matrix.tolist(),
        "labels": names,
    }
