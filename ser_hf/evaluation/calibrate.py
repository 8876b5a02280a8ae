"""``ser-hf calibrate``: a trained model's temperature and session mode's population statistics, fitted on the
validation speakers of a protocol's fold and written into its ``config.json`` (no weight changes)."""

from __future__ import annotations

import json

import numpy as np

from ..data.audio_files import load_audio
from ..data.protocols import protocol_corpora
from ..data.splits import load_split
from ..scoring.decision import normalize_log, softmax
from ..scoring.loading import load_model, resolve_model_dir
from .calibration import expected_calibration_error, fit_calibration
from .evaluate import label_columns, model_labels, score_clips
from .metrics import ser_metrics


def calibrate_model(model, data_dir=None, *, protocol: str = "multi-corpus", fold: int = 1, calm: str = "merge",
                    label_set: str | None = None, write: bool = False, progress: bool = True,
                    keep_temperature: bool = False) -> dict:
    """Fit ``model``'s temperature on the validation speakers of ``fold`` of ``protocol`` (never its test speakers),
    and the population statistics of session mode on the same clips at that temperature
    (:func:`ser_hf.scoring.adaptation.population_statistics`); with ``write``, store them in the model folder's
    ``config.json`` (``calibration_temperature``, ``adaptation_class_means``, ``adaptation_spread``; no weight
    changes). ``keep_temperature`` keeps the model's own temperature (the statistics are fitted at it, and only they
    are written). Returns them, the validation UA and the ECE before and after."""

    network, feature_extractor = load_model(model)
    own_temperature = float(getattr(network.config, "calibration_temperature", None) or 1.0)
    network.config.calibration_temperature = 1.0  # fit from the raw logits
    labels = model_labels(network)
    split, split_labels = load_split(protocol_corpora(protocol), data_dir, label_set or "core7", calm=calm,
                                     protocol=protocol, fold=fold)
    part = split["validation"]
    columns = label_columns(labels, split_labels)
    waves = (load_audio(path, feature_extractor.sampling_rate) for path in part["path"])
    log_probabilities, predicted = score_clips(network, feature_extractor, waves, columns, progress=progress,
                                               total=len(part), desc="Scoring the validation speakers")
    references = np.asarray(part["label"])
    fitted = fit_calibration(log_probabilities, references, columns, own_temperature if keep_temperature else None)
    temperature = fitted["calibration_temperature"]
    kept = ~np.isnan(log_probabilities).any(axis=1)
    scored = normalize_log(log_probabilities[kept][:, columns])
    result = {"temperature": temperature, "protocol": protocol, "fold": fold, "part": "validation",
              "num_records": int(kept.sum()), "ua": ser_metrics(predicted, references, split_labels)["ua"],
              "ece_before": expected_calibration_error(softmax(scored), references[kept]),
              "ece_after": expected_calibration_error(softmax(scored, temperature), references[kept]),
              "adaptation_class_means": fitted["adaptation_class_means"],
              "adaptation_spread": fitted["adaptation_spread"]}
    if write:
        path = resolve_model_dir(model) / "config.json"
        config = json.loads(path.read_text())
        if not keep_temperature:
            config["calibration_temperature"] = temperature
        config["adaptation_class_means"] = result["adaptation_class_means"]
        config["adaptation_spread"] = result["adaptation_spread"]
        path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return result
