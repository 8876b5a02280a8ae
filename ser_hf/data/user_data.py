"""Your own labelled recordings as a ``datasets.Dataset`` with the corpora's columns, and their speaker-independent split.

Sources, the ``datasets`` way:

- an *audiofolder*: one subfolder per label (``DIR/angry/clip.wav``; ``DIR/train/angry/...`` and ``DIR/test/...``
  give the split), or a ``metadata.csv`` with ``file_name`` and ``label`` and optionally ``speaker``, ``gender``,
  ``split``;
- a CSV manifest (``path`` or ``file_name``, ``label``, the same optional columns; paths relative to the CSV);
- a ``datasets.Dataset`` (an ``audio`` column, or ``path``/``file_name``; ``label`` as names or a ``ClassLabel``),
  a folder written by ``Dataset.save_to_disk``, or a Hub dataset id (its ``train`` split, from the local cache when
  offline).

Label names map onto the canonical emotions where they match (case, and synonyms such as anger, happiness, fear,
surprise); the others are kept as the user's own labels. Files that cannot be read are skipped and listed
(``strict=True`` fails instead).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from ..models.errors import SerDataError
from .audio_files import AUDIO_EXTENSIONS, load_audio
from .corpus_scan import Skipped, is_silent_file
from .labels import EMOTIONS

if TYPE_CHECKING:
    import datasets

USER_CORPUS = "user"
MIN_CLIPS_PER_LABEL = 5
METADATA_FILE = "metadata.csv"
COLUMNS = ("file_name", "label", "speaker", "gender", "split")
SPLIT_NAMES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
               "val": "validation", "dev": "validation", "test": "test", "eval": "test", "testing": "test"}
# Label spellings seen in emotion corpora -> canonical emotion.
SYNONYMS = {
    "anger": "angry", "angry": "angry", "ang": "angry", "mad": "angry",
    "happiness": "happy", "happy": "happy", "hap": "happy", "joy": "happy", "joyful": "happy",
    "sadness": "sad", "sad": "sad",
    "fear": "fearful", "fearful": "fearful", "fea": "fearful", "afraid": "fearful", "scared": "fearful",
    "disgust": "disgust", "disgusted": "disgust", "dis": "disgust",
    "surprise": "surprised", "surprised": "surprised", "sur": "surprised", "ps": "surprised",
    "neutral": "neutral", "neu": "neutral", "calm": "calm",
}
RANDOM_SPLIT_WARNING = ("These clips have no speaker column, so they are split at random: the same voices are in "
                        "training and test, and the figures will be optimistic for new speakers (add a speaker "
                        "column to metadata.csv for a speaker-independent split).")


def canonical_label(name: str) -> str:
    """``"Anger"`` -> ``"angry"``, ``"Happiness"`` -> ``"happy"``; a label that is no emotion we know stays the
    user's own (lower-cased, trimmed)."""
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    return SYNONYMS.get(key, key)


def ordered_labels(names) -> list[str]:
    """Canonical emotions in their usual order, then the user's own labels alphabetically."""
    names = set(names)
    return [e for e in EMOTIONS if e in names] + sorted(names - set(EMOTIONS))


@dataclass
class UserData:
    """What was read: the clips (``datasets.Dataset`` with the corpora's columns), the split each row asked for
    (``""`` where none), the label names, and every file skipped with its reason."""

    dataset: datasets.Dataset
    requested_splits: list[str]
    labels: list[str]
    skipped: list[Skipped] = field(default_factory=list)

    def with_labels(self, labels: list[str]) -> UserData:
        """The same clips with ``label`` over ``labels`` (a superset of this data's labels, in any order)."""
        return UserData(relabel(self.dataset, labels), self.requested_splits, list(labels), self.skipped)


def relabel(dataset: datasets.Dataset, labels: list[str]) -> datasets.Dataset:
    """``dataset`` with its ``label`` column over ``labels``, which must hold every ``emotion`` of its rows."""
    from .loading import corpus_features

    missing = sorted(set(dataset["emotion"]) - set(labels))
    if missing:
        raise SerDataError(f"The labels {', '.join(missing)} are not among {', '.join(labels)}.")
    features = corpus_features(labels)
    features["audio"] = dataset.features["audio"]
    return dataset.map(lambda emotion: {"label": list(labels).index(emotion)}, input_columns="emotion",
                       features=features, desc="Relabelling")


def load_user_data(source, *, strict: bool = False, cache_dir: str | os.PathLike | None = None) -> UserData:
    """Read labelled recordings from ``source`` (a folder, a CSV file, a ``datasets.Dataset``, a saved Dataset folder
    or a Hub id; see the module docstring); ``cache_dir`` is where audio held only as bytes is written."""
    from tqdm.auto import tqdm

    rows = _rows_from(source, cache_dir)
    records, skipped = [], []
    for row in tqdm(rows, desc="Reading the recordings", unit="file", disable=len(rows) < 500):
        record, reason = _read_clip(row)
        if reason:
            skipped.append(Skipped(row["display"], reason))
        else:
            records.append(record)
    where = str(source) if not hasattr(source, "column_names") else "the dataset"
    if strict and skipped:
        raise SerDataError(f"{len(skipped)} file(s) of {where} were skipped and --strict is set; the first is "
                           f"{skipped[0].path}: {skipped[0].reason}.")
    if not records:
        raise SerDataError(f"No readable audio in {where}; expected one subfolder per label (angry/clip.wav, ...) "
                           f"or a {METADATA_FILE} with file_name and label columns.")
    counts = {label: sum(r["emotion"] == label for r in records) for label in ordered_labels(r["emotion"] for r in records)}
    if len(counts) < 2:
        raise SerDataError(f"{where} has clips of one label only ({next(iter(counts))}); training and evaluation "
                           "need at least two labels.")
    few = {label: n for label, n in counts.items() if n < MIN_CLIPS_PER_LABEL}
    if few:
        listed = ", ".join(f"{label} ({n})" for label, n in few.items())
        raise SerDataError(f"Label(s) with fewer than {MIN_CLIPS_PER_LABEL} readable clips in {where}: {listed}; add "
                           "clips or remove the label.")
    from .loading import dataset_from_records

    order = ordered_labels(counts)
    return UserData(dataset_from_records(records, order), [r["split_request"] for r in records], order, skipped)


def _rows_from(source, cache_dir) -> list[dict]:
    """``[{"path", "display", "label", "speaker", "gender", "split"}]`` from any supported source."""
    if hasattr(source, "column_names"):
        return _rows_from_dataset(source, cache_dir)
    path = Path(str(source)).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise SerDataError(f"{path} is not a folder or a .csv manifest; expected a folder of labelled audio.")
        return _rows_from_csv(path, path.parent)
    if path.is_dir():
        if (path / "dataset_info.json").is_file() or (path / "state.json").is_file():
            import datasets

            return _rows_from_dataset(datasets.load_from_disk(str(path)), cache_dir)
        if (path / METADATA_FILE).is_file():
            return _rows_from_csv(path / METADATA_FILE, path)
        return _rows_from_folders(path)
    if not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", str(source)) or str(source).startswith("."):
        raise SerDataError(f"The folder {source} does not exist; expected a folder of labelled audio.")
    return _rows_from_hub(str(source), cache_dir)  # NAME or OWNER/NAME, and no such folder here: a Hub id


def _rows_from_csv(manifest: Path, root: Path) -> list[dict]:
    with open(manifest, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [c.strip() for c in reader.fieldnames or []]
        name_column = "file_name" if "file_name" in header else "path"
        unknown = [c for c in header if c not in (*COLUMNS, "path")]
        if unknown or name_column not in header or "label" not in header:
            problem = f"unknown column(s) {', '.join(unknown)}" if unknown else "no file_name and label columns"
            raise SerDataError(f"{manifest} has {problem}; expected file_name (or path), label and optionally "
                               "speaker, gender, split.")
        rows = []
        for line in reader:
            line = {k.strip(): (v or "").strip() for k, v in line.items() if k}
            clip = Path(line[name_column])
            rows.append({"path": clip if clip.is_absolute() else root / clip, "display": line[name_column],
                         "label": line["label"], "speaker": line.get("speaker", ""), "gender": line.get("gender", ""),
                         "split": line.get("split", "")})
    return rows


def _rows_from_folders(root: Path) -> list[dict]:
    """``LABEL/clip`` or ``SPLIT/LABEL/clip`` (when every top folder is a split name)."""
    tops = [d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")]
    by_split = bool(tops) and all(d.name.lower() in SPLIT_NAMES for d in tops)
    rows = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            continue
        parts = rel.parts[1:] if by_split else rel.parts
        if len(parts) < 2:
            rows.append({"path": path, "display": str(rel), "label": "", "speaker": "", "gender": "", "split": ""})
            continue
        rows.append({"path": path, "display": str(rel), "label": parts[0], "speaker": "", "gender": "",
                     "split": rel.parts[0] if by_split else ""})
    return rows


def _rows_from_dataset(dataset: datasets.Dataset, cache_dir) -> list[dict]:
    columns = dataset.column_names
    label_names = getattr(dataset.features.get("label"), "names", None)
    if "label" not in columns:
        raise SerDataError(f"The dataset has no label column (its columns: {', '.join(columns)}).")
    if "audio" in columns:
        audio = dataset.cast_column("audio", _undecoded(dataset.features["audio"]))["audio"]
        paths = [_audio_file(item, cache_dir) for item in audio]
    elif "path" in columns or "file_name" in columns:
        paths = [Path(p) for p in dataset["path" if "path" in columns else "file_name"]]
    else:
        raise SerDataError(f"The dataset has no audio, path or file_name column (its columns: {', '.join(columns)}).")
    labels = [label_names[v] if label_names and isinstance(v, int) else v for v in dataset["label"]]
    extra = {c: dataset[c] if c in columns else [""] * len(dataset) for c in ("speaker", "gender", "split")}
    return [{"path": p, "display": str(p), "label": label, "speaker": str(extra["speaker"][i] or ""),
             "gender": str(extra["gender"][i] or ""), "split": str(extra["split"][i] or "")}
            for i, (p, label) in enumerate(zip(paths, labels))]


def _rows_from_hub(repo_id: str, cache_dir) -> list[dict]:
    import datasets

    try:
        dataset = datasets.load_dataset(repo_id, split="train")
    except Exception as err:  # noqa: BLE001 - datasets raises many types for a missing or unreachable id
        raise SerDataError(f"Cannot load the dataset {repo_id!r}: it is no folder or .csv here, and the Hub gave "
                           f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ") + ".") from None
    return _rows_from_dataset(dataset, cache_dir)


def _undecoded(feature):
    import datasets

    return datasets.Audio(decode=False) if isinstance(feature, datasets.Audio) else feature


def _audio_file(item, cache_dir) -> Path:
    """A file for an ``audio`` value: its path when that file exists, else its bytes written once to ``cache_dir``."""
    if isinstance(item, str):
        return Path(item)
    path = item.get("path")
    if path and Path(path).is_file():
        return Path(path)
    if not item.get("bytes"):
        return Path(path or "missing")
    folder = Path(cache_dir or Path.home() / ".cache" / "ser_hf") / "user_audio"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (hashlib.sha256(item["bytes"]).hexdigest()[:24] + (Path(path).suffix if path else ".audio"))
    if not target.is_file():
        target.write_bytes(item["bytes"])
    return target


def _read_clip(row: dict) -> tuple[dict | None, str]:
    """``(record, "")`` for a usable clip, ``(None, reason)`` otherwise."""
    path, label = Path(row["path"]), str(row["label"] or "").strip()
    if not label:
        return None, "no label (put it in a subfolder named after its label, or give it a label column)"
    if not path.is_file():
        return None, "file not found"
    if path.stat().st_size == 0:
        return None, "empty file (0 bytes)"
    try:
        info = sf.info(str(path))
        duration = info.frames / info.samplerate if info.samplerate else 0.0
        silent = is_silent_file(path, info)
    except (sf.LibsndfileError, RuntimeError):
        try:
            wave = load_audio(path)
        except Exception as err:  # noqa: BLE001 - the reason is reported, the file skipped
            return None, f"unreadable audio ({str(err).strip() or type(err).__name__})"
        duration, silent = len(wave) / 16000, bool(np.max(np.abs(wave)) == 0)
    if duration <= 0:
        return None, "unreadable audio (no samples)"
    if silent:
        return None, "digital silence from start to end (no speech to learn from)"
    split = row["split"].strip().lower()
    if split and split not in SPLIT_NAMES:
        return None, f"unknown split {row['split']!r} (expected train, validation or test)"
    speaker = row["speaker"].strip()
    gender = row["gender"].strip().lower()
    return {"path": str(path.resolve()), "corpus": USER_CORPUS, "speaker": speaker, "gender":
            gender if gender in ("female", "male") else "unknown", "emotion": canonical_label(label),
            "duration_s": round(float(duration), 4), "intensity": "unspecified", "text_id": "",
            "split_request": SPLIT_NAMES.get(split, "")}, ""


def split_user_data(data: UserData, *, seed: int = 0, fraction: float = 0.1) -> datasets.DatasetDict:
    """``train``/``validation``/``test``: the split each clip asked for; the rest by speaker when every clip has one
    (``fraction`` of the speakers each for validation and test, at least one), else at random with a warning that
    says why its figures will be optimistic. A speaker in two parts raises :class:`SerDataError`."""
    import datasets

    from .protocols import check_leakage

    dataset, requested = data.dataset, np.asarray(data.requested_splits, dtype=object)
    part = requested.copy()
    speakers = np.asarray(dataset["speaker"], dtype=object)
    free = np.flatnonzero(part == "")
    wanted = [p for p in ("validation", "test") if not (requested == p).any()]
    if len(free) and wanted:
        known = set(speakers[requested != ""].tolist())
        if all(speakers[free]) and len(set(speakers[free].tolist()) - known) > len(wanted):
            part[free] = _speaker_parts(speakers[free], wanted, seed, fraction, known)
        else:
            warnings.warn(RANDOM_SPLIT_WARNING, stacklevel=2)
            # Stratified on the names, not the label ids: the same split whatever order the labels are in (a model's
            # own order when training continues its head, the data's when it is evaluated).
            part[free] = _random_parts(np.asarray(dataset["emotion"])[free], wanted, seed, fraction)
    part[part == ""] = "train"
    split = datasets.DatasetDict({name: dataset.select(np.flatnonzero(part == name).tolist()) for name in
                                  ("train", "validation", "test")})
    if all(speakers):
        check_leakage(split)
    return split


def _speaker_parts(speakers: np.ndarray, wanted: list[str], seed: int, fraction: float, known: set) -> np.ndarray:
    # A speaker already placed by the user's split column stays out of the parts drawn here.
    pool = sorted(set(speakers.tolist()) - known)
    order = np.random.default_rng(seed).permutation(len(pool))
    count = max(1, round(len(pool) * fraction))
    chosen = {}
    for i, name in enumerate(wanted):
        chosen.update({pool[j]: name for j in order[i * count:(i + 1) * count]})
    return np.array([chosen.get(s, "train") for s in speakers], dtype=object)


def _random_parts(labels: np.ndarray, wanted: list[str], seed: int, fraction: float) -> np.ndarray:
    from sklearn.model_selection import train_test_split

    parts = np.full(len(labels), "train", dtype=object)
    rest = np.arange(len(labels))
    for i, name in enumerate(wanted):
        count = max(1, round(len(rest) * fraction / (1 - i * fraction)))
        classes, sizes = np.unique(labels[rest], return_counts=True)
        # Stratified where every class can give a clip to each side; plain random otherwise.
        stratify = labels[rest] if sizes.min() >= 2 and len(classes) <= count <= len(rest) - len(classes) else None
        rest, taken = train_test_split(rest, test_size=count, stratify=stratify, random_state=seed)
        parts[taken] = name
    return parts
