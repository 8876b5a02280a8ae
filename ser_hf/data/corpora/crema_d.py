"""CREMA-D: 91 actors (43 female, 48 male) reading 12 sentences in six emotions at up to four levels.

Layout ``AudioWAV/AAAA_SSS_EEE_LL.wav``: actor, sentence, emotion, level; genders from ``VideoDemographics.csv``; the
emotion the crowd heard in the voice alone (``perceived``) from ``summaryTable.csv`` (column ``VoiceVote``) where present.
Older copies name one clip ``1040_ITH_SAD_X`` (counted once with ``1040_ITH_SAD_XX``).
Folds (``crema_d-speakers``): fold k tests the actors with (ID - 1001) mod 6 = k - 1, the next fold's validate.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from ..corpus import Corpus, Skip, folds_by_speaker

EMOTION_CODES: dict[str, str] = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
LEVEL_CODES: dict[str, str] = {
    "LO": "low",
    "MD": "medium",
    "HI": "high",
    "XX": "unspecified",
    "X": "unspecified",  # older copies name one clip 1040_ITH_SAD_X
}

_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")
VOTE_CODES = {"N": "neutral", "H": "happy", "S": "sad", "A": "angry", "F": "fearful", "D": "disgust"}


def voice_votes(root: Path) -> dict[str, str]:
    """Clip name -> the emotion(s) the crowd heard in the voice alone (``summaryTable.csv``'s ``VoiceVote``; ties
    joined by ``:``), from the file beside or above the clips; empty without one."""
    for candidate in (root / "summaryTable.csv", root.parent / "summaryTable.csv"):
        if candidate.is_file():
            with open(candidate, newline="", encoding="utf-8") as handle:
                return {row["FileName"]: ":".join(VOTE_CODES[c] for c in row["VoiceVote"].split(":") if c in VOTE_CODES)
                        for row in csv.DictReader(handle)}
    return {}


class CremaDParser:
    """``AudioWAV/AAAA_SSS_EEE_LL``; genders from ``VideoDemographics.csv`` beside or above the clips."""

    @staticmethod
    def context(root: Path) -> dict:
        genders: dict[str, str] = {}
        for candidate in (root / "VideoDemographics.csv", root.parent / "VideoDemographics.csv"):
            if candidate.is_file():
                with open(candidate, newline="", encoding="utf-8") as handle:
                    for row in csv.DictReader(handle):
                        sex = (row.get("Sex") or "").strip().lower()
                        genders[str(row.get("ActorID", "")).strip()] = sex if sex in ("male", "female") else "unknown"
                break
        return {"genders": genders, "votes": voice_votes(root)}

    @staticmethod
    def looks_like(path: Path) -> bool:
        return bool(_NAME.match(path.stem))

    @staticmethod
    def parse(path: Path, root: Path, context: dict) -> tuple[dict, tuple]:
        match = _NAME.match(path.stem)
        if not match:
            raise Skip("name does not parse as CREMA-D AAAA_SSS_EEE_LL")
        actor, sentence, emotion, level = match.groups()
        if not 1001 <= int(actor) <= 1091:
            raise Skip(f"actor {actor} is outside 1001-1091")
        if emotion not in EMOTION_CODES:
            raise Skip(f"unknown emotion code {emotion}")
        if level not in LEVEL_CODES:
            raise Skip(f"unknown level code {level}")
        record = {
            "speaker": f"crema_d_{actor}",
            "gender": context["genders"].get(actor, "unknown"),
            "emotion": EMOTION_CODES[emotion],
            "intensity": LEVEL_CODES[level],
            "text_id": sentence,
            "perceived": context.get("votes", {}).get(path.stem, ""),
        }
        # 1040_ITH_SAD_X (older copies) and 1040_ITH_SAD_XX are the same clip: "X" normalises to "XX".
        return record, (actor, sentence, emotion, "XX" if level == "X" else level)


def speaker_fold(speaker: str) -> int:
    """Fold (1-6) whose test set holds ``crema_d_NNNN``: (ID - 1001) mod 6 + 1."""
    return (int(speaker.rsplit("_", 1)[1]) - 1001) % 6 + 1


CORPUS = Corpus(
    name="crema_d",
    display_name="CREMA-D",
    license="ODbL 1.0 / DbCL 1.0",
    license_id="odbl",
    non_commercial=False,
    citation="Cao et al. (2014), IEEE Trans. Affective Computing 5(4)",
    native_label_set="core6",
    layout="AudioWAV/NNNN_SSS_EMO_LV.wav files (for example 1001_DFA_ANG_XX.wav)",
    parser=CremaDParser(),
    protocol="crema_d-speakers",
    num_folds=6,
    fold_parts=folds_by_speaker(speaker_fold, 6),
    describe_fold=lambda fold: f"actors with (ID - 1001) mod 6 = {fold - 1}",
    checksums="crema_d.tsv.gz",
    checksum_root="AudioWAV",
    checksum_aliases={"1040_ITH_SAD_X.wav": "1040_ITH_SAD_XX.wav"},
    multi_corpus_position=2,
)
