"""``ser-hf data summary|splits|verify``: inspect, split and verify the corpora."""

from __future__ import annotations

import argparse

from ..data.corpora import corpus_names
from ..data.labels import CALM_POLICIES, LABEL_SETS
from ..data.protocols import protocol_names
from ..models.errors import SerError
from .output import EXIT_FAILED, print_json

DATA_DIR_HELP = ("the corpus folder, or a folder holding ravdess/, crema_d/ and tess/ (default: $SER_HF_DATA, "
                 "else ../shared/data beside the repository)")


def cmd_data_summary(args: argparse.Namespace) -> int:
    from ..data.corpus_scan import scan_corpus

    summary = scan_corpus(args.corpus, args.data_dir, strict=args.strict).summary()
    if args.json:
        print_json(summary)
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
    from ..data.loading import load_corpora, load_corpus
    from ..data.protocols import describe_splits, protocol_corpora

    corpora = args.corpus or list(protocol_corpora(args.protocol))
    if not corpora:
        raise SerError("The random protocol needs --corpus NAME.")
    label_set = args.label_set or ("core7" if len(corpora) > 1 else None)
    if label_set is None:
        dataset = load_corpus(corpora[0], args.data_dir, calm=args.calm)
    else:
        dataset = load_corpora(corpora, args.data_dir, label_set, calm=args.calm)
    described = describe_splits(dataset, args.protocol, allow_random=args.allow_random)
    if args.json:
        print_json(described)
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
    from ..data.verify import verify_download

    report = verify_download(args.corpus, args.data_dir, progress=not args.json)
    if args.json:
        print_json(report.to_dict())
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


def add_corpus_args(parser: argparse.ArgumentParser, *, repeat: bool = False) -> None:
    if repeat:
        parser.add_argument("--corpus", action="append", choices=corpus_names(),
                            help="corpus to load (repeatable; default: the protocol's corpora)")
    else:
        parser.add_argument("--corpus", required=True, choices=corpus_names(), help="corpus name")
    parser.add_argument("--data-dir", default=None, help=DATA_DIR_HELP)
    parser.add_argument("--json", action="store_true", help="print JSON")


def add_commands(commands, parser_class) -> None:
    data = commands.add_parser("data", help="inspect, split and verify the corpora")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=parser_class)
    data_commands.required = True

    summary = data_commands.add_parser("summary", help="records per emotion and speaker, duration, skipped files")
    add_corpus_args(summary)
    summary.add_argument("--strict", action="store_true", help="fail if any file is skipped")
    summary.set_defaults(func=cmd_data_summary)

    splits = data_commands.add_parser("splits", help="speakers and records of each part of each fold")
    add_corpus_args(splits, repeat=True)
    splits.add_argument("--protocol", required=True, choices=protocol_names())
    splits.add_argument("--label-set", choices=list(LABEL_SETS), help="label set (default: the corpus's own)")
    splits.add_argument("--calm", choices=CALM_POLICIES, default="drop", help="RAVDESS calm: drop or merge into neutral")
    splits.add_argument("--allow-random", action="store_true", help="allow the random protocol (speakers leak)")
    splits.set_defaults(func=cmd_data_splits)

    verify = data_commands.add_parser("verify", help="check a download of the official WAV release")
    add_corpus_args(verify)
    verify.set_defaults(func=cmd_data_verify)
