"""``EmotionRecognizer``: a trained model and its feature extractor behind one ``predict`` call.

``EmotionRecognizer.from_pretrained(None)`` loads the bundled default model, ``"compact"`` the bundled
compact one, and any other value a saved model folder. ``predict`` takes a path, an array (any rate,
channel layout and dtype, with ``sampling_rate``) or a list of them, and returns :class:`Prediction`
objects: the label, the probability of every label and, for audio longer than the window, a timeline
of segments. Scoring is :func:`ser_hf.scoring.score_waveform`, the path evaluation takes too.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np

from ..data.audio_files import DEFAULT_SAMPLING_RATE, load_audio
from ..models.audio import normalize_audio
from ..models.errors import SerError
from ..scoring.loading import load_model
from ..scoring.score import HOP_S, WINDOW_S, ClipScore, clip_logits, score_waveform, softmax, temperature_of
from ..scoring.speech import NO_SPEECH, SpeechGate, default_gate

UNCERTAIN = "uncertain"


@dataclass
class Segment:
    start: float
    end: float
    label: str
    scores: dict[str, float]


@dataclass
class Prediction:
    """One clip's result: the top ``label``, ``scores`` (label -> probability) and ``segments`` for long audio."""

    label: str
    scores: dict[str, float]
    segments: list[Segment] = field(default_factory=list)
    path: str | None = None
    duration_s: float = 0.0

    def to_dict(self) -> dict:
        """The documented JSON record: ``{"path", "label", "scores", "segments": [{"start", "end", "label", "scores"}]}``."""
        return {"path": self.path, "label": self.label, "scores": self.scores,
                "segments": [asdict(segment) for segment in self.segments]}


class EmotionRecognizer:
    """A model and its feature extractor, ready for prediction on raw audio."""

    def __init__(self, model, feature_extractor, window_s: float = WINDOW_S, hop_s: float = HOP_S,
                 device: str = "cpu", vad: bool = True, min_confidence: float | None = None):
        if window_s <= 0 or hop_s <= 0:
            raise SerError(f"window and hop must be positive, got {window_s} s and {hop_s} s.")
        self.model = model.eval().to(device)
        self.feature_extractor = feature_extractor
        self.window_s = window_s
        self.hop_s = hop_s
        self.device = device
        self.labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        self.sampling_rate = getattr(feature_extractor, "sampling_rate", DEFAULT_SAMPLING_RATE)
        self.input_name = model.main_input_name
        self.gate = default_gate(vad) if self.sampling_rate == DEFAULT_SAMPLING_RATE else \
            SpeechGate(vad=vad, sampling_rate=self.sampling_rate)
        if min_confidence is not None and not 0 <= min_confidence <= 1:
            raise SerError(f"min_confidence must be in [0, 1], got {min_confidence}.")
        self.min_confidence = min_confidence

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, **kwargs) -> "EmotionRecognizer":
        """Load ``None``/``"default"`` (bundled), ``"compact"`` (bundled) or a saved model folder."""
        model, feature_extractor = load_model(path)
        return cls(model, feature_extractor, **kwargs)

    # --- core ---------------------------------------------------------------------------------------

    def probabilities(self, waveform: np.ndarray) -> np.ndarray:
        """Probabilities ``(num_labels,)`` of one mono waveform ``(samples,)`` at the model's rate, in one pass."""
        return softmax(clip_logits(self.model, self.feature_extractor, waveform) / temperature_of(self.model))

    def waveform(self, audio, sampling_rate: int | None = None) -> np.ndarray:
        """A path or an array -> the mono float32 waveform ``(samples,)`` at the model's rate."""
        if isinstance(audio, (str, os.PathLike)):
            return load_audio(audio, self.sampling_rate)
        return normalize_audio(audio, sampling_rate, self.sampling_rate, what="array of samples")

    def score(self, waveform: np.ndarray) -> ClipScore:
        """:func:`ser_hf.scoring.score_waveform` with this recognizer's window, hop and speech gate."""
        return score_waveform(self.model, self.feature_extractor, waveform, window_s=self.window_s, hop_s=self.hop_s,
                              gate=self.gate)

    def _scores(self, probabilities: np.ndarray, top_k: int | None) -> dict[str, float]:
        order = np.argsort(-probabilities)[: top_k or len(self.labels)]
        return {self.labels[i]: float(probabilities[i]) for i in order}

    def predict_one(self, audio, sampling_rate: int | None = None, top_k: int | None = None) -> Prediction:
        """One clip (a path or an array); see :func:`ser_hf.scoring.score_waveform` for windows and "no speech"."""
        path = str(audio) if isinstance(audio, (str, os.PathLike)) else None
        scored = self.score(self.waveform(audio, sampling_rate))
        if not scored.has_speech:
            return Prediction(NO_SPEECH, {}, [], path, scored.duration_s)
        segments = [Segment(w.start, w.end, self._label(w.probabilities), self._scores(w.probabilities, top_k))
                    for w in scored.windows]
        return Prediction(self._label(scored.probabilities), self._scores(scored.probabilities, top_k), segments, path,
                          scored.duration_s)

    def _label(self, probabilities: np.ndarray) -> str:
        """The top label, or "uncertain" when its probability is below ``min_confidence``."""
        best = int(np.argmax(probabilities))
        if self.min_confidence is not None and probabilities[best] < self.min_confidence:
            return UNCERTAIN
        return self.labels[best]

    def predict(self, audio, sampling_rate: int | None = None, top_k: int | None = None):
        """Predict one clip (a path or an array) or a list of clips (paths or arrays); see :class:`Prediction`."""
        if isinstance(audio, (list, tuple)) and audio and isinstance(audio[0], (str, os.PathLike, np.ndarray, list)):
            return [self.predict_one(a, sampling_rate, top_k) for a in audio]
        return self.predict_one(audio, sampling_rate, top_k)
