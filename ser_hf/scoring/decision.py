"""From log probabilities to an answer: the one decision rule, and the arithmetic every scoring path shares.

Log probabilities ``(..., num_labels)`` are what the scoring layer passes around (a clip's, a window's, a stream
update's; NaN rows for "no speech"). :func:`decide` turns rows of them into answers for evaluation and session
metrics, :func:`answer` one of them into the word a user reads; ``EmotionRecognizer``, ``StreamingRecognizer``, bulk
prediction and evaluation all go through them, so a clip gets the same answer everywhere.
"""

from __future__ import annotations

import numpy as np

from ..models.errors import SerError
from .speech import NO_SPEECH

UNCERTAIN = "uncertain"
TOO_SHORT = "too short"
# Below this much audio a clip is answered "too short": a syllable or two say nothing of how something is said.
MIN_CLIP_S = 0.5
# Answer codes of decide() besides a column index.
NO_SPEECH_CODE, UNCERTAIN_CODE = -1, -2
LOG_FLOOR = float(np.log(1e-30))  # a probability of 0 as a log probability: finite, far below any real score


def safe_log(probabilities) -> np.ndarray:
    """``log(probabilities)`` with 0 floored at :data:`LOG_FLOOR` (NaN stays NaN); any shape."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(np.log(np.asarray(probabilities, dtype=np.float64)), LOG_FLOOR)


def softmax(scores, temperature: float = 1.0) -> np.ndarray:
    """``softmax(scores / temperature)`` over the last axis (logits, or log probabilities: the same up to a constant)."""
    if not temperature > 0:
        raise SerError(f"A temperature must be positive, got {temperature}.")
    scaled = np.asarray(scores, dtype=np.float64) / temperature
    exp = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def normalize_log(log_probabilities) -> np.ndarray:
    """Log probabilities ``(..., num_labels)`` renormalized to sum to one (after a shift or a column selection)."""
    return safe_log(softmax(log_probabilities))


def decide(log_probabilities, columns=None, min_confidence: float | None = None) -> np.ndarray:
    """Answers ``(clips,)`` for rows ``(clips, num_labels)``: the index into ``columns`` (the labels scored, all by
    default; the others are masked) of the most probable one, :data:`NO_SPEECH_CODE` for a NaN row and
    :data:`UNCERTAIN_CODE` where that label's probability among ``columns`` is below ``min_confidence``."""
    rows = np.atleast_2d(np.asarray(log_probabilities, dtype=np.float64))
    rows = rows if columns is None else rows[:, list(columns)]
    speech = ~np.isnan(rows).any(axis=1)
    answers = np.full(len(rows), NO_SPEECH_CODE, dtype=np.int64)
    if speech.any():
        answers[speech] = rows[speech].argmax(axis=1)
        if min_confidence is not None:
            confident = softmax(rows[speech]).max(axis=1) >= min_confidence
            answers[np.flatnonzero(speech)[~confident]] = UNCERTAIN_CODE
    return answers


def answer(log_probabilities, labels: list[str], min_confidence: float | None = None,
           duration_s: float | None = None) -> str:
    """The word for one clip, window or update: ``"too short"`` under :data:`MIN_CLIP_S` of audio, ``"no speech"``
    for ``None`` or NaN log probabilities ``(num_labels,)``, ``"uncertain"`` below ``min_confidence``, else the label."""
    if duration_s is not None and duration_s < MIN_CLIP_S:
        return TOO_SHORT
    if log_probabilities is None:
        return NO_SPEECH
    code = int(decide(log_probabilities, min_confidence=min_confidence)[0])
    return {NO_SPEECH_CODE: NO_SPEECH, UNCERTAIN_CODE: UNCERTAIN}.get(code) or labels[code]
