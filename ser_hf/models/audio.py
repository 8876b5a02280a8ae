"""The one audio normalizer: any array of samples -> a mono float32 waveform ``(samples,)`` at a given rate.

Every way audio enters ser_hf (files, arrays, stream chunks, Space uploads, dataset rows) goes through
:func:`normalize_audio`, which owns the four rules, documented here once:

- **Channel axis.** A 1-D array is mono. A 2-D array is ``(samples, channels)`` (soundfile, sounddevice,
  Gradio) when its last axis has at most ``MAX_CHANNELS`` entries, else ``(channels, samples)`` (torchaudio,
  librosa) when its first axis has; the channels are averaged. Anything else is refused.
- **Dtype.** Floats are taken as they are (in [-1, 1]); signed integers are divided by ``2 ** (bits - 1)``
  (int16 by 32768), ``uint8`` is centred on 128. Booleans, complex numbers and objects are refused.
- **Rate.** Resampled to the target rate with soxr (high quality) when it differs.
- **Finite values.** NaN or infinite samples are refused, and so is an empty array unless it is allowed
  (a stream chunk may be empty).

This module travels with a saved model (the feature extractor imports it), so it needs only numpy;
soxr is imported when a resampling is asked for.
"""

from __future__ import annotations

import numpy as np

from .errors import SerAudioError

MAX_CHANNELS = 8


def channel_axis(shape: tuple[int, ...]) -> int | None:
    """The channel axis of a 2-D ``shape``: 1 for ``(samples, channels)``, 0 for ``(channels, samples)``, or
    ``None`` when neither axis is short enough to be channels."""
    if shape[-1] <= MAX_CHANNELS:
        return 1
    return 0 if shape[0] <= MAX_CHANNELS else None


def as_float32(samples: np.ndarray) -> np.ndarray:
    """Integer PCM (int8-int64, uint8) or float samples as float32; integers are scaled to [-1, 1)."""
    samples = np.asarray(samples)
    if samples.dtype == np.uint8:
        return (samples.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(samples.dtype, np.signedinteger):
        return samples.astype(np.float32) / float(np.iinfo(samples.dtype).max + 1)
    if np.issubdtype(samples.dtype, np.floating):
        return samples.astype(np.float32, copy=False)
    raise SerAudioError(f"Expected numeric audio samples (integers or floats), got dtype {samples.dtype}.")


def check_waveform(waveform: np.ndarray, what: str = "audio", allow_empty: bool = False) -> np.ndarray:
    """Raise :class:`SerAudioError` if ``waveform`` is empty (unless allowed) or holds NaN or infinite values."""
    if waveform.size == 0 and not allow_empty:
        raise SerAudioError(f"The {what} is empty (0 samples); expected at least a few milliseconds of sound.")
    if not np.all(np.isfinite(waveform)):
        raise SerAudioError(f"The {what} contains NaN or infinite samples; expected finite values in [-1, 1].")
    return waveform


def to_mono(samples: np.ndarray, what: str = "audio") -> np.ndarray:
    """Average the channels of ``(samples,)``, ``(samples, channels)`` or ``(channels, samples)`` into float32 ``(samples,)``."""
    samples = as_float32(samples)
    if samples.ndim == 1:
        return samples
    axis = channel_axis(samples.shape) if samples.ndim == 2 else None
    if axis is None:
        raise SerAudioError(
            f"Expected the {what} as mono (samples,), or as (samples, channels) or (channels, samples) with at "
            f"most {MAX_CHANNELS} channels, got an array of shape {samples.shape}."
        )
    return samples.mean(axis=axis, dtype=np.float32)


def resample(waveform: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample a mono float32 waveform from ``orig_sr`` to ``target_sr`` Hz with soxr (high quality)."""
    if orig_sr <= 0 or target_sr <= 0:
        raise SerAudioError(f"Sampling rates must be positive, got {orig_sr} and {target_sr}.")
    if orig_sr == target_sr:
        return waveform
    try:
        import soxr
    except ImportError:
        raise SerAudioError(f"Resampling from {orig_sr} Hz needs the soxr package: pip install soxr.") from None
    return soxr.resample(waveform, orig_sr, target_sr, quality="HQ").astype(np.float32, copy=False)


def normalize_audio(
    samples,
    sampling_rate: int | None,
    target_rate: int | None = None,
    *,
    what: str = "audio",
    allow_empty: bool = False,
) -> np.ndarray:
    """Samples in any layout, dtype and rate -> mono float32 ``(samples,)`` at ``target_rate`` (default: unchanged).

    Args:
        samples: an array (or list, or tensor) of shape ``(samples,)``, ``(samples, channels)`` or
            ``(channels, samples)``.
        sampling_rate: the rate of ``samples`` in Hz; required.
        target_rate: the rate to return; ``None`` keeps ``sampling_rate``.
        what: how error messages name the input (``"audio in a.wav"``, ``"chunk"``).
        allow_empty: accept 0 samples (stream chunks).
    """
    if sampling_rate is None:
        raise SerAudioError(f"Pass the sampling rate of the {what} (for example sampling_rate=16000).")
    if hasattr(samples, "detach"):  # a torch tensor, without importing torch here
        samples = samples.detach().cpu().numpy()
    waveform = check_waveform(to_mono(np.asarray(samples), what), what, allow_empty)
    waveform = np.ascontiguousarray(waveform, dtype=np.float32)
    if target_rate is None or waveform.size == 0:
        return waveform
    return resample(waveform, int(sampling_rate), int(target_rate))
