"""The classic baseline: utterance statistics of MFCC (with deltas) and spectral features, standardized, an SVM.

    python -m ser_hf.baseline recipes/baseline_ravdess_6fold.yaml [--fold K] [--output_dir DIR]

Uses the same recipe ``data`` section, protocols and report format as the neural models. The SVM's ``C``
is chosen on the validation speakers; the test speakers are scored once.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .audio import load_audio
from .errors import SerError
from .features import SerFeatureExtractor


@dataclass
class BaselineArguments:
    """The SVM and where the report goes."""

    output_dir: str = "outputs/baseline"
    c_grid: list[float] = field(default_factory=lambda: [0.1, 1.0, 10.0])
    kernel: str = "rbf"
    n_mfcc: int = 20


def utterance_features(waveform: np.ndarray, n_mfcc: int = 20, sampling_rate: int = 16000) -> np.ndarray:
    """Mean and standard deviation over time of MFCC, deltas, delta-deltas, spectral centroid, bandwidth,
    roll-off, flatness, zero-crossing rate and RMS energy: ``(6 * n_mfcc + 12,)``."""
    import librosa

    fe = SerFeatureExtractor(feature_type="mfcc", n_mfcc=n_mfcc, mfcc_deltas=2, normalize_per_utterance=False)
    wave = fe.preprocess(waveform)
    mfcc = fe.extract(wave)  # (3 * n_mfcc, frames)
    hop, n_fft = fe.hop_length, fe.n_fft
    spectral = np.vstack([
        librosa.feature.spectral_centroid(y=wave, sr=sampling_rate, n_fft=n_fft, hop_length=hop) / 1000.0,
        librosa.feature.spectral_bandwidth(y=wave, sr=sampling_rate, n_fft=n_fft, hop_length=hop) / 1000.0,
        librosa.feature.spectral_rolloff(y=wave, sr=sampling_rate, n_fft=n_fft, hop_length=hop) / 1000.0,
        librosa.feature.spectral_flatness(y=wave, n_fft=n_fft, hop_length=hop),
        librosa.feature.zero_crossing_rate(wave, frame_length=n_fft, hop_length=hop),
        librosa.feature.rms(y=wave, frame_length=n_fft, hop_length=hop),
    ])
    frames = min(mfcc.shape[1], spectral.shape[1])
    stacked = np.vstack([mfcc[:, :frames], spectral[:, :frames]])
    return np.concatenate([stacked.mean(axis=1), stacked.std(axis=1)]).astype(np.float32)


def featurize(paths: list[str], n_mfcc: int, desc: str) -> np.ndarray:
    return np.stack([utterance_features(load_audio(p), n_mfcc) for p in tqdm(paths, desc=desc)])


def run_baseline(data, args: BaselineArguments, seed: int = 0) -> dict:
    """Train on the fold's training speakers, pick C on its validation speakers, report on its test speakers."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from .evaluation import write_report
    from .train import load_split

    started = time.time()
    split, labels = load_split(data, seed=seed)
    x = {part: featurize(split[part]["path"], args.n_mfcc, f"MFCC statistics ({part})") for part in split}
    y = {part: np.asarray(split[part]["label"]) for part in split}
    from .metrics.ser_metrics.ser_metrics import compute_ser_metrics

    scores = {}
    for c in args.c_grid:
        model = make_pipeline(StandardScaler(), SVC(C=c, kernel=args.kernel, class_weight="balanced", random_state=seed))
        model.fit(x["train"], y["train"])
        scores[c] = compute_ser_metrics(model.predict(x["validation"]), y["validation"], range(len(labels)))["ua"]
    best_c = max(scores, key=scores.get)
    model = make_pipeline(StandardScaler(), SVC(C=best_c, kernel=args.kernel, class_weight="balanced", random_state=seed))
    model.fit(x["train"], y["train"])
    title = f"MFCC-statistics SVM on {'+'.join(data.corpora)}, {data.protocol} fold {data.fold}"
    metrics = write_report(args.output_dir, model.predict(x["test"]), y["test"], labels, rows=split["test"], title=title)
    summary = {"validation_ua_by_c": {str(c): s for c, s in scores.items()}, "chosen_c": best_c,
               "test": {k: metrics[k] for k in ("ua", "wa", "macro_f1", "weighted_f1")},
               "wall_time_s": round(time.time() - started, 1)}
    (Path(args.output_dir) / "baseline.json").write_text(json.dumps(summary, indent=2))
    return summary


def parse_baseline_recipe(argv: list[str]):
    """``(DataArguments, BaselineArguments)`` from ``[RECIPE] [--key value ...]``."""
    from transformers import HfArgumentParser

    from .train import DataArguments, flatten_recipe

    parser = HfArgumentParser((DataArguments, BaselineArguments))

    def error(message: str):
        raise SerError(f"Invalid baseline arguments: {message}.")

    parser.error = error
    if argv and not argv[0].startswith("--"):
        import yaml

        path = Path(argv[0])
        if not path.is_file():
            raise SerError(f"Recipe {path} not found; expected a YAML file such as recipes/baseline_ravdess_6fold.yaml.")
        recipe = flatten_recipe(yaml.safe_load(path.read_text()) or {})
        cli = []
        for key, value in recipe.items():
            cli += [f"--{key}", *(map(str, value) if isinstance(value, list) else [str(value)])]
        argv = cli + argv[1:]
    return parser.parse_args_into_dataclasses(args=argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        data, args = parse_baseline_recipe(argv)
        summary = run_baseline(data, args)
    except (SerError, FileNotFoundError) as err:
        print(f"ser-hf baseline: error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(summary["test"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
