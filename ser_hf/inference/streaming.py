"""``StreamingRecognizer``: live emotion from audio chunks of any length, dtype and rate.

Chunks go through the one audio normalizer (:func:`ser_hf.models.audio.normalize_audio`: channel layout,
dtype, finite values), are resampled as they come (a stateful soxr stream per input rate)
and written into a ring buffer that holds the last ``window_s`` seconds, so memory stays bounded for
hours of input. Every ``hop_s`` seconds of audio, the window is classified and the probabilities are
smoothed with an exponential moving average over updates. A window without speech gives a "no speech"
update instead of a forced emotion, and resets the smoothing: its level is under ``silence_db``, or (unless
``vad=False``) fewer than 5% of its 32 ms frames are speech to Silero VAD, which scores each frame once as it
arrives (:class:`~ser_hf.scoring.speech.StreamingVad`) rather than the whole window at every hop.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import soxr

from ..models.audio import normalize_audio
from ..models.errors import SerAudioError
from ..models.preprocessing import rms_db
from ..scoring.decision import safe_log
from ..scoring.speech import MIN_SPEECH_FRACTION, NO_SPEECH, SILENCE_DB, StreamingVad
from ..scoring.threads import inference_threads
from ..scoring.adaptation import SessionAdapter, new_adapter
from .recognizer import EmotionRecognizer


@dataclass
class Update:
    """One streaming result: ``time`` (s of audio received), the smoothed ``label`` and ``scores``."""

    time: float
    label: str
    scores: dict[str, float] = field(default_factory=dict)
    speech: bool = True
    adapted: bool | None = None  # with speaker adaptation: whether this update was adapted (past the warm-up)

    def to_dict(self) -> dict:
        """``{"time", "label", "scores", "speech"}``, and ``adapted`` when the stream adapts to the speaker."""
        return {k: v for k, v in asdict(self).items() if k != "adapted" or v is not None}


class StreamingRecognizer:
    """Classify a live stream every ``hop_s`` seconds over the last ``window_s`` seconds.

    Args:
        model: an :class:`EmotionRecognizer`, a model folder, ``"compact"`` or ``None`` (the default model).
        window_s: seconds of audio each update looks at (the ring buffer's size).
        hop_s: seconds of new audio between updates.
        min_speech_s: audio needed before the first update.
        smoothing: weight of the previous smoothed scores in the moving average (0 switches it off).
        vad: Silero VAD as well as the energy gate decides "no speech" (default: as the recognizer does, on).
        adapt: adapt to the speaker within the session (:mod:`ser_hf.scoring.adaptation`), with this stream's
            own statistics (a recognizer may serve many streams); :meth:`reset` starts a new speaker.
        silence_db: RMS level (dBFS) under which a window is "no speech" (the one gate's threshold by default).
    """

    def __init__(self, model=None, window_s: float = 2.0, hop_s: float = 0.5, vad: bool | None = None,
                 smoothing: float = 0.5, min_speech_s: float = 1.0, silence_db: float = SILENCE_DB,
                 adapt: "bool | SessionAdapter" = False):
        if window_s <= 0 or hop_s <= 0 or hop_s > window_s:
            raise SerAudioError(f"Expected 0 < hop_s <= window_s, got hop {hop_s} s and window {window_s} s.")
        if not 0 <= smoothing < 1:
            raise SerAudioError(f"smoothing must be in [0, 1), got {smoothing}.")
        self.recognizer = model if isinstance(model, EmotionRecognizer) else \
            EmotionRecognizer.from_pretrained(model, vad=True if vad is None else vad)
        vad = self.recognizer.gate.vad is not None if vad is None else vad
        self.adapter = adapt if isinstance(adapt, SessionAdapter) else \
            new_adapter(self.recognizer.model.config) if adapt else None
        self.rate = self.recognizer.sampling_rate
        self.window = int(window_s * self.rate)
        self.hop = int(hop_s * self.rate)
        self.min_samples = min(self.window, int(min_speech_s * self.rate))
        self.smoothing = smoothing
        self.silence_db = silence_db
        # The VAD scores each new frame once (state kept), not the whole window at every hop.
        self.vad = StreamingVad(self.window, sampling_rate=self.rate) if vad else None
        self.reset()

    @property
    def labels(self) -> list[str]:
        return self.recognizer.labels

    def adapt_to(self, clips, sampling_rate: int | None = None, labels=None) -> None:
        """Enroll this stream's speaker: :meth:`EmotionRecognizer.adapt_to` (neutral clips, or labelled ones), kept
        until :meth:`reset`."""
        self.enroll(*self.recognizer.enrollment(clips, sampling_rate, labels))

    def enroll(self, log_probabilities: np.ndarray, labels: list[int] | None = None) -> None:
        """:meth:`adapt_to` from clips already scored: ``EmotionRecognizer.enrollment``'s ``(log_probabilities
        (clips, num_labels), label indices or None)``."""
        self.adapter = self.adapter or new_adapter(self.recognizer.model.config)
        self.adapter.enroll(log_probabilities, labels)

    def reset(self) -> None:
        """Forget the audio, the resamplers, the smoothing and the speaker (a new session)."""
        if getattr(self, "adapter", None) is not None:
            self.adapter.reset()
        if self.vad is not None:
            self.vad.reset()
        self._buffer = np.zeros(self.window, dtype=np.float32)
        self._filled = 0  # valid samples in the buffer (<= window)
        self._received = 0  # samples at the model's rate since the start
        self._since_update = 0
        self._smoothed: np.ndarray | None = None
        self._resamplers: dict[int, soxr.ResampleStream] = {}

    @property
    def buffered_samples(self) -> int:
        return self._buffer.size

    def _resample(self, wave: np.ndarray, sampling_rate: int) -> np.ndarray:
        if sampling_rate == self.rate:
            return wave
        stream = self._resamplers.get(sampling_rate)
        if stream is None:
            stream = self._resamplers[sampling_rate] = soxr.ResampleStream(sampling_rate, self.rate, 1, dtype="float32")
        return stream.resample_chunk(wave)

    def _append(self, wave: np.ndarray) -> None:
        if wave.size >= self.window:
            self._buffer[:] = wave[-self.window :]
        else:
            self._buffer = np.roll(self._buffer, -wave.size)
            self._buffer[-wave.size :] = wave
        self._filled = min(self.window, self._filled + wave.size)

    def push(self, chunk, sampling_rate: int) -> list[Update]:
        """Add a chunk (int16/int32/float, mono or ``(samples, channels)``, any rate); return the updates due.

        Resampled input lags by the resampler's delay (a few milliseconds); :meth:`flush` ends a stream."""
        if sampling_rate is None or int(sampling_rate) <= 0:
            raise SerAudioError(f"Expected a positive sampling_rate, got {sampling_rate}.")
        wave = normalize_audio(chunk, int(sampling_rate), what="chunk", allow_empty=True)
        return self._consume(self._resample(wave, int(sampling_rate)))

    def flush(self) -> list[Update]:
        """End of input: drain the resamplers' delay lines and return the updates that completes."""
        updates = []
        for stream in self._resamplers.values():
            updates += self._consume(stream.resample_chunk(np.zeros(0, np.float32), last=True))
        self._resamplers = {}
        return updates

    def _consume(self, wave: np.ndarray) -> list[Update]:
        updates = []
        position = 0
        while position < wave.size:
            # Feed up to the next hop boundary so that every update sees exactly the audio up to its time.
            room = self.hop - self._since_update
            piece = wave[position : position + room]
            self._append(piece)
            if self.vad is not None and piece.size:
                with inference_threads(self.recognizer.threads):
                    self.vad.push(piece)
            position += piece.size
            self._received += piece.size
            self._since_update += piece.size
            if self._since_update >= self.hop:
                self._since_update = 0
                if self._filled >= self.min_samples:
                    with inference_threads(self.recognizer.threads):  # the gate's VAD and the model
                        updates.append(self._update())
        return updates

    def _has_speech(self, window: np.ndarray) -> bool:
        """The speech gate of a window: its level, and the streaming VAD's frames over it."""
        if window.size == 0 or rms_db(window) < self.silence_db:
            return False
        return self.vad is None or self.vad.speech_fraction() >= MIN_SPEECH_FRACTION

    def _update(self) -> Update:
        window = self._buffer[-self._filled :]
        time = round(self._received / self.rate, 3)
        if not self._has_speech(window):
            self._smoothed = None
            return Update(time, NO_SPEECH, {}, speech=False)
        adapted = self.adapter.active if self.adapter is not None else None  # before this window joins the statistics
        log_probabilities = self.recognizer.log_probabilities(window)
        if self.adapter is not None:
            log_probabilities = self.adapter(log_probabilities)
        probs = np.exp(log_probabilities)
        if self._smoothed is None or not self.smoothing:
            self._smoothed = probs
        else:
            self._smoothed = self.smoothing * self._smoothed + (1 - self.smoothing) * probs
        smoothed = safe_log(self._smoothed)
        return Update(time, self.recognizer.label_of(smoothed), self.recognizer.scores(smoothed), adapted=adapted)
