"""Compare models on the robustness report's conditions: UA per corpus and condition, and the mean over the
conditions, from the folders ``ser-hf evaluate --corpus all --conditions ... --output-dir DIR`` wrote.

    python recipes/scripts/compare_robustness.py shipped=outputs/robust_val/old finetuned=outputs/robust_val/ft \
        --output docs/reports/robust_decision.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="NAME=DIR")
    parser.add_argument("--title", default="Robustness on the validation speakers of multi-corpus fold 1")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    runs = dict(run.split("=", 1) for run in args.runs)
    lines = [f"# {args.title}", ""]
    for corpus in ("ravdess", "crema_d", "tess"):
        tables = {name: json.loads((Path(d) / corpus / "robustness.json").read_text()) for name, d in runs.items()
                  if (Path(d) / corpus / "robustness.json").is_file()}
        if not tables:
            continue
        conditions = list(next(iter(tables.values())))
        lines += [f"## {corpus}", "", "| model | " + " | ".join(conditions) + " | mean |",
                  "|---|" + "---:|" * (len(conditions) + 1)]
        for name, table in tables.items():
            uas = [table[c]["ua"] for c in conditions]
            lines.append(f"| {name} | " + " | ".join(f"{u:.3f}" for u in uas) + f" | **{sum(uas) / len(uas):.3f}** |")
        lines.append("")
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
