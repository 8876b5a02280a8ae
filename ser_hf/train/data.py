"""What the Trainer reads: a fold's clips decoded once (cached), cut and augmented for training, batched by the collator."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from ..data.splits import load_split, subsample
from ..scoring.score import batch_inputs
from .arguments import DataArguments
from .cache import cache_waveforms


def load_fold(data: DataArguments, seed: int = 0, keep_labels: list[str] | None = None):
    """``(split, labels)``: the recipe's own ``dataset`` split by speaker (:mod:`ser_hf.data.user_data`), or its
    corpora, protocol and fold (:func:`ser_hf.data.load_split`). ``keep_labels`` (a model's labels, to continue
    training it) is the label order whenever it holds every label of the data."""
    if data.dataset:
        from ..data.user_data import load_user_data, split_user_data

        user = load_user_data(data.dataset, strict=data.strict, cache_dir=data.cache_dir)
        if keep_labels and set(user.labels) <= set(keep_labels):
            user = user.with_labels(keep_labels)
        if user.skipped:
            warnings.warn(f"Skipped {len(user.skipped)} file(s) of {data.dataset}: " + "; ".join(
                f"{s.path} ({s.reason})" for s in user.skipped[:10]) + (" ..." if len(user.skipped) > 10 else ""),
                stacklevel=2)
        split = split_user_data(user, seed=seed)
        return subsample(split, data.max_train_samples, data.max_eval_samples, seed), user.labels
    split, labels = load_split(data.corpora, data.data_dir, data.label_set, calm=data.calm, protocol=data.protocol,
                               fold=data.fold, seed=seed, allow_random=data.allow_random,
                               max_train_samples=data.max_train_samples, max_eval_samples=data.max_eval_samples)
    if data.perceived_only:
        from ..data.splits import perceived_as_acted

        split["train"] = perceived_as_acted(split["train"])
    return split, labels


def prepare_split(data: DataArguments, seed: int = 0, keep_labels: list[str] | None = None) -> tuple[dict, list[str]]:
    """``({"train", "validation", "test"}, labels)``: each part with a decoded ``waveform`` column and ``length``
    (its samples, for length-grouped batches). Whole clips: training cuts them (:class:`WaveformTransform`)."""
    split, labels = load_fold(data, seed, keep_labels)
    parts = {}
    for name, part in split.items():
        part = cache_waveforms(part, cache_dir=data.cache_dir)
        parts[name] = part.rename_column("num_samples", "length")
    return parts, labels


class WaveformTransform:
    """``with_transform`` for training clips: the waveform as float32, cut to its first ``max_samples`` and
    augmented (``augmenter``)."""

    def __init__(self, augmenter=None, max_samples: int | None = None):
        self.augmenter = augmenter
        self.max_samples = max_samples

    def __call__(self, batch: dict) -> dict:
        if "waveform" not in batch:  # a column read such as dataset["length"]
            return batch
        waves = [np.asarray(w, dtype=np.float32)[: self.max_samples] for w in batch["waveform"]]
        if self.augmenter is not None:
            speakers = batch.get("speaker") or [None] * len(waves)
            waves = [self.augmenter(w, speaker=s) for w, s in zip(waves, speakers)]
        return {**batch, "waveform": waves}


class WaveformColumn:
    """``column[i]``: the ``waveform`` of row ``i`` of a cached split, read from its Arrow file on demand (the
    babble pool: no copy of the training set in memory)."""

    def __init__(self, dataset):
        self.dataset = dataset.with_format("numpy", columns=["waveform"])

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.dataset[int(index)]["waveform"]


class AudioCollator:
    """A training batch: :func:`ser_hf.scoring.score.batch_inputs` (each clip featurized on its own, then padded)
    plus ``labels`` and, for distillation, ``teacher_logits``."""

    def __init__(self, feature_extractor, input_name: str):
        self.feature_extractor = feature_extractor
        self.input_name = input_name

    def __call__(self, examples: list[dict]) -> dict:
        out = batch_inputs(self.feature_extractor, [np.asarray(e["waveform"], dtype=np.float32) for e in examples],
                           self.input_name)
        if "label" in examples[0]:
            out["labels"] = torch.tensor([e["label"] for e in examples], dtype=torch.long)
        if "teacher_logits" in examples[0]:
            out["teacher_logits"] = torch.tensor(np.stack([e["teacher_logits"] for e in examples]), dtype=torch.float32)
        return out
