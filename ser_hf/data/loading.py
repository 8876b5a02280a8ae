"""The registered corpora (RAVDESS, CREMA-D, TESS, ...) as ``datasets.Dataset``.

The loaders parse the official folder layouts and file names (any audio format libsndfile reads:
the official ``.wav`` releases, or the 16 kHz Ogg Opus copies of ``shared/data``), handle each
corpus's known quirks, and never drop a file silently: whatever is not loaded is listed in
``skipped`` with its path and reason.

Audio is kept as an undecoded ``datasets.Audio(decode=False)`` column (``{"path", "bytes"}``):
``datasets`` decodes through ``torchcodec``, which does not load on this platform (see
``docs/data.md``). :func:`with_decoded_audio` decodes it on access with soundfile + soxr instead.
"""

from __future__ import annotations

import os
from typing import Iterable

import datasets

from .audio_files import DEFAULT_SAMPLING_RATE, load_audio
from .corpora import get_corpus
from .corpus_scan import Skipped, scan_corpus
from .labels import CalmPolicy, get_label_set, map_emotion

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
    "perceived",
)


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
            # the emotion(s) listeners heard where a corpus has ratings (ties joined by ":"), "" where it has none
            "perceived": datasets.Value("string"),
        }
    )


def load_corpus(
    name: str,
    data_dir: str | os.PathLike | None = None,
    label_set: str | tuple[str, ...] | list[str] | None = None,
    *,
    calm: CalmPolicy = "drop",
    strict: bool = False,
    return_skipped: bool = False,
) -> datasets.Dataset | tuple[datasets.Dataset, list[Skipped]]:
    """Load the registered corpus ``name`` (``ravdess``, ``crema_d``, ``tess``, ...) from ``data_dir`` (default ``$SER_HF_DATA``) as a
    ``datasets.Dataset``.

    Columns: ``audio`` (undecoded, 16 kHz once decoded), ``path``, ``corpus``, ``speaker``
    (corpus-prefixed), ``gender``, ``emotion``, ``label`` (``ClassLabel`` over ``label_set``),
    ``duration_s``, ``intensity``, ``text_id``. ``label_set`` defaults to the corpus's own emotions
    (its ``native_label_set``: ``ravdess8``, ``core6``, ``core7``); clips outside it are dropped, RAVDESS ``calm`` is dropped or
    merged into ``neutral`` by ``calm``. With ``return_skipped`` returns ``(dataset, skipped)``.
    """
    scan = scan_corpus(name, data_dir, strict=strict)
    dataset = records_to_dataset(scan.records, label_set or get_corpus(name).native_label_set, calm=calm)
    return (dataset, scan.skipped) if return_skipped else dataset


def records_to_dataset(
    records: list[dict], label_set: str | tuple[str, ...] | list[str], *, calm: CalmPolicy = "drop"
) -> datasets.Dataset:
    """Build the Dataset from scanned records, mapping emotions into ``label_set`` (a name, or an ordered list
    of canonical emotions) (see :func:`load_corpus`)."""
    labels = get_label_set(label_set) if isinstance(label_set, str) else tuple(label_set)
    mapped = [{**record, "emotion": emotion} for record in records
              if (emotion := map_emotion(record["emotion"], labels, calm=calm)) is not None]
    return dataset_from_records(mapped, labels)


def dataset_from_records(records: list[dict], labels: list[str] | tuple[str, ...]) -> datasets.Dataset:
    """The Dataset of records whose ``emotion`` is one of ``labels`` (any names: a user's own label set too)."""
    labels = list(labels)
    rows: dict[str, list] = {column: [] for column in FEATURE_COLUMNS}
    for record in records:
        for column in FEATURE_COLUMNS:
            if column == "audio":
                rows["audio"].append({"path": record["path"], "bytes": None})
            elif column == "label":
                rows["label"].append(labels.index(record["emotion"]))
            else:
                rows[column].append(record.get(column, "") if column == "perceived" else record[column])
    # datasets.Audio encodes through torchcodec even with decode=False, so build the column as its
    # storage struct and cast: a cast of an Arrow struct only relabels it.
    features = corpus_features(labels)
    plain = datasets.Features(features)
    plain["audio"] = {"bytes": datasets.Value("binary"), "path": datasets.Value("string")}
    return datasets.Dataset.from_dict(rows, features=plain).cast_column("audio", features["audio"])


def load_corpora(
    names: Iterable[str],
    data_dir: str | os.PathLike | None,
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

    Decoding uses :func:`ser_hf.data.load_audio` (soundfile + soxr). The transform is lazy: nothing is
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

