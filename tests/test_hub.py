"""Publishing: the real huggingface_hub upload code against a local stub of the Hub (HF_ENDPOINT)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ser_hf.hub import prepare_model_folder, render_model_card
from tests.conftest import save_tiny_cnn
from tests.hub_stub import HubStub
from tests.test_models import run_remote

REPO = Path(__file__).resolve().parent.parent
LABELS = ["neutral", "happy", "sad", "angry"]


@pytest.fixture
def trained(tmp_path):
    """A model folder as `ser-hf train` leaves it: weights, extractor, metrics.json and recipe.yaml."""
    folder = save_tiny_cnn(tmp_path / "model", LABELS)
    part = {"ua": 0.6123, "wa": 0.6456, "macro_f1": 0.6011, "weighted_f1": 0.64, "num_records": 240}
    (folder / "metrics.json").write_text(json.dumps({"labels": LABELS, "validation": part, "test": part}))
    (folder / "recipe.yaml").write_text(yaml.safe_dump({"data": {"corpora": ["ravdess", "crema_d"], "label_set": "big4",
                                                                  "protocol": "ravdess-6fold", "fold": 2}}))
    return folder


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ser_hf.cli", *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=REPO)


def stub_env(stub):
    return {"HF_ENDPOINT": stub.url, "HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_test", "HF_HUB_DISABLE_TELEMETRY": "1"}


def test_push_sends_the_dry_run_folder_and_it_loads_by_remote_code(tmp_path, trained):
    dry = tmp_path / "dry"
    assert cli("push", "--model", str(trained), "--repo-id", "tester/ser-cnn", "--dry-run", str(dry)).returncode == 0
    with HubStub() as stub:
        result = cli("push", "--model", str(trained), "--repo-id", "tester/ser-cnn", "--json", env=stub_env(stub))
        assert result.returncode == 0, result.stderr
    received = stub.files["tester/ser-cnn"]
    expected = {p.name: p.read_bytes() for p in dry.iterdir()}
    assert received == expected  # the dry run is exactly what was sent
    assert {"config.json", "model.safetensors", "preprocessor_config.json", "README.md", "modeling_ser_cnn.py",
            "configuration_ser_cnn.py", "feature_extraction_ser.py"} <= set(received)
    assert "tester/ser-cnn" in stub.repos and stub.validated  # repo created, card metadata validated

    arrived = tmp_path / "arrived"
    arrived.mkdir()
    for name, data in received.items():
        (arrived / name).write_bytes(data)
    t = np.arange(32000) / 16000
    out = run_remote(arrived, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), tmp_path)
    assert out["module"].startswith("transformers_modules") and set(out["labels"]) <= set(LABELS)


def test_model_card(trained):
    card = render_model_card(trained, "tester/ser-cnn")
    header = yaml.safe_load(card.split("---")[1])
    assert header["library_name"] == "transformers" and header["pipeline_tag"] == "audio-classification"
    assert header["license"] == "cc-by-nc-sa-4.0" and header["datasets"] == ["RAVDESS", "CREMA-D"]
    metric = header["model-index"][0]["results"][0]["metrics"][0]
    assert metric == {"type": "unweighted_accuracy", "value": 0.6123,
                      "name": "UA (ravdess-6fold, fold 2, speaker-independent)"}
    for section in ("## Model details", "## Intended uses and out-of-scope uses", "## Training data", "## Evaluation",
                    "## Limitations and biases", "## How to use", "## Citation"):
        assert section in card
    assert "non-commercial" in card and "trust_remote_code=True" in card and "0.612" in card


def test_model_card_lists_the_per_corpus_test_results(trained, tmp_path):
    import shutil

    folder = tmp_path / "evaluated"
    shutil.copytree(trained, folder)
    per_corpus = {"ravdess": {"protocol": "multi-corpus", "fold": 1, "labels": LABELS + ["fearful", "disgust", "surprised"], "calm": "merge",
                              "ua": 0.7123, "wa": 0.7, "macro_f1": 0.69, "weighted_f1": 0.7, "num_records": 240},
                  "tess": {"protocol": "multi-corpus", "fold": 1, "labels": LABELS + ["fearful", "disgust", "surprised"], "calm": "merge",
                           "ua": 0.5, "wa": 0.5, "macro_f1": 0.4, "weighted_f1": 0.4, "num_records": 1400}}
    (folder / "per_corpus.json").write_text(json.dumps(per_corpus))
    card = render_model_card(folder, "tester/ser-cnn")
    assert "| RAVDESS | actors 1-4 | 7 | 0.712 | 0.700 | 0.690 | 240 |" in card
    assert "| TESS | OAF (the older speaker) | 7 | 0.500 |" in card
    results = yaml.safe_load(card.split("---")[1])["model-index"][0]["results"]
    assert [r["metrics"][0]["value"] for r in results] == [0.6123, 0.7123, 0.5]
    out = prepare_model_folder(folder, tmp_path / "shipped")
    assert (out / "per_corpus.json").read_text() == json.dumps(per_corpus)
    assert "Under degradations" not in card and "Session mode" not in card
    # With the robustness report's conditions and ser-hf evaluate's session metrics, the card shows both tables.
    per_corpus["ravdess"]["robustness"] = {"clean": {"ua": 0.7123}, "noise:10": {"ua": 0.651}}
    per_corpus["tess"]["robustness"] = {"clean": {"ua": 0.5}, "noise:10": {"ua": 0.42}}
    per_corpus["tess"]["sessions"] = {"random10": {"clips": 100, "sessions": 10, "clip": {"ua": 0.5, "wa": 0.52},
                                                   "session": {"ua": 0.61, "wa": 0.6}}}
    (folder / "per_corpus.json").write_text(json.dumps(per_corpus))
    card = render_model_card(folder, "tester/ser-cnn")
    assert "| condition | RAVDESS | TESS | no speech (all) |" in card
    assert "| noise:10 | 0.651 (-0.061) | 0.420 (-0.080) | 0 |" in card and "| clean | 0.712 | 0.500 | 0 |" in card
    assert "| TESS | 10 at random (5 draws) | 0.500 -> 0.610 | 0.520 -> 0.600 | 100 |" in card
    assert "RAVDESS | 10 at random" not in card  # a corpus without session metrics has no row


def test_a_folder_without_code_is_pushed_with_the_package_code(trained, tmp_path):
    lean = tmp_path / "lean"  # how the bundled models ship: no .py files beside the weights
    lean.mkdir()
    for name in ("config.json", "model.safetensors", "preprocessor_config.json", "metrics.json"):
        (lean / name).write_bytes((trained / name).read_bytes())
    out = prepare_model_folder(lean, tmp_path / "dry", "tester/lean")
    assert {"modeling_ser_cnn.py", "configuration_ser_cnn.py", "feature_extraction_ser.py", "README.md"} <= {p.name for p in out.iterdir()}
    t = np.arange(16000) / 16000
    result = run_remote(out, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), tmp_path)
    assert result["module"].startswith("transformers_modules") and set(result["labels"]) <= set(LABELS)


def test_offline_or_unreachable_hub_is_one_sentence(trained):
    offline = cli("push", "--model", str(trained), "--repo-id", "tester/x", env={"HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 1 and "HF_HUB_OFFLINE is set" in offline.stderr
    unreachable = cli("push", "--model", str(trained), "--repo-id", "tester/x",
                      env={"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_OFFLINE": "0", "HF_TOKEN": "hf_test"})
    assert unreachable.returncode == 1 and "Could not publish to tester/x" in unreachable.stderr
    for result in (offline, unreachable):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_push_space_dry_run_and_upload(tmp_path):
    dry = tmp_path / "space"
    assert cli("push", "--space", "--repo-id", "tester/demo", "--dry-run", str(dry)).returncode == 0
    header = yaml.safe_load((dry / "README.md").read_text().split("---")[1])
    assert header["sdk"] == "gradio" and header["app_file"] == "app.py" and header["sdk_version"]
    assert header["license"] and header["models"]
    assert (dry / "app.py").is_file() and (dry / "ser_hf" / "demo" / "app.py").is_file()
    assert "gradio" in (dry / "requirements.txt").read_text()
    with HubStub() as stub:
        result = cli("push", "--space", "--repo-id", "tester/demo", env=stub_env(stub))
        assert result.returncode == 0, result.stderr
    assert stub.repos["tester/demo"].get("type") == "space" and "app.py" in stub.files["tester/demo"]


def test_push_to_hub_from_a_training_recipe_uses_the_same_card(tmp_path, data_root):
    recipe = REPO / "recipes" / "cnn_ravdess_6fold.yaml"
    with HubStub() as stub:
        result = subprocess.run(
            [sys.executable, "-m", "ser_hf.train", str(recipe), "--max_train_samples", "16", "--max_eval_samples", "8",
             "--max_steps", "1", "--hidden_size", "16", "--num_blocks", "1", "--eval_strategy", "steps",
             "--eval_steps", "1", "--save_strategy", "steps", "--save_steps", "1", "--output_dir", str(tmp_path / "run"),
             "--cache_dir", str(tmp_path / "cache"), "--data_dir", str(data_root), "--push_to_hub", "true",
             "--hub_model_id", "tester/from-recipe"],
            capture_output=True, text=True, timeout=600, env={**os.environ, **stub_env(stub)})
        assert result.returncode == 0, result.stderr[-3000:]
    card = stub.files["tester/from-recipe"]["README.md"].decode()
    assert card == render_model_card(tmp_path / "run", "tester/from-recipe")
    assert "ravdess-6fold, fold 1" in card


def test_shipped_folder_links_its_remote_code_and_loads_without_ser_hf(trained, tmp_path):
    from ser_hf.hub import ship_model

    for stray in trained.glob("*.py"):
        stray.unlink()  # as a folder copied without its code
    out = ship_model(trained, "tiny", pretrained_dir=tmp_path / "pretrained")
    links = sorted(p.name for p in out.glob("*.py"))
    assert links == ["audio.py", "configuration_ser_cnn.py", "errors.py", "feature_extraction_ser.py",
                     "modeling_ser_cnn.py", "pooling.py", "preprocessing.py"]
    assert all((out / name).is_symlink() for name in links)
    assert 'model="ser-hf/ser-hf-tiny"' in (out / "README.md").read_text()  # the card names the shipped model
    script = ("import sys; from transformers import AutoFeatureExtractor, AutoModelForAudioClassification; "
              f"m = AutoModelForAudioClassification.from_pretrained({str(out)!r}, trust_remote_code=True); "
              f"AutoFeatureExtractor.from_pretrained({str(out)!r}, trust_remote_code=True); "
              "print(type(m).__name__, 'ser_hf' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["SerCnnForAudioClassification", "False"]
