"""Frozen-encoder probes: the statistics' shape and cache, per-group standardization, the probe itself."""

import numpy as np
import pytest
import soundfile as sf

from ser_hf.train.probe import encoder_statistics, fit_probe, standardize_by_group
from tests.conftest import voice


def test_encoder_statistics_have_every_layers_mean_and_std_and_are_cached(tmp_path):
    paths = []
    for i, seconds in enumerate((1.0, 2.5)):
        paths.append(str(tmp_path / f"clip{i}.wav"))
        sf.write(paths[-1], voice(seconds, seed=i), 16000)
    stats = encoder_statistics(paths, cache=tmp_path / "cache", progress=False)
    assert stats.shape == (2, 2 * 5 * 384) and np.isfinite(stats).all()  # tiny.en: embeddings + 4 layers, 384 wide
    assert not np.allclose(stats[0], stats[1])
    (cached,) = (tmp_path / "cache").iterdir()
    np.save(cached, np.zeros_like(stats))  # read back, not recomputed
    assert not encoder_statistics(paths, cache=tmp_path / "cache", progress=False).any()
    assert encoder_statistics(paths[:1], cache=tmp_path / "cache", progress=False).shape == (1, 3840)  # another key


def test_standardize_by_group_removes_each_groups_offset_and_scale():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3))
    groups = np.repeat(["a", "b"], 20)
    shifted = base.copy()
    shifted[20:] = shifted[20:] * 3.0 + 10.0  # speaker b: another level and spread
    out = standardize_by_group(shifted, groups)
    np.testing.assert_allclose(out[:20], standardize_by_group(base, groups)[:20])
    np.testing.assert_allclose(out[20:], standardize_by_group(base, groups)[20:], atol=1e-9)
    np.testing.assert_allclose(out[groups == "b"].mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(out[groups == "b"].std(axis=0), 1, atol=1e-9)
    single = standardize_by_group(np.array([[1.0, 2.0], [3.0, 5.0]]), ["x", "y"])
    assert not single.any()  # one clip: centred only


@pytest.mark.parametrize("weighted", [False, True])
def test_fit_probe_separates_separable_classes(weighted):
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1, 2], 30)
    x = rng.normal(size=(90, 5)) + 4.0 * np.eye(3, 5)[y]
    model = fit_probe(x, y, c=1.0, sample_weight=np.ones(90) if weighted else None)
    assert (model.predict(x) == y).mean() > 0.95 and model.predict_proba(x).shape == (90, 3)
