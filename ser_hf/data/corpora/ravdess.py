"""RAVDESS speech, audio-only: 24 actors (12 female, 12 male), eight emotions, two intensities.

Layout ``Actor_NN/MM-VV-EE-II-SS-RR-AA.wav``: modality, vocal channel, emotion, intensity, statement, repetition,
actor. Song files (vocal channel 02) and the video modalities that sit beside speech in downloads are skipped.
Folds (``ravdess-6fold``): fold k tests actors 4k-3..4k, the next fold's four actors validate.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..corpus import Corpus, Skip, folds_by_speaker

EMOTION_CODES: dict[str, str] = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
INTENSITY_CODES: dict[str, str] = {"01": "normal", "02": "strong"}

_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_ACTOR_DIR = re.compile(r"^actor_(\d{2})$", re.IGNORECASE)


class RavdessParser:
    """``Actor_NN/MM-VV-EE-II-SS-RR-AA``; the folder must agree with the actor in the name."""

    @staticmethod
    def context(root: Path) -> dict:
        return {}

    @staticmethod
    def looks_like(path: Path) -> bool:
        return bool(_NAME.match(path.stem))

    @staticmethod
    def parse(path: Path, root: Path, context: dict) -> tuple[dict, tuple]:
        match = _NAME.match(path.stem)
        if not match:
            raise Skip("name does not parse as RAVDESS MM-VV-EE-II-SS-RR-AA")
        modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
        if modality != "03":
            raise Skip(f"modality {modality} is not audio-only (03)")
        if channel != "01":
            raise Skip(f"vocal channel {channel} is song, not speech (01)")
        if emotion not in EMOTION_CODES:
            raise Skip(f"unknown emotion code {emotion}")
        if intensity not in INTENSITY_CODES:
            raise Skip(f"unknown intensity code {intensity}")
        if not 1 <= int(actor) <= 24:
            raise Skip(f"actor {actor} is outside 01-24")
        folder = _ACTOR_DIR.match(path.parent.name)
        if folder and folder.group(1) != actor:
            raise Skip(f"folder {path.parent.name} disagrees with the actor {actor} in the file name")
        record = {
            "speaker": f"ravdess_{actor}",
            "gender": "male" if int(actor) % 2 else "female",
            "emotion": EMOTION_CODES[emotion],
            "intensity": INTENSITY_CODES[intensity],
            "text_id": f"statement_{statement}",
        }
        return record, (emotion, intensity, statement, repetition, actor)


def speaker_fold(speaker: str) -> int:
    """Fold (1-6) whose test set holds ``ravdess_NN``: actors 4k-3..4k are fold k."""
    return (int(speaker.rsplit("_", 1)[1]) - 1) // 4 + 1


CORPUS = Corpus(
    name="ravdess",
    display_name="RAVDESS",
    license="CC BY-NC-SA 4.0 (non-commercial)",
    license_id="cc-by-nc-sa-4.0",
    non_commercial=True,
    citation="Livingstone & Russo (2018), PLoS ONE 13(5): e0196391",
    native_label_set="ravdess8",
    layout="Actor_NN/03-01-EE-II-SS-RR-NN.wav files",
    parser=RavdessParser(),
    protocol="ravdess-6fold",
    num_folds=6,
    fold_parts=folds_by_speaker(speaker_fold, 6),
    describe_fold=lambda fold: f"actors {4 * fold - 3}-{4 * fold}",
    checksums="ravdess.tsv.gz",
    multi_corpus_position=1,
)
