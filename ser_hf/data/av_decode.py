"""Decoding through FFmpeg (PyAV, which ships FFmpeg's libraries in its wheel): what libsndfile cannot read.

Phone voice memos (M4A/MP4 with AAC or ALAC), raw AAC, WebM and Matroska (what browsers record), WMA, AMR and
whatever else FFmpeg reads. :func:`ser_hf.data.audio_files.load_audio` calls it when libsndfile refuses a file.
"""

from __future__ import annotations

import os

import numpy as np


class AvDecodeError(Exception):
    """FFmpeg could not open or decode the file; the message is FFmpeg's, shortened."""


def decode_with_av(path: str | os.PathLike, max_seconds: float | None = None) -> tuple[np.ndarray, int]:
    """The first audio stream of ``path`` as float32 ``(samples, channels)`` at its own rate, and that rate.

    With ``max_seconds``, decoding stops once that much audio is read (the rest is never decoded).
    """
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, ValueError, OSError) as err:
        raise AvDecodeError(_short(err)) from None
    with container:
        if not container.streams.audio:
            raise AvDecodeError("no audio stream")
        stream = container.streams.audio[0]
        # Planar float at the stream's own rate and channels: the one normalizer does the downmix and resampling.
        resampler = av.AudioResampler(format="fltp")
        chunks, total, rate = [], 0, None
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    rate = out.sample_rate
                    chunks.append(out.to_ndarray())
                    total += chunks[-1].shape[1]
                if max_seconds is not None and rate and total >= max_seconds * rate:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
        except (av.FFmpegError, ValueError) as err:
            if not chunks:
                raise AvDecodeError(_short(err)) from None
            # A truncated file: keep what decoded, as libsndfile does.
    if not chunks or rate is None:
        raise AvDecodeError("no audio samples")
    data = np.concatenate(chunks, axis=1).T.astype(np.float32, copy=False)
    if max_seconds is not None:
        data = data[: int(round(max_seconds * rate))]
    return np.ascontiguousarray(data), int(rate)


def _short(err: Exception) -> str:
    """FFmpeg's reason without its error number and the path it repeats."""
    text = getattr(err, "strerror", None) or str(err).strip() or type(err).__name__
    return str(text).splitlines()[0].rstrip(".")
