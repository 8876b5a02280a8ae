"""Degradations of clean speech through maintained libraries: coloured noise and gain (audiomentations), room
reverberation (impulse responses simulated once with pyroomacoustics, applied by audiomentations), a telephone
channel (8 kHz, 300-3400 Hz, GSM 6.10 through libsndfile) and lossy codecs (MP3 and Opus through libsndfile).

One implementation serves training-time augmentation (:mod:`ser_hf.train.augment`) and the robustness report
(``ser-hf evaluate --conditions``). Every function takes a mono float32 waveform ``(samples,)`` at 16 kHz and
a ``seed``, returns a new float32 array of the same length, and draws nothing from global state that it
does not restore: the same seed gives the same degradation.

Conditions are written ``name[:value[:value]]``: ``clean``, ``noise:SNR[:white|pink|brown]``, ``reverb[:RT60]``,
``telephone``, ``quiet:PEAK_DBFS``, ``gain:DB``, ``codec[:mp3|opus[:LEVEL]]`` (LEVEL: libsndfile's compression
level in [0, 1], 1 the smallest file).
"""

from __future__ import annotations

import io
import os
import random
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from ..models.audio import resample
from ..models.errors import SerError
from ..models.preprocessing import normalize

RATE = 16000
# Spectral slope of each noise colour in dB per octave (audiomentations' f_decay).
COLOURS = {"white": 0.0, "pink": -3.01, "brown": -6.02}
CODECS = {"mp3": ("MP3", "MPEG_LAYER_III"), "opus": ("OGG", "OPUS")}
RT60_RANGE = (0.2, 1.0)
IMPULSE_RESPONSES = 24


@contextmanager
def seeded(seed: int):
    """Seed ``random`` and numpy's global generator (which audiomentations draws from), and restore them after."""
    states = random.getstate(), np.random.get_state()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])


def add_noise(wave: np.ndarray, snr_db: float | tuple[float, float], colour: str = "white", seed: int = 0) -> np.ndarray:
    """Noise of ``colour`` (white, pink, brown) at ``snr_db`` (or a random SNR in a ``(low, high)`` range)."""
    from audiomentations import AddColorNoise

    if colour not in COLOURS:
        raise SerError(f"Unknown noise colour {colour!r}; expected one of {', '.join(COLOURS)}.")
    low, high = snr_db if isinstance(snr_db, tuple) else (snr_db, snr_db)
    transform = AddColorNoise(min_snr_db=low, max_snr_db=high, min_f_decay=COLOURS[colour],
                              max_f_decay=COLOURS[colour], p=1.0)
    with seeded(seed):
        return transform(samples=wave, sample_rate=RATE).astype(np.float32)


def apply_gain(wave: np.ndarray, gain_db: float | tuple[float, float], seed: int = 0) -> np.ndarray:
    """A gain of ``gain_db`` (or a random one in a ``(low, high)`` range), through audiomentations' ``Gain``."""
    from audiomentations import Gain

    low, high = gain_db if isinstance(gain_db, tuple) else (gain_db, gain_db)
    with seeded(seed):
        return Gain(min_gain_db=low, max_gain_db=high, p=1.0)(samples=wave, sample_rate=RATE).astype(np.float32)


def impulse_response_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """A folder of ``IMPULSE_RESPONSES`` room impulse responses (RT60 spread over 0.2-1.0 s, shoe-box rooms of 3-10 m,
    simulated once with pyroomacoustics by the image method and cached as WAV files)."""
    root = Path(cache_dir or os.environ.get("SER_HF_CACHE") or Path.home() / ".cache" / "ser_hf") / "impulse_responses"
    if len(list(root.glob("rt60_*.wav"))) >= IMPULSE_RESPONSES:
        return root
    import pyroomacoustics as pra

    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i, rt60 in enumerate(np.linspace(*RT60_RANGE, IMPULSE_RESPONSES)):
        dims = rng.uniform([3, 3, 2.4], [10, 8, 3.5])
        absorption, max_order = pra.inverse_sabine(float(rt60), dims)
        room = pra.ShoeBox(dims, fs=RATE, materials=pra.Material(absorption), max_order=min(max_order, 40))
        room.add_source(rng.uniform(0.5, dims - 0.5))
        room.add_microphone(rng.uniform(0.5, dims - 0.5))
        room.compute_rir()
        rir = np.asarray(room.rir[0][0], dtype=np.float32)
        sf.write(str(root / f"rt60_{rt60:.2f}_{i:02d}.wav"), rir / np.abs(rir).max(), RATE, subtype="FLOAT")
    return root


@lru_cache(maxsize=32)
def _impulse_response_transform(rt60: float | None, cache_dir: str | None):
    from audiomentations import ApplyImpulseResponse

    paths = sorted(impulse_response_dir(cache_dir).glob("rt60_*.wav"))
    if rt60 is not None:
        paths = [min(paths, key=lambda p: abs(float(p.name.split("_")[1]) - rt60))]
    return ApplyImpulseResponse(ir_path=[str(p) for p in paths], p=1.0, leave_length_unchanged=True)


def reverberate(wave: np.ndarray, rt60: float | None = None, seed: int = 0, cache_dir=None) -> np.ndarray:
    """Room reverberation: the cached impulse response closest to ``rt60`` (or a random one), through
    audiomentations' ``ApplyImpulseResponse`` (which keeps the responses in memory); the length and peak are kept."""
    transform = _impulse_response_transform(rt60, str(cache_dir) if cache_dir else None)
    with seeded(seed):
        out = transform(samples=wave, sample_rate=RATE)
    return normalize(out.astype(np.float32), RATE, "peak", _peak_db(wave))


def telephone(wave: np.ndarray, seed: int = 0) -> np.ndarray:
    """A narrow-band call: 300-3400 Hz (audiomentations' filters), 8 kHz, GSM 6.10 (libsndfile), back to 16 kHz."""
    from audiomentations import Compose, HighPassFilter, LowPassFilter

    band = Compose([HighPassFilter(min_cutoff_freq=300, max_cutoff_freq=300, p=1.0),
                    LowPassFilter(min_cutoff_freq=3400, max_cutoff_freq=3400, p=1.0)])
    with seeded(seed):
        narrow = band(samples=wave, sample_rate=RATE)
    coded = _round_trip(resample(narrow.astype(np.float32), RATE, 8000), 8000, "WAV", "GSM610")
    return _same_length(resample(coded, 8000, RATE), len(wave))


def lossy_codec(wave: np.ndarray, codec: str = "mp3", level: float = 0.9, seed: int = 0) -> np.ndarray:
    """Encode and decode with ``codec`` (``mp3`` or ``opus``) at libsndfile's compression ``level`` (1: smallest)."""
    if codec not in CODECS:
        raise SerError(f"Unknown codec {codec!r}; expected one of {', '.join(CODECS)}.")
    return _same_length(_round_trip(wave, RATE, *CODECS[codec], compression_level=level), len(wave))


def _round_trip(wave: np.ndarray, rate: int, fmt: str, subtype: str, **options) -> np.ndarray:
    if not wave.size:  # libsndfile cannot open an empty stream
        return wave.astype(np.float32)
    buffer = io.BytesIO()
    # NaN would abort the process inside LAME (an assertion), not raise.
    sf.write(buffer, np.clip(np.nan_to_num(wave), -1, 1), rate, format=fmt, subtype=subtype, **options)
    buffer.seek(0)
    decoded, decoded_rate = sf.read(buffer, dtype="float32")
    decoded = decoded.mean(axis=1) if decoded.ndim > 1 else decoded
    return resample(decoded.astype(np.float32), int(decoded_rate), rate)


def _same_length(wave: np.ndarray, length: int) -> np.ndarray:
    return np.pad(wave, (0, max(0, length - len(wave))))[:length].astype(np.float32)


def _peak_db(wave: np.ndarray) -> float:
    peak = float(np.max(np.abs(wave))) if wave.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else -1.0


def parse_condition(condition: str):
    """``"noise:10:pink"`` -> a function ``(wave, seed) -> wave``; raises :class:`SerError` for unknown names."""
    name, *values = condition.strip().split(":")
    try:
        if name == "clean" and not values:
            return lambda wave, seed: wave
        if name == "noise":
            return lambda wave, seed: add_noise(wave, float(values[0]), values[1] if len(values) > 1 else "white", seed)
        if name == "reverb":
            rt60 = float(values[0]) if values else 0.6
            return lambda wave, seed: reverberate(wave, rt60, seed)
        if name == "telephone" and not values:
            return lambda wave, seed: telephone(wave, seed)
        if name == "quiet":
            return lambda wave, seed: normalize(wave, RATE, "peak", float(values[0]))
        if name == "gain":
            return lambda wave, seed: apply_gain(wave, float(values[0]), seed)
        if name == "codec":
            codec, level = (values + ["mp3"])[0], float(values[1]) if len(values) > 1 else 0.9
            if codec not in CODECS:
                raise ValueError
            return lambda wave, seed: lossy_codec(wave, codec, level, seed)
    except (IndexError, ValueError):
        pass
    raise SerError(f"Unknown condition {condition!r}; expected clean, noise:SNR[:white|pink|brown], reverb[:RT60], "
                   "telephone, quiet:PEAK_DBFS, gain:DB or codec[:mp3|opus[:LEVEL]].")
