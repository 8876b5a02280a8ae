"""The models shipped in the package: sizes, labels, real predictions on unseen speakers, and cards that carry
the measured numbers."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ser_hf.data.labels import LABEL_SETS
from ser_hf.hub import render_model_card
from ser_hf.scoring.loading import bundled_model_dir
from tests.conftest import run_ser_hf

REPO = Path(__file__).resolve().parent.parent
LIMITS_MB = {"default": 40, "compact": 5}
# RAVDESS actors 1-4 are test speakers of fold 1, the fold both models were trained on (never heard in training).
KNOWN = {
    "Actor_02/03-01-05-02-01-02-02.ogg": "angry",
    "Actor_02/03-01-03-02-02-01-02.ogg": "happy",
    "Actor_03/03-01-08-02-01-01-03.ogg": "surprised",
}


def ser_hf(*args):
    return run_ser_hf(*args, cwd=REPO)


@pytest.mark.parametrize("name", ["default", "compact"])
def test_bundled_model_size_labels_and_card(name):
    folder = bundled_model_dir(name)
    assert (folder / "model.safetensors").stat().st_size <= LIMITS_MB[name] * 1_000_000
    config = json.loads((folder / "config.json").read_text())
    assert [config["id2label"][str(i)] for i in range(7)] == list(LABEL_SETS["core7"])
    assert yaml.safe_load((folder / "recipe.yaml").read_text())["data"]["calm"] == "merge"
    per_corpus = json.loads((folder / "per_corpus.json").read_text())
    assert set(per_corpus) == {"ravdess", "crema_d", "tess"}
    card = (folder / "README.md").read_text()
    root_card = (REPO / "model_card.md").read_text()
    for corpus, metrics in per_corpus.items():
        assert f"{metrics['ua']:.3f}" in card and f"{metrics['ua']:.3f}" in root_card, corpus
    assert "MIT" in root_card and "non-commercial" in root_card
    assert card == render_model_card(folder, f"ser-hf/ser-hf-{name}")  # the shipped card is up to date
    assert ("Knowledge distillation" in card) == (name == "compact")


@pytest.mark.parametrize("name", ["default", "compact"])
def test_predict_with_the_bundled_models(name, data_root):
    clips = [str(data_root / "ravdess" / clip) for clip in KNOWN]
    result = ser_hf("predict", *clips, "--format", "json", *(["--model", name] if name == "compact" else []))
    assert result.returncode == 0, result.stderr[-2000:]
    rows = json.loads(result.stdout)
    assert [row["label"] for row in rows] == list(KNOWN.values())
    for row in rows:
        assert sum(row["scores"].values()) == pytest.approx(1.0, abs=1e-3)


def test_evaluate_writes_predictions_that_equal_predict_clip_by_clip(data_root, tmp_path):
    # One scoring path: `ser-hf evaluate`'s predictions.jsonl and `ser-hf predict` agree on every test clip.
    report = tmp_path / "report"
    result = ser_hf("evaluate", "--model", "compact", "--corpus", "ravdess", "--data-dir", str(data_root),
                    "--protocol", "ravdess-6fold", "--fold", "1", "--calm", "merge", "--output-dir", str(report))
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in (report / "predictions.jsonl").read_text().splitlines()]
    assert len(lines) == 240 and set(lines[0]) == {"path", "speaker", "emotion", "predicted", "scores"}
    assert {line["speaker"] for line in lines} == {"ravdess_01", "ravdess_02", "ravdess_03", "ravdess_04"}
    predicted = ser_hf("predict", *[line["path"] for line in lines], "--model", "compact", "--json")
    assert predicted.returncode == 0, predicted.stderr[-2000:]
    assert [row["label"] for row in json.loads(predicted.stdout)] == [line["predicted"] for line in lines]
    correct = sum(line["predicted"] == line["emotion"] for line in lines)
    assert json.loads((report / "metrics.json").read_text())["wa"] == pytest.approx(correct / 240)


def test_evaluate_says_what_it_left_out_and_uses_the_models_calm_choice(data_root, tmp_path):
    from ser_hf.evaluation.evaluate import evaluate_model

    dropped = evaluate_model("compact", "ravdess", data_root, tmp_path / "drop", protocol="ravdess-6fold", calm="drop",
                             progress=False)
    assert dropped["num_records"] == 208 and dropped["left_out"] == {"calm": 32}
    assert "Left out: 32 calm clip(s)" in (tmp_path / "drop" / "report.md").read_text()
    own = evaluate_model("compact", "ravdess", data_root, tmp_path / "own", protocol="ravdess-6fold", progress=False)
    assert own["calm"] == "merge" and own["num_records"] == 240 and "left_out" not in own  # its recipe merged calm


PIPELINE_SCRIPT = """
import json, sys
import numpy as np, soundfile as sf
from transformers import pipeline
clip, _ = sf.read(sys.argv[2], dtype="float32")
classify = pipeline("audio-classification", model=sys.argv[1], trust_remote_code=True)
long = np.tile(clip, int(np.ceil(40 * 16000 / len(clip))))[: 40 * 16000]  # 40 s: more than Whisper's 30 s
print(json.dumps({"label": classify(clip, top_k=1)[0]["label"], "long": classify(long, top_k=1)[0]["label"],
                  "imported": "ser_hf" in sys.modules}))
"""


@pytest.mark.parametrize("name", ["default", "compact"])
def test_pipeline_loads_the_bundled_folders_without_importing_ser_hf(name, data_root, tmp_path):
    import soundfile as sf

    from ser_hf.data import load_audio

    clip, label = next(iter(KNOWN.items()))
    wav = tmp_path / "clip.wav"
    sf.write(str(wav), load_audio(data_root / "ravdess" / clip), 16000)
    result = subprocess.run([sys.executable, "-c", PIPELINE_SCRIPT, str(bundled_model_dir(name)), str(wav)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out == {"label": label, "long": out["long"], "imported": False}
    # The pipeline cuts long input to 30 s for the Whisper model, and says so; EmotionRecognizer windows it.
    assert ("Only the first 30 s of each clip are analysed" in result.stderr) == (name == "default")


def test_bundled_default_features_are_plain_whisper_features_of_the_centred_clip(data_root):
    import numpy as np
    from transformers import AutoFeatureExtractor, WhisperFeatureExtractor

    from ser_hf.data import load_audio

    clip = load_audio(data_root / "ravdess" / next(iter(KNOWN)))
    bundled = AutoFeatureExtractor.from_pretrained(bundled_model_dir("default"))
    plain = WhisperFeatureExtractor.from_pretrained(bundled_model_dir("default"))
    assert type(bundled).__name__ == "SerWhisperFeatureExtractor" and bundled.normalization is None
    assert bundled.remove_dc_offset  # the one step before Whisper's own: each clip's mean subtracted
    np.testing.assert_allclose(bundled(clip, sampling_rate=16000)["input_features"],
                               plain(clip - clip.mean(), sampling_rate=16000)["input_features"], atol=1e-5)
