"""Configuration of a pretrained speech encoder with an emotion head (``model_type = "ser_backbone"``)."""

from __future__ import annotations

from transformers import PretrainedConfig

WAV2VEC2_FAMILY = ("wav2vec2", "hubert", "wavlm", "data2vec-audio", "unispeech", "unispeech-sat", "wav2vec2-conformer")


class SerBackboneConfig(PretrainedConfig):
    r"""Configuration of [`SerBackboneForAudioClassification`].

    Args:
        backbone_config (`dict`): the encoder's own configuration (`WhisperConfig` or a wav2vec2-family config,
            as `to_dict()`); its `model_type` picks the family.
        backbone_source (`str`, *optional*): where the pretrained encoder came from (Hub id or folder), for the record.
        use_weighted_layer_sum (`bool`, defaults to `True`): a learned softmax-weighted sum of all hidden
            layers (emotion lives in the middle layers, not the last); otherwise the last layer only.
        freeze_encoder (`bool`, defaults to `False`): train the head only.
        freeze_layers (`int`, defaults to 0): freeze the input convolutions and the first N encoder layers.
        freeze_feature_encoder (`bool`, defaults to `True`): wav2vec2 family only, freeze the CNN front end.
        conv_channels (`int`, defaults to 256) / conv_kernel_size (`int`, defaults to 5): the head's 1-D
            convolution over time.
        attention_channels (`int`, defaults to 128): bottleneck of the attentive statistics pooling.
        dropout (`float`, defaults to 0.2): dropout before the classifier.
        spec_augment (`bool`, defaults to `False`): SpecAugment masks on Whisper's log-mel in training mode;
            mask_time_width / mask_freq_width (`int`, defaults to 20 / 8), num_time_masks / num_freq_masks
            (`int`, defaults to 2 / 2) as for the CNN.
        label_smoothing (`float`, defaults to 0.0) / class_weights (`list[float]`, *optional*): the loss.
        calibration_temperature (`float`, defaults to 1.0): the logits are divided by it before the softmax in every
            scoring path; fitted on validation speakers after training (temperature scaling). Not named
            `temperature`: transformers reserves that name for generation.
        adaptation_prior / adaptation_neutral_prior (`list[float]`, *optional*): the mean log probabilities over
            the validation speakers (all clips / neutral ones), where speaker adaptation starts from
            (:mod:`ser_hf.scoring.adaptation`); stored as extra config fields.
    """

    model_type = "ser_backbone"

    def __init__(
        self,
        backbone_config: dict | None = None,
        backbone_source: str | None = None,
        use_weighted_layer_sum: bool = True,
        freeze_encoder: bool = False,
        freeze_layers: int = 0,
        freeze_feature_encoder: bool = True,
        spec_augment: bool = False,
        mask_time_width: int = 20,
        mask_freq_width: int = 8,
        num_time_masks: int = 2,
        num_freq_masks: int = 2,
        conv_channels: int = 256,
        conv_kernel_size: int = 5,
        attention_channels: int = 128,
        dropout: float = 0.2,
        label_smoothing: float = 0.0,
        class_weights: list[float] | None = None,
        calibration_temperature: float = 1.0,
        **kwargs,
    ):
        if backbone_config is not None and not isinstance(backbone_config, dict):
            backbone_config = backbone_config.to_dict()
        self.backbone_config = backbone_config or {"model_type": "whisper"}
        self.backbone_source = backbone_source
        self.use_weighted_layer_sum = use_weighted_layer_sum
        self.freeze_encoder = freeze_encoder
        self.freeze_layers = freeze_layers
        self.freeze_feature_encoder = freeze_feature_encoder
        self.conv_channels = conv_channels
        self.conv_kernel_size = conv_kernel_size
        self.attention_channels = attention_channels
        self.dropout = dropout
        self.label_smoothing = label_smoothing
        self.class_weights = list(class_weights) if class_weights is not None else None
        self.spec_augment = spec_augment  # the masks as the CNN's (see SerCnnConfig)
        self.mask_time_width, self.mask_freq_width = mask_time_width, mask_freq_width
        self.num_time_masks, self.num_freq_masks = num_time_masks, num_freq_masks
        self.calibration_temperature = calibration_temperature
        super().__init__(**kwargs)

    @property
    def backbone_type(self) -> str:
        """``"whisper"`` or a wav2vec2-family model type."""
        return self.backbone_config.get("model_type", "whisper")


SerBackboneConfig.register_for_auto_class()
