"""``ser-hf predict|stream|listen|demo|push|export-onnx``: using and publishing trained models."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..models.errors import SerError
from .output import EXIT_FAILED, print_json

BACKENDS = ("torch", "onnx", "onnx-int8")  # ser_hf.scoring.onnx.BACKENDS, without importing torch to parse
MODEL_HELP = "model folder, or 'compact' (default: the bundled model)"
BACKEND_HELP = "torch (default), onnx or onnx-int8 (ONNX Runtime; the graph is exported once and cached)"
THREADS_HELP = "torch threads for inference (default 1: fastest on a busy machine; 0: torch's default)"


def bulk_predict(recognizer, files: list[str], args: argparse.Namespace, sessions: list[list[str]] | None) -> int:
    """``--output``: :func:`ser_hf.inference.bulk.predict_to_jsonl`, in session mode with ``sessions`` (each speaker's
    files); with ``--enroll`` every file is adapted to the enrolled speaker."""
    import time

    from ..inference.bulk import predict_to_jsonl

    if args.enroll:
        enroll_files, enroll_labels = enrollment(args.enroll)
        recognizer.adapt_to(enroll_files, labels=enroll_labels)
    start = time.monotonic()
    stats = predict_to_jsonl(recognizer, files, args.output, workers=args.workers, progress=not args.json,
                             top_k=args.top_k, sessions=sessions)
    if stats.pop("main_process", True) is False:
        return 0  # another accelerate process: the main one reports for all
    stats["seconds_of_audio"] = round(stats["seconds_of_audio"], 3)
    stats["wall_s"] = round(time.monotonic() - start, 2)
    stats["files_per_s"] = round(stats["predicted"] / max(stats["wall_s"], 1e-9), 2)
    stats["x_real_time"] = round(stats["seconds_of_audio"] / max(stats["wall_s"], 1e-9), 1)
    stats["output"] = str(args.output)
    if args.json:
        print_json(stats)
    else:
        print(f"{stats['predicted']} predicted, {stats['failed']} failed, {stats['done_before']} already in "
              f"{args.output}; {stats['files_per_s']} files/s, {stats['x_real_time']}x real time", file=sys.stderr)
    return EXIT_FAILED if stats["failed"] else 0


def enrollment(items: list[str]) -> tuple[list[str], list[str] | None]:
    """``--enroll`` items -> ``(files, labels)``: plain ``FILE``s are neutral clips (``labels`` None), ``LABEL=FILE``s
    are labelled clips; the two kinds do not mix."""
    split = [item.split("=", 1) if "=" in item and not Path(item).exists() else [None, item] for item in items]
    labelled = [label is not None for label, _ in split]
    if any(labelled) and not all(labelled):
        raise SerError("--enroll takes either neutral clips (FILE ...) or labelled clips (LABEL=FILE ...), not both.")
    return [path for _, path in split], ([label for label, _ in split] if all(labelled) else None)


def cmd_predict(args: argparse.Namespace) -> int:
    from ..inference.inputs import audio_inputs, speaker_of
    from ..inference.recognizer import EmotionRecognizer

    adapt = args.adapt or args.adapt_by is not None or bool(args.enroll)
    recognizer = EmotionRecognizer.from_pretrained(args.model, window_s=args.window, hop_s=args.hop, vad=args.vad,
                                                   min_confidence=args.min_confidence, adapt=adapt,
                                                   threads=args.threads, backend=args.backend)
    found = audio_inputs(args.inputs)
    files = [path for path, _ in found]
    if not files:
        raise SerError(f"No audio files found in {', '.join(args.inputs)}.")
    # With adaptation, each speaker is a session: the files in the order given, each parent folder apart, or each
    # value of a manifest column apart.
    groups: dict[str, list[int]] = {}
    for index, (path, row) in enumerate(found):
        groups.setdefault(speaker_of(path, row, args.adapt_by), []).append(index)
    enroll_files, enroll_labels = enrollment(args.enroll) if args.enroll else ([], None)
    session = adapt and not enroll_files  # session mode: a speaker's clips scored, then answered together
    if args.output:
        return bulk_predict(recognizer, files, args,
                            [[files[i] for i in indices] for indices in groups.values()] if session else None)
    records = [None] * len(files)
    for indices in groups.values():
        recognizer.reset_speaker()
        if enroll_files:
            recognizer.adapt_to(enroll_files, labels=enroll_labels)
        done = {}  # index -> ClipScore (session mode) or Prediction
        for index in indices:
            try:
                done[index] = recognizer.score_clip(files[index]) if session else \
                    recognizer.predict(files[index], top_k=args.top_k)
            except SerError as err:
                records[index] = {"path": files[index], "error": str(err)}
                print(f"ser-hf: error: {err}", file=sys.stderr)
        answers = recognizer.answer_session(list(done.values()), [files[i] for i in done], args.top_k) \
            if session else done.values()
        for index, prediction in zip(done, answers):
            records[index] = prediction.to_dict()
    failed = sum("error" in r for r in records)
    if args.json or args.format == "json":
        print_json(records)
    elif args.format == "csv":
        write_csv(records)
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


CSV_COLUMNS = ["path", "part", "start", "end", "label", "score", "error"]


def write_csv(records: list[dict]) -> None:
    """One row per file (``part`` = ``clip``, 0 to its duration), then one per timeline segment (``segment``)."""
    import csv

    writer = csv.writer(sys.stdout)
    writer.writerow(CSV_COLUMNS)
    for r in records:
        if "error" in r:
            writer.writerow([r["path"], "clip", "", "", "", "", r["error"]])
            continue
        score = r["scores"].get(r["label"])
        writer.writerow([r["path"], "clip", "0.00", f"{r.get('duration_s', 0):.2f}", r["label"],
                         "" if score is None else f"{score:.4f}", ""])
        for seg in r["segments"]:
            writer.writerow([r["path"], "segment", f"{seg['start']:.2f}", f"{seg['end']:.2f}", seg["label"],
                             f"{seg['scores'].get(seg['label'], 0):.4f}", ""])


def _print_update(update, as_json: bool) -> None:
    if as_json:
        print(json.dumps(update.to_dict()), flush=True)
    else:
        top = ", ".join(f"{k} {v:.2f}" for k, v in list(update.scores.items())[:3])
        print(f"{update.time:8.2f} s  {update.label:<10} {top}", flush=True)


def enrolled_stream(args: argparse.Namespace):
    """The ``StreamingRecognizer`` of ``stream`` / ``listen``, enrolled with ``--enroll`` when given."""
    from ..inference.recognizer import EmotionRecognizer
    from ..inference.streaming import StreamingRecognizer

    stream = StreamingRecognizer(EmotionRecognizer.from_pretrained(args.model, threads=args.threads, backend=args.backend,
                                                                   min_confidence=args.min_confidence),
                                 window_s=args.window, hop_s=args.hop, vad=args.vad, smoothing=args.smoothing,
                                 adapt=args.adapt)
    if args.enroll:
        files, labels = enrollment(args.enroll)
        stream.adapt_to(files, labels=labels)
    return stream


def cmd_stream(args: argparse.Namespace) -> int:
    import time as _time

    from ..data.audio_files import load_audio

    stream = enrolled_stream(args)
    try:
        wave = load_audio(args.file, stream.rate)  # any format, at the model's rate: chunks need no resampling
    except SerError as err:
        if Path(args.file).is_dir():
            raise SerError(f"{args.file} is a directory; `ser-hf stream` plays one audio file (`ser-hf predict` "
                           "takes folders).") from None
        raise err
    chunk = max(1, int(args.chunk * stream.rate))
    updates, start = 0, _time.monotonic()
    for offset in range(0, len(wave), chunk):
        for update in stream.push(wave[offset : offset + chunk], stream.rate):
            _print_update(update, args.json)
            updates += 1
        if args.realtime:
            _time.sleep(max(0.0, (offset + chunk) / stream.rate - (_time.monotonic() - start)))
    if not updates:
        raise SerError(f"{args.file} is {len(wave) / stream.rate:.2f} s long, shorter than the "
                       f"{stream.min_samples / stream.rate:.2f} s the first update needs; nothing to report "
                       "(`ser-hf predict` scores short clips).")
    return 0


def cmd_listen(args: argparse.Namespace) -> int:
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
    stream = enrolled_stream(args)
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
    from ..hub.publish import push

    if not args.space and not args.model:
        raise SerError("ser-hf push needs --model DIR|default|compact (or --space to publish the Space).")
    result = push(args.model, args.repo_id, private=args.private, dry_run=args.dry_run, space=args.space)
    if args.json:
        print_json(result)
    elif args.dry_run:
        print(f"Wrote {len(result['files'])} files to {result['folder']} (nothing was sent):")
        for name in result["files"]:
            print(f"  {name}")
    else:
        print(f"Uploaded {len(result['files'])} files to {args.repo_id}: {result['url']}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo.app import BUNDLED_MODELS, ModelPool, build_demo, launch

    pool = ModelPool({Path(m).name or m: m for m in args.model} if args.model else BUNDLED_MODELS,
                     threads=args.threads, backend=args.backend)
    for name in pool.names:  # fail here, with one sentence, rather than in the browser
        pool.get(name)
    demo = build_demo(pool)
    launch(demo, server_name=args.host, server_port=args.port, share=args.share)
    return 0


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from ..scoring.onnx import export_onnx, onnx_parity

    out = export_onnx(args.model, args.output, int8=args.int8)
    worst = onnx_parity(args.model, out)
    if args.json:
        print_json({"output": str(out), "max_abs_diff": worst})
    else:
        print(f"Wrote {out}; onnxruntime vs PyTorch probabilities: max |diff| {worst:.2e}")
    return 0


def add_commands(commands, parser_class) -> None:
    predict = commands.add_parser("predict", help="predict the emotion of audio files or folders")
    predict.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR")
    predict.add_argument("--model", default=None, help=MODEL_HELP)
    predict.add_argument("--format", choices=["table", "json", "csv"], default="table")
    predict.add_argument("--json", action="store_true", help="print JSON (the same as --format json)")
    predict.add_argument("--window", type=float, default=4.0, help="window for long audio, seconds")
    predict.add_argument("--hop", type=float, default=2.0, help="hop between windows, seconds")
    predict.add_argument("--top-k", type=int, default=None, help="keep the K best scores")
    predict.add_argument("--vad", action=argparse.BooleanOptionalAction, default=True,
                         help="Silero VAD as well as the energy gate decides \"no speech\" (default: on)")
    predict.add_argument("--min-confidence", type=float, default=None,
                         help="answer \"uncertain\" when the top probability is below this")
    predict.add_argument("--adapt", action="store_true",
                         help="the files are one speaker: answer them together (session mode: the speaker's shift and "
                              "the session's emotion mix fitted to all of them)")
    predict.add_argument("--adapt-by", default=None, metavar="folder|COLUMN",
                         help="adapt to each speaker apart: each parent folder's files, or each value of a CSV "
                              "manifest's column (e.g. speaker)")
    predict.add_argument("--enroll", nargs="+", metavar="FILE|LABEL=FILE", default=None,
                         help="a few clips of the speaker's neutral voice: the baseline; or LABEL=FILE clips, a few in "
                              "each emotion, to fit the speaker's map (implies --adapt)")
    predict.add_argument("--output", default=None, metavar="RESULTS.jsonl",
                         help="bulk mode: append one JSON line per file, resuming what the file already has (files "
                              "that failed before are tried again)")
    predict.add_argument("--workers", type=int, default=1, help="with --output: processes decoding audio ahead")
    predict.add_argument("--threads", type=int, default=1, help=THREADS_HELP)
    predict.add_argument("--backend", choices=BACKENDS, default="torch", help=BACKEND_HELP)
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
        sub.add_argument("--model", default=None, help=MODEL_HELP)
        sub.add_argument("--window", type=float, default=2.0, help="seconds each update looks at")
        sub.add_argument("--hop", type=float, default=0.5, help="seconds between updates")
        sub.add_argument("--smoothing", type=float, default=0.5, help="moving-average weight of past updates")
        sub.add_argument("--vad", action=argparse.BooleanOptionalAction, default=True,
                         help="Silero VAD as well as the energy gate decides \"no speech\" (default: on)")
        sub.add_argument("--adapt", action="store_true", help="adapt to the speaker within the session")
        sub.add_argument("--min-confidence", type=float, default=None, metavar="P",
                         help="answer \"uncertain\" when the smoothed top probability is below P")
        sub.add_argument("--enroll", nargs="+", metavar="FILE|LABEL=FILE", default=None,
                         help="enroll the speaker first, as for predict (neutral clips, or LABEL=FILE clips)")
        sub.add_argument("--threads", type=int, default=1, help=THREADS_HELP)
        sub.add_argument("--backend", choices=BACKENDS, default="torch", help=BACKEND_HELP)
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
    demo.add_argument("--threads", type=int, default=1, help=THREADS_HELP)
    demo.add_argument("--backend", choices=BACKENDS, default="torch", help=BACKEND_HELP)
    demo.set_defaults(func=cmd_demo)

    export = commands.add_parser("export-onnx", help="export a model to ONNX and check it against PyTorch")
    export.add_argument("--model", required=True, help="model folder")
    export.add_argument("--output", required=True, help="the .onnx file to write")
    export.add_argument("--int8", action="store_true", help="quantize the weights to int8 (dynamic quantization)")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=cmd_export_onnx)
