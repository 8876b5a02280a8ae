"""Bulk prediction: resumable JSON lines, manifests, worker decoding, and two accelerate processes."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from tests.conftest import save_tiny_cnn, voice

REPO = Path(__file__).resolve().parent.parent
LABELS = ["neutral", "happy", "sad", "angry"]


def cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "ser_hf.cli", *args], capture_output=True, text=True, timeout=600,
                          cwd=cwd, env={**os.environ, **(env or {})})


def archive(folder: Path, count: int = 6) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        paths.append(str(folder / f"call{i:02d}.wav"))
        sf.write(paths[-1], voice(1.5 + i, seed=i), 16000)  # 1.5 to 6.5 s: whole clips and windowed ones
    return paths


def test_bulk_output_resumes_without_duplicates_and_equals_predict_json(tmp_path):
    model = save_tiny_cnn(tmp_path / "model", LABELS)
    paths = archive(tmp_path / "archive")
    (tmp_path / "archive" / "broken.wav").write_text("not audio")
    out = tmp_path / "results.jsonl"
    first = cli("predict", str(tmp_path / "archive"), "--model", str(model), "--no-vad", "--output", str(out),
                "--workers", "2", "--json")
    assert first.returncode == 1, first.stderr  # one file failed; it is a record, not a crash
    stats = json.loads(first.stdout)
    assert (stats["predicted"], stats["failed"], stats["done_before"]) == (6, 1, 0)
    lines = out.read_text().splitlines()
    assert len(lines) == 7 and json.loads(lines[0])["path"].endswith("broken.wav")
    assert "error" in json.loads(lines[0])
    # What `predict --json` prints, record for record.
    printed = json.loads(cli("predict", *paths, "--model", str(model), "--no-vad", "--json").stdout)
    assert [json.loads(line) for line in lines[1:]] == printed
    # An interrupted run: the last two records lost and a torn line left behind.
    out.write_text("\n".join(lines[:5]) + "\n" + lines[5][:40])
    again = cli("predict", str(tmp_path / "archive"), "--model", str(model), "--no-vad", "--output", str(out), "--json")
    assert again.returncode == 1, again.stderr  # the broken file is tried again, and fails again
    resumed = json.loads(again.stdout)
    assert (resumed["done_before"], resumed["predicted"], resumed["failed"]) == (4, 2, 1)
    assert out.read_text().splitlines() == lines[1:5] + [lines[0]] + lines[5:]  # its error line moved, not doubled
    sf.write(str(tmp_path / "archive" / "broken.wav"), voice(2.0, seed=9), 16000)  # the file repaired
    done = cli("predict", str(tmp_path / "archive"), "--model", str(model), "--no-vad", "--output", str(out), "--json")
    assert done.returncode == 0 and (json.loads(done.stdout)["predicted"], json.loads(done.stdout)["failed"]) == (1, 0)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 7 and not any("error" in r for r in records) and records[-1]["path"].endswith("broken.wav")


def test_a_manifest_lists_the_files_relative_to_itself(tmp_path):
    model = save_tiny_cnn(tmp_path / "model", LABELS)
    paths = archive(tmp_path / "archive", 3)
    manifest = tmp_path / "archive" / "manifest.csv"
    manifest.write_text("path,speaker\n" + "".join(f"{Path(p).name},s{i}\n" for i, p in enumerate(paths)))
    result = cli("predict", str(manifest), "--model", str(model), "--no-vad", "--output", str(tmp_path / "r.jsonl"))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["path"] for line in (tmp_path / "r.jsonl").read_text().splitlines()] == paths
    (tmp_path / "bad.csv").write_text("file\nx.wav\n")
    bad = cli("predict", str(tmp_path / "bad.csv"), "--model", str(model), "--output", str(tmp_path / "b.jsonl"))
    assert bad.returncode == 1 and "has no 'path' column" in bad.stderr and "Traceback" not in bad.stderr


def test_two_accelerate_processes_write_what_one_process_writes(tmp_path):
    model = save_tiny_cnn(tmp_path / "model", LABELS)
    archive(tmp_path / "archive", 5)
    one = tmp_path / "one.jsonl"
    alone = cli("predict", str(tmp_path / "archive"), "--model", str(model), "--no-vad", "--output", str(one),
                "--workers", "0", "--json")
    assert alone.returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    two = tmp_path / "two.jsonl"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
               str(REPO / "recipes" / "accelerate" / "cpu_2proc.yaml"), "--main_process_port", str(port),
               "-m", "ser_hf.cli", "predict", str(tmp_path / "archive"), "--model", str(model), "--no-vad",
               "--output", str(two), "--workers", "0", "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert two.read_text() == one.read_text()
    stats = json.loads(result.stdout)  # the main process reports for both
    assert (stats["processes"], stats["shares"], stats["predicted"], stats["files"]) == (2, [3, 2], 5, 5)
    assert stats["seconds_of_audio"] == json.loads(alone.stdout)["seconds_of_audio"]
    assert not list(tmp_path.glob("two.jsonl.part*"))


def test_workers_answer_the_vad_and_the_results_equal_predict(tmp_path, data_root):
    import numpy as np

    clips = [str(data_root / "ravdess" / name) for name in (
        "Actor_02/03-01-05-02-01-02-02.ogg", "Actor_02/03-01-03-02-02-01-02.ogg")]
    long = tmp_path / "long.wav"  # scored in windows, one of them silent
    sf.write(str(long), np.concatenate([sf.read(clips[0], dtype="float32")[0], np.zeros(6 * 16000, np.float32),
                                        sf.read(clips[1], dtype="float32")[0]]), 16000)
    noise = tmp_path / "noise.wav"
    sf.write(str(noise), (0.05 * np.random.default_rng(0).standard_normal(3 * 16000)).astype(np.float32), 16000)
    files = [*clips, str(long), str(noise)]
    out = tmp_path / "r.jsonl"
    result = cli("predict", *files, "--model", "compact", "--output", str(out), "--workers", "2", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    bulk = [json.loads(line) for line in out.read_text().splitlines()]
    assert bulk == json.loads(cli("predict", *files, "--model", "compact", "--json").stdout)
    assert bulk[-1]["label"] == "no speech" and bulk[0]["label"] == "angry"
    assert len(bulk[2]["segments"]) < 7  # the silent windows were left out


@pytest.mark.parametrize("signal_name", ["SIGINT", "SIGKILL"])
def test_an_interrupted_bulk_run_says_one_line_and_leaves_no_process(tmp_path, signal_name):
    import signal
    import time

    import psutil

    model = save_tiny_cnn(tmp_path / "model", LABELS)
    folder = tmp_path / "archive"
    folder.mkdir()
    for i in range(60):
        sf.write(str(folder / f"call{i:02d}.wav"), voice(8.0, seed=i), 16000)
    out = tmp_path / "results.jsonl"
    run = subprocess.Popen([sys.executable, "-m", "ser_hf.cli", "predict", str(folder), "--model", str(model),
                            "--output", str(out), "--workers", "2"], stderr=subprocess.PIPE, text=True,
                           env={**os.environ, "HF_HUB_OFFLINE": "1"},
                           # pytest-xdist's workers ignore SIGINT, and an ignored signal stays ignored across exec
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (out.is_file() and out.read_text().count("\n") >= 2):  # running, its workers started
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    children = psutil.Process(run.pid).children(recursive=True)
    assert len(children) >= 2  # the decoding workers (and the resource tracker)
    run.send_signal(getattr(signal, signal_name))
    stderr = run.communicate(timeout=120)[1]
    if signal_name == "SIGINT":  # progress bar lines, then one sentence: no worker tracebacks
        assert run.returncode == 130 and stderr.strip().splitlines()[-1] == "ser-hf: interrupted"
        assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [c.pid for c in alive]
