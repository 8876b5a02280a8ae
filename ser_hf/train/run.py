"""Training: a YAML recipe -> argument dataclasses -> ``Trainer`` (under ``accelerate``) -> a saved model.

The same recipe runs as ``python -m ser_hf.train RECIPE``, ``ser-hf train RECIPE`` and
``accelerate launch -m ser_hf.train RECIPE``; ``--key value`` after the recipe overrides any field.
A recipe is a YAML file whose sections (``data``, ``features``, ``model``, ``augment``, ``training``)
are flattened into the fields of :class:`DataArguments`, :class:`FeatureArguments`,
:class:`ModelArguments`, :class:`AugmentArguments` and :class:`SerTrainingArguments`.

The output folder holds the model (``config.json``, ``model.safetensors``, remote code), its feature
extractor, ``metrics.json`` (validation and test metrics of the best checkpoint) and ``recipe.yaml``
(the arguments as run).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path

import numpy as np
import torch
import yaml
from transformers import EarlyStoppingCallback, HfArgumentParser, Trainer, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from .errors import SerError
from .features import model_inputs

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> str:
    """``$SER_HF_DATA``, else ``../shared/data`` beside the repository when it exists."""
    if os.environ.get("SER_HF_DATA"):
        return os.environ["SER_HF_DATA"]
    candidate = REPO_ROOT.parent / "shared" / "data"
    if candidate.is_dir():
        return str(candidate)
    raise SerError("No data folder: set --data_dir or the SER_HF_DATA environment variable.")


@dataclass
class DataArguments:
    """What to train and evaluate on."""

    corpora: list[str] = field(default_factory=lambda: ["ravdess"], metadata={"help": "ravdess, crema_d, tess"})
    data_dir: str | None = field(default=None, metadata={"help": "folder of the corpora (default $SER_HF_DATA)"})
    label_set: str | None = field(default=None, metadata={"help": "ravdess8, core7, core6, big4 (default: native)"})
    calm: str = field(default="drop", metadata={"help": "RAVDESS calm outside the label set: drop or merge"})
    protocol: str = field(default="ravdess-6fold", metadata={"help": "speaker-independent protocol"})
    fold: int = field(default=1, metadata={"help": "fold of the protocol (1-based)"})
    allow_random: bool = field(default=False, metadata={"help": "allow the random protocol (speakers leak)"})
    max_duration_s: float = field(default=10.0, metadata={"help": "clips are cut to their first N seconds"})
    max_train_samples: int | None = field(default=None, metadata={"help": "subsample training (quick runs)"})
    max_eval_samples: int | None = field(default=None, metadata={"help": "subsample validation and test"})
    cache_dir: str | None = field(default=None, metadata={"help": "decoded-audio cache (default ~/.cache/ser_hf)"})
    evaluate_test: bool = field(default=True, metadata={"help": "evaluate the best model on the test part"})


@dataclass
class FeatureArguments:
    """``SerFeatureExtractor`` options (CNN only; backbones use their encoder's own extractor)."""

    feature_type: str = "log-mel"
    num_mel_bins: int = 64
    n_mfcc: int = 40
    mfcc_deltas: int = 0
    normalization: str = field(default="peak", metadata={"help": "peak, rms, loudness or none"})
    trim: bool = True
    noise_reduction: bool = False
    pre_emphasis_coefficient: float = 0.0


@dataclass
class ModelArguments:
    """The model: ``cnn``, a backbone (``whisper-tiny.en``, a folder, a Hub id) or a trained ser_hf folder."""

    model: str = field(default="cnn", metadata={"help": "cnn | whisper-tiny.en | folder | Hub id"})
    dropout: float | None = field(default=None, metadata={"help": "head dropout (default: the config's)"})
    label_smoothing: float = 0.0
    class_weighting: str = field(default="none", metadata={"help": "none or balanced (inverse class frequency)"})
    spec_augment: bool = field(default=False, metadata={"help": "CNN: SpecAugment masks in training"})
    hidden_size: int = field(default=256, metadata={"help": "CNN width"})
    num_blocks: int = field(default=4, metadata={"help": "CNN residual blocks"})
    freeze_encoder: bool = field(default=False, metadata={"help": "backbone: train the head only"})
    freeze_layers: int = field(default=0, metadata={"help": "backbone: freeze the first N encoder layers"})
    encoder_learning_rate: float | None = field(
        default=None, metadata={"help": "backbone: learning rate of the encoder (default: learning_rate, as the head)"})
    early_stopping_patience: int | None = field(default=5, metadata={"help": "evaluations without improvement"})
    teacher: str | None = field(default=None, metadata={"help": "trained model folder to distill from"})
    distill_temperature: float = 2.0
    distill_alpha: float = field(default=0.5, metadata={"help": "weight of the distillation loss"})


@dataclass
class AugmentArguments:
    """Training-time waveform augmentation (see ``ser_hf.augment``)."""

    noise_prob: float = 0.0
    noise_snr_db_min: float = 10.0
    noise_snr_db_max: float = 30.0
    gain_prob: float = 0.0
    gain_db_max: float = 6.0
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


def flatten_recipe(recipe: dict) -> dict:
    """Sections (``data:``, ``model:``, ...) are flattened; top-level keys stay as they are."""
    flat: dict = {}
    for key, value in recipe.items():
        if isinstance(value, dict) and key in ("data", "features", "model", "augment", "training", "baseline"):
            flat.update(value)
        else:
            flat[key] = value
    return flat


def _as_cli(flat: dict) -> list[str]:
    args = []
    for key, value in flat.items():
        if value is None:
            continue
        args.append(f"--{key}")
        if isinstance(value, (list, tuple)):
            args.extend(str(v) for v in value)
        else:
            args.append(str(value))
    return args


def parse_recipe(recipe: str | os.PathLike | None, overrides: list[str] | None = None) -> RunArguments:
    """Parse a YAML recipe plus ``--key value`` overrides into the argument dataclasses."""
    flat: dict = {}
    if recipe is not None:
        path = Path(recipe)
        if not path.is_file():
            raise SerError(f"Recipe {path} not found; expected a YAML file such as recipes/cnn_ravdess_6fold.yaml.")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as err:
            raise SerError(f"Recipe {path} is not valid YAML ({str(err).splitlines()[0]}).") from None
        if not isinstance(loaded, dict):
            raise SerError(f"Recipe {path} must be a mapping of sections or fields.")
        flat = flatten_recipe(loaded)
    known = {f.name for cls in ARGUMENT_CLASSES for f in fields(cls)}
    unknown = sorted(set(flat) - known)
    if unknown:
        raise SerError(f"Unknown recipe field(s): {', '.join(unknown)}; see `python -m ser_hf.train --help`.")
    parser = HfArgumentParser(ARGUMENT_CLASSES)

    def error(message: str):
        raise SerError(f"Invalid training arguments: {message}.")

    parser.error = error  # one sentence instead of argparse's usage dump
    try:
        parsed = parser.parse_args_into_dataclasses(args=_as_cli(flat) + list(overrides or []))
    except ValueError as err:  # TrainingArguments' own consistency checks
        raise SerError(f"Invalid training arguments: {' '.join(str(err).split())}") from None
    return RunArguments(*parsed)


# --- data ------------------------------------------------------------------------------------------


def load_split(data: DataArguments, seed: int = 0):
    """The ``DatasetDict`` (train/validation/test) of the recipe's corpora, protocol and fold, with labels."""
    from .corpora import NATIVE_LABEL_SETS, load_corpora
    from .protocols import make_split

    data_dir = data.data_dir or default_data_dir()
    label_set = data.label_set or (NATIVE_LABEL_SETS[data.corpora[0]] if len(data.corpora) == 1 else "core7")
    dataset = load_corpora(data.corpora, data_dir, label_set, calm=data.calm)
    split = make_split(dataset, data.protocol, data.fold, seed=seed, allow_random=data.allow_random)
    for name, limit in (("train", data.max_train_samples), ("validation", data.max_eval_samples),
                        ("test", data.max_eval_samples)):
        if limit is not None and len(split[name]) > limit:
            split[name] = split[name].shuffle(seed=seed).select(range(limit))
    return split, dataset.features["label"].names


class WaveformTransform:
    """``with_transform`` for cached waveforms: int16 -> float32, and augmentation on training data only."""

    def __init__(self, augmenter=None):
        self.augmenter = augmenter

    def __call__(self, batch: dict) -> dict:
        if "waveform" not in batch:  # a column read such as dataset["length"]
            return batch
        waves = [np.asarray(w, dtype=np.float32) / 32768.0 for w in batch["waveform"]]
        if self.augmenter is not None:
            waves = [self.augmenter(w) for w in waves]
        return {**batch, "waveform": waves}


class AudioCollator:
    """Featurize each clip on its own with the model's feature extractor, then pad the batch.

    Features ``(features, frames)`` or waveforms ``(samples,)`` are padded with zeros on the time axis;
    ``attention_mask`` marks real frames (or samples). Output keys: the model's input name,
    ``attention_mask``, ``labels`` and, for distillation, ``teacher_logits``.
    """

    def __init__(self, feature_extractor, input_name: str):
        self.feature_extractor = feature_extractor
        self.input_name = input_name

    def featurize(self, waveform: np.ndarray) -> np.ndarray:
        encoded = model_inputs(self.feature_extractor, waveform, self.input_name, return_tensors="np")
        return np.asarray(encoded[self.input_name][0], dtype=np.float32)

    def __call__(self, examples: list[dict]) -> dict:
        items = [self.featurize(np.asarray(e["waveform"], dtype=np.float32)) for e in examples]
        lengths = [item.shape[-1] for item in items]
        longest = max(lengths)
        batch = np.zeros((len(items),) + items[0].shape[:-1] + (longest,), dtype=np.float32)
        mask = np.zeros((len(items), longest), dtype=np.int64)
        for i, item in enumerate(items):
            batch[i, ..., : item.shape[-1]] = item
            mask[i, : item.shape[-1]] = 1
        out = {self.input_name: torch.from_numpy(batch), "attention_mask": torch.from_numpy(mask)}
        if "label" in examples[0]:
            out["labels"] = torch.tensor([e["label"] for e in examples], dtype=torch.long)
        if "teacher_logits" in examples[0]:
            out["teacher_logits"] = torch.tensor(np.stack([e["teacher_logits"] for e in examples]), dtype=torch.float32)
        return out


# --- model -----------------------------------------------------------------------------------------


def build_model(model_args: ModelArguments, feature_args: FeatureArguments, labels: list[str]):
    """The model and its feature extractor, with a new head over ``labels``."""
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from .features import SerFeatureExtractor
    from .models import SerCnnConfig, SerCnnForAudioClassification

    id2label = dict(enumerate(labels))
    label2id = {label: i for i, label in enumerate(labels)}
    if model_args.model == "cnn":
        normalization = None if feature_args.normalization in ("none", "None", "") else feature_args.normalization
        fe = SerFeatureExtractor(**{**asdict(feature_args), "normalization": normalization})
        overrides = {"dropout": model_args.dropout} if model_args.dropout is not None else {}
        config = SerCnnConfig(num_mel_bins=fe.feature_size, hidden_size=model_args.hidden_size,
                              num_blocks=model_args.num_blocks, label_smoothing=model_args.label_smoothing,
                              spec_augment=model_args.spec_augment, id2label=id2label, label2id=label2id, **overrides)
        return SerCnnForAudioClassification(config), fe
    folder = Path(model_args.model)
    if (folder / "config.json").is_file() and json.loads((folder / "config.json").read_text()).get(
            "model_type", "").startswith("ser_"):
        model = AutoModelForAudioClassification.from_pretrained(folder)
        if [model.config.id2label[i] for i in range(model.config.num_labels)] != labels:
            raise SerError(f"{folder} predicts {list(model.config.id2label.values())}, the recipe needs {labels}.")
        return model, AutoFeatureExtractor.from_pretrained(folder)
    from .backbones import model_from_backbone

    options = {"freeze_encoder": model_args.freeze_encoder, "freeze_layers": model_args.freeze_layers,
               "label_smoothing": model_args.label_smoothing}
    if model_args.dropout is not None:
        options["dropout"] = model_args.dropout
    return model_from_backbone(model_args.model, labels, **options)


def balanced_class_weights(labels: list[int], num_labels: int) -> list[float]:
    """Inverse class frequency, normalized to mean 1 over the classes present (absent classes get 0)."""
    counts = np.bincount(np.asarray(labels), minlength=num_labels).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / max(1, (counts > 0).sum()), 0.0)
    return weights.round(6).tolist()


# --- trainer ---------------------------------------------------------------------------------------


class SerTrainer(Trainer):
    """``Trainer`` that adds knowledge distillation when batches carry ``teacher_logits``:
    loss = (1 - alpha) * CE(labels) + alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))."""

    def __init__(self, *args, distill_temperature: float = 2.0, distill_alpha: float = 0.5,
                 encoder_learning_rate: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.distill_temperature = distill_temperature
        self.distill_alpha = distill_alpha
        self.encoder_learning_rate = encoder_learning_rate

    def create_optimizer(self, *args, **kwargs):
        """With ``encoder_learning_rate``, the pretrained encoder's parameters get their own (usually smaller)
        learning rate; the scheduler scales both groups alike."""
        if self.optimizer is not None or self.encoder_learning_rate is None:
            return super().create_optimizer(*args, **kwargs)
        decay = set(self.get_decay_parameter_names(self.model))
        groups = []
        for is_encoder in (True, False):
            for with_decay in (True, False):
                params = [p for n, p in self.model.named_parameters()
                          if p.requires_grad and n.startswith("encoder.") == is_encoder and (n in decay) == with_decay]
                if params:
                    group = {"params": params, "weight_decay": self.args.weight_decay if with_decay else 0.0}
                    if is_encoder:
                        group["lr"] = self.encoder_learning_rate
                    groups.append(group)
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(self.args, self.model)
        self.optimizer = optimizer_cls(groups, **optimizer_kwargs)
        return self.optimizer

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        teacher_logits = inputs.pop("teacher_logits", None)
        outputs = model(**inputs)
        loss = outputs.loss
        if teacher_logits is not None and model.training:
            t = self.distill_temperature
            distill = torch.nn.functional.kl_div(
                torch.log_softmax(outputs.logits / t, dim=-1), torch.softmax(teacher_logits / t, dim=-1),
                reduction="batchmean") * t * t
            loss = (1 - self.distill_alpha) * loss + self.distill_alpha * distill
        return (loss, outputs) if return_outputs else loss


def make_compute_metrics(labels: list[str]):
    from .metrics import load_ser_metrics

    metric = load_ser_metrics()

    def compute_metrics(eval_pred) -> dict:
        logits, references = eval_pred
        logits = logits[0] if isinstance(logits, tuple) else logits
        out = metric.compute(predictions=np.argmax(logits, axis=-1), references=references,
                             labels=list(range(len(labels))), label_names=labels)
        return {key: out[key] for key in ("ua", "wa", "macro_f1", "weighted_f1")}

    return compute_metrics


def full_metrics(logits: np.ndarray, references: np.ndarray, labels: list[str]) -> dict:
    from .metrics import load_ser_metrics

    out = load_ser_metrics().compute(predictions=np.argmax(logits, axis=-1), references=references,
                                     labels=list(range(len(labels))), label_names=labels)
    out["num_records"] = int(len(references))
    return out


def teacher_logits_for(dataset, teacher: str, cache_dir: str | None):
    """Cache the teacher's logits on ``dataset`` (computed once, keyed by the teacher's weights)."""
    from .feature_cache import dataset_fingerprint, default_cache_dir
    from .models.loading import clip_logits, load_model, resolve_model_dir

    model, feature_extractor = load_model(teacher)
    weights = resolve_model_dir(teacher) / "model.safetensors"  # "default" is the bundled model
    settings = {"teacher": str(weights.parent.resolve()),
                "weights_mtime": weights.stat().st_mtime_ns if weights.exists() else None}
    fingerprint = dataset_fingerprint(dataset, settings)
    folder = Path(cache_dir) if cache_dir else default_cache_dir()

    def add_logits(batch):
        waves = [np.asarray(w, dtype=np.float32) / 32768.0 for w in batch["waveform"]]
        return {"teacher_logits": [clip_logits(model, feature_extractor, w) for w in waves]}

    return dataset.map(add_logits, batched=True, batch_size=16, new_fingerprint=fingerprint,
                       cache_file_name=str(folder / f"teacher-{fingerprint}.arrow"), desc="Teacher logits")


def train(run: RunArguments) -> dict:
    """Train one fold as the recipe says; return the metrics written to ``metrics.json``."""
    from .augment import AugmentConfig, WaveformAugmenter
    from .feature_cache import cache_waveforms

    data, training = run.data, run.training
    started = time.time()
    with training.main_process_first(desc="loading and decoding the corpora"):
        split, labels = load_split(data, seed=training.seed)
        split = {name: cache_waveforms(part, max_duration_s=data.max_duration_s, cache_dir=data.cache_dir)
                 for name, part in split.items()}
    model, fe = build_model(run.model, run.features, labels)
    if run.model.class_weighting == "balanced":
        model.config.class_weights = balanced_class_weights(split["train"]["label"], len(labels))
    elif run.model.class_weighting != "none":
        raise SerError(f"class_weighting must be 'none' or 'balanced', got {run.model.class_weighting!r}.")
    if run.model.teacher:
        with training.main_process_first(desc="teacher logits"):
            split["train"] = teacher_logits_for(split["train"], run.model.teacher, data.cache_dir)
    for name in split:
        split[name] = split[name].rename_column("num_samples", "length") if "length" not in split[name].column_names \
            else split[name]

    aug = run.augment
    augment_config = AugmentConfig(
        noise_prob=aug.noise_prob, noise_snr_db=(aug.noise_snr_db_min, aug.noise_snr_db_max),
        gain_prob=aug.gain_prob, gain_db=(-aug.gain_db_max, aug.gain_db_max), shift_prob=aug.shift_prob,
        shift_max_s=aug.shift_max_s, speed_prob=aug.speed_prob, speeds=list(aug.speeds))
    augmenter = WaveformAugmenter(augment_config, seed=training.seed) if augment_config.enabled else None
    train_set = split["train"].with_transform(WaveformTransform(augmenter))
    eval_set = split["validation"].with_transform(WaveformTransform())
    callbacks = []
    if run.model.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=run.model.early_stopping_patience))
    # The Hub upload is ours (with the rendered model card), after training: the Trainer does not push.
    trainer = SerTrainer(
        model=model,
        args=dataclasses.replace(training, push_to_hub=False) if training.push_to_hub else training,
        train_dataset=train_set,
        eval_dataset=eval_set,
        data_collator=AudioCollator(fe, model.main_input_name),
        compute_metrics=make_compute_metrics(labels),
        callbacks=callbacks,
        distill_temperature=run.model.distill_temperature,
        distill_alpha=run.model.distill_alpha,
        encoder_learning_rate=run.model.encoder_learning_rate,
    )
    resume = training.resume_from_checkpoint
    if resume == "last":
        resume = get_last_checkpoint(training.output_dir) if Path(training.output_dir).is_dir() else None
    train_result = trainer.train(resume_from_checkpoint=resume)

    results: dict = {"labels": labels, "world_size": training.world_size, "train_runtime_s": round(train_result.metrics.get("train_runtime", 0.0), 1),
                     "global_step": trainer.state.global_step, "best_checkpoint": trainer.state.best_model_checkpoint}
    parts = ["validation"] + (["test"] if data.evaluate_test else [])
    for part in parts:
        prediction = trainer.predict(split[part].with_transform(WaveformTransform()))
        results[part] = full_metrics(prediction.predictions, prediction.label_ids, labels)
    results["wall_time_s"] = round(time.time() - started, 1)
    if trainer.is_world_process_zero():
        out = Path(training.output_dir)
        trainer.save_model(str(out))
        fe.save_pretrained(str(out))
        (out / "metrics.json").write_text(json.dumps(results, indent=2))
        (out / "recipe.yaml").write_text(yaml.safe_dump(recipe_as_run(run), sort_keys=False))
        if training.push_to_hub:
            from .hub import push

            if not training.hub_model_id:
                raise SerError("push_to_hub needs hub_model_id (the repository to create, e.g. you/ser-cnn).")
            results["hub"] = push(out, training.hub_model_id, private=bool(training.hub_private_repo))
    return results


def recipe_as_run(run: RunArguments) -> dict:
    """The arguments as run, in recipe sections (only the training fields that differ from the defaults)."""
    defaults = SerTrainingArguments(output_dir=run.training.output_dir)
    training = {f.name: getattr(run.training, f.name) for f in fields(SerTrainingArguments)
                if f.init and getattr(run.training, f.name) != getattr(defaults, f.name)}
    training["output_dir"] = run.training.output_dir
    simple = (str, int, float, bool, list, type(None))
    return {
        "data": asdict(run.data),
        "features": asdict(run.features),
        "model": asdict(run.model),
        "augment": asdict(run.augment),
        "training": {k: (v.value if isinstance(v, Enum) else v if isinstance(v, simple) else str(v))
                     for k, v in training.items()},
    }


def crossval(recipe: str, output_dir: str, overrides: list[str] | None = None, *, rerun: bool = False) -> dict:
    """Train and evaluate every fold of the recipe's protocol; write ``crossval.json`` and ``crossval.md``.

    A fold whose ``metrics.json`` already exists in ``output_dir/foldK`` is read, not trained again (so an
    interrupted cross-validation resumes where it stopped), unless ``rerun``."""
    from .protocols import num_folds

    probe = parse_recipe(recipe, overrides)
    folds = []
    for fold in range(1, num_folds(probe.data.protocol) + 1):
        fold_dir = Path(output_dir) / f"fold{fold}"
        if (fold_dir / "metrics.json").is_file() and not rerun:
            result = json.loads((fold_dir / "metrics.json").read_text())
        else:
            result = train(parse_recipe(recipe, list(overrides or []) + ["--fold", str(fold), "--output_dir",
                                                                         str(fold_dir)]))
        folds.append({"fold": fold, **{k: result["test"][k] for k in ("ua", "wa", "macro_f1", "weighted_f1")},
                      "num_records": result["test"]["num_records"], "train_runtime_s": result["train_runtime_s"],
                      "wall_time_s": result.get("wall_time_s")})
    return summarize_folds(probe.data.protocol, folds, output_dir)


def summarize_folds(protocol: str, folds: list[dict], output_dir: str | os.PathLike) -> dict:
    """Mean and sample std over ``folds`` (dicts with ``fold``, ``ua``, ``wa``, ``macro_f1``, ``weighted_f1``,
    ``num_records``); writes ``crossval.json`` and ``crossval.md`` to ``output_dir``."""
    summary = {"protocol": protocol, "folds": folds}
    for key in ("ua", "wa", "macro_f1", "weighted_f1"):
        values = np.array([f[key] for f in folds])
        summary[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0}
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "crossval.json").write_text(json.dumps(summary, indent=2))
    (out / "crossval.md").write_text(crossval_markdown(summary))
    return summary


def crossval_markdown(summary: dict) -> str:
    lines = [f"# Cross-validation: {summary['protocol']}", "", "| fold | UA | WA | macro F1 | weighted F1 | test clips |",
             "|---|---|---|---|---|---|"]
    for f in summary["folds"]:
        lines.append(f"| {f['fold']} | {f['ua']:.3f} | {f['wa']:.3f} | {f['macro_f1']:.3f} | {f['weighted_f1']:.3f} "
                     f"| {f['num_records']} |")
    lines.append("| **mean ± std** | " + " | ".join(
        f"**{summary[k]['mean']:.3f} ± {summary[k]['std']:.3f}**" for k in ("ua", "wa", "macro_f1", "weighted_f1"))
        + " | |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        HfArgumentParser(ARGUMENT_CLASSES).parse_args_into_dataclasses(args=["--help"])
        return 0
    recipe, overrides = (argv[0], argv[1:]) if not argv[0].startswith("--") else (None, argv)
    try:
        results = train(parse_recipe(recipe, overrides))
    except SerError as err:
        print(f"ser-hf train: error: {err}", file=sys.stderr)
        return 1
    test = results.get("test") or results["validation"]
    print(json.dumps({k: test[k] for k in ("ua", "wa", "macro_f1", "weighted_f1")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
