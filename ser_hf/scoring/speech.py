"""Voice activity detection: an energy gate (always available) and Silero VAD (extra ``vad``)."""

from __future__ import annotations

import numpy as np

from .errors import SerError
from .preprocessing import rms_db


def is_speech_energy(waveform: np.ndarray, threshold_db: float = -50.0) -> bool:
    """Whether the RMS level of ``waveform`` reaches ``threshold_db`` dBFS (-50: well below quiet speech)."""
    return waveform.size > 0 and rms_db(waveform) >= threshold_db


def has_speech(waveform: np.ndarray, silence_db: float, vad: "SileroVad | None" = None,
               min_speech_fraction: float = 0.1) -> bool:
    """The energy gate, then (when given) Silero VAD: at least ``min_speech_fraction`` of the window is speech."""
    if not is_speech_energy(waveform, silence_db):
        return False
    return vad is None or vad.speech_fraction(waveform) >= min_speech_fraction


class SileroVad:
    """Silero VAD (MIT), whose weights ship inside the ``silero-vad`` package: no download."""

    def __init__(self, threshold: float = 0.5, sampling_rate: int = 16000):
        try:
            from silero_vad import get_speech_timestamps, load_silero_vad
        except ImportError:
            raise SerError("Voice activity detection needs the silero-vad package: pip install 'ser-hf[vad]'.") from None
        self.model = load_silero_vad()
        self._timestamps = get_speech_timestamps
        self.threshold = threshold
        self.sampling_rate = sampling_rate

    def speech_segments(self, waveform: np.ndarray) -> list[tuple[int, int]]:
        """``[(start, end)]`` sample ranges of speech in a 16 kHz mono waveform."""
        import torch

        stamps = self._timestamps(torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32)), self.model,
                                  sampling_rate=self.sampling_rate, threshold=self.threshold)
        return [(int(s["start"]), int(s["end"])) for s in stamps]

    def speech_fraction(self, waveform: np.ndarray) -> float:
        segments = self.speech_segments(waveform)
        return sum(end - start for start, end in segments) / max(1, len(waveform))
