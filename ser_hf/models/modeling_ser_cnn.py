"""The compact CNN for speech emotion recognition, a ``transformers`` ``PreTrainedModel``."""

from __future__ import annotations

import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_ser_cnn import SerCnnConfig
from .pooling import (
    AttentiveStatisticsPooling,
    SerClassifierOutput,
    classification_loss,
    conv_output_lengths,
    init_layer,
    kept_frames,
    lengths_to_mask,
    spec_augment,
)


class SerCnnPreTrainedModel(PreTrainedModel):
    config_class = SerCnnConfig
    base_model_prefix = "ser_cnn"
    main_input_name = "input_features"
    supports_gradient_checkpointing = False

    def _init_weights(self, module: nn.Module) -> None:
        init_layer(module)


class SeparableBlock(nn.Module):
    """Residual block: depthwise conv over time (dilated) -> BN -> ReLU -> pointwise conv -> BN, + input."""

    def __init__(self, channels: int, kernel_size: int, dilation: int):
        super().__init__()
        self.depthwise = nn.Conv1d(channels, channels, kernel_size, padding=dilation * (kernel_size // 2),
                                   dilation=dilation, groups=channels, bias=False)
        self.norm1 = nn.BatchNorm1d(channels)
        self.pointwise = nn.Conv1d(channels, channels, 1, bias=False)
        self.norm2 = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.norm1(self.depthwise(x))) * mask
        y = self.norm2(self.pointwise(y))
        return torch.relu(x + y) * mask


class SerCnnForAudioClassification(SerCnnPreTrainedModel):
    """Compact CNN with attentive statistics pooling and a linear head.

    ``forward(input_features (batch, num_mel_bins, frames), attention_mask (batch, frames), labels (batch,))``
    returns a ``SerClassifierOutput`` with ``logits (batch, num_labels)``, ``embeddings (batch, 2 * hidden_size)``
    and, with labels, ``loss``.
    Padded frames are zeroed after every layer, so a clip gives the same logits alone or padded in a batch.
    """

    def __init__(self, config: SerCnnConfig):
        super().__init__(config)
        c1, c2 = config.stem_channels
        self.stem1 = nn.Sequential(nn.Conv2d(1, c1, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU())
        self.stem2 = nn.Sequential(nn.Conv2d(c1, c2, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c2), nn.ReLU())
        freq = (((config.num_mel_bins - 1) // 2 + 1) - 1) // 2 + 1  # mel bins after two stride-2 convolutions
        self.projection = nn.Sequential(nn.Conv1d(c2 * freq, config.hidden_size, 1, bias=False),
                                        nn.BatchNorm1d(config.hidden_size), nn.ReLU())
        dilations = [config.dilations[i % len(config.dilations)] for i in range(config.num_blocks)]
        self.blocks = nn.ModuleList(SeparableBlock(config.hidden_size, config.kernel_size, d) for d in dilations)
        self.pooling = AttentiveStatisticsPooling(config.hidden_size, config.attention_channels)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_features: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        **kwargs,
    ) -> SerClassifierOutput:
        if input_features.dim() != 3 or input_features.shape[1] != self.config.num_mel_bins:
            raise ValueError(
                f"Expected input_features of shape (batch, {self.config.num_mel_bins}, frames), got "
                f"{tuple(input_features.shape)}; check that the feature extractor matches the model."
            )
        batch, _, frames = input_features.shape
        if attention_mask is None:
            lengths = torch.full((batch,), frames, device=input_features.device, dtype=torch.long)
        else:
            lengths = attention_mask.sum(dim=-1).long()
            frames = kept_frames(lengths, frames)  # drop frames that are padding for every example
            input_features = input_features[:, :, :frames]
        if self.training and self.config.spec_augment:
            input_features = spec_augment(input_features, lengths, self.config)

        lengths1 = conv_output_lengths(lengths, 3, 2, 1)
        lengths2 = conv_output_lengths(lengths1, 3, 2, 1)
        x = input_features * lengths_to_mask(lengths, frames).to(input_features.dtype)[:, None, :]
        x = self.stem1(x[:, None])  # (batch, c1, mel / 2, frames / 2)
        x = x * lengths_to_mask(lengths1, x.shape[-1]).to(x.dtype)[:, None, None, :]
        x = self.stem2(x)  # (batch, c2, mel / 4, frames / 4)
        mask = lengths_to_mask(lengths2, x.shape[-1]).to(x.dtype)
        x = x * mask[:, None, None, :]
        x = x.flatten(1, 2)  # (batch, c2 * mel / 4, frames / 4)
        mask = mask[:, None, :]
        x = self.projection(x) * mask
        for block in self.blocks:
            x = block(x, mask)
        pooled = self.pooling(x, mask[:, 0])
        logits = self.classifier(self.dropout(pooled))
        loss = classification_loss(logits, labels, self.config) if labels is not None else None
        return SerClassifierOutput(loss=loss, logits=logits, embeddings=pooled)


SerCnnForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")
