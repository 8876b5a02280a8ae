"""The speech gate: is there speech in a window? An energy gate (always), then Silero VAD when asked for.

One threshold serves every path (files, windows of long audio, stream updates): :data:`SILENCE_DB`.
"""

from __future__ import annotations

import numpy as np

from ..models.errors import SerError
from ..models.preprocessing import rms_db

# A window quieter than this (RMS, dBFS) is "no speech": far below any voice (quiet speech at -30 dBFS peak
# is near -45 dBFS RMS), above digital silence and dither.
SILENCE_DB = -60.0
NO_SPEECH = "no speech"


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
        """``[(start, end)]`` sample ranges of speech in a 16 kHz mono waveform ``(samples,)``."""
        import torch

        stamps = self._timestamps(torch.from_numpy(np.ascontiguousarray(waveform, dtype=np.float32)), self.model,
                                  sampling_rate=self.sampling_rate, threshold=self.threshold)
        return [(int(s["start"]), int(s["end"])) for s in stamps]

    def speech_fraction(self, waveform: np.ndarray) -> float:
        segments = self.speech_segments(waveform)
        return sum(end - start for start, end in segments) / max(1, len(waveform))


class SpeechGate:
    """``gate(waveform) -> bool``: the RMS level reaches ``silence_db`` and, with ``vad``, Silero VAD finds
    speech in at least ``min_speech_fraction`` of the window."""

    def __init__(self, silence_db: float = SILENCE_DB, vad: bool = False, sampling_rate: int = 16000,
                 min_speech_fraction: float = 0.1):
        self.silence_db = silence_db
        self.vad = SileroVad(sampling_rate=sampling_rate) if vad else None
        self.min_speech_fraction = min_speech_fraction

    def __call__(self, waveform: np.ndarray) -> bool:
        if waveform.size == 0 or rms_db(waveform) < self.silence_db:
            return False
        return self.vad is None or self.vad.speech_fraction(waveform) >= self.min_speech_fraction
