"""Training one fold: a parsed recipe -> ``SerTrainer`` (under ``accelerate``) -> a saved model.

The output folder holds the model (``config.json``, ``model.safetensors``, remote code), its feature
extractor, ``metrics.json`` (validation and test metrics of the best checkpoint, scored the way
``ser-hf evaluate`` scores) and ``recipe.yaml`` (the arguments as run).
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import yaml
from transformers import EarlyStoppingCallback
from transformers.trainer_utils import get_last_checkpoint

from ..evaluation.calibration import calibration_metrics, fit_calibration
from ..scoring.decision import softmax
from ..models.errors import SerError
from .arguments import AugmentArguments, RunArguments
from .augment import AugmentConfig, WaveformAugmenter
from .data import AudioCollator, WaveformColumn, WaveformTransform, prepare_split
from .distill import teacher_logits_for
from .factory import balanced_class_weights, build_model, trained_model_labels
from .recipes import recipe_as_run
from .trainer import SerTrainer


def augmenter_for(aug: AugmentArguments, seed: int, train_set=None) -> WaveformAugmenter | None:
    """The training-time augmenter of the recipe's ``augment`` section (babble drawn from ``train_set``), or ``None``
    when all is off."""
    config = AugmentConfig(
        noise_prob=aug.noise_prob, noise_snr_db=(aug.noise_snr_db_min, aug.noise_snr_db_max),
        noise_colours=list(aug.noise_colours), babble_prob=aug.babble_prob,
        babble_snr_db=(aug.babble_snr_db_min, aug.babble_snr_db_max), babble_speakers=aug.babble_speakers,
        reverb_prob=aug.reverb_prob, telephone_prob=aug.telephone_prob, codec_prob=aug.codec_prob,
        gain_prob=aug.gain_prob, gain_db=(-aug.gain_db_max, aug.gain_db_max), shift_prob=aug.shift_prob,
        shift_max_s=aug.shift_max_s, speed_prob=aug.speed_prob, speeds=list(aug.speeds))
    if not config.enabled:
        return None
    pool = WaveformColumn(train_set) if train_set is not None and config.babble_prob else None
    return WaveformAugmenter(config, seed=seed, babble_pool=pool,
                             babble_speakers_of=list(train_set["speaker"]) if pool is not None else None)


def calibrate(model, scored: dict, references: dict) -> dict:
    """Fit the temperature on the validation speakers' clips (``scored["validation"]``: metrics and log probabilities
    at temperature 1) and store it in the model's config with session mode's population statistics of the same clips
    (:func:`ser_hf.evaluation.calibration.fit_calibration`); update each part's ``ece``."""
    fitted = fit_calibration(scored["validation"][1], references["validation"],
                             neutral=model.config.label2id.get("neutral"))
    for key, value in fitted.items():
        setattr(model.config, key, value)
    temperature = fitted["calibration_temperature"]
    for part, (metrics, log_probabilities) in scored.items():
        calibrated = softmax(log_probabilities, temperature)
        metrics.update({k: v for k, v in calibration_metrics(calibrated, references[part], temperature).items()
                        if k in ("ece", "ece_at_temperature_1")})
    return {"temperature": temperature, "fitted_on": "validation speakers"}


def train(run: RunArguments) -> dict:
    """Train one fold as the recipe says; return the metrics written to ``metrics.json``."""
    data, training = run.data, run.training
    started = time.time()
    with training.main_process_first(desc="loading and decoding the corpora"):
        split, labels = prepare_split(data, seed=training.seed, keep_labels=trained_model_labels(run.model.model))
    model, fe = build_model(run.model, run.features, labels)
    if run.model.class_weighting == "balanced":
        model.config.class_weights = balanced_class_weights(split["train"]["label"], len(labels))
    elif run.model.class_weighting != "none":
        raise SerError(f"class_weighting must be 'none' or 'balanced', got {run.model.class_weighting!r}.")
    max_samples = int(data.max_duration_s * fe.sampling_rate) if data.max_duration_s else None
    if run.model.teacher:
        with training.main_process_first(desc="teacher logits"):
            split["train"] = teacher_logits_for(split["train"], run.model.teacher, data.cache_dir, max_samples,
                                                labels)
    callbacks = []
    if run.model.early_stopping_patience:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=run.model.early_stopping_patience))
    # The Hub upload is ours (with the rendered model card), after training: the Trainer does not push.
    trainer = SerTrainer(
        model=model,
        args=dataclasses.replace(training, push_to_hub=False) if training.push_to_hub else training,
        train_dataset=split["train"].with_transform(WaveformTransform(
            augmenter_for(run.augment, training.seed, split["train"]), max_samples)),
        eval_dataset=split["validation"],
        data_collator=AudioCollator(fe, model.main_input_name),
        callbacks=callbacks,
        feature_extractor=fe,
        labels=labels,
        distill_temperature=run.model.distill_temperature,
        distill_alpha=run.model.distill_alpha,
        encoder_learning_rate=run.model.encoder_learning_rate,
    )
    resume = training.resume_from_checkpoint
    if resume == "last":
        resume = get_last_checkpoint(training.output_dir) if Path(training.output_dir).is_dir() else None
    train_result = trainer.train(resume_from_checkpoint=resume)

    results: dict = {"labels": labels, "world_size": training.world_size,
                     "train_runtime_s": round(train_result.metrics.get("train_runtime", 0.0), 1),
                     "global_step": trainer.state.global_step, "best_checkpoint": trainer.state.best_model_checkpoint}
    scored = {part: trainer.score(split[part], f"Scoring {part}")
              for part in ["validation"] + (["test"] if data.evaluate_test else [])}
    if run.model.calibrate:
        results["calibration"] = calibrate(model, scored, {part: split[part]["label"] for part in scored})
    results.update({part: metrics for part, (metrics, _) in scored.items()})
    results["wall_time_s"] = round(time.time() - started, 1)
    if trainer.is_world_process_zero():
        out = Path(training.output_dir)
        trainer.save_model(str(out))
        fe.save_pretrained(str(out))
        (out / "metrics.json").write_text(json.dumps(results, indent=2))
        (out / "recipe.yaml").write_text(yaml.safe_dump(recipe_as_run(run), sort_keys=False))
        if training.push_to_hub:
            from ..hub.publish import push

            if not training.hub_model_id:
                raise SerError("push_to_hub needs hub_model_id (the repository to create, e.g. you/ser-cnn).")
            results["hub"] = push(out, training.hub_model_id, private=bool(training.hub_private_repo))
    return results
