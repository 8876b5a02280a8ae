"""Adapting to the speaker during a session, from bounded running statistics of the model's log probabilities.

A speaker's voice shifts every emotion's score: a calm voice looks sad to the model, a loud one angry. The
adapter estimates that shift as the running mean of the session's log probabilities minus the population's
(``prior``: the mean over the validation speakers), and once ``warmup`` clips (or windows) with speech have been
seen it subtracts ``strength`` times the shift. Enrollment sets the shift from a few clips of the speaker's
neutral voice instead (``enroll``: their mean minus the population's mean over neutral clips). Memory is one
vector and a count, whatever the session's length; :meth:`reset` starts a new speaker.
"""

from __future__ import annotations

import numpy as np

# Chosen for the default model on the validation speakers of multi-corpus fold 1: the best balanced UA that costs
# skewed (60% neutral) sessions at most 1 point of UA or WA (recipes/scripts/adaptation_study.py).
STRENGTH = 0.5
WARMUP = 10


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

    @property
    def active(self) -> bool:
        """Whether the scores are being adapted (enrolled, or past the warm-up)."""
        return self._enrolled is not None or self.count >= self.warmup

    def offset(self) -> np.ndarray | None:
        """The speaker's estimated shift of the log probabilities, or ``None`` before the warm-up."""
        if self._enrolled is not None:
            return self._enrolled
        if self.count < self.warmup or self._sum is None:
            return None
        mean = self._sum / self.count
        return mean - (self.prior if self.prior is not None else mean.mean())

    def enroll(self, log_probabilities) -> None:
        """Set the shift from clips of the speaker's neutral voice ``(clips, num_labels)``."""
        rows = np.atleast_2d(np.asarray(log_probabilities, dtype=np.float64))
        reference = self.neutral_prior if self.neutral_prior is not None else rows.mean()
        self._enrolled = rows.mean(axis=0) - reference

    def adapt_probabilities(self, probabilities: np.ndarray) -> np.ndarray:
        """Probabilities ``(num_labels,)`` in, adapted probabilities out (through the log probabilities)."""
        adapted = self(np.log(np.maximum(probabilities, 1e-30)))
        exp = np.exp(adapted - adapted.max())
        return exp / exp.sum()

    def __call__(self, log_probabilities) -> np.ndarray:
        log_probabilities = np.asarray(log_probabilities, dtype=np.float64)
        offset = self.offset()
        adapted = log_probabilities if offset is None else log_probabilities - self.strength * offset
        self._sum = log_probabilities.copy() if self._sum is None else self._sum + log_probabilities
        self.count += 1
        return adapted


def new_adapter(config, strength: float | None = None, warmup: int | None = None) -> SessionAdapter:
    """A :class:`SessionAdapter` with the population statistics saved in a model's config (``adaptation_prior``,
    ``adaptation_neutral_prior``: mean log probabilities over the validation speakers, all clips and neutral ones)."""
    return SessionAdapter(prior=getattr(config, "adaptation_prior", None),
                          neutral_prior=getattr(config, "adaptation_neutral_prior", None),
                          strength=STRENGTH if strength is None else strength, warmup=WARMUP if warmup is None else warmup)
