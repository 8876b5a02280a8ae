"""One small adapter per pretrained encoder family, so that the emotion head never asks which family it has.

An adapter builds the encoder from its config, runs it, and freezes parts of it, through public
transformers APIs only. Every adapter's :meth:`hidden_states` returns ``(states, mask)``: all hidden
layers ``[(batch, frames, hidden)] * (num_layers + 1)`` and the frame mask ``(batch, frames)`` (1 for real
frames). The encoder module itself stays the model's ``encoder`` attribute, so checkpoints keep their keys.
"""

from __future__ import annotations

import torch
from torch import nn

from .configuration_ser_backbone import WAV2VEC2_FAMILY
from .pooling import conv_output_lengths, kept_frames, lengths_to_mask


def _freeze(*modules: nn.Module) -> None:
    for module in modules:
        module.requires_grad_(False)


class WhisperAdapter:
    """Whisper's encoder, run on the unpadded clip.

    transformers' ``WhisperEncoder.forward`` insists on 3000 frames (30 s); padding a 3 s clip to 30 s costs
    about ten times the compute. This pass runs the encoder's own modules (conv1, conv2, the first
    ``frames / 2`` positional embeddings, the layers with an attention mask, the final layer norm) on the
    clip's own frames; on a 3000-frame input it equals ``WhisperEncoder.forward`` (tested).
    """

    input_name = "input_features"

    def build(self, encoder_config) -> nn.Module:
        from transformers.models.whisper.modeling_whisper import WhisperEncoder

        return WhisperEncoder(encoder_config)

    def hidden_size(self, encoder: nn.Module) -> int:
        return encoder.config.d_model

    def layers(self, encoder: nn.Module) -> nn.ModuleList:
        return encoder.layers

    def front_end(self, encoder: nn.Module) -> list[nn.Module]:
        """What comes before the layers: the two convolutions."""
        return [encoder.conv1, encoder.conv2]

    def freeze_feature_encoder(self, encoder: nn.Module) -> None:
        _freeze(encoder.conv1, encoder.conv2)

    def freeze_positions(self, encoder: nn.Module) -> None:
        """The sinusoidal positional embeddings are not learned."""
        _freeze(encoder.embed_positions)

    def hidden_states(self, encoder: nn.Module, features: torch.Tensor, attention_mask: torch.Tensor | None,
                      training: bool):
        """``features (batch, n_mels, frames)`` and a frame (or sample) mask -> ``(states, mask)``."""
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
            frames = kept_frames(lengths, frames)  # frames that are padding in every example are dropped
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
                "windows (ser_hf.scoring.score_waveform does)."
            )
        x = (x * mask[:, None, :]).transpose(1, 2) + positions[: x.shape[-1]]
        x = nn.functional.dropout(x, p=encoder.dropout, training=training)
        additive = (1.0 - mask)[:, None, None, :] * torch.finfo(x.dtype).min
        states = [x]
        for layer in encoder.layers:
            x = layer(x, attention_mask=additive)
            if isinstance(x, tuple):
                x = x[0]
            states.append(x)
        states[-1] = encoder.layer_norm(x)
        return states, mask


class Wav2Vec2Adapter:
    """wav2vec2, HuBERT, WavLM and the rest of the family, through ``AutoModel``: ``input_values (batch, samples)``."""

    input_name = "input_values"

    def build(self, encoder_config) -> nn.Module:
        from transformers import AutoModel

        return AutoModel.from_config(encoder_config)

    def hidden_size(self, encoder: nn.Module) -> int:
        return encoder.config.hidden_size

    def layers(self, encoder: nn.Module) -> nn.ModuleList:
        return encoder.encoder.layers

    def front_end(self, encoder: nn.Module) -> list[nn.Module]:
        """What comes before the layers: the CNN and its projection."""
        return [encoder.feature_extractor] + ([encoder.feature_projection] if hasattr(encoder, "feature_projection") else [])

    def freeze_feature_encoder(self, encoder: nn.Module) -> None:
        """The CNN over the waveform (what ``Wav2Vec2Model.freeze_feature_encoder`` freezes)."""
        _freeze(encoder.feature_extractor)

    def freeze_positions(self, encoder: nn.Module) -> None:
        """Positions are a learned convolution here: nothing to freeze."""

    def hidden_states(self, encoder: nn.Module, values: torch.Tensor, attention_mask: torch.Tensor | None,
                      training: bool):
        """``values (batch, samples)`` and a sample mask -> ``(states, mask)``; the frame mask follows the CNN's
        kernels and strides (``conv_kernel``, ``conv_stride`` of the config)."""
        states = list(encoder(values, attention_mask=attention_mask, output_hidden_states=True).hidden_states)
        frames = states[-1].shape[1]
        lengths = (attention_mask.sum(-1).long() if attention_mask is not None else
                   torch.full((values.shape[0],), values.shape[-1], dtype=torch.long, device=values.device))
        for kernel, stride in zip(encoder.config.conv_kernel, encoder.config.conv_stride):
            lengths = conv_output_lengths(lengths, kernel, stride, 0)
        return states, lengths_to_mask(lengths.clamp_max(frames), frames).to(states[-1].dtype)


def encoder_adapter(model_type: str) -> WhisperAdapter | Wav2Vec2Adapter:
    """The adapter of an encoder family, by the encoder config's ``model_type``."""
    if model_type == "whisper":
        return WhisperAdapter()
    if model_type in WAV2VEC2_FAMILY:
        return Wav2Vec2Adapter()
    raise ValueError(f"Unsupported encoder {model_type!r}; expected whisper or one of {', '.join(WAV2VEC2_FAMILY)}.")
