"""Adapting to the speaker during a session, from bounded running statistics of the model's log probabilities.

A speaker's voice shifts every emotion's score: a calm voice looks sad to the model, a loud one angry. The
adapter estimates that shift as the running mean of the session's log probabilities minus the population's
(``prior``: the mean over the validation speakers), and once ``warmup`` clips (or windows) with speech have been
seen it subtracts ``strength`` times the shift. Enrollment sets the shift from a few clips of the speaker's
neutral voice instead (``enroll``: their mean minus the population's mean over neutral clips). Memory is one
vector and a count, whatever the session's length; :meth:`reset` starts a new speaker.

Labelled enrollment (``enroll(log_probabilities, labels)``: a few clips of the speaker in each emotion, recorded
beforehand) fits a map of the log probabilities ``x + x W + b`` to those labels (:func:`fit_speaker_map`), which
moves the boundaries between emotions for this speaker, not only their offsets; it then replaces the running shift.
It needs clips in at least :data:`MIN_ENROLL_EMOTIONS` emotions; an emotion left out of them is predicted less often
afterwards (the map learns that this speaker does not use it), so enroll every emotion the speaker will use.

Offline session mode (all of a speaker's clips at once: :func:`fit_session`) fits the speaker's shift and the session's
emotion mix to the log probabilities by EM (:func:`session_offset`) and, for a model with a :class:`SessionHead`, adds
that head's answers on the clips' embeddings standardized by the session's own statistics.
"""

from __future__ import annotations

import numpy as np

from ..models.errors import SerError
from .decision import LOG_FLOOR, normalize_log, safe_log
from .session_head import SessionHead

# Chosen for the default model on the validation speakers of multi-corpus fold 1: the best balanced UA that costs
# skewed (60% neutral) sessions at most 1 point of UA or WA (recipes/scripts/adaptation_study.py).
STRENGTH = 0.5
WARMUP = 10
# Labelled enrollment's weight decay and map, chosen the same way (docs/reports/adaptation/probe.md).
ENROLL_L2 = 0.3
ENROLL_AFFINE = True
MIN_ENROLL_EMOTIONS = 2  # one emotion's clips would teach the map to predict that emotion whatever is said


def fit_speaker_map(log_probabilities, labels, l2: float = ENROLL_L2, affine: bool = ENROLL_AFFINE,
                    balanced: bool = True, prior: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(W (num_labels, num_labels), b (num_labels,))`` minimizing the cross-entropy of ``x + x @ W + b`` against
    ``labels (clips,)`` (label indices) for ``x = log_probabilities (clips, num_labels)``, plus ``l2`` times their
    squared distance from ``prior`` (``(W0, b0)``; zero, no change, by default); ``W`` stays at ``W0`` unless
    ``affine``. ``balanced`` weighs each emotion's clips equally."""
    import torch

    x = torch.as_tensor(np.asarray(log_probabilities, dtype=np.float32))
    t = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    weight = None
    if balanced:
        counts = torch.bincount(t, minlength=x.shape[1]).float()
        weight = torch.where(counts > 0, 1 / counts.clamp(min=1), torch.zeros_like(counts))
    if prior is None:
        w0, b0 = torch.zeros(x.shape[1], x.shape[1]), torch.zeros(x.shape[1])
    else:
        w0, b0 = (torch.as_tensor(np.asarray(p, dtype=np.float32)) for p in prior)
    w = w0.clone().requires_grad_(affine)
    b = b0.clone().requires_grad_(True)
    optimizer = torch.optim.LBFGS([w, b] if affine else [b], max_iter=100)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x + x @ w + b, t, weight=weight) + l2 * (((w - w0) ** 2).sum() + ((b - b0) ** 2).sum())
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64)


class SessionAdapter:
    """``adapter(log_probabilities (num_labels,)) -> adapted log probabilities (num_labels,)``; the clip then joins
    the session's statistics (it is adapted with what came before it only)."""

    def __init__(self, prior=None, neutral_prior=None, strength: float = 1.0, warmup: int = 5):
        self.prior = None if prior is None else np.asarray(prior, dtype=np.float64)
        self.neutral_prior = None if neutral_prior is None else np.asarray(neutral_prior, dtype=np.float64)
        self.strength = strength
        self.warmup = warmup
        self.reset()

    def reset(self) -> None:
        """Forget the speaker (a new session)."""
        self._sum: np.ndarray | None = None
        self.count = 0
        self._enrolled: np.ndarray | None = None
        self._map: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def enrolled(self) -> bool:
        """Whether enrollment (neutral clips or labelled ones) set the speaker's adaptation."""
        return self._map is not None or self._enrolled is not None

    @property
    def active(self) -> bool:
        """Whether the scores are being adapted (enrolled, or past the warm-up)."""
        return self._map is not None or self._enrolled is not None or self.count >= self.warmup

    def offset(self) -> np.ndarray | None:
        """The speaker's estimated shift of the log probabilities, or ``None`` before the warm-up."""
        if self._enrolled is not None:
            return self._enrolled
        if self.count < self.warmup or self._sum is None:
            return None
        mean = self._sum / self.count
        return mean - (self.prior if self.prior is not None else mean.mean())

    def enroll(self, log_probabilities, labels=None) -> None:
        """Set the shift from clips of the speaker's neutral voice ``(clips, num_labels)``; with ``labels (clips,)``
        (label indices of clips in several emotions), fit the speaker's map to them instead."""
        rows = np.atleast_2d(np.asarray(log_probabilities, dtype=np.float64))
        if labels is not None:
            if len(set(np.asarray(labels).tolist())) < MIN_ENROLL_EMOTIONS:
                raise SerError(f"Labelled enrollment needs clips in at least {MIN_ENROLL_EMOTIONS} emotions (one in "
                               "each emotion the speaker will use); these clips have one.")
            self._map = fit_speaker_map(rows, labels)
            return
        reference = self.neutral_prior if self.neutral_prior is not None else rows.mean()
        self._enrolled = rows.mean(axis=0) - reference

    def apply(self, log_probabilities) -> np.ndarray:
        """Log probabilities ``(..., num_labels)`` adapted with what the session has seen so far, renormalized; the
        statistics do not change (a long clip's windows are adapted so, like the clip)."""
        log_probabilities = np.asarray(log_probabilities, dtype=np.float64)
        offset = self.offset()
        if self._map is not None:
            adapted = log_probabilities + log_probabilities @ self._map[0] + self._map[1]
        else:
            adapted = log_probabilities if offset is None else log_probabilities - self.strength * offset
        return normalize_log(adapted)

    def __call__(self, log_probabilities) -> np.ndarray:
        """:meth:`apply` to one clip's ``(num_labels,)``, which then joins the session's statistics."""
        log_probabilities = np.asarray(log_probabilities, dtype=np.float64)
        adapted = self.apply(log_probabilities)
        self._sum = log_probabilities.copy() if self._sum is None else self._sum + log_probabilities
        self.count += 1
        return adapted


def new_adapter(config, strength: float | None = None, warmup: int | None = None) -> SessionAdapter:
    """A :class:`SessionAdapter` with the population statistics saved in a model's config (``adaptation_prior``,
    ``adaptation_neutral_prior``: mean log probabilities over the validation speakers, all clips and neutral ones)."""
    return SessionAdapter(prior=getattr(config, "adaptation_prior", None),
                          neutral_prior=getattr(config, "adaptation_neutral_prior", None),
                          strength=STRENGTH if strength is None else strength, warmup=WARMUP if warmup is None else warmup)


# Offline session mode: all of a speaker's clips at once (files are not a stream).
SESSION_ITERATIONS = 30
# Chosen for the default model on the validation speakers of multi-corpus fold 1 (recipes/scripts/
# session_mode_study.py): the best 10-clip-session UA whose skewed sessions keep their WA.
SESSION_SHRINK = 5.0  # clips: a prior that pulls the offset towards none, worth this many clips
SESSION_SPREAD_SCALE = 0.5  # the population's within-emotion variance, scaled: sharper responsibilities
# The session head's log probabilities count this much beside the shifted ones: of the weights that gain 10-clip UA
# and keep skewed WA on every model's validation speakers, the one that keeps skewed WA within a point on every corpus
# of the leave-one-corpus-out yardstick for the distilled recipe's models (docs/reports/session_mode/README.md).
SESSION_HEAD_WEIGHT = 0.5


def population_statistics(log_probabilities, labels, num_labels: int) -> tuple[np.ndarray, float]:
    """``(class_means (num_labels, num_labels), spread)`` of a population's clips ``(clips, num_labels)`` with their
    true ``labels (clips,)``: row k is the mean log probabilities of emotion k's clips (the overall mean where none),
    ``spread`` the mean squared distance of a clip to its emotion's mean, per label (a within-class variance)."""
    rows = np.asarray(log_probabilities, dtype=np.float64)
    labels = np.asarray(labels)
    keep = ~np.isnan(rows).any(axis=1)
    rows, labels = rows[keep], labels[keep]
    overall = rows.mean(axis=0)
    means = np.stack([rows[labels == k].mean(axis=0) if (labels == k).any() else overall for k in range(num_labels)])
    spread = float(((rows - means[labels]) ** 2).sum(axis=1).mean() / num_labels)
    return means, spread


def session_offset(log_probabilities, class_means, spread: float, *, iterations: int = SESSION_ITERATIONS,
                   shrink: float = SESSION_SHRINK, spread_scale: float = SESSION_SPREAD_SCALE
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``(offset (num_labels,), mix (num_labels,))``: the speaker's shift of the log probabilities and the session's
    emotion mix, from the speaker's clips ``(clips, num_labels)``.

    The clips are modelled as the population's (``class_means``, rows per emotion; ``spread``, the within-emotion
    variance: :func:`population_statistics`) in an unknown mix, all moved by one unknown shift; EM fits both
    (the mix as in Saerens, Latinne and Decaestecker, Neural Computation 2002). A shift moves every cluster of
    clips while a mix re-weights them, so a session of one emotion keeps its emotion and is not pushed away from
    it. ``shrink`` pulls the shift towards none, worth that many clips; ``spread_scale`` scales ``spread``. Rows with
    NaN (no speech) are ignored."""
    rows = np.maximum(np.asarray(log_probabilities, dtype=np.float64), LOG_FLOOR)
    rows = rows[~np.isnan(rows).any(axis=1)]
    means = np.asarray(class_means, dtype=np.float64)
    offset, mix = np.zeros(means.shape[1]), np.full(means.shape[0], 1.0 / means.shape[0])
    if not len(rows):
        return offset, mix
    residuals = rows[:, None, :] - means[None]  # (clips, emotions, num_labels)
    variance = 2 * max(spread * spread_scale, 1e-6)  # a population of identical clips has no spread
    for _ in range(iterations):
        scores = safe_log(mix) - ((residuals - offset) ** 2).sum(axis=2) / variance
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        responsibility = scores / scores.sum(axis=1, keepdims=True)  # (clips, emotions)
        mix = responsibility.mean(axis=0)
        offset = (responsibility[:, :, None] * residuals).sum(axis=(0, 1)) / (len(rows) + shrink)
    return offset, mix


def session_statistics(config) -> tuple[np.ndarray, float]:
    """``(class_means, spread)`` of a model's population (its config's ``adaptation_class_means`` and
    ``adaptation_spread``, written by ``ser-hf calibrate --write``); :class:`SerError` when it has none."""
    means, spread = getattr(config, "adaptation_class_means", None), getattr(config, "adaptation_spread", None)
    if means is None or spread is None:
        raise SerError("This model has no population statistics for session mode; fit them on its validation "
                       "speakers with `ser-hf calibrate --model MODEL --write`.")
    return np.asarray(means, dtype=np.float64), float(spread)


class SessionFit:
    """What one session's clips fitted: the shift of their log probabilities (:func:`session_offset`) and, where the
    model has a :class:`SessionHead`, the session's statistics for it. :meth:`apply` answers any of the session's
    clips or windows: the shifted log probabilities plus ``head_weight`` (:data:`SESSION_HEAD_WEIGHT`) times the
    head's, renormalized. ``adapted`` is False where the guard (:func:`piles_onto_another`) fell back to clip mode:
    :meth:`apply` then only renormalizes."""

    def __init__(self, offset: np.ndarray, head: SessionHead | None = None, statistics=None, adapted: bool = True,
                 head_weight: float = SESSION_HEAD_WEIGHT):
        self.offset, self.head, self.statistics, self.adapted = offset, head, statistics, adapted
        self.head_weight = head_weight

    def apply(self, log_probabilities, embeddings=None) -> np.ndarray:
        """Adapted log probabilities ``(..., num_labels)``; rows with NaN (no speech) stay NaN; ``embeddings (...,
        dims)`` are needed where the fit has a head."""
        adapted = np.asarray(log_probabilities, dtype=np.float64) - self.offset
        if self.statistics is not None:
            if embeddings is None:
                raise SerError("This session was fitted with the model's session head: pass the clips' embeddings.")
            head = self.head.log_probabilities(embeddings, self.statistics).reshape(adapted.shape)
            adapted = adapted + self.head_weight * head
        return normalize_log(adapted)


def piles_onto_another(clip_counts: np.ndarray, session_counts: np.ndarray) -> bool:
    """Whether session mode's answers (``session_counts (num_labels,)``: how many clips each label answers) pile onto
    another label than clip mode's (``clip_counts``) most frequent one: more than half of them, and more than clip mode
    gave its own. Undoing a voice's shift spreads the answers the voice had piled on one emotion; a session that the
    fit turns into another emotion's, more uniformly than clip mode heard its own, is one the model half mishears (its
    shift and its mix cannot be told apart). A few clips moved to a new most frequent answer are no pile."""
    if not np.sum(clip_counts):
        return False
    top = np.max(session_counts)
    return bool(np.argmax(session_counts) != np.argmax(clip_counts) and top > np.max(clip_counts)
                and top > np.sum(session_counts) / 2)


def fit_session(log_probabilities, class_means, spread: float, embeddings=None, head: SessionHead | None = None,
                guard: bool = True, head_weight: float = SESSION_HEAD_WEIGHT, **options) -> SessionFit:
    """Fit a speaker's session from their clips' ``log_probabilities (clips, num_labels)`` (:func:`session_offset`,
    ``options`` passed on) and, with a ``head`` and the clips' ``embeddings (clips, dims)``, its statistics (the
    head's answers weighted by ``head_weight``); rows with NaN (no speech) are left out. With ``guard``, a fit whose
    answers pile onto another emotion than clip mode's (:func:`piles_onto_another`) falls back to clip mode
    (``adapted`` False)."""
    rows = np.atleast_2d(np.asarray(log_probabilities, dtype=np.float64))
    offset, _ = session_offset(rows, class_means, spread, **options)
    speech = ~np.isnan(rows).any(axis=1)
    if head is None or embeddings is None or not speech.any():
        fit = SessionFit(offset)
    else:
        embeddings = np.atleast_2d(np.asarray(embeddings, dtype=np.float64))[speech]
        fit = SessionFit(offset, head, head.session(embeddings), head_weight=head_weight)
    if not guard:
        return fit
    answered = fit.apply(rows[speech], embeddings if fit.statistics is not None else None)
    counts = [np.bincount(r.argmax(axis=1), minlength=rows.shape[1]) for r in (rows[speech], answered)]
    return SessionFit(np.zeros_like(offset), adapted=False) if piles_onto_another(*counts) else fit


def adapt_session(log_probabilities, class_means, spread: float, embeddings=None, head: SessionHead | None = None,
                  **options) -> np.ndarray:
    """A speaker's clips ``(clips, num_labels)`` answered in session mode (:func:`fit_session`, then applied to
    them); rows with NaN (no speech) stay NaN."""
    rows = np.asarray(log_probabilities, dtype=np.float64)
    fit = fit_session(rows, class_means, spread, embeddings, head, **options)
    if fit.statistics is None:
        return fit.apply(rows)
    out = np.full_like(rows, np.nan)
    speech = ~np.isnan(rows).any(axis=1)
    out[speech] = fit.apply(rows[speech], np.asarray(embeddings, dtype=np.float64)[speech])
    return out
