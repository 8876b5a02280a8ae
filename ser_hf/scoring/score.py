"""The one path from a waveform to probabilities.

``ser-hf predict`` / :class:`~ser_hf.inference.EmotionRecognizer`, ``ser-hf evaluate`` and the Trainer's
evaluation all call :func:`score_waveform`, so a clip gets the same answer from each: audio up to
``window_s`` (plus half a hop) is scored whole; longer audio is cut into windows every ``hop_s`` seconds
(the last one flush with the end), each window with speech is scored, and the clip's probabilities are
the mean over those windows. Scores travel as log probabilities (:mod:`ser_hf.scoring.decision` turns them into an
answer). Windows without speech (:class:`~ser_hf.scoring.speech.SpeechGate`) are left
out; a clip without any has no probabilities ("no speech").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..models.pooling import FRAME_BUCKET
from .decision import safe_log, softmax
from .speech import SpeechGate, default_gate

WINDOW_S = 4.0
HOP_S = 2.0


def model_inputs(feature_extractor, waveform: np.ndarray, input_name: str, return_tensors: str = "pt") -> dict:
    """The model's inputs for one mono clip ``(samples,)`` at the extractor's rate: ``{input_name, "attention_mask"}``
    with a batch axis of 1, at the clip's own length for every extractor (``WhisperFeatureExtractor`` would
    otherwise pad to 30 s)."""
    from transformers import WhisperFeatureExtractor

    kwargs = {"sampling_rate": feature_extractor.sampling_rate, "return_tensors": return_tensors}
    if isinstance(feature_extractor, WhisperFeatureExtractor):
        kwargs.update(padding="longest", return_attention_mask=True)
    encoded = feature_extractor(waveform, **kwargs)
    return {key: encoded[key] for key in (input_name, "attention_mask") if key in encoded}


def batch_inputs(feature_extractor, waveforms: list[np.ndarray], input_name: str) -> dict[str, torch.Tensor]:
    """Featurize each clip on its own (so a clip's features never depend on its batch), then pad: ``{input_name:
    (batch, ..., frames), "attention_mask": (batch, frames)}``, zeros and 0 in the mask after each clip's end."""
    items = [np.asarray(model_inputs(feature_extractor, w, input_name, return_tensors="np")[input_name][0],
                        dtype=np.float32) for w in waveforms]
    longest = max(item.shape[-1] for item in items)
    batch = np.zeros((len(items),) + items[0].shape[:-1] + (longest,), dtype=np.float32)
    mask = np.zeros((len(items), longest), dtype=np.int64)
    for i, item in enumerate(items):
        batch[i, ..., : item.shape[-1]] = item
        mask[i, : item.shape[-1]] = 1
    return {input_name: torch.from_numpy(batch), "attention_mask": torch.from_numpy(mask)}


def bucketed(inputs: dict, input_name: str, bucket: int = FRAME_BUCKET) -> dict:
    """``inputs`` of one clip (:func:`model_inputs`) with the frames of ``input_name`` and ``attention_mask`` padded
    with zeros (masked) up to a multiple of ``bucket``, which the models keep (:data:`ser_hf.models.pooling.FRAME_BUCKET`:
    a bounded number of input shapes, so a bounded primitive cache in a server); unchanged without a frame-level mask."""
    features, mask = inputs[input_name], inputs.get("attention_mask")
    frames = features.shape[-1]
    if mask is None or mask.shape[-1] != frames or frames % bucket == 0:
        return inputs
    extra = bucket - frames % bucket
    return {**inputs, input_name: torch.nn.functional.pad(features, (0, extra)),
            "attention_mask": torch.nn.functional.pad(mask, (0, extra))}


@torch.inference_mode()
def clip_outputs(model, feature_extractor, waveform: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(logits (num_labels,), embedding (dims,) or None)`` of one mono clip ``(samples,)`` at the feature extractor's
    rate, in one pass (its frames bucketed where the model takes a mask); the embedding is the pooled clip the
    classifier reads (``None`` for a model or graph that does not return one)."""
    device = getattr(model, "device", torch.device("cpu"))  # a transformers model, or an OnnxModel (CPU)
    inputs = model_inputs(feature_extractor, waveform, model.main_input_name)
    if getattr(model, "takes_attention_mask", True):
        inputs = bucketed(inputs, model.main_input_name)
    output = model(**{k: v.to(device) for k, v in inputs.items()})
    embeddings = getattr(output, "embeddings", None)
    return (output.logits[0].float().cpu().numpy(),
            None if embeddings is None else embeddings[0].float().cpu().numpy())


def clip_logits(model, feature_extractor, waveform: np.ndarray) -> np.ndarray:
    """Logits ``(num_labels,)`` of one mono clip ``(samples,)`` (:func:`clip_outputs`)."""
    return clip_outputs(model, feature_extractor, waveform)[0]


def window_starts(num_samples: int, window: int, hop: int) -> list[int]:
    """Start samples of the windows over a clip; ``[0]`` when the clip is at most a window and half a hop."""
    if num_samples <= window + hop // 2:
        return [0]
    starts = list(range(0, num_samples - window + 1, hop))
    if starts[-1] + window < num_samples:
        starts.append(num_samples - window)
    return starts


def gated_pieces(waveform: np.ndarray, window: int, hop: int) -> list[tuple[int, np.ndarray]]:
    """``(start, samples)`` of what :func:`score_waveform` gates and scores: the whole clip, or each window."""
    starts = window_starts(len(waveform), window, hop)
    if len(starts) == 1:
        return [(0, waveform)]
    return [(start, waveform[start : start + window]) for start in starts]


@dataclass
class WindowScore:
    """One window of a long clip: ``start`` and ``end`` in seconds, ``log_probabilities (num_labels,)`` and
    ``embedding (dims,)`` (``None`` from a model that returns none)."""

    start: float
    end: float
    log_probabilities: np.ndarray
    embedding: np.ndarray | None = None

    @property
    def probabilities(self) -> np.ndarray:
        return np.exp(self.log_probabilities)


@dataclass
class ClipScore:
    """A clip's ``log_probabilities (num_labels,)``, ``None`` when no window has speech, and its ``windows``
    (empty when the clip was scored whole); ``embedding (dims,)``: the pooled clip the classifier reads (the mean over
    the windows with speech), ``None`` without speech or from a model that returns none."""

    log_probabilities: np.ndarray | None
    duration_s: float
    windows: list[WindowScore] = field(default_factory=list)
    embedding: np.ndarray | None = None

    @property
    def has_speech(self) -> bool:
        return self.log_probabilities is not None

    @property
    def probabilities(self) -> np.ndarray | None:
        return None if self.log_probabilities is None else np.exp(self.log_probabilities)


def temperature_of(model) -> float:
    """The model's calibration temperature (``config.calibration_temperature``; 1 when it has none)."""
    return float(getattr(model.config, "calibration_temperature", None) or 1.0)


def clip_log_probabilities(model, feature_extractor, waveform: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``(log probabilities (num_labels,), embedding (dims,) or None)`` of one clip in one pass: the logits divided by
    the calibration temperature (:func:`clip_outputs`)."""
    logits, embedding = clip_outputs(model, feature_extractor, waveform)
    return safe_log(softmax(logits, temperature_of(model))), embedding


def score_waveform(model, feature_extractor, waveform: np.ndarray, *, window_s: float = WINDOW_S,
                   hop_s: float = HOP_S, gate: SpeechGate | None = None) -> ClipScore:
    """Score one mono clip ``(samples,)`` at the feature extractor's rate (see the module docstring); each
    window's logits are divided by the model's calibration temperature before the softmax; the clip's probabilities
    are the mean of its windows'."""
    gate = gate or default_gate()
    rate = feature_extractor.sampling_rate
    window, hop = int(window_s * rate), int(hop_s * rate)
    pieces = gated_pieces(waveform, window, hop)
    duration = len(waveform) / rate
    if len(pieces) == 1:
        if not gate(waveform):
            return ClipScore(None, duration)
        log_probabilities, embedding = clip_log_probabilities(model, feature_extractor, waveform)
        return ClipScore(log_probabilities, duration, embedding=embedding)
    windows = []
    for start, piece in pieces:
        if gate(piece):
            log_probabilities, embedding = clip_log_probabilities(model, feature_extractor, piece)
            windows.append(WindowScore(round(start / rate, 3), round((start + window) / rate, 3), log_probabilities,
                                       embedding))
    overall = safe_log(np.mean([w.probabilities for w in windows], axis=0)) if windows else None
    embedding = np.mean([w.embedding for w in windows], axis=0) if windows and windows[0].embedding is not None else None
    return ClipScore(overall, duration, windows, embedding)
