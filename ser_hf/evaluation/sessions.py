"""Session metrics: each speaker's clips answered one by one (clip mode) and together (session mode), side by side.

Sessions are one speaker's clips: ``all`` of them; ``random10``, 10 at random (5 draws); ``skewed``, every neutral
clip and 3 of each other emotion (the common case in calls and meetings). UA and WA are over the pooled clips of
every session of a kind.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..models.errors import SerError
from ..scoring.adaptation import adapt_session, session_statistics
from ..scoring.decision import decide
from ..scoring.session_head import SessionHead
from .metrics import ser_metrics

SESSION_KINDS = ("all", "random10", "skewed")
DRAWS, RANDOM_CLIPS, SKEWED_OTHERS = 5, 10, 3


def sessions(speakers: np.ndarray, labels: np.ndarray, kind: str, neutral: int | None) -> list[np.ndarray]:
    """Row indices of every session of ``kind`` over ``speakers (clips,)`` (``labels (clips,)``, ``neutral``: the
    neutral label's index, ``None`` where there is none: no skewed sessions then). Reproducible draws."""
    speakers, labels = np.asarray(speakers), np.asarray(labels)
    out = []
    for speaker in np.unique(speakers):
        rows = np.flatnonzero(speakers == speaker)
        if kind == "all":
            out.append(rows)
        elif kind == "random10":
            out += [np.random.default_rng(draw).permutation(rows)[:RANDOM_CLIPS] for draw in range(DRAWS)]
        elif kind == "skewed" and neutral is not None and (labels[rows] == neutral).any():
            picked = [rows[labels[rows] == neutral]] + [
                np.random.default_rng(0).permutation(rows[labels[rows] == label])[:SKEWED_OTHERS]
                for label in np.unique(labels[rows]) if label != neutral]
            out.append(np.concatenate(picked))
    return out


def session_metrics(log_probabilities: np.ndarray, labels: np.ndarray, speakers: np.ndarray, columns: list[int],
                    names: list[str], adapt: Callable, embeddings: np.ndarray | None = None) -> dict:
    """``{kind: {"clip": {"ua", "wa"}, "session": {"ua", "wa"}, "clips", "sessions"}}`` over the clips with speech
    (``log_probabilities (clips, num_model_labels)``; ``labels (clips,)`` index ``names``, the labels scored, which
    are the model's ``columns``); ``adapt`` turns one session's log probabilities (and, with ``embeddings (clips,
    dims)``, their embeddings: ``adapt(log_probabilities, embeddings)``) into session mode's."""
    log_probabilities = np.asarray(log_probabilities, dtype=np.float64)
    speech = ~np.isnan(log_probabilities).any(axis=1)
    rows_with_speech = np.flatnonzero(speech)
    labels, speakers = np.asarray(labels)[speech], np.asarray(speakers)[speech]
    scores = log_probabilities[speech]
    pooled = None if embeddings is None else np.asarray(embeddings, dtype=np.float64)[speech]
    neutral = names.index("neutral") if "neutral" in names else None
    result = {}
    for kind in SESSION_KINDS:
        chosen = sessions(speakers, labels, kind, neutral)
        if not chosen or not len(rows_with_speech):
            continue
        clip, session = [], []
        for rows in chosen:
            clip.append(decide(scores[rows], columns))
            adapted = adapt(scores[rows]) if pooled is None else adapt(scores[rows], pooled[rows])
            session.append(decide(adapted, columns))
        references = np.concatenate([labels[rows] for rows in chosen])
        result[kind] = {"clips": int(len(references)), "sessions": len(chosen)}
        for mode, predicted in (("clip", clip), ("session", session)):
            m = ser_metrics(np.concatenate(predicted), references, names)
            result[kind][mode] = {"ua": round(m["ua"], 4), "wa": round(m["wa"], 4)}
    return result


def model_session_adapter(config) -> Callable | None:
    """Session mode of a model whose config holds its population statistics (``adaptation_class_means``,
    ``adaptation_spread``, and its ``session_head`` where it has one): ``adapt(log_probabilities, embeddings or
    None)``; ``None`` without them."""
    try:
        means, spread = session_statistics(config)
    except SerError:
        return None
    head = SessionHead.from_config(config)
    return lambda log_p, embeddings=None: adapt_session(log_p, means, spread, embeddings, head)
