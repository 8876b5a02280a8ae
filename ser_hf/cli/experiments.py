"""``ser-hf train|crossval|baseline|evaluate|crosscorpus|convert-whisper``: experiments and their models."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.corpora import corpus_names, multi_corpus_names
from ..data.labels import CALM_POLICIES, LABEL_SETS
from ..data.protocols import protocol_names
from ..models.errors import SerError
from .data import DATA_DIR_HELP
from .output import print_json
from .serving import THREADS_HELP


def print_run(results: dict, output_dir: str | Path, as_json: bool) -> None:
    """A finished run: its whole ``metrics.json`` with ``--json``, else one line of test (or validation) figures."""
    if as_json:
        print_json(results)
        return
    if "test" not in results and "validation" not in results:  # a cross-validation summary
        from ..evaluation.crossval import crossval_markdown

        print(crossval_markdown(results))
        return
    part = "test" if results.get("test") else "validation"
    m = results[part]
    print(f"{part} UA {m['ua']:.3f}  WA {m['wa']:.3f}  macro F1 {m['macro_f1']:.3f}"
          + (f"  ({m['num_records']} clips)" if "num_records" in m else "") + f"; results in {output_dir}")


TRAIN_OPTIONS = {"--data": 1, "--from": 1, "--strict": 0, "--json": 0}


def train_overrides(argv: list[str]) -> tuple[str | None, list[str]]:
    """``(recipe, overrides)`` from the words after ``train``: the recipe only when it comes first (argparse would
    take the value of a later ``--key value`` override for it), the overrides being every word but ``train``'s own
    options."""
    words = argv[argv.index("train") + 1:]
    recipe = words.pop(0) if words and not words[0].startswith("-") else None
    overrides, i = [], 0
    while i < len(words):
        name = words[i].split("=", 1)[0]
        if name in TRAIN_OPTIONS:
            i += 1 + (TRAIN_OPTIONS[name] if "=" not in words[i] else 0)
            continue
        overrides.append(words[i])
        i += 1
    return recipe, overrides


def cmd_train(args: argparse.Namespace) -> int:
    from ..train.recipes import parse_recipe
    from ..train.run import train

    args.recipe, args.overrides = train_overrides(args.argv)
    if args.recipe is None and args.data is None:
        raise SerError("Pass a recipe (for example recipes/cnn_ravdess_6fold.yaml) or --data DIR (your own labelled "
                       "recordings).")
    own = (["--dataset", args.data] if args.data else []) + (["--model", args.from_model] if args.from_model else []) \
        + (["--strict", "true"] if args.strict else [])
    run = parse_recipe(args.recipe, [*args.overrides, *own])
    print_run(train(run), run.training.output_dir, args.json)
    return 0


def cmd_crossval(args: argparse.Namespace) -> int:
    from ..evaluation.crossval import crossval_markdown
    from ..train.crossval import crossval

    summary = crossval(args.recipe, args.output_dir, args.overrides, rerun=args.rerun)
    if args.json:
        print_json(summary)
    else:
        print(crossval_markdown(summary))
    return 0


def left_out_sentence(left_out: dict, calm: str | None) -> str:
    from ..evaluation.reports import left_out_sentence as sentence

    return sentence(left_out, calm)


def print_robustness(results: dict | None, indent: str = "") -> None:
    for condition, m in (results or {}).items():
        print(f"{indent}{condition:<14} UA {m['ua']:.3f}  WA {m['wa']:.3f}  no speech {m['no_speech']}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..evaluation.evaluate import evaluate_model, evaluate_on_data, evaluate_per_corpus

    if (args.corpus is None) == (args.data is None):
        raise SerError("Pass either --corpus NAME (a corpus) or --data DIR (your own labelled recordings).")
    if args.part == "all" and not args.data:
        raise SerError("--part all scores every clip of --data; a corpus is scored whole without --protocol.")
    if args.data:
        metrics = evaluate_on_data(args.model, args.data, args.output_dir, part=args.part, seed=args.seed,
                                   strict=args.strict, progress=not args.json, vad=args.vad, backend=args.backend,
                                   threads=args.threads)
    elif args.corpus == "all":
        if not args.protocol:
            raise SerError("--corpus all scores each corpus of a protocol's test fold; pass --protocol too.")
        results = evaluate_per_corpus(args.model, args.data_dir, args.output_dir, protocol=args.protocol,
                                      fold=args.fold, label_set=args.label_set, calm=args.calm, progress=not args.json,
                                      vad=args.vad, conditions=args.conditions, backend=args.backend,
                                      part=args.part, threads=args.threads)
        if args.json:
            print_json(results)
        else:
            for corpus, m in results.items():
                print(f"{corpus}: UA {m['ua']:.3f}  WA {m['wa']:.3f}  macro F1 {m['macro_f1']:.3f}  ({m['num_records']} clips)")
                print_robustness(m.get("robustness"), indent="  ")
            print(f"Reports: {Path(args.output_dir)}/<corpus>/report.md")
        return 0
    else:
        metrics = evaluate_model(args.model, args.corpus, args.data_dir, args.output_dir, protocol=args.protocol,
                                 fold=args.fold, label_set=args.label_set, calm=args.calm, progress=not args.json,
                                 vad=args.vad, conditions=args.conditions, backend=args.backend, part=args.part,
                                 threads=args.threads)
    if args.json:
        print_json({k: metrics[k] for k in ("ua", "wa", "macro_f1", "weighted_f1", "num_records")})
    else:
        print(f"UA {metrics['ua']:.3f}  WA {metrics['wa']:.3f}  macro F1 {metrics['macro_f1']:.3f}  "
              f"weighted F1 {metrics['weighted_f1']:.3f}  ({metrics['num_records']} clips)")
        if metrics.get("left_out"):
            print(left_out_sentence(metrics["left_out"], metrics.get("calm")))
        print_robustness(metrics.get("robustness"))
        print(f"Report: {Path(args.output_dir) / 'report.md'}; every clip: {Path(args.output_dir) / 'predictions.jsonl'}")
    return 0


def cmd_crosscorpus(args: argparse.Namespace) -> int:
    from ..evaluation.cross_corpus import cross_corpus

    if args.baseline == bool(args.model):
        raise SerError("Pass either --model CORPUS=FOLDER (repeatable) or --baseline.")
    if args.baseline:
        from ..train.baseline import cross_corpus_baseline

        summary = cross_corpus_baseline(list(multi_corpus_names()), args.data_dir, args.output_dir, args.label_set)
    else:
        models = {}
        for item in args.model:
            corpus, _, folder = item.partition("=")
            if not folder:
                raise SerError(f"--model takes CORPUS=FOLDER, got {item!r}.")
            models[corpus] = folder
        summary = cross_corpus(models, args.data_dir, args.output_dir, args.label_set, progress=not args.json)
    if args.json:
        print_json(summary)
    else:
        print((Path(args.output_dir) / "cross_corpus.md").read_text())
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from ..train.baseline import crossval_baseline, parse_baseline_recipe, run_baseline

    data, options = parse_baseline_recipe([args.recipe, *args.overrides])
    try:
        results = crossval_baseline(data, options, options.output_dir) if options.crossval else \
            run_baseline(data, options)
    except FileNotFoundError as err:
        raise SerError(str(err)) from None
    print_run(results, options.output_dir, args.json)
    return 0


def cmd_convert_whisper(args: argparse.Namespace) -> int:
    from ..models.convert_whisper import convert_whisper

    source = args.input or "whisper-tiny.en"
    out = convert_whisper(source, args.output, dtype=args.dtype)
    if args.json:
        print_json({"input": str(source), "output": str(out)})
    else:
        print(f"Converted the Whisper encoder of {source} to {out} (transformers WhisperModel; encoder only)")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..evaluation.calibrate import calibrate_model

    result = calibrate_model(args.model, args.data_dir, protocol=args.protocol, fold=args.fold, calm=args.calm,
                             label_set=args.label_set, write=args.write, progress=not args.json,
                             keep_temperature=args.keep_temperature, session_head=args.session_head,
                             vad=args.vad)
    if args.json:
        print_json(result)
    else:
        print(f"temperature {result['temperature']:g} on {result['num_records']} clips of the validation speakers of "
              f"{result['protocol']} fold {result['fold']} (UA {result['ua']:.3f}): expected calibration error "
              f"{result['ece_before']:.3f} -> {result['ece_after']:.3f}"
              + ("; session head fitted on the training speakers" if args.session_head else "")
              + ("; written to config.json" if args.write else ""))
    return 0


def add_commands(commands, parser_class) -> None:
    train = commands.add_parser("train", help="train a model from a YAML recipe, or fine-tune one on your recordings",
                                epilog="Any --key value after the recipe overrides that field of the recipe.")
    train.add_argument("recipe", nargs="?", help="YAML recipe, e.g. recipes/cnn_ravdess_6fold.yaml (default with "
                                                 "--data: the fine-tuning recipe ser_hf/train/own_data.yaml)")
    train.add_argument("--data", metavar="DIR", help="your own labelled recordings: a folder with one subfolder per "
                                                      "label or a metadata.csv, a CSV manifest, a saved Dataset")
    train.add_argument("--from", dest="from_model", metavar="MODEL",
                       help="the model to fine-tune: default, compact or a trained folder (default: the recipe's)")
    train.add_argument("--strict", action="store_true", help="fail when a file of --data cannot be read")
    train.add_argument("--json", action="store_true", help="print the run's metrics.json")
    train.set_defaults(func=cmd_train, takes_overrides=True)

    cv = commands.add_parser("crossval", help="train and evaluate every fold of the recipe's protocol")
    cv.add_argument("recipe", help="YAML recipe")
    cv.add_argument("--output-dir", required=True, help="folder for fold1/, fold2/, ... and crossval.json")
    cv.add_argument("--json", action="store_true", help="print JSON")
    cv.add_argument("--rerun", action="store_true", help="train folds again even when their metrics.json exists")
    cv.set_defaults(func=cmd_crossval, takes_overrides=True)

    evaluate = commands.add_parser("evaluate", help="score a model on a corpus or a fold; write a report")
    evaluate.add_argument("--model", default=None, help="model folder, or 'compact' (default: the bundled model)")
    evaluate.add_argument("--corpus", choices=[*corpus_names(), "all"],
                          help="'all': each corpus of --protocol's test fold, one report each")
    evaluate.add_argument("--data", metavar="DIR", help="your own labelled recordings instead of a corpus (a folder "
                                                         "with one subfolder per label or a metadata.csv, a CSV "
                                                         "manifest, a saved Dataset)")
    evaluate.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    evaluate.add_argument("--protocol", choices=protocol_names(), help="score only this protocol's test fold")
    evaluate.add_argument("--fold", type=int, default=1)
    evaluate.add_argument("--part", choices=["test", "validation", "all"], default="test",
                          help="the protocol's (or --data's split's) speakers to score: test (default), validation "
                               "for tuning, or all of --data")
    evaluate.add_argument("--seed", type=int, default=None,
                          help="--data: the seed of its split (default: the model's training seed)")
    evaluate.add_argument("--strict", action="store_true", help="--data: fail when a file cannot be read")
    evaluate.add_argument("--label-set", choices=list(LABEL_SETS), help="default: the model's labels the corpus has")
    evaluate.add_argument("--calm", choices=CALM_POLICIES, default=None,
                          help="RAVDESS calm outside the model's labels: drop or merge into neutral (default: the "
                               "model's own choice, from its recipe.yaml; else drop)")
    evaluate.add_argument("--vad", action=argparse.BooleanOptionalAction, default=True,
                          help="the speech gate of `predict`: Silero VAD as well as the energy gate (default: on)")
    evaluate.add_argument("--conditions", type=lambda text: [c for c in text.split(",") if c], default=None,
                          metavar="LIST", help="also score under each condition, e.g. clean,noise:10,noise:0,reverb,"
                                               "telephone,quiet:-30,codec (writes robustness.json and a plot)")
    evaluate.add_argument("--backend", choices=["torch", "onnx", "onnx-int8"], default="torch",
                          help="run the model with torch or ONNX Runtime (fp32 or int8)")
    evaluate.add_argument("--threads", type=int, default=1, help=THREADS_HELP)
    evaluate.add_argument("--output-dir", required=True)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=cmd_evaluate)

    calibrate = commands.add_parser("calibrate", help="fit a model's temperature on validation speakers")
    calibrate.add_argument("--model", default=None, help="model folder, or 'compact' (default: the bundled model)")
    calibrate.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    calibrate.add_argument("--protocol", choices=protocol_names(), default="multi-corpus")
    calibrate.add_argument("--fold", type=int, default=1)
    calibrate.add_argument("--label-set", choices=list(LABEL_SETS), help="default: core7")
    calibrate.add_argument("--calm", choices=CALM_POLICIES, default="merge")
    calibrate.add_argument("--write", action="store_true", help="store the temperature and session mode's population "
                                                                "statistics in the model's config.json")
    calibrate.add_argument("--keep-temperature", action="store_true",
                           help="keep the model's temperature: fit (and write) session mode's statistics only")
    calibrate.add_argument("--vad", action=argparse.BooleanOptionalAction, default=True,
                           help="the speech gate's voice activity detection (--no-vad: the energy gate alone)")
    calibrate.add_argument("--session-head", action="store_true",
                           help="also fit session mode's head on the training speakers' embeddings (scores them all)")
    calibrate.add_argument("--json", action="store_true")
    calibrate.set_defaults(func=cmd_calibrate)

    crosscorpus = commands.add_parser("crosscorpus", help="train-corpus x test-corpus UA matrix and heatmap")
    crosscorpus.add_argument("--baseline", action="store_true",
                             help="the MFCC-statistics SVM, trained on fold 1 of each corpus's protocol")
    crosscorpus.add_argument("--model", action="append", metavar="CORPUS=FOLDER",
                             help="a model trained on CORPUS (repeat for each corpus)")
    crosscorpus.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    crosscorpus.add_argument("--label-set", choices=list(LABEL_SETS), default="core6")
    crosscorpus.add_argument("--output-dir", required=True)
    crosscorpus.add_argument("--json", action="store_true")
    crosscorpus.set_defaults(func=cmd_crosscorpus)

    baseline = commands.add_parser("baseline", help="the MFCC-statistics SVM baseline from a recipe")
    baseline.add_argument("recipe", help="e.g. recipes/baseline_ravdess_6fold.yaml")
    baseline.add_argument("--json", action="store_true", help="print the results as JSON")
    baseline.set_defaults(func=cmd_baseline, takes_overrides=True)

    convert = commands.add_parser("convert-whisper", help="convert a CTranslate2 Whisper folder to transformers")
    convert.add_argument("--input", help="CTranslate2 / faster-whisper folder (model.bin, or model.bin.part1, part2, "
                                         "...), or whisper-tiny.en / whisper-base for the packaged weights (default: "
                                         "whisper-tiny.en)")
    convert.add_argument("--output", required=True, help="output folder")
    convert.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                         help="weights' precision (float16 is lossless for tiny.en)")
    convert.add_argument("--json", action="store_true", help="print JSON")
    convert.set_defaults(func=cmd_convert_whisper)
