"""Speaker-independent evaluation protocols: a corpus Dataset -> ``datasets.DatasetDict`` per fold.

| protocol            | folds | test                                       | validation                          |
|---------------------|-------|--------------------------------------------|-------------------------------------|
| ``ravdess-6fold``   | 6     | fold k: actors 4k-3..4k                    | the next fold's actors              |
| ``crema_d-speakers``| 6     | actors with (ID - 1001) mod 6 == k - 1     | the next fold's actors              |
| ``tess-cross-speaker`` | 2  | one speaker (fold 1 OAF, fold 2 YAF)       | 10% of the other speaker's words    |
| ``multi-corpus``    | 6     | RAVDESS fold k + CREMA-D fold k + TESS OAF (k odd) / YAF (k even) | the next folds' groups, TESS word-disjoint |
| ``random``          | 1     | stratified 80/10/10, only with ``allow_random=True`` (speakers leak) |        |

Every split is checked by :func:`check_leakage`. TESS has two speakers only, so its validation set
shares the training speaker; it is word-disjoint from training instead, and that is checked.
"""

from __future__ import annotations

import random as _random
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..models.errors import SerDataError

if TYPE_CHECKING:
    import datasets

PROTOCOLS: tuple[str, ...] = ("ravdess-6fold", "crema_d-speakers", "tess-cross-speaker", "multi-corpus", "random")
PROTOCOL_CORPORA: dict[str, tuple[str, ...]] = {
    "ravdess-6fold": ("ravdess",),
    "crema_d-speakers": ("crema_d",),
    "tess-cross-speaker": ("tess",),
    "multi-corpus": ("ravdess", "crema_d", "tess"),
    "random": (),
}
NUM_FOLDS: dict[str, int] = {
    "ravdess-6fold": 6,
    "crema_d-speakers": 6,
    "tess-cross-speaker": 2,
    "multi-corpus": 6,
    "random": 1,
}
TESS_SPEAKERS = ("tess_OAF", "tess_YAF")
TESS_VALIDATION_WORD_FRACTION = 0.1
SPLITS = ("train", "validation", "test")

LEAKAGE_WARNING = (
    "The random protocol puts the same speakers in train and test: the model learns voices as well as "
    "emotions and scores several points higher than it will on a new person. Use a speaker-independent "
    "protocol for any reported figure."
)


@dataclass(frozen=True)
class FoldIndices:
    """Row indices of each part of one fold, and the name of the fold."""

    name: str
    train: list[int]
    validation: list[int]
    test: list[int]

    def parts(self) -> dict[str, list[int]]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def check_protocol(name: str) -> str:
    if name not in PROTOCOLS:
        raise SerDataError(f"Unknown protocol {name!r}; expected one of {', '.join(PROTOCOLS)}.")
    return name


def num_folds(protocol: str) -> int:
    return NUM_FOLDS[check_protocol(protocol)]


def ravdess_fold(speaker: str) -> int:
    """Fold (1-6) whose test set holds a RAVDESS speaker ``ravdess_NN``: actors 4k-3..4k are fold k."""
    return (int(speaker.rsplit("_", 1)[1]) - 1) // 4 + 1


def crema_d_fold(speaker: str) -> int:
    """Fold (1-6) whose test set holds a CREMA-D speaker ``crema_d_NNNN``: (ID - 1001) mod 6 + 1."""
    return (int(speaker.rsplit("_", 1)[1]) - 1001) % 6 + 1


def tess_validation_words(words: list[str], seed: int = 0) -> set[str]:
    """The held-out TESS words (10%, at least one) used for validation, chosen reproducibly by ``seed``."""
    unique = sorted(set(words))
    count = max(1, round(len(unique) * TESS_VALIDATION_WORD_FRACTION))
    return set(_random.Random(seed).sample(unique, count))


def describe_test_speakers(corpus: str, fold: int) -> str:
    """Who the test part of ``fold`` holds for ``corpus`` (its own protocol, or its share of ``multi-corpus``)."""
    if corpus == "ravdess":
        return f"actors {4 * fold - 3}-{4 * fold}"
    if corpus == "crema_d":
        return f"actors with (ID - 1001) mod 6 = {fold - 1}"
    if corpus == "tess":
        return f"{TESS_SPEAKERS[(fold - 1) % 2].split('_')[1]} (the {'older' if fold % 2 else 'younger'} speaker)"
    return ""


def fold_indices(dataset: datasets.Dataset, protocol: str, fold: int, *, seed: int = 0) -> FoldIndices:
    """Row indices of train, validation and test for ``fold`` (1-based) of ``protocol`` over ``dataset``."""
    check_protocol(protocol)
    total = NUM_FOLDS[protocol]
    if not 1 <= fold <= total:
        raise SerDataError(f"Protocol {protocol} has folds 1 to {total}; got fold {fold}.")
    corpora = np.asarray(dataset["corpus"])
    speakers = np.asarray(dataset["speaker"])
    _check_corpora(protocol, corpora)
    if protocol == "random":
        return _random_fold(np.asarray(dataset["label"]), seed)

    words = np.asarray(dataset["text_id"])
    part = np.full(len(dataset), "", dtype=object)
    next_fold = fold % total + 1
    for corpus, fold_of in (("ravdess", ravdess_fold), ("crema_d", crema_d_fold)):
        rows = np.flatnonzero(corpora == corpus)
        if not len(rows):
            continue
        folds = np.array([fold_of(s) for s in speakers[rows]])
        part[rows] = np.where(folds == fold, "test", np.where(folds == next_fold, "validation", "train"))
    tess_rows = np.flatnonzero(corpora == "tess")
    if len(tess_rows):
        test_speaker = TESS_SPEAKERS[(fold - 1) % 2]
        held_out = tess_validation_words(list(words[tess_rows]), seed)
        for row in tess_rows:
            if speakers[row] == test_speaker:
                part[row] = "test"
            else:
                part[row] = "validation" if words[row] in held_out else "train"
    return FoldIndices(
        name=f"fold{fold}",
        train=np.flatnonzero(part == "train").tolist(),
        validation=np.flatnonzero(part == "validation").tolist(),
        test=np.flatnonzero(part == "test").tolist(),
    )


def _check_corpora(protocol: str, corpora: np.ndarray) -> None:
    expected = PROTOCOL_CORPORA[protocol]
    if not expected:
        return
    present = set(corpora.tolist())
    unexpected = present - set(expected)
    if unexpected or not present:
        raise SerDataError(
            f"Protocol {protocol} splits {' + '.join(expected)}; the dataset holds "
            f"{', '.join(sorted(present)) or 'no records'}."
        )


def _random_fold(labels: np.ndarray, seed: int) -> FoldIndices:
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    train, rest = train_test_split(indices, test_size=0.2, stratify=labels, random_state=seed)
    validation, test = train_test_split(rest, test_size=0.5, stratify=labels[rest], random_state=seed)
    return FoldIndices("random", sorted(train.tolist()), sorted(validation.tolist()), sorted(test.tolist()))


def check_leakage(dataset_dict: datasets.DatasetDict) -> None:
    """Raise :class:`SerDataError` naming every speaker found in two parts of ``dataset_dict``.

    TESS validation shares its speaker with training by design (two speakers only); for those rows the
    check is on words instead: no TESS word may be in both training and validation.
    """
    speakers = {name: set(part["speaker"]) for name, part in dataset_dict.items()}
    problems = []
    names = list(dataset_dict)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = speakers[first] & speakers[second]
            if {first, second} == {"train", "validation"}:
                shared = {s for s in shared if not s.startswith("tess_")}
                shared_words = _tess_words(dataset_dict[first]) & _tess_words(dataset_dict[second])
                if shared_words:
                    problems.append(
                        f"TESS words in both {first} and {second}: {', '.join(sorted(shared_words)[:10])}"
                    )
            if shared:
                problems.append(f"speakers in both {first} and {second}: {', '.join(sorted(shared))}")
    if problems:
        raise SerDataError("Split leaks speakers across parts; " + "; ".join(problems) + ".")


def _tess_words(part: datasets.Dataset) -> set[str]:
    return {w for c, w in zip(part["corpus"], part["text_id"]) if c == "tess"}


def make_split(
    dataset: datasets.Dataset,
    protocol: str,
    fold: int = 1,
    *,
    seed: int = 0,
    allow_random: bool = False,
) -> datasets.DatasetDict:
    """``DatasetDict`` with ``train``, ``validation`` and ``test`` for ``fold`` of ``protocol``, leakage-checked.

    ``protocol="random"`` needs ``allow_random=True`` and warns that speakers leak.
    """
    if check_protocol(protocol) == "random":
        if not allow_random:
            raise SerDataError(
                "The random protocol leaks speakers between train and test; pass allow_random=True "
                "(--allow-random) to use it anyway, or choose a speaker-independent protocol."
            )
        warnings.warn(LEAKAGE_WARNING, stacklevel=2)
    import datasets

    indices = fold_indices(dataset, protocol, fold, seed=seed)
    split = datasets.DatasetDict({name: dataset.select(rows) for name, rows in indices.parts().items()})
    if protocol != "random":
        check_leakage(split)
    return split


def iter_splits(
    dataset: datasets.Dataset, protocol: str, *, seed: int = 0, allow_random: bool = False
) -> Iterator[tuple[str, datasets.DatasetDict]]:
    """Yield ``(fold_name, DatasetDict)`` for every fold of ``protocol``."""
    for fold in range(1, num_folds(protocol) + 1):
        yield f"fold{fold}", make_split(dataset, protocol, fold, seed=seed, allow_random=allow_random)


def describe_splits(dataset: datasets.Dataset, protocol: str, *, seed: int = 0, allow_random: bool = False) -> dict:
    """The ``data splits`` JSON: per fold, the speakers and record counts of each part."""
    folds = []
    for name, split in iter_splits(dataset, protocol, seed=seed, allow_random=allow_random):
        folds.append(
            {
                "name": name,
                **{
                    part: {"speakers": sorted(set(split[part]["speaker"])), "num_records": len(split[part])}
                    for part in SPLITS
                },
            }
        )
    return {"protocol": protocol, "folds": folds}
