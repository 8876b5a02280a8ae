"""The robustness report: the same test clips scored under each condition (noise, reverberation, a telephone
channel, quiet input, a lossy codec), through the degradations that training augments with.

Each clip's degradation is seeded by its position, so a rerun scores exactly the same audio. Written by
``ser-hf evaluate --conditions ...``: ``robustness.json`` (condition -> the usual metrics), a table appended to
``report.md`` and ``robustness.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..data.degradations import parse_condition
from .calibration import calibration_metrics
from .metrics import ser_metrics

DEFAULT_CONDITIONS = ("clean", "noise:10", "noise:0", "reverb", "telephone", "quiet:-30", "codec")


def score_conditions(score: Callable, load: Callable[[int], np.ndarray], count: int, references: np.ndarray,
                     labels: list[str], conditions: Sequence[str], temperature: float = 1.0) -> dict:
    """``{condition: metrics}``: ``score(waves) -> (probabilities (clips, len(labels)), predicted (clips,))`` on the
    ``count`` clips ``load(i)`` gives, each degraded by the condition (seed ``i``). Metrics are UA, WA, the F1s, ECE,
    the clips scored and those answered "no speech"."""
    results = {}
    for condition in conditions:
        degrade = parse_condition(condition)
        probabilities, predicted = score(degrade(load(i), i) for i in range(count))
        metrics = ser_metrics(predicted, references, labels)
        calibration = calibration_metrics(probabilities, references, temperature)
        results[condition] = {**{k: metrics[k] for k in ("ua", "wa", "macro_f1", "weighted_f1", "num_records",
                                                         "no_speech")}, "ece": calibration.get("ece")}
    return results


def robustness_markdown(results: dict) -> str:
    clean = results.get("clean", {}).get("ua")
    lines = ["## Robustness", "", "The same clips under each condition (`ser-hf evaluate --conditions`); the "
             "degradations are those of training-time augmentation, seeded per clip.", "",
             "| condition | UA | UA - clean | WA | macro F1 | ECE | no speech |", "|---|---:|---:|---:|---:|---:|---:|"]
    for condition, m in results.items():
        delta = f"{m['ua'] - clean:+.3f}" if clean is not None else ""
        ece = f"{m['ece']:.3f}" if m.get("ece") is not None else ""
        lines.append(f"| {condition} | {m['ua']:.3f} | {delta} | {m['wa']:.3f} | {m['macro_f1']:.3f} | {ece} | "
                     f"{m['no_speech']} |")
    return "\n".join(lines + ["", "![robustness](robustness.png)"]) + "\n"


def write_robustness(output_dir, results: dict, title: str = "") -> None:
    """``robustness.json``, the table appended to ``report.md`` and ``robustness.png`` (UA per condition)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(output_dir)
    (out / "robustness.json").write_text(json.dumps(results, indent=2))
    report = out / "report.md"
    if report.is_file():
        report.write_text(report.read_text().rstrip() + "\n\n" + robustness_markdown(results))
    names = list(results)
    values = [results[n]["ua"] for n in names]
    fig, ax = plt.subplots(figsize=(1.2 + 0.9 * len(names), 3.6), constrained_layout=True)
    bars = ax.bar(names, values, color=["#4c72b0" if n == "clean" else "#dd8452" for n in names])
    if "clean" in results:
        ax.axhline(results["clean"]["ua"] - 0.03, color="grey", linestyle="--", linewidth=1, label="clean - 3 points")
        ax.legend(loc="lower left", fontsize=8)
    for bar, value in zip(bars, values):
        ax.text(bar.get_x() + bar.get_width() / 2, value + 0.01, f"{value:.3f}", ha="center", fontsize=8)
    ax.set(ylim=(0, 1), ylabel="UA", title=title or "UA per condition")
    ax.tick_params(axis="x", rotation=30)
    fig.savefig(out / "robustness.png", dpi=110)
    plt.close(fig)
