"""What ``ser-hf predict`` is given: files, folders and CSV manifests -> audio files, and the speaker (session) of
each under ``--adapt-by``."""

from __future__ import annotations

from pathlib import Path

from ..data.audio_files import AUDIO_EXTENSIONS
from ..models.errors import SerError
from .bulk import manifest_rows


def audio_inputs(inputs: list[str]) -> list[tuple[str, dict | None]]:
    """Files, folders (searched for audio) and CSV manifests -> ``[(audio file, its manifest row or None)]``."""
    found = []
    for item in inputs:
        path = Path(item)
        if path.suffix.lower() == ".csv" and path.is_file():
            found += [(row["path"], row) for row in manifest_rows(path)]
        elif path.is_dir():
            found += [(str(p), None) for p in sorted(path.rglob("*"))
                      if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS]
        else:
            found.append((item, None))
    return found


def speaker_of(path: str, row: dict | None, adapt_by: str | None) -> str:
    """The session a file belongs to under ``--adapt-by``: one for all, its parent folder, or a manifest column."""
    if adapt_by is None:
        return ""
    if adapt_by == "folder":
        return str(Path(path).parent)
    if row is None or adapt_by not in row:
        where = "a manifest without that column" if row is not None else "no manifest"
        raise SerError(f"--adapt-by {adapt_by} reads the '{adapt_by}' column of a CSV manifest, but {path} comes "
                       f"from {where}; use --adapt-by folder or give a manifest with that column.")
    return row[adapt_by]
