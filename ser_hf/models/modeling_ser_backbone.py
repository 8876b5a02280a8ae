"""A pretrained speech encoder (Whisper or the wav2vec2 family) with an emotion head."""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, PreTrainedModel
from transformers import initialization as init

from .configuration_ser_backbone import SerBackboneConfig
from .encoders import encoder_adapter
from .pooling import AttentiveStatisticsPooling, SerClassifierOutput, classification_loss, init_layer, spec_augment


def encoder_config(config: SerBackboneConfig):
    """The encoder's own config from ``config.backbone_config``, without layer drop (a skipped layer would leave a
    hole in the weighted layer sum), and with SDPA attention for Whisper."""
    backbone = dict(config.backbone_config)
    model_type = backbone.pop("model_type", "whisper")
    if model_type == "whisper":
        backbone["attn_implementation"] = "sdpa"
    encoder = AutoConfig.for_model(model_type, **backbone)
    if hasattr(encoder, "layerdrop"):
        encoder.layerdrop = 0.0
    return encoder


class SerBackbonePreTrainedModel(PreTrainedModel):
    config_class = SerBackboneConfig
    base_model_prefix = "ser_backbone"
    main_input_name = "input_features"
    _no_split_modules = ["WhisperEncoderLayer", "Wav2Vec2EncoderLayer"]

    def _init_weights(self, module: nn.Module) -> None:
        if module is self.encoder or any(module is m for m in self.encoder.modules()):
            return  # the encoder's weights come from its own checkpoint
        if not init_layer(module) and isinstance(module, SerBackboneForAudioClassification):
            init.zeros_(module.layer_weights)


class SerBackboneForAudioClassification(SerBackbonePreTrainedModel):
    """Pretrained encoder -> weighted sum of its hidden layers -> 1-D conv -> attentive statistics pooling -> linear.

    Whisper: ``forward(input_features (batch, 80, frames), attention_mask (batch, frames))``, the log-mel of
    ``WhisperFeatureExtractor``, run unpadded (:class:`~ser_hf.models.encoders.WhisperAdapter`).
    wav2vec2 family: ``forward(input_values (batch, samples), attention_mask (batch, samples))``.
    Returns a ``SerClassifierOutput`` with ``logits (batch, num_labels)``, ``embeddings (batch, 2 * conv_channels)``
    and, with labels, ``loss``.
    """

    def __init__(self, config: SerBackboneConfig):
        super().__init__(config)
        self.adapter = encoder_adapter(config.backbone_type)
        self.main_input_name = self.adapter.input_name
        self.encoder = self.adapter.build(encoder_config(config))
        num_layers = len(self.adapter.layers(self.encoder))
        self.layer_weights = nn.Parameter(torch.zeros(num_layers + 1))
        self.head_conv = nn.Conv1d(self.adapter.hidden_size(self.encoder), config.conv_channels,
                                   config.conv_kernel_size, padding=config.conv_kernel_size // 2)
        self.head_norm = nn.BatchNorm1d(config.conv_channels)
        self.pooling = AttentiveStatisticsPooling(config.conv_channels, config.attention_channels)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * config.conv_channels, config.num_labels)
        self.post_init()
        self.apply_freezing()

    # --- freezing -----------------------------------------------------------------------------------

    def freeze_base_model(self) -> None:
        """Train the head only: no gradient flows into the encoder."""
        self.encoder.requires_grad_(False)

    def freeze_feature_encoder(self) -> None:
        """Freeze the encoder's front end (Whisper's two convolutions; the wav2vec2 CNN and its projection)."""
        self.adapter.freeze_feature_encoder(self.encoder)

    def freeze_encoder_layers(self, num_layers: int) -> None:
        """Freeze what comes before the encoder layers and the first ``num_layers`` of them."""
        for module in self.adapter.front_end(self.encoder) + list(self.adapter.layers(self.encoder)[:num_layers]):
            module.requires_grad_(False)

    def apply_freezing(self) -> None:
        """Set what trains from the config: ``freeze_encoder``, ``freeze_layers``, ``freeze_feature_encoder``."""
        cfg = self.config
        self.encoder.requires_grad_(not cfg.freeze_encoder)
        if cfg.freeze_encoder:
            return
        if cfg.freeze_layers > 0:
            self.freeze_encoder_layers(cfg.freeze_layers)
        if cfg.freeze_feature_encoder and cfg.backbone_type != "whisper":
            self.freeze_feature_encoder()
        self.adapter.freeze_positions(self.encoder)

    # --- forward ------------------------------------------------------------------------------------

    def hidden_states(self, inputs: torch.Tensor, attention_mask: torch.Tensor | None = None):
        """All hidden layers ``[(batch, frames, hidden)] * (num_layers + 1)`` and the frame mask ``(batch, frames)``."""
        if self.config.freeze_encoder:
            with torch.no_grad():
                return self.adapter.hidden_states(self.encoder, inputs, attention_mask, self.training)
        return self.adapter.hidden_states(self.encoder, inputs, attention_mask, self.training)

    def forward(
        self,
        input_features: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        input_values: torch.Tensor | None = None,
        **kwargs,
    ) -> SerClassifierOutput:
        inputs = input_features if self.main_input_name == "input_features" else input_values
        if inputs is None:
            raise ValueError(f"This {self.config.backbone_type} model expects `{self.main_input_name}`.")
        if self.training and self.config.spec_augment and inputs.dim() == 3:  # log-mel input (Whisper)
            lengths = (attention_mask.sum(-1) if attention_mask is not None and attention_mask.shape[-1] == inputs.shape[-1]
                       else torch.full((inputs.shape[0],), inputs.shape[-1], device=inputs.device))
            inputs = spec_augment(inputs, lengths, self.config)
        states, mask = self.hidden_states(inputs, attention_mask)
        if self.config.use_weighted_layer_sum:
            weights = torch.softmax(self.layer_weights, dim=0)
            hidden = (torch.stack(states, dim=0) * weights[:, None, None, None]).sum(dim=0)
        else:
            hidden = states[-1]
        x = hidden.transpose(1, 2) * mask[:, None, :]  # (batch, hidden, frames)
        x = torch.relu(self.head_norm(self.head_conv(x))) * mask[:, None, :]
        pooled = self.pooling(x, mask)
        logits = self.classifier(self.dropout(pooled))
        loss = classification_loss(logits, labels, self.config) if labels is not None else None
        return SerClassifierOutput(loss=loss, logits=logits, embeddings=pooled)


SerBackboneForAudioClassification.register_for_auto_class("AutoModelForAudioClassification")
