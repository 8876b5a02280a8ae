"""Real recordings: level-invariant input for both families, noise that is not speech, degradations, calibration."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import torch

from ser_hf import SerAudioError
from ser_hf.data import load_audio
from ser_hf.data.degradations import parse_condition
from ser_hf.evaluation.calibration import expected_calibration_error, fit_temperature
from ser_hf.scoring.decision import softmax
from ser_hf.inference import NO_SPEECH, EmotionRecognizer
from ser_hf.models import SerWhisperFeatureExtractor
from tests.conftest import run_ser_hf, save_tiny_cnn, voice
from tests.test_models import tiny_backbone, tiny_whisper_config

LABELS = ["neutral", "happy", "sad", "angry"]
SR = 16000


def noises(seconds: float = 5.0) -> dict[str, np.ndarray]:
    """5 s of white, pink and brown noise and of 50 Hz mains hum (with its third harmonic), 0.3 peak."""
    rng = np.random.default_rng(0)
    n = int(seconds * SR)
    out = {}
    for name, beta in (("white", 0), ("pink", 1), ("brown", 2)):
        freqs = np.fft.rfftfreq(n)
        freqs[0] = freqs[1]
        x = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / freqs ** (beta / 2), n)
        out[name] = (0.3 * x / np.abs(x).max()).astype(np.float32)
    t = np.arange(n) / SR
    out["hum50"] = (0.25 * np.sin(2 * np.pi * 50 * t) + 0.05 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    return out


def briefly_trained(model, featurize, steps: int = 3):
    """A few optimizer steps on the new input, so the test model is a trained one, not only initialized."""
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for step in range(steps):
        inputs = featurize([voice(2.0, seed=step), voice(1.5, seed=step + 10)])
        loss = model(**inputs, labels=torch.tensor([step % 4, (step + 1) % 4])).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def level_spread(model, featurize) -> float:
    """Largest difference of any probability for one clip at 0, -10, -20 and -30 dBFS peak."""
    clip = voice(3.0, seed=3)
    clip = clip / np.abs(clip).max()
    with torch.no_grad():
        probs = [torch.softmax(model(**featurize([clip * 10 ** (db / 20)])).logits, -1)[0].numpy()
                 for db in (0, -10, -20, -30)]
    return float(np.max(np.ptp(np.stack(probs), axis=0)))


def test_level_invariant_input_for_both_families(tmp_path):
    from ser_hf.scoring.score import batch_inputs

    folder = save_tiny_cnn(tmp_path / "cnn", LABELS)
    cnn = EmotionRecognizer.from_pretrained(folder, vad=False)

    def cnn_inputs(waves):
        return batch_inputs(cnn.feature_extractor, waves, "input_features")

    assert level_spread(briefly_trained(cnn.model, cnn_inputs), cnn_inputs) <= 0.02
    whisper = tiny_backbone(tiny_whisper_config())
    fe = SerWhisperFeatureExtractor(feature_size=80, return_attention_mask=True)

    def whisper_inputs(waves):
        return batch_inputs(fe, waves, "input_features")

    assert level_spread(briefly_trained(whisper, whisper_inputs), whisper_inputs) <= 0.02
    plain = SerWhisperFeatureExtractor(feature_size=80, return_attention_mask=True, normalization=None,
                                       remove_dc_offset=False)

    clip = voice(3.0, seed=3)
    features = {name: [batch_inputs(extractor, [clip * g], "input_features")["input_features"] for g in (1.0, 0.03)]
                for name, extractor in (("plain", plain), ("normalized", fe))}
    assert float((features["plain"][0] - features["plain"][1]).abs().max()) > 0.5  # Whisper's log-mel follows the gain
    assert float((features["normalized"][0] - features["normalized"][1]).abs().max()) < 1e-4


def test_the_level_invariant_extractor_round_trips_and_loads_by_auto_class(tmp_path):
    from transformers import AutoFeatureExtractor

    fe = SerWhisperFeatureExtractor(feature_size=80, normalization="loudness", target_db=-26.0)
    fe.save_pretrained(tmp_path)
    loaded = AutoFeatureExtractor.from_pretrained(tmp_path)
    assert type(loaded) is SerWhisperFeatureExtractor and loaded.normalization == "loudness"
    assert loaded.target_db == -26.0 and (tmp_path / "feature_extraction_ser_whisper.py").is_file()
    with pytest.raises(ValueError, match="Unknown normalization"):
        SerWhisperFeatureExtractor(normalization="loud")
    with pytest.raises(SerAudioError, match="NaN"):
        fe(np.full(1600, np.nan, np.float32), sampling_rate=SR)


@pytest.mark.parametrize("name", ["default", "compact"])
def test_noise_and_hum_are_not_speech_for_the_bundled_models(name, tmp_path):
    from ser_hf.demo import ModelPool, predict_upload

    recognizer = EmotionRecognizer.from_pretrained(name)
    pool = ModelPool({name: recognizer})
    paths = []
    for kind, wave in noises().items():
        assert recognizer.predict(wave, sampling_rate=SR).label == NO_SPEECH, kind  # the Python API
        path = tmp_path / f"{kind}.wav"
        sf.write(str(path), wave, SR)
        paths.append(str(path))
        message = predict_upload(str(path), name, pool)[0]  # the Space says what it found
        assert message.startswith("**No speech found**"), kind
        assert ("no voice in it" in message) == (kind != "silence") and "dBFS" in message, (kind, message)
    result = run_ser_hf("predict", *paths, "--model", name, "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    assert [row["label"] for row in json.loads(result.stdout)] == [NO_SPEECH] * 4


def test_real_speech_passes_the_gate_and_no_vad_switches_it_off(data_root, tmp_path):
    speech = load_audio(data_root / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.ogg")
    folder = save_tiny_cnn(tmp_path / "cnn", LABELS)
    assert EmotionRecognizer.from_pretrained(folder).predict(speech, sampling_rate=SR).label in LABELS
    white = noises()["white"]
    assert EmotionRecognizer.from_pretrained(folder).predict(white, sampling_rate=SR).label == NO_SPEECH
    assert EmotionRecognizer.from_pretrained(folder, vad=False).predict(white, sampling_rate=SR).label in LABELS


def test_min_confidence_answers_uncertain(tmp_path):
    folder = save_tiny_cnn(tmp_path / "cnn", LABELS)
    clip = voice(2.0)
    sure = EmotionRecognizer.from_pretrained(folder, vad=False).predict(clip, sampling_rate=SR)
    top = max(sure.scores.values())
    unsure = EmotionRecognizer.from_pretrained(folder, vad=False, min_confidence=top + 0.01).predict(clip, sampling_rate=SR)
    assert sure.label in LABELS and unsure.label == "uncertain" and unsure.scores == sure.scores


def test_degradations_are_deterministic_keep_length_and_do_what_they_say():
    clip = voice(2.0)
    for condition in ("clean", "noise:10", "noise:0:pink", "reverb", "telephone", "quiet:-30", "codec", "gain:-6"):
        degrade = parse_condition(condition)
        first, again, other = degrade(clip, 1), degrade(clip, 1), degrade(clip, 2)
        assert first.shape == clip.shape and first.dtype == np.float32 and np.array_equal(first, again), condition
        if condition.startswith("noise"):
            assert not np.array_equal(first, other)
            noise = first - clip
            snr = 10 * np.log10(np.mean(clip ** 2) / np.mean(noise ** 2))
            assert snr == pytest.approx(float(condition.split(":")[1]), abs=0.5)
    assert 20 * np.log10(np.abs(parse_condition("quiet:-30")(clip, 0)).max()) == pytest.approx(-30, abs=0.01)
    spectrum = np.abs(np.fft.rfft(parse_condition("telephone")(voice(2.0, seed=5) + 0.05 * noises(2.0)["white"], 0)))
    freqs = np.fft.rfftfreq(2 * SR, 1 / SR)
    assert spectrum[freqs > 4500].sum() < 0.01 * spectrum.sum()  # nothing above the telephone band
    with pytest.raises(Exception, match="Unknown condition"):
        parse_condition("underwater")


def test_codecs_take_empty_and_nan_input_and_a_failing_encoder_costs_training_one_augmentation(monkeypatch, caplog):
    from ser_hf.data import degradations
    from ser_hf.train.augment import AugmentConfig, WaveformAugmenter

    for condition in ("codec", "telephone"):
        assert parse_condition(condition)(np.zeros(0, np.float32), 0).shape == (0,)
        coded = parse_condition(condition)(np.where(np.arange(SR) % 7 == 0, np.nan, voice(1.0)).astype(np.float32), 0)
        assert coded.shape == (SR,) and np.isfinite(coded).all(), condition

    def broken(*args, **kwargs):  # what libsndfile raised in a data-loader worker mid-run
        raise sf.LibsndfileError(1)

    monkeypatch.setattr(degradations, "_round_trip", broken)
    clip = voice(1.0)
    augmenter = WaveformAugmenter(AugmentConfig(telephone_prob=1.0, codec_prob=1.0), seed=0)
    with caplog.at_level("WARNING", logger="ser_hf.train.augment"):
        assert np.array_equal(augmenter(clip), clip)
    assert [r.getMessage().split(" failed")[0] for r in caplog.records] == ["telephone", "lossy_codec"]
    with pytest.raises(sf.LibsndfileError):  # the robustness report's conditions still fail loudly
        parse_condition("codec")(clip, 0)


def test_temperature_scaling_fixes_overconfidence():
    rng = np.random.default_rng(0)
    references = rng.integers(0, 4, 2000)
    logits = rng.normal(size=(2000, 4))
    logits[np.arange(2000), references] += 1.0  # right about half the time...
    overconfident = logits * 6  # ...but sure of itself
    log_p = np.log(softmax(overconfident))
    temperature = fit_temperature(log_p, references)
    assert temperature == pytest.approx(6.0, rel=0.25)
    before = expected_calibration_error(softmax(log_p), references)
    after = expected_calibration_error(softmax(log_p, temperature), references)
    assert before > 0.2 and after < 0.05


def test_the_speech_gate_gives_the_same_answers_from_many_threads_at_once(data_root):
    # A server scores requests in threads; Silero's recurrent state must not be shared between them.
    from concurrent.futures import ThreadPoolExecutor

    from ser_hf.data import load_audio
    from ser_hf.scoring.speech import SpeechGate

    speech = load_audio(data_root / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.ogg")
    noise = (0.05 * np.random.default_rng(0).standard_normal(32000)).astype(np.float32)
    windows = [speech[i : i + 16000] for i in range(0, len(speech) - 16000, 4000)] + [noise] * 4
    gate = SpeechGate(cache_size=0)
    alone = [gate.vad.speech_fraction(w) for w in windows]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(gate.vad.speech_fraction, windows * 6))
    assert together == alone * 6
    assert max(alone[-4:]) == 0.0 and max(alone) > 0.5


def test_the_streaming_vad_scores_each_frame_once_and_tells_speech_from_noise(data_root):
    from ser_hf.data import load_audio
    from ser_hf.scoring.speech import StreamingVad

    speech = load_audio(data_root / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.ogg")
    noise = (0.05 * np.random.default_rng(1).standard_normal(3 * 16000)).astype(np.float32)
    vad = StreamingVad(32000)
    scored = []
    score = vad.frame_probabilities
    vad.frame_probabilities = lambda frames: scored.append(score(frames)) or scored[-1]
    for start in range(0, len(speech), 1000):  # ragged chunks: a partial frame waits for the next
        vad.push(speech[start : start + 1000])
    streamed = np.concatenate(scored)
    whole = len(speech) // 512
    assert len(streamed) == whole  # each frame once
    # the state and context carried over pushes: the probabilities of the whole recording scored at once
    np.testing.assert_allclose(streamed, vad.model.audio_forward(speech[: whole * 512]), atol=1e-5)
    assert len(vad._frames) == 32000 // 512 and vad.speech_fraction() > 0.3
    vad.reset()
    vad.push(noise)
    assert vad.speech_fraction() == 0.0


def test_loading_the_vad_keeps_torchs_thread_count():
    """silero_vad's import sets torch to one thread; the gate restores it, or training beside it halves its speed."""
    code = ("import torch; torch.set_num_threads(2); from ser_hf.scoring.speech import SileroVad; SileroVad(); "
            "print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"
