"""Reports, label masking, the cross-corpus matrix and the classic baseline, on small models and generated data."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ser_hf import SerError
from ser_hf.data.labels import LABEL_SETS
from ser_hf.evaluation.cross_corpus import cross_corpus
from ser_hf.evaluation.evaluate import evaluate_model, label_columns
from tests.conftest import run_ser_hf, save_tiny_cnn

CORE7 = list(LABEL_SETS["core7"])


def save_model(folder, labels):
    return save_tiny_cnn(folder, labels)


def make_crema(root, write):
    codes = {"ANG": 300, "HAP": 500, "NEU": 200, "SAD": 150}
    for actor in (1001, 1002, 1007):
        for code, freq in codes.items():
            write(root / "AudioWAV" / f"{actor}_DFA_{code}_XX.wav", freq=freq)
    (root / "VideoDemographics.csv").write_text('"ActorID","Age","Sex","Race","Ethnicity"\n1001,51,"Male","x","y"\n'
                                                '1002,21,"Female","x","y"\n1007,30,"Female","x","y"\n')
    return root


def test_report_files_and_json_keys(tmp_path, audio_writer):
    model = save_model(tmp_path / "model", CORE7)
    data = make_crema(tmp_path / "crema_d", audio_writer)
    metrics = evaluate_model(model, "crema_d", data, tmp_path / "report", progress=False, vad=False)
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert set(saved) == {"ua", "wa", "macro_f1", "weighted_f1", "labels", "per_class", "confusion_matrix",
                          "num_records", "skipped", "ece", "ece_at_temperature_1", "calibration", "calm"}
    assert 0 <= saved["ece"] <= 1 and saved["calibration"]["temperature"] == 1.0
    assert saved == json.loads(json.dumps(metrics))
    assert saved["labels"] == ["neutral", "happy", "sad", "angry", "fearful", "disgust"]  # model labels CREMA-D has
    assert saved["num_records"] == 12 and np.asarray(saved["confusion_matrix"]).sum() == 12
    assert set(saved["per_class"]["happy"]) == {"precision", "recall", "f1", "support"}
    report = (tmp_path / "report" / "report.md").read_text()
    for heading in ("## Per class", "## Confusion matrix", "### Most confused pairs", "### Accuracy per gender",
                    "### Accuracy per speaker"):
        assert heading in report
    assert "crema_d_1002" in report and "female" in report
    png = (tmp_path / "report" / "confusion_matrix.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_extra_labels_are_masked():
    logits = np.array([[0.1, 5.0, 0.2, 0.3]])  # the model's favourite is "calm"
    model_labels = ["neutral", "calm", "happy", "sad"]
    columns = label_columns(model_labels, ["neutral", "happy", "sad"])
    masked = logits[..., columns]
    assert masked.shape == (1, 3) and masked.argmax() == 2  # "sad" wins once calm cannot be predicted
    with pytest.raises(SerError, match="does not predict surprised"):
        label_columns(model_labels, ["neutral", "surprised"])


def test_label_set_the_model_lacks_is_a_clear_error(tmp_path, audio_writer):
    model = save_model(tmp_path / "model", list(LABEL_SETS["big4"]))
    data = make_crema(tmp_path / "crema_d", audio_writer)
    with pytest.raises(SerError, match="does not predict fearful, disgust"):
        evaluate_model(model, "crema_d", data, tmp_path / "out", label_set="core6", progress=False, vad=False)
    metrics = evaluate_model(model, "crema_d", data, tmp_path / "out", progress=False, vad=False)
    assert metrics["labels"] == ["neutral", "happy", "sad", "angry"]


def test_cross_corpus_matrix(tmp_path, audio_writer):
    from tests.test_corpora import make_tess

    crema = make_crema(tmp_path / "crema_d", audio_writer)
    tess = make_tess(tmp_path / "tess", audio_writer)
    data = tmp_path / "data"
    data.mkdir()
    (data / "crema_d").symlink_to(crema)
    (data / "tess").symlink_to(tess)
    models = {"crema_d": str(save_model(tmp_path / "m1", CORE7)), "tess": str(save_model(tmp_path / "m2", CORE7))}
    summary = cross_corpus(models, data, tmp_path / "cc", label_set="big4", progress=False, vad=False)
    assert set(summary["ua"]) == {"crema_d", "tess"} and set(summary["ua"]["tess"]) == {"crema_d", "tess"}
    assert "| crema_d |" in (tmp_path / "cc" / "cross_corpus.md").read_text()
    assert (tmp_path / "cc" / "cross_corpus.png").stat().st_size > 5000


def make_ravdess_actors(root, write, actors=range(1, 13)):
    for actor in actors:
        for emotion, freq in (("05", 420.0), ("04", 140.0)):  # angry high, sad low
            for repetition in ("01", "02"):
                write(root / f"Actor_{actor:02d}" / f"03-01-{emotion}-01-01-{repetition}-{actor:02d}.wav",
                      freq=freq * (1 + 0.005 * actor))
    return root


def test_baseline_on_a_small_protocol(tmp_path, audio_writer):
    from ser_hf.train import DataArguments
    from ser_hf.train.baseline import BaselineArguments, run_baseline

    root = make_ravdess_actors(tmp_path / "ravdess", audio_writer)
    data = DataArguments(corpora=["ravdess"], data_dir=str(root), label_set="ravdess8", protocol="ravdess-6fold", fold=1)
    summary = run_baseline(data, BaselineArguments(output_dir=str(tmp_path / "baseline"), c_grid=[1.0, 10.0]))
    assert summary["chosen_c"] in (1.0, 10.0)
    assert summary["test"]["ua"] == pytest.approx(1.0)  # pitch separates the two emotions
    metrics = json.loads((tmp_path / "baseline" / "metrics.json").read_text())
    assert metrics["num_records"] == 16 and (tmp_path / "baseline" / "report.md").is_file()


def test_baseline_crossval_runs_every_fold(tmp_path, audio_writer):
    from ser_hf.train import DataArguments
    from ser_hf.train.baseline import BaselineArguments, crossval_baseline

    root = make_ravdess_actors(tmp_path / "ravdess", audio_writer, actors=range(1, 25))
    data = DataArguments(corpora=["ravdess"], data_dir=str(root), label_set="ravdess8", protocol="ravdess-6fold")
    summary = crossval_baseline(data, BaselineArguments(c_grid=[1.0]), tmp_path / "cv")
    assert [f["fold"] for f in summary["folds"]] == [1, 2, 3, 4, 5, 6]
    assert all(f["num_records"] == 16 for f in summary["folds"])  # 4 test actors x 2 emotions x 2 takes
    assert summary["ua"]["mean"] == pytest.approx(1.0) and summary["ua"]["std"] == pytest.approx(0.0)
    assert (tmp_path / "cv" / "fold6" / "report.md").is_file()
    assert "| **mean ± std** | **1.000 ± 0.000**" in (tmp_path / "cv" / "crossval.md").read_text()


def three_corpora(tmp_path, audio_writer):
    """Small generated RAVDESS (actors 1-8), CREMA-D and TESS trees under ``tmp_path/data``."""
    from tests.test_corpora import make_tess

    data = tmp_path / "data"
    make_ravdess_actors(data / "ravdess", audio_writer, actors=range(1, 9))
    make_crema(data / "crema_d", audio_writer)
    make_tess(data / "tess", audio_writer)
    return data


def test_per_corpus_reports_of_the_multi_corpus_test_fold(tmp_path, audio_writer):
    data = three_corpora(tmp_path, audio_writer)
    model = save_model(tmp_path / "model", CORE7)
    result = run_cli("evaluate", "--model", str(model), "--corpus", "all", "--protocol", "multi-corpus", "--fold", "1",
                     "--data-dir", str(data), "--output-dir", str(tmp_path / "out"), "--json", "--no-vad")
    assert result.returncode == 0, result.stderr
    per_corpus = json.loads(result.stdout)
    # fold 1: RAVDESS actors 1-4 (2 emotions x 2 takes), CREMA-D actors 1001 and 1007, TESS's older speaker OAF
    assert {c: m["num_records"] for c, m in per_corpus.items()} == {"ravdess": 16, "crema_d": 8, "tess": 4}
    assert json.loads((tmp_path / "out" / "per_corpus.json").read_text()) == per_corpus
    assert "crema_d_1002" not in (tmp_path / "out" / "crema_d" / "report.md").read_text()  # a training actor
    validation = run_cli("evaluate", "--model", str(model), "--corpus", "all", "--protocol", "multi-corpus",
                         "--part", "validation", "--data-dir", str(data), "--output-dir", str(tmp_path / "val"),
                         "--json", "--no-vad")
    assert validation.returncode == 0, validation.stderr
    assert {m["part"] for m in json.loads(validation.stdout).values()} == {"validation"}

    def speakers(folder):
        return {json.loads(line)["speaker"] for c in ("ravdess", "crema_d") for line in
                (folder / c / "predictions.jsonl").read_text().splitlines()}

    assert speakers(tmp_path / "val") and not speakers(tmp_path / "val") & speakers(tmp_path / "out")
    assert "(validation speakers)" in (tmp_path / "val" / "ravdess" / "report.md").read_text()
    no_protocol = run_cli("evaluate", "--model", str(model), "--corpus", "all", "--data-dir", str(data),
                          "--output-dir", str(tmp_path / "o"))
    assert no_protocol.returncode == 1 and "pass --protocol too" in no_protocol.stderr


def test_crosscorpus_cli_needs_models_or_baseline(tmp_path):
    neither = run_cli("crosscorpus", "--data-dir", str(tmp_path), "--output-dir", str(tmp_path / "o"))
    both = run_cli("crosscorpus", "--baseline", "--model", "tess=x", "--data-dir", str(tmp_path),
                   "--output-dir", str(tmp_path / "o"))
    for result in (neither, both):
        assert result.returncode == 1 and "either --model CORPUS=FOLDER (repeatable) or --baseline" in result.stderr


def run_cli(*args):
    return run_ser_hf(*args)


def test_evaluate_cli_bad_input(tmp_path, audio_writer):
    not_a_model = run_cli("evaluate", "--model", str(tmp_path), "--corpus", "crema_d", "--data-dir", str(tmp_path),
                          "--output-dir", str(tmp_path / "o"))
    assert not_a_model.returncode == 1 and "not a model folder" in not_a_model.stderr
    model = save_model(tmp_path / "model", CORE7)
    tess = tmp_path / "tess"
    audio_writer(tess / "OAF_angry" / "OAF_back_angry.wav")
    wrong = run_cli("evaluate", "--model", str(model), "--corpus", "crema_d", "--data-dir", str(tess),
                    "--output-dir", str(tmp_path / "o"))
    assert wrong.returncode == 1 and "looks like a TESS folder" in wrong.stderr
    assert "Traceback" not in wrong.stderr + not_a_model.stderr


@pytest.fixture
def scoring_threads(monkeypatch):
    """The torch thread count each clip was scored on; torch's count is put back after the test."""
    import torch

    from ser_hf.evaluation import evaluate as evaluation

    seen = []
    real = evaluation.score_waveform
    monkeypatch.setattr(evaluation, "score_waveform", lambda *a, **k: seen.append(torch.get_num_threads()) or real(*a, **k))
    previous = torch.get_num_threads()
    yield seen
    torch.set_num_threads(previous)


def test_scoring_runs_on_a_deliberate_thread_count(tmp_path, scoring_threads):
    """Evaluation scores on one torch thread by default (torch's default oversubscribes a busy machine), ``threads=None``
    keeps the caller's setting (the Trainer's), and the caller's count is restored afterwards."""
    import torch

    from ser_hf.evaluation import evaluate as evaluation
    from ser_hf.scoring.loading import load_model

    model, fe = load_model(save_model(tmp_path / "m", ["neutral", "happy"]))
    torch.set_num_threads(2)
    waves = [np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1]
    evaluation.score_clips(model, fe, waves, [0, 1])
    evaluation.score_clips(model, fe, waves, [0, 1], threads=None)
    assert scoring_threads == [1, 2] and torch.get_num_threads() == 2


def test_evaluate_cli_takes_a_thread_count(tmp_path, audio_writer, scoring_threads):
    """``ser-hf evaluate --threads N`` scores on N torch threads (default 1, like ``predict``) and restores the count."""
    import torch

    from ser_hf.cli import main

    model = save_model(tmp_path / "model", CORE7)
    tess = tmp_path / "tess"
    audio_writer(tess / "OAF_angry" / "OAF_back_angry.wav")
    torch.set_num_threads(1)
    for threads in ([], ["--threads", "2"]):
        assert main(["evaluate", "--model", str(model), "--corpus", "tess", "--data-dir", str(tess), "--no-vad",
                     "--output-dir", str(tmp_path / "o"), "--json", *threads]) == 0
    assert scoring_threads == [1, 2] and torch.get_num_threads() == 1


def test_fold_summary_gives_mean_and_sample_std_of_the_shipped_reports(tmp_path):
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    reports = [repo / "docs" / "reports" / f"default_multi_corpus_fold{f}" for f in (1, 2)]
    result = subprocess.run([sys.executable, str(repo / "recipes" / "scripts" / "fold_summary.py"), *map(str, reports),
                             "--output", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    uas = [json.loads((r / "ravdess" / "metrics.json").read_text())["ua"] for r in reports]
    summary = json.loads((tmp_path / "ravdess" / "crossval.json").read_text())
    assert summary["ua"]["mean"] == pytest.approx(np.mean(uas))
    assert summary["ua"]["std"] == pytest.approx(abs(uas[0] - uas[1]) / np.sqrt(2))  # sample std of two values
    table = (tmp_path / "README.md").read_text()
    assert f"| ravdess | {uas[0]:.3f} | {uas[1]:.3f} | {np.mean(uas):.3f} +- " in table
    assert "| tess |" in table and "noise:0" in table


def test_the_yardstick_scores_every_speaker_of_the_held_out_corpus_with_session_metrics(tmp_path, audio_writer):
    data = three_corpora(tmp_path, audio_writer)
    model = save_model(tmp_path / "model", CORE7)
    config = json.loads((model / "config.json").read_text())  # session mode's population statistics
    config.update(adaptation_class_means=(np.full((7, 7), -2.5) + 2 * np.eye(7)).tolist(), adaptation_spread=0.5)
    (model / "config.json").write_text(json.dumps(config))
    result = run_cli("evaluate", "--model", str(model), "--corpus", "tess", "--protocol", "leave-one-corpus-out",
                     "--fold", "3", "--data-dir", str(data), "--output-dir", str(tmp_path / "out"), "--no-vad")
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["num_records"] == 6  # both TESS speakers, every usable clip (8 files: a duplicate, a mismatch)
    assert {json.loads(line)["speaker"] for line in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()} \
        == {"tess_OAF", "tess_YAF"}
    sessions = metrics["sessions"]
    assert set(sessions) == {"all", "random10", "skewed"}
    assert sessions["all"]["clips"] == 6 and sessions["all"]["sessions"] == 2 and sessions["random10"]["sessions"] == 10
    assert sessions["skewed"]["sessions"] == 1  # only OAF has a neutral clip: 1 neutral + 2 fearful + 1 surprised
    assert sessions["skewed"]["clips"] == 4
    assert sessions["all"]["clip"]["ua"] == pytest.approx(metrics["ua"])  # clip mode over all clips is the report's
    assert "## Sessions: clip mode and session mode" in (tmp_path / "out" / "report.md").read_text()
    from ser_hf.scoring.session_head import SessionHead  # with a session head, sessions are answered with it too

    dims, rng = 2 * config["hidden_size"], np.random.default_rng(0)
    config["session_head"] = SessionHead.fit(rng.standard_normal((40, dims)), np.arange(40) % 7, np.arange(40) // 10,
                                             7).to_dict()
    (model / "config.json").write_text(json.dumps(config))
    headed = run_cli("evaluate", "--model", str(model), "--corpus", "tess", "--protocol", "leave-one-corpus-out",
                     "--fold", "3", "--data-dir", str(data), "--output-dir", str(tmp_path / "headed"), "--no-vad")
    assert headed.returncode == 0, headed.stderr
    with_head = json.loads((tmp_path / "headed" / "metrics.json").read_text())["sessions"]
    assert with_head["all"]["clip"] == sessions["all"]["clip"]  # clip mode is the same; session mode uses the head
    no_statistics = save_model(tmp_path / "plain", CORE7)
    evaluate_model(no_statistics, "tess", data, tmp_path / "plain_out", progress=False, vad=False)
    assert "sessions" not in json.loads((tmp_path / "plain_out" / "metrics.json").read_text())


def test_fit_calibration_gives_the_running_adapter_its_population_means():
    """The streams' adapter compares a speaker with every clip's mean log probabilities (``adaptation_prior``) and,
    enrolled on neutral clips, with the neutral clips' (``adaptation_neutral_prior``): known means, recovered."""
    from ser_hf.evaluation.calibration import fit_calibration
    from ser_hf.scoring.decision import normalize_log

    neutral_row, sad_row = np.log([0.7, 0.2, 0.1]), np.log([0.1, 0.2, 0.7])
    rows = np.stack([neutral_row] * 3 + [sad_row] + [np.full(3, np.nan)])  # the NaN row: "no speech", left out
    fitted = fit_calibration(rows, np.array([0, 0, 0, 2, 1]), temperature=1.0, neutral=0)
    assert fitted["adaptation_neutral_prior"] == pytest.approx(neutral_row, abs=1e-4)
    assert fitted["adaptation_prior"] == pytest.approx((3 * neutral_row + sad_row) / 4, abs=1e-4)
    halved = fit_calibration(rows, np.array([0, 0, 0, 2, 1]), temperature=2.0, neutral=0)  # at the temperature
    assert halved["adaptation_neutral_prior"] == pytest.approx(normalize_log(neutral_row / 2), abs=1e-4)
    assert "adaptation_neutral_prior" not in fit_calibration(rows, np.array([1, 1, 1, 2, 1]), temperature=1.0,
                                                             neutral=0)  # no neutral clip: nothing to compare with


def test_calibrate_writes_the_temperature_and_session_statistics_of_the_validation_speakers(tmp_path, audio_writer):
    data = three_corpora(tmp_path, audio_writer)
    model = save_model(tmp_path / "model", CORE7)
    kept = run_cli("calibrate", "--model", str(model), "--data-dir", str(data), "--keep-temperature", "--write", "--json")
    assert kept.returncode == 0, kept.stderr
    config = json.loads((model / "config.json").read_text())
    assert config["calibration_temperature"] == 1.0 and json.loads(kept.stdout)["temperature"] == 1.0
    assert np.asarray(config["adaptation_class_means"]).shape == (7, 7) and config["adaptation_spread"] > 0
    neutral = config["label2id"]["neutral"]  # the running adapter's statistics, from the same clips
    assert len(config["adaptation_prior"]) == 7
    assert config["adaptation_neutral_prior"] == config["adaptation_class_means"][neutral]
    fitted = run_cli("calibrate", "--model", str(model), "--data-dir", str(data), "--write", "--json")
    assert fitted.returncode == 0, fitted.stderr
    result = json.loads(fitted.stdout)
    assert json.loads((model / "config.json").read_text())["calibration_temperature"] == result["temperature"]
    assert result["num_records"] > 0 and result["part"] == "validation"
    one_emotion = run_cli("calibrate", "--model", str(model), "--data-dir", str(data), "--session-head")
    assert one_emotion.returncode == 1 and "at least two emotions" in one_emotion.stderr  # fold 1 trains on one clip
    headed = run_cli("calibrate", "--model", str(model), "--data-dir", str(data), "--protocol", "leave-one-corpus-out",
                     "--fold", "3", "--keep-temperature", "--session-head", "--no-vad", "--write", "--json")
    assert headed.returncode == 0, headed.stderr
    head = json.loads((model / "config.json").read_text())["session_head"]
    dims = 2 * json.loads((model / "config.json").read_text())["hidden_size"]  # the CNN's pooled mean and std
    assert np.asarray(head["weight"]).shape == (7, dims) and np.asarray(head["centroids"]).shape == (7, dims)
    assert len(head["bias"]) == 7 and head == json.loads(headed.stdout)["session_head"]
