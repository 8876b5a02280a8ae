"""Audio input: loading, channel mixing and resampling, and the preprocessing chain.

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

DEFAULT_SAMPLING_RATE = 16000
# Peak below which a clip counts as digital silence. The Opus copy of CREMA-D's silent clip decodes to
# values below 1e-30, and a real recording's noise floor sits far above 1e-6 (-120 dBFS).
SILENCE_PEAK = 1e-6

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".ogg", ".opus", ".flac", ".aiff", ".aif", ".mp3")


def to_mono(waveform: np.ndarray) -> np.ndarray:
    """Average the channels of ``waveform`` into a mono float32 array of shape ``(samples,)``.

    Accepts ``(samples,)``, ``(samples, channels)`` or ``(channels, samples)`` (the smaller axis is
    taken as channels). Raises :class:`SerAudioError` for arrays of more than two dimensions.
    """
    waveform = np.asarray(waveform)
    if waveform.ndim == 1:
        return as_float32(waveform)
    if waveform.ndim != 2:
        raise SerAudioError(
            f"Expected mono audio of shape (samples,) or (samples, channels), got an array of shape {waveform.shape}."
        )
    channel_axis = 1 if waveform.shape[1] <= waveform.shape[0] else 0
    return as_float32(waveform).mean(axis=channel_axis).astype(np.float32)


def as_float32(waveform: np.ndarray) -> np.ndarray:
    """Convert integer PCM (int16, int32, uint8) or float audio to float32 in [-1, 1]."""
    waveform = np.asarray(waveform)
    if waveform.dtype == np.uint8:
        return (waveform.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(waveform.dtype, np.integer):
        return waveform.astype(np.float32) / float(np.iinfo(waveform.dtype).max + 1)
    if np.issubdtype(waveform.dtype, np.floating):
        return waveform.astype(np.float32, copy=False)
    raise SerAudioError(f"Expected numeric audio samples, got dtype {waveform.dtype}.")


def resample(waveform: np.ndarray, orig_sr: int, target_sr: int = DEFAULT_SAMPLING_RATE) -> np.ndarray:
    """Resample a mono float32 waveform from ``orig_sr`` to ``target_sr`` Hz with soxr (high quality)."""
    if orig_sr <= 0 or target_sr <= 0:
        raise SerAudioError(f"Sampling rates must be positive, got {orig_sr} and {target_sr}.")
    if orig_sr == target_sr:
        return waveform
    return soxr.resample(waveform, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def check_waveform(waveform: np.ndarray, what: str = "audio") -> np.ndarray:
    """Raise :class:`SerAudioError` if ``waveform`` is empty or holds NaN or infinite values."""
    if waveform.size == 0:
        raise SerAudioError(f"The {what} is empty (0 samples); expected at least a few milliseconds of sound.")
    if not np.all(np.isfinite(waveform)):
        raise SerAudioError(f"The {what} contains NaN or infinite samples; expected finite values in [-1, 1].")
    return waveform


def is_silent(waveform: np.ndarray, threshold: float = SILENCE_PEAK) -> bool:
    """Whether ``waveform`` is digital silence (peak magnitude below ``threshold``)."""
    return waveform.size == 0 or float(np.max(np.abs(waveform))) < threshold


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
