"""The Gradio demo: file upload and live microphone streaming, built from ``EmotionRecognizer`` and
``StreamingRecognizer`` alone. ``space/app.py`` and ``ser-hf demo`` both call :func:`build_demo`.

The handlers are plain functions (tested without a browser): :func:`predict_upload` for a file,
:func:`stream_microphone` for one microphone chunk with the session's state, and :func:`add_enrollment_clip` /
:func:`clear_enrollment` for the live tab's labelled enrollment.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.audio_files import audio_duration, load_audio
from ..scoring.adaptation import MIN_ENROLL_EMOTIONS
from ..inference.recognizer import EmotionRecognizer
from ..scoring.decision import MIN_CLIP_S, TOO_SHORT
from ..inference.streaming import StreamingRecognizer
from ..models.errors import SerError
from ..scoring.speech import NO_SPEECH, no_speech_reason
from ..scoring.threads import DEFAULT_THREADS
from .charts import line_chart, probability_bars, segment_band

MAX_UPLOAD_S = 120.0  # longer uploads are cut to their first two minutes (and the page says so)
LIVE_HISTORY_S = 20.0  # seconds shown in the rolling chart
LIVE_TIME_LIMIT_S = 120  # seconds of microphone per session before the stream stops
LIVE_UPDATE_S = 0.25  # the browser sends a chunk this often; labels update every hop (0.5 s)
MAX_FILE_SIZE = "200mb"  # Gradio refuses bigger uploads before they reach the handler
UPLOAD_CONCURRENCY = 2  # uploads scored at once (one thread each); the rest wait in the queue
LIVE_CONCURRENCY = 8  # live streams served at once
QUEUE_SIZE = 64  # requests waiting beyond that are refused with "queue full", not left to pile up


BUNDLED_MODELS = {"default": None, "compact": "compact"}


class ModelPool:
    """Recognizers by name, loaded on first use (``"default"``, ``"compact"`` or folders)."""

    def __init__(self, models: dict[str, str | os.PathLike | None], vad: bool = True,
                 threads: int | None = DEFAULT_THREADS, backend: str = "torch"):
        if not models:
            raise SerError("The demo needs at least one model.")
        self.sources = dict(models)
        self.vad = vad
        self.threads = threads
        self.backend = backend
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
                EmotionRecognizer.from_pretrained(source, vad=self.vad, threads=self.threads,
                                                                  backend=self.backend)
        return self._loaded[name]


def predict_upload(path: str | None, model: str | None, pool: ModelPool):
    """A file -> (message markdown, ``{label: probability}`` or ``None``, the :class:`Prediction` or ``None``).

    Only the first :data:`MAX_UPLOAD_S` seconds are decoded (a two-hour file costs what two minutes cost)."""
    if not path:
        return "Upload an audio file first.", None, None
    recognizer = pool.get(model)
    name = Path(path).name
    try:
        # A little more than is analysed, to know whether the file is longer.
        wave = load_audio(path, recognizer.sampling_rate, max_duration_s=MAX_UPLOAD_S + 1.0)
    except SerError as err:
        # Gradio's temporary path means nothing to the person who uploaded the file: name the file only.
        return f"**Could not read this file.** {str(err).replace(str(path), name)}", None, None
    note = ""
    limit = int(MAX_UPLOAD_S * recognizer.sampling_rate)
    if len(wave) > limit:
        wave = wave[:limit]
        note = f"\n\nThe file is longer than {MAX_UPLOAD_S:.0f} s; the first {MAX_UPLOAD_S:.0f} s were analysed."
    prediction = recognizer.predict(wave, sampling_rate=recognizer.sampling_rate)
    if prediction.label == TOO_SHORT:
        return (f"**Too short:** {name} is {len(wave) / recognizer.sampling_rate:.1f} s long; at least {MIN_CLIP_S:g} s "
                "of speech is needed."), None, None
    if prediction.label == NO_SPEECH:
        return f"**No speech found** in this file ({no_speech_reason(wave)}).{note}", None, None
    return f"## {prediction.label}\n\n{name}, {len(wave) / recognizer.sampling_rate:.1f} s{note}", \
        dict(prediction.scores), prediction


def upload_timeline(path: str, prediction, recognizer: EmotionRecognizer) -> tuple[str, str]:
    """``(band, chart)`` of a long upload (3 windows or more; ``("", "")`` otherwise): the segment band under the
    whole file's waveform (grey past the part analysed) and the emotions over the part analysed."""
    if prediction is None or len(prediction.segments) < 3:
        return "", ""
    file_s = max(audio_duration(path) or 0.0, prediction.duration_s)
    band = segment_band([(s.start, s.end, s.label) for s in prediction.segments], file_s,
                        analysed_s=prediction.duration_s, labels=recognizer.labels)
    points = timeline_points(prediction, recognizer.hop_s)
    return band, line_chart(points, recognizer.labels, "Emotion over time", (0.0, prediction.duration_s))


def timeline_points(prediction, hop_s: float) -> list[tuple[float, dict[str, float] | None]]:
    """A prediction's windows as ``(centre_s, scores)``, with ``(t, None)`` where windows had no speech."""
    points: list[tuple[float, dict[str, float] | None]] = []
    for segment in prediction.segments:
        centre = (segment.start + segment.end) / 2
        if points and centre - points[-1][0] > 1.5 * hop_s:
            points.append(((points[-1][0] + centre) / 2, None))  # the gate dropped the windows between
        points.append((centre, segment.scores))
    return points


# The live label before Record is pressed and after Reset ("listening..." once audio arrives).
IDLE_LABEL = "## Press Record to start"


@dataclass
class LiveSession:
    """Per-browser-session state of the microphone tab."""

    model: str | None = None
    stream: StreamingRecognizer | None = None
    history: list[tuple[float, dict[str, float] | None]] = field(default_factory=list)  # (time_s, scores | None)
    label: str = "listening..."
    adapt: bool = False
    adapted: bool = False
    enrollment: list[tuple[str, str]] = field(default_factory=list)  # (clip path, emotion): labelled enrollment
    # (model, clip path, emotion) -> (the clip's log probabilities (num_labels,), label index): scored once per model
    enrollment_scores: dict[tuple[str | None, str, str], tuple[np.ndarray, int]] = field(default_factory=dict)

    @property
    def emotions(self) -> Counter:
        """Enrollment clips per emotion, in the order first added."""
        return Counter(emotion for _, emotion in self.enrollment)

    @property
    def enrolled(self) -> bool:
        """Whether the stream is fitted to the enrollment (it is, once built, when the clips cover enough emotions)."""
        return self.stream is not None and len(self.emotions) >= MIN_ENROLL_EMOTIONS


def stream_microphone(chunk, session: LiveSession | None, model: str | None, pool: ModelPool, adapt: bool = False):
    """One microphone chunk ``(sampling_rate, samples)`` -> (live label markdown, the last
    :data:`LIVE_HISTORY_S` seconds as ``(time_s, scores or None for no speech)``, session).
    With ``adapt``, the session adapts to its speaker (its own statistics), and the label says so once it has; once
    the session's enrollment covers :data:`MIN_ENROLL_EMOTIONS` emotions, the stream is fitted to it instead
    (``StreamingRecognizer.enroll`` with the clips' kept scores and labels)."""
    session = session if isinstance(session, LiveSession) else LiveSession()
    if chunk is None:
        return _live_label(session), session.history or None, session
    rate, samples = chunk
    if session.stream is None or session.model != model or session.adapt != bool(adapt):
        session = LiveSession(model=model, adapt=bool(adapt), enrollment=session.enrollment,
                              enrollment_scores=session.enrollment_scores,
                              stream=StreamingRecognizer(pool.get(model), window_s=2.0, hop_s=0.5, adapt=bool(adapt)))
        if len(session.emotions) >= MIN_ENROLL_EMOTIONS:
            try:
                rows, label_ids = zip(*(enrollment_row(session, path, emotion, model, pool)
                                        for path, emotion in session.enrollment))
            except SerError as err:  # a clip that could be read when it was added and no longer can
                session.stream = None
                return f"**Enrollment failed:** {err}", session.history or None, session
            session.stream.enroll(np.stack(rows), list(label_ids))
    try:
        updates = session.stream.push(np.asarray(samples), int(rate))
    except SerError as err:
        return f"**Microphone input rejected:** {err}", session.history or None, session
    for update in updates:
        session.label = update.label
        session.adapted = bool(session.adapted or update.adapted)
        session.history.append((update.time, update.scores if update.speech else None))
    if session.history:
        latest = session.history[-1][0]
        session.history = [point for point in session.history if point[0] > latest - LIVE_HISTORY_S]
    return _live_label(session), session.history or None, session


def _live_label(session: LiveSession) -> str:
    note = f"\n\n*Fitted to this speaker's {len(session.enrollment)} enrollment clips.*" if session.enrolled else \
        "\n\n*Adapted to this speaker.*" if session.adapted else ""
    return f"## {session.label}{note}"


def add_enrollment_clip(path: str | None, emotion: str | None, session: LiveSession | None, model: str | None,
                        pool: ModelPool) -> tuple[str, LiveSession]:
    """One labelled enrollment clip (the speaker saying something in ``emotion``) -> (status markdown, session).
    The clip is checked (readable, with speech, an emotion the model knows) before it is kept; the live stream is
    fitted to the enrollment from its next chunk."""
    session = session if isinstance(session, LiveSession) else LiveSession()
    if not path:
        return "Record or upload a clip first.", session
    if not emotion:
        return "Choose the emotion the clip was said in.", session
    try:
        enrollment_row(session, path, emotion, model, pool)
    except SerError as err:
        return f"**Clip not added.** {str(err).replace(str(path), Path(path).name)}", session
    session.enrollment.append((path, emotion))
    session.stream = None  # rebuilt, and fitted, at the next chunk
    return enrollment_status(session), session


def enrollment_row(session: LiveSession, path: str, emotion: str, model: str | None,
                   pool: ModelPool) -> tuple[np.ndarray, int]:
    """One enrollment clip's ``(log probabilities (num_labels,), label index)`` under ``model``, scored once and kept
    in the session (``EmotionRecognizer.enrollment``: a clip without speech or in an emotion ``model`` does not know
    raises ``SerError``; the emotion is part of the key so that every pair is checked)."""
    key = (model, path, emotion)
    if key not in session.enrollment_scores:
        rows, label_ids = pool.get(model).enrollment(path, labels=[emotion])
        session.enrollment_scores[key] = (rows[0], label_ids[0])
    return session.enrollment_scores[key]


def clear_enrollment(session: LiveSession | None) -> tuple[str, LiveSession]:
    """Forget the enrollment clips; the live stream starts again without them."""
    session = session if isinstance(session, LiveSession) else LiveSession()
    session.enrollment, session.enrollment_scores, session.stream = [], {}, None
    return enrollment_status(session), session


def enrollment_status(session: LiveSession) -> str:
    """What the enrollment holds, and what it still needs."""
    if not session.enrollment:
        return "No enrollment clips yet."
    held = ", ".join(f"{emotion} {n}" for emotion, n in session.emotions.items())
    if len(session.emotions) < MIN_ENROLL_EMOTIONS:
        return f"Enrollment: {held}. Add a clip in at least {MIN_ENROLL_EMOTIONS - len(session.emotions)} more " \
               "emotion(s) to use it."
    return f"Enrollment: {held}. The live label is fitted to these clips (emotions left out are predicted less often)."


def reset_session(session: LiveSession | None = None):
    """A new live session: the chart and the adaptation start again; the enrollment clips are kept."""
    if not isinstance(session, LiveSession):
        return LiveSession(), IDLE_LABEL, ""
    return LiveSession(enrollment=session.enrollment, enrollment_scores=session.enrollment_scores), IDLE_LABEL, ""


def build_demo(models: "ModelPool | dict[str, str | os.PathLike | None] | None" = None,
               examples: list[str] | None = None):
    """The ``gr.Blocks`` app. ``models`` is a :class:`ModelPool` or maps display names to models (default: the
    bundled two, loaded on first use). Start it with :func:`launch`, which sets the upload limit and the queue."""
    import gradio as gr

    pool = models if isinstance(models, ModelPool) else ModelPool(models or BUNDLED_MODELS)

    def on_upload(path, model):
        message, scores, prediction = predict_upload(path, model, pool)
        band, chart = upload_timeline(path, prediction, pool.get(model))
        return message, probability_bars(scores), scores, gr.update(value=band, visible=bool(band)), \
            gr.update(value=chart, visible=bool(chart))

    def on_chunk(chunk, session, model, adapt):
        label, points, session = stream_microphone(chunk, session, model, pool, adapt)
        latest = points[-1][0] if points else LIVE_HISTORY_S
        span = (max(0.0, latest - LIVE_HISTORY_S), max(latest, LIVE_HISTORY_S))
        return label, line_chart(points or [], pool.get(model).labels, f"Last {LIVE_HISTORY_S:.0f} s", span), session

    with gr.Blocks(title="Speech emotion recognition") as demo:
        gr.Markdown("# Speech emotion recognition\nHow something is said: neutral, happy, sad, angry, fearful, "
                    "disgust, surprised. Trained on acted English speech; not for judging people.")
        model = gr.Dropdown(pool.names, value=pool.names[0], label="Model")
        with gr.Tab("Upload"):
            audio = gr.Audio(sources=["upload"], type="filepath", label="Audio file")
            band = gr.HTML(visible=False, elem_id="upload-band", label="Segments")  # the timeline's colours, under the waveform
            button = gr.Button("Recognize", variant="primary", elem_id="recognize")
            # Labels name the outputs for API clients (gradio_client), not on the page.
            message = gr.Markdown(elem_id="upload-result", label="Result", show_label=False)
            bars = gr.HTML(elem_id="upload-bars", label="Probability chart")
            scores = gr.JSON(visible=False, label="Scores")  # the same probabilities for API clients
            timeline = gr.HTML(visible=False, elem_id="upload-timeline", label="Timeline")
            button.click(on_upload, [audio, model], [message, bars, scores, band, timeline], api_name="on_upload",
                         concurrency_limit=UPLOAD_CONCURRENCY)
            if examples:
                gr.Examples(examples, inputs=[audio])
        with gr.Tab("Microphone (live)"):
            session = gr.State(LiveSession())
            mic = gr.Audio(sources=["microphone"], streaming=True, type="numpy", label="Microphone")
            live = gr.Markdown(IDLE_LABEL, elem_id="live-label", label="Live label", show_label=False)
            chart = gr.HTML(elem_id="live-chart", label="Live chart")
            adapt = gr.Checkbox(False, label="Adapt to the speaker (after a few seconds of speech)")
            reset = gr.Button("Reset")
            with gr.Accordion("Enroll the speaker (optional)", open=False):
                gr.Markdown("Record one sentence in each emotion the speaker will use (at least "
                            f"{MIN_ENROLL_EMOTIONS}); the live label is then fitted to this speaker's voice.")
                enroll_audio = gr.Audio(sources=["microphone", "upload"], type="filepath",
                                        label="A sentence said in one emotion")
                enroll_emotion = gr.Dropdown(pool.get(pool.names[0]).labels, value=None, label="Said as")
                add = gr.Button("Add to the enrollment", elem_id="enroll-add")
                clear = gr.Button("Clear the enrollment")
                enroll_status = gr.Markdown("No enrollment clips yet.", elem_id="enroll-status", label="Enrollment",
                                            show_label=False)
            mic.stream(on_chunk, [mic, session, model, adapt], [live, chart, session], stream_every=LIVE_UPDATE_S,
                       time_limit=LIVE_TIME_LIMIT_S, concurrency_limit=LIVE_CONCURRENCY, concurrency_id="live",
                       api_name=False)
            # The same live session for programs (gradio_client cannot drive a streaming event): one chunk per
            # call, the session's state kept per client, in the same concurrency group as the microphone.
            api_chunk = gr.Audio(type="numpy", visible=False)
            api_button = gr.Button(visible=False)
            api_button.click(on_chunk, [api_chunk, session, model, adapt], [live, chart, session],
                             api_name="live_chunk", concurrency_id="live")
            reset.click(reset_session, session, [session, live, chart])
            add.click(lambda path, emotion, state, name: add_enrollment_clip(path, emotion, state, name, pool),
                      [enroll_audio, enroll_emotion, session, model], [enroll_status, session], api_name="enroll_clip")
            clear.click(clear_enrollment, session, [enroll_status, session], api_name="clear_enrollment")
    return demo


def launch(demo, max_file_size: str | int = MAX_FILE_SIZE, queue_size: int = QUEUE_SIZE, **kwargs):
    """``demo.launch(**kwargs)`` with the Space's limits: uploads up to ``max_file_size``, a bounded queue."""
    demo.queue(max_size=queue_size)
    return demo.launch(max_file_size=max_file_size, **kwargs)
