"""RAVDESS, CREMA-D and TESS as ``datasets.Dataset``.

The loaders parse the official folder layouts and file names (any audio format libsndfile reads:
the official ``.wav`` releases, or the 16 kHz Ogg Opus copies of ``shared/data``), handle each
corpus's known quirks, and never drop a file silently: whatever is not loaded is listed in
``skipped`` with its path and reason.

Audio is kept as an undecoded ``datasets.Audio(decode=False)`` column (``{"path", "bytes"}``):
``datasets`` decodes through ``torchcodec``, which does not load on this platform (see
``docs/data.md``). :func:`with_decoded_audio` decodes it on access with soundfile + soxr instead.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import datasets
import numpy as np
import soundfile as sf

from .audio import AUDIO_EXTENSIONS, DEFAULT_SAMPLING_RATE, SILENCE_PEAK, load_audio
from .errors import SerDataError
from .labels import (
    CREMA_D_EMOTION_CODES,
    CREMA_D_LEVEL_CODES,
    EMOTIONS,
    RAVDESS_EMOTION_CODES,
    RAVDESS_INTENSITY_CODES,
    TESS_EMOTION_CODES,
    TESS_FOLDER_EMOTIONS,
    CalmPolicy,
    get_label_set,
    map_emotion,
)

CORPORA: tuple[str, ...] = ("ravdess", "crema_d", "tess")
DISPLAY_NAMES = {"ravdess": "RAVDESS", "crema_d": "CREMA-D", "tess": "TESS"}
# The label set a corpus uses when none is asked for: all of its own emotions.
NATIVE_LABEL_SETS = {"ravdess": "ravdess8", "crema_d": "core6", "tess": "core7"}
EXPECTED_LAYOUTS = {
    "ravdess": "Actor_NN/03-01-EE-II-SS-RR-NN.wav files",
    "crema_d": "AudioWAV/NNNN_SSS_EMO_LV.wav files (for example 1001_DFA_ANG_XX.wav)",
    "tess": "<SPEAKER>_<emotion>/<SPEAKER>_<word>_<emotion>.wav files (for example OAF_angry/OAF_back_angry.wav)",
}
# Files that live beside the audio in the releases and are neither clips nor mistakes.
_METADATA_SUFFIXES = (".md", ".csv", ".tsv", ".txt", ".json", ".pdf", ".zip", ".py")

# Below this many bytes per second of audio, a compressed stream (Opus, Vorbis, FLAC, MP3) is decoded to
# check whether it is silent; speech here takes 3,700-6,000 B/s in Opus and far more in FLAC, while the
# Opus copy of CREMA-D's silent clip takes 570 B/s. PCM files are always checked (reading them is cheap).
_SILENCE_CHECK_BYTES_PER_S = 2000

_RAVDESS_NAME = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_RAVDESS_ACTOR_DIR = re.compile(r"^actor_(\d{2})$", re.IGNORECASE)
_CREMA_D_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")
_TESS_NAME = re.compile(r"^([A-Za-z]+)_([A-Za-z]+)_([A-Za-z]+)$")
_TESS_DIR = re.compile(r"^([A-Za-z]+)_([A-Za-z_]+)$")

FEATURE_COLUMNS = (
    "audio",
    "path",
    "corpus",
    "speaker",
    "gender",
    "emotion",
    "label",
    "duration_s",
    "intensity",
    "text_id",
)


@dataclass(frozen=True)
class Skipped:
    """A file that was not loaded, and why."""

    path: str
    reason: str


@dataclass
class CorpusScan:
    """What a scan of a corpus folder found: one dict per usable clip, and every file skipped."""

    corpus: str
    data_dir: Path
    records: list[dict] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> dict:
        """Counts per emotion and speaker, total duration and the skipped files (the ``data summary`` JSON)."""
        emotions = Counter(r["emotion"] for r in self.records)
        speakers = Counter(r["speaker"] for r in self.records)
        return {
            "corpus": self.corpus,
            "num_records": len(self.records),
            "num_speakers": len(speakers),
            "emotions": dict(sorted(emotions.items(), key=lambda kv: _emotion_order(kv[0]))),
            "speakers": dict(sorted(speakers.items())),
            "duration_s": round(float(sum(r["duration_s"] for r in self.records)), 3),
            "skipped": [asdict(s) for s in self.skipped],
        }


def _emotion_order(emotion: str) -> int:
    return EMOTIONS.index(emotion) if emotion in EMOTIONS else len(EMOTIONS)


def resolve_corpus_dir(name: str, data_dir: str | os.PathLike) -> Path:
    """Return the folder of corpus ``name``: ``data_dir`` itself, or ``data_dir/name`` when that exists.

    This lets ``--data-dir ../shared/data`` point at the parent of all three corpora.
    """
    check_corpus_name(name)
    data_dir = Path(data_dir).expanduser()
    if not data_dir.exists():
        raise SerDataError(
            f"The {DISPLAY_NAMES[name]} folder {data_dir} does not exist; expected a folder with "
            f"{EXPECTED_LAYOUTS[name]}."
        )
    if not data_dir.is_dir():
        raise SerDataError(f"{data_dir} is a file, not a folder; expected the {DISPLAY_NAMES[name]} folder.")
    nested = data_dir / name
    return nested if nested.is_dir() else data_dir


def check_corpus_name(name: str) -> str:
    if name not in CORPORA:
        raise SerDataError(f"Unknown corpus {name!r}; expected one of {', '.join(CORPORA)}.")
    return name


def scan_corpus(
    name: str,
    data_dir: str | os.PathLike,
    *,
    strict: bool = False,
    check_silence: bool = True,
) -> CorpusScan:
    """Walk ``data_dir`` and parse every clip of corpus ``name`` without decoding the audio.

    Records hold ``path`` (absolute), ``corpus``, ``speaker``, ``gender``, ``emotion`` (canonical),
    ``duration_s``, ``intensity`` and ``text_id``. Files whose names do not parse, that cannot be read,
    that duplicate a clip already found, or that are digital silence go to ``skipped``. With
    ``strict=True`` any skipped file raises :class:`SerDataError` instead.
    """
    root = resolve_corpus_dir(name, data_dir)
    parser = _PARSERS[name]
    scan = CorpusScan(corpus=name, data_dir=root)
    context = parser.context(root)
    seen: dict[tuple, str] = {}
    files = _walk(root)
    for path in files:
        rel = str(path.relative_to(root))
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            scan.skipped.append(Skipped(rel, f"not an audio file ({path.suffix or 'no extension'})"))
            continue
        try:
            record, key = parser.parse(path, root, context)
        except _Skip as skip:
            scan.skipped.append(Skipped(rel, str(skip)))
            continue
        if key in seen:
            scan.skipped.append(Skipped(rel, f"duplicate of {seen[key]} (the same clip counted once)"))
            continue
        try:
            info = sf.info(str(path))
        except (sf.LibsndfileError, RuntimeError) as err:
            scan.skipped.append(Skipped(rel, f"unreadable audio ({str(err).strip() or type(err).__name__})"))
            continue
        if info.frames <= 0 or info.samplerate <= 0:
            scan.skipped.append(Skipped(rel, "unreadable audio (no samples)"))
            continue
        duration = info.frames / info.samplerate
        if check_silence and _is_silent_file(path, info):
            scan.skipped.append(Skipped(rel, "digital silence from start to end (no speech to learn from)"))
            continue
        seen[key] = rel
        record.update(path=str(path), corpus=name, duration_s=round(float(duration), 4))
        scan.records.append(record)

    if not scan.records:
        raise SerDataError(_no_records_message(name, root, files))
    if strict and scan.skipped:
        first = scan.skipped[0]
        raise SerDataError(
            f"{len(scan.skipped)} file(s) in {root} were skipped and --strict is set; the first is "
            f"{first.path}: {first.reason}."
        )
    return scan


def _walk(root: Path) -> list[Path]:
    """All regular, non-hidden files under ``root``, shallowest first, so that the top copy of a duplicated
    tree (a common mirror layout) is the one kept."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for filename in filenames:
            if filename.startswith(".") or filename.lower().endswith(_METADATA_SUFFIXES):
                continue
            found.append(Path(dirpath) / filename)
    return sorted(found, key=lambda p: (len(p.relative_to(root).parts), str(p)))


def _is_silent_file(path: Path, info) -> bool:
    compressed = info.subtype not in {"PCM_16", "PCM_24", "PCM_32", "PCM_U8", "PCM_S8", "FLOAT", "DOUBLE"}
    if compressed:
        bytes_per_s = path.stat().st_size / max(info.frames / info.samplerate, 1e-9)
        if bytes_per_s >= _SILENCE_CHECK_BYTES_PER_S:
            return False
    try:
        data, _ = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError):
        return False  # unreadable bodies are reported when the clip is decoded
    return data.size == 0 or float(np.max(np.abs(data))) < SILENCE_PEAK


def _no_records_message(name: str, root: Path, files: list[Path]) -> str:
    display = DISPLAY_NAMES[name]
    audio = [p for p in files if p.suffix.lower() in AUDIO_EXTENSIONS]
    if not files:
        return f"The {display} folder {root} is empty; expected {EXPECTED_LAYOUTS[name]}."
    for other, parser in _PARSERS.items():
        if other == name or not audio:
            continue
        if sum(parser.looks_like(p) for p in audio[:50]) > len(audio[:50]) // 2:
            return (
                f"No {display} clips found in {root}: it looks like a {DISPLAY_NAMES[other]} folder; "
                f"expected {EXPECTED_LAYOUTS[name]}."
            )
    return (
        f"No {display} clips found in {root} ({len(files)} files, none usable); expected "
        f"{EXPECTED_LAYOUTS[name]}."
    )


class _Skip(Exception):
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
            raise _Skip("name does not parse as RAVDESS MM-VV-EE-II-SS-RR-AA")
        modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
        if modality != "03":
            raise _Skip(f"modality {modality} is not audio-only (03)")
        if channel != "01":
            raise _Skip(f"vocal channel {channel} is song, not speech (01)")
        if emotion not in RAVDESS_EMOTION_CODES:
            raise _Skip(f"unknown emotion code {emotion}")
        if intensity not in RAVDESS_INTENSITY_CODES:
            raise _Skip(f"unknown intensity code {intensity}")
        if not 1 <= int(actor) <= 24:
            raise _Skip(f"actor {actor} is outside 01-24")
        folder = _RAVDESS_ACTOR_DIR.match(path.parent.name)
        if folder and folder.group(1) != actor:
            raise _Skip(f"folder {path.parent.name} disagrees with the actor {actor} in the file name")
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
            raise _Skip("name does not parse as CREMA-D AAAA_SSS_EEE_LL")
        actor, sentence, emotion, level = match.groups()
        if not 1001 <= int(actor) <= 1091:
            raise _Skip(f"actor {actor} is outside 1001-1091")
        if emotion not in CREMA_D_EMOTION_CODES:
            raise _Skip(f"unknown emotion code {emotion}")
        if level not in CREMA_D_LEVEL_CODES:
            raise _Skip(f"unknown level code {level}")
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
            raise _Skip("name does not parse as TESS SPEAKER_word_emotion")
        file_speaker, word, code = match.groups()
        emotion = TESS_EMOTION_CODES[code.lower()]
        speaker = file_speaker.upper()
        folder = _TESS_DIR.match(path.parent.name)
        if folder and folder.group(2).lower() in TESS_FOLDER_EMOTIONS:
            folder_speaker, folder_emotion = folder.group(1).upper(), TESS_FOLDER_EMOTIONS[folder.group(2).lower()]
            if folder_emotion != emotion:
                raise _Skip(f"emotion {code!r} in the name disagrees with folder {path.parent.name}")
            if folder_speaker != speaker:
                # The official OAF_neutral/OA_bite_neutral: the folder names the speaker in full.
                if not folder_speaker.startswith(speaker):
                    raise _Skip(f"speaker {file_speaker} in the name disagrees with folder {path.parent.name}")
                speaker = folder_speaker
        record = {
            "speaker": f"tess_{speaker}",
            "gender": "female",
            "emotion": emotion,
            "intensity": "unspecified",
            "text_id": word.lower(),
        }
        return record, (speaker, word.lower(), emotion)


_PARSERS = {"ravdess": _RavdessParser, "crema_d": _CremaDParser, "tess": _TessParser}


def corpus_features(label_set: Iterable[str]) -> datasets.Features:
    """The ``datasets.Features`` shared by every corpus, so that corpora concatenate."""
    return datasets.Features(
        {
            "audio": datasets.Audio(sampling_rate=DEFAULT_SAMPLING_RATE, decode=False),
            "path": datasets.Value("string"),
            "corpus": datasets.Value("string"),
            "speaker": datasets.Value("string"),
            "gender": datasets.Value("string"),
            "emotion": datasets.Value("string"),
            "label": datasets.ClassLabel(names=list(label_set)),
            "duration_s": datasets.Value("float32"),
            "intensity": datasets.Value("string"),
            "text_id": datasets.Value("string"),
        }
    )


def load_corpus(
    name: str,
    data_dir: str | os.PathLike,
    label_set: str | tuple[str, ...] | list[str] | None = None,
    *,
    calm: CalmPolicy = "drop",
    strict: bool = False,
    return_skipped: bool = False,
) -> datasets.Dataset | tuple[datasets.Dataset, list[Skipped]]:
    """Load corpus ``name`` (``ravdess``, ``crema_d``, ``tess``) from ``data_dir`` as a ``datasets.Dataset``.

    Columns: ``audio`` (undecoded, 16 kHz once decoded), ``path``, ``corpus``, ``speaker``
    (corpus-prefixed), ``gender``, ``emotion``, ``label`` (``ClassLabel`` over ``label_set``),
    ``duration_s``, ``intensity``, ``text_id``. ``label_set`` defaults to the corpus's own emotions
    (``ravdess8``, ``core6``, ``core7``); clips outside it are dropped, RAVDESS ``calm`` is dropped or
    merged into ``neutral`` by ``calm``. With ``return_skipped`` returns ``(dataset, skipped)``.
    """
    scan = scan_corpus(name, data_dir, strict=strict)
    dataset = records_to_dataset(scan.records, label_set or NATIVE_LABEL_SETS[name], calm=calm)
    return (dataset, scan.skipped) if return_skipped else dataset


def records_to_dataset(
    records: list[dict], label_set: str | tuple[str, ...] | list[str], *, calm: CalmPolicy = "drop"
) -> datasets.Dataset:
    """Build the Dataset from scanned records, mapping emotions into ``label_set`` (a name, or an ordered list
    of canonical emotions) (see :func:`load_corpus`)."""
    labels = get_label_set(label_set) if isinstance(label_set, str) else tuple(label_set)
    rows: dict[str, list] = {column: [] for column in FEATURE_COLUMNS}
    for record in records:
        emotion = map_emotion(record["emotion"], labels, calm=calm)
        if emotion is None:
            continue
        for column in FEATURE_COLUMNS:
            if column == "audio":
                rows["audio"].append({"path": record["path"], "bytes": None})
            elif column == "label":
                rows["label"].append(labels.index(emotion))
            elif column == "emotion":
                rows["emotion"].append(emotion)
            else:
                rows[column].append(record[column])
    # datasets.Audio encodes through torchcodec even with decode=False, so build the column as its
    # storage struct and cast: a cast of an Arrow struct only relabels it.
    features = corpus_features(labels)
    plain = datasets.Features(features)
    plain["audio"] = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    return datasets.Dataset.from_dict(rows, features=plain).cast_column("audio", features["audio"])


def load_corpora(
    names: Iterable[str],
    data_dir: str | os.PathLike,
    label_set: str,
    *,
    calm: CalmPolicy = "drop",
    strict: bool = False,
) -> datasets.Dataset:
    """Load several corpora (each found under ``data_dir/<name>``) into one Dataset on ``label_set``."""
    parts = [load_corpus(name, data_dir, label_set, calm=calm, strict=strict) for name in names]
    return datasets.concatenate_datasets(parts)


def with_decoded_audio(dataset: datasets.Dataset, sampling_rate: int = DEFAULT_SAMPLING_RATE) -> datasets.Dataset:
    """Decode the ``audio`` column on access into ``{"array", "sampling_rate", "path"}`` (as ``datasets.Audio`` does).

    Decoding uses :func:`ser_hf.audio.load_audio` (soundfile + soxr). The transform is lazy: nothing is
    decoded until rows are read.
    """
    return dataset.with_transform(_AudioDecoder(sampling_rate))


class _AudioDecoder:
    """Picklable ``with_transform`` function for :func:`with_decoded_audio`."""

    def __init__(self, sampling_rate: int):
        self.sampling_rate = sampling_rate

    def __call__(self, batch: dict) -> dict:
        if "audio" in batch:
            batch["audio"] = [self.decode(item) for item in batch["audio"]]
        return batch

    def decode(self, item: dict) -> dict:
        return {"array": load_audio(item["path"], self.sampling_rate), "sampling_rate": self.sampling_rate,
                "path": item["path"]}

