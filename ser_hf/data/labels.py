"""Canonical emotions and label sets (each corpus maps its own codes in its module, ``ser_hf/data/corpora/``).

Every corpus is mapped onto eight canonical emotion names. A *label set* is an ordered subset of
them: the order defines the integer ids of ``ClassLabel`` and of the model heads.
"""

from __future__ import annotations

from typing import Literal

from ..models.errors import SerDataError

EMOTIONS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)

LABEL_SETS: dict[str, tuple[str, ...]] = {
    # RAVDESS as published, all eight emotions.
    "ravdess8": EMOTIONS,
    # The default model: CREMA-D contributes six of these, RAVDESS and TESS all seven.
    "core7": ("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"),
    # Shared by all three corpora: the cross-corpus label set.
    "core6": ("neutral", "happy", "sad", "angry", "fearful", "disgust"),
    # The common four-class comparison.
    "big4": ("neutral", "happy", "sad", "angry"),
}

CalmPolicy = Literal["drop", "merge"]
CALM_POLICIES: tuple[str, ...] = ("drop", "merge")


def get_label_set(name: str) -> tuple[str, ...]:
    """Return the ordered emotions of the label set ``name`` (``ravdess8``, ``core7``, ``core6``, ``big4``)."""
    try:
        return LABEL_SETS[name]
    except KeyError:
        raise SerDataError(
            f"Unknown label set {name!r}; expected one of {', '.join(LABEL_SETS)}."
        ) from None


def map_emotion(emotion: str, label_set: str | tuple[str, ...], calm: CalmPolicy = "drop") -> str | None:
    """Map a canonical emotion into ``label_set``.

    Returns the emotion to use, or ``None`` when the clip falls outside the label set and is dropped.
    ``calm`` only matters for label sets without ``calm``: ``"drop"`` removes it, ``"merge"`` counts
    it as ``neutral`` (the two are acoustically close: low arousal, neutral valence).
    """
    labels = get_label_set(label_set) if isinstance(label_set, str) else tuple(label_set)
    if calm not in CALM_POLICIES:
        raise SerDataError(f"Unknown calm policy {calm!r}; expected 'drop' or 'merge'.")
    if emotion not in EMOTIONS:
        raise SerDataError(f"Unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}.")
    if emotion in labels:
        return emotion
    if emotion == "calm" and calm == "merge" and "neutral" in labels:
        return "neutral"
    return None
