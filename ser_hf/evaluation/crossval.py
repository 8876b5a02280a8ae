"""Cross-validation summaries: per fold and mean ± sample std (``crossval.json``, ``crossval.md``).

Training, the classic baseline and the recipe scripts all summarize their folds here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

KEYS = ("ua", "wa", "macro_f1", "weighted_f1")


def mean_and_std(folds: list[dict]) -> dict:
    """``{key: {"mean", "std"}}`` (sample std) over the ``folds`` (dicts with ``ua``, ``wa``, ``macro_f1``, ``weighted_f1``)."""
    out = {}
    for key in KEYS:
        values = np.array([f[key] for f in folds], dtype=np.float64)
        out[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0}
    return out


def summarize_folds(protocol: str, folds: list[dict], output_dir: str | os.PathLike) -> dict:
    """Mean and sample std over ``folds`` (dicts with ``fold``, ``ua``, ``wa``, ``macro_f1``, ``weighted_f1``,
    ``num_records``); writes ``crossval.json`` and ``crossval.md`` to ``output_dir``."""
    summary = {"protocol": protocol, "folds": folds, **mean_and_std(folds)}
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossval.json").write_text(json.dumps(summary, indent=2))
    (out / "crossval.md").write_text(crossval_markdown(summary))
    return summary


def crossval_markdown(summary: dict) -> str:
    lines = [f"# Cross-validation: {summary['protocol']}", "", "| fold | UA | WA | macro F1 | weighted F1 | test clips |",
             "|---|---|---|---|---|---|"]
    for f in summary["folds"]:
        lines.append(f"| {f['fold']} | {f['ua']:.3f} | {f['wa']:.3f} | {f['macro_f1']:.3f} | {f['weighted_f1']:.3f} "
                     f"| {f['num_records']} |")
    lines.append("| **mean ± std** | " + " | ".join(
        f"**{summary[k]['mean']:.3f} ± {summary[k]['std']:.3f}**" for k in KEYS)
        + " | |")
    return "\n".join(lines) + "\n"
