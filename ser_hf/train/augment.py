"""Training-time augmentation of waveforms (numpy in, numpy out). Never applied to evaluation data.

SpecAugment masks are applied by the CNN itself in training mode (``SerCnnConfig.spec_augment``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models.audio import resample


@dataclass
class AugmentConfig:
    """Probabilities and ranges of each waveform augmentation (0 probability switches one off)."""

    noise_prob: float = 0.0
    noise_snr_db: tuple[float, float] = (10.0, 30.0)
    gain_prob: float = 0.0
    gain_db: tuple[float, float] = (-6.0, 6.0)
    shift_prob: float = 0.0
    shift_max_s: float = 0.3
    speed_prob: float = 0.0
    speeds: list[float] = field(default_factory=lambda: [0.9, 1.1])

    @property
    def enabled(self) -> bool:
        return any(p > 0 for p in (self.noise_prob, self.gain_prob, self.shift_prob, self.speed_prob))


def add_noise(waveform: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add white noise at ``snr_db`` relative to the waveform's mean power."""
    power = float(np.mean(np.square(waveform, dtype=np.float64)))
    if power <= 0:
        return waveform
    noise = rng.standard_normal(len(waveform)).astype(np.float32) * np.float32(np.sqrt(power / 10 ** (snr_db / 10)))
    return (waveform + noise).astype(np.float32)


def apply_gain(waveform: np.ndarray, gain_db: float) -> np.ndarray:
    return (waveform * np.float32(10 ** (gain_db / 20))).astype(np.float32)


def time_shift(waveform: np.ndarray, shift: int) -> np.ndarray:
    """Shift by ``shift`` samples (positive: later), filling with zeros; the length is kept."""
    if shift == 0:
        return waveform
    out = np.zeros_like(waveform)
    if shift > 0:
        out[shift:] = waveform[: len(waveform) - shift]
    else:
        out[:shift] = waveform[-shift:]
    return out


def change_speed(waveform: np.ndarray, factor: float, sampling_rate: int = 16000) -> np.ndarray:
    """Play ``factor`` times faster (tempo and pitch together, as Kaldi's speed perturbation)."""
    if factor == 1.0:
        return waveform
    return resample(waveform, int(round(sampling_rate * factor)), sampling_rate)


class WaveformAugmenter:
    """Applies each augmentation of ``config`` with its probability, drawing from its own generator."""

    def __init__(self, config: AugmentConfig, sampling_rate: int = 16000, seed: int | None = None):
        self.config = config
        self.sampling_rate = sampling_rate
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._worker: int | None = None

    def _generator(self) -> np.random.Generator:
        # Each DataLoader worker holds a copy of this object: reseed once per worker so that the
        # workers draw different augmentations (torch gives each worker its own initial seed).
        import torch.utils.data

        info = torch.utils.data.get_worker_info()
        if info is not None and self._worker != info.id:
            self._worker = info.id
            self.rng = np.random.default_rng(info.seed)
        return self.rng

    def __call__(self, waveform: np.ndarray) -> np.ndarray:
        cfg, rng = self.config, self._generator()
        if cfg.speed_prob and rng.random() < cfg.speed_prob:
            waveform = change_speed(waveform, float(rng.choice(cfg.speeds)), self.sampling_rate)
        if cfg.shift_prob and rng.random() < cfg.shift_prob:
            limit = int(cfg.shift_max_s * self.sampling_rate)
            waveform = time_shift(waveform, int(rng.integers(-limit, limit + 1)))
        if cfg.gain_prob and rng.random() < cfg.gain_prob:
            waveform = apply_gain(waveform, float(rng.uniform(*cfg.gain_db)))
        if cfg.noise_prob and rng.random() < cfg.noise_prob:
            waveform = add_noise(waveform, float(rng.uniform(*cfg.noise_snr_db)), rng)
        return waveform
