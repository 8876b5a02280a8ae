"""EmotionRecognizer, `ser-hf predict`, streaming, ONNX export and the benchmark, on a small model."""

import json
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from ser_hf import SerAudioError, SerError
from ser_hf.inference import NO_SPEECH, EmotionRecognizer
from ser_hf.inference.streaming import StreamingRecognizer
from tests.conftest import run_ser_hf, save_tiny_cnn, voice

LABELS = ["neutral", "happy", "sad", "angry"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_cnn(tmp_path_factory.mktemp("model"), LABELS, hidden_size=32, num_blocks=2)


@pytest.fixture(scope="module")
def recognizer(model_dir):
    return EmotionRecognizer.from_pretrained(model_dir, vad=False)  # synthetic voices: Silero VAD hears no speech


def run_cli(*args, env: dict | None = None):
    return run_ser_hf(*args, env=env)


@pytest.mark.parametrize("subtype, rate, channels", [
    ("PCM_U8", 8000, 1), ("PCM_16", 16000, 1), ("PCM_24", 22050, 1), ("FLOAT", 44100, 2), ("PCM_16", 48000, 2),
])
def test_any_bit_depth_rate_and_channel_count(tmp_path, recognizer, subtype, rate, channels):
    wave = voice(2.0, rate)
    data = np.stack([wave, wave], axis=1) if channels == 2 else wave
    path = tmp_path / f"clip_{subtype}_{rate}.wav"
    sf.write(str(path), data, rate, subtype=subtype)
    prediction = recognizer.predict(path)
    assert prediction.label in LABELS and abs(sum(prediction.scores.values()) - 1) < 1e-5
    reference = recognizer.predict(voice(2.0, 16000), sampling_rate=16000)
    assert prediction.label == reference.label  # the same sound, whatever its format (untrained model: ties aside)


def test_arrays_lists_top_k_and_int16(recognizer):
    wave = voice(1.5)
    as_int16 = (wave * 32767).astype(np.int16)
    a = recognizer.predict(wave, sampling_rate=16000)
    b = recognizer.predict(as_int16, sampling_rate=16000)
    assert a.label == b.label
    assert np.allclose(list(a.scores.values()), list(b.scores.values()), atol=1e-3)
    both = recognizer.predict([wave, as_int16], sampling_rate=16000, top_k=2)
    assert len(both) == 2 and len(both[0].scores) == 2
    with pytest.raises(SerError, match="sampling_rate"):
        recognizer.predict(wave)


def test_long_audio_gives_a_timeline(tmp_path, recognizer):
    path = tmp_path / "ten_minutes.wav"
    sf.write(str(path), np.tile(voice(10.0), 60), 16000, subtype="PCM_16")  # 10 minutes
    prediction = recognizer.predict(path)
    assert prediction.duration_s == pytest.approx(600.0)
    assert len(prediction.segments) == 299  # 4 s windows every 2 s
    assert prediction.segments[0].start == 0.0 and prediction.segments[-1].end == pytest.approx(600.0)
    assert prediction.label in LABELS


def test_silence_is_no_speech_and_bad_audio_raises(tmp_path, recognizer):
    assert recognizer.predict(np.zeros(32000, np.float32), sampling_rate=16000).label == NO_SPEECH
    with pytest.raises(SerAudioError, match="NaN"):
        recognizer.predict(np.full(16000, np.nan, np.float32), sampling_rate=16000)
    with pytest.raises(SerAudioError, match="mono"):
        recognizer.predict(np.zeros((2, 2, 100), np.float32), sampling_rate=16000)


def test_predict_cli_json_csv_and_exit_codes(tmp_path, model_dir):
    good = tmp_path / "in" / "good.wav"
    good.parent.mkdir()
    sf.write(str(good), voice(2.0, 24000), 24000)
    text = tmp_path / "in" / "notes.wav"
    text.write_text("this is not audio")
    truncated = tmp_path / "in" / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:44])  # the header only
    result = run_cli("predict", str(tmp_path / "in"), "--model", str(model_dir), "--format", "json", "--no-vad")
    assert result.returncode == 1
    records = {r["path"].rsplit("/", 1)[-1]: r for r in json.loads(result.stdout)}
    assert set(records["good.wav"]) == {"path", "duration_s", "label", "scores", "segments"}
    assert records["good.wav"]["label"] in LABELS
    assert set(records["notes.wav"]) == {"path", "error"} and "Cannot read" in records["notes.wav"]["error"]
    assert "error" in records["truncated.wav"]
    assert result.stderr.count("ser-hf: error:") == 2 and "Traceback" not in result.stderr

    ok = run_cli("predict", str(good), "--model", str(model_dir), "--format", "csv", "--no-vad")
    assert ok.returncode == 0
    assert ok.stdout.splitlines()[0] == "path,part,start,end,label,score,error"
    assert ok.stdout.splitlines()[1].startswith(f"{good},clip,0.00,2.00,")
    table = run_cli("predict", str(good), "--model", str(model_dir), "--no-vad")
    assert table.returncode == 0 and str(good) in table.stdout


def test_predict_cli_bad_model_folder(tmp_path):
    result = run_cli("predict", str(tmp_path), "--model", str(tmp_path))
    assert result.returncode == 1 and "not a model folder" in result.stderr and "Traceback" not in result.stderr


def test_streaming_with_irregular_chunks_and_rates(recognizer):
    rng = np.random.default_rng(0)
    stream = StreamingRecognizer(recognizer, window_s=2.0, hop_s=0.5, smoothing=0.5)
    audio48 = (voice(6.0, 48000) * 32767).astype(np.int16)  # 48 kHz int16, as a sound card gives it
    position, updates = 0, []
    while position < len(audio48):
        size = int(rng.integers(1, 9000))
        updates += stream.push(audio48[position : position + size], 48000)
        position += size
    updates += stream.flush()
    assert [u.time for u in updates] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0]
    assert all(u.label in LABELS and u.speech for u in updates)
    # the same audio at 16 kHz float in one chunk gives the same labels
    fresh = StreamingRecognizer(recognizer, window_s=2.0, hop_s=0.5, smoothing=0.5)
    again = fresh.push(voice(6.0, 16000), 16000)
    assert [u.time for u in again] == [u.time for u in updates]
    stereo_stream = StreamingRecognizer(recognizer)
    stereo = stereo_stream.push(np.stack([voice(1.5, 22050)] * 2, axis=1), 22050) + stereo_stream.flush()
    assert [u.time for u in stereo] == [1.0, 1.5]


def test_streaming_silence_gives_no_speech_then_recovers(recognizer):
    stream = StreamingRecognizer(recognizer, window_s=1.0, hop_s=0.5, smoothing=0.5)
    quiet = stream.push(np.zeros(32000, np.float32), 16000)
    assert quiet and all(u.label == NO_SPEECH and not u.speech and u.scores == {} for u in quiet)
    loud = stream.push(voice(2.0), 16000)
    assert loud[-1].label in LABELS


def test_streaming_memory_is_bounded(recognizer):
    stream = StreamingRecognizer(recognizer, window_s=1.0, hop_s=0.5, smoothing=0.5)
    chunk = (voice(10.0, 8000) * 32767).astype(np.int16)  # resampled 8 kHz -> 16 kHz as it comes
    tracemalloc.start()
    for _ in range(6):  # one minute of warm-up
        stream.push(chunk, 8000)
    warm, _ = tracemalloc.get_traced_memory()
    for _ in range(54):  # nine more minutes
        stream.push(chunk, 8000)
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert stream.buffered_samples == 16000
    assert after - warm < 256 * 1024  # no growth with the length of the stream


def test_streaming_rejects_bad_chunks(recognizer):
    stream = StreamingRecognizer(recognizer)
    with pytest.raises(SerAudioError, match="NaN"):
        stream.push(np.array([0.1, np.nan], np.float32), 16000)
    with pytest.raises(SerAudioError, match="sampling_rate"):
        stream.push(np.zeros(100, np.float32), 0)
    with pytest.raises(SerAudioError, match="hop_s"):
        StreamingRecognizer(recognizer, window_s=1.0, hop_s=2.0)


def test_stream_cli_json_lines(tmp_path, model_dir):
    path = tmp_path / "clip.wav"
    sf.write(str(path), voice(3.0, 44100), 44100)
    result = run_cli("stream", str(path), "--model", str(model_dir), "--json", "--chunk", "0.13", "--no-vad")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [round(line["time"], 2) for line in lines] == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert set(lines[0]) == {"time", "label", "scores", "speech"}
    unsure = run_cli("stream", str(path), "--model", str(model_dir), "--json", "--no-vad", "--min-confidence", "0.99")
    assert unsure.returncode == 0, unsure.stderr
    unsure_lines = [json.loads(line) for line in unsure.stdout.splitlines()]  # the same scores, no answer above 0.99
    assert [u["label"] for u in unsure_lines] == ["uncertain"] * 5
    assert [u["scores"] for u in unsure_lines] == [line["scores"] for line in lines]


def test_onnx_export_matches_pytorch(tmp_path, model_dir):
    pytest.importorskip("onnxruntime")
    result = run_cli("export-onnx", "--model", str(model_dir), "--output", str(tmp_path / "model.onnx"), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["max_abs_diff"] < 1e-4 and "Warning" not in result.stderr  # no tracer warnings on the console
    assert json.loads((tmp_path / "model.onnx.json").read_text())["labels"] == LABELS


def test_bench_json_keys(model_dir, tmp_path):
    result = run_cli("bench", "--model", str(model_dir), "--repeats", "2", "--json",
                     env={"SER_HF_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["wav2vec2_base_infer_ms_3s"] > 0
    entry = out["models"][str(model_dir)]
    assert set(entry) >= {"feature_x_realtime", "infer_ms_3s", "infer_x_realtime_batched", "stream_update_ms",
                          "model_size_mb", "speedup_vs_wav2vec2_base"}
    assert entry["model_size_mb"] > 0 and entry["speedup_vs_wav2vec2_base"] > 1
    assert set(entry["backends"]) == {"torch", "onnx", "onnx-int8"}
    for row in entry["backends"].values():
        assert row["infer_ms_3s"] > 0 and row["cold_start_s"] > row["infer_ms_3s"] / 1000
    assert entry["infer_ms_3s"] == entry["backends"]["torch"]["infer_ms_3s"]  # today's keys: the torch backend
    assert out["vad_ms_2s_window"] > 0 and out["vad_ms_0_5s_hop"] > 0


def test_vad_skips_windows_without_speech(data_root, model_dir):
    pytest.importorskip("silero_vad")
    from ser_hf.data import load_audio

    speech = load_audio(data_root / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.ogg")
    noise = (0.02 * np.random.default_rng(0).standard_normal(8 * 16000)).astype(np.float32)  # loud, not speech
    audio = np.concatenate([noise, speech])
    plain = EmotionRecognizer.from_pretrained(model_dir, vad=False).predict(audio, sampling_rate=16000)
    with_vad = EmotionRecognizer.from_pretrained(model_dir, vad=True).predict(audio, sampling_rate=16000)
    assert plain.segments[0].start == 0.0  # the energy gate lets loud noise through
    assert with_vad.segments and all(s.end > 8.0 for s in with_vad.segments)  # VAD keeps windows with the speech
    assert len(with_vad.segments) < len(plain.segments)


def test_listen_without_a_microphone_is_one_sentence(model_dir):
    result = run_cli("listen", "--model", str(model_dir), "--seconds", "1")
    if result.returncode == 0:
        pytest.skip("this machine has a working microphone")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "ser-hf stream FILE" in result.stderr


def test_onnx_export_of_a_whisper_backbone_has_a_dynamic_time_axis(tmp_path):
    pytest.importorskip("onnxruntime")
    from ser_hf.scoring.onnx import export_onnx, onnx_parity
    from ser_hf.train.factory import backbone_feature_extractor
    from tests.test_models import tiny_backbone, tiny_whisper_config

    model = tiny_backbone(tiny_whisper_config())
    model.save_pretrained(tmp_path / "whisper")
    backbone_feature_extractor(model.config).save_pretrained(tmp_path / "whisper")
    onnx_file = export_onnx(tmp_path / "whisper", tmp_path / "whisper.onnx")
    assert onnx_parity(tmp_path / "whisper", onnx_file, seconds=(1.0, 3.0, 7.5)) < 1e-4


def test_a_list_of_paths_is_a_list_of_clips(tmp_path, recognizer):
    paths = []
    for i, seconds in enumerate((1.0, 2.5)):
        sf.write(str(tmp_path / f"clip{i}.wav"), voice(seconds, seed=i), 16000)
        paths.append(str(tmp_path / f"clip{i}.wav"))
    predictions = recognizer.predict(paths)
    assert [p.path for p in predictions] == paths
    assert [p.duration_s for p in predictions] == pytest.approx([1.0, 2.5])


def test_one_channel_rule_for_files_arrays_and_stream_chunks(tmp_path, recognizer, model_dir):
    # (samples, channels) and (channels, samples) arrays, a stereo file and stereo stream chunks: the same audio.
    mono = voice(2.0)
    stereo = np.stack([mono, mono], axis=1)
    sf.write(str(tmp_path / "stereo.wav"), stereo, 16000, subtype="FLOAT")
    reference = recognizer.predict(mono, sampling_rate=16000).scores
    for audio in (stereo, stereo.T, str(tmp_path / "stereo.wav")):
        scores = recognizer.predict(audio, sampling_rate=16000).scores
        assert scores == pytest.approx(reference, abs=1e-6)
    first, second = StreamingRecognizer(recognizer, smoothing=0.0), StreamingRecognizer(recognizer, smoothing=0.0)
    from_mono = [u.scores for u in first.push(mono, 16000)]
    from_chunks = [u.scores for chunk in np.array_split(stereo, 20) for u in second.push(chunk, 16000)]
    assert from_mono and len(from_chunks) == len(from_mono)
    for got, expected in zip(from_chunks, from_mono):
        assert got == pytest.approx(expected, abs=1e-6)
    with pytest.raises(SerAudioError, match="at most 8 channels"):
        recognizer.predict(np.zeros((100, 100), np.float32), sampling_rate=16000)


def test_loading_a_model_in_a_library_call_prints_no_progress_bar(model_dir, capfd):
    from transformers.utils import logging as hf_logging

    hf_logging.enable_progress_bar()
    EmotionRecognizer.from_pretrained(model_dir, vad=False)
    assert "Loading weights" not in capfd.readouterr().err and hf_logging.is_progress_bar_enabled()


def test_a_clip_under_the_minimum_is_too_short(tmp_path, model_dir, recognizer):
    from ser_hf.demo import ModelPool, predict_upload
    from ser_hf.scoring.decision import MIN_CLIP_S, TOO_SHORT

    assert MIN_CLIP_S == 0.5
    short = recognizer.predict(voice(0.3), sampling_rate=16000)
    assert short.label == TOO_SHORT and short.scores == {} and short.duration_s == pytest.approx(0.3)
    assert recognizer.predict(voice(0.6), sampling_rate=16000).label in LABELS
    path = tmp_path / "short.wav"
    sf.write(str(path), voice(0.3), 16000)
    printed = run_cli("predict", str(path), "--model", str(model_dir), "--no-vad", "--json")
    assert printed.returncode == 0 and json.loads(printed.stdout)[0]["label"] == "too short"
    message = predict_upload(str(path), "m", ModelPool({"m": recognizer}))[0]
    assert message == "**Too short:** short.wav is 0.3 s long; at least 0.5 s of speech is needed."


def test_stream_of_a_folder_or_a_too_short_clip_says_so(tmp_path, model_dir):
    folder = run_cli("stream", str(tmp_path), "--model", str(model_dir))
    assert folder.returncode == 1 and "is a directory" in folder.stderr and "Traceback" not in folder.stderr
    short = tmp_path / "short.wav"
    sf.write(str(short), voice(0.3), 16000)
    result = run_cli("stream", str(short), "--model", str(model_dir), "--no-vad")
    assert result.returncode == 1 and "is 0.30 s long, shorter than the 1.00 s" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_predict_csv_has_the_timeline_segments(tmp_path, model_dir):
    import csv
    import io

    long = tmp_path / "ten_seconds.wav"
    sf.write(str(long), voice(10.0), 16000)
    result = run_cli("predict", str(long), "--model", str(model_dir), "--format", "csv", "--no-vad")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["part"] for row in rows] == ["clip"] + ["segment"] * 4  # 4 s windows every 2 s over 10 s
    assert [(row["start"], row["end"]) for row in rows] == [("0.00", "10.00"), ("0.00", "4.00"), ("2.00", "6.00"),
                                                            ("4.00", "8.00"), ("6.00", "10.00")]
    assert all(row["label"] in LABELS and 0 < float(row["score"]) <= 1 for row in rows)


def test_inference_runs_on_the_threads_asked_for_and_restores_torch(model_dir):
    import torch

    seen = []
    torch.set_num_threads(2)
    for threads, expected in ((1, 1), (0, 2)):
        recognizer = EmotionRecognizer.from_pretrained(model_dir, vad=False, threads=threads)
        hook = recognizer.model.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
        recognizer.predict(voice(2.0), sampling_rate=16000)
        StreamingRecognizer(recognizer, window_s=1.0, hop_s=0.5).push(voice(1.0), 16000)
        hook.remove()
        assert set(seen) == {expected} and torch.get_num_threads() == 2
        seen.clear()
    with pytest.raises(SerError, match="threads must be 0"):
        EmotionRecognizer.from_pretrained(model_dir, threads=-1)
    bad = run_cli("predict", "x.wav", "--model", str(model_dir), "--threads", "-2")
    assert bad.returncode == 1 and "threads must be 0" in bad.stderr


def test_m4a_voice_memo_through_predict_and_stream(tmp_path, model_dir):
    from tests.conftest import write_with_ffmpeg

    memo = write_with_ffmpeg(tmp_path / "memo.m4a", voice(3.0, 44100), 44100)
    predicted = run_cli("predict", str(memo), "--model", str(model_dir), "--json", "--no-vad")
    assert predicted.returncode == 0, predicted.stderr
    record = json.loads(predicted.stdout)[0]
    assert record["label"] in LABELS and abs(record["duration_s"] - 3.0) < 0.1
    streamed = run_cli("stream", str(memo), "--model", str(model_dir), "--json", "--no-vad")
    assert streamed.returncode == 0, streamed.stderr
    assert [round(json.loads(line)["time"], 1) for line in streamed.stdout.splitlines()] == [1.0, 1.5, 2.0, 2.5, 3.0]


@pytest.mark.parametrize("family", ["cnn", "whisper"])
def test_onnx_backends_give_the_torch_answers_through_the_same_scoring_path(tmp_path, monkeypatch, model_dir, family):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("SER_HF_CACHE", str(tmp_path / "cache"))
    if family == "whisper":
        from ser_hf.train.factory import backbone_feature_extractor
        from tests.test_models import tiny_backbone, tiny_whisper_config

        model = tiny_backbone(tiny_whisper_config())
        model_dir = tmp_path / "whisper"
        model.save_pretrained(model_dir)
        backbone_feature_extractor(model.config).save_pretrained(model_dir)
    clips = [voice(2.0, seed=1), voice(9.0, seed=2)]  # one scored whole, one in windows
    torch_recognizer = EmotionRecognizer.from_pretrained(model_dir, vad=False)
    torch_answers = [torch_recognizer.predict(c, sampling_rate=16000) for c in clips]
    torch_embeddings = [torch_recognizer.score_clip(c, 16000).embedding for c in clips]  # session mode's input
    for backend, tolerance in (("onnx", 1e-4), ("onnx-int8", 0.1)):
        recognizer = EmotionRecognizer.from_pretrained(model_dir, vad=False, backend=backend)
        assert type(recognizer.model).__name__ == "OnnxModel"
        for clip, expected in zip(clips, torch_answers):
            got = recognizer.predict(clip, sampling_rate=16000)
            assert len(got.segments) == len(expected.segments)
            assert max(abs(got.scores[k] - expected.scores[k]) for k in expected.scores) < tolerance, backend
            if backend == "onnx":
                assert got.label == expected.label
        for clip, expected in zip(clips, torch_embeddings):
            np.testing.assert_allclose(recognizer.score_clip(clip, 16000).embedding, expected,
                                       atol=1e-3 if backend == "onnx" else 0.5 * np.abs(expected).max())
    assert len(list((tmp_path / "cache" / "onnx").glob("*/model.onnx"))) == 1  # exported once, then reused
    int8_graphs = list((tmp_path / "cache" / "onnx").glob("*/model.int8.onnx"))
    assert len(int8_graphs) == 1
    import onnx

    ops = {node.op_type for node in onnx.load(str(int8_graphs[0])).graph.node}
    # The MatMuls only: ONNX Runtime's ConvInteger is slow on CPUs.
    assert "ConvInteger" not in ops and (family == "cnn" or "MatMulInteger" in ops)
    with pytest.raises(SerError, match="Unknown backend 'tensorrt'"):
        EmotionRecognizer.from_pretrained(model_dir, backend="tensorrt")


def test_predict_and_stream_cli_take_the_onnx_backend(tmp_path, model_dir):
    pytest.importorskip("onnxruntime")
    path = tmp_path / "clip.wav"
    sf.write(str(path), voice(3.0), 16000)
    env = {"SER_HF_CACHE": str(tmp_path / "cache")}
    answers = [json.loads(run_cli("predict", str(path), "--model", str(model_dir), "--json", "--no-vad",
                                  *extra, env=env).stdout)[0] for extra in ([], ["--backend", "onnx"])]
    assert answers[0]["label"] == answers[1]["label"]
    assert answers[1]["scores"] == pytest.approx(answers[0]["scores"], abs=1e-4)
    streamed = run_cli("stream", str(path), "--model", str(model_dir), "--json", "--no-vad", "--backend", "onnx-int8",
                       env=env)
    assert streamed.returncode == 0 and len(streamed.stdout.splitlines()) == 5, streamed.stderr


def test_clips_of_every_length_reach_the_model_in_a_few_shapes(model_dir):
    # A server meets every clip length; CPU kernels cache one primitive per input shape, so its memory would grow with
    # each new length. The frames are padded and masked up to FRAME_BUCKET: the answers are the same, the shapes few.
    import torch

    from ser_hf.models.pooling import FRAME_BUCKET, kept_frames
    from ser_hf.scoring.score import bucketed, clip_logits, model_inputs

    assert [kept_frames(torch.tensor([n]), 1000) for n in (1, 32, 33, 70)] == [32, 32, 64, 96]
    assert kept_frames(torch.tensor([70, 20]), 80) == 80  # never more frames than the input has
    recognizer = EmotionRecognizer.from_pretrained(model_dir, vad=False)
    seen = []
    hook = recognizer.model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(kwargs["input_features"].shape[-1]), with_kwargs=True)
    rng = np.random.default_rng(0)
    waves = [voice(float(s), seed=i) for i, s in enumerate(rng.uniform(0.6, 4.4, size=40))]
    try:
        logits = [clip_logits(recognizer.model, recognizer.feature_extractor, w) for w in waves]
    finally:
        hook.remove()
    assert all(frames % FRAME_BUCKET == 0 for frames in seen) and len(set(seen)) <= 4.4 * 100 / FRAME_BUCKET + 1
    assert len({len(w) for w in waves}) == 40
    with torch.inference_mode():
        for wave, bucketed_logits in zip(waves[:5], logits):
            inputs = model_inputs(recognizer.feature_extractor, wave, recognizer.input_name)
            plain = recognizer.model(**inputs).logits[0].numpy()
            np.testing.assert_allclose(bucketed_logits, plain, atol=1e-5)
            assert bucketed(inputs, recognizer.input_name)["attention_mask"].sum() == inputs["attention_mask"].sum()
