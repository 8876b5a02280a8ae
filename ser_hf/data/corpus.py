"""What the library knows of a corpus: one :class:`Corpus` per module of ``ser_hf/data/corpora/``.

A corpus module holds everything about its corpus (names, license, citation, label set, folder layout, the
parser of its file names, its speaker-independent folds, its checksum list) and the rest of the library asks
the registry (:mod:`ser_hf.data.corpora`) instead of naming corpora itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

PARTS = ("train", "validation", "test")


class Skip(Exception):
    """Raised by a parser for a file that is not a clip of its corpus; the message is the reason it is listed."""


class ClipParser(Protocol):
    """How a corpus's paths become records (see ``ser_hf/data/corpora/ravdess.py`` for one)."""

    def context(self, root: Path) -> dict:
        """Whatever the parser reads once per folder (for example a speaker table)."""

    def looks_like(self, path: Path) -> bool:
        """Whether a file name has this corpus's pattern (names another corpus's folder in errors)."""

    def parse(self, path: Path, root: Path, context: dict) -> tuple[dict, tuple]:
        """``(record, key)``: ``speaker``, ``gender``, ``emotion`` (canonical), ``intensity``, ``text_id``, and a key
        that is equal for two copies of the same clip (counted once). Raises :class:`Skip` otherwise."""


# fold_parts(speakers (rows,), text_ids (rows,), fold, seed) -> part names (rows,): "train", "validation" or "test".
FoldParts = Callable[[np.ndarray, np.ndarray, int, int], np.ndarray]


@dataclass(frozen=True)
class Corpus:
    """One corpus: its names, terms, label set, layout, parser and folds.

    ``fold_parts`` gives each clip its part in fold ``k`` of the corpus's own protocol (``protocol``, ``num_folds``
    folds); ``multi-corpus`` and ``leave-one-corpus-out`` combine these. ``validation_shares_speakers`` is for a
    corpus with too few speakers to hold some out for validation (TESS): its validation clips share speakers
    with training but no ``text_id``, and the leakage check checks that instead.
    """

    name: str
    display_name: str
    license: str
    license_id: str  # the Hub's license identifier, for model cards
    non_commercial: bool
    citation: str
    native_label_set: str
    layout: str  # the expected layout, said in errors: "Actor_NN/03-01-EE-II-SS-RR-NN.wav files"
    parser: ClipParser
    protocol: str
    num_folds: int
    fold_parts: FoldParts
    describe_fold: Callable[[int], str]  # fold -> who its test speakers are, for reports and cards
    checksums: str | None = None  # file in ser_hf/data/checksums/ listing the official release
    checksum_root: str | None = None  # where the listed files sit below the corpus folder
    checksum_aliases: dict[str, str] = field(default_factory=dict)  # known other names of official files
    validation_shares_speakers: bool = False
    # Place in the multi-corpus and leave-one-corpus-out protocols (None: not part of them). Those protocols are
    # fixed, so that published figures stay comparable: a new corpus joins them only on purpose.
    multi_corpus_position: int | None = None

    def training_parts(self, speakers: np.ndarray, text_ids: np.ndarray, seed: int = 0) -> np.ndarray:
        """Parts when the whole corpus trains (``leave-one-corpus-out``): fold 1's validation speakers validate,
        everyone else trains; a corpus whose validation shares speakers holds out those ``text_id``s everywhere."""
        parts = self.fold_parts(speakers, text_ids, 1, seed)
        parts = np.where(parts == "validation", "validation", "train").astype(object)
        if self.validation_shares_speakers:
            held_out = set(text_ids[parts == "validation"].tolist())
            parts[np.isin(text_ids, list(held_out))] = "validation"
        return parts


def folds_by_speaker(speaker_fold: Callable[[str], int], num_folds: int) -> FoldParts:
    """The ``fold_parts`` of a corpus whose every speaker belongs to one fold (``speaker_fold``: speaker -> 1..n)."""

    def fold_parts(speakers: np.ndarray, text_ids: np.ndarray, fold: int, seed: int = 0) -> np.ndarray:
        return speaker_fold_parts(np.array([speaker_fold(s) for s in speakers]), fold, num_folds)

    return fold_parts


def speaker_fold_parts(speaker_folds: np.ndarray, fold: int, num_folds: int) -> np.ndarray:
    """Parts from each clip's speaker fold: fold ``fold`` tests, the next one (cyclically) validates, the rest train."""
    next_fold = fold % num_folds + 1
    return np.where(speaker_folds == fold, "test", np.where(speaker_folds == next_fold, "validation", "train")).astype(object)
