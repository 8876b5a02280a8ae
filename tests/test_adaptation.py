"""Speaker adaptation: a known answer (a speaker's constant offset is removed), the API, streaming and the CLI."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from ser_hf.inference import EmotionRecognizer, StreamingRecognizer
from ser_hf.models.errors import SerError
from ser_hf.scoring.adaptation import WARMUP, SessionAdapter, fit_speaker_map, population_statistics
from ser_hf.scoring.decision import normalize_log
from tests.conftest import run_ser_hf, save_tiny_cnn, voice

LABELS = ["neutral", "happy", "sad", "angry"]
OFFSET = np.array([2.0, -1.0, 0.5, -1.5])


def test_a_constant_offset_of_one_speaker_is_removed():
    rng = np.random.default_rng(0)
    clips = rng.normal(size=(30, 4))
    plain, shifted = SessionAdapter(warmup=5), SessionAdapter(warmup=5)
    a = np.array([plain(c) for c in clips])
    b = np.array([shifted(c + OFFSET) for c in clips])
    assert not np.allclose(a[:5], b[:5])  # before the warm-up nothing is adapted
    np.testing.assert_allclose(a[5:], b[5:], atol=1e-9)  # after it, the speaker's offset is gone
    shifted.reset()
    assert not shifted.active and shifted.offset() is None


def test_enrollment_sets_the_baseline_from_neutral_clips():
    adapter = SessionAdapter(neutral_prior=np.zeros(4), warmup=100)
    adapter.enroll(np.tile(OFFSET, (3, 1)))
    assert adapter.active
    np.testing.assert_allclose(adapter(OFFSET + np.array([0, 3.0, 0, 0])), normalize_log(np.array([0, 3.0, 0, 0])))


def separable(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-probability-like rows ``(4 n, 4)`` whose argmax is their label ``(4 n,)``, by a margin."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(4), n_per_class)
    return 3.0 * np.eye(4)[labels] + rng.normal(scale=0.5, size=(len(labels), 4)), labels


def test_labelled_enrollment_removes_a_speakers_offset():
    x, labels = separable(3, seed=0)  # 3 labelled clips per emotion, recorded beforehand
    later, truth = separable(25, seed=1)
    adapter = SessionAdapter(warmup=1000)
    assert (np.array([adapter(c + OFFSET) for c in later]).argmax(axis=1) == truth).mean() < 0.75
    adapter.enroll(x + OFFSET, labels)
    assert adapter.active and adapter.offset() is None
    assert (np.array([adapter(c + OFFSET) for c in later]).argmax(axis=1) == truth).mean() > 0.9  # 1.0 unshifted
    adapter.reset()
    assert not adapter.active


def test_the_affine_map_undoes_a_confusion_that_no_offset_can():
    # This speaker's happy sounds like sad to the model and the other way round (columns 1 and 2 swapped).
    x, labels = separable(5, seed=2)
    swap = np.eye(4)[[0, 2, 1, 3]]
    later, truth = separable(25, seed=3)
    offset_only, affine = (fit_speaker_map(x @ swap, labels, l2=0.001, affine=a) for a in (False, True))
    assert not offset_only[0].any()  # W stays zero: an offset only

    def accuracy(w, b):
        y = later @ swap
        return ((y + y @ w + b).argmax(axis=1) == truth).mean()

    assert accuracy(*offset_only) < 0.7 and accuracy(*affine) > 0.95


def test_a_strong_weight_decay_keeps_the_map_at_its_prior():
    # The L2 term pulls towards the prior map, not towards no change: a huge weight returns the prior itself.
    x, labels = separable(5, seed=4)
    prior = (np.full((4, 4), 0.1), np.array([1.0, -1.0, 0.5, 0.0]))
    w, b = fit_speaker_map(x, labels, l2=1e6, prior=prior)
    np.testing.assert_allclose(w, prior[0], atol=1e-4)
    np.testing.assert_allclose(b, prior[1], atol=1e-4)
    w, b = fit_speaker_map(x, labels, l2=1e6)
    assert np.abs(w).max() < 1e-4 and np.abs(b).max() < 1e-4


def full() -> SessionAdapter:
    """Full removal of the speaker's shift (the shipped default removes half of it: chosen on validation speakers)."""
    return SessionAdapter(strength=1.0, warmup=WARMUP)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return save_tiny_cnn(tmp_path_factory.mktemp("cnn"), LABELS)


def shifted_recognizer(folder, **kwargs) -> EmotionRecognizer:
    """A recognizer whose every logit is moved by OFFSET: a speaker the model hears 'off' in the same way always."""
    recognizer = EmotionRecognizer.from_pretrained(folder, vad=False, **kwargs)
    recognizer.model = copy.deepcopy(recognizer.model)
    with torch.no_grad():
        recognizer.model.classifier.bias += torch.tensor(OFFSET, dtype=torch.float32)
    return recognizer


def test_a_long_clips_segments_are_adapted_like_the_clip(folder):
    neutral = [voice(1.5, seed=i) for i in range(3)]
    plain = EmotionRecognizer.from_pretrained(folder, vad=False)
    prior = plain.enrollment(neutral, 16000)[0].mean(axis=0)  # the population's neutral mean: this voice, unshifted
    shifted = shifted_recognizer(folder, adapt=SessionAdapter(neutral_prior=prior, strength=1.0))
    shifted.adapt_to(neutral, 16000)  # its enrolled offset is OFFSET (up to a constant)
    long = voice(9.0, seed=7)
    a, b = plain.predict(long, 16000), shifted.predict(long, 16000)
    assert len(a.segments) >= 3 and b.adapted
    for x, y in zip(a.segments, b.segments):
        assert y.scores == pytest.approx(x.scores, abs=1e-5) and y.label == x.label


def test_the_recognizer_removes_the_offset_after_the_warm_up(folder):
    clips = [voice(1.5, seed=i) for i in range(WARMUP + 4)]
    plain = EmotionRecognizer.from_pretrained(folder, vad=False, adapt=full())
    shifted = shifted_recognizer(folder, adapt=full())
    a = [plain.predict(c, sampling_rate=16000) for c in clips]
    b = [shifted.predict(c, sampling_rate=16000) for c in clips]
    assert [p.adapted for p in b] == [False] * WARMUP + [True] * 4
    for x, y in zip(a[WARMUP:], b[WARMUP:]):
        assert x.label == y.label and y.scores == pytest.approx(x.scores, abs=1e-4)
    shifted.reset_speaker()
    assert shifted.predict(clips[0], sampling_rate=16000).adapted is False
    without = EmotionRecognizer.from_pretrained(folder, vad=False).predict(clips[0], sampling_rate=16000)
    assert without.adapted is None and "adapted" not in without.to_dict()


def test_streaming_adapts_and_reset_starts_a_new_speaker(folder):
    audio = np.concatenate([voice(2.0, seed=i) for i in range(5)])
    plain = StreamingRecognizer(EmotionRecognizer.from_pretrained(folder, vad=False), adapt=full(), smoothing=0.0)
    shifted = StreamingRecognizer(shifted_recognizer(folder), adapt=full(), smoothing=0.0)
    a, b = plain.push(audio, 16000), shifted.push(audio, 16000)
    assert [u.adapted for u in b][:WARMUP] == [False] * WARMUP and b[-1].adapted
    for x, y in zip(a[WARMUP:], b[WARMUP:]):
        assert y.scores == pytest.approx(x.scores, abs=1e-4)
    shifted.reset()
    assert shifted.push(audio[:32000], 16000)[-1].adapted is False


def test_an_enrollment_clip_without_speech_is_named(folder, tmp_path, capsys):
    from ser_hf.cli import main

    speech, silent = tmp_path / "me_happy.wav", tmp_path / "noise.wav"
    sf.write(str(speech), voice(1.5, seed=3), 16000)
    sf.write(str(silent), np.zeros(24000, np.float32), 16000)
    recognizer = EmotionRecognizer.from_pretrained(folder, vad=False)
    with pytest.raises(SerError, match=r"enrollment clip\(s\) .*noise.wav have no speech"):
        recognizer.adapt_to([str(speech), str(silent), str(speech)], labels=["happy", "sad", "angry"])
    assert main(["predict", str(speech), "--model", str(folder), "--enroll", f"happy={speech}", f"sad={silent}"]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]  # one sentence (after any loading progress bar)
    assert last.startswith("ser-hf: error: The enrollment clip(s)") and "noise.wav have no speech" in last


def test_adapt_to_with_labels_fits_the_map_and_rejects_bad_labels(folder):
    clips = [voice(1.5, seed=i) for i in range(4)]
    recognizer = EmotionRecognizer.from_pretrained(folder, vad=False)
    before = recognizer.predict(clips[0], sampling_rate=16000)
    recognizer.adapt_to(clips, sampling_rate=16000, labels=LABELS)
    after = recognizer.predict(clips[0], sampling_rate=16000)
    assert after.adapted is True and after.scores != pytest.approx(before.scores, abs=1e-4)
    with pytest.raises(SerError, match="4 clips but 3 labels"):
        recognizer.adapt_to(clips, sampling_rate=16000, labels=LABELS[:3])
    with pytest.raises(SerError, match="Unknown enrollment label.*calm"):
        recognizer.adapt_to(clips[:1], sampling_rate=16000, labels=["calm"])
    with pytest.raises(SerError, match="at least 2 emotions"):  # one emotion would become the only answer
        recognizer.adapt_to(clips[:2], sampling_rate=16000, labels=["happy", "happy"])


def test_predict_enroll_with_labelled_clips(folder, tmp_path):
    for i, label in enumerate(LABELS):
        sf.write(str(tmp_path / f"{label}.wav"), voice(1.2, seed=10 + i), 16000)
    sf.write(str(tmp_path / "session.wav"), voice(1.2, seed=20), 16000)

    def predict(*enroll):
        return run_ser_hf("predict", tmp_path / "session.wav", "--model", folder, "--no-vad", "--json", "--enroll", *enroll)

    labelled = predict(*(f"{label}={tmp_path / label}.wav" for label in LABELS))
    assert labelled.returncode == 0, labelled.stderr[-2000:]
    assert json.loads(labelled.stdout)[0]["adapted"] is True
    mixed = predict(f"happy={tmp_path / 'happy.wav'}", str(tmp_path / "neutral.wav"))
    assert mixed.returncode != 0 and "not both" in mixed.stderr and mixed.stderr.count("\n") == 1
    unknown = predict(f"calm={tmp_path / 'happy.wav'}")
    assert unknown.returncode != 0 and "Unknown enrollment label(s) calm" in unknown.stderr
    single = predict(f"happy={tmp_path / 'happy.wav'}")
    assert single.returncode != 0 and "at least 2 emotions" in single.stderr and single.stderr.count("\n") == 1
    sf.write(str(tmp_path / "long.wav"), np.concatenate([voice(1.5, seed=30 + i) for i in range(2)]), 16000)
    stream = run_ser_hf("stream", tmp_path / "long.wav", "--model", folder, "--no-vad", "--json", "--enroll",
                        *(f"{label}={tmp_path / label}.wav" for label in LABELS))
    assert stream.returncode == 0, stream.stderr[-2000:]
    updates = [json.loads(line) for line in stream.stdout.splitlines()]
    assert updates and all(u["adapted"] is True for u in updates)  # enrolled: adapted from the first update


def test_an_enrolled_stream_adapts_from_the_start_until_reset(folder):
    clips = [voice(1.5, seed=i) for i in range(4)]
    stream = StreamingRecognizer(EmotionRecognizer.from_pretrained(folder, vad=False), smoothing=0.0)
    stream.adapt_to(clips, sampling_rate=16000, labels=LABELS)
    assert all(u.adapted for u in stream.push(voice(3.0, seed=9), 16000))
    stream.reset()
    assert not any(u.adapted for u in stream.push(voice(3.0, seed=9), 16000))


@pytest.fixture(scope="module")
def session_folder(tmp_path_factory):
    """The tiny CNN with session mode's population statistics: its own log probabilities of varied voices, each
    labelled with its own answer (so the population's emotions are the model's)."""
    folder = save_tiny_cnn(tmp_path_factory.mktemp("cnn_session"), LABELS)
    recognizer = EmotionRecognizer.from_pretrained(folder, vad=False)
    rows = np.log(np.stack([recognizer.score_clip(voice(1.5, seed=100 + i), 16000).probabilities for i in range(40)]))
    means, spread = population_statistics(rows, rows.argmax(axis=1), len(LABELS))
    config = json.loads((folder / "config.json").read_text())
    config.update(adaptation_class_means=means.tolist(), adaptation_spread=spread)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_session_mode_removes_a_known_speaker_offset(session_folder):
    clips = [voice(1.5, seed=100 + i) for i in range(40)]
    plain = [p.label for p in EmotionRecognizer.from_pretrained(session_folder, vad=False).predict(clips, 16000)]
    shifted = shifted_recognizer(session_folder)
    clip_mode = [p.label for p in shifted.predict(clips, 16000)]
    session = shifted_recognizer(session_folder, adapt=True).predict(clips, 16000)
    assert all(p.adapted for p in session)
    agree = np.mean([a == b.label for a, b in zip(plain, session)])
    assert agree >= 0.9 and agree > np.mean([a == b for a, b in zip(plain, clip_mode)]) + 0.2
    one = [c for c, label in zip(clips, plain) if label == plain[0]]  # a session of one emotion keeps it
    assert {p.label for p in EmotionRecognizer.from_pretrained(session_folder, vad=False, adapt=True).predict(
        one, 16000)} == {plain[0]}
    with pytest.raises(SerError, match="no population statistics for session mode"):
        EmotionRecognizer.from_pretrained(save_tiny_cnn(Path(session_folder).parent / "bare", LABELS), vad=False,
                                          adapt=True).predict(clips[:2], 16000)


def test_predict_adapt_json_by_folder(session_folder, tmp_path):
    folder = session_folder
    for speaker in ("alice", "bob"):
        for i in range(WARMUP + 1):
            path = tmp_path / "in" / speaker / f"{i:02d}.wav"  # sorted as made
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), voice(1.2, seed=i + (50 if speaker == "bob" else 0)), 16000)
    result = run_ser_hf("predict", tmp_path / "in", "--model", folder, "--no-vad", "--adapt-by", "folder", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)
    assert len(rows) == 2 * (WARMUP + 1) and all(r["adapted"] for r in rows)  # session mode: every clip
    recognizer = EmotionRecognizer.from_pretrained(folder, vad=False)
    for speaker in ("alice", "bob"):  # each folder is its own session
        paths = sorted(str(p) for p in (tmp_path / "in" / speaker).iterdir())
        expected = recognizer.predict_session(paths)
        assert [r["scores"] for r in rows if f"/{speaker}/" in r["path"]] == \
            [pytest.approx(p.scores, abs=1e-6) for p in expected]
    # A manifest's column names the speaker instead: the files of both in one folder, interleaved.
    flat = tmp_path / "flat"
    flat.mkdir()
    lines = ["path,speaker"]
    for i in range(WARMUP + 1):
        for speaker in ("alice", "bob"):
            (flat / f"{speaker}_{i:02d}.wav").write_bytes((tmp_path / "in" / speaker / f"{i:02d}.wav").read_bytes())
            lines.append(f"{speaker}_{i:02d}.wav,{speaker}")
    (flat / "manifest.csv").write_text("\n".join(lines) + "\n")

    def predict(*args):
        return run_ser_hf("predict", *args, "--model", folder, "--no-vad", "--json")

    by_column = predict(str(flat / "manifest.csv"), "--adapt-by", "speaker")
    assert by_column.returncode == 0, by_column.stderr[-2000:]
    by_folder = {f"{Path(r['path']).parent.name}_{Path(r['path']).stem}": r for r in rows}
    for r in json.loads(by_column.stdout):  # the same sessions as by folder: the same adapted scores
        twin = by_folder[Path(r["path"]).stem]
        assert r["adapted"] == twin["adapted"] and r["scores"] == pytest.approx(twin["scores"], abs=1e-4)
    wrong = predict(str(flat / "manifest.csv"), "--adapt-by", "actor")
    assert wrong.returncode != 0 and "'actor' column" in wrong.stderr and wrong.stderr.count("\n") == 1


def test_bulk_output_in_session_mode_equals_predict_and_resumes_a_speaker_whole(session_folder, tmp_path):
    for speaker in ("alice", "bob"):
        for i in range(6):
            path = tmp_path / "in" / speaker / f"{i:02d}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(path), voice(1.2, seed=i + (50 if speaker == "bob" else 0)), 16000)
    (tmp_path / "in" / "bob" / "06.wav").write_text("not audio")  # fails alone; bob's other files still answer
    args = ("predict", tmp_path / "in", "--model", session_folder, "--no-vad", "--adapt-by", "folder")
    printed = {r["path"]: r for r in json.loads(run_ser_hf(*args, "--json").stdout)}
    out = tmp_path / "out.jsonl"
    first = run_ser_hf(*args, "--output", out, "--json")
    assert first.returncode == 1 and json.loads(first.stdout)["failed"] == 1  # the broken file
    written = {r["path"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert written.keys() == printed.keys()
    for path, record in written.items():
        if "error" in record:
            assert "error" in printed[path]
        else:
            assert record["adapted"] is True and record["scores"] == pytest.approx(printed[path]["scores"], abs=1e-6)
    # An interrupted run wrote part of bob: the rerun scores bob whole again and writes only what is missing.
    lines = out.read_text().splitlines()
    kept = [line for line in lines if "/bob/" not in line or "/bob/00" in line or "/bob/01" in line]
    out.write_text("\n".join(kept) + "\n")
    again = run_ser_hf(*args, "--output", out, "--json")
    rewritten = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["path"] for r in rewritten) == sorted(written)  # no duplicates, nothing missing
    for r in rewritten:
        assert ("error" in r) == ("error" in written[r["path"]])
        if "error" not in r:
            assert r["scores"] == pytest.approx(written[r["path"]]["scores"], abs=1e-6)
    assert json.loads(again.stdout)["done_before"] == 8


def test_the_live_tab_adapts_per_session_and_says_so(folder):
    from ser_hf.demo import ModelPool, stream_microphone

    pool = ModelPool({"cnn": str(folder)}, vad=False)
    audio = (np.concatenate([voice(2.0, seed=i) for i in range(5)]) * 32767).astype(np.int16)
    adapted, plain = None, None
    for start in range(0, len(audio), 8000):
        label, _, adapted = stream_microphone((16000, audio[start:start + 8000]), adapted, "cnn", pool, True)
        other, _, plain = stream_microphone((16000, audio[start:start + 8000]), plain, "cnn", pool, False)
    assert "Adapted to this speaker" in label and "Adapted" not in other
    assert adapted.stream.adapter is not plain.stream.adapter and plain.stream.adapter is None


def _population(num_labels: int = 4, seed: int = 0):
    """Class means of a population (row k: mean log probabilities of emotion k's clips) and a sampler of clips."""
    rng = np.random.default_rng(seed)
    means = np.full((num_labels, num_labels), -3.0) + 2.5 * np.eye(num_labels)

    def clips(labels, offset=0.0):
        rows = means[labels] + offset + rng.normal(0, 0.6, (len(labels), num_labels))
        return rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))  # log probabilities

    return means, clips


def test_a_session_whose_speaker_offset_is_known_is_corrected():
    from ser_hf.scoring.adaptation import adapt_session, population_statistics, session_offset

    means, clips = _population()
    labels = np.repeat(np.arange(4), 10)
    shift = np.array([0.0, -2.0, 2.0, 0.0])  # this voice sounds sad, never happy
    log_p = clips(labels, shift)
    population, spread = population_statistics(clips(np.repeat(np.arange(4), 200)), np.repeat(np.arange(4), 200), 4)
    offset, mix = session_offset(log_p, population, spread)
    centred = offset - offset.mean()
    assert np.allclose(centred, shift - shift.mean(), atol=0.35)
    assert np.allclose(mix, 0.25, atol=0.08)
    before = (log_p.argmax(axis=1) == labels).mean()
    after = (adapt_session(log_p, population, spread).argmax(axis=1) == labels).mean()
    assert before < 0.8 and after >= before + 0.15


def test_a_one_emotion_session_is_not_pushed_away_from_its_emotion():
    from ser_hf.scoring.adaptation import adapt_session, population_statistics, session_offset

    _, clips = _population(seed=1)
    means, spread = population_statistics(clips(np.repeat(np.arange(4), 200)), np.repeat(np.arange(4), 200), 4)
    log_p = clips(np.zeros(30, dtype=int))  # a neutral speaker, no shift
    offset, mix = session_offset(log_p, means, spread)
    assert mix[0] > 0.9
    adapted = adapt_session(log_p, means, spread)
    assert (adapted.argmax(axis=1) == 0).mean() >= (log_p.argmax(axis=1) == 0).mean()
    plain = log_p - (log_p.mean(axis=0) - means.mean(axis=0))  # centring that assumes a balanced session
    assert (plain.argmax(axis=1) == 0).mean() < 0.5
    nan = np.vstack([log_p, np.full(4, np.nan)])
    assert np.isnan(adapt_session(nan, means, spread)[-1]).all()
    assert not np.isnan(adapt_session(nan, means, spread)[:-1]).any()


def test_a_session_fit_that_piles_answers_onto_another_emotion_falls_back_to_clip_mode():
    """A speaker whose neutral the model half mishears as another emotion (clips halfway between the two clusters):
    EM can explain the session as the other emotion's, shifted, and answer every clip with it; the guard keeps clip
    mode's answers instead and says the session was not adapted."""
    from ser_hf.scoring.adaptation import adapt_session, fit_session, piles_onto_another

    rng = np.random.default_rng(15)  # one of the draws where EM turns the session into the other emotion's
    clusters = np.log(np.full((4, 4), 0.04) + 0.84 * np.eye(4))
    labels = np.repeat(np.arange(4), 200)
    population = normalize_log(clusters[labels] + rng.normal(0, 0.5, (800, 4)))
    means, spread = population_statistics(population, labels, 4)
    neutral = normalize_log(0.52 * clusters[0] + 0.48 * clusters[3] + rng.normal(0, 0.5, (40, 4)))
    clip_answers = neutral.argmax(axis=1)
    assert np.bincount(clip_answers, minlength=4).tolist() == [22, 0, 0, 18]  # 18 misheard as the fourth emotion
    unguarded = adapt_session(neutral, means, spread, guard=False).argmax(axis=1)
    assert (unguarded == 3).all()
    fit = fit_session(neutral, means, spread)
    assert not fit.adapted
    np.testing.assert_allclose(adapt_session(neutral, means, spread), neutral, atol=1e-9)
    assert piles_onto_another([3, 1, 1], [0, 4, 1])  # 4 of 5 onto another
    assert not piles_onto_another([3, 1, 1], [1, 2, 2])  # spread out: a shift undone
    assert not piles_onto_another([3, 1, 1], [1, 3, 1])  # as many, not more
    assert not piles_onto_another([3, 2, 2, 2, 1], [1, 4, 2, 2, 1])  # 4 of 10 on another: not a pile
    assert not piles_onto_another([0, 0, 0], [0, 0, 0])


def test_a_guarded_session_is_answered_in_clip_mode_and_says_so(session_folder, monkeypatch):
    from ser_hf.scoring import adaptation

    clips = [voice(1.5, seed=100 + i) for i in range(12)]
    plain = EmotionRecognizer.from_pretrained(session_folder, vad=False).predict(clips, 16000)
    monkeypatch.setattr(adaptation, "piles_onto_another", lambda clip, session: True)
    guarded = EmotionRecognizer.from_pretrained(session_folder, vad=False, adapt=True).predict(clips, 16000)
    assert [p.adapted for p in guarded] == [False] * 12
    assert [p.label for p in guarded] == [p.label for p in plain]
    for a, b in zip(guarded, plain):
        assert a.scores == pytest.approx(b.scores, abs=1e-6)


def _speakers_clips(rng, centroids, counts, offset, scale=1.0, noise=0.6):
    """Embeddings ``(clips, dims)`` of one speaker: ``counts[k]`` clips of emotion k around ``centroids[k]``, the
    whole voice scaled by ``scale`` and moved by ``offset``."""
    labels = np.repeat(np.arange(len(counts)), counts)
    x = centroids[labels] + noise * rng.standard_normal((len(labels), centroids.shape[1]))
    return scale * x + offset, labels


def _trained_head(rng, centroids):
    from ser_hf.scoring.session_head import SessionHead

    rows, labels, speakers = [], [], []
    for speaker in range(24):
        x, y = _speakers_clips(rng, centroids, [12] * len(centroids), 3 * rng.standard_normal(centroids.shape[1]),
                               rng.uniform(0.7, 1.4))
        rows.append(x)
        labels.append(y)
        speakers += [speaker] * len(y)
    return SessionHead.fit(np.concatenate(rows), np.concatenate(labels), np.array(speakers), len(centroids))


def test_the_session_head_takes_a_new_speakers_voice_out_and_keeps_a_one_emotion_session():
    """Speakers whose voices move every clip by an offset larger than the emotions' spread: a classifier of raw
    embeddings cannot tell a new speaker's emotions apart, the session head (statistics of the session itself) can;
    and a session of mostly neutral clips stays neutral (the session's mix is added back)."""
    from ser_hf.scoring.session_head import SessionHead

    rng = np.random.default_rng(0)
    centroids = 2.0 * rng.standard_normal((4, 8))
    head = _trained_head(rng, centroids)
    offset = 4 * rng.standard_normal(8)
    balanced, labels = _speakers_clips(rng, centroids, [6, 6, 6, 6], offset, 1.2)
    answers = head.log_probabilities(balanced, head.session(balanced)).argmax(axis=1)
    assert (answers == labels).mean() >= 0.9
    raw = np.argmin(((balanced[:, None] - centroids[None]) ** 2).sum(axis=2), axis=1)  # the voice unremoved
    assert (raw == labels).mean() < 0.6

    skewed, labels = _speakers_clips(rng, centroids, [30, 2, 2, 2], offset, 1.2)
    answers = head.log_probabilities(skewed, head.session(skewed)).argmax(axis=1)
    assert (answers[labels == 0] == 0).mean() >= 0.9
    # The head travels in a config and back unchanged (to its rounding).
    again = SessionHead(**head.to_dict())
    np.testing.assert_allclose(again.log_probabilities(skewed, again.session(skewed)),
                               head.log_probabilities(skewed, head.session(skewed)), atol=1e-3)


def test_session_mode_with_a_head_adds_it_to_the_shift_and_keeps_clips_without_speech_apart():
    from ser_hf.scoring.adaptation import SESSION_HEAD_WEIGHT, adapt_session, fit_session, population_statistics

    rng = np.random.default_rng(1)
    centroids = 2.0 * rng.standard_normal((4, 8))
    head = _trained_head(rng, centroids)
    embeddings, labels = _speakers_clips(rng, centroids, [5, 5, 5, 5], 4 * rng.standard_normal(8))
    log_p = normalize_log(rng.standard_normal((len(labels), 4)))
    means, spread = population_statistics(log_p, labels, 4)
    fit = fit_session(log_p, means, spread, embeddings, head)
    expected = normalize_log(log_p - fit.offset + SESSION_HEAD_WEIGHT * head.log_probabilities(embeddings, fit.statistics))
    np.testing.assert_allclose(adapt_session(log_p, means, spread, embeddings, head), expected, atol=1e-9)
    double = normalize_log(log_p - fit.offset + 2.0 * head.log_probabilities(embeddings, fit.statistics))
    assert SESSION_HEAD_WEIGHT != 2.0
    np.testing.assert_allclose(adapt_session(log_p, means, spread, embeddings, head, guard=False, head_weight=2.0),
                               double, atol=1e-9)
    with pytest.raises(SerError, match="embeddings"):
        fit.apply(log_p)
    log_p[-1], embeddings[-1] = np.nan, np.nan  # no speech: left out of the fit, stays NaN
    adapted = adapt_session(log_p, means, spread, embeddings, head)
    assert np.isnan(adapted[-1]).all() and not np.isnan(adapted[:-1]).any()


def test_a_model_with_a_session_head_answers_sessions_with_it_segments_included(session_folder, tmp_path):
    """The recognizer's session mode is :func:`fit_session` with the model's head on the clips' embeddings, applied to
    each clip and to each window of a long one (the clips' answers computed here by hand)."""
    import shutil

    from ser_hf.scoring.adaptation import fit_session, session_statistics
    from ser_hf.scoring.session_head import SessionHead

    folder = tmp_path / "headed"
    shutil.copytree(session_folder, folder)
    recognizer = EmotionRecognizer.from_pretrained(folder, vad=False)
    population = [recognizer.score_clip(voice(1.5, seed=200 + i), 16000) for i in range(40)]
    assert population[0].embedding.shape == (recognizer.model.config.hidden_size * 2,)
    head = SessionHead.fit(np.stack([s.embedding for s in population]),
                           np.arange(40) % len(LABELS), np.repeat(np.arange(4), 10), len(LABELS))
    config = json.loads((folder / "config.json").read_text())
    config["session_head"] = head.to_dict()
    (folder / "config.json").write_text(json.dumps(config))

    clips = [voice(1.5, seed=300 + i) for i in range(11)] + [voice(9.0, seed=311)]  # the last one in windows
    headed = EmotionRecognizer.from_pretrained(folder, vad=False, adapt=True)
    answered = headed.predict(clips, 16000)
    scored = [headed.score_clip(c, 16000) for c in clips]
    assert len(scored[-1].windows) > 1 and all(w.embedding is not None for w in scored[-1].windows)
    means, spread = session_statistics(headed.model.config)
    fit = fit_session(np.stack([s.log_probabilities for s in scored]), means, spread,
                      np.stack([s.embedding for s in scored]), SessionHead.from_config(headed.model.config))
    assert fit.statistics is not None
    for prediction, s in zip(answered, scored):
        expected = fit.apply(s.log_probabilities, s.embedding)
        assert prediction.label == LABELS[int(np.argmax(expected))]
        assert prediction.scores[prediction.label] == pytest.approx(float(np.exp(expected.max())), abs=1e-4)
    for segment, window in zip(answered[-1].segments, scored[-1].windows):
        assert segment.label == LABELS[int(np.argmax(fit.apply(window.log_probabilities, window.embedding)))]


def test_a_session_head_of_other_labels_is_refused_in_one_sentence():
    from types import SimpleNamespace

    from ser_hf.scoring.session_head import SessionHead

    head = SessionHead(np.zeros((7, 4)), np.zeros(7), np.zeros((7, 4))).to_dict()
    assert SessionHead.from_config(SimpleNamespace(session_head=None, num_labels=4)) is None
    with pytest.raises(SerError, match="answers 7 labels and the model 4"):
        SessionHead.from_config(SimpleNamespace(session_head=head, num_labels=4))
