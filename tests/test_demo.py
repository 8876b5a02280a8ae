"""The Gradio demo: handlers as plain functions, the upload endpoint through gradio_client, and the page in
headless Chromium (upload and a fake microphone). Screenshots go to test-artifacts/."""

import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ser_hf.demo import LiveSession, ModelPool, build_demo, launch, predict_upload, stream_microphone
from ser_hf.demo import app as demo_app
from ser_hf.inference import NO_SPEECH, StreamingRecognizer
from tests.conftest import save_tiny_cnn, voice

LABELS = ["neutral", "happy", "sad", "angry"]
ARTIFACTS = Path(os.environ.get("SER_HF_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    folder = save_tiny_cnn(tmp_path_factory.mktemp("demo_model"), LABELS)
    return ModelPool({"test-cnn": str(folder)}, vad=False)  # synthetic voices: Silero VAD would hear no speech


def test_upload_handler(tmp_path, pool):
    clip = tmp_path / "clip.wav"
    sf.write(str(clip), voice(2.0, 44100), 44100)
    message, scores, prediction = predict_upload(str(clip), "test-cnn", pool)
    assert message.startswith("## ") and message.split("\n")[0][3:] in LABELS
    assert set(scores) == set(LABELS) and prediction.segments == []


def test_upload_handler_bad_input(tmp_path, pool):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    message = predict_upload(str(text), "test-cnn", pool)[0]
    # The file's name once, never the (temporary) folder it was uploaded to.
    assert message.startswith("**Could not read this file.** Cannot read notes.wav as audio")
    assert str(tmp_path) not in message and message.count("notes.wav") == 1
    empty = tmp_path / "memo.m4a"
    empty.write_bytes(b"")
    assert "memo.m4a is empty (0 bytes)" in predict_upload(str(empty), "test-cnn", pool)[0]
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(32000, np.float32), 16000)
    message = predict_upload(str(silent), "test-cnn", pool)[0]
    assert message.startswith("**No speech found** in this file (it is silent or too quiet")
    long = tmp_path / "ten_minutes.wav"
    sf.write(str(long), np.tile(voice(10.0), 60), 16000, subtype="PCM_16")
    message, scores, prediction = predict_upload(str(long), "test-cnn", pool)
    assert "longer than 120 s; the first 120 s were analysed" in message and "120.0 s" in message
    assert prediction.duration_s == 120.0 and prediction.segments[-1].end == 120.0
    band, chart = demo_app.upload_timeline(str(long), prediction, pool.get("test-cnn"))
    assert 'class="ser-not-analysed" x="128.0"' in band and chart  # 120 s of 600 under the waveform's 640 px
    assert predict_upload(None, "test-cnn", pool)[0] == "Upload an audio file first."


def test_microphone_handler_irregular_48k_int16_chunks_and_silence(pool):
    audio = (voice(4.0, 48000) * 32767).astype(np.int16)
    rng = np.random.default_rng(0)
    session, labels, position = None, [], 0
    while position < len(audio):
        size = int(rng.integers(500, 20000))
        label, rows, session = stream_microphone((48000, audio[position : position + size]), session, "test-cnn", pool)
        labels.append(label)
        position += size
    assert isinstance(session, LiveSession) and session.label in LABELS
    assert rows and all(set(scores) == set(LABELS) for _, scores in rows)
    quiet = np.zeros(48000 * 3, np.int16)
    label, rows, session = stream_microphone((48000, quiet), session, "test-cnn", pool)
    assert label == f"## {NO_SPEECH}" and rows[-1][1] is None  # the chart's gap
    stereo = np.stack([audio[:48000]] * 2, axis=1)
    label, _, other = stream_microphone((48000, stereo), None, "test-cnn", pool)  # a new session is separate
    assert other is not session


def test_live_enrollment_fits_the_stream_to_the_labelled_clips(tmp_path, pool, monkeypatch):
    clips = {}
    for i, emotion in enumerate(["happy", "sad"]):
        clips[emotion] = tmp_path / f"{emotion}.wav"
        sf.write(str(clips[emotion]), voice(1.5, 16000, seed=40 + i), 16000)
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros(24000, np.float32), 16000)
    status, session = demo_app.add_enrollment_clip(str(silent), "happy", None, "test-cnn", pool)
    assert status.startswith("**Clip not added.** The enrollment clip(s) ") and not session.enrollment
    assert "silent.wav have no speech" in status
    assert "Unknown enrollment label(s) calm" in demo_app.add_enrollment_clip(str(clips["happy"]), "calm", session, "test-cnn",
                                                                    pool)[0]
    assert demo_app.add_enrollment_clip(None, "happy", session, "test-cnn", pool)[0] == "Record or upload a clip first."
    status, session = demo_app.add_enrollment_clip(str(clips["happy"]), "happy", session, "test-cnn", pool)
    assert status == "Enrollment: happy 1. Add a clip in at least 1 more emotion(s) to use it."
    audio = voice(3.0, 16000, seed=7)
    label, _, session = stream_microphone((16000, audio), session, "test-cnn", pool)
    assert not session.enrolled and "enrollment" not in label  # one emotion is not used
    status, session = demo_app.add_enrollment_clip(str(clips["sad"]), "sad", session, "test-cnn", pool)
    assert status.startswith("Enrollment: happy 1, sad 1. The live label is fitted")
    label, rows, session = stream_microphone((16000, audio), session, "test-cnn", pool)
    assert session.enrolled and label.endswith("*Fitted to this speaker's 2 enrollment clips.*")
    # The known answer: the library's stream enrolled on the same clips gives the same scores.
    expected = StreamingRecognizer(pool.get("test-cnn"), window_s=2.0, hop_s=0.5)
    expected.adapt_to([str(clips["happy"]), str(clips["sad"])], labels=["happy", "sad"])
    updates = expected.push(audio, 16000)
    assert [r[1] for r in rows] == [pytest.approx(u.scores, abs=1e-6) for u in updates]
    plain = StreamingRecognizer(pool.get("test-cnn"), window_s=2.0, hop_s=0.5).push(audio, 16000)
    assert updates[-1].scores != pytest.approx(plain[-1].scores, abs=1e-4)
    session, label, _ = demo_app.reset_session(session)
    assert len(session.enrollment) == 2  # Reset starts the chart again and keeps the enrollment
    assert label == "## Press Record to start" == demo_app.reset_session(None)[1]  # not "listening..." before audio
    # Each clip is scored once per model: the stream rebuilt (here with adaptation on) scores none of them again.
    recognizer, scored = pool.get("test-cnn"), []
    monkeypatch.setattr(recognizer, "enrollment", lambda *args, **kwargs: scored.append(args))
    label, _, session = stream_microphone((16000, audio), session, "test-cnn", pool, adapt=True)
    assert session.enrolled and label.endswith("*Fitted to this speaker's 2 enrollment clips.*") and not scored
    monkeypatch.undo()
    status, session = demo_app.add_enrollment_clip(str(clips["sad"]), "calm", session, "test-cnn", pool)
    assert "Unknown enrollment label(s) calm" in status and len(session.enrollment) == 2  # a clip kept is checked again
    status, session = demo_app.clear_enrollment(session)
    label, rows, session = stream_microphone((16000, audio), session, "test-cnn", pool)
    assert status == "No enrollment clips yet." and not session.enrolled
    assert rows[-1][1] == pytest.approx(plain[-1].scores, abs=1e-6)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(pool):
    demo = build_demo({"test-cnn": pool.get("test-cnn")})
    port = free_port()
    launch(demo, max_file_size="1mb", server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_upload_endpoint_through_gradio_client(tmp_path, app_url):
    from gradio_client import Client, handle_file

    clip = tmp_path / "clip.wav"
    sf.write(str(clip), voice(2.0, 16000), 16000)
    client = Client(app_url, verbose=False)
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert [r["label"] for r in api["/on_upload"]["returns"]] == ["Result", "Probability chart", "Scores", "Segments",
                                                                  "Timeline"]  # named, not value_7, value_8, ...
    assert not any(r["label"].startswith("value_") for e in api.values() for r in e["returns"])
    message, bars, scores, _, _ = client.predict(handle_file(str(clip)), "test-cnn", api_name="/on_upload")
    assert message.splitlines()[0][3:] in LABELS
    assert set(scores) == set(LABELS) and sum(scores.values()) == pytest.approx(1.0, abs=1e-4)
    assert bars.count('class="ser-bar"') == len(LABELS)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    assert client.predict(handle_file(str(bad)), "test-cnn", api_name="/on_upload")[0].startswith("**Could not read")
    huge = tmp_path / "huge.wav"
    sf.write(str(huge), np.zeros(1024 * 1024, np.int16), 16000, subtype="PCM_16")  # 2 MiB: over the limit
    with pytest.raises(Exception, match="exceeds the maximum file size"):
        client.predict(handle_file(str(huge)), "test-cnn", api_name="/on_upload")
    again = client.predict(handle_file(str(clip)), "test-cnn", api_name="/on_upload")  # still serving
    assert again[0] == message
    # The live tab's session through the API: chunk by chunk, the state kept per client.
    chunk = tmp_path / "chunk.wav"
    sf.write(str(chunk), voice(0.5, 16000), 16000)
    labels = [client.predict(handle_file(str(chunk)), "test-cnn", False, api_name="/live_chunk")[0] for _ in range(4)]
    assert labels[0] == "## listening..." and labels[-1][3:] in LABELS  # an update once 1 s has arrived
    # Labelled enrollment through the API, in the same client session: the next chunks are fitted to it.
    for i, emotion in enumerate(["happy", "sad"]):
        sf.write(str(tmp_path / f"{emotion}.wav"), voice(1.5, 16000, seed=50 + i), 16000)
        status = client.predict(handle_file(str(tmp_path / f"{emotion}.wav")), emotion, "test-cnn",
                                api_name="/enroll_clip")
    assert status.startswith("Enrollment: happy 1, sad 1.")
    labels = [client.predict(handle_file(str(chunk)), "test-cnn", False, api_name="/live_chunk")[0] for _ in range(3)]
    assert labels[-1].endswith("*Fitted to this speaker's 2 enrollment clips.*")
    assert client.predict(api_name="/clear_enrollment") == "No enrollment clips yet."


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@needs_browser
def test_browser_upload_shows_the_label(tmp_path, app_url, data_root):
    from playwright.sync_api import sync_playwright

    clip = data_root / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.ogg"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        page.goto(app_url)
        page.locator("input[type=file]").first.set_input_files(str(clip))
        page.wait_for_timeout(1500)
        page.locator("#recognize").click()
        result = page.locator("#upload-result h2")
        result.wait_for(timeout=30000)
        assert result.inner_text().strip() in LABELS
        page.screenshot(path=str(ARTIFACTS / "demo_upload.png"), full_page=True)
        browser.close()


@needs_browser
def test_browser_fake_microphone_shows_a_live_label(tmp_path, app_url):
    from playwright.sync_api import sync_playwright

    wav = tmp_path / "mic.wav"
    sf.write(str(wav), (np.tile(voice(4.0, 48000), 4) * 32767).astype(np.int16), 48000, subtype="PCM_16")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    mic_args = ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                       f"--use-file-for-fake-audio-capture={wav}"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=mic_args)
        context = browser.new_context(viewport={"width": 1100, "height": 1000}, permissions=["microphone"])
        page = context.new_page()
        page.goto(app_url)
        page.get_by_role("tab", name="Microphone (live)").click()
        page.wait_for_timeout(1000)
        page.get_by_role("button", name="Record").click()
        # Read the label's own heading, not the whole component (Gradio's progress timer, "0.1s", shows inside it
        # while an update runs), and assert on what the wait itself saw: a stable condition, no second read.
        seen = page.wait_for_function(
            """labels => { const h = document.querySelector('#live-label h2');
                           const text = h ? h.innerText.trim() : '';
                           return labels.includes(text) ? text : false; }""",
            arg=LABELS, timeout=45000).json_value()
        assert seen in LABELS
        page.screenshot(path=str(ARTIFACTS / "demo_microphone.png"), full_page=True)
        browser.close()


def upload_again(page, path: Path, done: str) -> None:
    """Clear the upload, upload ``path``, press Recognize and wait until the JavaScript condition ``done`` holds."""
    page.locator("button[aria-label='Clear']").first.click()
    page.locator("input[type=file]").first.set_input_files(str(path))
    page.wait_for_timeout(1500)
    page.locator("#recognize").click()
    page.wait_for_function(f"() => {done}", timeout=120000)


@needs_browser
def test_browser_upload_on_the_bundled_models(data_root):
    """The app `make demo` opens: the shipped default and compact models, a real clip of an unseen actor."""
    from playwright.sync_api import sync_playwright

    from ser_hf.demo import BUNDLED_MODELS
    from ser_hf.demo.app import MAX_UPLOAD_S

    demo = build_demo(ModelPool(BUNDLED_MODELS))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    clip = data_root / "ravdess" / "Actor_02" / "03-01-05-02-01-02-02.ogg"  # angry, strong; actor 2 is a test speaker
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    from ser_hf.data import load_audio
    from ser_hf.demo.charts import colour

    speech = [load_audio(data_root / "ravdess" / name) for name in (
        "Actor_01/03-01-05-02-01-01-01.ogg", "Actor_02/03-01-03-02-02-01-02.ogg", "Actor_03/03-01-08-02-01-01-03.ogg",
        "Actor_04/03-01-04-02-01-01-04.ogg", "Actor_01/03-01-01-01-01-01-01.ogg")]
    long_upload = Path(os.environ.get("TMPDIR", "/tmp")) / f"ser_hf_long_upload_{port}.wav"
    sf.write(str(long_upload), np.concatenate(speech[:2] + [np.zeros(6 * 16000, np.float32)] + speech[2:]), 16000)
    longer_upload = long_upload.with_name(f"ser_hf_longer_upload_{port}.wav")  # 200 s: more than is analysed
    sf.write(str(longer_upload), np.resize(np.concatenate(speech + [np.zeros(16000, np.float32)]), 200 * 16000), 16000)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/")
            page.locator("input[type=file]").first.set_input_files(str(clip))
            page.wait_for_timeout(1500)
            page.locator("#recognize").click()
            result = page.locator("#upload-result h2")
            result.wait_for(timeout=60000)
            assert result.inner_text().strip() == "angry"
            page.screenshot(path=str(ARTIFACTS / "demo_default_upload.png"), full_page=True)
            # A long upload: two actors' clips, 6 s of silence, three more; the band and the timeline show
            # the segments in the emotions' colours and the silence as a gap.
            upload_again(page, long_upload, "document.querySelectorAll('#upload-band rect.ser-segment').length >= 4")
            assert page.locator("#upload-timeline rect.ser-gap").count() == 1
            fills = {rect.get_attribute("data-label"): rect.get_attribute("fill")
                     for rect in page.locator("#upload-band rect.ser-segment").all()}
            assert all(fill == colour(label) for label, fill in fills.items())
            page.screenshot(path=str(ARTIFACTS / "demo_long_upload.png"), full_page=True)
            # Longer than the part analysed (MAX_UPLOAD_S): the band spans the whole file, grey past the first
            # 120 s, and the segments stay where they are in the file.
            upload_again(page, longer_upload,
                         "document.querySelectorAll('#upload-band rect.ser-not-analysed').length == 1")
            grey = page.locator("#upload-band rect.ser-not-analysed")
            band_width = float(page.locator("#upload-band svg.ser-band").get_attribute("viewBox").split()[2])
            assert float(grey.get_attribute("x")) == pytest.approx(band_width * MAX_UPLOAD_S / 200.0, abs=1.0)
            assert "first 120 s were analysed" in page.locator("#upload-result").inner_text()
            page.screenshot(path=str(ARTIFACTS / "demo_longer_upload.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
        long_upload.unlink(missing_ok=True)
        longer_upload.unlink(missing_ok=True)


def test_one_colour_per_emotion_in_every_picture_and_gaps_stay_gaps():
    import re

    from ser_hf.demo.charts import EMOTION_COLOURS, colour, line_chart, probability_bars, segment_band

    scores = {"happy": 0.7, "sad": 0.2, "angry": 0.1}
    bars = probability_bars(scores)
    assert re.findall(r'data-label="(\w+)"', bars) == ["happy", "sad", "angry"]  # largest first
    assert f"background:{EMOTION_COLOURS['happy']}" in bars and "width:70.0%" in bars
    # Speech from 0 to 2 s, no speech at 2.5-3 s, speech again from 3.5 s: every emotion's line has two runs.
    points = [(t, scores) for t in (0.5, 1.0, 1.5, 2.0)] + [(2.5, None), (3.0, None)] + \
        [(t, scores) for t in (3.5, 4.0, 4.5)]
    chart = line_chart(points, list(scores))
    lines = re.findall(r'<polyline data-label="(\w+)" points="([^"]+)" fill="none" stroke="(#\w+)"', chart)
    assert sorted(label for label, _, _ in lines) == ["angry", "angry", "happy", "happy", "sad", "sad"]
    assert all(stroke == colour(label) for label, _, stroke in lines)
    assert [len(pts.split()) for label, pts, _ in lines if label == "happy"] == [4, 3]
    assert chart.count('class="ser-gap"') == 1
    band = segment_band([(0.0, 4.0, "happy"), (2.0, 6.0, "sad"), (8.0, 12.0, "happy")], 12.0)
    cells = re.findall(r'data-label="(\w+)" x="([\d.]+)" y="0" width="([\d.]+)" height="16" fill="(#\w+)"', band)
    assert [(label, float(x), float(w)) for label, x, w, _ in cells] == [
        ("happy", 0.0, 106.7), ("sad", 106.7, 213.3), ("happy", 426.7, 213.3)]  # cut at the next start; a gap
    assert all(fill == colour(label) for label, _, _, fill in cells)
    # A 10-minute file analysed for its first 120 s: a segment at 1:45 sits at 1:45 of the waveform, the rest is grey.
    long = segment_band([(104.0, 108.0, "sad"), (106.0, 110.0, "happy")], 600.0, analysed_s=120.0,
                        labels=["neutral", "happy", "sad"])
    cell = re.search(r'data-label="sad" x="([\d.]+)"', long)
    assert float(cell.group(1)) == pytest.approx(640 * 104 / 600, abs=0.1)
    assert re.search(r'class="ser-not-analysed" x="([\d.]+)"', long).group(1) == f"{640 * 120 / 600:.1f}"
    assert re.findall(r'<text x="[\d.]+" y="30">(\w+)</text>', long) == ["happy", "sad"]  # the charts' order
    assert colour("bored") == colour("bored") and colour("bored") not in EMOTION_COLOURS.values()
    assert probability_bars(None) == "" and line_chart([], ["happy"]) == "" and segment_band([], 1.0) == ""


def test_timeline_points_mark_the_windows_the_gate_dropped():
    from ser_hf.demo import timeline_points
    from ser_hf.inference.recognizer import Prediction, Segment

    s = {"happy": 1.0}
    prediction = Prediction("happy", s, [Segment(0, 4, "happy", s), Segment(2, 6, "happy", s),
                                         Segment(10, 14, "happy", s)], duration_s=14.0)
    assert timeline_points(prediction, hop_s=2.0) == [(2.0, s), (4.0, s), (8.0, None), (12.0, s)]
