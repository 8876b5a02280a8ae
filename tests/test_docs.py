"""The examples in the README and the docs run and print what they show."""

import doctest
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "docs/feature_extraction.md"]


@pytest.mark.parametrize("doc", DOCS)
def test_python_examples(doc, data_root, monkeypatch):
    monkeypatch.chdir(REPO)
    if data_root.resolve() != (REPO.parent / "shared" / "data").resolve():
        pytest.skip("the examples read ../shared/data")
    result = doctest.testfile(str(REPO / doc), module_relative=False,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_readme_console_examples(data_root):
    if data_root.resolve() != (REPO.parent / "shared" / "data").resolve():
        pytest.skip("the examples read ../shared/data")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "ser_hf.cli", *args], capture_output=True, text=True,
                              cwd=REPO, timeout=300)

    readme = (REPO / "README.md").read_text()
    summary = run("data", "summary", "--corpus", "tess", "--data-dir", "../shared/data")
    assert summary.stdout.splitlines()[0] in readme
    splits = run("data", "splits", "--corpus", "ravdess", "--data-dir", "../shared/data", "--protocol", "ravdess-6fold")
    for line in splits.stdout.splitlines()[:6]:
        assert line in readme
    wrong = run("data", "summary", "--corpus", "ravdess", "--data-dir", "../shared/data/tess")
    assert wrong.stderr.strip() in readme
