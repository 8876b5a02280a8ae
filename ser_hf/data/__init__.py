"""The data layer: audio files, label sets, the corpora as ``datasets.Dataset`` and speaker-independent protocols.

Names load on first use (``datasets`` is imported only by what needs it).
"""

from __future__ import annotations

from .._lazy import lazy_getattr

_NAMES = {
    "load_audio": ".audio_files",
    "audio_info": ".audio_files",
    "AUDIO_EXTENSIONS": ".audio_files",
    "DEFAULT_SAMPLING_RATE": ".audio_files",
    "CORPORA": ".corpus_scan",
    "default_data_dir": ".corpus_scan",
    "scan_corpus": ".corpus_scan",
    "load_corpus": ".corpora",
    "load_corpora": ".corpora",
    "with_decoded_audio": ".corpora",
    "PROTOCOLS": ".protocols",
    "make_split": ".protocols",
    "check_leakage": ".protocols",
    "describe_splits": ".protocols",
    "load_split": ".splits",
    "EMOTIONS": ".labels",
    "LABEL_SETS": ".labels",
    "get_label_set": ".labels",
    "verify_download": ".verify",
}

__all__ = list(_NAMES)

__getattr__ = lazy_getattr(__name__, _NAMES)
