"""`ser-hf data ...`: JSON shapes, exit codes and one-line errors."""

import hashlib
import json
import subprocess

import pytest

from ser_hf.cli import main
from ser_hf.data import verify
from tests.conftest import run_ser_hf


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return run_ser_hf(*args)


def test_summary_json(data_root, capsys):
    assert main(["data", "summary", "--corpus", "crema_d", "--data-dir", str(data_root), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"corpus", "num_records", "num_speakers", "emotions", "speakers", "duration_s", "skipped"}
    assert (summary["num_records"], summary["num_speakers"]) == (7441, 91)
    assert summary["emotions"]["neutral"] == 1087 and summary["speakers"]["crema_d_1001"] == 82
    assert summary["skipped"] == [{"path": "AudioWAV/1076_MTI_SAD_XX.ogg",
                                   "reason": "digital silence from start to end (no speech to learn from)"}]
    assert 18900 < summary["duration_s"] < 18930


def test_summary_strict_fails_on_the_silent_clip(data_root):
    result = run_cli("data", "summary", "--corpus", "crema_d", "--data-dir", str(data_root), "--strict")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "1076_MTI_SAD_XX" in result.stderr and "Traceback" not in result.stderr


def test_splits_json(data_root, capsys):
    assert main(["data", "splits", "--corpus", "ravdess", "--data-dir", str(data_root / "ravdess"),
                 "--protocol", "ravdess-6fold", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["protocol"] == "ravdess-6fold" and len(out["folds"]) == 6
    fold = out["folds"][0]
    assert fold["name"] == "fold1"
    assert fold["test"] == {"speakers": ["ravdess_01", "ravdess_02", "ravdess_03", "ravdess_04"], "num_records": 240}
    assert fold["train"]["num_records"] + fold["validation"]["num_records"] == 1200


@pytest.mark.parametrize("args, message", [
    (["data", "summary", "--corpus", "ravdess", "--data-dir", "/nonexistent/ravdess"], "does not exist"),
    (["data", "summary", "--corpus", "nope", "--data-dir", "."], "invalid choice"),
    (["data", "splits", "--corpus", "tess", "--data-dir", "/nonexistent", "--protocol", "bogus"], "invalid choice"),
])
def test_bad_usage_is_one_line_and_non_zero(args, message):
    result = run_cli(*args)
    assert result.returncode in (1, 2)
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_wrong_corpus_folder(data_root):
    result = run_cli("data", "summary", "--corpus", "ravdess", "--data-dir", str(data_root / "tess"))
    assert result.returncode == 1
    assert "looks like a TESS folder" in result.stderr and len(result.stderr.splitlines()) == 1


def test_verify_a_generated_tree_matching_and_tampered(tmp_path, audio_writer, monkeypatch, capsys):
    audio = tmp_path / "crema_d" / "AudioWAV"
    files = {name: audio_writer(audio / name, freq=200 + 10 * i)
             for i, name in enumerate(["1001_DFA_ANG_XX.wav", "1001_DFA_DIS_XX.wav", "1040_ITH_SAD_X.wav"])}
    listed = {("1040_ITH_SAD_XX.wav" if name.endswith("_X.wav") else name):
              (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size) for name, path in files.items()}
    monkeypatch.setattr(verify, "official_checksums", lambda corpus: dict(listed))

    assert main(["data", "verify", "--corpus", "crema_d", "--data-dir", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["num_matched"] == 3 and report["missing"] == report["extra"] == []

    data = bytearray(files["1001_DFA_DIS_XX.wav"].read_bytes())
    data[-1] ^= 0xFF  # same size, different content
    files["1001_DFA_DIS_XX.wav"].write_bytes(bytes(data))
    files["1001_DFA_ANG_XX.wav"].unlink()
    audio_writer(audio / "9999_XXX_ANG_XX.wav")
    assert main(["data", "verify", "--corpus", "crema_d", "--data-dir", str(tmp_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"]
    assert report["missing"] == ["1001_DFA_ANG_XX.wav"]
    assert report["extra"] == ["9999_XXX_ANG_XX.wav"]
    assert report["differing"] == [{"file": "1001_DFA_DIS_XX.wav", "reason": "SHA-256 differs from the official file"}]


def test_shipped_checksum_lists_match_the_data_folder(data_root):
    for corpus, count in (("ravdess", 1440), ("tess", 2800), ("crema_d", 7442)):
        listed = verify.official_checksums(corpus)
        assert len(listed) == count
    assert verify.official_checksums("ravdess")["Actor_01/03-01-01-01-01-01-01.wav"][1] == 375720


def test_verify_on_the_ogg_copies_says_what_it_checks(data_root):
    result = run_cli("data", "verify", "--corpus", "tess", "--data-dir", str(data_root))
    assert result.returncode == 1 and "No .wav files" in result.stderr


def test_data_dir_defaults_to_ser_hf_data(data_root, monkeypatch, capsys):
    from ser_hf.data import load_corpus

    monkeypatch.setenv("SER_HF_DATA", str(data_root))
    assert main(["data", "summary", "--corpus", "tess", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["num_records"] == 2800
    assert len(load_corpus("tess")) == 2800
    monkeypatch.setenv("SER_HF_DATA", str(data_root / "absent"))
    assert main(["data", "summary", "--corpus", "tess"]) == 1
    assert "does not exist" in capsys.readouterr().err
