"""Audio files: libsndfile first, FFmpeg (PyAV) for the rest, then the one normalizer (:mod:`ser_hf.models.audio`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from ..models.audio import normalize_audio
from ..models.errors import SerAudioError
from .av_decode import AvDecodeError, decode_with_av

DEFAULT_SAMPLING_RATE = 16000

AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".ogg", ".opus", ".flac", ".aiff", ".aif", ".mp3", ".m4a", ".mp4",
                                     ".aac", ".webm", ".mkv", ".mka", ".wma", ".amr", ".3gp", ".caf")
_LIBSNDFILE_EXTENSIONS = (".wav", ".ogg", ".opus", ".flac", ".aiff", ".aif", ".mp3")
FORMATS = "an audio file (WAV, FLAC, Ogg, MP3, M4A/AAC, WebM or another format FFmpeg reads)"


def load_audio(path: str | os.PathLike, sampling_rate: int = DEFAULT_SAMPLING_RATE,
               max_duration_s: float | None = None) -> np.ndarray:
    """Read an audio file as mono float32 at ``sampling_rate``: shape ``(samples,)``.

    libsndfile reads WAV, AIFF, FLAC, Ogg Vorbis/Opus and MP3; FFmpeg (PyAV) reads the rest: M4A/MP4 (AAC,
    ALAC), raw AAC, WebM, WMA, AMR, ... With ``max_duration_s`` only the first that many seconds are decoded.
    Raises :class:`SerAudioError` naming the path when the file is missing, a folder, empty or undecodable, or
    when it decodes to no samples or to NaN/inf.
    """
    path = Path(path)
    if path.is_dir():
        raise SerAudioError(f"{path} is a directory; expected an audio file.")
    if not path.is_file():
        raise SerAudioError(f"Audio file not found: {path}.")
    if path.stat().st_size == 0:
        raise SerAudioError(f"{path} is empty (0 bytes); expected {FORMATS}.")
    try:
        data, file_sr = _read_soundfile(path, max_duration_s)
    except (sf.LibsndfileError, RuntimeError, TypeError) as sf_err:
        try:
            data, file_sr = decode_with_av(path, max_duration_s)
        except AvDecodeError as av_err:
            reason = _short(sf_err) if path.suffix.lower() in _LIBSNDFILE_EXTENSIONS else str(av_err)
            raise SerAudioError(f"Cannot read {path} as audio ({reason}); expected {FORMATS}.") from None
    return normalize_audio(data, int(file_sr), sampling_rate, what=f"audio in {path}")


def audio_duration(path: str | os.PathLike) -> float | None:
    """A file's duration in seconds from its header (nothing decoded), or ``None`` when the header does not say."""
    try:
        return float(sf.info(str(path)).duration)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        pass
    try:
        import av

        with av.open(str(path)) as container:
            return float(container.duration) / 1_000_000 if container.duration else None  # av.time_base units
    except Exception:  # noqa: BLE001 - any failure means "unknown", never an error here
        return None


def _read_soundfile(path: Path, max_duration_s: float | None) -> tuple[np.ndarray, int]:
    """libsndfile's ``(samples, channels)`` float32 and rate; with ``max_duration_s`` only that many frames."""
    if max_duration_s is None:
        return sf.read(str(path), dtype="float32", always_2d=True)
    with sf.SoundFile(str(path)) as f:
        return f.read(int(round(max_duration_s * f.samplerate)), dtype="float32", always_2d=True), f.samplerate


def _short(err: Exception) -> str:
    """libsndfile's reason without the path it repeats: "Error opening '/x.wav': Format not recognised" -> the end."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return re.sub(r"^Error opening '.*?': ", "", text).rstrip(".")
