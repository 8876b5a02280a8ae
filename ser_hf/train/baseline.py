"""The classic baseline: utterance statistics of MFCC (with deltas) and spectral features, standardized, an SVM.

    python -m ser_hf.train.baseline recipes/baseline_ravdess_6fold.yaml [--fold K] [--output_dir DIR]

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

from ..data.audio_files import load_audio
from ..evaluation.crossval import KEYS, summarize_folds
from ..evaluation.metrics import ser_metrics
from ..evaluation.reports import write_report
from ..models.errors import SerError
from ..models.feature_extraction_ser import SerFeatureExtractor
from .arguments import DataArguments
from .data import load_fold
from .recipes import parse_arguments


@dataclass
class BaselineArguments:
    """The SVM and where the report goes."""

    output_dir: str = "outputs/baseline"
    crossval: bool = field(default=False, metadata={"help": "run every fold (reports in output_dir/foldK)"})
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


_FEATURES: dict[tuple[str, int], np.ndarray] = {}


def featurize(paths: list[str], n_mfcc: int, desc: str) -> np.ndarray:
    """``(clips, 6 * n_mfcc + 12)``; each clip's statistics are computed once per process (folds share clips)."""
    for path in tqdm([p for p in paths if (p, n_mfcc) not in _FEATURES], desc=desc):
        _FEATURES[(path, n_mfcc)] = utterance_features(load_audio(path), n_mfcc)
    return np.stack([_FEATURES[(p, n_mfcc)] for p in paths])


def fit_svm(split, labels: list[str], args: BaselineArguments, seed: int = 0):
    """``(pipeline, validation UA by C)``: the SVM refit on the training part with the ``C`` that scores best
    on the validation part."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x = {part: featurize(split[part]["path"], args.n_mfcc, f"MFCC statistics ({part})") for part in ("train", "validation")}
    y = {part: np.asarray(split[part]["label"]) for part in ("train", "validation")}

    def svm(c: float):
        return make_pipeline(StandardScaler(), SVC(C=c, kernel=args.kernel, class_weight="balanced", random_state=seed))

    scores = {c: ser_metrics(svm(c).fit(x["train"], y["train"]).predict(x["validation"]), y["validation"],
                             labels)["ua"] for c in args.c_grid}
    return svm(max(scores, key=scores.get)).fit(x["train"], y["train"]), scores


def run_baseline(data, args: BaselineArguments, seed: int = 0) -> dict:
    """Train on the fold's training speakers, pick C on its validation speakers, report on its test speakers."""
    started = time.time()
    split, labels = load_fold(data, seed=seed)
    model, scores = fit_svm(split, labels, args, seed)
    x_test = featurize(split["test"]["path"], args.n_mfcc, "MFCC statistics (test)")
    title = f"MFCC-statistics SVM on {'+'.join(data.corpora)}, {data.protocol} fold {data.fold}"
    metrics = write_report(args.output_dir, model.predict(x_test), np.asarray(split["test"]["label"]), labels,
                           rows=split["test"], title=title)
    summary = {"validation_ua_by_c": {str(c): s for c, s in scores.items()}, "chosen_c": max(scores, key=scores.get),
               "test": {k: metrics[k] for k in (*KEYS, "num_records")},
               "wall_time_s": round(time.time() - started, 1)}
    (Path(args.output_dir) / "baseline.json").write_text(json.dumps(summary, indent=2))
    return summary


def crossval_baseline(data, args: BaselineArguments, output_dir: str | Path) -> dict:
    """Every fold of the recipe's protocol (reports in ``output_dir/foldK``), then ``crossval.json``/``.md``."""
    from dataclasses import replace

    from ..data.protocols import num_folds

    folds = []
    for fold in range(1, num_folds(data.protocol) + 1):
        summary = run_baseline(replace(data, fold=fold), replace(args, output_dir=str(Path(output_dir) / f"fold{fold}")))
        folds.append({"fold": fold, **summary["test"], "wall_time_s": summary["wall_time_s"]})
    return summarize_folds(data.protocol, folds, output_dir)


def cross_corpus_baseline(corpora: list[str], data_dir, output_dir, label_set: str = "core6",
                          args: BaselineArguments | None = None) -> dict:
    """The baseline's cross-corpus matrix on ``label_set``: the SVM of each row is trained on fold 1 of its
    corpus's own protocol (C from the validation speakers); it is scored on that fold's test speakers (the
    diagonal, speaker-independent) and on the whole of every other corpus."""
    from ..data.corpora import get_corpus
    from ..data.loading import load_corpus
    from ..evaluation.cross_corpus import write_cross_corpus

    args = args or BaselineArguments()
    out = Path(output_dir)
    matrix: dict = {}
    for train_corpus in corpora:
        data = DataArguments(corpora=[train_corpus], data_dir=str(data_dir), label_set=label_set,
                             protocol=get_corpus(train_corpus).protocol, fold=1)
        split, labels = load_fold(data)
        model, _ = fit_svm(split, labels, args)
        for test_corpus in corpora:
            rows = split["test"] if test_corpus == train_corpus else load_corpus(test_corpus, data_dir, label_set)
            x = featurize(rows["path"], args.n_mfcc, f"MFCC statistics ({test_corpus})")
            result = write_report(out / f"{train_corpus}_on_{test_corpus}", model.predict(x), np.asarray(rows["label"]),
                                  labels, rows=rows, title=f"MFCC-statistics SVM trained on {train_corpus}, tested on {test_corpus}")
            matrix.setdefault(train_corpus, {})[test_corpus] = {"ua": result["ua"], "wa": result["wa"]}
    note = ("Each row's SVM is trained on fold 1 of its corpus's protocol; the diagonal is that fold's unseen test "
            "speakers, the other cells the whole of the other corpus.")
    return write_cross_corpus(matrix, out, label_set, {c: f"SVM, {get_corpus(c).protocol} fold 1" for c in corpora},
                              note=note)


def parse_baseline_recipe(argv: list[str]) -> tuple[DataArguments, BaselineArguments]:
    """``(DataArguments, BaselineArguments)`` from ``[RECIPE] [--key value ...]``, through the training recipes' parser."""
    recipe, overrides = (argv[0], argv[1:]) if argv and not argv[0].startswith("--") else (None, argv)
    return parse_arguments((DataArguments, BaselineArguments), recipe, overrides, what="baseline")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        data, args = parse_baseline_recipe(argv)
        if args.crossval:
            summary = crossval_baseline(data, args, args.output_dir)
            print(json.dumps({k: summary[k] for k in KEYS}))
            return 0
        summary = run_baseline(data, args)
    except (SerError, FileNotFoundError) as err:
        print(f"ser-hf baseline: error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(summary["test"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
