"""Load test of the Space on 127.0.0.1 through gradio_client: concurrent uploads and live streams for a
bounded time, with a bad file and an oversized upload in the middle. Prints (and with --output writes) p50/p95
latency, errors and the server's memory; stops by itself.

    python recipes/scripts/space_load_test.py --data-dir ../shared/data --uploads 20 --streams 8 --seconds 60 \
        --output docs/reports/space_load_test.json

``--soak N`` instead sends N uploads one after another (clips of many lengths) and samples the server's memory
every ``--every`` uploads: where it levels off, and with ``--trace`` the Python allocation sites that grew most.

    python recipes/scripts/space_load_test.py --data-dir ../shared/data --soak 300 --output docs/reports/space_soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from ser_hf.data import load_audio
from ser_hf.demo import ModelPool, build_demo, launch
from ser_hf.demo.app import LIVE_UPDATE_S

CLIPS = ["Actor_01/03-01-05-02-01-01-01.ogg", "Actor_02/03-01-03-02-02-01-02.ogg", "Actor_03/03-01-08-02-01-01-03.ogg"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("SER_HF_DATA", "../shared/data"))
    parser.add_argument("--model", default="default", help="default, compact or a model folder")
    parser.add_argument("--uploads", type=int, default=20, help="concurrent upload clients")
    parser.add_argument("--streams", type=int, default=8, help="concurrent live streams")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-file-size", default="5mb", help="the upload limit for this run (the Space: 200mb)")
    parser.add_argument("--output", default=None, help="write the figures as JSON here")
    parser.add_argument("--soak", type=int, default=0, help="N uploads one after another, memory sampled (no load)")
    parser.add_argument("--every", type=int, default=25, help="uploads between memory samples in a soak")
    parser.add_argument("--trace", action="store_true", help="in a soak, the allocation sites that grew most")
    parser.add_argument("--compare", nargs="*", default=[], metavar="NAME=SOAK.json",
                        help="with --soak and --output: earlier soaks drawn beside this one in OUTPUT's .png")
    args = parser.parse_args()
    if args.soak:
        return soak(args)

    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="ser_hf_load_"))
    clips = []
    for i, name in enumerate(CLIPS):
        clips.append(work / f"clip{i}.wav")
        sf.write(str(clips[-1]), load_audio(Path(args.data_dir) / "ravdess" / name), 16000)
    bad = work / "bad.wav"
    bad.write_text("not audio at all")
    huge = work / "huge.wav"  # over the limit: refused by Gradio before the handler
    sf.write(str(huge), np.zeros(int(4 * 1024 * 1024), np.int16), 16000, subtype="PCM_16")  # 8 MiB
    speech = np.concatenate([sf.read(str(c), dtype="float32")[0] for c in clips])
    chunk = int(16000 * LIVE_UPDATE_S)

    pool = ModelPool({args.model: None if args.model == "default" else args.model})
    pool.get(args.model)
    demo = build_demo(pool)
    _, url, _ = launch(demo, max_file_size=args.max_file_size, queue_size=256, server_name="127.0.0.1",
                       prevent_thread_lock=True, quiet=True)
    rss_start = rss_mb()
    stop = time.monotonic() + args.seconds
    lock = threading.Lock()
    results = {"upload": [], "stream": [], "upload_errors": [], "stream_errors": [], "bad": [], "huge": []}
    peak = [rss_start]

    def record(kind: str, value) -> None:
        with lock:
            results[kind].append(value)

    def uploader(index: int) -> None:
        client = Client(url, verbose=False)
        n = 0
        while time.monotonic() < stop:
            path = clips[(index + n) % len(clips)]
            start = time.monotonic()
            try:
                message = client.predict(handle_file(str(path)), args.model, api_name="/on_upload")[0]
                ok = message.startswith("## ")
                record("upload" if ok else "upload_errors", time.monotonic() - start if ok else message[:200])
            except Exception as err:  # noqa: BLE001 - a failed request is a figure, not a crash
                record("upload_errors", f"{type(err).__name__}: {str(err)[:200]}")
            n += 1

    def streamer(index: int) -> None:
        client = Client(url, verbose=False)
        position, n = index * chunk, 0
        path = work / f"chunk{index}.wav"
        while time.monotonic() < stop:
            piece = speech[position % (len(speech) - chunk):][:chunk]
            sf.write(str(path), piece, 16000)
            start = time.monotonic()
            try:
                label = client.predict(handle_file(str(path)), args.model, False, api_name="/live_chunk")[0]
                record("stream", time.monotonic() - start) if label.startswith("## ") else \
                    record("stream_errors", label[:200])
            except Exception as err:  # noqa: BLE001
                record("stream_errors", f"{type(err).__name__}: {str(err)[:200]}")
            position += chunk
            n += 1
            time.sleep(max(0.0, LIVE_UPDATE_S - (time.monotonic() - start)))

    def troublemaker() -> None:
        client = Client(url, verbose=False)
        time.sleep(args.seconds / 3)
        record("bad", client.predict(handle_file(str(bad)), args.model, api_name="/on_upload")[0][:200])
        try:
            client.predict(handle_file(str(huge)), args.model, api_name="/on_upload")
            record("huge", "accepted")
        except Exception as err:  # noqa: BLE001
            record("huge", f"refused: {str(err)[:200]}")

    def sampler() -> None:
        while time.monotonic() < stop:
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.5)

    threads = [threading.Thread(target=uploader, args=(i,)) for i in range(args.uploads)]
    threads += [threading.Thread(target=streamer, args=(i,)) for i in range(args.streams)]
    threads += [threading.Thread(target=troublemaker), threading.Thread(target=sampler)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=args.seconds + 120)
    demo.close()
    figures = {
        "model": args.model, "uploads": args.uploads, "streams": args.streams, "seconds": args.seconds,
        "cpu_cores": os.cpu_count(), "upload_requests": len(results["upload"]),
        "upload_p50_ms": percentile(results["upload"], 50), "upload_p95_ms": percentile(results["upload"], 95),
        "upload_errors": len(results["upload_errors"]), "stream_updates": len(results["stream"]),
        "stream_p50_ms": percentile(results["stream"], 50), "stream_p95_ms": percentile(results["stream"], 95),
        "stream_errors": len(results["stream_errors"]), "bad_file": results["bad"], "huge_file": results["huge"],
        "server_rss_mb_start": round(rss_start), "server_rss_mb_peak": round(peak[0]),
        "error_samples": (results["upload_errors"] + results["stream_errors"])[:3],
    }
    print(json.dumps(figures, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")


def soak(args) -> None:
    """Sequential uploads of clips of many lengths (0.7 to 12 s, cut from three RAVDESS clips and repeated), the
    server's RSS every ``args.every`` uploads."""
    import gc
    import tracemalloc

    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="ser_hf_soak_"))
    speech = np.concatenate([load_audio(Path(args.data_dir) / "ravdess" / name) for name in CLIPS])
    rng = np.random.default_rng(0)
    lengths = rng.uniform(0.7, 12.0, size=args.soak)
    pool = ModelPool({args.model: None if args.model == "default" else args.model})
    pool.get(args.model)
    demo = build_demo(pool)
    _, url, _ = launch(demo, max_file_size="50mb", server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    client = Client(url, verbose=False)
    from collections import Counter

    samples, answers = [], Counter()
    started = time.monotonic()
    for i, seconds in enumerate(lengths):
        if args.trace and i == args.every:  # past the warm-up (first loads, caches filled once)
            tracemalloc.start(10)
            before = tracemalloc.take_snapshot()
        if i % args.every == 0:
            gc.collect()
            samples.append({"uploads": i, "rss_mb": round(rss_mb(), 1)})
            print(samples[-1], flush=True)
        path = work / f"upload{i % 7}.wav"
        sf.write(str(path), np.tile(speech, 4)[int(rng.integers(0, len(speech))):][: int(seconds * 16000)], 16000)
        message = client.predict(handle_file(str(path)), args.model, api_name="/on_upload")[0]
        answers["an emotion" if message.startswith("## ") else message.split("**")[1] if "**" in message else message[:40]] += 1
    gc.collect()
    samples.append({"uploads": args.soak, "rss_mb": round(rss_mb(), 1)})
    figures = {"model": args.model, "uploads": args.soak, "seconds": round(time.monotonic() - started, 1),
               "cpu_cores": os.cpu_count(), "answers": dict(answers), "rss": samples}
    if args.trace:
        growth = tracemalloc.take_snapshot().compare_to(before, "traceback")[:8]
        figures["top_growth"] = [{"kib": round(stat.size_diff / 1024, 1), "count": stat.count_diff,
                                  "where": [f"{frame.filename}:{frame.lineno}" for frame in stat.traceback][-4:]}
                                 for stat in growth]
    demo.close()
    print(json.dumps(figures, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")
        plot_soaks({**{name: json.loads(Path(path).read_text()) for name, path in
                       (item.split("=", 1) for item in args.compare)}, "this run": figures},
                   Path(args.output).with_suffix(".png"), args.model)


def plot_soaks(soaks: dict[str, dict], path: Path, model: str) -> None:
    """The server's RSS against uploads, one line per soak."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), constrained_layout=True)
    for name, soak in soaks.items():
        ax.plot([r["uploads"] for r in soak["rss"]], [r["rss_mb"] for r in soak["rss"]], marker="o", label=name)
    ax.set(xlabel="uploads, one after another (0.7-12 s each)", ylabel="server RSS (MiB)",
           title=f"The Space's memory over a soak of uploads ({model} model)")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
