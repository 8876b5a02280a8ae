"""The ``ser-hf`` command line: parse arguments, call the library, print.

Every command prints human-readable output by default and JSON with ``--json``. A user mistake is
one line on stderr and exit code 2 (bad usage) or 1 (the job failed); never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
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

    summary = crossval(args.recipe, args.output_dir, args.overrides, rerun=args.rerun)
    if args.json:
        _print_json(summary)
    else:
        print(crossval_markdown(summary))
    return 0


# --- evaluation -------------------------------------------------------------------------------------


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate_model, evaluate_per_corpus

    if args.corpus == "all":
        if not args.protocol:
            raise SerError("--corpus all scores each corpus of a protocol's test fold; pass --protocol too.")
        results = evaluate_per_corpus(args.model, args.data_dir, args.output_dir, protocol=args.protocol,
                                      fold=args.fold, label_set=args.label_set, calm=args.calm, progress=not args.json)
        if args.json:
            _print_json(results)
        else:
            for corpus, m in results.items():
                print(f"{corpus}: UA {m['ua']:.3f}  WA {m['wa']:.3f}  macro F1 {m['macro_f1']:.3f}  ({m['num_records']} clips)")
            print(f"Reports: {Path(args.output_dir)}/<corpus>/report.md")
        return 0
    metrics = evaluate_model(args.model, args.corpus, args.data_dir, args.output_dir, protocol=args.protocol,
                             fold=args.fold, label_set=args.label_set, calm=args.calm, progress=not args.json)
    if args.json:
        _print_json({k: metrics[k] for k in ("ua", "wa", "macro_f1", "weighted_f1", "num_records")})
    else:
        print(f"UA {metrics['ua']:.3f}  WA {metrics['wa']:.3f}  macro F1 {metrics['macro_f1']:.3f}  "
              f"weighted F1 {metrics['weighted_f1']:.3f}  ({metrics['num_records']} clips)")
        print(f"Report: {Path(args.output_dir) / 'report.md'}")
    return 0


def cmd_crosscorpus(args: argparse.Namespace) -> int:
    from .evaluation import cross_corpus

    if args.baseline == bool(args.model):
        raise SerError("Pass either --model CORPUS=FOLDER (repeatable) or --baseline.")
    if args.baseline:
        from .baseline import cross_corpus_baseline

        summary = cross_corpus_baseline(["ravdess", "crema_d", "tess"], args.data_dir, args.output_dir, args.label_set)
    else:
        models = {}
        for item in args.model:
            corpus, _, folder = item.partition("=")
            if not folder:
                raise SerError(f"--model takes CORPUS=FOLDER, got {item!r}.")
            models[corpus] = folder
        summary = cross_corpus(models, args.data_dir, args.output_dir, args.label_set, progress=not args.json)
    if args.json:
        _print_json(summary)
    else:
        print((Path(args.output_dir) / "cross_corpus.md").read_text())
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from .baseline import main as baseline_main

    return baseline_main([args.recipe, *args.overrides])


# --- inference --------------------------------------------------------------------------------------


def _audio_files(inputs: list[str]) -> list[str]:
    from .audio import AUDIO_EXTENSIONS

    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            files += sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
        else:
            files.append(item)
    return files


def cmd_predict(args: argparse.Namespace) -> int:
    from .inference import EmotionRecognizer

    recognizer = EmotionRecognizer.from_pretrained(args.model, window_s=args.window, hop_s=args.hop, vad=args.vad)
    files = _audio_files(args.inputs)
    if not files:
        raise SerError(f"No audio files found in {', '.join(args.inputs)}.")
    records, failed = [], 0
    for path in files:
        try:
            records.append(recognizer.predict(path, top_k=args.top_k).to_dict())
        except SerError as err:
            failed += 1
            records.append({"path": path, "error": str(err)})
            print(f"ser-hf: error: {err}", file=sys.stderr)
    if args.format == "json":
        _print_json(records)
    elif args.format == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(["path", "label", "score", "error"])
        for r in records:
            writer.writerow([r["path"], r.get("label", ""), f"{r['scores'].get(r['label'], 0):.4f}" if "label" in r and
                             r["scores"] else "", r.get("error", "")])
    else:
        width = max(len(r["path"]) for r in records)
        for r in records:
            if "error" in r:
                print(f"{r['path']:<{width}}  ERROR")
                continue
            top = ", ".join(f"{k} {v:.2f}" for k, v in list(r["scores"].items())[:3])
            print(f"{r['path']:<{width}}  {r['label']:<10} {top}")
            for seg in r["segments"]:
                print(f"{'':<{width}}    {seg['start']:7.2f}-{seg['end']:7.2f} s  {seg['label']}")
    return EXIT_FAILED if failed else 0


def _print_update(update, as_json: bool) -> None:
    if as_json:
        print(json.dumps(update.to_dict()), flush=True)
    else:
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(update.scores.items())[:3])
        print(f"{update.time:8.2f} s  {update.label:<10} {top}", flush=True)


def cmd_stream(args: argparse.Namespace) -> int:
    import time as _time

    import soundfile as sf

    from .inference import EmotionRecognizer
    from .streaming import StreamingRecognizer

    stream = StreamingRecognizer(EmotionRecognizer.from_pretrained(args.model), window_s=args.window,
                                 hop_s=args.hop, vad=args.vad, smoothing=args.smoothing)
    try:
        info = sf.info(args.file)
        blocks = sf.blocks(args.file, blocksize=int(info.samplerate * args.chunk), dtype="float32", always_2d=True)
        start = _time.monotonic()
        played = 0.0
        for block in blocks:
            for update in stream.push(block, info.samplerate):
                _print_update(update, args.json)
            played += len(block) / info.samplerate
            if args.realtime:
                _time.sleep(max(0.0, played - (_time.monotonic() - start)))
        for update in stream.flush():
            _print_update(update, args.json)
    except (sf.LibsndfileError, RuntimeError) as err:
        raise SerError(f"Cannot read {args.file} as audio ({str(err).strip()}).") from None
    return 0


def cmd_listen(args: argparse.Namespace) -> int:
    from .inference import EmotionRecognizer
    from .streaming import StreamingRecognizer

    try:
        import sounddevice as sd
    except ImportError:
        raise SerError("Listening needs the sounddevice package: pip install 'ser-hf[mic]', or use "
                       "`ser-hf stream FILE` without a microphone.") from None
    except OSError:
        raise SerError("No audio input: the PortAudio library is missing (Debian: apt-get install libportaudio2); "
                       "use `ser-hf stream FILE` without a microphone.") from None
    try:
        device = sd.query_devices(kind="input")
    except Exception:
        raise SerError("No audio input device found; connect a microphone or use `ser-hf stream FILE`.") from None
    rate = int(device["default_samplerate"])
    stream = StreamingRecognizer(EmotionRecognizer.from_pretrained(args.model), window_s=args.window,
                                 hop_s=args.hop, vad=args.vad, smoothing=args.smoothing)
    print(f"Listening on {device['name']} at {rate} Hz; Ctrl-C stops.", file=sys.stderr)
    with sd.InputStream(samplerate=rate, channels=1, dtype="float32", blocksize=int(rate * 0.1)) as mic:
        deadline = None if not args.seconds else args.seconds * rate
        heard = 0
        while deadline is None or heard < deadline:
            block, _ = mic.read(int(rate * 0.1))
            heard += len(block)
            for update in stream.push(block, rate):
                _print_update(update, args.json)
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from .hub import push

    if not args.space and not args.model:
        raise SerError("ser-hf push needs --model DIR|default|compact (or --space to publish the Space).")
    result = push(args.model, args.repo_id, private=args.private, dry_run=args.dry_run, space=args.space)
    if args.json:
        _print_json(result)
    elif args.dry_run:
        print(f"Wrote {len(result['files'])} files to {result['folder']} (nothing was sent):")
        for name in result["files"]:
            print(f"  {name}")
    else:
        print(f"Uploaded {len(result['files'])} files to {args.repo_id}: {result['url']}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import BUNDLED_MODELS, ModelPool, build_demo

    pool = ModelPool({Path(m).name or m: m for m in args.model} if args.model else BUNDLED_MODELS)
    for name in pool.names:  # fail here, with one sentence, rather than in the browser
        pool.get(name)
    demo = build_demo(pool)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share)
    return 0


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from .export import export_onnx, onnx_parity

    out = export_onnx(args.model, args.output)
    worst = onnx_parity(args.model, out)
    if args.json:
        _print_json({"output": str(out), "max_abs_diff": worst})
    else:
        print(f"Wrote {out}; onnxruntime vs PyTorch probabilities: max |diff| {worst:.2e}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_benchmark

    result = run_benchmark(args.model or None, repeats=args.repeats)
    if args.json:
        _print_json(result)
        return 0
    print(f"one CPU thread, {result['clip_seconds']:.0f} s clip; wav2vec2-base: {result['wav2vec2_base_infer_ms_3s']:.1f} ms")
    for name, r in result["models"].items():
        print(f"\n{name} ({r['weights']})")
        print(f"  features            {r['feature_x_realtime']:>9.1f} x real time")
        print(f"  inference, 3 s clip {r['infer_ms_3s']:>9.2f} ms  ({r['speedup_vs_wav2vec2_base']:.1f}x faster than wav2vec2-base)")
        print(f"  batched (16)        {r['infer_x_realtime_batched']:>9.1f} x real time")
        print(f"  streaming update    {r['stream_update_ms']:>9.2f} ms")
        print(f"  size                {r['model_size_mb']:>9.2f} MB")
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
    from . import __version__
    from .labels import CALM_POLICIES, LABEL_SETS
    from .protocols import PROTOCOLS

    parser = _Parser(prog="ser-hf", description="Speech emotion recognition, the Hugging Face way.")
    parser.add_argument("--version", action="version", version=f"ser-hf {__version__}")
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

    train = commands.add_parser("train", help="train a model from a YAML recipe (--key value overrides)",
                                epilog="Any --key value after the recipe overrides that field of the recipe.")
    train.add_argument("recipe", help="YAML recipe, e.g. recipes/cnn_ravdess_6fold.yaml")
    train.set_defaults(func=cmd_train, takes_overrides=True)

    cv = commands.add_parser("crossval", help="train and evaluate every fold of the recipe's protocol")
    cv.add_argument("recipe", help="YAML recipe")
    cv.add_argument("--output-dir", required=True, help="folder for fold1/, fold2/, ... and crossval.json")
    cv.add_argument("--json", action="store_true", help="print JSON")
    cv.add_argument("--rerun", action="store_true", help="train folds again even when their metrics.json exists")
    cv.set_defaults(func=cmd_crossval, takes_overrides=True)

    predict = commands.add_parser("predict", help="predict the emotion of audio files or folders")
    predict.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    predict.add_argument("--model", default=None, help="model folder, or 'compact' (default: the bundled model)")
    predict.add_argument("--format", choices=["table", "json", "csv"], default="table")
    predict.add_argument("--window", type=float, default=4.0, help="window for long audio, seconds")
    predict.add_argument("--hop", type=float, default=2.0, help="hop between windows, seconds")
    predict.add_argument("--top-k", type=int, default=None, help="keep the K best scores")
    predict.add_argument("--vad", action="store_true", help="skip non-speech with Silero VAD (extra vad)")
    predict.set_defaults(func=cmd_predict)

    for name, help_text in (("stream", "play a file into the streaming recognizer"),
                            ("listen", "live emotion from the microphone (extra mic)")):
        sub = commands.add_parser(name, help=help_text)
        if name == "stream":
            sub.add_argument("file")
            sub.add_argument("--realtime", action="store_true", help="feed the file at its real pace")
            sub.add_argument("--chunk", type=float, default=0.1, help="chunk length, seconds")
            sub.set_defaults(func=cmd_stream)
        else:
            sub.add_argument("--seconds", type=float, default=None, help="stop after this long")
            sub.set_defaults(func=cmd_listen)
        sub.add_argument("--model", default=None, help="model folder, or 'compact' (default: the bundled model)")
        sub.add_argument("--window", type=float, default=2.0, help="seconds each update looks at")
        sub.add_argument("--hop", type=float, default=0.5, help="seconds between updates")
        sub.add_argument("--smoothing", type=float, default=0.5, help="moving-average weight of past updates")
        sub.add_argument("--vad", action="store_true", help="Silero VAD as well as the energy gate")
        sub.add_argument("--json", action="store_true", help="JSON lines")

    push = commands.add_parser("push", help="publish a trained model (or the Space) to the Hugging Face Hub")
    push.add_argument("--model", help="trained model folder, or 'default' / 'compact' (the bundled models)")
    push.add_argument("--repo-id", required=True, help="e.g. you/ser-hf-cnn")
    push.add_argument("--private", action="store_true")
    push.add_argument("--space", action="store_true", help="publish space/ (with the ser_hf package) as a Space")
    push.add_argument("--dry-run", metavar="OUT", help="write the folder that would be uploaded; send nothing")
    push.add_argument("--json", action="store_true")
    push.set_defaults(func=cmd_push)

    demo = commands.add_parser("demo", help="launch the Gradio app (upload and live microphone)")
    demo.add_argument("--model", action="append", help="model folder (repeatable; default: default and compact)")
    demo.add_argument("--port", type=int, default=7860)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--share", action="store_true", help="a public gradio.live link")
    demo.set_defaults(func=cmd_demo)

    export = commands.add_parser("export-onnx", help="export a model to ONNX and check it against PyTorch")
    export.add_argument("--model", required=True, help="model folder")
    export.add_argument("--output", required=True, help="the .onnx file to write")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=cmd_export_onnx)

    bench = commands.add_parser("bench", help="speed and size on one CPU thread, against wav2vec2-base")
    bench.add_argument("--model", action="append", help="model folder (repeatable; default: default and compact)")
    bench.add_argument("--repeats", type=int, default=20)
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)

    from .corpora import CORPORA

    evaluate = commands.add_parser("evaluate", help="score a model on a corpus or a fold; write a report")
    evaluate.add_argument("--model", default=None, help="model folder, or 'compact' (default: the bundled model)")
    evaluate.add_argument("--corpus", required=True, choices=[*CORPORA, "all"],
                          help="'all': each corpus of --protocol's test fold, one report each")
    evaluate.add_argument("--data-dir", required=True)
    evaluate.add_argument("--protocol", choices=PROTOCOLS, help="score only this protocol's test fold")
    evaluate.add_argument("--fold", type=int, default=1)
    evaluate.add_argument("--label-set", choices=list(LABEL_SETS), help="default: the model's labels the corpus has")
    evaluate.add_argument("--calm", choices=CALM_POLICIES, default="drop")
    evaluate.add_argument("--output-dir", required=True)
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(func=cmd_evaluate)

    crosscorpus = commands.add_parser("crosscorpus", help="train-corpus x test-corpus UA matrix and heatmap")
    crosscorpus.add_argument("--baseline", action="store_true",
                             help="the MFCC-statistics SVM, trained on fold 1 of each corpus's protocol")
    crosscorpus.add_argument("--model", action="append", metavar="CORPUS=FOLDER",
                             help="a model trained on CORPUS (repeat for each corpus)")
    crosscorpus.add_argument("--data-dir", required=True)
    crosscorpus.add_argument("--label-set", choices=list(LABEL_SETS), default="core6")
    crosscorpus.add_argument("--output-dir", required=True)
    crosscorpus.add_argument("--json", action="store_true")
    crosscorpus.set_defaults(func=cmd_crosscorpus)

    baseline = commands.add_parser("baseline", help="the MFCC-statistics SVM baseline from a recipe")
    baseline.add_argument("recipe", help="e.g. recipes/baseline_ravdess_6fold.yaml")
    baseline.set_defaults(func=cmd_baseline, takes_overrides=True)

    convert = commands.add_parser("convert-whisper", help="convert a CTranslate2 Whisper folder to transformers")
    convert.add_argument("--input", help="CTranslate2 / faster-whisper folder (default: the bundled tiny.en)")
    convert.add_argument("--output", required=True, help="output folder")
    convert.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                         help="weights' precision (float16 is lossless for tiny.en)")
    convert.add_argument("--json", action="store_true", help="print JSON")
    convert.set_defaults(func=cmd_convert_whisper)
    return parser


def _quiet_libraries() -> None:
    """No progress bars or load reports from transformers in the command-line output."""
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # train, crossval and baseline pass any further --key value pairs on to the recipe as overrides.
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "takes_overrides", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.overrides = extra
    if args.command not in ("data",):
        _quiet_libraries()
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
