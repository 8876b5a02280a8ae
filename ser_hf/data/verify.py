"""Verify a user's download of an official WAV release against the shipped checksum lists.

The lists (``ser_hf/data/checksums/<corpus>.tsv.gz``: ``file, sha256, size_bytes``, named by each corpus's module)
come from each corpus's ``official_*.tsv`` in the project's data folder. Sizes are compared first (cheap), then the
SHA-256 of every file whose size matches.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from tqdm.auto import tqdm

from ..models.errors import SerDataError
from .corpora import get_corpus
from .corpus_scan import resolve_corpus_dir


@dataclass
class VerifyReport:
    """Outcome of :func:`verify_download`; ``ok`` only when every listed file is present and identical."""

    corpus: str
    data_dir: str
    num_expected: int
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    differing: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.differing)

    def to_dict(self) -> dict:
        return {
            "corpus": self.corpus,
            "data_dir": self.data_dir,
            "ok": self.ok,
            "num_expected": self.num_expected,
            "num_matched": len(self.matched),
            "missing": self.missing,
            "extra": self.extra,
            "differing": self.differing,
        }


def official_checksums(corpus: str) -> dict[str, tuple[str, int]]:
    """``{relative path: (sha256, size)}`` of the official WAV release of ``corpus``."""
    listed = get_corpus(corpus).checksums
    if listed is None:
        raise SerDataError(f"{get_corpus(corpus).display_name} has no list of official files to verify against.")
    data = resources.files("ser_hf.data").joinpath("checksums", listed).read_bytes()
    reader = csv.DictReader(io.StringIO(gzip.decompress(data).decode("utf-8")), delimiter="\t")
    return {row["file"]: (row["sha256"], int(row["size_bytes"])) for row in reader}


def sha256_file(path: str | os.PathLike, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def verify_download(corpus: str, data_dir: str | os.PathLike, *, progress: bool = True) -> VerifyReport:
    """Compare the ``.wav`` files under ``data_dir`` with the official list of ``corpus``.

    Lists files that are missing, extra (a ``.wav`` not in the release) or differing (size or SHA-256).
    """
    root = resolve_corpus_dir(corpus, data_dir)
    entry = get_corpus(corpus)
    if entry.checksum_root and (root / entry.checksum_root).is_dir():
        root = root / entry.checksum_root
    expected = official_checksums(corpus)
    aliases = entry.checksum_aliases
    found: dict[str, Path] = {}
    extra: list[str] = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix.lower() != ".wav" or path.name.startswith("."):
            continue
        rel = path.relative_to(root).as_posix()
        key = aliases.get(rel, rel)
        if key in expected and key not in found:
            found[key] = path
        else:
            extra.append(rel)
    if not found and not extra:
        raise SerDataError(
            f"No .wav files under {root}; `data verify` checks the official WAV release of "
            f"{entry.display_name} (converted copies such as Ogg files have no official checksums)."
        )
    report = VerifyReport(corpus, str(root), len(expected), extra=extra)
    report.missing = sorted(set(expected) - set(found))
    total = sum(expected[key][1] for key in found)
    with tqdm(total=total, unit="B", unit_scale=True, desc=f"verify {corpus}", disable=not progress) as bar:
        for key, path in sorted(found.items()):
            sha, size = expected[key]
            actual_size = path.stat().st_size
            if actual_size != size:
                report.differing.append({"file": key, "reason": f"size {actual_size} bytes, expected {size}"})
            elif sha256_file(path) != sha:
                report.differing.append({"file": key, "reason": "SHA-256 differs from the official file"})
            else:
                report.matched.append(key)
            bar.update(size)
    return report
