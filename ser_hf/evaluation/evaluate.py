"""Scoring a trained model on clips with known labels: the Trainer's evaluation and ``ser-hf evaluate``.

Every clip goes through :func:`ser_hf.scoring.score_waveform`, the path ``ser-hf predict`` takes, so a clip's
label here is the one ``predict`` gives it. ``evaluate_model`` writes the report files and
``predictions.jsonl`` (one line per clip: ``path``, ``speaker``, ``emotion`` (true), ``predicted``, ``scores``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from tqdm.auto import tqdm

from ..models.errors import SerError
from ..scoring.decision import decide
from ..scoring.score import score_waveform, temperature_of
from ..scoring.speech import NO_SPEECH, SpeechGate, default_gate
from ..scoring.threads import DEFAULT_THREADS, inference_threads
from .reports import write_report


def model_labels(model) -> list[str]:
    return [model.config.id2label[i] for i in range(model.config.num_labels)]


def label_columns(model_labels: list[str], labels: list[str]) -> list[int]:
    """The model's output index of each of ``labels``; scoring keeps only these columns (the same as masking
    the model's other labels before the argmax). Every label must be one of the model's."""
    missing = [label for label in labels if label not in model_labels]
    if missing:
        raise SerError(
            f"The model does not predict {', '.join(missing)} (it knows {', '.join(model_labels)}); choose a label "
            "set within the model's labels (for example --label-set core6), or --calm merge for RAVDESS calm."
        )
    return [model_labels.index(label) for label in labels]


def evaluation_labels(model_labels: list[str], corpus: str, label_set: str | None) -> list[str]:
    """The labels to score: ``label_set`` if given, else the model's labels that the corpus has."""
    from ..data.corpora import get_corpus
    from ..data.labels import get_label_set

    if label_set:
        return list(get_label_set(label_set))
    native = get_label_set(get_corpus(corpus).native_label_set)
    return [label for label in model_labels if label in native]


def model_calm_policy(model) -> str:
    """The model's own RAVDESS calm choice (``data.calm`` of the ``recipe.yaml`` beside it), else ``"drop"``."""
    data = _model_recipe(model).get("data", {})
    return data.get("calm", "drop") if data.get("calm") in ("drop", "merge") else "drop"


def scored_clips(corpus: str, data_dir, labels: list[str], calm: str, protocol: str | None, fold: int,
                 part: str = "test"):
    """``(clips, left_out, skipped)`` from one scan of the corpus folder: the clips scored on ``labels`` (the whole
    corpus, or its ``part`` speakers in ``fold`` of ``protocol``), ``{emotion: clips}`` of the same speakers that the
    labels leave out, and the files the scan skipped."""
    from collections import Counter

    from ..data.corpora import get_corpus
    from ..data.corpus_scan import scan_corpus
    from ..data.loading import records_to_dataset
    from ..data.labels import map_emotion
    from ..data.protocols import make_split, protocol_corpora

    if protocol and corpus not in protocol_corpora(protocol):
        raise SerError(f"Protocol {protocol} does not split {corpus}; use the corpus's own protocol.")
    scan = scan_corpus(corpus, data_dir)
    clips, everything = (records_to_dataset(scan.records, label_set, calm=calm)
                         for label_set in (labels, get_corpus(corpus).native_label_set))
    if protocol:
        if part not in ("test", "validation"):
            raise SerError(f"Expected part 'test' or 'validation', got {part!r}.")
        clips, everything = (make_split(rows, protocol, fold)[part] for rows in (clips, everything))
    left_out = Counter(e for e in everything["emotion"] if map_emotion(e, tuple(labels), calm) is None)
    return clips, dict(left_out), scan.skipped


def score_clips(model, feature_extractor, waveforms: Iterable[np.ndarray], columns: list[int], *,
                progress: bool = False, total: int | None = None, desc: str = "Scoring",
                gate: SpeechGate | None = None, threads: int | None = DEFAULT_THREADS, embeddings: bool = False):
    """``(log_probabilities (clips, num_model_labels), predicted (clips,))``: each clip scored by ``score_waveform``
    on ``threads`` torch threads (``None``: torch's setting); ``predicted`` is :func:`ser_hf.scoring.decision.decide`
    over ``columns`` (an index into them, the argmax over those labels), -1 where there was no speech (its row is NaN).
    With ``embeddings``, a third item: the clips' embeddings ``(clips, dims)`` (NaN without speech), or ``None`` from a
    model that returns none."""
    rows, pooled = [], []
    with inference_threads(threads):  # torch's default on a busy machine: 15x slower here (the default model)
        for wave in tqdm(waveforms, desc=desc, total=total, disable=not progress):
            scored = score_waveform(model, feature_extractor, wave, gate=gate)
            rows.append(np.full(model.config.num_labels, np.nan) if scored.log_probabilities is None
                        else scored.log_probabilities)
            pooled.append(scored.embedding)
    log_probabilities = np.stack(rows) if rows else np.zeros((0, model.config.num_labels))
    if not embeddings:
        return log_probabilities, decide(log_probabilities, columns)
    dims = next((e.shape[0] for e in pooled if e is not None), None)
    stacked = None if dims is None else np.stack([np.full(dims, np.nan) if e is None else e for e in pooled])
    return log_probabilities, decide(log_probabilities, columns), stacked


def write_predictions(path: str | os.PathLike, rows, probabilities: np.ndarray, predicted: np.ndarray,
                      labels: list[str], all_labels: list[str]) -> None:
    """``predictions.jsonl``: ``path``, ``speaker``, ``emotion`` (true), ``predicted`` and ``scores`` (every model
    label's probability, best first) of each clip."""
    with open(path, "w") as out:
        for i, (clip, speaker, emotion) in enumerate(zip(rows["path"], rows["speaker"], rows["emotion"])):
            scores = {} if predicted[i] < 0 else {all_labels[j]: round(float(probabilities[i, j]), 4)
                                                  for j in np.argsort(-probabilities[i])}
            record = {"path": clip, "speaker": speaker, "emotion": emotion,
                      "predicted": NO_SPEECH if predicted[i] < 0 else labels[predicted[i]], "scores": scores}
            out.write(json.dumps(record) + "\n")


def evaluate_model(
    model: str | os.PathLike | None,
    corpus: str,
    data_dir: str | os.PathLike | None,
    output_dir: str | os.PathLike,
    *,
    protocol: str | None = None,
    fold: int = 1,
    label_set: str | None = None,
    calm: str | None = None,
    progress: bool = True,
    vad: bool = True,
    conditions: Sequence[str] | None = None,
    backend: str = "torch",
    part: str = "test",
    threads: int | None = DEFAULT_THREADS,
) -> dict:
    """Score ``model`` (a folder; ``None``/``"compact"`` for the bundled ones) on ``corpus``: the whole corpus,
    or ``corpus``'s share of the ``part`` (test, or validation for tuning) of ``fold`` of ``protocol``, with the speech
    gate ``predict`` uses (Silero VAD unless ``vad=False``). Writes the report files and ``predictions.jsonl`` to
    ``output_dir``; with ``conditions`` (see :mod:`ser_hf.data.degradations`) also the robustness report. ``calm``
    defaults to the model's own choice (its recipe's); clips outside the scored labels are counted in ``left_out``.
    Scores on ``threads`` threads (``0``/``None``: torch's and ONNX Runtime's defaults).
    Returns the metrics (with ``robustness``: condition -> metrics)."""
    from ..scoring.loading import load_model

    network, feature_extractor = load_model(model, backend, threads=threads)  # torch, onnx or onnx-int8: the same scoring path
    all_labels = model_labels(network)
    labels = evaluation_labels(all_labels, corpus, label_set)
    label_columns(all_labels, labels)  # fails early on unknown labels
    calm = calm or model_calm_policy(model)
    dataset, left_out, skipped = scored_clips(corpus, data_dir, labels, calm, protocol, fold, part)
    title = f"{model_name(model)} on {corpus}" + (f", {protocol} fold {fold}" if protocol else "") + \
        (f" ({part} speakers)" if protocol and part != "test" else "")
    return score_and_report(network, feature_extractor, dataset, labels, output_dir, title=title, skipped=skipped,
                            left_out=left_out, calm=calm, progress=progress, vad=vad, conditions=conditions,
                            threads=threads, desc=corpus)


def model_name(model) -> str:
    """A short name for report titles: the bundled model's name, or the last two parts of a folder."""
    return "/".join(Path(str(model)).parts[-2:]) if model and str(model) not in ("default", "compact") else (model or "default")


def evaluate_on_data(
    model: str | os.PathLike | None,
    source,
    output_dir: str | os.PathLike,
    *,
    part: str = "test",
    seed: int | None = None,
    strict: bool = False,
    progress: bool = True,
    vad: bool = True,
    backend: str = "torch",
    threads: int | None = DEFAULT_THREADS,
) -> dict:
    """Score ``model`` on one's own labelled recordings (``source``: see :mod:`ser_hf.data.user_data`): the ``part``
    (``test``, ``validation``) of their split, made as training made it (``seed``: the model's own recipe's, else 0),
    or ``all`` of them. Clips of labels the model does not know are counted in ``left_out``. Writes the report files
    and ``predictions.jsonl`` like :func:`evaluate_model` and returns the metrics."""
    from collections import Counter

    from ..data.user_data import load_user_data, relabel, split_user_data
    from ..scoring.loading import load_model

    if part not in ("test", "validation", "all"):
        raise SerError(f"Expected part 'test', 'validation' or 'all', got {part!r}.")
    network, feature_extractor = load_model(model, backend, threads=threads)
    user = load_user_data(source, strict=strict)
    if seed is None:
        seed = int(_model_recipe(model).get("training", {}).get("seed", 0))
    rows = user.dataset if part == "all" else split_user_data(user, seed=seed)[part]
    all_labels = model_labels(network)
    labels = [label for label in all_labels if label in set(rows["emotion"])]
    if not labels:
        raise SerError(f"The model predicts {', '.join(all_labels)}; none of them is a label of {source} "
                       f"({', '.join(user.labels)}).")
    left_out = dict(Counter(e for e in rows["emotion"] if e not in labels))
    dataset = relabel(rows.filter(lambda emotion: emotion in labels, input_columns="emotion"), labels)
    title = f"{model_name(model)} on {Path(str(source)).name}" + ("" if part == "all" else f" ({part} part)")
    return score_and_report(network, feature_extractor, dataset, labels, output_dir, title=title,
                            skipped=user.skipped, left_out=left_out, calm=None, progress=progress, vad=vad,
                            threads=threads, desc=Path(str(source)).name)


def _model_recipe(model) -> dict:
    import yaml

    from ..scoring.loading import resolve_model_dir

    recipe = resolve_model_dir(model) / "recipe.yaml"
    return (yaml.safe_load(recipe.read_text()) or {}) if recipe.is_file() else {}


def score_and_report(network, feature_extractor, dataset, labels: list[str], output_dir, *, title: str, skipped,
                     left_out: dict, calm: str | None, progress: bool, vad: bool, threads, desc: str,
                     conditions: Sequence[str] | None = None) -> dict:
    """Score every clip of ``dataset`` (its ``label`` indexes ``labels``, each one of the model's) as ``predict`` does,
    write the report files and ``predictions.jsonl`` (and, with ``conditions``, the robustness report) to
    ``output_dir``; return the metrics."""
    from ..data.audio_files import load_audio

    all_labels = model_labels(network)
    columns = label_columns(all_labels, labels)
    rate = feature_extractor.sampling_rate
    waves = (load_audio(path, rate) for path in dataset["path"])
    gate = default_gate(vad)
    log_probabilities, predicted, embeddings = score_clips(
        network, feature_extractor, waves, columns, progress=progress, total=len(dataset),
        desc=f"Evaluating on {desc}", gate=gate, threads=threads, embeddings=True)
    probabilities = np.exp(log_probabilities)
    from .sessions import model_session_adapter, session_metrics

    adapt = model_session_adapter(network.config)
    sessions = session_metrics(log_probabilities, np.asarray(dataset["label"]), np.asarray(dataset["speaker"]),
                               columns, labels, adapt, embeddings) if adapt is not None else None
    metrics = write_report(output_dir, predicted, np.asarray(dataset["label"]), labels, rows=dataset,
                           skipped=[vars(s) for s in skipped], title=title, probabilities=probabilities[:, columns],
                           temperature=temperature_of(network), left_out=left_out, calm=calm, sessions=sessions)
    write_predictions(Path(output_dir) / "predictions.jsonl", dataset, probabilities, predicted, labels, all_labels)
    if conditions:
        from .robustness import score_conditions, write_robustness

        def score(waves):
            log_probabilities, predicted = score_clips(network, feature_extractor, waves, columns, progress=progress,
                                                       total=len(dataset), desc=f"{desc}, a condition", gate=gate,
                                                       threads=threads)
            return np.exp(log_probabilities[:, columns]), predicted

        paths = dataset["path"]
        metrics["robustness"] = score_conditions(score, lambda i: load_audio(paths[i], rate), len(paths),
                                                 np.asarray(dataset["label"]), labels, conditions,
                                                 temperature_of(network))
        write_robustness(output_dir, metrics["robustness"], title)
    return metrics


def evaluate_per_corpus(
    model: str | os.PathLike | None,
    data_dir: str | os.PathLike | None,
    output_dir: str | os.PathLike,
    *,
    protocol: str = "multi-corpus",
    fold: int = 1,
    **options,
) -> dict:
    """Score ``model`` on each corpus of ``protocol``'s ``fold`` (its test part, or ``part``) separately (reports in
    ``output_dir/<corpus>``; ``options`` as :func:`evaluate_model` takes them); writes and returns
    ``per_corpus.json``: ``{corpus: metrics summary}``."""
    from ..data.protocols import protocol_corpora

    results = {}
    for corpus in protocol_corpora(protocol):
        metrics = evaluate_model(model, corpus, data_dir, Path(output_dir) / corpus, protocol=protocol, fold=fold,
                                 **options)
        results[corpus] = {"protocol": protocol, "fold": fold, "part": options.get("part", "test"), "labels": metrics["labels"],
                           "calm": metrics.get("calm", options.get("calm")),
                           **{k: metrics[k] for k in ("ua", "wa", "macro_f1", "weighted_f1", "num_records")}}
        for key in ("robustness", "sessions"):
            if key in metrics:
                results[corpus][key] = metrics[key]
    (Path(output_dir) / "per_corpus.json").write_text(json.dumps(results, indent=2))
    return results
