"""SerFeatureExtractor: known answers, input forms, save/load, errors, caching."""

import numpy as np
import pytest
import torch
from transformers import AutoFeatureExtractor

import ser_hf  # noqa: F401  (registers the classes)
from ser_hf import SerAudioError
from ser_hf.models.feature_extraction_ser import SerFeatureExtractor

SR = 16000


def tone(seconds=1.0, freq=1000.0, amplitude=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_a_1khz_tone_peaks_in_the_mel_bin_containing_1khz():
    fe = SerFeatureExtractor(normalize_per_utterance=False, trim=False)
    features = fe(tone(), sampling_rate=SR, return_tensors="np")["input_features"][0]  # (64, frames)
    peak_bin = int(np.argmax(features.mean(axis=1)))
    # the filter with the largest weight at the FFT bin of 1 kHz
    expected = int(np.argmax(fe.mel_filters[round(1000 * fe.n_fft / SR)]))
    assert peak_bin == expected
    assert features.shape == (64, 101)


def test_shapes_for_each_feature_type():
    x = tone(3.0, 300)
    assert SerFeatureExtractor(trim=False)(x, return_tensors="np")["input_features"].shape == (1, 64, 301)
    mfcc = SerFeatureExtractor(feature_type="mfcc", n_mfcc=20, mfcc_deltas=2, trim=False)
    assert mfcc.feature_size == 60 and mfcc(x, return_tensors="np")["input_features"].shape == (1, 60, 301)
    assert SerFeatureExtractor(feature_type="spectrogram", trim=False)(x, return_tensors="np")["input_features"].shape == (1, 257, 301)


def test_list_ndarray_and_batch_inputs_give_equal_features():
    fe = SerFeatureExtractor()
    a, b = tone(1.0, 300), tone(1.0, 500)
    single = fe(a, return_tensors="np")["input_features"][0]
    from_list = fe(a.tolist(), return_tensors="np")["input_features"][0]
    batch_list = fe([a, b], return_tensors="np")["input_features"]
    batch_array = fe(np.stack([a, b]), return_tensors="np")["input_features"]
    from_tensor = fe(torch.from_numpy(a), return_tensors="pt")["input_features"][0].numpy()
    for other in (from_list, batch_list[0], batch_array[0], from_tensor):
        np.testing.assert_allclose(single, other, atol=1e-6)


def test_padding_never_leaks_into_an_utterance_and_the_mask_marks_real_frames():
    fe = SerFeatureExtractor(trim=False)
    short, long = tone(1.0, 300), tone(2.5, 500)
    batch = fe([short, long], return_tensors="np")
    alone = fe(short, return_tensors="np")["input_features"][0]
    assert batch["input_features"].shape == (2, 64, 251)
    assert batch["attention_mask"].sum(axis=1).tolist() == [101, 251]
    np.testing.assert_allclose(batch["input_features"][0, :, :101], alone, atol=1e-6)
    assert np.all(batch["input_features"][0, :, 101:] == 0.0)
    valid = batch["input_features"][1]
    np.testing.assert_allclose(valid.mean(axis=1), 0, atol=1e-4)  # normalized over valid frames


def test_max_length_padding_and_truncation():
    fe = SerFeatureExtractor(trim=False)
    x = tone(2.0, 300)
    padded = fe(x, padding="max_length", max_length=3 * SR, return_tensors="np")
    assert padded["input_features"].shape == (1, 64, 301) and padded["attention_mask"].sum() == 201
    cut = fe(x, truncation=True, max_length=SR, return_tensors="np")
    assert cut["input_features"].shape == (1, 64, 101)


def test_save_and_reload_through_auto_feature_extractor(tmp_path):
    fe = SerFeatureExtractor(feature_type="mfcc", mfcc_deltas=1, normalization="loudness", trim_top_db=30)
    fe.save_pretrained(tmp_path)
    assert (tmp_path / "preprocessor_config.json").is_file()
    loaded = AutoFeatureExtractor.from_pretrained(tmp_path)
    assert type(loaded) is SerFeatureExtractor
    assert loaded.to_dict() == fe.to_dict()
    x = tone(1.5, 250)
    np.testing.assert_array_equal(fe(x, return_tensors="np")["input_features"],
                                  loaded(x, return_tensors="np")["input_features"])


def test_wrong_sampling_rate_names_both_rates_and_the_fix():
    with pytest.raises(ValueError, match=r"44100 Hz .* expects 16000 Hz; resample"):
        SerFeatureExtractor()(tone(), sampling_rate=44100)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((16000, 2), np.float32), "mono"),
    (np.zeros((2, 3, 16000), np.float32), "mono"),
    ([np.zeros((2, 100), np.float32)], "mono"),
    (np.zeros(0, np.float32), "empty"),
    (np.array([0.1, np.nan, 0.2] * 1000, np.float32), "NaN or infinite"),
    (np.array([0.1, np.inf, 0.2] * 1000, np.float32), "NaN or infinite"),
    ([], "empty list"),
])
def test_bad_input_raises_value_error(bad, message):
    with pytest.raises(ValueError, match=message) as info:
        SerFeatureExtractor()(bad, sampling_rate=SR)
    assert isinstance(info.value, SerAudioError)


def test_silence_and_very_short_clips_give_finite_features():
    fe = SerFeatureExtractor()
    for clip in (np.zeros(SR, np.float32), tone(0.01)):
        features = fe(clip, return_tensors="np")["input_features"]
        assert np.all(np.isfinite(features))


def test_feature_cache_reuses_the_first_run(tmp_path, audio_writer, monkeypatch):
    from ser_hf.data import load_corpus
    from ser_hf.train.cache import cache_features

    for i, name in enumerate(["1001_DFA_ANG_XX", "1001_DFA_SAD_XX", "1002_DFA_HAP_XX"]):
        audio_writer(tmp_path / "crema" / "AudioWAV" / f"{name}.wav", seconds=1.0 + 0.5 * i)
    dataset = load_corpus("crema_d", tmp_path / "crema")
    fe = SerFeatureExtractor(trim=False)
    first = cache_features(dataset, fe, cache_dir=tmp_path / "cache")
    assert first["num_frames"] == [101, 151, 201]
    assert np.asarray(first[0]["input_features"]).shape == (64, 101)

    calls = []
    original = SerFeatureExtractor.__call__
    monkeypatch.setattr(SerFeatureExtractor, "__call__", lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    second = cache_features(dataset, fe, cache_dir=tmp_path / "cache")
    assert calls == [] and second.cache_files == first.cache_files
    np.testing.assert_array_equal(np.asarray(second[2]["input_features"]), np.asarray(first[2]["input_features"]))

    third = cache_features(dataset, SerFeatureExtractor(trim=False, num_mel_bins=40), cache_dir=tmp_path / "cache")
    assert calls and third.cache_files != first.cache_files  # another configuration, another cache


def test_the_cache_is_keyed_by_the_columns_too(tmp_path, audio_writer):
    # A new column, or a row's value in one, must not be answered from a copy cached before it existed.
    import datasets

    from ser_hf.train.cache import dataset_fingerprint

    paths = [str(audio_writer(tmp_path / f"{i}.wav")) for i in range(2)]
    base = datasets.Dataset.from_dict({"path": paths, "speaker": ["a", "b"]})
    first = dataset_fingerprint(base, {})
    assert dataset_fingerprint(base, {}) == first
    assert dataset_fingerprint(base.add_column("perceived", ["", ""]), {}) != first
    assert dataset_fingerprint(datasets.Dataset.from_dict({"path": paths, "speaker": ["a", "c"]}), {}) != first
    assert dataset_fingerprint(base, {"max_samples": 1}) != first
