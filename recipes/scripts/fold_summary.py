"""Mean +- sample std over the folds of per-corpus test reports (``ser-hf evaluate --corpus all --conditions ...``):
UA, WA, macro F1, ECE and the UA under each robustness condition, per corpus (the shipped models' cross-validation table).

    python recipes/scripts/fold_summary.py docs/reports/default_multi_corpus_fold1 docs/reports/default_multi_corpus_fold2 \
        docs/reports/default_multi_corpus_fold3 --title "The default model" --output docs/reports/default_multi_corpus_crossval
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ser_hf.evaluation.crossval import summarize_folds

CORPORA = ("ravdess", "crema_d", "tess")


def fold_number(folder: Path) -> int:
    return json.loads((folder / "per_corpus.json").read_text())[CORPORA[0]]["fold"] if (
        folder / "per_corpus.json").is_file() else int(folder.name.rsplit("fold", 1)[-1])


def mean_std(values: list[float]) -> str:
    values = np.asarray(values, dtype=np.float64)
    return f"{values.mean():.3f} +- {values.std(ddof=1) if len(values) > 1 else 0.0:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="one report folder per fold (CORPUS/metrics.json inside)")
    parser.add_argument("--title", default="Cross-validation")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    folds = [fold_number(folder) for folder in args.reports]
    lines = [f"# {args.title}: `multi-corpus` folds {', '.join(map(str, folds))}, test speakers", "",
             "Written by `python recipes/scripts/fold_summary.py " + " ".join(map(str, args.reports))
             + (f' --title "{args.title}"' if args.title != "Cross-validation" else "")
             + f" --output {args.output}`; mean +- sample std over the folds.", "",
             "| corpus | " + " | ".join(f"fold {f} UA" for f in folds) + " | UA | WA | macro F1 | ECE |",
             "|---|" + "---:|" * (len(folds) + 4)]
    robustness_rows = []
    for corpus in CORPORA:
        metrics = [json.loads((folder / corpus / "metrics.json").read_text()) for folder in args.reports]
        summary = summarize_folds(f"multi-corpus, {corpus}", [{"fold": f, **m} for f, m in zip(folds, metrics)],
                                  args.output / corpus)
        lines.append(f"| {corpus} | " + " | ".join(f"{m['ua']:.3f}" for m in metrics) + " | " + " | ".join(
            f"{summary[k]['mean']:.3f} +- {summary[k]['std']:.3f}" for k in ("ua", "wa", "macro_f1"))
            + f" | {mean_std([m['ece'] for m in metrics])} |")
        robust = [json.loads((folder / corpus / "robustness.json").read_text()) for folder in args.reports
                  if (folder / corpus / "robustness.json").is_file()]
        if len(robust) == len(folds):
            conditions = list(robust[0])
            drops = {c: [100 * (r[c]["ua"] - r["clean"]["ua"]) for r in robust] for c in conditions}
            robustness_rows.append((corpus, conditions, drops))
    if robustness_rows:
        conditions = robustness_rows[0][1]
        lines += ["", "UA under each condition minus clean UA, in points (mean +- sample std over the folds):", "",
                  "| corpus | " + " | ".join(c for c in conditions if c != "clean") + " |",
                  "|---|" + "---:|" * (len(conditions) - 1)]
        for corpus, _, drops in robustness_rows:
            lines.append(f"| {corpus} | " + " | ".join(
                f"{np.mean(drops[c]):+.1f} +- {np.std(drops[c], ddof=1) if len(folds) > 1 else 0.0:.1f}"
                for c in conditions if c != "clean") + " |")
    (args.output / "README.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
