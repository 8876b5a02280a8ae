"""The data layer: audio files, label sets, the corpora as ``datasets.Dataset`` and speaker-independent protocols.

Names load on first use (``datasets`` is imported only by what needs it).
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_MODULES = {
    ".audio_files": ("load_audio", "AUDIO_EXTENSIONS", "DEFAULT_SAMPLING_RATE"),
    ".corpora": ("CORPORA", "get_corpus", "register_corpus"),
    ".corpus": ("Corpus",),
    ".corpus_scan": ("default_data_dir", "scan_corpus"),
    ".loading": ("load_corpus", "load_corpora", "with_decoded_audio"),
    ".protocols": ("PROTOCOLS", "make_split", "check_leakage", "describe_splits"),
    ".splits": ("load_split",),
    ".labels": ("EMOTIONS", "LABEL_SETS", "get_label_set"),
    ".verify": ("verify_download",),
}

__all__ = [name for names in _MODULES.values() for name in names]

__getattr__ = lazy_getattr(__name__, _MODULES)
