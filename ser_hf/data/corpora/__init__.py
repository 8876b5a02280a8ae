"""The corpus registry: every module of this folder that defines ``CORPUS`` (a :class:`ser_hf.data.corpus.Corpus`)
is a corpus the library knows. The scanner, verifier, protocols, baseline, model card and CLI read it here.

Adding a corpus is one new module beside ``ravdess.py`` (and its test); :func:`register_corpus` adds one at run
time from elsewhere.
"""

from __future__ import annotations

import importlib
import pkgutil

from ...models.errors import SerDataError
from ..corpus import Corpus

REGISTRY: dict[str, Corpus] = {}


def register_corpus(corpus: Corpus) -> Corpus:
    """Make ``corpus`` known by its name (a later registration of the same name replaces the earlier one)."""
    REGISTRY[corpus.name] = corpus
    return corpus


def get_corpus(name: str) -> Corpus:
    """The registered corpus ``name``; :class:`SerDataError` naming the known ones otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise SerDataError(f"Unknown corpus {name!r}; expected one of {', '.join(REGISTRY)}.") from None


def corpus_names() -> tuple[str, ...]:
    """The registered corpora's names: those of the multi-corpus protocols first, in their order, then the rest."""
    return tuple(REGISTRY)


def multi_corpus_names() -> tuple[str, ...]:
    """The corpora of ``multi-corpus`` and ``leave-one-corpus-out``, in their protocol order."""
    return tuple(c.name for c in REGISTRY.values() if c.multi_corpus_position is not None)


def _discover() -> None:
    found = []
    for info in pkgutil.iter_modules(__path__):
        corpus = getattr(importlib.import_module(f"{__name__}.{info.name}"), "CORPUS", None)
        if isinstance(corpus, Corpus):
            found.append(corpus)
    for corpus in sorted(found, key=lambda c: (c.multi_corpus_position is None, c.multi_corpus_position or 0, c.name)):
        register_corpus(corpus)


def __getattr__(name: str):
    if name == "CORPORA":  # follows the registry, corpora registered at run time included
        return corpus_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_discover()
