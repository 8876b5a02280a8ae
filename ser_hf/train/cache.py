"""Caching for training: a corpus Dataset -> decoded waveforms or features, through ``datasets.map``
with a stable fingerprint.

The fingerprint hashes what the output depends on (each clip's path, size and modification time, and
the feature extractor's configuration or the decoding settings), so a second run over the same data
reuses the Arrow cache file instead of decoding the audio again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import datasets

from ..data.audio_files import load_audio
from ..models.feature_extraction_ser import SerFeatureExtractor


def default_cache_dir() -> Path:
    """``$SER_HF_CACHE/features``, by default ``~/.cache/ser_hf/features``."""
    root = os.environ.get("SER_HF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "ser_hf")
    return Path(root) / "features"


def dataset_fingerprint(dataset: datasets.Dataset, settings: dict) -> str:
    """A stable hash of the columns (their schema, and every row's scalar values: not the audio or waveforms), each
    clip's file (size and mtime) and ``settings`` (JSON-serializable): a cached copy is reused only for the same rows
    of the same schema."""
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(json.dumps(dataset.features.to_dict(), sort_keys=True, default=str).encode())
    columns = [c for c in dataset.column_names if isinstance(dataset.features[c], (datasets.Value, datasets.ClassLabel))]
    values = [dataset[c] for c in columns]
    for row in zip(*values):
        path = row[columns.index("path")]
        stat = os.stat(path)
        digest.update(f"{stat.st_size}\0{stat.st_mtime_ns}\0".encode() + "\0".join(map(str, row)).encode() + b"\n")
    return digest.hexdigest()[:32]


class _Featurize:
    """Picklable batched ``map`` function: paths -> ``input_features`` (n_features, frames) and ``num_frames``."""

    def __init__(self, feature_extractor: SerFeatureExtractor):
        self.feature_extractor = feature_extractor

    def __call__(self, batch: dict) -> dict:
        fe = self.feature_extractor
        out = {"input_features": [], "num_frames": []}
        for path in batch["path"]:
            encoded = fe(load_audio(path, fe.sampling_rate), sampling_rate=fe.sampling_rate, padding="do_not_pad")
            features = encoded["input_features"][0]
            out["input_features"].append(features)
            out["num_frames"].append(features.shape[1])
        return out


def _cached_map(dataset, function, settings: dict, added: dict, prefix: str, desc: str, batch_size: int,
                cache_dir, num_proc) -> datasets.Dataset:
    """``dataset.map(function)`` into ``cache_dir/<prefix>-<fingerprint>.arrow``, reused when it exists."""
    fingerprint = dataset_fingerprint(dataset, settings)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    features = datasets.Features({**dataset.features, **added})
    return dataset.map(function, batched=True, batch_size=batch_size, num_proc=num_proc, features=features,
                       cache_file_name=str(cache_dir / f"{prefix}-{fingerprint}.arrow"), load_from_cache_file=True,
                       new_fingerprint=fingerprint, desc=desc)


def cache_features(
    dataset: datasets.Dataset,
    feature_extractor: SerFeatureExtractor,
    *,
    cache_dir: str | os.PathLike | None = None,
    num_proc: int | None = None,
) -> datasets.Dataset:
    """Add ``input_features`` ``(n_features, frames)`` and ``num_frames`` to every row, cached on disk.

    The cache file is ``cache_dir/features-<fingerprint>.arrow``; a later call with the same clips and
    the same extractor configuration loads it instead of recomputing. Shows a progress bar.
    """
    added = {"input_features": datasets.Sequence(datasets.Sequence(datasets.Value("float32"))),
             "num_frames": datasets.Value("int32")}
    return _cached_map(dataset, _Featurize(feature_extractor), feature_extractor.to_dict(), added, "features",
                       f"Extracting {feature_extractor.feature_type} features", 32, cache_dir, num_proc)


class _Decode:
    """Picklable batched ``map`` function: paths -> ``waveform`` (float32 at ``sampling_rate``) and ``num_samples``."""

    def __init__(self, sampling_rate: int, max_duration_s: float | None):
        self.sampling_rate = sampling_rate
        self.max_samples = int(max_duration_s * sampling_rate) if max_duration_s else None

    def __call__(self, batch: dict) -> dict:
        out = {"waveform": [], "num_samples": []}
        for path in batch["path"]:
            wave = load_audio(path, self.sampling_rate)[: self.max_samples]
            out["waveform"].append(wave)
            out["num_samples"].append(len(wave))
        return out


def cache_waveforms(
    dataset: datasets.Dataset,
    sampling_rate: int = 16000,
    *,
    max_duration_s: float | None = None,
    cache_dir: str | os.PathLike | None = None,
    num_proc: int | None = None,
) -> datasets.Dataset:
    """Add ``waveform`` (float32, mono, ``sampling_rate``: exactly what :func:`ser_hf.data.load_audio` returns) and
    ``num_samples``.

    Decoding once lets training augment the waveform every epoch without decoding the files again.
    With ``max_duration_s``, clips keep their first seconds (``None``: whole clips, as evaluation needs).
    Cached like :func:`cache_features`.
    """
    settings = {"decode": "load_audio/float32", "sampling_rate": sampling_rate, "max_duration_s": max_duration_s}
    added = {"waveform": datasets.Sequence(datasets.Value("float32")), "num_samples": datasets.Value("int32")}
    return _cached_map(dataset, _Decode(sampling_rate, max_duration_s), settings, added, "waveforms",
                       "Decoding audio", 64, cache_dir, num_proc)
