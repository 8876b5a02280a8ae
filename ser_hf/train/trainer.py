"""``SerTrainer``: the ``Trainer`` with evaluation through the one scoring path, distillation and an encoder learning rate."""

from __future__ import annotations

import numpy as np
import torch
from transformers import Trainer
from transformers.trainer_utils import EvalLoopOutput

from ..evaluation.calibration import calibration_metrics
from ..evaluation.crossval import KEYS
from ..evaluation.evaluate import score_clips
from ..evaluation.metrics import ser_metrics
from ..scoring.score import temperature_of


class SerTrainer(Trainer):
    """``Trainer`` for ser_hf models.

    - Evaluation scores every clip whole through :func:`ser_hf.scoring.score_waveform` (windows for long clips,
      the speech gate), the path ``ser-hf evaluate`` and ``ser-hf predict`` take, so the UA in ``metrics.json``
      is the UA ``ser-hf evaluate`` gives the saved model. Evaluation datasets need a ``waveform`` column.
    - Knowledge distillation when batches carry ``teacher_logits``:
      loss = (1 - alpha) * CE(labels) + alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)).
    - ``encoder_learning_rate``: the pretrained encoder's own learning rate.
    """

    def __init__(self, *args, feature_extractor=None, labels: list[str] | None = None,
                 distill_temperature: float = 2.0, distill_alpha: float = 0.5,
                 encoder_learning_rate: float | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.feature_extractor = feature_extractor
        self.labels = labels
        self.distill_temperature = distill_temperature
        self.distill_alpha = distill_alpha
        self.encoder_learning_rate = encoder_learning_rate

    def score(self, dataset, description: str = "Scoring") -> tuple[dict, np.ndarray]:
        """``(metrics, log_probabilities (clips, num_labels))`` (NaN rows: no speech) of the model on ``dataset`` (``waveform`` and ``label``
        columns), every clip through :func:`~ser_hf.evaluation.evaluate.score_clips`; ``metrics`` are all of
        :func:`~ser_hf.evaluation.metrics.ser_metrics`."""
        dataset = dataset.with_format("numpy", columns=["waveform", "label"])
        self.model.eval()
        labels = self.labels or [self.model.config.id2label[i] for i in range(self.model.config.num_labels)]
        log_probabilities, predicted = score_clips(self.model, self.feature_extractor,
                                                   (row["waveform"] for row in dataset), list(range(len(labels))),
                                                   total=len(dataset), desc=description,
                                                   threads=None)  # training's own thread count
        references = np.asarray(dataset["label"])
        metrics = ser_metrics(predicted, references, labels)
        calibration = calibration_metrics(np.exp(log_probabilities), references, temperature_of(self.model))
        metrics.update({k: calibration[k] for k in ("ece", "ece_at_temperature_1") if k in calibration})
        return metrics, log_probabilities

    def evaluation_loop(self, dataloader, description, prediction_loss_only=None, ignore_keys=None,
                        metric_key_prefix: str = "eval") -> EvalLoopOutput:
        """Evaluation through :meth:`score` (see the class docstring); ``predictions`` are log probabilities
        ``(clips, num_labels)`` (NaN rows: no speech)."""
        metrics, log_probabilities = self.score(dataloader.dataset, description)
        return EvalLoopOutput(predictions=log_probabilities, label_ids=np.asarray(dataloader.dataset["label"]),
                              metrics={f"{metric_key_prefix}_{k}": metrics[k] for k in KEYS},
                              num_samples=metrics["num_records"] + metrics["no_speech"])

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
