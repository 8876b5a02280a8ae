"""Scanning a corpus folder: every clip parsed from its path, without decoding, and every other file listed
in ``skipped`` with its reason. No ``datasets`` here: the command line reads these names cheaply."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..models.errors import SerDataError
from .audio_files import AUDIO_EXTENSIONS
from .corpora import REGISTRY, get_corpus
from .corpus import Skip
from .labels import EMOTIONS

REPO_ROOT = Path(__file__).resolve().parents[2]
# Files that live beside the audio in the releases and are neither clips nor mistakes.
_METADATA_SUFFIXES = (".md", ".csv", ".tsv", ".txt", ".json", ".pdf", ".zip", ".py")

# Below this many bytes per second of audio, a compressed stream (Opus, Vorbis, FLAC, MP3) is decoded to
# check whether it is silent; speech here takes 3,700-6,000 B/s in Opus and far more in FLAC, while the
# Opus copy of CREMA-D's silent clip takes 570 B/s. PCM files are always checked (reading them is cheap).
_SILENCE_CHECK_BYTES_PER_S = 2000


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


def default_data_dir() -> Path:
    """``$SER_HF_DATA``, else ``../shared/data`` beside the repository when it exists."""
    if os.environ.get("SER_HF_DATA"):
        return Path(os.environ["SER_HF_DATA"])
    candidate = REPO_ROOT.parent / "shared" / "data"
    if candidate.is_dir():
        return candidate
    raise SerDataError("No data folder given: pass --data-dir (data_dir=) or set the SER_HF_DATA environment variable.")


def resolve_corpus_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder of corpus ``name``: ``data_dir`` itself, or ``data_dir/name`` when that exists.

    This lets ``--data-dir ../shared/data`` point at the parent of all three corpora; ``None`` means
    :func:`default_data_dir`.
    """
    corpus = get_corpus(name)
    data_dir = Path(data_dir if data_dir is not None else default_data_dir()).expanduser()
    if not data_dir.exists():
        raise SerDataError(
            f"The {corpus.display_name} folder {data_dir} does not exist; expected a folder with {corpus.layout}."
        )
    if not data_dir.is_dir():
        raise SerDataError(f"{data_dir} is a file, not a folder; expected the {corpus.display_name} folder.")
    nested = data_dir / name
    return nested if nested.is_dir() else data_dir


def scan_corpus(
    name: str,
    data_dir: str | os.PathLike | None = None,
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
    parser = get_corpus(name).parser
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
        except Skip as skip:
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
        if check_silence and is_silent_file(path, info):
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


def is_silent_file(path: Path, info) -> bool:
    """Whether an audio file (``info``: its ``soundfile.info``) holds digital silence only (read cheaply)."""
    from ..models.preprocessing import SILENCE_PEAK

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
    corpus = get_corpus(name)
    audio = [p for p in files if p.suffix.lower() in AUDIO_EXTENSIONS]
    if not files:
        return f"The {corpus.display_name} folder {root} is empty; expected {corpus.layout}."
    for other in REGISTRY.values():
        if other.name == name or not audio:
            continue
        if sum(other.parser.looks_like(p) for p in audio[:50]) > len(audio[:50]) // 2:
            return (
                f"No {corpus.display_name} clips found in {root}: it looks like a {other.display_name} folder; "
                f"expected {corpus.layout}."
            )
    return f"No {corpus.display_name} clips found in {root} ({len(files)} files, none usable); expected {corpus.layout}."
