"""Frozen-encoder probes: utterance statistics of every layer of a pretrained encoder, and a linear classifier on them.

A cheap stand-in for training a model, to screen data and design choices in minutes: the statistics are computed once
(and cached), then each choice is a logistic regression. ``recipes/scripts/calm_probe.py`` and
``recipes/scripts/loco_screen.py`` use them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..scoring.session_head import standardize_by_group  # noqa: F401 (the probes' speaker normalization)


def encoder_statistics(paths: Sequence[str], backbone: str = "whisper-tiny.en", max_duration_s: float = 6.0,
                       cache: str | os.PathLike | None = None, progress: bool = True) -> np.ndarray:
    """``(clips, 2 * (layers + 1) * hidden)``: the mean and standard deviation over frames of every hidden layer of the
    frozen ``backbone`` (its embeddings included), for the first ``max_duration_s`` of each clip. With ``cache`` (a
    folder), the result is saved there under a key of the paths, backbone and duration, and read back next time."""
    import torch
    from tqdm.auto import tqdm

    from ..data.audio_files import load_audio
    from ..scoring.score import model_inputs
    from .factory import model_from_backbone

    key = hashlib.sha1("\n".join([backbone, str(max_duration_s), *map(str, paths)]).encode()).hexdigest()[:16]
    cached = Path(cache) / f"statistics_{key}.npy" if cache else None
    if cached is not None and cached.is_file():
        return np.load(cached)
    model, feature_extractor = model_from_backbone(backbone, ["a", "b"], freeze_encoder=True)
    model.eval()
    rows = []
    for path in tqdm(paths, desc=f"frozen {backbone} statistics", disable=not progress):
        wave = load_audio(path, feature_extractor.sampling_rate)[: int(max_duration_s * feature_extractor.sampling_rate)]
        inputs = model_inputs(feature_extractor, wave, model.main_input_name)
        with torch.no_grad():
            states, mask = model.hidden_states(inputs[model.main_input_name], inputs.get("attention_mask"))
        frames = mask[0].bool() if mask is not None else slice(None)
        rows.append(np.concatenate([torch.cat([s[0][frames].mean(0), s[0][frames].std(0)]).numpy() for s in states]))
    statistics = np.stack(rows).astype(np.float32)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        np.save(cached, statistics)
    return statistics


def fit_probe(x: np.ndarray, y: np.ndarray, c: float = 0.01, sample_weight: np.ndarray | None = None):
    """A standardized logistic regression (``C = c``, classes balanced unless ``sample_weight`` is given) on ``x
    (clips, dims)`` and labels ``y (clips,)``: an sklearn pipeline with ``predict`` and ``predict_proba``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipeline = make_pipeline(StandardScaler(), LogisticRegression(
        C=c, max_iter=2000, class_weight=None if sample_weight is not None else "balanced"))
    return pipeline.fit(x, y, logisticregression__sample_weight=sample_weight)
