"""``EmotionRecognizer``: a trained model and its feature extractor behind one ``predict`` call.

``EmotionRecognizer.from_pretrained(None)`` loads the bundled default model, ``"compact"`` the bundled
compact one, and any other value a saved model folder. ``predict`` takes a path, an array (any rate,
channel count and dtype with ``sampling_rate``) or a list of them, and returns :class:`Prediction`
objects: the label, the probability of every label and, for audio longer than the window, a timeline
of segments.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .audio import DEFAULT_SAMPLING_RATE, check_waveform, load_audio, resample, to_mono
from .errors import SerError
from .features import model_inputs
from .models.loading import BUNDLED, bundled_model_dir, clip_logits, load_model  # noqa: F401  (re-exported)

NO_SPEECH = "no speech"
# A window quieter than this (RMS, dBFS) is "no speech": far below any voice, above digital silence.
SILENCE_DB = -60.0


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

    def __init__(self, model, feature_extractor, window_s: float = 4.0, hop_s: float = 2.0, device: str = "cpu",
                 vad: bool = False):
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
        self.vad = None
        if vad:
            from .vad import SileroVad

            self.vad = SileroVad(sampling_rate=self.sampling_rate)

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, **kwargs) -> "EmotionRecognizer":
        """Load ``None``/``"default"`` (bundled), ``"compact"`` (bundled) or a saved model folder."""
        model, feature_extractor = load_model(path)
        return cls(model, feature_extractor, **kwargs)

    # --- core ---------------------------------------------------------------------------------------

    def features(self, waveform: np.ndarray) -> dict[str, torch.Tensor]:
        """The model's inputs for one clip (batch of 1), on the model's device."""
        return {k: v.to(self.device) for k, v in model_inputs(self.feature_extractor, waveform, self.input_name).items()}

    def logits(self, waveform: np.ndarray) -> np.ndarray:
        """Logits ``(num_labels,)`` of one mono waveform ``(samples,)`` at the model's rate."""
        return clip_logits(self.model, self.feature_extractor, waveform)

    def probabilities(self, waveform: np.ndarray) -> np.ndarray:
        logits = self.logits(waveform)
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def _prepare(self, audio, sampling_rate: int | None) -> tuple[np.ndarray, str | None]:
        if isinstance(audio, (str, os.PathLike)):
            return load_audio(audio, self.sampling_rate), str(audio)
        array = np.asarray(audio)
        if sampling_rate is None:
            raise SerError("Pass sampling_rate= with an array of samples (for example sampling_rate=16000).")
        wave = check_waveform(to_mono(array))
        return resample(wave, int(sampling_rate), self.sampling_rate), None

    def _scores(self, probabilities: np.ndarray, top_k: int | None) -> dict[str, float]:
        order = np.argsort(-probabilities)[: top_k or len(self.labels)]
        return {self.labels[i]: float(probabilities[i]) for i in order}

    def has_speech(self, waveform: np.ndarray) -> bool:
        """Energy gate (always), then Silero VAD when enabled: at least 10% of the window is speech."""
        from .vad import has_speech

        return has_speech(waveform, SILENCE_DB, self.vad)

    def predict_one(self, audio, sampling_rate: int | None = None, top_k: int | None = None) -> Prediction:
        """One clip. Audio longer than ``window_s`` (by more than half a hop) is cut into windows every ``hop_s``: each window is a
        segment, and the overall scores are the mean over the windows with speech. Windows without speech
        (energy gate, and Silero VAD when enabled) are left out; a clip without any is labelled "no speech"."""
        wave, path = self._prepare(audio, sampling_rate)
        duration = len(wave) / self.sampling_rate
        window, hop = int(self.window_s * self.sampling_rate), int(self.hop_s * self.sampling_rate)
        if len(wave) <= window + hop // 2:  # barely longer than a window: one prediction on the whole clip
            if not self.has_speech(wave):
                return Prediction(NO_SPEECH, {}, [], path, duration)
            probs = self.probabilities(wave)
            return Prediction(self.labels[int(np.argmax(probs))], self._scores(probs, top_k), [], path, duration)
        segments, stacked = [], []
        starts = list(range(0, len(wave) - window + 1, hop))
        if starts[-1] + window < len(wave):
            starts.append(len(wave) - window)
        for start in starts:
            piece = wave[start : start + window]
            if not self.has_speech(piece):
                continue
            probs = self.probabilities(piece)
            stacked.append(probs)
            segments.append(Segment(round(start / self.sampling_rate, 3), round((start + window) / self.sampling_rate, 3),
                                    self.labels[int(np.argmax(probs))], self._scores(probs, top_k)))
        if not stacked:
            return Prediction(NO_SPEECH, {}, [], path, duration)
        overall = np.mean(stacked, axis=0)
        return Prediction(self.labels[int(np.argmax(overall))], self._scores(overall, top_k), segments, path, duration)

    def predict(self, audio, sampling_rate: int | None = None, top_k: int | None = None):
        """Predict one clip (a path or an array) or a list of clips; see :class:`Prediction`."""
        if isinstance(audio, (list, tuple)) and audio and not np.isscalar(audio[0]):
            return [self.predict_one(a, sampling_rate, top_k) for a in audio]
        return self.predict_one(audio, sampling_rate, top_k)
