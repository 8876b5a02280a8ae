"""Both model families: shapes, masking, save/load, the pipeline and loading by remote code."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoFeatureExtractor, AutoModelForAudioClassification, pipeline

from ser_hf import SerCnnConfig, SerCnnForAudioClassification, SerFeatureExtractor
from ser_hf.models import SerBackboneConfig, SerBackboneForAudioClassification

LABELS = ["neutral", "happy", "sad", "angry"]


def tone(seconds=1.0, freq=220.0, sr=16000):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * freq * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def cnn(**overrides) -> SerCnnForAudioClassification:
    torch.manual_seed(0)
    config = SerCnnConfig(id2label=dict(enumerate(LABELS)), label2id={label: i for i, label in enumerate(LABELS)}, **overrides)
    return SerCnnForAudioClassification(config).eval()


def tiny_whisper_config() -> dict:
    from transformers import WhisperConfig

    return WhisperConfig(num_mel_bins=80, d_model=64, encoder_layers=2, encoder_attention_heads=4,
                         encoder_ffn_dim=128, decoder_layers=1, decoder_attention_heads=4, decoder_ffn_dim=128,
                         max_source_positions=1500).to_dict()


def tiny_backbone(backbone_config: dict, **overrides) -> SerBackboneForAudioClassification:
    torch.manual_seed(0)
    config = SerBackboneConfig(backbone_config=backbone_config, id2label=dict(enumerate(LABELS)),
                               label2id={label: i for i, label in enumerate(LABELS)}, conv_channels=32,
                               attention_channels=16, **overrides)
    return SerBackboneForAudioClassification(config).eval()


def test_cnn_shapes_loss_and_size():
    model = cnn()
    out = model(torch.randn(3, 64, 250), labels=torch.tensor([0, 1, 2]))
    assert out.logits.shape == (3, 4) and out.loss.ndim == 0
    params = sum(p.numel() for p in model.parameters())
    assert params * 4 / 1e6 < 5.0  # at most 5 MB of fp32 weights
    with pytest.raises(ValueError, match=r"Expected input_features of shape \(batch, 64, frames\)"):
        model(torch.randn(1, 80, 100))


def test_cnn_masking_a_clip_alone_equals_the_clip_zero_padded():
    model = cnn()
    clip = torch.randn(1, 64, 173)
    padded = torch.cat([clip, torch.zeros(1, 64, 91)], dim=-1)
    mask = torch.cat([torch.ones(1, 173), torch.zeros(1, 91)], dim=-1)
    other = torch.randn(1, 64, 264)
    with torch.no_grad():
        alone = model(clip).logits
        batched = model(torch.cat([padded, other]), attention_mask=torch.cat([mask, torch.ones(1, 264)])).logits
    torch.testing.assert_close(batched[:1], alone, atol=1e-5, rtol=0)


def test_class_weights_and_label_smoothing_change_the_loss():
    features, labels = torch.randn(4, 64, 100), torch.tensor([0, 0, 1, 3])
    plain = cnn()(features, labels=labels).loss
    weighted = cnn(class_weights=[0.1, 1.0, 1.0, 5.0])(features, labels=labels).loss
    smoothed = cnn(label_smoothing=0.2)(features, labels=labels).loss
    assert not torch.isclose(plain, weighted) and not torch.isclose(plain, smoothed)


def test_cnn_save_load_round_trip_and_auto_classes(tmp_path):
    model, fe = cnn(), SerFeatureExtractor()
    model.save_pretrained(tmp_path)
    fe.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_type"] == "ser_cnn"
    assert config["auto_map"]["AutoModelForAudioClassification"] == "modeling_ser_cnn.SerCnnForAudioClassification"
    assert json.loads((tmp_path / "preprocessor_config.json").read_text())["auto_map"] == {
        "AutoFeatureExtractor": "feature_extraction_ser.SerFeatureExtractor"}
    for code in ("configuration_ser_cnn.py", "modeling_ser_cnn.py", "pooling.py", "feature_extraction_ser.py",
                 "preprocessing.py", "audio.py",
                 "errors.py"):
        assert (tmp_path / code).is_file(), code
    assert isinstance(AutoConfig.from_pretrained(tmp_path), SerCnnConfig)
    loaded = AutoModelForAudioClassification.from_pretrained(tmp_path).eval()
    assert type(loaded) is SerCnnForAudioClassification
    inputs = AutoFeatureExtractor.from_pretrained(tmp_path)(tone(2.0), sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs).logits, model(**inputs).logits)


def test_pipeline_works_offline_and_returns_the_config_labels(tmp_path):
    cnn().save_pretrained(tmp_path)
    SerFeatureExtractor().save_pretrained(tmp_path)
    classifier = pipeline("audio-classification", model=str(tmp_path))
    result = classifier({"raw": tone(1.5), "sampling_rate": 16000}, top_k=None)
    assert sorted(r["label"] for r in result) == sorted(LABELS)
    assert abs(sum(r["score"] for r in result) - 1.0) < 1e-4


REMOTE_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.modules["ser_hf"] = None  # ser_hf is hidden: `import ser_hf` raises ImportError
    import numpy as np, torch
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification, pipeline
    folder = sys.argv[1]
    model = AutoModelForAudioClassification.from_pretrained(folder, trust_remote_code=True).eval()
    fe = AutoFeatureExtractor.from_pretrained(folder, trust_remote_code=True)
    x = np.load(sys.argv[2])
    inputs = fe(x, sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[0].tolist()
    result = pipeline("audio-classification", model=folder, trust_remote_code=True)({"raw": x, "sampling_rate": 16000})
    print(json.dumps({"module": type(model).__module__, "fe": type(fe).__name__, "logits": logits,
                      "labels": [r["label"] for r in result]}))
""")


def run_remote(folder, x, tmp_path) -> dict:
    np.save(tmp_path / "x.npy", x)
    script = tmp_path / "remote.py"
    script.write_text(REMOTE_SCRIPT)
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, str(script), str(folder), str(tmp_path / "x.npy")], capture_output=True,
                            text=True, env=env, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_cnn_loads_by_remote_code_without_ser_hf(tmp_path):
    folder = tmp_path / "cnn"
    model, fe = cnn(), SerFeatureExtractor(normalization="loudness")
    model.save_pretrained(folder)
    fe.save_pretrained(folder)
    x = tone(2.0)
    out = run_remote(folder, x, tmp_path)
    assert out["module"].startswith("transformers_modules") and out["fe"] == "SerFeatureExtractor"
    with torch.no_grad():
        expected = model(**fe(x, sampling_rate=16000, return_tensors="pt")).logits[0]
    np.testing.assert_allclose(out["logits"], expected.numpy(), atol=1e-5)
    assert set(out["labels"]) <= set(LABELS)


def test_whisper_backbone_loads_by_remote_code_without_ser_hf(tmp_path):
    from ser_hf.train.factory import backbone_feature_extractor

    folder = tmp_path / "whisper"
    model = tiny_backbone(tiny_whisper_config())
    fe = backbone_feature_extractor(model.config)
    model.save_pretrained(folder)
    fe.save_pretrained(folder)
    x = tone(2.0)
    out = run_remote(folder, x, tmp_path)
    assert out["module"].startswith("transformers_modules") and out["fe"] == "SerWhisperFeatureExtractor"
    with torch.no_grad():
        expected = model(**fe(x, sampling_rate=16000, return_tensors="pt")).logits[0]
    np.testing.assert_allclose(out["logits"], expected.numpy(), atol=1e-5)


def test_whisper_unpadded_clip_equals_the_clip_padded_with_its_mask():
    model = tiny_backbone(tiny_whisper_config())
    features = torch.randn(1, 80, 300)
    padded = torch.cat([features, torch.zeros(1, 80, 2700)], dim=-1)  # padded to 30 s
    mask = torch.cat([torch.ones(1, 300), torch.zeros(1, 2700)], dim=-1)
    other = torch.randn(1, 80, 3000)
    with torch.no_grad():
        alone = model(input_features=features).logits
        padded_logits = model(input_features=padded, attention_mask=mask).logits
        batched = model(input_features=torch.cat([padded, other]), attention_mask=torch.cat([mask, torch.ones(1, 3000)])).logits
    torch.testing.assert_close(padded_logits, alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(batched[:1], alone, atol=1e-5, rtol=0)


def test_whisper_freezing_options():
    config = tiny_whisper_config()
    frozen = tiny_backbone(config, freeze_encoder=True)
    assert not any(p.requires_grad for p in frozen.encoder.parameters())
    assert all(p.requires_grad for p in frozen.classifier.parameters()) and frozen.layer_weights.requires_grad
    partial = tiny_backbone(config, freeze_layers=1)
    assert not any(p.requires_grad for p in partial.encoder.layers[0].parameters())
    assert not partial.encoder.conv1.weight.requires_grad
    assert all(p.requires_grad for p in partial.encoder.layers[1].parameters())
    full = tiny_backbone(config)
    assert all(p.requires_grad for n, p in full.encoder.named_parameters() if "embed_positions" not in n)


def test_whisper_backbone_rejects_clips_longer_than_its_context():
    model = tiny_backbone(tiny_whisper_config())
    with pytest.raises(ValueError, match="longer than the encoder's 30 s context"):
        model(input_features=torch.randn(1, 80, 3100))


@pytest.mark.parametrize("model_type", ["wav2vec2", "hubert", "wavlm"])
def test_tiny_random_wav2vec2_family_forward_and_backward(model_type):
    from transformers import AutoConfig as HfAutoConfig

    encoder_config = HfAutoConfig.for_model(
        model_type, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, vocab_size=8)
    model = tiny_backbone(encoder_config.to_dict(), freeze_feature_encoder=True)
    model.train()
    assert model.main_input_name == "input_values"
    values = torch.randn(2, 8000)
    mask = torch.ones(2, 8000, dtype=torch.long)
    mask[1, 5000:] = 0
    out = model(input_values=values, attention_mask=mask, labels=torch.tensor([1, 3]))
    out.loss.backward()
    assert out.logits.shape == (2, 4)
    assert model.layer_weights.grad is not None and model.layer_weights.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.encoder.feature_extractor.parameters())  # frozen front end
    trained = [p for n, p in model.encoder.named_parameters() if "encoder.layers" in n and p.grad is not None]
    assert trained


def test_offline_hub_id_names_the_local_folder_option(monkeypatch):
    from ser_hf import SerError
    from ser_hf.train.factory import model_from_backbone

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SerError, match="pass a local folder"):
        model_from_backbone("facebook/wav2vec2-base-no-such-model", LABELS)


def test_unpadded_whisper_pass_equals_whisper_encoder_forward_on_3000_frames():
    # On the one input length transformers' WhisperEncoder.forward accepts (30 s), our unpadded, masked pass must
    # give its hidden states exactly: a cheap check against upstream changes.
    model = tiny_backbone(tiny_whisper_config())
    torch.manual_seed(1)
    features = torch.randn(2, 80, 3000)
    with torch.no_grad():
        ours, mask = model.adapter.hidden_states(model.encoder, features, None, training=False)
        upstream = model.encoder(features, output_hidden_states=True)
    assert mask.shape == (2, 1500) and bool(mask.all())
    torch.testing.assert_close(ours[-1], upstream.last_hidden_state, rtol=1e-5, atol=1e-5)
    assert upstream.hidden_states is not None and len(upstream.hidden_states) == len(ours)
    for mine, theirs in zip(ours[:-1], upstream.hidden_states[:-1]):  # the last is before the final layer norm
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-5)


def test_public_freezing_per_encoder_family():
    whisper = tiny_backbone(tiny_whisper_config())
    whisper.freeze_encoder_layers(1)
    frozen = {name for name, p in whisper.encoder.named_parameters() if not p.requires_grad}
    assert any(n.startswith("conv1.") for n in frozen) and any(n.startswith("layers.0.") for n in frozen)
    assert not any(n.startswith("layers.1.") for n in frozen)
    whisper.freeze_base_model()
    assert not any(p.requires_grad for p in whisper.encoder.parameters())
    assert all(p.requires_grad for p in whisper.classifier.parameters())


def test_spec_augment_masks_whisper_input_in_training_only():
    model = tiny_backbone(tiny_whisper_config(), spec_augment=True, num_freq_masks=3, mask_freq_width=20)
    features = torch.randn(2, 80, 300)
    with torch.no_grad():
        evaluation = [model(input_features=features).logits for _ in range(2)]
        model.train()
        torch.manual_seed(0)
        training = [model(input_features=features).logits for _ in range(2)]
    torch.testing.assert_close(evaluation[0], evaluation[1])
    assert not torch.allclose(training[0], training[1])  # random masks (and dropout) differ between passes


def test_spec_augment_zeroes_bands_within_each_clip():
    from types import SimpleNamespace

    from ser_hf.models.pooling import spec_augment

    config = SimpleNamespace(num_freq_masks=1, mask_freq_width=8, num_time_masks=1, mask_time_width=20)
    torch.manual_seed(3)
    features = torch.randn(3, 80, 200) + 10.0  # no zeros before masking
    original = features.clone()
    masked = spec_augment(features, torch.tensor([200, 150, 100]), config)
    assert torch.equal(features, original) and (masked == 0).any()  # the input is left as it was
    assert not (masked[2, :, 100:] == 0).all()  # time masks stay inside each clip's valid frames
