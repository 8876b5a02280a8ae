"""Masked pooling over time and mask helpers shared by both model families.

Masks are ``(batch, frames)`` with 1 for real frames and 0 for padding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput


@dataclass
class SerClassifierOutput(SequenceClassifierOutput):
    """A ``SequenceClassifierOutput`` with ``embeddings (batch, dims)``: the pooled clip the classifier reads (what
    session mode standardizes per speaker)."""

    embeddings: torch.FloatTensor | None = None


def conv_output_lengths(lengths: torch.Tensor, kernel_size: int, stride: int, padding: int, dilation: int = 1) -> torch.Tensor:
    """Valid output frames of a convolution for inputs of ``lengths`` valid frames."""
    return torch.div(lengths + 2 * padding - dilation * (kernel_size - 1) - 1, stride, rounding_mode="floor") + 1


# Frames kept after the longest example's end, up to a multiple of this (where the input has them): CPU kernels keep a
# primitive cache entry per input shape (oneDNN), so a server that meets every clip length would grow with each new
# one; in buckets there are a few dozen shapes. The frames past each example's end are masked as before.
FRAME_BUCKET = 32


def kept_frames(lengths: torch.Tensor, frames: int, bucket: int = FRAME_BUCKET) -> int:
    """The frames to keep of an input of ``frames``: the longest of ``lengths (batch,)``, rounded up to ``bucket``,
    at most ``frames``."""
    longest = max(1, int(lengths.max()))
    return min(frames, -(-longest // bucket) * bucket)


def lengths_to_mask(lengths: torch.Tensor, max_length: int) -> torch.Tensor:
    """``(batch,)`` lengths -> ``(batch, max_length)`` float mask."""
    positions = torch.arange(max_length, device=lengths.device)
    return (positions[None, :] < lengths[:, None]).to(torch.float32)


class AttentiveStatisticsPooling(nn.Module):
    """Attentive statistics pooling (Okabe et al., 2018) with channel-wise attention, over valid frames only.

    ``hidden_states (batch, channels, frames)`` and ``mask (batch, frames)`` -> ``(batch, 2 * channels)``:
    the attention-weighted mean and standard deviation of each channel.
    """

    def __init__(self, channels: int, attention_channels: int = 128):
        super().__init__()
        self.attention = nn.Sequential(
            nn.Conv1d(channels, attention_channels, kernel_size=1),
            nn.Tanh(),
            nn.Conv1d(attention_channels, channels, kernel_size=1),
        )

    def forward(self, hidden_states: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        scores = self.attention(hidden_states)  # (batch, channels, frames)
        if mask is not None:
            scores = scores.masked_fill(mask[:, None, :] <= 0, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1)
        mean = (weights * hidden_states).sum(dim=-1)
        variance = (weights * hidden_states.square()).sum(dim=-1) - mean.square()
        std = variance.clamp_min(1e-6).sqrt()
        return torch.cat([mean, std], dim=-1)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor, config) -> torch.Tensor:
    """Cross-entropy with the config's optional ``class_weights`` and ``label_smoothing``."""
    weight = None
    if getattr(config, "class_weights", None):
        weight = torch.tensor(config.class_weights, dtype=logits.dtype, device=logits.device)
    return nn.functional.cross_entropy(logits, labels, weight=weight, label_smoothing=getattr(config, "label_smoothing", 0.0))


def init_layer(module: nn.Module) -> bool:
    """He init for convolutions, Xavier for linear layers, identity for batch norm; True if ``module`` was one."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            init.zeros_(module.bias)
    elif isinstance(module, nn.Linear):
        init.xavier_uniform_(module.weight)
        init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        init.ones_(module.weight)
        init.zeros_(module.bias)
        if getattr(module, "running_mean", None) is not None:
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)
    else:
        return False
    return True


def spec_augment(features: torch.Tensor, lengths: torch.Tensor, config) -> torch.Tensor:
    """SpecAugment: zero ``config.num_freq_masks`` random frequency bands (up to ``mask_freq_width`` bins) and
    ``num_time_masks`` time bands (up to ``mask_time_width`` frames, at most a fifth of the clip) of each example
    of ``features (batch, bins, frames)``; training only."""
    features = features.clone()
    batch, n_freq, _ = features.shape
    for i in range(batch):
        for _ in range(config.num_freq_masks):
            width = int(torch.randint(0, config.mask_freq_width + 1, ()))
            start = int(torch.randint(0, max(1, n_freq - width), ()))
            features[i, start : start + width, :] = 0.0
        valid = int(lengths[i])
        for _ in range(config.num_time_masks):
            width = int(torch.randint(0, min(config.mask_time_width, max(1, valid // 5)) + 1, ()))
            start = int(torch.randint(0, max(1, valid - width), ()))
            features[i, :, start : start + width] = 0.0
    return features
