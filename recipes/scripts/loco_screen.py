"""Screen training choices for corpora never heard, on frozen-encoder features, before any full training run.

    python recipes/scripts/loco_screen.py --data-dir ../shared/data --output docs/reports/leave_one_corpus_out/screen.json

Each clip of RAVDESS, CREMA-D and TESS is described once by the frozen encoder's utterance statistics
(:func:`ser_hf.train.probe.encoder_statistics`, cached in ``--cache``). For each fold of
``leave-one-corpus-out`` and each choice below, a logistic regression is trained on the fold's training speakers and
scored on its validation speakers (the two training corpora) and on every speaker of the corpus held out (scored on
that corpus's own classes). Clip mode sees one clip; "session" standardizes each speaker's clips by that speaker's
statistics (training speakers too where the choice says so), as session mode would.

Choices: ``plain``; ``corpus_balanced`` (each corpus x emotion cell weighs the same); ``speaker_norm`` (every
speaker standardized by its own statistics in training and in scoring); ``crema_agree`` (CREMA-D training clips
whose voice-only crowd vote disagrees with the acted emotion left out: ``--perceived_only`` in a recipe); ``balanced_agree`` and
``speaker_norm_agree`` (the two together); ``top_layers`` (the
two last layers' statistics only); ``first_layers`` (the embeddings and first two layers only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ser_hf.data.loading import load_corpora
from ser_hf.data.protocols import protocol_corpora
from ser_hf.data.splits import heard_as_acted, load_split
from ser_hf.evaluation.metrics import ser_metrics
from ser_hf.train.probe import encoder_statistics, fit_probe, standardize_by_group

PROTOCOL = "leave-one-corpus-out"
CHOICES = ("plain", "corpus_balanced", "speaker_norm", "crema_agree", "balanced_agree", "speaker_norm_agree",
           "top_layers", "first_layers")


def layer_columns(dims: int, layers: int, keep) -> np.ndarray:
    """Columns of the layers ``keep`` (indices) in :func:`encoder_statistics`' rows of ``layers`` blocks."""
    block = dims // layers
    return np.concatenate([np.arange(i * block, (i + 1) * block) for i in keep])


def ua(model, x, y, names, columns) -> float:
    scores = model.predict_proba(x)
    classes = list(model.classes_)
    masked = np.full((len(x), len(names)), -np.inf)
    for k in columns:
        if k in classes:
            masked[:, k] = scores[:, classes.index(k)]
    return round(ser_metrics(masked.argmax(axis=1), y, names)["ua"], 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--cache", default="outputs/probe_cache")
    parser.add_argument("--backbone", default="whisper-tiny.en")
    parser.add_argument("--choices", nargs="+", default=list(CHOICES), choices=CHOICES)
    parser.add_argument("--output", default="docs/reports/leave_one_corpus_out/screen.json")
    parser.add_argument("--merge", action="store_true", help="add these choices' rows to the --output report's")
    parser.add_argument("--render", action="store_true", help="only write --output's table (.md) from its JSON")
    args = parser.parse_args()
    if args.render:
        return write_table(json.loads(Path(args.output).read_text()), Path(args.output).with_suffix(".md"))

    data_dir = Path(args.data_dir)
    everything = load_corpora(protocol_corpora(PROTOCOL), data_dir, "core7", calm="merge")
    paths = sorted(everything["path"])
    features = encoder_statistics(paths, args.backbone, cache=args.cache)  # once for every fold
    index = {p: i for i, p in enumerate(paths)}
    results = {}
    for fold in (1, 2, 3):
        split, names = load_split(protocol_corpora(PROTOCOL), data_dir, "core7", calm="merge", protocol=PROTOCOL,
                                  fold=fold)
        parts = {part: split[part] for part in ("train", "validation", "test")}
        x = {part: features[[index[p] for p in rows["path"]]] for part, rows in parts.items()}
        y = {part: np.asarray(rows["label"]) for part, rows in parts.items()}
        speakers = {part: np.asarray(rows["speaker"]) for part, rows in parts.items()}
        corpora = np.asarray(parts["train"]["corpus"])
        held_out = parts["test"]["corpus"][0]
        test_columns = sorted(set(y["test"].tolist()))
        layers = 5 if args.backbone == "whisper-tiny.en" else 7
        fold_results = {}
        for choice in args.choices:
            train_x, train_y, weight, keep = x["train"], y["train"], None, slice(None)
            train_corpora, train_speakers = corpora, speakers["train"]
            if choice.endswith("agree"):
                kept = np.array([heard_as_acted(e, p) for e, p in zip(parts["train"]["emotion"], parts["train"]["perceived"])])
                train_x, train_y = train_x[kept], train_y[kept]
                train_corpora, train_speakers = corpora[kept], train_speakers[kept]
            if choice in ("corpus_balanced", "balanced_agree"):
                cells = [f"{c}/{k}" for c, k in zip(train_corpora, train_y)]
                counts = {cell: cells.count(cell) for cell in set(cells)}
                weight = np.array([len(cells) / (len(counts) * counts[cell]) for cell in cells])
            elif choice in ("top_layers", "first_layers"):
                keep = layer_columns(features.shape[1], layers,
                                     range(layers - 2, layers) if choice == "top_layers" else range(3))
            if choice.startswith("speaker_norm"):
                train_x = standardize_by_group(train_x, train_speakers)
            model = fit_probe(train_x[:, keep], train_y, sample_weight=weight)
            row = {}
            for part in ("validation", "test"):
                columns = test_columns if part == "test" else sorted(set(y[part].tolist()))
                session = standardize_by_group(x[part], speakers[part])[:, keep]
                clip = x[part][:, keep]
                if choice.startswith("speaker_norm"):  # clip mode has no speaker statistics: the model's own only
                    row[f"{part}_session"] = ua(model, session, y[part], names, columns)
                else:
                    row[f"{part}_clip"] = ua(model, clip, y[part], names, columns)
            fold_results[choice] = row
            print(fold, held_out, choice, row, flush=True)
        results[f"fold{fold}_{held_out}"] = fold_results
    means = {choice: {key: round(float(np.mean([f[choice][key] for f in results.values()])), 4)
                      for key in next(iter(results.values()))[choice]} for choice in args.choices}
    if args.merge and Path(args.output).is_file():
        earlier = json.loads(Path(args.output).read_text())
        results = {fold: {**earlier["folds"].get(fold, {}), **rows} for fold, rows in results.items()}
        means = {**earlier["mean_over_folds"], **means}
    report = {"probe": f"frozen {args.backbone}, all-layer mean+std, standardized logistic regression (C=0.01)",
              "protocol": PROTOCOL, "folds": results, "mean_over_folds": means}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    write_table(report, Path(args.output).with_suffix(".md"))
    print(json.dumps(means, indent=2))


def write_table(report: dict, path: Path) -> None:
    """The screen as a Markdown table: UA per choice, fold (the corpus held out) and part, and the mean over folds."""
    folds = list(report["folds"])
    lines = [f"<!-- written by recipes/scripts/loco_screen.py from {path.with_suffix('.json').name} -->",
             f"Probe: {report['probe']}; protocol `{report['protocol']}`. UA; `validation` = the training corpora's "
             "validation speakers, `test` = every speaker of the corpus held out (its own classes); `clip` = one clip "
             "at a time, `session` = each speaker's clips standardized by that speaker's statistics.", "",
             "| choice | part | " + " | ".join(f.split("_", 1)[1] + " held out" for f in folds) + " | mean |",
             "|---|---|" + "---:|" * (len(folds) + 1)]
    for choice, means in report["mean_over_folds"].items():
        for key, mean in means.items():
            cells = [f"{report['folds'][f][choice][key]:.3f}" if choice in report["folds"][f] else "" for f in folds]
            lines.append(f"| {choice} | {key.replace('_', ' ')} | " + " | ".join(cells) + f" | **{mean:.3f}** |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
