"""Per-corpus file-name parsers: RAVDESS, CREMA-D and TESS paths -> records (speaker, gender, emotion, ...)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .labels import (
    CREMA_D_EMOTION_CODES,
    CREMA_D_LEVEL_CODES,
    RAVDESS_EMOTION_CODES,
    RAVDESS_INTENSITY_CODES,
    TESS_EMOTION_CODES,
    TESS_FOLDER_EMOTIONS,
)

_RAVDESS_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_RAVDESS_ACTOR_DIR = re.compile(r"^actor_(\d{2})$", re.IGNORECASE)
_CREMA_D_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")
_TESS_NAME = re.compile(r"^([A-Za-z]+)_([A-Za-z]+)_([A-Za-z]+)$")
_TESS_DIR = re.compile(r"^([A-Za-z]+)_([A-Za-z_]+)$")


class Skip(Exception):
    """Raised by a parser for a file that is not a clip of its corpus."""


class _RavdessParser:
    """``Actor_NN/MM-VV-EE-II-SS-RR-AA``: modality, vocal channel, emotion, intensity, statement, repetition, actor."""

    @staticmethod
    def context(root: Path) -> dict:
        return {}

    @staticmethod
    def looks_like(path: Path) -> bool:
        return bool(_RAVDESS_NAME.match(path.stem))

    @staticmethod
    def parse(path: Path, root: Path, context: dict) -> tuple[dict, tuple]:
        match = _RAVDESS_NAME.match(path.stem)
        if not match:
            raise Skip("name does not parse as RAVDESS MM-VV-EE-II-SS-RR-AA")
        modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
        if modality != "03":
            raise Skip(f"modality {modality} is not audio-only (03)")
        if channel != "01":
            raise Skip(f"vocal channel {channel} is song, not speech (01)")
        if emotion not in RAVDESS_EMOTION_CODES:
            raise Skip(f"unknown emotion code {emotion}")
        if intensity not in RAVDESS_INTENSITY_CODES:
            raise Skip(f"unknown intensity code {intensity}")
        if not 1 <= int(actor) <= 24:
            raise Skip(f"actor {actor} is outside 01-24")
        folder = _RAVDESS_ACTOR_DIR.match(path.parent.name)
        if folder and folder.group(1) != actor:
            raise Skip(f"folder {path.parent.name} disagrees with the actor {actor} in the file name")
        record = {
            "speaker": f"ravdess_{actor}",
            "gender": "male" if int(actor) % 2 else "female",
            "emotion": RAVDESS_EMOTION_CODES[emotion],
            "intensity": RAVDESS_INTENSITY_CODES[intensity],
            "text_id": f"statement_{statement}",
        }
        return record, (emotion, intensity, statement, repetition, actor)


class _CremaDParser:
    """``AudioWAV/AAAA_SSS_EEE_LL``: actor, sentence, emotion, level; genders from ``VideoDemographics.csv``."""

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
        return {"genders": genders}

    @staticmethod
    def looks_like(path: Path) -> bool:
        return bool(_CREMA_D_NAME.match(path.stem))

    @staticmethod
    def parse(path: Path, root: Path, context: dict) -> tuple[dict, tuple]:
        match = _CREMA_D_NAME.match(path.stem)
        if not match:
            raise Skip("name does not parse as CREMA-D AAAA_SSS_EEE_LL")
        actor, sentence, emotion, level = match.groups()
        if not 1001 <= int(actor) <= 1091:
            raise Skip(f"actor {actor} is outside 1001-1091")
        if emotion not in CREMA_D_EMOTION_CODES:
            raise Skip(f"unknown emotion code {emotion}")
        if level not in CREMA_D_LEVEL_CODES:
            raise Skip(f"unknown level code {level}")
        record = {
            "speaker": f"crema_d_{actor}",
            "gender": context["genders"].get(actor, "unknown"),
            "emotion": CREMA_D_EMOTION_CODES[emotion],
            "intensity": CREMA_D_LEVEL_CODES[level],
            "text_id": sentence,
        }
        # 1040_ITH_SAD_X (older copies) and 1040_ITH_SAD_XX are the same clip: "X" normalises to "XX".
        return record, (actor, sentence, emotion, "XX" if level == "X" else level)


class _TessParser:
    """``<SPK>_<emotion>/<SPK>_<word>_<code>``: speaker and emotion from the file name, checked against the folder."""

    @staticmethod
    def context(root: Path) -> dict:
        return {}

    @staticmethod
    def looks_like(path: Path) -> bool:
        match = _TESS_NAME.match(path.stem)
        return bool(match) and match.group(3).lower() in TESS_EMOTION_CODES

    @staticmethod
    def parse(path: Path, root: Path, context: dict) -> tuple[dict, tuple]:
        match = _TESS_NAME.match(path.stem)
        if not match or match.group(3).lower() not in TESS_EMOTION_CODES:
            raise Skip("name does not parse as TESS SPEAKER_word_emotion")
        file_speaker, word, code = match.groups()
        emotion = TESS_EMOTION_CODES[code.lower()]
        speaker = file_speaker.upper()
        folder = _TESS_DIR.match(path.parent.name)
        if folder and folder.group(2).lower() in TESS_FOLDER_EMOTIONS:
            folder_speaker, folder_emotion = folder.group(1).upper(), TESS_FOLDER_EMOTIONS[folder.group(2).lower()]
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


PARSERS = {"ravdess": _RavdessParser, "crema_d": _CremaDParser, "tess": _TessParser}
