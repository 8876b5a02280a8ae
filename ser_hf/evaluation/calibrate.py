"""``ser-hf calibrate``: a trained model's temperature and session mode's population statistics, fitted on the
validation speakers of a protocol's fold, and its session head, fitted on the training speakers' embeddings; written
into its ``config.json`` (no weight changes)."""

from __future__ import annotations

import json

import numpy as np

from ..data.audio_files import load_audio
from ..data.protocols import protocol_corpora
from ..data.splits import load_split
from ..models.errors import SerError
from ..scoring.decision import normalize_log, softmax
from ..scoring.loading import load_model, resolve_model_dir
from ..scoring.session_head import SessionHead
from ..scoring.speech import default_gate
from .calibration import expected_calibration_error, fit_calibration
from .evaluate import label_columns, model_labels, score_clips
from .metrics import ser_metrics


def calibrate_model(model, data_dir=None, *, protocol: str = "multi-corpus", fold: int = 1, calm: str = "merge",
                    label_set: str | None = None, write: bool = False, progress: bool = True,
                    keep_temperature: bool = False, session_head: bool = False, vad: bool = True) -> dict:
    """Fit ``model``'s temperature on the validation speakers of ``fold`` of ``protocol`` (never its test speakers),
    and the population statistics of session mode on the same clips at that temperature
    (:func:`ser_hf.scoring.adaptation.population_statistics`); with ``write``, store them in the model folder's
    ``config.json`` (``calibration_temperature``, ``adaptation_class_means``, ``adaptation_spread``, and the running
    adapter's ``adaptation_prior`` and ``adaptation_neutral_prior``; no weight changes). ``keep_temperature`` keeps
    the model's own temperature (the statistics are fitted at it, and only they are written). With
    ``session_head``, the training speakers' clips are scored too and session mode's head fitted on their embeddings
    (:class:`ser_hf.scoring.session_head.SessionHead`; ``session_head`` in the config). Returns them, the validation
    UA and the ECE before and after."""

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
                                               total=len(part), desc="Scoring the validation speakers",
                                               gate=default_gate(vad))
    references = np.asarray(part["label"])
    fitted = fit_calibration(log_probabilities, references, columns, own_temperature if keep_temperature else None,
                             neutral=labels.index("neutral") if "neutral" in labels else None)
    temperature = fitted["calibration_temperature"]
    kept = ~np.isnan(log_probabilities).any(axis=1)
    scored = normalize_log(log_probabilities[kept][:, columns])
    result = {"temperature": temperature, "protocol": protocol, "fold": fold, "part": "validation",
              "num_records": int(kept.sum()), "ua": ser_metrics(predicted, references, split_labels)["ua"],
              "ece_before": expected_calibration_error(softmax(scored), references[kept]),
              "ece_after": expected_calibration_error(softmax(scored, temperature), references[kept]),
              **{k: v for k, v in fitted.items() if k.startswith("adaptation_")}}
    if session_head:
        result["session_head"] = fit_session_head(network, feature_extractor, split["train"], columns, progress,
                                                  vad).to_dict()
    if write:
        path = resolve_model_dir(model) / "config.json"
        config = json.loads(path.read_text())
        if not keep_temperature:
            config["calibration_temperature"] = temperature
        config.update({k: v for k, v in result.items() if k.startswith("adaptation_")})
        if session_head:
            config["session_head"] = result["session_head"]
        path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return result


def fit_session_head(network, feature_extractor, part, columns: list[int], progress: bool = True,
                     vad: bool = True) -> SessionHead:
    """Session mode's head fitted on the embeddings of ``part``'s clips with speech (a split's training speakers:
    ``label`` indexes the model's ``columns``, ``speaker`` groups them)."""
    waves = (load_audio(path, feature_extractor.sampling_rate) for path in part["path"])
    _, _, embeddings = score_clips(network, feature_extractor, waves, columns, progress=progress, total=len(part),
                                   desc="Scoring the training speakers", gate=default_gate(vad), embeddings=True)
    if embeddings is None:
        raise SerError("This model returns no embeddings, so it can have no session head.")
    speech = ~np.isnan(embeddings).any(axis=1)
    labels = np.asarray(columns)[np.asarray(part["label"])[speech]]
    return SessionHead.fit(embeddings[speech], labels, np.asarray(part["speaker"])[speech], network.config.num_labels)
