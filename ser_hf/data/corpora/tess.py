"""TESS: two women (aged 26 and 64) saying 200 words in seven emotions.

Layout ``<SPK>_<emotion>/<SPK>_<word>_<code>.wav``: speaker and emotion come from the file name and are checked
against the folder (whose names are inconsistent between the speakers); ``ps`` is pleasant surprise.
Folds (``tess-cross-speaker``): one speaker tests (fold 1 OAF, fold 2 YAF); the other speaker's words are split,
10% validating, so validation shares the training speaker but no word.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np

from ..corpus import Corpus, Skip

# File-name codes (the last part of `<SPK>_<word>_<code>`), case-insensitive.
EMOTION_CODES: dict[str, str] = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "surprised",
    "sad": "sad",
}
# Folder suffixes as they occur in the official release (lower-cased).
FOLDER_EMOTIONS: dict[str, str] = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "happy": "happy",
    "neutral": "neutral",
    "pleasant_surprise": "surprised",
    "pleasant_surprised": "surprised",
    "sad": "sad",
}
SPEAKERS = ("tess_OAF", "tess_YAF")
VALIDATION_WORD_FRACTION = 0.1

_NAME = re.compile(r"^([A-Za-z]+)_([A-Za-z]+)_([A-Za-z]+)$")
_DIR = re.compile(r"^([A-Za-z]+)_([A-Za-z_]+)$")


class TessParser:
    """``<SPK>_<emotion>/<SPK>_<word>_<code>``: speaker and emotion from the file name, checked against the folder."""

    @staticmethod
    def context(root: Path) -> dict:
        return {}

    @staticmethod
    def looks_like(path: Path) -> bool:
        match = _NAME.match(path.stem)
        return bool(match) and match.group(3).lower() in EMOTION_CODES

    @staticmethod
    def parse(path: Path, root: Path, context: dict) -> tuple[dict, tuple]:
        match = _NAME.match(path.stem)
        if not match or match.group(3).lower() not in EMOTION_CODES:
            raise Skip("name does not parse as TESS SPEAKER_word_emotion")
        file_speaker, word, code = match.groups()
        emotion = EMOTION_CODES[code.lower()]
        speaker = file_speaker.upper()
        folder = _DIR.match(path.parent.name)
        if folder and folder.group(2).lower() in FOLDER_EMOTIONS:
            folder_speaker, folder_emotion = folder.group(1).upper(), FOLDER_EMOTIONS[folder.group(2).lower()]
            if folder_emotion != emotion:
                raise Skip(f"emotion {code!r} in the name disagrees with folder {path.parent.name}")
            if folder_speaker != speaker:
                # The official OAF_neutral/OA_bite_neutral: the folder names the speaker in full.
                if not folder_speaker.startswith(speaker):
                    raise Skip(f"speaker {file_speaker} in the name disagrees with folder {path.parent.name}")
                speaker = folder_speaker
        record = {
            "speaker": f"tess_{speaker}",
            "gender": "female",
            "emotion": emotion,
            "intensity": "unspecified",
            "text_id": word.lower(),
        }
        return record, (speaker, word.lower(), emotion)


def validation_words(words: list[str], seed: int = 0) -> set[str]:
    """The held-out words (10%, at least one) used for validation, chosen reproducibly by ``seed``."""
    unique = sorted(set(words))
    count = max(1, round(len(unique) * VALIDATION_WORD_FRACTION))
    return set(random.Random(seed).sample(unique, count))


def fold_parts(speakers: np.ndarray, text_ids: np.ndarray, fold: int, seed: int = 0) -> np.ndarray:
    held_out = validation_words(list(text_ids), seed)
    test_speaker = SPEAKERS[(fold - 1) % 2]
    validation = np.isin(text_ids, list(held_out))
    return np.where(speakers == test_speaker, "test", np.where(validation, "validation", "train")).astype(object)


CORPUS = Corpus(
    name="tess",
    display_name="TESS",
    license="CC BY-NC-ND 4.0 (non-commercial)",
    license_id="cc-by-nc-nd-4.0",
    non_commercial=True,
    citation="Dupuis & Pichora-Fuller (2010), University of Toronto",
    native_label_set="core7",
    layout="<SPEAKER>_<emotion>/<SPEAKER>_<word>_<emotion>.wav files (for example OAF_angry/OAF_back_angry.wav)",
    parser=TessParser(),
    protocol="tess-cross-speaker",
    num_folds=2,
    fold_parts=fold_parts,
    describe_fold=lambda fold: f"{SPEAKERS[(fold - 1) % 2].split('_')[1]} (the {'older' if fold % 2 else 'younger'} speaker)",
    checksums="tess.tsv.gz",
    validation_shares_speakers=True,
    multi_corpus_position=3,
)
