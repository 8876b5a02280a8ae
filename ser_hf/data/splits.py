"""One fold of a protocol over one or more corpora, with labels: what training, the baseline and the probes read."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Sequence

from .corpora import get_corpus
from .loading import load_corpora
from .protocols import make_split

if TYPE_CHECKING:
    import datasets


def load_split(
    corpora: Sequence[str],
    data_dir: str | os.PathLike | None = None,
    label_set: str | None = None,
    *,
    calm: str = "drop",
    protocol: str = "ravdess-6fold",
    fold: int = 1,
    seed: int = 0,
    allow_random: bool = False,
    max_train_samples: int | None = None,
    max_eval_samples: int | None = None,
) -> tuple[datasets.DatasetDict, list[str]]:
    """``(split, labels)``: the train/validation/test ``DatasetDict`` of ``fold`` of ``protocol`` over ``corpora``
    and the label names. ``label_set`` defaults to the corpus's own (one corpus) or ``core7`` (several);
    ``max_*_samples`` keep a seeded random subset of each part (quick runs)."""
    label_set = label_set or (get_corpus(corpora[0]).native_label_set if len(corpora) == 1 else "core7")
    dataset = load_corpora(corpora, data_dir, label_set, calm=calm)
    split = make_split(dataset, protocol, fold, seed=seed, allow_random=allow_random)
    return subsample(split, max_train_samples, max_eval_samples, seed), dataset.features["label"].names


def heard_as_acted(emotion: str, perceived: str) -> bool:
    """Whether listeners heard the acted ``emotion`` (``perceived`` holds it, one of a tie counts), or the clip has
    no ratings (``perceived`` empty)."""
    return not perceived or emotion in perceived.split(":")


def perceived_as_acted(dataset: datasets.Dataset) -> datasets.Dataset:
    """The clips of ``dataset`` that :func:`heard_as_acted` keeps."""
    return dataset.filter(heard_as_acted, input_columns=["emotion", "perceived"], desc="Keeping clips heard as acted")


def subsample(split: datasets.DatasetDict, max_train_samples: int | None, max_eval_samples: int | None,
              seed: int = 0) -> datasets.DatasetDict:
    """Keep a seeded random subset of each part (quick runs): ``max_train_samples`` of train, ``max_eval_samples`` of
    validation and of test."""
    for name, limit in (("train", max_train_samples), ("validation", max_eval_samples), ("test", max_eval_samples)):
        if limit is not None and len(split[name]) > limit:
            split[name] = split[name].shuffle(seed=seed).select(range(limit))
    return split
