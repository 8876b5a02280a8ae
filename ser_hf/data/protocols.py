"""Speaker-independent evaluation protocols: a corpus Dataset -> ``datasets.DatasetDict`` per fold.

Each corpus brings its own protocol (its module in ``ser_hf/data/corpora/`` says how its speakers fold); two more
combine the corpora of the multi-corpus protocols (RAVDESS, CREMA-D, TESS):

| protocol            | folds | test                                       | validation                          |
|---------------------|-------|--------------------------------------------|-------------------------------------|
| ``ravdess-6fold``   | 6     | fold k: actors 4k-3..4k                    | the next fold's actors              |
| ``crema_d-speakers``| 6     | actors with (ID - 1001) mod 6 == k - 1     | the next fold's actors              |
| ``tess-cross-speaker`` | 2  | one speaker (fold 1 OAF, fold 2 YAF)       | 10% of the other speaker's words    |
| ``multi-corpus``    | 6     | each corpus's own fold k (TESS: OAF for k odd, YAF for k even) | each corpus's own validation |
| ``leave-one-corpus-out`` | 3 | every speaker of corpus k (RAVDESS, CREMA-D, TESS) | the other corpora's fold-1 validation speakers |
| ``random``          | 1     | stratified 80/10/10, only with ``allow_random=True`` (speakers leak) |        |

Every split is checked by :func:`check_leakage`. TESS has two speakers only, so its validation set
shares the training speaker; it is word-disjoint from training instead, and that is checked.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np

from ..models.errors import SerDataError
from .corpora import REGISTRY, get_corpus, multi_corpus_names

if TYPE_CHECKING:
    import datasets

MULTI_CORPUS = "multi-corpus"
LEAVE_ONE_CORPUS_OUT = "leave-one-corpus-out"
RANDOM = "random"
SPLITS = ("train", "validation", "test")


def protocol_table() -> tuple[dict[str, tuple[str, ...]], dict[str, int]]:
    """``(corpora, folds)`` of every protocol: each registered corpus's own, then the combined ones, then ``random``."""
    corpora = {c.protocol: (c.name,) for c in REGISTRY.values()}
    folds = {c.protocol: c.num_folds for c in REGISTRY.values()}
    multi = multi_corpus_names()
    corpora.update({MULTI_CORPUS: multi, LEAVE_ONE_CORPUS_OUT: multi, RANDOM: ()})
    folds.update({MULTI_CORPUS: max(get_corpus(c).num_folds for c in multi), LEAVE_ONE_CORPUS_OUT: len(multi),
                  RANDOM: 1})
    return corpora, folds


def protocol_names() -> tuple[str, ...]:
    return tuple(protocol_table()[0])


def protocol_corpora(protocol: str) -> tuple[str, ...]:
    """The corpora ``protocol`` splits (``()`` for ``random``, which splits any)."""
    return protocol_table()[0][check_protocol(protocol)]


def __getattr__(name: str):
    # PROTOCOLS, PROTOCOL_CORPORA and NUM_FOLDS follow the registry, corpora registered at run time included.
    table = {"PROTOCOLS": protocol_names, "PROTOCOL_CORPORA": lambda: protocol_table()[0],
             "NUM_FOLDS": lambda: protocol_table()[1]}
    if name in table:
        return table[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

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
    if name not in protocol_names():
        raise SerDataError(f"Unknown protocol {name!r}; expected one of {', '.join(protocol_names())}.")
    return name


def num_folds(protocol: str) -> int:
    return protocol_table()[1][check_protocol(protocol)]


def describe_test_speakers(corpus: str, fold: int, protocol: str | None = None) -> str:
    """Who the test part of ``fold`` holds for ``corpus`` (its own protocol, or its share of ``multi-corpus``)."""
    if corpus not in REGISTRY:
        return ""
    if protocol == LEAVE_ONE_CORPUS_OUT:
        return "every speaker"
    entry = get_corpus(corpus)
    return entry.describe_fold((fold - 1) % entry.num_folds + 1)


def column(dataset: datasets.Dataset, name: str) -> list:
    """A column of ``dataset`` as a list, through Arrow at once (row by row, a large corpus's columns take seconds)."""
    return dataset.with_format("arrow")[name].to_pylist()


def fold_indices(dataset: datasets.Dataset, protocol: str, fold: int, *, seed: int = 0) -> FoldIndices:
    """Row indices of train, validation and test for ``fold`` (1-based) of ``protocol`` over ``dataset``."""
    check_protocol(protocol)
    total = num_folds(protocol)
    if not 1 <= fold <= total:
        raise SerDataError(f"Protocol {protocol} has folds 1 to {total}; got fold {fold}.")
    corpora = np.asarray(column(dataset, "corpus"))
    speakers = np.asarray(column(dataset, "speaker"))
    _check_corpora(protocol, corpora)
    if protocol == RANDOM:
        return _random_fold(np.asarray(column(dataset, "label")), seed)

    words = np.asarray(column(dataset, "text_id"))
    part = np.full(len(dataset), "", dtype=object)
    for name in sorted(set(corpora.tolist())):
        rows = np.flatnonzero(corpora == name)
        corpus = get_corpus(name)
        if protocol == LEAVE_ONE_CORPUS_OUT:
            held_out = protocol_corpora(protocol)[fold - 1]
            part[rows] = "test" if name == held_out else corpus.training_parts(speakers[rows], words[rows], seed)
        else:
            part[rows] = corpus.fold_parts(speakers[rows], words[rows], (fold - 1) % corpus.num_folds + 1, seed)
    return FoldIndices(
        name=f"fold{fold}",
        train=np.flatnonzero(part == "train").tolist(),
        validation=np.flatnonzero(part == "validation").tolist(),
        test=np.flatnonzero(part == "test").tolist(),
    )


def _check_corpora(protocol: str, corpora: np.ndarray) -> None:
    expected = protocol_corpora(protocol)
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

    A corpus whose validation shares speakers with training by design (TESS: two speakers only) is checked on
    ``text_id`` instead for those two parts: no word of it may be in both.
    """
    shares = {name for name, corpus in REGISTRY.items() if corpus.validation_shares_speakers}
    speakers = {name: set(column(part, "speaker")) for name, part in dataset_dict.items()}
    problems = []
    names = list(dataset_dict)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = speakers[first] & speakers[second]
            if {first, second} == {"train", "validation"}:
                for corpus in sorted(shares):
                    shared -= _column_of(dataset_dict[first], corpus, "speaker")
                    words = _column_of(dataset_dict[first], corpus, "text_id") & \
                        _column_of(dataset_dict[second], corpus, "text_id")
                    if words:
                        problems.append(f"{REGISTRY[corpus].display_name} words in both {first} and {second}: "
                                        f"{', '.join(sorted(words)[:10])}")
            if shared:
                problems.append(f"speakers in both {first} and {second}: {', '.join(sorted(shared))}")
    if problems:
        raise SerDataError("Split leaks speakers across parts; " + "; ".join(problems) + ".")


def _column_of(part: datasets.Dataset, corpus: str, name: str) -> set[str]:
    return {value for c, value in zip(column(part, "corpus"), column(part, name)) if c == corpus}


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
    if check_protocol(protocol) == RANDOM:
        if not allow_random:
            raise SerDataError(
                "The random protocol leaks speakers between train and test; pass allow_random=True "
                "(--allow-random) to use it anyway, or choose a speaker-independent protocol."
            )
        warnings.warn(LEAKAGE_WARNING, stacklevel=2)
    import datasets

    indices = fold_indices(dataset, protocol, fold, seed=seed)
    split = datasets.DatasetDict({name: dataset.select(rows) for name, rows in indices.parts().items()})
    if protocol != RANDOM:
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
                    part: {"speakers": sorted(set(column(split[part], "speaker"))), "num_records": len(split[part])}
                    for part in SPLITS
                },
            }
        )
    return {"protocol": protocol, "folds": folds}
