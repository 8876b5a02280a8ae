"""Shared fixtures: the real corpora (skipped where absent) and generated audio trees."""

from __future__ import annotations

import os

# One thread per test process (torch, ONNX Runtime's intra-op pools): the suite runs two workers on two cores, and two
# workers each taking every core (and the processes they start) ran it a third slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path | None:
    env = os.environ.get("SER_HF_DATA")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("the corpora are absent: set SER_HF_DATA or place them in ../shared/data")
    return path


def tone(seconds: float = 1.0, sampling_rate: int = 16000, freq: float = 220.0, amplitude: float = 0.3) -> np.ndarray:
    """A voiced-looking test signal: a harmonic tone with a slow amplitude envelope, float32 (samples,)."""
    t = np.arange(int(seconds * sampling_rate)) / sampling_rate
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, 5))
    return (amplitude * envelope * wave / 2).astype(np.float32)


def write_audio(
    path: Path,
    seconds: float = 1.0,
    sampling_rate: int = 16000,
    channels: int = 1,
    silent: bool = False,
    fmt: str = "WAV",
    subtype: str = "PCM_16",
    freq: float = 220.0,
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    wave = np.zeros(int(seconds * sampling_rate), np.float32) if silent else tone(seconds, sampling_rate, freq)
    data = np.stack([wave] * channels, axis=1) if channels > 1 else wave
    sf.write(str(path), data, sampling_rate, format=fmt, subtype=subtype)
    return path


@pytest.fixture
def audio_writer():
    return write_audio


def write_with_ffmpeg(path: Path, wave: np.ndarray, sampling_rate: int = 44100, codec: str = "aac",
                      channels: int = 2) -> Path:
    """Encode ``wave (samples,)`` with FFmpeg through PyAV (an M4A voice memo, a WebM recording, ...)."""
    import av

    layout = "stereo" if channels == 2 else "mono"
    planar = np.tile(wave.astype(np.float32), (channels, 1))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=sampling_rate, layout=layout)
        fmt = stream.codec_context.codec.audio_formats[0].name
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=sampling_rate)
        frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout=layout)
        frame.sample_rate = sampling_rate
        for chunk in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def voice(seconds: float = 2.0, sampling_rate: int = 16000, seed: int = 0) -> np.ndarray:
    """A voiced-sounding test signal: a gliding harmonic tone with a syllable-rate envelope, float32 (samples,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sampling_rate)) / sampling_rate
    f0 = 150 + 30 * np.sin(2 * np.pi * 0.8 * t)
    wave = sum(np.sin(k * 2 * np.pi * np.cumsum(f0) / sampling_rate) / k for k in range(1, 8))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t)
    return (0.2 * wave * envelope + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


def save_tiny_cnn(folder: Path, labels: list[str], hidden_size: int = 16, num_blocks: int = 1) -> Path:
    """Save a small untrained CNN and its feature extractor, as `ser-hf train` would (seeded: reproducible)."""
    import torch

    from ser_hf import SerCnnConfig, SerCnnForAudioClassification, SerFeatureExtractor

    torch.manual_seed(0)
    config = SerCnnConfig(hidden_size=hidden_size, num_blocks=num_blocks, id2label=dict(enumerate(labels)),
                          label2id={label: i for i, label in enumerate(labels)})
    SerCnnForAudioClassification(config).save_pretrained(folder)
    SerFeatureExtractor().save_pretrained(folder)
    return folder


# RAVDESS emotion codes -> the label names a user might use (three canonical spellings and one label of their own).
USER_LABELS = {"01": "Neutral", "05": "anger", "03": "Happiness", "04": "tired"}


def make_user_recordings(data_root: Path, out: Path, *, actors=(1, 2, 3, 4), per_label: int = 3,
                         metadata: bool = True) -> Path:
    """A user's labelled folder built from RAVDESS clips: ``out/<label>/spkN_<name>.ogg`` (one subfolder per label)
    and, with ``metadata``, a ``metadata.csv`` (``file_name``, ``label``, ``speaker``)."""
    import csv
    import shutil

    rows = []
    for actor in actors:
        for code, label in USER_LABELS.items():
            for clip in sorted((data_root / "ravdess" / f"Actor_{actor:02d}").glob(f"03-01-{code}-*.ogg"))[:per_label]:
                target = out / label / f"spk{actor}_{clip.name}"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(clip, target)
                rows.append({"file_name": f"{label}/{target.name}", "label": label, "speaker": f"spk{actor}"})
    if metadata:
        with open(out / "metadata.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, ["file_name", "label", "speaker"])
            writer.writeheader()
            writer.writerows(rows)
    return out


def run_ser_hf(*args, cwd: Path | str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """``ser-hf ARGS`` run in this process (a new process costs several seconds of imports; keep a subprocess where the
    process itself is what a test checks: signals, exit on import, environment read at import time): its exit code and
    what it printed, as ``subprocess.run(..., capture_output=True, text=True)`` returns them. ``env`` is set for the
    call only; ``cwd`` is the working directory during it."""
    import contextlib
    import io

    from ser_hf.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {key: os.environ.get(key) for key in env or {}}
    try:
        os.environ.update({key: str(value) for key, value in (env or {}).items()})
        with contextlib.chdir(cwd or os.getcwd()), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(a) for a in args])
            except SystemExit as exit_:  # argparse's usage errors and --help
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return subprocess.CompletedProcess(["ser-hf", *map(str, args)], code, out.getvalue(), err.getvalue())
