"""Draw the signal chain of one real RAVDESS clip: waveform (raw and preprocessed), log-mel and MFCC.

    python docs/scripts/make_feature_figure.py [--data-dir ../shared/data] [--output docs/images/feature_chain.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ser_hf import SerFeatureExtractor  # noqa: E402
from ser_hf.data import load_audio  # noqa: E402

CLIP = "ravdess/Actor_01/03-01-05-02-01-01-01.ogg"  # actor 1, angry, strong, "Kids are talking by the door"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2].parent / "shared" / "data"))
    parser.add_argument("--output", default=str(Path(__file__).resolve().parents[1] / "images" / "feature_chain.png"))
    args = parser.parse_args()

    raw = load_audio(Path(args.data_dir) / CLIP)
    log_mel_fe = SerFeatureExtractor()
    mfcc_fe = SerFeatureExtractor(feature_type="mfcc", n_mfcc=20, mfcc_deltas=0)
    processed = log_mel_fe.preprocess(raw)
    log_mel = log_mel_fe(raw, sampling_rate=16000, return_tensors="np")["input_features"][0]
    mfcc = mfcc_fe(raw, sampling_rate=16000, return_tensors="np")["input_features"][0]

    fig, axes = plt.subplots(4, 1, figsize=(9, 10), constrained_layout=True)
    t = np.arange(len(raw)) / 16000
    axes[0].plot(t, raw, lw=0.4, color="0.3")
    axes[0].set(title=f"1. Waveform as loaded (16 kHz mono): {CLIP}", xlabel="time (s)", ylabel="amplitude",
                xlim=(0, t[-1]))
    axes[1].plot(np.arange(len(processed)) / 16000, processed, lw=0.4, color="tab:blue")
    axes[1].set(title="2. After DC removal, peak normalization to -1 dBFS and trimming (40 dB below the peak)",
                xlabel="time (s)", ylabel="amplitude", xlim=(0, t[-1]))
    image = axes[2].imshow(log_mel, origin="lower", aspect="auto", cmap="magma",
                           extent=(0, log_mel.shape[1] / 100, 0, log_mel.shape[0]))
    axes[2].set(title="3. Log-mel, 64 bins 20 Hz-8 kHz, 25 ms window, 10 ms hop, normalized per utterance",
                xlabel="time (s)", ylabel="mel bin")
    fig.colorbar(image, ax=axes[2], label="z-score")
    image = axes[3].imshow(mfcc, origin="lower", aspect="auto", cmap="viridis",
                           extent=(0, mfcc.shape[1] / 100, 0, mfcc.shape[0]))
    axes[3].set(title="4. MFCC (DCT-II of the log-mel, 20 coefficients), normalized per utterance",
                xlabel="time (s)", ylabel="coefficient")
    fig.colorbar(image, ax=axes[3], label="z-score")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
