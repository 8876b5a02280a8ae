"""One source for the figures the docs repeat: blocks of Markdown generated from the JSON that measured them.

A block in a Markdown file is written between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``; this script
renders each NAME from the shipped models' JSON (``ser_hf/pretrained/*/per_corpus.json``, ``metrics.json``), the
cross-validation summaries (``docs/reports/*_crossval``), the benchmark (``docs/reports/bench.json``) and the
targets (``docs/reports/targets.json``), and rewrites the block. ``tests/test_docs.py`` runs ``--check``.

    python utils/figures.py           # rewrite every block
    python utils/figures.py --check   # exit 1 and name the blocks that differ from their JSON
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "docs" / "reports"
CORPORA = ("ravdess", "crema_d", "tess")
NAMES = {"ravdess": "RAVDESS", "crema_d": "CREMA-D", "tess": "TESS"}
MODELS = {"default": "default: Whisper tiny.en + head, distilled from Whisper base, fine-tuned on degraded speech",
          "compact": "compact: CNN, distilled from the default under the same degradations"}
# The folds' recipe where it is not the shipped model's: both cross-validations are the previous recipes'.
CROSSVAL_RECIPE = {"default": "the previous default's recipe (no teacher)",
                   "compact": "the previous compact's recipe (its teacher without one)"}
BASELINES = {"ravdess": "baseline_ravdess_6fold", "crema_d": "baseline_crema_d_speakers",
             "tess": "baseline_tess_cross_speaker"}
BLOCK = re.compile(r"(<!-- figures:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /figures:(?P=name) -->)", re.S)


@cache
def read(path: Path) -> dict:
    return json.loads(path.read_text())


def shipped(model: str) -> dict:
    """``{corpus: per-corpus metrics}`` of a shipped model's test speakers (its ``per_corpus.json``)."""
    return read(ROOT / "ser_hf" / "pretrained" / model / "per_corpus.json")


def crossval(folder: str, corpus: str | None = None) -> dict:
    """A cross-validation summary: ``{"ua": {"mean", "std"}, ...}``."""
    return read(REPORTS / folder / (f"{corpus}/crossval.json" if corpus else "crossval.json"))


def bench(model: str) -> dict:
    return read(REPORTS / "bench.json")["models"][model]


def targets(model: str) -> dict:
    return read(REPORTS / "targets.json")[model]


def mean_std(summary: dict, key: str = "ua", sep: str = "+-") -> str:
    return f"{summary[key]['mean']:.3f} {sep} {summary[key]['std']:.3f}"


def key_figures() -> str:
    """The README's table: each shipped model per corpus, its recipe over the folds, the baseline, speed and size."""
    rows = ["| model | RAVDESS | CREMA-D | TESS | speed, 3 s clip, 1 CPU thread | size |",
            "|---|---:|---:|---:|---:|---:|"]
    for model, what in MODELS.items():
        per_corpus, speed = shipped(model), bench(model)
        rows.append(f"| {what} | " + " | ".join(f"{per_corpus[c]['ua']:.3f}" for c in CORPORA)
                    + f" | {speed['infer_ms_3s']:.1f} ms | {speed['model_size_mb']:.1f} MB |")
        rows.append(f"| {CROSSVAL_RECIPE[model]} on `multi-corpus` folds 1-3 (mean +- std) | "
                    + " | ".join(mean_std(crossval(f"{model}_multi_corpus_crossval", c)) for c in CORPORA) + " | | |")
    rows.append("| MFCC-statistics SVM baseline (all folds) | "
                + " | ".join(mean_std(crossval(BASELINES[c])) for c in CORPORA) + " | | |")
    return "\n".join(rows) + "\n"


def target_sentence() -> str:
    """The targets, as one sentence."""
    def line(model):
        return " / ".join(f"{targets(model)[c]:.2f}" for c in CORPORA)
    return (f"The targets (RAVDESS / CREMA-D / TESS, mean over the folds: {line('default')} for the default, "
            f"{line('compact')} for the compact) are missed.\n")


def results_table(model: str) -> str:
    """The model card's table of a shipped model's test speakers: pooled, then per corpus against its target."""
    test, per_corpus = read(ROOT / "ser_hf" / "pretrained" / model / "metrics.json")["test"], shipped(model)
    rows = ["| test set (multi-corpus fold 1) | classes | UA | WA | macro F1 | clips | target |",
            "|---|---:|---:|---:|---:|---:|---|",
            f"| all three corpora pooled | {len(test['labels'])} | **{test['ua']:.3f}** | {test['wa']:.3f} | "
            f"{test['macro_f1']:.3f} | {test['num_records']:,} | |"]
    for corpus in CORPORA:
        m, target = per_corpus[corpus], targets(model)[corpus]
        verdict = "met" if m["ua"] >= target else f"missed by {100 * (target - m['ua']):.1f} points"
        rows.append(f"| {NAMES[corpus]} | {len(m['labels'])} | **{m['ua']:.3f}** | {m['wa']:.3f} | {m['macro_f1']:.3f} | "
                    f"{m['num_records']:,} | {target:.2f}: {verdict} |")
    return "\n".join(rows) + "\n"


def crossval_table(model: str) -> str:
    """The model card's cross-validation rows of a shipped model's recipe, against the targets."""
    rows = ["| corpus | fold 1 | fold 2 | fold 3 | mean +- std | target |", "|---|---:|---:|---:|---:|---|"]
    for corpus in CORPORA:
        summary = crossval(f"{model}_multi_corpus_crossval", corpus)
        folds = " | ".join(f"{f['ua']:.3f}" for f in summary["folds"])
        target = targets(model)[corpus]
        verdict = "met" if summary["ua"]["mean"] >= target else "missed"
        rows.append(f"| {NAMES[corpus]} | {folds} | {mean_std(summary)} | {target:.2f}: {verdict} |")
    return "\n".join(rows) + "\n"


def comparison_table() -> str:
    """The comparison's table: the shipped models (fold 1 and their recipe over folds 1-3), the baseline, the targets."""
    lines = ["| model | RAVDESS | CREMA-D | TESS | speed, 3 s clip, 1 thread | size |", "|---|---|---|---|---:|---:|"]
    for model, what in MODELS.items():
        per_corpus, speed = shipped(model), bench(model)
        lines.append(f"| **{what}** (fold 1) | " + " | ".join(
            f"**{per_corpus[c]['ua']:.3f}** ({len(per_corpus[c]['labels'])} classes)" for c in CORPORA)
            + f" | {speed['infer_ms_3s']:.1f} ms | {speed['model_size_mb']:.1f} MB |")
        lines.append(f"| {CROSSVAL_RECIPE[model]}, folds 1-3 | " + " | ".join(
            mean_std(crossval(f"{model}_multi_corpus_crossval", c), sep="±") for c in CORPORA) + " | | |")
    lines.append("| **baseline**: MFCC-statistics SVM, each corpus's own protocol | " + " | ".join(
        f"{mean_std(crossval(BASELINES[c]), sep='±')} ({len(crossval(BASELINES[c])['folds'])} folds)" for c in CORPORA)
        + " | | |")
    for model in MODELS:
        t = targets(model)
        lines.append(f"| *targets, {model}* | " + " | ".join(f"*{t[c]:.2f}*" for c in CORPORA)
                     + f" | *{t['speed_ms']} ms* | *{t['size_mb']} MB* |")
    return "\n".join(lines) + "\n"


LOCO_REPORTS = {"ravdess": "distil_fold1_ravdess", "crema_d": "distil_fold2_crema_d", "tess": "distil_fold3_tess"}


def unseen_corpus_sentence() -> str:
    """The default recipe on ``leave-one-corpus-out``: each corpus scored by a model that never heard any of it."""
    ua = {c: read(REPORTS / "leave_one_corpus_out" / LOCO_REPORTS[c] / "metrics.json")["ua"] for c in CORPORA}
    link = "[leave-one-corpus-out](docs/reports/leave_one_corpus_out/README.md)"
    return ("On a corpus never heard in training, expect far less: the default's recipe (before its fine-tuning on "
            f"degraded speech) trained on two of the corpora and tested on every speaker of the third ({link}) scores "
            + ", ".join(f"{NAMES[c]} {ua[c]:.3f}" for c in CORPORA)
            + f" UA (mean {sum(ua.values()) / len(ua):.3f}). Your own recordings are likelier to score near these "
            "figures than near the table's.\n")


def bench_table() -> str:
    """``ser-hf bench``'s figures, one column per model and backend (``docs/reports/bench.json``)."""
    columns = [(model, backend, b) for model in MODELS for backend, b in bench(model)["backends"].items()]
    rows = [("inference, 3 s clip (ms)", lambda b: f"{b['infer_ms_3s']:.1f}" if b["infer_ms_3s"] >= 10 else f"{b['infer_ms_3s']:.2f}"),
            ("speed-up against wav2vec2-base", lambda b: f"{b['speedup_vs_wav2vec2_base']:.1f}x" if b["speedup_vs_wav2vec2_base"] < 100 else f"{b['speedup_vs_wav2vec2_base']:.0f}x"),
            ("batched, 16 clips (x real time)", lambda b: f"{b['infer_x_realtime_batched']:.0f}"),
            ("streaming update with the VAD (ms)", lambda b: f"{b['stream_update_with_vad_ms']:.1f}"),
            ("streaming update / 3 s clip", lambda b: f"{b['stream_update_x_clip']:.2f}x"),
            ("cold start (s)", lambda b: f"{b['cold_start_s']:.1f}"),
            ("features (x real time)", lambda b: f"{b['feature_x_realtime']:.0f}")]
    lines = ["| | " + " | ".join(f"{m} {backend}" for m, backend, _ in columns) + " |",
             "|---|" + "---:|" * len(columns)]
    lines += [f"| {name} | " + " | ".join(cell(b) for _, _, b in columns) + " |" for name, cell in rows]
    lines.append("| size (MB) | " + " | ".join(f"{bench(m)['model_size_mb']:.2f}" for m, _, _ in columns) + " |")
    return "\n".join(lines) + "\n"


def robustness_table(model: str) -> str:
    """The shipped model's card table of UA under each ``ser-hf evaluate --conditions`` condition, and its ECE."""
    from ser_hf.hub.card import conditions_table

    per_corpus = shipped(model)
    temperature = read(ROOT / "ser_hf" / "pretrained" / model / "config.json")["calibration_temperature"]
    return (conditions_table(per_corpus) + "\n\nExpected calibration error on the test speakers at the model's temperature "
            f"{temperature:.4f}: " + ", ".join(f"{NAMES[c]} {per_corpus[c]['robustness']['clean']['ece']:.3f}"
                                               for c in CORPORA) + ".\n")


RENDERERS = {
    "default-robustness": lambda: robustness_table("default"),
    "compact-robustness": lambda: robustness_table("compact"),
    "key-figures": key_figures,
    "targets": target_sentence,
    "default-results": lambda: results_table("default"),
    "compact-results": lambda: results_table("compact"),
    "default-crossval": lambda: crossval_table("default"),
    "compact-crossval": lambda: crossval_table("compact"),
    "bench": bench_table,
    "comparison": comparison_table,
    "unseen-corpus": unseen_corpus_sentence,
}


def render(text: str, where: str = "") -> str:
    """``text`` with every figures block rewritten; an unknown block name is an error."""
    def block(match: re.Match) -> str:
        name = match["name"]
        if name not in RENDERERS:
            raise SystemExit(f"{where}: unknown figures block {name!r}; known: {', '.join(RENDERERS)}.")
        return match.group(1) + RENDERERS[name]() + match.group(4)
    return BLOCK.sub(block, text)


def markdown_files() -> list[Path]:
    skip = {".venv", "outputs", "node_modules", ".git"}
    return sorted(p for p in ROOT.rglob("*.md") if not skip & set(p.relative_to(ROOT).parts))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a block is out of date")
    args = parser.parse_args(argv)
    stale = []
    for path in markdown_files():
        text = path.read_text()
        if "<!-- figures:" not in text:
            continue
        new = render(text, str(path.relative_to(ROOT)))
        if new != text:
            stale.append(str(path.relative_to(ROOT)))
            if not args.check:
                path.write_text(new)
    if stale:
        print(("Out of date (run python utils/figures.py): " if args.check else "Rewrote: ") + ", ".join(stale))
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
