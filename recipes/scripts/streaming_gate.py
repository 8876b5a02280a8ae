"""Choose the streaming speech gate by cost and by rejected speech: the windowed gate (Silero over the whole
2 s window at every 0.5 s hop, what the stream ran before) against the streaming VAD (each frame scored once).

Each validation clip of multi-corpus fold 1 (a seeded sample) is streamed in 0.5 s hops; every update from 1 s
on counts as speech or "no speech" under both gates. Noise (white, pink, brown, 50 Hz hum) is streamed too.

    python recipes/scripts/streaming_gate.py --data-dir ../shared/data --clips 300 \
        --output docs/reports/streaming_gate.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from ser_hf.data import load_audio
from ser_hf.data.splits import load_split
from ser_hf.scoring.speech import MIN_SPEECH_FRACTION, SILENCE_DB, SpeechGate, StreamingVad, rms_db

RATE, WINDOW, HOP = 16000, 32000, 8000


def stream_answers(wave: np.ndarray, windowed: SpeechGate, streaming: StreamingVad):
    """Per update: (windowed gate, streaming gate), and the seconds each spent in the VAD."""
    streaming.reset()  # a new stream; one model for all, warmed up as a long-lived stream's would be
    old, new, old_s, new_s = [], [], 0.0, 0.0
    for end in range(HOP, len(wave) + 1, HOP):
        start = time.perf_counter()
        streaming.push(wave[end - HOP : end])
        new_s += time.perf_counter() - start
        if end < RATE:
            continue
        window = wave[max(0, end - WINDOW) : end]
        loud = rms_db(window) >= SILENCE_DB
        start = time.perf_counter()
        old.append(bool(windowed(window)))
        old_s += time.perf_counter() - start
        new.append(loud and streaming.speech_fraction() >= MIN_SPEECH_FRACTION)
    return old, new, old_s, new_s


def noises(seconds: float = 5.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    n = int(seconds * RATE)
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / RATE), 1.0)
    pink = np.fft.irfft(spectrum / np.sqrt(f), n)
    brown = np.fft.irfft(spectrum / f, n)
    hum = np.sin(2 * np.pi * 50 * np.arange(n) / RATE) + 0.3 * np.sin(2 * np.pi * 150 * np.arange(n) / RATE)
    return {name: (0.1 * x / np.abs(x).max()).astype(np.float32) for name, x in
            {"white": white, "pink": pink, "brown": brown, "hum 50 Hz": hum}.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--clips", type=int, default=300)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    split, _ = load_split(["ravdess", "crema_d", "tess"], args.data_dir, "core7", calm="merge",
                          protocol="multi-corpus", fold=1)
    validation = split["validation"].shuffle(seed=0).select(range(min(args.clips, len(split["validation"]))))
    windowed, streaming = SpeechGate(cache_size=0), StreamingVad(WINDOW)
    totals = {"updates": 0, "windowed_rejected": 0, "streaming_rejected": 0, "windowed_vad_s": 0.0,
              "streaming_vad_s": 0.0}
    for path in validation["path"]:
        old, new, old_s, new_s = stream_answers(load_audio(path), windowed, streaming)
        totals["updates"] += len(old)
        totals["windowed_rejected"] += len(old) - sum(old)
        totals["streaming_rejected"] += len(new) - sum(new)
        totals["windowed_vad_s"] += old_s
        totals["streaming_vad_s"] += new_s
    noise = {}
    for name, wave in noises().items():
        old, new, _, _ = stream_answers(wave, windowed, streaming)
        noise[name] = {"updates": len(old), "windowed_accepted": sum(old), "streaming_accepted": sum(new)}
    report = {
        "clips": len(validation), "speech_updates": totals["updates"],
        "rejected_speech_windowed": round(totals["windowed_rejected"] / totals["updates"], 4),
        "rejected_speech_streaming": round(totals["streaming_rejected"] / totals["updates"], 4),
        "vad_ms_per_update_windowed": round(1000 * totals["windowed_vad_s"] / totals["updates"], 2),
        "vad_ms_per_update_streaming": round(1000 * totals["streaming_vad_s"] / totals["updates"], 2),
        "noise": noise,
    }
    print(json.dumps(report, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
