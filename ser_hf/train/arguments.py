"""The argument dataclasses of a training recipe: every option, documented once.

A recipe's sections (``data``, ``features``, ``model``, ``augment``, ``training``) are flattened into the fields
of these classes by :func:`ser_hf.train.recipes.parse_recipe`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments


@dataclass
class DataArguments:
    """What to train and evaluate on."""

    corpora: list[str] = field(default_factory=lambda: ["ravdess"], metadata={"help": "ravdess, crema_d, tess"})
    dataset: str | None = field(default=None, metadata={
        "help": "your own labelled recordings instead of the corpora: a folder (one subfolder per label, or a "
                "metadata.csv), a CSV manifest, a saved Dataset folder or a Hub dataset id (ser_hf.data.user_data)"})
    strict: bool = field(default=False, metadata={"help": "fail when a file of the dataset cannot be read"})
    data_dir: str | None = field(default=None, metadata={"help": "folder of the corpora (default $SER_HF_DATA)"})
    label_set: str | None = field(default=None, metadata={"help": "ravdess8, core7, core6, big4 (default: native)"})
    calm: str = field(default="drop", metadata={"help": "RAVDESS calm outside the label set: drop or merge"})
    perceived_only: bool = field(default=False, metadata={
        "help": "train only on clips whose listeners heard the acted emotion where a corpus has ratings (CREMA-D's "
                "voice-only votes); validation and test keep every clip"})
    protocol: str = field(default="ravdess-6fold", metadata={"help": "speaker-independent protocol"})
    fold: int = field(default=1, metadata={"help": "fold of the protocol (1-based)"})
    allow_random: bool = field(default=False, metadata={"help": "allow the random protocol (speakers leak)"})
    max_duration_s: float = field(default=10.0, metadata={"help": "training clips are cut to their first N seconds "
                                                                  "(evaluation scores whole clips, in windows)"})
    max_train_samples: int | None = field(default=None, metadata={"help": "subsample training (quick runs)"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "subsample validation and test"})
    cache_dir: str | None = field(default=None, metadata={"help": "decoded-audio cache (default ~/.cache/ser_hf)"})
    evaluate_test: bool = field(default=True, metadata={"help": "evaluate the best model on the test part"})


@dataclass
class FeatureArguments:
    """``SerFeatureExtractor`` options for the CNN; Whisper backbones take ``normalization`` (their log-mel follows
    the level-invariant front of ``SerWhisperFeatureExtractor``), wav2vec2 backbones normalize the waveform."""

    feature_type: str = "log-mel"
    num_mel_bins: int = 64
    n_mfcc: int = 40
    mfcc_deltas: int = 0
    normalization: str = field(default="peak", metadata={"help": "level normalization of each clip: peak, rms, "
                                                                 "loudness or none (CNN and Whisper)"})
    trim: bool = True
    noise_reduction: bool = False
    pre_emphasis_coefficient: float = 0.0


@dataclass
class ModelArguments:
    """The model: ``cnn``, a backbone (``whisper-tiny.en``, a folder, a Hub id) or a trained ser_hf folder."""

    model: str = field(default="cnn", metadata={"help": "cnn | whisper-tiny.en | whisper-base | default | compact | a trained folder "
                                                        "(fine-tuned: the same labels continue its head, other labels "
                                                        "get a new one) | an encoder folder or Hub id"})
    dropout: float | None = field(default=None, metadata={"help": "head dropout (default: the config's)"})
    label_smoothing: float = 0.0
    class_weighting: str = field(default="none", metadata={"help": "none or balanced (inverse class frequency)"})
    spec_augment: bool = field(default=False, metadata={"help": "SpecAugment masks in training (CNN, Whisper)"})
    hidden_size: int = field(default=256, metadata={"help": "CNN width"})
    num_blocks: int = field(default=4, metadata={"help": "CNN residual blocks"})
    freeze_encoder: bool = field(default=False, metadata={"help": "backbone: train the head only"})
    freeze_layers: int = field(default=0, metadata={"help": "backbone: freeze the first N encoder layers"})
    encoder_learning_rate: float | None = field(
        default=None, metadata={"help": "backbone: learning rate of the encoder (default: learning_rate, as the head)"})
    early_stopping_patience: int | None = field(default=5, metadata={"help": "evaluations without improvement"})
    calibrate: bool = field(default=True, metadata={"help": "fit a temperature on the validation speakers after "
                                                            "training (config.calibration_temperature)"})
    teacher: str | None = field(default=None, metadata={"help": "trained model folder to distill from, or a .parquet "
                                                         "file of its saved logits (recipes/scripts/save_teacher_logits.py)"})
    distill_temperature: float = 2.0
    distill_alpha: float = field(default=0.5, metadata={"help": "weight of the distillation loss"})


@dataclass
class AugmentArguments:
    """Training-time augmentation (see ``ser_hf.train.augment``); a probability of 0 switches one off."""

    noise_prob: float = 0.0
    noise_snr_db_min: float = 0.0
    noise_snr_db_max: float = 30.0
    noise_colours: list[str] = field(default_factory=lambda: ["white", "pink", "brown"])
    babble_prob: float = field(default=0.0, metadata={"help": "other training speakers talking at once"})
    babble_snr_db_min: float = 0.0
    babble_snr_db_max: float = 20.0
    babble_speakers: int = 3
    reverb_prob: float = field(default=0.0, metadata={"help": "room reverberation, RT60 0.2-1.0 s"})
    telephone_prob: float = field(default=0.0, metadata={"help": "8 kHz, 300-3400 Hz, GSM 6.10"})
    codec_prob: float = field(default=0.0, metadata={"help": "MP3 or Opus at low bit rates"})
    gain_prob: float = 0.0
    gain_db_max: float = 20.0
    shift_prob: float = 0.0
    shift_max_s: float = 0.3
    speed_prob: float = 0.0
    speeds: list[float] = field(default_factory=lambda: [0.9, 1.1])


@dataclass
class SerTrainingArguments(TrainingArguments):
    """``TrainingArguments`` with the defaults of this package: evaluate and save every epoch, keep the best
    checkpoint by UA, group batches by length, no external loggers."""

    output_dir: str = field(default="outputs/run", metadata={"help": "where the model and metrics go"})
    eval_strategy: str = "epoch"
    save_strategy: str = "epoch"
    load_best_model_at_end: bool = True
    metric_for_best_model: str = "ua"
    greater_is_better: bool = True
    save_total_limit: int | None = 2
    remove_unused_columns: bool = False
    train_sampling_strategy: str = "group_by_length"
    report_to: str = "none"
    logging_steps: int = 10
    per_device_train_batch_size: int = 16
    per_device_eval_batch_size: int = 32
    learning_rate: float = 1e-3
    num_train_epochs: float = 30.0
    warmup_steps: float = 0.1
    weight_decay: float = 0.01
    ddp_find_unused_parameters: bool | None = False
    dataloader_pin_memory: bool = False
    resume_from_checkpoint: str | None = field(default=None, metadata={"help": "a checkpoint, or 'last'"})


ARGUMENT_CLASSES = (DataArguments, FeatureArguments, ModelArguments, AugmentArguments, SerTrainingArguments)


@dataclass
class RunArguments:
    data: DataArguments
    features: FeatureArguments
    model: ModelArguments
    augment: AugmentArguments
    training: SerTrainingArguments
