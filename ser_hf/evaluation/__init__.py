"""Evaluation: the metrics, scoring labelled clips, reports, the cross-corpus matrix, cross-validation summaries."""

from __future__ import annotations

from .._lazy import lazy_getattr

_MODULES = {
    ".metrics": ("ser_metrics", "load_ser_metrics"),
    ".evaluate": ("evaluate_model", "evaluate_per_corpus", "score_clips"),
    ".reports": ("write_report",),
    ".cross_corpus": ("cross_corpus", "write_cross_corpus"),
    ".crossval": ("summarize_folds", "crossval_markdown"),
}

__all__ = [name for names in _MODULES.values() for name in names]

__getattr__ = lazy_getattr(__name__, _MODULES)
