"""The examples in the README and the docs run and print what they show."""

import doctest
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_ser_hf

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
        return run_ser_hf(*args, cwd=REPO)

    readme = (REPO / "README.md").read_text()
    summary = run("data", "summary", "--corpus", "tess", "--data-dir", "../shared/data")
    assert summary.stdout.splitlines()[0] in readme
    splits = run("data", "splits", "--corpus", "ravdess", "--data-dir", "../shared/data", "--protocol", "ravdess-6fold")
    for line in splits.stdout.splitlines()[:6]:
        assert line in readme
    wrong = run("data", "summary", "--corpus", "ravdess", "--data-dir", "../shared/data/tess")
    assert wrong.stderr.strip() in readme


def test_user_guide_shows_the_real_output_of_the_new_commands(data_root, tmp_path):
    """The voice memo, the CSV timeline and the push dry run of docs/user_guide.md, run and compared line by line."""
    if data_root.resolve() != (REPO.parent / "shared" / "data").resolve():
        pytest.skip("the examples read ../shared/data")
    from ser_hf.data import load_audio
    from tests.conftest import write_with_ffmpeg

    guide = (REPO / "docs" / "user_guide.md").read_text()
    clip = data_root / "ravdess" / "Actor_01" / "03-01-05-02-01-01-01.ogg"
    write_with_ffmpeg(tmp_path / "voice_memo.m4a", load_audio(clip, 44100), 44100)

    def run(*args):
        return run_ser_hf(*args, cwd=tmp_path)

    memo = run("predict", "voice_memo.m4a")
    assert memo.returncode == 0 and memo.stdout.strip() in guide, memo.stdout + memo.stderr
    dry = run("push", "--model", "default", "--repo-id", "me/ser-hf-default", "--dry-run", str(tmp_path / "dry"))
    for line in dry.stdout.splitlines()[1:]:
        assert f"\n{line}\n" in guide, line
    assert f"Wrote {len(dry.stdout.splitlines()) - 1} files" in guide


def test_user_guide_stream_and_pipeline_outputs_are_the_real_ones(data_root):
    """The default model's `stream` example and the `pipeline` example of docs/user_guide.md, run and compared."""
    if data_root.resolve() != (REPO.parent / "shared" / "data").resolve():
        pytest.skip("the examples read ../shared/data")
    guide = (REPO / "docs" / "user_guide.md").read_text()
    clip = "../shared/data/ravdess/Actor_01/03-01-05-02-01-01-01.ogg"
    stream = run_ser_hf("stream", clip, cwd=REPO)
    assert stream.returncode == 0, stream.stderr[-2000:]
    shown = guide.split(f"$ ser-hf stream {clip}\n", 1)[1].split("\n$ ", 1)[0].splitlines()
    assert [line.rstrip() for line in stream.stdout.splitlines()] == shown
    block = guide.split("## With transformers' `pipeline`", 1)[1].split("```console\n", 1)[1].split("```", 1)[0]
    code = block.split('$ python -c "', 1)[1].rsplit('"', 1)[0]
    printed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=300, check=False,
                             env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert printed.returncode == 0, printed.stderr[-2000:]
    import ast  # the scores' last digits depend on the thread count: compared to 1e-6

    answers, shown_answers = (ast.literal_eval(text) for text in (printed.stdout.strip(), block.strip().splitlines()[-1]))
    assert [a["label"] for a in answers] == [a["label"] for a in shown_answers]
    assert [a["score"] for a in answers] == pytest.approx([a["score"] for a in shown_answers], abs=1e-6)


def test_user_facing_files_carry_no_internal_vocabulary():
    """Session and issue numbers mean nothing to a reader: history is in CHANGELOG.md, by date."""
    import re

    internal = re.compile(r"\b(?:sessions?|issues?) \d+\b(?![.\-]\d)", re.IGNORECASE)
    files = [REPO / "README.md", REPO / "model_card.md", REPO / "CHANGELOG.md", *REPO.glob("docs/**/*.md"),
             *REPO.glob("recipes/**/*.md"), *REPO.glob("space/*.md"), *REPO.glob("ser_hf/pretrained/*/README.md"),
             *REPO.glob("recipes/**/*.yaml"), *REPO.glob("recipes/scripts/*.py"), *REPO.glob("recipes/scripts/*.sh"),
             *REPO.glob("ser_hf/**/*.py"), *REPO.glob("space/*.py")]
    found = [f"{path.relative_to(REPO)}:{number}: {line.strip()[:80]}" for path in files
             for number, line in enumerate(path.read_text().splitlines(), 1) if internal.search(line)]
    assert len(files) > 60 and not found, found


def test_every_command_that_prints_a_result_takes_json():
    """What the README says of `--json`, checked on the parser itself."""
    import argparse

    from ser_hf.cli import build_parser

    def commands(parser, prefix=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from commands(sub, prefix + (name,))
                return
        yield prefix, parser

    found = {" ".join(name): any("--json" in a.option_strings for a in p._actions) for name, p in commands(build_parser())}
    assert len(found) >= 16 and {name for name, has in found.items() if not has} == {"demo"}
    assert "Every command that prints a result takes `--json` (all but `demo`" in (REPO / "README.md").read_text()


def _figures():
    import importlib.util

    spec = importlib.util.spec_from_file_location("figures", REPO / "utils" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_figures_in_the_docs_are_the_ones_their_json_holds(capsys):
    figures = _figures()
    assert figures.main(["--check"]) == 0, capsys.readouterr().out
    readme = (REPO / "README.md").read_text()
    default = figures.shipped("default")
    assert f"| {default['ravdess']['ua']:.3f} | {default['crema_d']['ua']:.3f} | {default['tess']['ua']:.3f} |" in readme
    # A block that says something else is rewritten from the JSON; an unknown one is refused.
    stale = "<!-- figures:targets -->\nThe targets are met.\n<!-- /figures:targets -->\n"
    fresh = figures.render(stale)
    assert "are met" not in fresh and "0.80 / 0.76 / 0.85 for the default" in fresh and fresh.startswith("<!-- figures")
    with pytest.raises(SystemExit, match="unknown figures block 'nope'"):
        figures.render("<!-- figures:nope -->\nx\n<!-- /figures:nope -->", "x.md")
