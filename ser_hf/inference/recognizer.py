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
from ..scoring.adaptation import SessionAdapter, fit_session, new_adapter, session_statistics
from ..scoring.decision import MIN_CLIP_S, TOO_SHORT, answer
from ..scoring.loading import load_model
from ..scoring.score import HOP_S, WINDOW_S, ClipScore, clip_log_probabilities, score_waveform
from ..scoring.session_head import SessionHead
from ..scoring.speech import SpeechGate, default_gate
from ..scoring.threads import DEFAULT_THREADS, inference_threads


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
    adapted: bool | None = None  # with speaker adaptation: whether the scores were adapted (past the warm-up, not guarded)

    def to_dict(self) -> dict:
        """The documented JSON record: ``{"path", "duration_s", "label", "scores", "segments": [{"start", "end",
        "label", "scores"}]}``, and ``adapted`` when the recognizer adapts to the speaker."""
        record = {"path": self.path, "duration_s": round(self.duration_s, 3), "label": self.label,
                  "scores": self.scores, "segments": [asdict(segment) for segment in self.segments]}
        if self.adapted is not None:
            record["adapted"] = self.adapted
        return record


class EmotionRecognizer:
    """A model and its feature extractor, ready for prediction on raw audio."""

    def __init__(self, model, feature_extractor, window_s: float = WINDOW_S, hop_s: float = HOP_S,
                 device: str = "cpu", vad: bool = True, min_confidence: float | None = None,
                 adapt: "bool | SessionAdapter" = False, threads: int | None = DEFAULT_THREADS):
        if threads is not None and threads < 0:
            raise SerError(f"threads must be 0 (torch's default) or more, got {threads}.")
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
        self.threads = threads  # torch threads while scoring (ser_hf.scoring.threads); 0 or None: torch's default
        # adapt: True for the default adaptation, or a configured SessionAdapter.
        self.adapter = adapt if isinstance(adapt, SessionAdapter) else new_adapter(model.config) if adapt else None

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, backend: str = "torch",
                        **kwargs) -> "EmotionRecognizer":
        """Load ``None``/``"default"`` (bundled), ``"compact"`` (bundled) or a saved model folder, run by
        ``backend``: ``"torch"``, ``"onnx"`` or ``"onnx-int8"`` (ONNX Runtime, exported once and cached)."""
        model, feature_extractor = load_model(path, backend, threads=kwargs.get("threads", DEFAULT_THREADS))
        return cls(model, feature_extractor, **kwargs)

    # --- core ---------------------------------------------------------------------------------------

    def log_probabilities(self, waveform: np.ndarray) -> np.ndarray:
        """Log probabilities ``(num_labels,)`` of one mono waveform ``(samples,)`` at the model's rate, in one pass."""
        with inference_threads(self.threads):
            return clip_log_probabilities(self.model, self.feature_extractor, waveform)[0]

    def waveform(self, audio, sampling_rate: int | None = None) -> np.ndarray:
        """A path or an array -> the mono float32 waveform ``(samples,)`` at the model's rate."""
        if isinstance(audio, (str, os.PathLike)):
            return load_audio(audio, self.sampling_rate)
        return normalize_audio(audio, sampling_rate, self.sampling_rate, what="array of samples")

    def score(self, waveform: np.ndarray) -> ClipScore:
        """:func:`ser_hf.scoring.score_waveform` with this recognizer's window, hop, speech gate and threads."""
        with inference_threads(self.threads):
            return score_waveform(self.model, self.feature_extractor, waveform, window_s=self.window_s,
                                  hop_s=self.hop_s, gate=self.gate)

    def scores(self, log_probabilities: np.ndarray, top_k: int | None = None) -> dict[str, float]:
        """``{label: probability}``, best first (the ``top_k`` best), of log probabilities ``(num_labels,)``."""
        order = np.argsort(-log_probabilities)[: top_k or len(self.labels)]
        return {self.labels[i]: float(np.exp(log_probabilities[i])) for i in order}

    # --- speaker adaptation (ser_hf.scoring.adaptation) --------------------------------------------

    def enrollment(self, clips, sampling_rate: int | None = None, labels=None) -> tuple[np.ndarray, list[int] | None]:
        """``(log_probabilities (clips with speech, num_labels), label indices or None)`` of enrollment clips (paths
        or arrays), for :meth:`SessionAdapter.enroll`; ``labels`` gives one emotion name per clip."""
        clips = list(clips) if isinstance(clips, (list, tuple)) else [clips]
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else list(labels)
            if len(labels) != len(clips):
                raise SerError(f"Enrollment got {len(clips)} clips but {len(labels)} labels; give one label per clip.")
            unknown = sorted(set(labels) - set(self.labels))
            if unknown:
                raise SerError(f"Unknown enrollment label(s) {', '.join(unknown)}; this model knows "
                               f"{', '.join(self.labels)}.")
        scored = [self.score(self.waveform(clip, sampling_rate)).log_probabilities for clip in clips]
        silent = [str(clip) if isinstance(clip, (str, os.PathLike)) else f"clip {i + 1}"
                  for i, (clip, p) in enumerate(zip(clips, scored)) if p is None]
        if silent:  # a clip dropped without a word would leave its emotion out of the enrollment
            raise SerError(f"The enrollment clip(s) {', '.join(silent)} have no speech (silence, noise or too quiet); "
                           "every enrollment clip must be a few seconds of the speaker talking.")
        return np.stack(scored), None if labels is None else [self.labels.index(label) for label in labels]

    def adapt_to(self, clips, sampling_rate: int | None = None, labels=None) -> None:
        """Enrollment: a few clips (paths or arrays) of the speaker's neutral voice set the speaker's baseline; with
        ``labels`` (one emotion name per clip, a few clips in each emotion the speaker will use), the speaker's map
        of the scores is fitted to them instead (labelled enrollment, ``SessionAdapter.enroll``)."""
        self.enroll(*self.enrollment(clips, sampling_rate, labels))

    def enroll(self, log_probabilities: np.ndarray, labels: list[int] | None = None) -> None:
        """:meth:`adapt_to` from clips already scored: :meth:`enrollment`'s ``(log_probabilities (clips, num_labels),
        label indices or None)``."""
        self.adapter = self.adapter or new_adapter(self.model.config)
        self.adapter.enroll(log_probabilities, labels)

    def reset_speaker(self) -> None:
        """A new speaker: forget the session's statistics (and any enrollment)."""
        if self.adapter is not None:
            self.adapter.reset()

    def predict_one(self, audio, sampling_rate: int | None = None, top_k: int | None = None) -> Prediction:
        """One clip (a path or an array); see :func:`ser_hf.scoring.score_waveform` for windows and "no speech".
        With adaptation, the clip's scores and its segments' are adapted to the session's speaker, then the clip joins
        the session's statistics."""
        path = str(audio) if isinstance(audio, (str, os.PathLike)) else None
        scored = self.score(self.waveform(audio, sampling_rate))
        if self.adapter is None or not scored.has_speech or scored.duration_s < MIN_CLIP_S:
            return self._prediction(scored, path, top_k, None)
        active = self.adapter.active
        for window in scored.windows:
            window.log_probabilities = self.adapter.apply(window.log_probabilities)
        scored.log_probabilities = self.adapter(scored.log_probabilities)
        return self._prediction(scored, path, top_k, active)

    def _prediction(self, scored: ClipScore, path: str | None, top_k: int | None, adapted: bool | None) -> Prediction:
        label = self.label_of(scored.log_probabilities, scored.duration_s)
        if not scored.has_speech or label == TOO_SHORT:
            return Prediction(label, {}, [], path, scored.duration_s)
        segments = [Segment(w.start, w.end, self.label_of(w.log_probabilities), self.scores(w.log_probabilities, top_k))
                    for w in scored.windows]
        return Prediction(label, self.scores(scored.log_probabilities, top_k), segments, path, scored.duration_s, adapted)

    # --- session mode: one speaker's clips answered together ---------------------------------------------

    def score_clip(self, audio, sampling_rate: int | None = None) -> ClipScore:
        """One clip (a path or an array) scored, not yet answered: the first pass of :meth:`predict_session`."""
        return self.score(self.waveform(audio, sampling_rate))

    def answer_session(self, scored: list[ClipScore], paths: list[str | None], top_k: int | None = None
                       ) -> list[Prediction]:
        """The second pass of :meth:`predict_session`: the session fitted to every clip with speech
        (:func:`ser_hf.scoring.adaptation.fit_session`: the speaker's shift and the session's emotion mix, and the
        model's session head on the clips' embeddings where it has one), then applied to each clip and segment."""
        means, spread = session_statistics(self.model.config)
        head = SessionHead.from_config(self.model.config)
        spoken = [s for s in scored if s.has_speech]
        if spoken:
            embeddings = np.stack([s.embedding for s in spoken]) if head and spoken[0].embedding is not None else None
            fit = fit_session(np.stack([s.log_probabilities for s in spoken]), means, spread, embeddings, head)
            for s in spoken:
                s.log_probabilities = fit.apply(s.log_probabilities, s.embedding)
                for window in s.windows:
                    window.log_probabilities = fit.apply(window.log_probabilities, window.embedding)
        adapted = fit.adapted if spoken else True
        return [self._prediction(s, path, top_k, adapted) for s, path in zip(scored, paths)]

    def predict_session(self, clips, sampling_rate: int | None = None, top_k: int | None = None) -> list[Prediction]:
        """One speaker's clips (paths or arrays) answered together (session mode, two passes: files are not a
        stream): a voice that makes every emotion sound sadder is corrected, and a session of mostly one emotion
        keeps it. Needs the model's population statistics (``ser-hf calibrate --write``)."""
        clips = list(clips)
        paths = [str(c) if isinstance(c, (str, os.PathLike)) else None for c in clips]
        return self.answer_session([self.score_clip(c, sampling_rate) for c in clips], paths, top_k)

    def label_of(self, log_probabilities: np.ndarray | None, duration_s: float | None = None) -> str:
        """:func:`ser_hf.scoring.decision.answer` with this model's labels and ``min_confidence``: the top label,
        "uncertain", "no speech" (``None``) or "too short" (under ``MIN_CLIP_S`` of audio)."""
        return answer(log_probabilities, self.labels, self.min_confidence, duration_s)

    def predict(self, audio, sampling_rate: int | None = None, top_k: int | None = None):
        """Predict one clip (a path or an array) or a list of clips (paths or arrays); see :class:`Prediction`. A list
        with adaptation on (and no enrollment) is one speaker's session: :meth:`predict_session`."""
        if isinstance(audio, (list, tuple)) and audio and isinstance(audio[0], (str, os.PathLike, np.ndarray, list)):
            if self.adapter is not None and not self.adapter.enrolled:
                return self.predict_session(audio, sampling_rate, top_k)
            return [self.predict_one(a, sampling_rate, top_k) for a in audio]
        return self.predict_one(audio, sampling_rate, top_k)
