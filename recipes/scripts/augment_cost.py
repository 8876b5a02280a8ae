"""Cost per batch of each training-time augmentation: a batch of real training clips, each augmentation alone at
probability 1, then all together, one CPU thread.

    python recipes/scripts/augment_cost.py --data-dir ../shared/data [--batch-size 16] [--output docs/reports/augment_cost.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from ser_hf.data import load_audio, load_split
from ser_hf.data.degradations import impulse_response_dir
from ser_hf.train.augment import AugmentConfig, WaveformAugmenter

SINGLE = {
    "noise (white/pink/brown, 0-30 dB SNR)": {"noise_prob": 1.0},
    "babble (3 other training speakers, 0-20 dB)": {"babble_prob": 1.0},
    "reverb (RT60 0.2-1.0 s)": {"reverb_prob": 1.0},
    "telephone (8 kHz, 300-3400 Hz, GSM 6.10)": {"telephone_prob": 1.0},
    "codec (MP3 or Opus)": {"codec_prob": 1.0},
    "gain (+-20 dB)": {"gain_prob": 1.0},
    "shift (+-0.3 s)": {"shift_prob": 1.0},
    "speed (0.9 or 1.1)": {"speed_prob": 1.0},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default="docs/reports/augment_cost.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    split, _ = load_split(["ravdess", "crema_d", "tess"], args.data_dir, "core7", calm="merge",
                          protocol="multi-corpus", fold=1)
    train = split["train"].shuffle(seed=0).select(range(args.batch_size + 64))
    batch = [load_audio(p) for p in train["path"][: args.batch_size]]
    pool = [load_audio(p) for p in train["path"][args.batch_size:]]
    speakers = list(train["speaker"])
    impulse_response_dir()  # simulated once, then cached
    rows = {}
    for name, options in {**SINGLE, "all of them": {k: v for o in SINGLE.values() for k, v in o.items()}}.items():
        augmenter = WaveformAugmenter(AugmentConfig(**options), seed=0, babble_pool=pool,
                                      babble_speakers_of=speakers[args.batch_size:])
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for wave, speaker in zip(batch, speakers):
                augmenter(wave, speaker=speaker)
            times.append(time.perf_counter() - start)
        rows[name] = round(1000 * statistics.median(times), 1)
        print(f"{name:<46} {rows[name]:>8.1f} ms per batch of {args.batch_size}", flush=True)
    seconds = sum(len(w) for w in batch) / 16000
    result = {"batch_size": args.batch_size, "batch_audio_s": round(seconds, 1), "threads": 1,
              "ms_per_batch": rows}
    Path(args.output).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
