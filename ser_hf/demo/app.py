"""The Gradio demo: file upload and live microphone streaming, built from ``EmotionRecognizer`` and
``StreamingRecognizer`` alone. ``space/app.py`` and ``ser-hf demo`` both call :func:`build_demo`.

The handlers are plain functions (tested without a browser): :func:`predict_upload` for a file and
:func:`stream_microphone` for one microphone chunk with the session's state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.audio_files import load_audio
from ..inference.recognizer import EmotionRecognizer
from ..inference.streaming import StreamingRecognizer
from ..models.errors import SerError
from ..scoring.speech import NO_SPEECH
from ..scoring.threads import DEFAULT_THREADS

MAX_UPLOAD_S = 120.0  # longer uploads are cut to their first two minutes (and the page says so)
LIVE_HISTORY_S = 20.0  # seconds shown in the rolling chart
LIVE_TIME_LIMIT_S = 120  # seconds of microphone per session before the stream stops
LIVE_UPDATE_S = 0.25  # the browser sends a chunk this often; labels update every hop (0.5 s)


BUNDLED_MODELS = {"default": None, "compact": "compact"}


class ModelPool:
    """Recognizers by name, loaded on first use (``"default"``, ``"compact"`` or folders)."""

    def __init__(self, models: dict[str, str | os.PathLike | None], vad: bool = True,
                 threads: int | None = DEFAULT_THREADS):
        if not models:
            raise SerError("The demo needs at least one model.")
        self.sources = dict(models)
        self.vad = vad
        self.threads = threads
        self._loaded: dict[str, EmotionRecognizer] = {}

    @property
    def names(self) -> list[str]:
        return list(self.sources)

    def get(self, name: str | None) -> EmotionRecognizer:
        name = name or self.names[0]
        if name not in self.sources:
            raise SerError(f"Unknown model {name!r}; choose one of {', '.join(self.names)}.")
        if name not in self._loaded:
            source = self.sources[name]
            self._loaded[name] = source if isinstance(source, EmotionRecognizer) else \
                EmotionRecognizer.from_pretrained(source, vad=self.vad, threads=self.threads)
        return self._loaded[name]


def _timeline_rows(prediction) -> list[dict]:
    return [{"time (s)": round((s.start + s.end) / 2, 2), "emotion": label, "probability": s.scores.get(label, 0.0)}
            for s in prediction.segments for label in s.scores]


def predict_upload(path: str | None, model: str | None, pool: ModelPool):
    """A file -> (message markdown, ``{label: probability}`` for ``gr.Label``, timeline rows or ``None``)."""
    if not path:
        return "Upload an audio file first.", None, None
    recognizer = pool.get(model)
    try:
        wave = load_audio(path, recognizer.sampling_rate)
    except SerError as err:
        return f"**Could not read this file.** {err}", None, None
    note = ""
    duration = len(wave) / recognizer.sampling_rate
    if duration > MAX_UPLOAD_S:
        wave = wave[: int(MAX_UPLOAD_S * recognizer.sampling_rate)]
        note = f"\n\nThe file is {duration / 60:.1f} minutes long; the first {MAX_UPLOAD_S:.0f} s were analysed."
    prediction = recognizer.predict(wave, sampling_rate=recognizer.sampling_rate)
    if prediction.label == NO_SPEECH:
        return f"**No speech found** in this file (it is silent or too quiet).{note}", None, None
    timeline = _timeline_rows(prediction) if len(prediction.segments) >= 3 else None
    return f"## {prediction.label}\n\n{Path(path).name}, {min(duration, MAX_UPLOAD_S):.1f} s{note}", \
        dict(prediction.scores), timeline


@dataclass
class LiveSession:
    """Per-browser-session state of the microphone tab."""

    model: str | None = None
    stream: StreamingRecognizer | None = None
    history: list[dict] = field(default_factory=list)
    label: str = "listening..."
    adapt: bool = False
    adapted: bool = False


def stream_microphone(chunk, session: LiveSession | None, model: str | None, pool: ModelPool, adapt: bool = False):
    """One microphone chunk ``(sampling_rate, samples)`` -> (live label markdown, rolling chart rows, session).
    With ``adapt``, the session adapts to its speaker (its own statistics), and the label says so once it has."""
    session = session if isinstance(session, LiveSession) else LiveSession()
    if chunk is None:
        return _live_label(session), session.history or None, session
    rate, samples = chunk
    if session.stream is None or session.model != model or session.adapt != bool(adapt):
        session = LiveSession(model=model, adapt=bool(adapt),
                              stream=StreamingRecognizer(pool.get(model), window_s=2.0, hop_s=0.5, adapt=bool(adapt)))
    try:
        updates = session.stream.push(np.asarray(samples), int(rate))
    except SerError as err:
        return f"**Microphone input rejected:** {err}", session.history or None, session
    for update in updates:
        session.label = update.label
        session.adapted = bool(session.adapted or update.adapted)
        if update.speech:
            session.history += [{"time (s)": update.time, "emotion": k, "probability": v} for k, v in update.scores.items()]
    if session.history:
        latest = session.history[-1]["time (s)"]
        session.history = [row for row in session.history if row["time (s)"] > latest - LIVE_HISTORY_S]
    return _live_label(session), session.history or None, session


def _live_label(session: LiveSession) -> str:
    note = "\n\n*Adapted to this speaker.*" if session.adapted else ""
    return f"## {session.label}{note}"


def reset_session():
    return LiveSession(), "## listening...", None


def build_demo(models: "ModelPool | dict[str, str | os.PathLike | None] | None" = None,
               examples: list[str] | None = None):
    """The ``gr.Blocks`` app. ``models`` is a :class:`ModelPool` or maps display names to models (default: the
    bundled two, loaded on first use)."""
    import gradio as gr
    import pandas as pd

    pool = models if isinstance(models, ModelPool) else ModelPool(models or BUNDLED_MODELS)
    columns = ["time (s)", "emotion", "probability"]

    def frame(rows):
        return pd.DataFrame(rows or [], columns=columns)

    def on_upload(path, model):
        message, scores, timeline = predict_upload(path, model, pool)
        return message, scores, gr.update(value=frame(timeline), visible=timeline is not None)

    def on_chunk(chunk, session, model, adapt):
        label, rows, session = stream_microphone(chunk, session, model, pool, adapt)
        return label, frame(rows), session

    with gr.Blocks(title="Speech emotion recognition") as demo:
        gr.Markdown("# Speech emotion recognition\nHow something is said: neutral, happy, sad, angry, fearful, "
                    "disgust, surprised. Trained on acted English speech; not for judging people.")
        model = gr.Dropdown(pool.names, value=pool.names[0], label="Model")
        with gr.Tab("Upload"):
            audio = gr.Audio(sources=["upload"], type="filepath", label="Audio file")
            button = gr.Button("Recognize", variant="primary", elem_id="recognize")
            message = gr.Markdown(elem_id="upload-result")
            scores = gr.Label(num_top_classes=8, label="Probabilities")
            timeline = gr.LinePlot(frame(None), x="time (s)", y="probability", color="emotion",
                                   label="Emotion over time", visible=False)
            button.click(on_upload, [audio, model], [message, scores, timeline])
            if examples:
                gr.Examples(examples, inputs=[audio])
        with gr.Tab("Microphone (live)"):
            session = gr.State(LiveSession())
            mic = gr.Audio(sources=["microphone"], streaming=True, type="numpy", label="Microphone")
            live = gr.Markdown("## listening...", elem_id="live-label")
            chart = gr.LinePlot(frame(None), x="time (s)", y="probability", color="emotion",
                                label=f"Last {LIVE_HISTORY_S:.0f} s")
            adapt = gr.Checkbox(False, label="Adapt to the speaker (after a few seconds of speech)")
            reset = gr.Button("Reset")
            mic.stream(on_chunk, [mic, session, model, adapt], [live, chart, session], stream_every=LIVE_UPDATE_S,
                       time_limit=LIVE_TIME_LIMIT_S, concurrency_limit=8)
            reset.click(reset_session, None, [session, live, chart])
    return demo
