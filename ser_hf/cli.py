"""The ``ser-hf`` command line: parse arguments, call the library, print.

Every command prints human-readable output by default and JSON with ``--json``. A user mistake is
one line on stderr and exit code 2 (bad usage) or 1 (the job failed); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Sequence

from .errors import SerError

EXIT_FAILED = 1
EXIT_USAGE = 2


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


# --- data -------------------------------------------------------------------------------------------


def cmd_data_summary(args: argparse.Namespace) -> int:
    from .corpora import scan_corpus

    summary = scan_corpus(args.corpus, args.data_dir, strict=args.strict).summary()
    if args.json:
        _print_json(summary)
        return 0
    print(f"{summary['corpus']}: {summary['num_records']} records, {summary['num_speakers']} speakers, "
          f"{summary['duration_s'] / 3600:.2f} h")
    print("\nemotion      records")
    for emotion, count in summary["emotions"].items():
        print(f"{emotion:<12} {count:>7}")
    print("\nspeaker            records")
    for speaker, count in summary["speakers"].items():
        print(f"{speaker:<18} {count:>7}")
    print(f"\nskipped: {len(summary['skipped'])}")
    for item in summary["skipped"]:
        print(f"  {item['path']}: {item['reason']}")
    return 0


def cmd_data_splits(args: argparse.Namespace) -> int:
    from .corpora import load_corpora
    from .protocols import PROTOCOL_CORPORA, describe_splits

    corpora = args.corpus or list(PROTOCOL_CORPORA[args.protocol])
    if not corpora:
        raise SerError("The random protocol needs --corpus NAME.")
    label_set = args.label_set or ("core7" if len(corpora) > 1 else None)
    if label_set is None:
        from .corpora import load_corpus

        dataset = load_corpus(corpora[0], args.data_dir, calm=args.calm)
    else:
        dataset = load_corpora(corpora, args.data_dir, label_set, calm=args.calm)
    described = describe_splits(dataset, args.protocol, allow_random=args.allow_random)
    if args.json:
        _print_json(described)
        return 0
    print(f"{described['protocol']} on {' + '.join(corpora)}: {len(described['folds'])} fold(s)")
    for fold in described["folds"]:
        print(f"\n{fold['name']}")
        for part in ("train", "validation", "test"):
            info = fold[part]
            shown = ", ".join(info["speakers"][:8]) + (" ..." if len(info["speakers"]) > 8 else "")
            print(f"  {part:<10} {info['num_records']:>5} records, {len(info['speakers']):>2} speakers: {shown}")
    return 0


def cmd_data_verify(args: argparse.Namespace) -> int:
    from .verify import verify_download

    report = verify_download(args.corpus, args.data_dir, progress=not args.json)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(f"{report.corpus}: {len(report.matched)} of {report.num_expected} official files match")
        for label, items in (("missing", report.missing), ("extra", report.extra)):
            print(f"{label}: {len(items)}")
            for item in items[:20]:
                print(f"  {item}")
            if len(items) > 20:
                print(f"  ... and {len(items) - 20} more")
        print(f"differing: {len(report.differing)}")
        for item in report.differing[:20]:
            print(f"  {item['file']}: {item['reason']}")
        print("OK" if report.ok else "MISMATCH")
    return 0 if report.ok else EXIT_FAILED


# --- models -----------------------------------------------------------------------------------------


def cmd_convert_whisper(args: argparse.Namespace) -> int:
    from .models.convert_whisper import bundled_whisper_tiny_en, convert_whisper

    source = args.input or bundled_whisper_tiny_en()
    out = convert_whisper(source, args.output, dtype=args.dtype)
    if args.json:
        _print_json({"input": str(source), "output": str(out)})
    else:
        print(f"Converted the Whisper encoder of {source} to {out} (transformers WhisperModel; encoder only)")
    return 0


# --- training ---------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from .train import main as train_main

    return train_main([args.recipe, *args.overrides])


def cmd_crossval(args: argparse.Namespace) -> int:
    from .train import crossval, crossval_markdown

    summary = crossval(args.recipe, args.output_dir, args.overrides)
    if args.json:
        _print_json(summary)
    else:
        print(crossval_markdown(summary))
    return 0


# --- parser -----------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage dumps."""

    def error(self, message: str):  # noqa: D102
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_corpus_args(parser: argparse.ArgumentParser, *, repeat: bool = False) -> None:
    from .corpora import CORPORA

    if repeat:
        parser.add_argument("--corpus", action="append", choices=CORPORA,
                            help="corpus to load (repeatable; default: the protocol's corpora)")
    else:
        parser.add_argument("--corpus", required=True, choices=CORPORA, help="corpus name")
    parser.add_argument("--data-dir", required=True,
                        help="the corpus folder, or a folder holding ravdess/, crema_d/ and tess/")
    parser.add_argument("--json", action="store_true", help="print JSON")


def build_parser() -> argparse.ArgumentParser:
    from .labels import CALM_POLICIES, LABEL_SETS
    from .protocols import PROTOCOLS

    parser = _Parser(prog="ser-hf", description="Speech emotion recognition, the Hugging Face way.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True

    data = commands.add_parser("data", help="inspect, split and verify the corpora")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser)
    data_commands.required = True

    summary = data_commands.add_parser("summary", help="records per emotion and speaker, duration, skipped files")
    _add_corpus_args(summary)
    summary.add_argument("--strict", action="store_true", help="fail if any file is skipped")
    summary.set_defaults(func=cmd_data_summary)

    splits = data_commands.add_parser("splits", help="speakers and records of each part of each fold")
    _add_corpus_args(splits, repeat=True)
    splits.add_argument("--protocol", required=True, choices=PROTOCOLS)
    splits.add_argument("--label-set", choices=list(LABEL_SETS), help="label set (default: the corpus's own)")
    splits.add_argument("--calm", choices=CALM_POLICIES, default="drop", help="RAVDESS calm: drop or merge into neutral")
    splits.add_argument("--allow-random", action="store_true", help="allow the random protocol (speakers leak)")
    splits.set_defaults(func=cmd_data_splits)

    verify = data_commands.add_parser("verify", help="check a download of the official WAV release")
    _add_corpus_args(verify)
    verify.set_defaults(func=cmd_data_verify)

    train = commands.add_parser("train", help="train a model from a YAML recipe (--key value overrides)")
    train.add_argument("recipe", help="YAML recipe, e.g. recipes/cnn_ravdess_6fold.yaml")
    train.add_argument("overrides", nargs=argparse.REMAINDER, help="--key value pairs overriding the recipe")
    train.set_defaults(func=cmd_train)

    cv = commands.add_parser("crossval", help="train and evaluate every fold of the recipe's protocol")
    cv.add_argument("recipe", help="YAML recipe")
    cv.add_argument("--output-dir", required=True, help="folder for fold1/, fold2/, ... and crossval.json")
    cv.add_argument("--json", action="store_true", help="print JSON")
    cv.add_argument("overrides", nargs=argparse.REMAINDER, help="--key value pairs overriding the recipe")
    cv.set_defaults(func=cmd_crossval)

    convert = commands.add_parser("convert-whisper", help="convert a CTranslate2 Whisper folder to transformers")
    convert.add_argument("--input", help="CTranslate2 / faster-whisper folder (default: the bundled tiny.en)")
    convert.add_argument("--output", required=True, help="output folder")
    convert.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                         help="weights' precision (float16 is lossless for tiny.en)")
    convert.add_argument("--json", action="store_true", help="print JSON")
    convert.set_defaults(func=cmd_convert_whisper)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except SerError as err:
        print(f"ser-hf: error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("ser-hf: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
