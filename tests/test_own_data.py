"""Your own labelled recordings: read the datasets way, split by speaker, fine-tuned from a trained model, evaluated
and predicted; every bad input answered with one sentence."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pytest
from safetensors.torch import load_file

from ser_hf import SerDataError, SerError
from ser_hf.cli import main
from ser_hf.data.protocols import check_leakage
from ser_hf.data.user_data import canonical_label, load_user_data, ordered_labels, split_user_data
from tests.conftest import make_user_recordings, run_ser_hf

REPO = Path(__file__).resolve().parent.parent
TINY = ["--max_steps", "2", "--per_device_train_batch_size", "8", "--eval_strategy", "steps", "--eval_steps", "2",
        "--save_strategy", "steps", "--save_steps", "2", "--dataloader_num_workers", "0", "--num_train_epochs", "1"]


@pytest.fixture(scope="module")
def recordings(data_root, tmp_path_factory):
    return make_user_recordings(data_root, tmp_path_factory.mktemp("own") / "my_recordings")


def test_label_names_map_onto_the_canonical_emotions_and_others_stay_the_users():
    assert [canonical_label(n) for n in ("Anger", "happiness", " FEAR ", "surprise", "Disgusted", "neu")] == \
        ["angry", "happy", "fearful", "surprised", "disgust", "neutral"]
    assert canonical_label("Tired") == "tired" and canonical_label("very bored") == "very_bored"
    assert ordered_labels(["tired", "angry", "neutral", "bored"]) == ["neutral", "angry", "bored", "tired"]


def test_an_audiofolder_with_metadata_is_split_by_speaker(recordings):
    user = load_user_data(recordings)
    assert user.labels == ["neutral", "happy", "angry", "tired"] and len(user.dataset) == 48 and not user.skipped
    assert set(user.dataset["corpus"]) == {"user"} and user.dataset.features["label"].names == user.labels
    split = split_user_data(user)
    speakers = {part: set(split[part]["speaker"]) for part in split}
    assert [len(speakers[p]) for p in ("train", "validation", "test")] == [2, 1, 1]
    check_leakage(split)
    assert split_user_data(user)["test"]["path"] == split["test"]["path"]  # the same split every time


def test_a_folder_per_label_without_speakers_is_split_at_random_with_a_warning(data_root, tmp_path):
    folder = make_user_recordings(data_root, tmp_path / "rec", metadata=False)
    user = load_user_data(folder)
    with pytest.warns(UserWarning, match="no speaker column.*optimistic"):
        split = split_user_data(user)
    assert sum(len(p) for p in split.values()) == 48 and len(split["test"]) == 5  # stratified: 10% of 48
    assert len(set(split["test"]["emotion"])) == 4
    with pytest.warns(UserWarning):  # a model's label order (training that continues its head) splits alike
        reordered = split_user_data(user.with_labels(["tired", "angry", "sad", "happy", "neutral"]))
    assert all(reordered[part]["path"] == split[part]["path"] for part in split)


def test_a_dataset_object_and_a_csv_manifest_are_read_like_the_folder(recordings, tmp_path):
    rows = list(csv.DictReader(open(recordings / "metadata.csv")))
    dataset = datasets.Dataset.from_dict({
        "audio": [str(recordings / r["file_name"]) for r in rows],
        "label": [r["label"] for r in rows], "speaker": [r["speaker"] for r in rows]})
    assert load_user_data(dataset).labels == ["neutral", "happy", "angry", "tired"]
    names = sorted({r["label"] for r in rows})
    as_ids = datasets.Dataset.from_dict(
        {"path": dataset["audio"], "label": [names.index(r["label"]) for r in rows]},
        features=datasets.Features({"path": datasets.Value("string"), "label": datasets.ClassLabel(names=names)}))
    assert load_user_data(as_ids).labels == ["neutral", "happy", "angry", "tired"]
    manifest = tmp_path / "elsewhere" / "clips.csv"
    manifest.parent.mkdir()
    with open(manifest, "w", newline="") as handle:
        writer = csv.DictWriter(handle, ["path", "label", "speaker"])
        writer.writeheader()
        writer.writerows({"path": str(recordings / r["file_name"]), "label": r["label"], "speaker": r["speaker"]}
                         for r in rows)
    assert len(load_user_data(manifest).dataset) == 48


def _folder(root: Path, audio_writer, labels=("angry", "sad"), per_label=5, speakers=("a", "b", "c", "d"),
            columns=("file_name", "label", "speaker"), split=None) -> Path:
    rows = []
    for label in labels:
        for i in range(per_label):
            name = f"{label}/{label}_{i}.wav"
            audio_writer(root / name, seconds=0.5, freq=150 + 10 * i)
            row = {"file_name": name, "label": label, "speaker": speakers[i % len(speakers)]}
            if split:
                row["split"] = split(i)
            rows.append(row)
    with open(root / "metadata.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, list(columns) + (["split"] if split else []), extrasaction="ignore")
        writer.writeheader()
        writer.writerows([{**r, **{c: "x" for c in columns if c not in r}} for r in rows])
    return root


def test_bad_input_gets_one_sentence_each(tmp_path, audio_writer, capsys):
    assert main(["train"]) == 1 and "Pass a recipe" in capsys.readouterr().err
    assert main(["evaluate", "--output-dir", str(tmp_path / "r")]) == 1
    assert capsys.readouterr().err.strip() == ("ser-hf: error: Pass either --corpus NAME (a corpus) or --data DIR "
                                               "(your own labelled recordings).")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SerDataError, match=r"^No readable audio in .*empty; expected one subfolder per label"):
        load_user_data(tmp_path / "empty")
    with pytest.raises(SerDataError, match="The folder /missing/folder does not exist"):
        load_user_data("/missing/folder")
    with pytest.raises(SerDataError, match=r"clips of one label only \(angry\)"):
        load_user_data(_folder(tmp_path / "one", audio_writer, labels=("angry",)))
    with pytest.raises(SerDataError, match=r"fewer than 5 readable clips .*: sad \(3\)"):
        load_user_data(_few(tmp_path / "few", audio_writer))
    with pytest.raises(SerDataError, match=r"unknown column\(s\) mood; expected file_name"):
        load_user_data(_folder(tmp_path / "col", audio_writer, columns=("file_name", "label", "speaker", "mood")))
    shared = _folder(tmp_path / "leak", audio_writer, speakers=("a", "b"), split=lambda i: "test" if i == 0 else "train")
    with pytest.raises(SerDataError, match="speakers in both train and test: a"):
        split_user_data(load_user_data(shared))
    with pytest.raises(SerError, match="Cannot load the dataset 'nobody/no-such-dataset'"):
        load_user_data("nobody/no-such-dataset")


def _few(root: Path, audio_writer) -> Path:
    _folder(root, audio_writer)
    for i in range(3, 5):
        (root / "sad" / f"sad_{i}.wav").unlink()
    return root


def test_unreadable_files_are_skipped_and_listed_and_strict_fails(tmp_path, audio_writer):
    folder = _folder(tmp_path / "rec", audio_writer, per_label=6)
    (folder / "angry" / "angry_5.wav").write_bytes(b"not audio at all")
    (folder / "sad" / "sad_5.wav").write_bytes(b"")
    audio_writer(folder / "sad" / "silent.wav", silent=True)  # not in metadata.csv: not read
    user = load_user_data(folder)
    assert len(user.dataset) == 10
    assert {(s.path, s.reason.split(" (")[0]) for s in user.skipped} == {
        ("angry/angry_5.wav", "unreadable audio"), ("sad/sad_5.wav", "empty file")}
    with pytest.raises(SerDataError, match=r"2 file\(s\) of .* were skipped and --strict is set"):
        load_user_data(folder, strict=True)
    assert main(["train", "--data", str(folder), "--strict", "--from", "compact", "--output_dir",
                 str(tmp_path / "never")]) == 1 and not (tmp_path / "never").exists()


def _weights(folder: Path) -> dict:
    return load_file(str(folder / "model.safetensors"))


def test_fine_tune_the_compact_model_new_head_then_evaluate_and_predict(recordings, tmp_path, capsys):
    from ser_hf import EmotionRecognizer
    from ser_hf.evaluation.evaluate import evaluate_on_data
    from ser_hf.scoring.loading import bundled_model_dir

    out = tmp_path / "compact_own"
    assert main(["train", "--data", str(recordings), "--from", "compact", "--output_dir", str(out),
                 "--cache_dir", str(tmp_path / "cache"), *TINY]) == 0
    assert capsys.readouterr().out.strip().endswith(f"(12 clips); results in {out}")
    trained, shipped = _weights(out), _weights(bundled_model_dir("compact"))
    head = [k for k in shipped if trained[k].shape != shipped[k].shape]
    assert head and all(trained[k].shape[0] == 4 for k in head)  # a new head over the four labels
    kept = [k for k in shipped if k not in head and "running" not in k and shipped[k].dtype.is_floating_point]
    assert max(float((trained[k] - shipped[k]).abs().max()) for k in kept) < 0.05  # the encoder, barely moved
    metrics = evaluate_on_data(out, recordings, tmp_path / "report", progress=False)
    assert metrics["num_records"] == 12 and metrics["labels"] == ["neutral", "happy", "angry", "tired"]
    assert (tmp_path / "report" / "report.md").is_file()
    clip = sorted((recordings / "tired").iterdir())[0]
    result = EmotionRecognizer.from_pretrained(out).predict(str(clip))
    assert set(result.scores) == {"neutral", "happy", "angry", "tired"}
    assert main(["predict", "--model", str(out), str(clip)]) == 0
    assert capsys.readouterr().out.startswith(str(clip))
    config = json.loads((out / "config.json").read_text())  # session mode's statistics, of the new head's labels
    assert np.asarray(config["adaptation_class_means"]).shape == (4, 4) and config["adaptation_spread"] > 0
    assert config.get("session_head") is None  # the shipped head heard the shipped embeddings: not carried over
    tired = [str(c) for c in sorted((recordings / "tired").iterdir())]
    assert main(["predict", "--model", str(out), "--json", *tired]) == 0
    clip_mode = json.loads(capsys.readouterr().out)
    assert main(["predict", "--model", str(out), "--adapt", "--json", *tired]) == 0
    session = json.loads(capsys.readouterr().out)
    adapted = {r["adapted"] for r in session}  # one session: adapted, or guarded and answered in clip mode
    assert adapted in ({True}, {False})
    if adapted == {False}:
        assert [r["label"] for r in session] == [r["label"] for r in clip_mode]
    assert main(["evaluate", "--model", str(out), "--data", str(recordings), "--part", "all", "--output-dir",
                 str(tmp_path / "all"), "--json"]) == 0
    assert '"num_records": 48' in capsys.readouterr().out
    from ser_hf.hub.card import render_model_card

    card = render_model_card(out)  # the compact's corpora stay behind it, and so do their terms
    assert "license: cc-by-nc-sa-4.0" in card and "| own recordings (`my_recordings`), fine-tuning `compact`" in card


def test_labels_the_model_has_continue_its_head(recordings, tmp_path):
    import shutil

    from ser_hf.scoring.loading import bundled_model_dir
    from ser_hf.train import parse_recipe, train

    known = tmp_path / "known"
    shutil.copytree(recordings, known, ignore=shutil.ignore_patterns("tired", "metadata.csv"))
    with open(recordings / "metadata.csv") as source, open(known / "metadata.csv", "w") as target:
        target.writelines(line for line in source if ",tired," not in line)
    results = train(parse_recipe(None, ["--dataset", str(known), "--model", "compact", "--output_dir",
                                        str(tmp_path / "run"), "--cache_dir", str(tmp_path / "cache"), *TINY]))
    compact_labels = ["neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    assert results["labels"] == compact_labels  # the model's seven, its head continued
    trained, shipped = _weights(tmp_path / "run"), _weights(bundled_model_dir("compact"))
    assert all(trained[k].shape == shipped[k].shape for k in shipped)


def test_fine_tune_a_tiny_whisper_model(recordings, tmp_path):
    from ser_hf.train import parse_recipe, train
    from ser_hf.train.factory import backbone_feature_extractor
    from tests.test_models import tiny_backbone, tiny_whisper_config

    base = tmp_path / "tiny_whisper"
    model = tiny_backbone(tiny_whisper_config())  # labels neutral, happy, sad, angry: "tired" needs a new head
    model.save_pretrained(base)
    backbone_feature_extractor(model.config).save_pretrained(base)
    results = train(parse_recipe(None, ["--dataset", str(recordings), "--model", str(base), "--output_dir",
                                        str(tmp_path / "run"), "--cache_dir", str(tmp_path / "cache"), *TINY]))
    assert results["labels"] == ["neutral", "happy", "angry", "tired"] and results["global_step"] == 2
    assert results["test"]["num_records"] == 12
    trained = _weights(tmp_path / "run")
    encoder = [k for k in trained if k.startswith("encoder.")]
    assert encoder and all(np.allclose(trained[k].numpy(), model.state_dict()[k].numpy(), atol=0.05) for k in encoder)
    assert main(["evaluate", "--model", str(tmp_path / "run"), "--data", str(recordings), "--output-dir",
                 str(tmp_path / "report"), "--json"]) == 0
    from ser_hf import EmotionRecognizer

    clip = sorted((recordings / "anger").iterdir())[0]
    assert set(EmotionRecognizer.from_pretrained(tmp_path / "run").predict(str(clip)).scores) == \
        {"neutral", "happy", "angry", "tired"}


def test_two_processes_under_accelerate(recordings, tmp_path):
    import socket

    with socket.socket() as s:  # a free port: another two-process test may hold the config's own at the same time
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
               str(REPO / "recipes" / "accelerate" / "cpu_2proc.yaml"), "--main_process_port", str(port),
               "-m", "ser_hf.train", "--dataset",
               str(recordings), "--model", "compact", "--ddp_backend", "gloo", "--output_dir", str(tmp_path / "run"),
               "--cache_dir", str(tmp_path / "cache"), *TINY]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-4000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["labels"] == ["neutral", "happy", "angry", "tired"]


def test_the_guide_section_runs(recordings, tmp_path):
    """docs/user_guide.md, "Train on your own recordings": every command run, its output compared line by line
    (figures aside: training is not bit-reproducible across runs)."""
    guide = (REPO / "docs" / "user_guide.md").read_text()
    section = guide.split("## Train on your own recordings", 1)[1].split("\n## ", 1)[0]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    shutil.copytree(recordings, tmp_path / "my_recordings")
    commands = re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]
    assert len(commands) == 4
    digits = re.compile(r"\d+\.\d+")
    for command in commands:
        line, *shown = command.rstrip("\n").split("\n")
        result = run_ser_hf(*line.split()[1:], cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        printed = [digits.sub("#", x) for x in result.stdout.splitlines()]
        for expected in shown:
            if expected.startswith("my_recordings/"):  # a fine-tuned model's answer: the clip, whatever it says
                assert any(x.startswith(expected.split()[0] + " ") for x in printed), (line, result.stdout)
            elif not expected.startswith("..."):
                assert digits.sub("#", expected) in printed, (line, expected, result.stdout[-2000:])
