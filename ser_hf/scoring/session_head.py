"""Session mode's head: a linear head on a clip's embedding standardized by its session's own statistics.

A speaker's voice moves every clip's embedding (the pooled clip the classifier reads) in the same way; standardizing
the embeddings by the session's own mean and spread takes the speaker out, and a head trained on embeddings
standardized so, speaker by speaker, answers them. A session of mostly one emotion has a mean of mostly that emotion,
so the session's mix, as the head hears it, is added back. :func:`ser_hf.scoring.adaptation.fit_session` adds the
head's answers to the shifted log probabilities.
"""

from __future__ import annotations

import numpy as np

from ..models.errors import SerError
from .decision import LOG_FLOOR, normalize_log

# The session head: chosen on the validation speakers of the leave-one-corpus-out models and the shipped ones
# (docs/reports/session_mode/README.md, recipes/scripts/session_screen.py).
SESSION_HEAD_C = 0.01  # the logistic regression's inverse regularization
SESSION_HEAD_ROUNDS = 10  # rounds of the session's mix, as the head hears it


def standardize_by_group(x, groups) -> np.ndarray:
    """``x (clips, dims)`` with each group's rows (a speaker's, a corpus's) standardized by that group's own mean and
    standard deviation (a group of one clip is only centred)."""
    x = np.asarray(x, dtype=np.float64)
    groups = np.asarray(groups)
    out = np.empty_like(x)
    for group in np.unique(groups):
        rows = groups == group
        std = x[rows].std(axis=0) if rows.sum() > 1 else np.ones(x.shape[1])
        out[rows] = (x[rows] - x[rows].mean(axis=0)) / np.maximum(std, 1e-8)
    return out


class SessionHead:
    """A linear head on embeddings standardized by the session's own statistics (each speaker's voice taken out),
    with the session's emotion mix added back so that a session of mostly one emotion keeps it.

    ``weight (num_labels, dims)``, ``bias (num_labels,)``: the head on standardized embeddings; ``centroids
    (num_labels, dims)``: each emotion's mean standardized embedding (a speaker's mix moves their mean by
    ``mix @ centroids``). :meth:`fit` trains it on many speakers' clips; :meth:`session` fits one session's
    statistics and :meth:`log_probabilities` answers clips (or a long clip's windows) with them.
    """

    def __init__(self, weight, bias, centroids):
        self.weight = np.asarray(weight, dtype=np.float64)
        self.bias = np.asarray(bias, dtype=np.float64)
        self.centroids = np.asarray(centroids, dtype=np.float64)

    @classmethod
    def fit(cls, embeddings, labels, speakers, num_labels: int, c: float = SESSION_HEAD_C) -> SessionHead:
        """Logistic regression (classes balanced, ``C = c``) on ``embeddings (clips, dims)`` standardized per speaker
        (``speakers (clips,)``), labels ``(clips,)`` label indices; a label without clips is never answered."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        labels = np.asarray(labels)
        if len(np.unique(labels)) < 2:
            raise SerError("A session head needs clips with speech in at least two emotions; these have "
                           f"{len(np.unique(labels))}.")
        z = standardize_by_group(embeddings, speakers)
        scaler = StandardScaler().fit(z)
        regression = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(scaler.transform(z), labels)
        weight = np.zeros((num_labels, z.shape[1]))
        bias = np.full(num_labels, LOG_FLOOR)
        coef, intercept = regression.coef_, regression.intercept_
        if len(regression.classes_) == 2:  # sklearn's binary case: one row for the second class
            coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
        for row, k in enumerate(regression.classes_):  # the scaler folded into the head
            weight[k] = coef[row] / scaler.scale_
            bias[k] = intercept[row] - coef[row] @ (scaler.mean_ / scaler.scale_)
        centroids = np.stack([z[labels == k].mean(axis=0) if (labels == k).any() else np.zeros(z.shape[1])
                              for k in range(num_labels)])
        return cls(weight, bias, centroids)

    @classmethod
    def from_config(cls, config) -> SessionHead | None:
        """The head a model's config holds (``session_head``: ``ser-hf calibrate --session-head --write``), or None."""
        saved = getattr(config, "session_head", None)
        if not saved:
            return None
        head = cls(**saved)
        if head.weight.shape[0] != config.num_labels:
            raise SerError(f"This model's session head answers {head.weight.shape[0]} labels and the model "
                           f"{config.num_labels}; fit it again with `ser-hf calibrate --session-head --write`.")
        return head

    def to_dict(self, decimals: int = 5) -> dict:
        """``{"weight", "bias", "centroids"}`` as lists, rounded, for a config."""
        return {name: np.round(getattr(self, name), decimals).tolist() for name in ("weight", "bias", "centroids")}

    def _standardized_log_probabilities(self, z: np.ndarray) -> np.ndarray:
        return normalize_log(z @ self.weight.T + self.bias)

    def session(self, embeddings) -> tuple[np.ndarray, np.ndarray]:
        """``(centre (dims,), scale (dims,))`` of one session's clips ``(clips, dims)``: the embeddings are standardized
        by the session's mean and standard deviation, then moved back by the session's mix (the head's own answers,
        :data:`SESSION_HEAD_ROUNDS` rounds), which ``centre`` includes."""
        x = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))
        mean = x.mean(axis=0)
        scale = np.maximum(x.std(axis=0), 1e-8) if len(x) > 1 else np.ones(x.shape[1])
        z = (x - mean) / scale
        answered = self.bias > LOG_FLOOR
        mix = answered / answered.sum()
        for _ in range(SESSION_HEAD_ROUNDS):
            mix = np.exp(self._standardized_log_probabilities(z + mix @ self.centroids)).mean(axis=0)
        return mean - scale * (mix @ self.centroids), scale

    def log_probabilities(self, embeddings, statistics: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Log probabilities ``(clips, num_labels)`` of ``embeddings (clips, dims)`` with a session's ``statistics``
        (:meth:`session`)."""
        centre, scale = statistics
        return self._standardized_log_probabilities((np.atleast_2d(np.asarray(embeddings, dtype=np.float64)) - centre) / scale)
