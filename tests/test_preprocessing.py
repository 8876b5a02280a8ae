"""The signal chain with known answers."""

import numpy as np
import pyloudnorm
import pytest

from ser_hf import SerAudioError
from ser_hf.models.preprocessing import (
    integrated_loudness,
    normalize,
    pre_emphasis,
    preprocess,
    reduce_noise,
    remove_dc,
    rms_db,
    trim_silence,
)

SR = 16000


def tone(seconds=1.0, freq=440.0, amplitude=0.5):
    t = np.arange(int(seconds * SR)) / SR
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_dc_removal():
    x = tone() + 0.25
    assert abs(remove_dc(x).mean()) < 1e-6
    assert np.allclose(remove_dc(x), tone(), atol=1e-3)


@pytest.mark.parametrize("method, target, measure", [
    ("peak", -3.0, lambda y: 20 * np.log10(np.abs(y).max())),
    ("rms", -20.0, rms_db),
    ("loudness", -23.0, lambda y: pyloudnorm.Meter(SR).integrated_loudness(y.astype(np.float64))),
])
def test_normalization_reaches_its_target_within_half_a_db(method, target, measure):
    rng = np.random.default_rng(0)
    speechlike = tone(2.0, 220, 0.05) + 0.01 * rng.standard_normal(2 * SR).astype(np.float32)
    out = normalize(speechlike, SR, method, target)
    assert abs(measure(out) - target) < 0.5  # loudness checked with pyloudnorm, an independent meter


def test_our_loudness_meter_agrees_with_pyloudnorm():
    x = np.random.default_rng(1).standard_normal(3 * SR).astype(np.float32) * 0.1
    assert abs(integrated_loudness(x, SR) - pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64))) < 0.2


def test_trimming_removes_padded_silence_to_within_one_hop():
    speech = tone(1.0)
    padded = np.concatenate([np.zeros(SR // 2, np.float32), speech, np.zeros(int(0.7 * SR), np.float32)])
    trimmed = trim_silence(padded, SR, top_db=40)
    hop = SR // 100
    assert abs(len(trimmed) - len(speech)) <= hop
    start = int(np.argmax(np.abs(trimmed) > 1e-4))
    assert start <= hop


def test_trimming_leaves_silence_and_steady_sound_whole():
    assert len(trim_silence(np.zeros(SR, np.float32), SR)) == SR
    assert len(trim_silence(tone(), SR)) >= SR - 1  # only the exact zero at t = 0 may go


def test_noise_reduction_improves_snr():
    rng = np.random.default_rng(0)
    clean = tone(2.0, 300, 0.3) * (np.arange(2 * SR) % SR < SR // 2)  # on-off tone: frames of pure noise
    noise = 0.02 * rng.standard_normal(2 * SR).astype(np.float32)
    denoised = reduce_noise((clean + noise).astype(np.float32), SR)

    def snr(x):
        return 10 * np.log10(np.sum(clean**2) / np.sum((x - clean) ** 2))

    assert len(denoised) == len(clean)
    assert snr(denoised) > snr(clean + noise) + 6


def test_pre_emphasis_is_a_first_difference():
    x = np.array([1.0, 1.0, 1.0], np.float32)
    assert np.allclose(pre_emphasis(x, 0.97), [1.0, 0.03, 0.03])


def test_preprocess_rejects_bad_input_and_never_modifies_its_input():
    with pytest.raises(SerAudioError, match="empty"):
        preprocess(np.zeros(0, np.float32), SR)
    with pytest.raises(SerAudioError, match="NaN"):
        preprocess(np.array([0.1, np.nan], np.float32), SR)
    x = tone()
    before = x.copy()
    preprocess(x, SR, normalization="loudness", noise_reduction=True, pre_emphasis_coefficient=0.97)
    assert np.array_equal(x, before)
