"""The ``evaluate`` metric module of ser_hf, loaded by path (offline)."""

from __future__ import annotations

from pathlib import Path

METRIC_PATH = str(Path(__file__).resolve().parent / "ser_metrics")


def load_ser_metrics():
    """``evaluate.load`` of the ser_metrics module shipped in this package."""
    import evaluate

    return evaluate.load(METRIC_PATH)
