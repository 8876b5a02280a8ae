"""A pretrained speech encoder (Whisper or the wav2vec2 family) with an emotion head."""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers import initialization as init
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_ser_backbone import SerBackboneConfig
from .pooling import AttentiveStatisticsPooling, classification_loss, conv_output_lengths, init_layer, lengths_to_mask


def build_encoder(config: SerBackboneConfig) -> nn.Module:
    """An encoder with random weights from ``config.backbone_config`` (weights are loaded afterwards)."""
    backbone = dict(config.backbone_config)
    model_type = backbone.pop("model_type", "whisper")
    encoder_config = AutoConfig.for_model(model_type, **backbone)
    if hasattr(encoder_config, "layerdrop"):
        encoder_config.layerdrop = 0.0  # a skipped layer would leave a hole in the weighted layer sum
    if model_type == "whisper":
        from transformers.models.whisper.modeling_whisper import WhisperEncoder

        encoder_config._attn_implementation = "sdpa"
        return WhisperEncoder(encoder_config)
    return AutoModel.from_config(encoder_config)


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
    ``WhisperFeatureExtractor``, run unpadded: only the first ``frames / 2`` positional embeddings are used,
    and frames that are padding in every example are dropped first (no padding to 30 s).
    wav2vec2 family: ``forward(input_values (batch, samples), attention_mask (batch, samples))``.
    Returns a ``SequenceClassifierOutput`` with ``logits (batch, num_labels)`` and, with labels, ``loss``.
    """

    def __init__(self, config: SerBackboneConfig):
        super().__init__(config)
        self.is_whisper = config.backbone_type == "whisper"
        self.main_input_name = "input_features" if self.is_whisper else "input_values"
        self.encoder = build_encoder(config)
        encoder_config = self.encoder.config
        hidden = encoder_config.d_model if self.is_whisper else encoder_config.hidden_size
        num_layers = encoder_config.encoder_layers if self.is_whisper else encoder_config.num_hidden_layers
        self.layer_weights = nn.Parameter(torch.zeros(num_layers + 1))
        self.head_conv = nn.Conv1d(hidden, config.conv_channels, config.conv_kernel_size,
                                   padding=config.conv_kernel_size // 2)
        self.head_norm = nn.BatchNorm1d(config.conv_channels)
        self.pooling = AttentiveStatisticsPooling(config.conv_channels, config.attention_channels)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(2 * config.conv_channels, config.num_labels)
        self.post_init()
        self.apply_freezing()

    # --- freezing -----------------------------------------------------------------------------------

    def apply_freezing(self) -> None:
        """Set ``requires_grad`` from the config: the whole encoder, its first N layers, the wav2vec2 front end."""
        cfg = self.config
        for param in self.encoder.parameters():
            param.requires_grad = not cfg.freeze_encoder
        if cfg.freeze_encoder:
            return
        layers = self.encoder.layers if self.is_whisper else self.encoder.encoder.layers
        if cfg.freeze_layers > 0:
            front = [self.encoder.conv1, self.encoder.conv2] if self.is_whisper else [self.encoder.feature_extractor]
            if not self.is_whisper and hasattr(self.encoder, "feature_projection"):
                front.append(self.encoder.feature_projection)
            for module in front + list(layers[: cfg.freeze_layers]):
                for param in module.parameters():
                    param.requires_grad = False
        if not self.is_whisper and cfg.freeze_feature_encoder:
            self.encoder.feature_extractor._freeze_parameters()  # what wav2vec2's freeze_feature_encoder does
        if self.is_whisper:
            self.encoder.embed_positions.requires_grad_(False)

    # --- encoder passes -----------------------------------------------------------------------------

    def _whisper_hidden_states(self, features: torch.Tensor, attention_mask: torch.Tensor | None):
        encoder = self.encoder
        batch, _, frames = features.shape
        if attention_mask is None:
            lengths = torch.full((batch,), frames, dtype=torch.long, device=features.device)
        else:
            lengths = attention_mask.sum(-1).long()
            if attention_mask.shape[-1] > frames:
                # A sample-level mask: WhisperFeatureExtractor rescales its mask to frames only when
                # return_attention_mask is passed to the call, not when it is set in its config.
                hop = attention_mask.shape[-1] // frames
                lengths = torch.div(lengths + hop - 1, hop, rounding_mode="floor").clamp_max(frames)
            frames = max(1, int(lengths.max()))
            features = features[:, :, :frames]
        mask = lengths_to_mask(lengths, frames).to(features.dtype)[:, None, :]
        x = nn.functional.gelu(encoder.conv1(features * mask)) * mask
        x = nn.functional.gelu(encoder.conv2(x))
        lengths = conv_output_lengths(lengths, 3, 2, 1)
        mask = lengths_to_mask(lengths, x.shape[-1]).to(x.dtype)
        positions = encoder.embed_positions.weight
        if x.shape[-1] > positions.shape[0]:
            raise ValueError(
                f"The clip is longer than the encoder's {positions.shape[0] * 2 // 100} s context; cut it into "
                "windows (EmotionRecognizer.predict does)."
            )
        x = (x * mask[:, None, :]).transpose(1, 2) + positions[: x.shape[-1]]
        x = nn.functional.dropout(x, p=encoder.dropout, training=self.training)
        additive = (1.0 - mask)[:, None, None, :] * torch.finfo(x.dtype).min
        states = [x]
        for layer in encoder.layers:
            x = layer(x, attention_mask=additive)
            if isinstance(x, tuple):
                x = x[0]
            states.append(x)
        states[-1] = encoder.layer_norm(x)
        return states, mask

    def _wav2vec2_hidden_states(self, values: torch.Tensor, attention_mask: torch.Tensor | None):
        outputs = self.encoder(values, attention_mask=attention_mask, output_hidden_states=True)
        states = list(outputs.hidden_states)
        frames = states[-1].shape[1]
        if attention_mask is None:
            mask = torch.ones(values.shape[0], frames, dtype=states[-1].dtype, device=values.device)
        else:
            mask = self.encoder._get_feature_vector_attention_mask(frames, attention_mask).to(states[-1].dtype)
        return states, mask

    def hidden_states(self, inputs: torch.Tensor, attention_mask: torch.Tensor | None = None):
        """All hidden layers ``[(batch, frames, hidden)] * (num_layers + 1)`` and the frame mask ``(batch, frames)``."""
        run = self._whisper_hidden_states if self.is_whisper else self._wav2vec2_hidden_states
        if self.config.freeze_encoder:
            with torch.no_grad():
                return run(inputs, attention_mask)
        return run(inputs, attention_mask)

    def forward(
        self,
        input_features: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        input_values: torch.Tensor | None = None,
        **kwargs,
    ) -> SequenceClassifierOutput:
        inputs = input_features if self.is_whisper else input_values
        if inputs is None:
            raise ValueError(f"This {self.config.backbone_type} model expects `{self.main_input_name}`.")
        states, mask = self.hidden_states(inputs, attention_mask)
        if self.config.use_weighted_layer_sum:
            weights = torch.softmax(self.layer_weights, dim=0)
            hidden = (torch.stack(states, dim=0) * weights[:, None, None, None]).sum(dim=0)
        else:
            hidden = states[-1]
        x = hidden.transpose(1, 2) * mask[:, None, :]  # (batch, hidden, frames)
        x = torch.relu(self.head_norm(self.head_conv(x))) * mask[:, None, :]
        logits = self.classifier(self.dropout(self.pooling(x, mask)))
        loss = classification_loss(logits, labels, self.config) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)
