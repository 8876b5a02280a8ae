"""Evaluation: the metrics, scoring labelled clips, reports, the cross-corpus matrix, cross-validation summaries."""

from __future__ import annotations

from .._lazy import lazy_getattr

_NAMES = {
    "ser_metrics": ".metrics",
    "load_ser_metrics": ".metrics",
    "evaluate_model": ".evaluate",
    "evaluate_per_corpus": ".evaluate",
    "score_clips": ".evaluate",
    "write_report": ".reports",
    "cross_corpus": ".cross_corpus",
    "write_cross_corpus": ".cross_corpus",
    "summarize_folds": ".crossval",
    "crossval_markdown": ".crossval",
}

__all__ = list(_NAMES)

__getattr__ = lazy_getattr(__name__, _NAMES)
