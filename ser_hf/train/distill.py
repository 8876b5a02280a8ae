"""Knowledge distillation: a trained teacher's logits on every training clip, computed once and cached, or read from
a file of saved logits (so that a fold's student can be trained after its teacher's folder is gone)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..models.errors import SerError
from ..scoring.loading import load_model, resolve_model_dir
from ..scoring.score import clip_logits
from .cache import dataset_fingerprint, default_cache_dir

SAVED_LOGITS_SUFFIX = ".parquet"


def teacher_logits_for(dataset, teacher: str, cache_dir: str | None, max_samples: int | None = None,
                       labels: list[str] | None = None):
    """Add ``teacher_logits (num_labels,)`` to every row of ``dataset``: the teacher's logits on the clip the student
    trains on (its first ``max_samples``, before augmentation), in one pass. Cached, keyed by the teacher's weights.

    ``teacher``: a trained model folder, a bundled model's name, or a ``.parquet`` file written by
    :func:`save_teacher_logits` (then ``labels``, the student's, must be the teacher's)."""
    if str(teacher).endswith(SAVED_LOGITS_SUFFIX):
        return saved_teacher_logits(dataset, teacher, labels)
    model, feature_extractor = load_model(teacher)
    if labels is not None:
        _check_labels([model.config.id2label[i] for i in range(len(model.config.id2label))], labels, teacher)
    weights = resolve_model_dir(teacher) / "model.safetensors"  # "default" is the bundled model
    settings = {"teacher": str(weights.parent.resolve()), "max_samples": max_samples,
                "weights_mtime": weights.stat().st_mtime_ns if weights.exists() else None}
    fingerprint = dataset_fingerprint(dataset, settings)
    folder = Path(cache_dir) if cache_dir else default_cache_dir()

    def add_logits(batch):
        waves = [np.asarray(w, dtype=np.float32)[:max_samples] for w in batch["waveform"]]
        return {"teacher_logits": [clip_logits(model, feature_extractor, w) for w in waves]}

    return dataset.map(add_logits, batched=True, batch_size=16, new_fingerprint=fingerprint,
                       cache_file_name=str(folder / f"teacher-{fingerprint}.arrow"), desc="Teacher logits")


def clip_keys(dataset) -> list[str]:
    """A key per row that does not depend on where the corpora lie: ``corpus/parent folder/file name``."""
    return [f"{corpus}/{Path(path).parent.name}/{Path(path).name}"
            for corpus, path in zip(dataset["corpus"], dataset["path"])]


def save_teacher_logits(dataset, file: str | Path, labels: list[str], teacher: str) -> Path:
    """Write the ``teacher_logits`` column of ``dataset`` (from :func:`teacher_logits_for`) to a Parquet file: one
    row per clip (``clip``, ``teacher_logits``), the label order and the teacher's name in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"clip": clip_keys(dataset),
                      "teacher_logits": [np.asarray(v, dtype=np.float32).tolist() for v in dataset["teacher_logits"]]})
    meta = {b"labels": json.dumps(list(labels)).encode(), b"teacher": str(teacher).encode()}
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata(meta), file)
    return file


def saved_teacher_logits(dataset, file: str | Path, labels: list[str] | None = None):
    """``dataset`` with the ``teacher_logits`` saved in ``file`` for each of its clips."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(file)
        saved_labels = json.loads(table.schema.metadata[b"labels"])
        by_clip = dict(zip(table.column("clip").to_pylist(), table.column("teacher_logits").to_pylist()))
    except (OSError, KeyError, TypeError, ValueError) as err:
        raise SerError(f"Cannot read saved teacher logits from {file}: {err}") from err
    if labels is not None:
        _check_labels(saved_labels, labels, file)
    keys = clip_keys(dataset)
    missing = [key for key in keys if key not in by_clip]
    if missing:
        raise SerError(f"{len(missing)} of the {len(keys)} training clips have no logits in {file} (first: "
                       f"{missing[0]}); save them again for this recipe's fold and training clips.")
    return dataset.add_column("teacher_logits", [by_clip[key] for key in keys])


def _check_labels(teacher_labels: list[str], labels: list[str], teacher) -> None:
    if list(teacher_labels) != list(labels):
        raise SerError(f"The teacher {teacher} scores {', '.join(teacher_labels)}, not the recipe's labels "
                       f"{', '.join(labels)}.")


def export_teacher_logits(run, teacher: str, file: str | Path) -> Path:
    """Score the training clips of ``run``'s fold (a parsed recipe) with ``teacher`` and save the logits to
    ``file``, for ``--teacher FILE`` in a later run of that recipe and fold."""
    from ..data.audio_files import DEFAULT_SAMPLING_RATE
    from .data import prepare_split

    split, labels = prepare_split(run.data, seed=run.training.seed)
    max_samples = int(run.data.max_duration_s * DEFAULT_SAMPLING_RATE) if run.data.max_duration_s else None
    scored = teacher_logits_for(split["train"], teacher, run.data.cache_dir, max_samples, labels)
    return save_teacher_logits(scored, file, labels, teacher)
