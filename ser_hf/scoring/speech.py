"""The speech gate: is there speech in a window? An energy gate, then Silero VAD (on by default).

One gate serves every path (files, windows of long audio, stream updates, evaluation), so white, pink and
brown noise, mains hum, clicks and silence answer "no speech" everywhere instead of a confident emotion.
"""

from __future__ import annotations

import functools
import hashlib
from collections import deque

import numpy as np

from ..models.errors import SerError
from ..models.preprocessing import rms_db

# A window quieter than this (RMS, dBFS) is "no speech": far below any voice (quiet speech at -30 dBFS peak
# is near -45 dBFS RMS), above digital silence and dither.
SILENCE_DB = -60.0
NO_SPEECH = "no speech"
# Silero's frame threshold and the share of a window that must be speech. Chosen on the validation speakers of
# multi-corpus fold 1 (1603 clips) and on 5 s of white, pink and brown noise, 50/60 Hz hum and clicks: Silero's
# default 0.5 misses 17 of the 1603 (shouted, strong-intensity speech: RAVDESS actor 6, CREMA-D HI), 0.15 with
# 5% misses none, while no noise frame scored above 0.08.
VAD_THRESHOLD = 0.15
MIN_SPEECH_FRACTION = 0.05


@functools.lru_cache(maxsize=None)
def _sequence_model():
    """Silero's sequence model (ONNX Runtime: one call per block of frames, the recurrent state passed in and
    out, so one session serves every thread), or one sentence saying what to install."""
    import torch

    threads = torch.get_num_threads()
    try:
        from silero_vad import load_silero_vad
        from silero_vad.sequence_vad import RATE_CONFIG
    except ImportError:
        raise SerError("Voice activity detection needs silero-vad 6.2.3 or later and onnxruntime: "
                       "pip install -U silero-vad onnxruntime (or pass vad=False / --no-vad).") from None
    finally:  # silero_vad's import calls torch.set_num_threads(1): training beside the gate would run on one thread
        torch.set_num_threads(threads)
    return load_silero_vad(sequence=True), RATE_CONFIG[16000]


class SileroVad:
    """Silero VAD (MIT), whose weights ship inside the ``silero-vad`` package: no download.

    Frame probabilities come from Silero's sequence model in blocks of frames (the same probabilities as its
    frame-by-frame model to 1e-5, at a sixth of the cost); the segments from Silero's own state machine.
    Nothing is kept between calls, so any number of threads can share one instance.
    """

    def __init__(self, threshold: float = VAD_THRESHOLD, sampling_rate: int = 16000):
        if sampling_rate != 16000:
            raise SerError(f"The speech gate's VAD runs at 16 kHz, got {sampling_rate} Hz.")
        self.model, _ = _sequence_model()  # load now, in the caller's thread: errors surface here, not mid-request
        self.threshold = threshold
        self.sampling_rate = sampling_rate

    def speech_segments(self, waveform: np.ndarray) -> list[tuple[int, int]]:
        """``[(start, end)]`` sample ranges of speech in a 16 kHz mono waveform ``(samples,)``."""
        from silero_vad.sequence_vad import get_speech_timestamps_sequence

        stamps = get_speech_timestamps_sequence(np.ascontiguousarray(waveform, dtype=np.float32), self.model,
                                                sampling_rate=self.sampling_rate, threshold=self.threshold)
        return [(int(s["start"]), int(s["end"])) for s in stamps]

    def speech_fraction(self, waveform: np.ndarray) -> float:
        segments = self.speech_segments(waveform)
        return sum(end - start for start, end in segments) / max(1, len(waveform))


class StreamingVad:
    """Silero VAD on new audio only, for a stream: the whole 512-sample frames of each push are scored in one
    call, with the recurrent state and the 64 samples of context carried from push to push (so a frame's
    probability is the one the whole recording would give it); the last ``window_samples`` worth of frame
    probabilities are kept (bounded memory). ``speech_fraction()`` is the share of those frames at or above
    ``threshold``: the windowed gate's question, answered without running the VAD over the window again.
    """

    BLOCK = 512  # frames per call at most (16 s): bounded memory for a large push

    def __init__(self, window_samples: int, threshold: float = VAD_THRESHOLD, sampling_rate: int = 16000):
        if sampling_rate != 16000:
            raise SerError(f"Streaming VAD runs at 16 kHz, got {sampling_rate} Hz.")
        self.threshold = threshold
        self.model, (self.frame, self._context_size) = _sequence_model()  # 512 and 64 samples at 16 kHz
        self._frames: deque[float] = deque(maxlen=max(1, window_samples // self.frame))
        self.reset()

    def reset(self) -> None:
        self._state = [np.zeros((1, 1, 128), dtype=np.float32) for _ in range(2)]  # the LSTM's h and c
        self._context = np.zeros(self._context_size, dtype=np.float32)
        self._frames.clear()
        self._pending = np.zeros(0, dtype=np.float32)

    def frame_probabilities(self, frames: np.ndarray) -> np.ndarray:
        """Speech probabilities ``(n,)`` of the next ``n`` frames ``(n, 512)``; the state moves past them."""
        contexts = np.concatenate([self._context[None], frames[:-1, -self._context_size:]])
        block = np.ascontiguousarray(np.concatenate([contexts, frames], axis=1), dtype=np.float32)
        probabilities, h, c = self.model.session.run(["speech_probs", "hn", "cn"],
                                                     {"input": block, "h": self._state[0], "c": self._state[1]})
        self._state = [h, c]
        self._context = frames[-1, -self._context_size:].copy()
        return np.asarray(probabilities, dtype=np.float32).reshape(-1)

    def push(self, wave: np.ndarray) -> None:
        """Score the new samples ``(samples,)``; a partial frame waits for the next push."""
        audio = np.concatenate([self._pending, np.asarray(wave, dtype=np.float32)])
        whole = len(audio) // self.frame
        for first in range(0, whole, self.BLOCK):
            count = min(self.BLOCK, whole - first)
            frames = audio[first * self.frame : (first + count) * self.frame].reshape(count, self.frame)
            self._frames.extend(self.frame_probabilities(frames).tolist())
        self._pending = audio[whole * self.frame :]

    def speech_fraction(self) -> float:
        if not self._frames:
            return 0.0
        return sum(p >= self.threshold for p in self._frames) / len(self._frames)


def no_speech_reason(waveform: np.ndarray, silence_db: float = SILENCE_DB) -> str:
    """Why a clip the gate found no speech in has none, in a few words: too quiet, or sound that is not a voice."""
    level = rms_db(waveform) if waveform.size else float("-inf")
    if level < silence_db:
        return "it is silent or too quiet" + (f": {level:.0f} dBFS" if np.isfinite(level) else "")
    return f"there is sound ({level:.0f} dBFS), but the voice detector heard no voice in it: noise, music or hum"


class SpeechGate:
    """``gate(waveform) -> bool``: the RMS level reaches ``silence_db`` and, with ``vad`` (the default), Silero VAD
    finds speech in at least ``min_speech_fraction`` of the window.

    VAD answers are remembered per waveform (by a hash of its samples, up to ``cache_size`` of them), so an
    evaluation set scored every epoch runs the VAD once per clip.
    """

    def __init__(self, silence_db: float = SILENCE_DB, vad: bool = True, sampling_rate: int = 16000,
                 min_speech_fraction: float = MIN_SPEECH_FRACTION, cache_size: int = 100_000):
        self.silence_db = silence_db
        self.vad = SileroVad(sampling_rate=sampling_rate) if vad else None
        self.min_speech_fraction = min_speech_fraction
        self.cache_size = cache_size
        self._answers: dict[bytes, bool] = {}

    def __call__(self, waveform: np.ndarray) -> bool:
        if waveform.size == 0 or rms_db(waveform) < self.silence_db:
            return False
        if self.vad is None:
            return True
        key = self.key(waveform)
        if key in self._answers:
            return self._answers[key]
        answer = self.vad.speech_fraction(waveform) >= self.min_speech_fraction
        self.remember(key, answer)
        return answer

    @staticmethod
    def key(waveform: np.ndarray) -> bytes:
        """The cache key of a waveform: a hash of its float32 samples."""
        return hashlib.blake2b(np.ascontiguousarray(waveform, dtype=np.float32).tobytes(), digest_size=16).digest()

    def remember(self, key: bytes, answer: bool) -> None:
        """Store a VAD answer computed elsewhere (a bulk run's decoding workers) under ``key``."""
        if self.cache_size:
            if len(self._answers) >= self.cache_size:
                self._answers.clear()
            self._answers[key] = answer


_DEFAULT_GATES: dict[bool, SpeechGate] = {}


def default_gate(vad: bool = True) -> SpeechGate:
    """The gate every scoring path uses unless given one (one instance per process, so its cache is shared)."""
    if vad not in _DEFAULT_GATES:
        _DEFAULT_GATES[vad] = SpeechGate(vad=vad)
    return _DEFAULT_GATES[vad]
