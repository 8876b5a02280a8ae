"""Publishing to the Hugging Face Hub: the model folder with remote code and a rendered model card, and
the Space. ``--dry-run OUT`` writes exactly the folder that would be uploaded and sends nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..models.errors import SerError
from .card import read_json, render_model_card

MODEL_FILES = ("config.json", "model.safetensors", "preprocessor_config.json")
EVALUATION_FILES = ("metrics.json", "recipe.yaml", "per_corpus.json")
PACKAGE = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE.parent


def auto_map_modules(model_dir: Path) -> list[str]:
    """The ``.py`` files the ``auto_map`` of ``config.json`` and ``preprocessor_config.json`` name."""
    return sorted({str(ref).split("--")[-1].split(".")[0] + ".py" for config in ("config.json", "preprocessor_config.json")
                   for ref in read_json(model_dir / config).get("auto_map", {}).values()})


def remote_code_files(model_dir: Path) -> list[str]:
    """The ``.py`` files a saved model needs for ``trust_remote_code``: those named in ``auto_map`` and their
    sibling imports (``save_pretrained`` copied them all into the folder)."""
    named = set(auto_map_modules(model_dir))
    missing = [name for name in named if not (model_dir / name).is_file()]
    if missing:
        raise SerError(f"{model_dir} lacks the remote-code files {', '.join(missing)}; save it with ser_hf imported.")
    return sorted(named | {p.name for p in model_dir.glob("*.py")})


def prepare_model_folder(model_dir: str | os.PathLike, out_dir: str | os.PathLike, repo_id: str | None = None) -> Path:
    """Write what ``push`` uploads: config, weights, preprocessor config, remote code, ``README.md`` (the card),
    and ``metrics.json`` / ``recipe.yaml`` / ``per_corpus.json`` (``ser-hf evaluate --corpus all``) when present."""
    from ..scoring.loading import resolve_model_dir

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
        from ..scoring.loading import load_model

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


def ship_model(model_dir: str | os.PathLike, name: str, repo_id: str | None = None,
               pretrained_dir: str | os.PathLike | None = None) -> Path:
    """Copy a trained model into the package as ``ser_hf/pretrained/<name>``: weights, configs, the evaluation
    files and the card (``README.md``). The remote code is linked, not copied: each module the configs name (and
    its sibling imports) is a symbolic link to ``ser_hf/models/``, so ``pipeline(..., trust_remote_code=True)``
    loads the folder without ``import ser_hf`` and the package keeps one copy of the code."""
    from transformers.dynamic_module_utils import get_relative_import_files

    source = Path(model_dir)
    out = Path(pretrained_dir or PACKAGE / "pretrained") / name
    out.mkdir(parents=True, exist_ok=True)
    for item in (source / n for n in MODEL_FILES + EVALUATION_FILES):
        if item.is_file():
            shutil.copy2(item, out / item.name)
    for stale in out.glob("*.py"):
        stale.unlink()
    models = PACKAGE / "models"
    for module in auto_map_modules(out):
        for path in [models / module, *map(Path, get_relative_import_files(str(models / module)))]:
            if not (out / path.name).exists():
                (out / path.name).symlink_to(os.path.relpath(models / path.name, out))
    (out / "README.md").write_text(render_model_card(out, repo_id or f"ser-hf/ser-hf-{name}"))
    return out


def prepare_space_folder(out_dir: str | os.PathLike, space_dir: str | os.PathLike | None = None) -> Path:
    """Write what ``push --space`` uploads: ``space/`` (app, README with the Spaces header, requirements) and
    the ``ser_hf`` package the app imports (with any bundled models)."""
    space = Path(space_dir) if space_dir else REPO_ROOT / "space"
    if not (space / "app.py").is_file():
        raise SerError(f"{space} has no app.py; expected the repository's space/ folder.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for item in space.iterdir():
        if item.is_file():
            shutil.copy2(item, out / item.name)
    shutil.copytree(PACKAGE, out / "ser_hf", dirs_exist_ok=True,
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
