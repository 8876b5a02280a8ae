"""Audio files: decoding any format libsndfile reads, then the one normalizer (:mod:`ser_hf.models.audio`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile as sf

from ..models.audio import normalize_audio
from ..models.errors import SerAudioError

DEFAULT_SAMPLING_RATE = 16000

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".ogg", ".opus", ".flac", ".aiff", ".aif", ".mp3")


def load_audio(path: str | os.PathLike, sampling_rate: int = DEFAULT_SAMPLING_RATE) -> np.ndarray:
    """Read any file libsndfile reads (WAV, AIFF, FLAC, Ogg Vorbis/Opus, MP3) as mono float32 at ``sampling_rate``.

    Returns an array of shape ``(samples,)``. Raises :class:`SerAudioError` naming the path when the file is
    missing, a folder, empty or undecodable, or when it decodes to no samples or to NaN/inf.
    """
    path = Path(path)
    if path.is_dir():
        raise SerAudioError(f"{path} is a directory; expected an audio file.")
    if not path.is_file():
        raise SerAudioError(f"Audio file not found: {path}.")
    if path.stat().st_size == 0:
        raise SerAudioError(f"{path} is empty (0 bytes); expected a WAV, AIFF, FLAC, Ogg or MP3 file.")
    try:
        data, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise SerAudioError(
            f"Cannot read {path} as audio ({_short(err)}); expected a WAV, AIFF, FLAC, Ogg or MP3 file."
        ) from None
    return normalize_audio(data, int(file_sr), sampling_rate, what=f"audio in {path}")


def audio_info(path: str | os.PathLike) -> sf._SoundFileInfo:
    """Header information (sample rate, frames, channels, format) without decoding; raises :class:`SerAudioError`."""
    try:
        return sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise SerAudioError(f"Cannot read {path} as audio ({_short(err)}).") from None


def _short(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text.rstrip(".")
