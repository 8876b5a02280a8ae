"""Training end to end on a tiny budget: one fold of the CNN recipe, resume, two processes, augmentation, distillation."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ser_hf import SerError
from ser_hf.train import (
    AudioCollator,
    WaveformTransform,
    crossval,
    parse_recipe,
    train,
)
from ser_hf.train.data import load_fold
from ser_hf.train.distill import export_teacher_logits
from ser_hf.train.factory import balanced_class_weights
from tests.conftest import run_ser_hf

REPO = Path(__file__).resolve().parent.parent
RECIPE = str(REPO / "recipes" / "cnn_ravdess_6fold.yaml")


def tiny(tmp_path, *extra):
    """A tiny, fast version of the RAVDESS CNN recipe."""
    return ["--max_train_samples", "48", "--max_eval_samples", "16", "--max_steps", "4", "--hidden_size", "32",
            "--num_blocks", "1", "--per_device_train_batch_size", "8", "--eval_strategy", "steps",
            "--eval_steps", "2", "--save_strategy", "steps", "--save_steps", "2", "--logging_steps", "1",
            "--cache_dir", str(tmp_path / "cache"), "--output_dir", str(tmp_path / "run"),
            "--dataloader_num_workers", "0", *extra]


def test_recipe_trains_one_fold_end_to_end(data_root, tmp_path):
    results = train(parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root))))
    out = tmp_path / "run"
    for name in ("config.json", "model.safetensors", "preprocessor_config.json", "metrics.json", "recipe.yaml",
                 "modeling_ser_cnn.py"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["global_step"] == 4 and metrics == results and metrics["world_size"] == 1
    assert metrics["labels"] == ["neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"]
    for part in ("validation", "test"):
        assert set(metrics[part]) >= {"ua", "wa", "macro_f1", "weighted_f1", "per_class", "confusion_matrix"}
        assert metrics[part]["num_records"] == 16
        assert 0.0 <= metrics[part]["ua"] <= 1.0
    config = json.loads((out / "config.json").read_text())
    assert len(config["class_weights"]) == 8  # class_weighting: balanced


def test_resume_from_the_last_checkpoint_reaches_the_same_final_step(data_root, tmp_path):
    first = train(parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root), "--max_steps", "2")))
    assert first["global_step"] == 2 and (tmp_path / "run" / "checkpoint-2").is_dir()
    resumed = train(parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root), "--max_steps", "4",
                                               "--resume_from_checkpoint", "last")))
    assert resumed["global_step"] == 4
    state = json.loads((tmp_path / "run" / "checkpoint-4" / "trainer_state.json").read_text())
    logged_steps = [entry["step"] for entry in state["log_history"] if "loss" in entry]
    assert logged_steps == [1, 2, 3, 4]  # steps 1-2 from the first run, 3-4 after resuming


def test_evaluation_batches_are_identical_across_passes_and_training_ones_are_augmented(data_root, tmp_path):
    from ser_hf.models.feature_extraction_ser import SerFeatureExtractor
    from ser_hf.train.augment import AugmentConfig, WaveformAugmenter
    from ser_hf.train.cache import cache_waveforms

    run = parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root)))
    split, _ = load_fold(run.data)
    part = cache_waveforms(split["validation"].select(range(4)), max_duration_s=6.0, cache_dir=tmp_path / "cache")
    collate = AudioCollator(SerFeatureExtractor(), "input_features")
    evaluation = part.with_transform(WaveformTransform())
    first = collate([evaluation[i] for i in range(4)])
    second = collate([evaluation[i] for i in range(4)])
    np.testing.assert_array_equal(first["input_features"].numpy(), second["input_features"].numpy())
    augmenter = WaveformAugmenter(AugmentConfig(noise_prob=1.0, gain_prob=1.0, shift_prob=1.0), seed=0)
    training = part.with_transform(WaveformTransform(augmenter))
    assert not np.array_equal(collate([training[0]])["input_features"].numpy(),
                              collate([evaluation[0]])["input_features"].numpy())


def test_distillation_from_a_teacher(data_root, tmp_path):
    teacher_dir = tmp_path / "teacher"
    train(parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root), "--output_dir", str(teacher_dir),
                                    "--evaluate_test", "false")))
    results = train(parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root), "--teacher", str(teacher_dir),
                                              "--output_dir", str(tmp_path / "student"), "--distill_alpha", "0.7")))
    assert results["global_step"] == 4
    cached = list((tmp_path / "cache").glob("teacher-*.arrow"))
    assert len(cached) == 1  # teacher logits computed once and cached

    # The same logits saved to a file train the same student once the teacher's folder is gone.
    saved = export_teacher_logits(parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root))),
                                  str(teacher_dir), tmp_path / "teacher_logits.parquet")
    shutil.rmtree(teacher_dir)
    from_file = train(parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root), "--teacher", str(saved),
                                                "--output_dir", str(tmp_path / "student2"), "--distill_alpha", "0.7")))
    assert from_file["validation"]["ua"] == results["validation"]["ua"]
    first, second = (load_file(tmp_path / name / "model.safetensors") for name in ("student", "student2"))
    for name, tensor in first.items():
        torch.testing.assert_close(second[name], tensor)


def test_saved_teacher_logits_must_cover_the_clips_and_labels(data_root, tmp_path):
    import pyarrow.parquet as pq

    from ser_hf.train.data import prepare_split
    from ser_hf.train.distill import save_teacher_logits, saved_teacher_logits

    run = parse_recipe(RECIPE, tiny(tmp_path, "--data_dir", str(data_root)))
    split, labels = prepare_split(run.data)
    part = split["train"]
    logits = np.arange(len(part) * len(labels), dtype=np.float32).reshape(len(part), len(labels))
    file = save_teacher_logits(part.add_column("teacher_logits", logits.tolist()), tmp_path / "t.parquet",
                               labels, "a teacher")
    read = saved_teacher_logits(part, file, labels)
    np.testing.assert_array_equal(np.asarray(read["teacher_logits"]), logits)
    with pytest.raises(SerError, match="not the recipe's labels"):
        saved_teacher_logits(part, file, labels[::-1])
    pq.write_table(pq.read_table(file).slice(1), tmp_path / "short.parquet")
    with pytest.raises(SerError, match=f"1 of the {len(part)} training clips have no logits"):
        saved_teacher_logits(part, tmp_path / "short.parquet", labels)
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(SerError, match="Cannot read saved teacher logits"):
        saved_teacher_logits(part, tmp_path / "broken.parquet", labels)


def test_two_process_cpu_run_with_accelerate(data_root, tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "SER_HF_DATA": str(data_root)}
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
               str(REPO / "recipes" / "accelerate" / "cpu_2proc.yaml"), "-m", "ser_hf.train", RECIPE,
               *tiny(tmp_path, "--ddp_backend", "gloo")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["global_step"] == 4 and metrics["world_size"] == 2
    assert "ua" in json.loads(result.stdout.strip().splitlines()[-1])


def test_crossval_writes_per_fold_and_mean_std(data_root, tmp_path):
    overrides = tiny(tmp_path, "--data_dir", str(data_root), "--protocol", "tess-cross-speaker", "--corpora", "tess",
                     "--label_set", "core7", "--max_steps", "2")
    summary = crossval(RECIPE, str(tmp_path / "cv"), overrides)
    assert [f["fold"] for f in summary["folds"]] == [1, 2]
    assert set(summary["ua"]) == {"mean", "std"}
    table = (tmp_path / "cv" / "crossval.md").read_text()
    assert "mean ± std" in table and (tmp_path / "cv" / "fold2" / "metrics.json").is_file()
    stamp = (tmp_path / "cv" / "fold1" / "model.safetensors").stat().st_mtime_ns
    again = crossval(RECIPE, str(tmp_path / "cv"), overrides)  # finished folds are read, not retrained
    assert again["ua"] == summary["ua"]
    assert (tmp_path / "cv" / "fold1" / "model.safetensors").stat().st_mtime_ns == stamp


def test_bad_recipes_give_one_clear_error(tmp_path):
    with pytest.raises(SerError, match="not found"):
        parse_recipe(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data:\n  corpora: [ravdess]\n  colour: blue\n")
    with pytest.raises(SerError, match="Unknown recipe field.*colour"):
        parse_recipe(bad)
    with pytest.raises(SerError, match="Invalid training arguments"):
        parse_recipe(RECIPE, ["--num_train_epochs", "many"])


def test_balanced_class_weights():
    # n / (classes present * count), as scikit-learn's "balanced": 4 / (2 * 3) and 4 / (2 * 1); absent: 0
    assert balanced_class_weights([0, 0, 0, 1], 3) == pytest.approx([2 / 3, 2.0, 0.0], abs=1e-6)


@pytest.mark.parametrize("recipe", sorted((REPO / "recipes").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_recipe_parses_and_names_a_consistent_protocol(recipe):
    from ser_hf.data import CORPORA
    from ser_hf.data.labels import LABEL_SETS
    from ser_hf.data.protocols import PROTOCOL_CORPORA
    from ser_hf.train.baseline import parse_baseline_recipe

    if recipe.stem.startswith("baseline_"):
        data, baseline = parse_baseline_recipe([str(recipe)])
        output_dir = baseline.output_dir
    else:
        run = parse_recipe(recipe)
        data, output_dir = run.data, run.training.output_dir
        assert run.training.metric_for_best_model == "ua"
    assert set(data.corpora) <= set(CORPORA)
    assert set(PROTOCOL_CORPORA[data.protocol]) == set(data.corpora)
    assert data.label_set in LABEL_SETS
    assert Path(output_dir).parts[0] == "outputs"


def test_encoder_learning_rate_gives_the_encoder_its_own_group(tmp_path):
    from ser_hf.train import SerTrainer, SerTrainingArguments
    from tests.test_models import tiny_backbone, tiny_whisper_config

    model = tiny_backbone(tiny_whisper_config())
    args = SerTrainingArguments(output_dir=str(tmp_path), learning_rate=1e-3, weight_decay=0.01, eval_strategy="no",
                                save_strategy="no", load_best_model_at_end=False)
    optimizer = SerTrainer(model=model, args=args, encoder_learning_rate=2e-5).create_optimizer()
    rates = {group["lr"] for group in optimizer.param_groups}
    assert rates == {2e-5, 1e-3}
    encoder_ids = {id(p) for p in model.encoder.parameters() if p.requires_grad}
    for group in optimizer.param_groups:
        in_encoder = {id(p) in encoder_ids for p in group["params"]}
        assert in_encoder == {group["lr"] == 2e-5}


def test_cli_passes_overrides_through_and_rejects_unknown_options(data_root, tmp_path):
    from ser_hf.cli import main

    overrides = tiny(tmp_path, "--data_dir", str(data_root), "--protocol", "tess-cross-speaker", "--corpora", "tess",
                     "--label_set", "core7", "--max_steps", "1")
    assert main(["crossval", RECIPE, "--output-dir", str(tmp_path / "cv"), *overrides]) == 0
    assert json.loads((tmp_path / "cv" / "crossval.json").read_text())["protocol"] == "tess-cross-speaker"
    result = run_ser_hf("predict", "x.wav", "--colour", "blue")
    assert result.returncode == 2 and "unrecognized arguments: --colour blue" in result.stderr


def test_metrics_json_of_a_training_run_equals_ser_hf_evaluate_of_the_saved_model(data_root, tmp_path):
    # The Trainer's evaluation and `ser-hf evaluate` score clips through the same path: the same UA, clip for clip.
    from ser_hf.cli import main

    args = [a for a in tiny(tmp_path, "--data_dir", str(data_root)) if a not in ("--max_eval_samples", "16")]
    results = train(parse_recipe(RECIPE, args))
    report = tmp_path / "report"
    assert main(["evaluate", "--model", str(tmp_path / "run"), "--corpus", "ravdess", "--data-dir", str(data_root),
                 "--protocol", "ravdess-6fold", "--fold", "1", "--output-dir", str(report), "--json"]) == 0
    evaluated = json.loads((report / "metrics.json").read_text())
    assert evaluated["num_records"] == results["test"]["num_records"] == 240
    assert evaluated["ua"] == pytest.approx(results["test"]["ua"], abs=1e-12)
    assert evaluated["confusion_matrix"] == results["test"]["confusion_matrix"]
