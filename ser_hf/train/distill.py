"""Knowledge distillation: a trained teacher's logits on every training clip, computed once and cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..scoring.loading import load_model, resolve_model_dir
from ..scoring.score import clip_logits
from .cache import dataset_fingerprint, default_cache_dir


def teacher_logits_for(dataset, teacher: str, cache_dir: str | None, max_samples: int | None = None):
    """Add ``teacher_logits (num_labels,)`` to every row of ``dataset``: the teacher's logits on the clip the student
    trains on (its first ``max_samples``, before augmentation), in one pass. Cached, keyed by the teacher's weights."""
    model, feature_extractor = load_model(teacher)
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
