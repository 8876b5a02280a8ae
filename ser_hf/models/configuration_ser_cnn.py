"""Configuration of the compact CNN (``model_type = "ser_cnn"``)."""

from __future__ import annotations

from transformers import PretrainedConfig


class SerCnnConfig(PretrainedConfig):
    r"""Configuration of [`SerCnnForAudioClassification`], a compact CNN over log-mel features.

    The network: two strided 2-D convolution blocks over (mel, time) that divide both axes by 4, a 1x1
    projection of (channels x mel) to `hidden_size` channels, `num_blocks` residual depthwise-separable
    1-D convolution blocks over time, masked attentive statistics pooling, dropout and a linear head.

    Args:
        num_mel_bins (`int`, defaults to 64): feature size of the input (`input_features` is
            `(batch, num_mel_bins, frames)`); must match the feature extractor.
        stem_channels (`list[int]`, defaults to `[32, 64]`): channels of the two strided 2-D blocks.
        hidden_size (`int`, defaults to 256): channels of the 1-D blocks.
        num_blocks (`int`, defaults to 4): residual 1-D blocks.
        kernel_size (`int`, defaults to 5): kernel of the depthwise convolutions over time.
        dilations (`list[int]`, defaults to `[1, 2, 4, 1]`): dilation of each block (cycled), widening the
            receptive field to about 1.5 s at no extra cost.
        attention_channels (`int`, defaults to 128): bottleneck of the pooling attention.
        dropout (`float`, defaults to 0.3): dropout before the classifier.
        label_smoothing (`float`, defaults to 0.0): label smoothing of the cross-entropy loss.
        class_weights (`list[float]`, *optional*): per-class weights of the loss (class imbalance).
        calibration_temperature (`float`, defaults to 1.0): the logits are divided by it before the softmax in every
            scoring path; fitted on validation speakers after training (temperature scaling). Not named
            `temperature`: transformers reserves that name for generation.
        adaptation_prior / adaptation_neutral_prior (`list[float]`, *optional*): the mean log probabilities over
            the validation speakers (all clips / neutral ones), where speaker adaptation starts from
            (:mod:`ser_hf.scoring.adaptation`); stored as extra config fields.
        spec_augment (`bool`, defaults to `False`): SpecAugment time and frequency masks in training mode.
        mask_time_width / mask_freq_width (`int`, defaults to 20 / 8), num_time_masks / num_freq_masks
            (`int`, defaults to 2 / 2): SpecAugment mask sizes and counts.
    """

    model_type = "ser_cnn"

    def __init__(
        self,
        num_mel_bins: int = 64,
        stem_channels: list[int] | None = None,
        hidden_size: int = 256,
        num_blocks: int = 4,
        kernel_size: int = 5,
        dilations: list[int] | None = None,
        attention_channels: int = 128,
        dropout: float = 0.3,
        label_smoothing: float = 0.0,
        class_weights: list[float] | None = None,
        calibration_temperature: float = 1.0,
        spec_augment: bool = False,
        mask_time_width: int = 20,
        mask_freq_width: int = 8,
        num_time_masks: int = 2,
        num_freq_masks: int = 2,
        **kwargs,
    ):
        self.num_mel_bins = num_mel_bins
        self.stem_channels = list(stem_channels) if stem_channels is not None else [32, 64]
        if len(self.stem_channels) != 2:
            raise ValueError(f"stem_channels must have two entries, got {self.stem_channels}.")
        self.hidden_size = hidden_size
        self.num_blocks = num_blocks
        self.kernel_size = kernel_size
        self.dilations = list(dilations) if dilations is not None else [1, 2, 4, 1]
        self.attention_channels = attention_channels
        self.dropout = dropout
        self.label_smoothing = label_smoothing
        self.class_weights = list(class_weights) if class_weights is not None else None
        self.calibration_temperature = calibration_temperature
        self.spec_augment = spec_augment
        self.mask_time_width = mask_time_width
        self.mask_freq_width = mask_freq_width
        self.num_time_masks = num_time_masks
        self.num_freq_masks = num_freq_masks
        super().__init__(**kwargs)


SerCnnConfig.register_for_auto_class()
