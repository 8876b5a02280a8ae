"""Exception types raised for user mistakes.

Every error a user can act on is a :class:`SerError` (a ``ValueError``) whose message says what was
wrong, what was expected and what to do. The CLI prints it as one line on stderr and exits non-zero.
"""

from __future__ import annotations


class SerError(ValueError):
    """Base class for the errors of ser_hf that a user can fix."""


class SerDataError(SerError):
    """A corpus folder, manifest or split is missing, malformed or inconsistent."""


class SerAudioError(SerError):
    """An audio file or array cannot be read or is not usable (empty, NaN, silent, wrong shape)."""
