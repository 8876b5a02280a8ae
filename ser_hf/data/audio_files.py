"""Audio input: loading any format libsndfile reads, channel mixing and resampling (soxr).

The numpy preprocessing chain lives in :mod:`ser_hf.preprocessing` and is re-exported here.

All functions take and return ``numpy`` arrays. A waveform is a float32 array of shape
``(samples,)`` (mono) in [-1, 1]; multi-channel input has shape ``(samples, channels)`` as
soundfile returns it, or ``(channels, samples)`` when channels are fewer than samples.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .errors import SerAudioError
from .preprocessing import (  # noqa: F401  (re-exported: the whole chain is reachable from ser_hf.audio)
    SILENCE_PEAK,
    as_float32,
    check_waveform,
    integrated_loudness,
    is_silent,
    normalize,
    pre_emphasis,
    preprocess,
    reduce_noise,
    remove_dc,
    to_mono,
    trim_silence,
)

DEFAULT_SAMPLING_RATE = 16000

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".ogg", ".opus", ".flac", ".aiff", ".aif", ".mp3")


def resample(waveform: np.ndarray, orig_sr: int, target_sr: int = DEFAULT_SAMPLING_RATE) -> np.ndarray:
    """Resample a mono float32 waveform from ``orig_sr`` to ``target_sr`` Hz with soxr (high quality)."""
    if orig_sr <= 0 or target_sr <= 0:
        raise SerAudioError(f"Sampling rates must be positive, got {orig_sr} and {target_sr}.")
    if orig_sr == target_sr:
        return waveform
    return soxr.resample(waveform, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def load_audio(path: str | os.PathLike, sampling_rate: int = DEFAULT_SAMPLING_RATE) -> np.ndarray:
    """Read any file libsndfile reads (WAV, AIFF, FLAC, Ogg Vorbis/Opus, MP3) as mono float32 at ``sampling_rate``.

    Returns an array of shape ``(samples,)``. Raises :class:`SerAudioError` with the path when the file
    is missing or cannot be decoded, or when it decodes to no samples or to NaN/inf.
    """
    path = Path(path)
    if not path.is_file():
        raise SerAudioError(f"Audio file not found: {path}.")
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise SerAudioError(
            f"Cannot read {path} as audio ({_short(err)}); expected a WAV, AIFF, FLAC, Ogg or MP3 file."
        ) from None
    waveform = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    check_waveform(waveform, what=f"audio in {path}")
    return resample(np.ascontiguousarray(waveform, dtype=np.float32), int(file_sr), sampling_rate)


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Header information (sample rate, frames, channels, format) without decoding; raises :class:`SerAudioError`."""
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise SerAudioError(f"Cannot read {path} as audio ({_short(err)}).") from None


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text.rstrip(".")
