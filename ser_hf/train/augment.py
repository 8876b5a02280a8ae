"""Training-time augmentation of waveforms (numpy in, numpy out), never applied to evaluation data.

Each augmentation is switched on by its probability in the recipe's ``augment`` section and runs through
:mod:`ser_hf.data.degradations` (audiomentations, pyroomacoustics' impulse responses, libsndfile's codecs), the
implementation the robustness report degrades its test clips with. Babble mixes clips of other training
speakers. SpecAugment masks are applied by the CNN itself in training mode (``SerCnnConfig.spec_augment``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import soundfile as sf

from ..data import degradations
from ..models.audio import resample

logger = logging.getLogger(__name__)


@dataclass
class AugmentConfig:
    """Probabilities and ranges of each waveform augmentation (0 probability switches one off)."""

    noise_prob: float = 0.0
    noise_snr_db: tuple[float, float] = (0.0, 30.0)
    noise_colours: list[str] = field(default_factory=lambda: ["white", "pink", "brown"])
    babble_prob: float = 0.0
    babble_snr_db: tuple[float, float] = (0.0, 20.0)
    babble_speakers: int = 3
    reverb_prob: float = 0.0
    telephone_prob: float = 0.0
    codec_prob: float = 0.0
    codec_levels: tuple[float, float] = (0.5, 1.0)
    gain_prob: float = 0.0
    gain_db: tuple[float, float] = (-20.0, 20.0)
    shift_prob: float = 0.0
    shift_max_s: float = 0.3
    speed_prob: float = 0.0
    speeds: list[float] = field(default_factory=lambda: [0.9, 1.1])

    @property
    def enabled(self) -> bool:
        return any(p > 0 for p in (self.noise_prob, self.babble_prob, self.reverb_prob, self.telephone_prob,
                                   self.codec_prob, self.gain_prob, self.shift_prob, self.speed_prob))


def time_shift(waveform: np.ndarray, shift: int) -> np.ndarray:
    """Shift by ``shift`` samples (positive: later), filling with zeros; the length is kept."""
    from audiomentations import Shift

    if shift == 0:
        return waveform
    fraction = shift / max(1, len(waveform))
    return Shift(min_shift=fraction, max_shift=fraction, shift_unit="fraction", rollover=False, p=1.0)(
        samples=waveform, sample_rate=degradations.RATE).astype(np.float32)


def change_speed(waveform: np.ndarray, factor: float, sampling_rate: int = 16000) -> np.ndarray:
    """Play ``factor`` times faster (tempo and pitch together, as Kaldi's speed perturbation; soxr resampling)."""
    if factor == 1.0:
        return waveform
    return resample(waveform, int(round(sampling_rate * factor)), sampling_rate)


def add_babble(waveform: np.ndarray, others: list[np.ndarray], snr_db: float) -> np.ndarray:
    """Other speakers talking at once: ``others`` (each looped or cut to the clip's length) summed and mixed in at
    ``snr_db`` below the clip's power."""
    if not others:
        return waveform
    babble = np.sum([np.resize(other, len(waveform)) for other in others], axis=0)
    power, babble_power = float(np.mean(waveform.astype(np.float64) ** 2)), float(np.mean(babble.astype(np.float64) ** 2))
    if power <= 0 or babble_power <= 0:
        return waveform
    return (waveform + babble * np.float32(np.sqrt(power / babble_power / 10 ** (snr_db / 10)))).astype(np.float32)


class WaveformAugmenter:
    """Applies each augmentation of ``config`` with its probability. Draws come from the augmenter's own generator,
    seeded per DataLoader worker, and every degradation gets its seed from it: a run is reproducible.

    ``babble_pool`` holds waveforms of training clips and ``babble_speakers_of`` their speakers, so that babble for
    a clip of speaker S is made of other speakers only (pass ``speaker=`` to the call)."""

    def __init__(self, config: AugmentConfig, sampling_rate: int = 16000, seed: int | None = None,
                 babble_pool=None, babble_speakers_of: list[str] | None = None):
        self.config = config
        self.sampling_rate = sampling_rate
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.babble_pool = babble_pool
        self.babble_speakers_of = babble_speakers_of
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

    def _babble(self, speaker: str | None, count: int, rng: np.random.Generator) -> list[np.ndarray]:
        if self.babble_pool is None or not len(self.babble_pool):
            return []
        candidates = [i for i, s in enumerate(self.babble_speakers_of or []) if s != speaker] or \
            list(range(len(self.babble_pool)))
        picks = rng.choice(candidates, size=min(count, len(candidates)), replace=False)
        return [np.asarray(self.babble_pool[int(i)], dtype=np.float32) for i in picks]

    def __call__(self, waveform: np.ndarray, speaker: str | None = None) -> np.ndarray:
        cfg, rng = self.config, self._generator()

        def chance(p: float) -> bool:
            return bool(p) and rng.random() < p

        def seed() -> int:
            return int(rng.integers(2**31))

        if chance(cfg.speed_prob):
            waveform = change_speed(waveform, float(rng.choice(cfg.speeds)), self.sampling_rate)
        if chance(cfg.shift_prob):
            limit = int(cfg.shift_max_s * self.sampling_rate)
            waveform = time_shift(waveform, int(rng.integers(-limit, limit + 1)))
        if chance(cfg.reverb_prob):
            waveform = degradations.reverberate(waveform, None, seed())
        if chance(cfg.babble_prob):
            waveform = add_babble(waveform, self._babble(speaker, cfg.babble_speakers, rng),
                                  float(rng.uniform(*cfg.babble_snr_db)))
        if chance(cfg.noise_prob):
            waveform = degradations.add_noise(waveform, float(rng.uniform(*cfg.noise_snr_db)),
                                              str(rng.choice(cfg.noise_colours)), seed())
        if chance(cfg.telephone_prob):
            waveform = _encoded(degradations.telephone, waveform, seed())
        if chance(cfg.codec_prob):
            waveform = _encoded(degradations.lossy_codec, waveform, str(rng.choice(list(degradations.CODECS))),
                                float(rng.uniform(*cfg.codec_levels)), seed())
        if chance(cfg.gain_prob):
            waveform = degradations.apply_gain(waveform, float(rng.uniform(*cfg.gain_db)), seed())
        return waveform


def _encoded(degrade, waveform: np.ndarray, *args) -> np.ndarray:
    """``degrade(waveform, *args)`` through one of libsndfile's encoders, or ``waveform`` unchanged where the encoder
    fails: a rare clip its encoder rejects should cost a training run one augmentation, not the run (a
    ``LibsndfileError`` in a data-loader worker stopped a 20-epoch distillation at step 1,500)."""
    try:
        return degrade(waveform, *args)
    except sf.LibsndfileError as error:
        logger.warning("%s failed on a %d-sample clip (libsndfile error %s); it is used without that augmentation.",
                       degrade.__name__, len(waveform), error.code)
        return waveform
