"""The signal-processing chain before features, numpy in and numpy out.

Every function takes a mono float32 waveform of shape ``(samples,)`` at ``sampling_rate`` Hz and
returns a new float32 array (the input is never modified). The order used by
:func:`preprocess` is: DC removal -> peak / RMS / loudness normalization -> trimming of leading and
trailing silence -> spectral-gating noise reduction -> pre-emphasis.

This module travels with a saved model (the feature extractor calls it), so it needs only numpy and scipy
(torch for the optional noise reduction).
"""

from __future__ import annotations

import numpy as np

from .audio import check_waveform
from .errors import SerAudioError

NORMALIZATIONS = ("peak", "rms", "loudness", None)
# Peak magnitude below which a waveform counts as digital silence (-120 dBFS).
SILENCE_PEAK = 1e-6


def is_silent(waveform: np.ndarray, threshold: float = SILENCE_PEAK) -> bool:
    """Whether ``waveform`` is digital silence (peak magnitude below ``threshold``)."""
    return waveform.size == 0 or float(np.max(np.abs(waveform))) < threshold


def remove_dc(waveform: np.ndarray) -> np.ndarray:
    """Subtract the mean (a DC offset shifts every frame's energy and biases the lowest mel bin)."""
    return (waveform - waveform.mean(dtype=np.float64)).astype(np.float32)


def _gain_to(waveform: np.ndarray, current_db: float, target_db: float) -> np.ndarray:
    if not np.isfinite(current_db):  # silence: nothing to scale
        return waveform.astype(np.float32, copy=True)
    return (waveform * np.float32(10 ** ((target_db - current_db) / 20))).astype(np.float32)


def peak_db(waveform: np.ndarray) -> float:
    peak = float(np.max(np.abs(waveform))) if waveform.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else -np.inf


def rms_db(waveform: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64)))) if waveform.size else 0.0
    return 20 * np.log10(rms) if rms > 0 else -np.inf


def _biquad(kind: str, fc: float, q: float, gain_db: float, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ-cookbook high-shelf or high-pass coefficients ``(b, a)`` at any rate (BS.1770's K-weighting)."""
    a_gain = 10 ** (gain_db / 40)
    w0 = 2 * np.pi * fc / rate
    alpha = np.sin(w0) / (2 * q)
    cos = np.cos(w0)
    if kind == "high_shelf":
        sq = 2 * np.sqrt(a_gain) * alpha
        b = [a_gain * ((a_gain + 1) + (a_gain - 1) * cos + sq), -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos),
             a_gain * ((a_gain + 1) + (a_gain - 1) * cos - sq)]
        a = [(a_gain + 1) - (a_gain - 1) * cos + sq, 2 * ((a_gain - 1) - (a_gain + 1) * cos),
             (a_gain + 1) - (a_gain - 1) * cos - sq]
    else:  # high_pass
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    return np.asarray(b) / a[0], np.asarray(a) / a[0]


def integrated_loudness(waveform: np.ndarray, sampling_rate: int) -> float:
    """Integrated loudness in LUFS after ITU-R BS.1770-4: K-weighting, 400 ms blocks with 75% overlap,
    an absolute gate at -70 LUFS and a relative gate 10 LU below the ungated mean. ``-inf`` for silence.
    Clips shorter than one block are measured as a single block."""
    from scipy.signal import lfilter  # 0.6 s to import: only loudness normalization needs it

    x = waveform.astype(np.float64)
    for kind, fc, q, gain in (("high_shelf", 1681.97, 0.7071752, 4.0), ("high_pass", 38.135, 0.5003270, 0.0)):
        b, a = _biquad(kind, fc, q, gain, sampling_rate)
        x = lfilter(b, a, x)
    block = int(round(0.4 * sampling_rate))
    step = max(1, block // 4)
    if len(x) <= block:
        powers = np.array([np.mean(x**2)])
    else:
        starts = np.arange(0, len(x) - block + 1, step)
        cumulative = np.concatenate([[0.0], np.cumsum(x**2)])
        powers = (cumulative[starts + block] - cumulative[starts]) / block
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(powers)
    gated = powers[loudness > -70]
    if gated.size == 0:
        return -np.inf
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10
    gated = powers[(loudness > -70) & (loudness > relative)]
    return float(-0.691 + 10 * np.log10(gated.mean()))


def normalize(waveform: np.ndarray, sampling_rate: int, method: str | None = "peak", target_db: float | None = None) -> np.ndarray:
    """Scale ``waveform`` so that its peak (dBFS), RMS (dBFS) or integrated loudness (LUFS) is ``target_db``.

    Defaults: peak -1 dBFS, RMS -20 dBFS, loudness -23 LUFS (EBU R 128). ``method=None`` returns a copy.
    """
    if method is None:
        return waveform.astype(np.float32, copy=True)
    if method == "peak":
        return _gain_to(waveform, peak_db(waveform), -1.0 if target_db is None else target_db)
    if method == "rms":
        return _gain_to(waveform, rms_db(waveform), -20.0 if target_db is None else target_db)
    if method == "loudness":
        return _gain_to(waveform, integrated_loudness(waveform, sampling_rate), -23.0 if target_db is None else target_db)
    raise SerAudioError(f"Unknown normalization {method!r}; expected 'peak', 'rms', 'loudness' or None.")


def frame_energy_db(waveform: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """RMS energy in dB of centred frames ``(frames,)``: frame i covers samples around ``i * hop_length``."""
    padded = np.pad(waveform, (frame_length // 2, frame_length // 2))
    n_frames = 1 + max(0, len(padded) - frame_length) // hop_length
    cumulative = np.concatenate([[0.0], np.cumsum(np.square(padded, dtype=np.float64))])
    starts = np.arange(n_frames) * hop_length
    power = (cumulative[starts + frame_length] - cumulative[starts]) / frame_length
    return 10 * np.log10(np.maximum(power, 1e-20))


def trim_silence(
    waveform: np.ndarray, sampling_rate: int, top_db: float = 40.0, frame_ms: float = 25.0, hop_ms: float = 10.0
) -> np.ndarray:
    """Cut leading and trailing frames quieter than ``top_db`` below the loudest frame (precision: one hop).

    Nothing is cut inside the utterance; a waveform with no frame above the threshold is returned whole.
    """
    frame = max(1, int(round(frame_ms * sampling_rate / 1000)))
    hop = max(1, int(round(hop_ms * sampling_rate / 1000)))
    energy = frame_energy_db(waveform, frame, hop)
    loud = np.flatnonzero(energy > energy.max() - top_db)
    if loud.size == 0 or not np.isfinite(energy.max()) or energy.max() <= -200:
        return waveform.astype(np.float32, copy=True)
    # Refine the edges inside the first and last loud frames: the first and last samples above the
    # threshold (as an amplitude relative to the peak) within those frames.
    threshold = float(np.max(np.abs(waveform))) * 10 ** (-top_db / 20)
    lo, hi = max(0, loud[0] * hop - frame // 2), min(len(waveform), loud[0] * hop + frame // 2 + 1)
    above = np.flatnonzero(np.abs(waveform[lo:hi]) > threshold)
    start = lo + int(above[0]) if above.size else lo
    lo, hi = max(0, loud[-1] * hop - frame // 2), min(len(waveform), loud[-1] * hop + frame // 2 + 1)
    above = np.flatnonzero(np.abs(waveform[lo:hi]) > threshold)
    end = lo + int(above[-1]) + 1 if above.size else hi
    return waveform[start:max(end, start + 1)].astype(np.float32, copy=True)


def reduce_noise(
    waveform: np.ndarray,
    sampling_rate: int,
    n_fft: int = 512,
    hop_length: int = 128,
    noise_quantile: float = 0.2,
    threshold_db: float = 6.0,
    reduction_db: float = 20.0,
) -> np.ndarray:
    """Stationary spectral gating: estimate each frequency's mean noise power from the quietest frames
    (``noise_quantile`` of them), attenuate time-frequency cells less than ``threshold_db`` above it by
    ``reduction_db``, smooth the gain over neighbouring cells, and resynthesize (same length)."""
    import torch

    x = torch.from_numpy(waveform.astype(np.float32))
    if len(x) < n_fft:
        return waveform.astype(np.float32, copy=True)
    window = torch.hann_window(n_fft)
    spec = torch.stft(x, n_fft, hop_length, window=window, return_complex=True)
    power = spec.abs().square()
    quiet = torch.argsort(power.sum(dim=0))[: max(1, int(noise_quantile * power.shape[1]))]
    floor = 10 * torch.log10(power[:, quiet].mean(dim=1, keepdim=True).clamp_min(1e-12))
    power_db = 10 * torch.log10(power.clamp_min(1e-12))
    gain = torch.where(power_db > floor + threshold_db, 1.0, 10 ** (-reduction_db / 20))
    kernel = torch.ones(1, 1, 3, 5) / 15  # smooth across 3 bins x 5 frames to avoid musical noise
    gain = torch.nn.functional.conv2d(gain[None, None], kernel, padding=(1, 2))[0, 0]
    out = torch.istft(spec * gain, n_fft, hop_length, window=window, length=len(x))
    return out.numpy().astype(np.float32)


def pre_emphasis(waveform: np.ndarray, coefficient: float = 0.97) -> np.ndarray:
    """First-order high-pass ``y[n] = x[n] - coefficient * x[n-1]`` (lifts the high formants)."""
    out = waveform.astype(np.float32, copy=True)
    out[1:] -= np.float32(coefficient) * waveform[:-1]
    return out


def preprocess(
    waveform: np.ndarray,
    sampling_rate: int,
    *,
    remove_dc_offset: bool = True,
    normalization: str | None = "peak",
    target_db: float | None = None,
    trim: bool = True,
    trim_top_db: float = 40.0,
    noise_reduction: bool = False,
    pre_emphasis_coefficient: float = 0.0,
) -> np.ndarray:
    """Run the chain on one mono waveform ``(samples,)``; each step can be switched off."""
    check_waveform(waveform)
    out = waveform.astype(np.float32, copy=True)
    if remove_dc_offset:
        out = remove_dc(out)
    if normalization is not None:
        out = normalize(out, sampling_rate, normalization, target_db)
    if trim:
        out = trim_silence(out, sampling_rate, trim_top_db)
    if noise_reduction:
        out = reduce_noise(out, sampling_rate)
    if pre_emphasis_coefficient:
        out = pre_emphasis(out, pre_emphasis_coefficient)
    return out
