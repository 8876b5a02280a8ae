"""``ser-hf bench``: speed and size, per model and backend, against wav2vec2-base (:mod:`ser_hf.inference.bench`)."""

from __future__ import annotations

import argparse

from .output import print_json


def cmd_bench(args: argparse.Namespace) -> int:
    from ..inference import bench

    if args.part == "features":
        result = bench.bench_features(args.batch_size, repeats=args.repeats)
        if args.json:
            print_json(result)
            return 0
        for name in ("torch_stft", "librosa"):
            r = result[name]
            print(f"log-mel, {name:<10}: {r['x_real_time']:8.0f}x real time, {r['ms_per_clip']:.2f} ms per 3 s clip "
                  f"(batch {result['batch_size']}, 1 thread)")
        print(f"max |torch - librosa| log-mel: {result['max_abs_diff_log_mel']:.2e}")
        return 0
    if args.part == "models":
        result = bench.bench_models(repeats=args.repeats)
        if args.json:
            print_json(result)
            return 0
        for name, r in result["models"].items():
            print(f"{name:<14} {r['parameters']:>11,} parameters {r['size_mb_fp32']:>7.2f} MB fp32 "
                  f"{r['infer_ms_3s']:>8.2f} ms per 3 s clip (1 thread)")
        return 0
    result = bench.run_benchmark(args.model or None, repeats=args.repeats)
    if args.json:
        print_json(result)
        return 0
    print(f"one CPU thread, {result['clip_seconds']:.0f} s clip; wav2vec2-base: {result['wav2vec2_base_infer_ms_3s']:.1f} ms; "
          f"Silero VAD: {result['vad_ms_2s_window']:.1f} ms per 2 s window, {result['vad_ms_0_5s_hop']:.1f} ms per 0.5 s")
    for name, r in result["models"].items():
        print(f"\n{name} ({r['weights']}, {r['model_size_mb']:.2f} MB)")
        print(f"  {'backend':<10} {'features':>10} {'3 s clip':>10} {'vs w2v2':>8} {'batch 16':>10} {'stream+VAD':>11} {'x clip':>7} {'cold':>7}")
        for backend, b in r["backends"].items():
            cold = f"{b['cold_start_s']:.1f} s" if "cold_start_s" in b else "-"
            print(f"  {backend:<10} {b['feature_x_realtime']:>9.0f}x {b['infer_ms_3s']:>7.2f} ms {b['speedup_vs_wav2vec2_base']:>7.1f}x "
                  f"{b['infer_x_realtime_batched']:>9.1f}x {b['stream_update_with_vad_ms']:>8.2f} ms "
                  f"{b['stream_update_x_clip']:>6.2f}x {cold:>7}")
    return 0


def add_commands(commands, parser_class) -> None:
    bench = commands.add_parser("bench", help="speed and size on one CPU thread, against wav2vec2-base")
    bench.add_argument("part", nargs="?", choices=["recognizers", "features", "models"], default="recognizers",
                       help="recognizers (default): the trained models end to end; features: log-mel extraction, "
                            "torch against librosa; models: the bare architectures with random weights")
    bench.add_argument("--model", action="append", help="model folder (repeatable; default: default and compact)")
    bench.add_argument("--repeats", type=int, default=20)
    bench.add_argument("--batch-size", type=int, default=32, help="clips per batch for `bench features`")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=cmd_bench)
