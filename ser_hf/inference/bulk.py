"""Bulk prediction over archives: ``ser-hf predict DIR|manifest.csv --output results.jsonl``.

- **Resumable**: the output is read first; files already predicted in it are skipped, files that failed are
  tried again (their error lines leave the file), a torn last line (an interrupted run) is cut off, and each new
  record is one appended, flushed line, so a rerun never duplicates one.
- **Bounded memory**: at most ``2 x workers`` decoded files wait for the model at any time.
- **Decoding in worker processes** (``workers``): the model scores in this process while the next files decode,
  and the workers also run the speech gate's VAD on the windows the scoring will gate (their answers go into the
  gate's cache), so the VAD's cost leaves the process that runs the model.
- **Beyond one machine**: under ``accelerate launch`` (``WORLD_SIZE`` > 1) each process takes its share of the
  file list (``PartialState.split_between_processes``) into a part file; the main process then merges the parts
  into the output in the list's order.
- **Session mode** (``sessions``: each speaker's files): a speaker's files are scored, then answered together
  (:meth:`EmotionRecognizer.answer_session`) and written; a speaker with any file not yet written is scored again
  whole (their answers depend on each other), and processes take whole speakers.

Every record is exactly what ``ser-hf predict --json`` prints for that file (the same scoring path), or
``{"path", "error"}`` for a file that cannot be read.
"""

from __future__ import annotations

import csv
import json
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from ..data.audio_files import load_audio
from ..models.errors import SerError


def manifest_rows(manifest: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a CSV manifest (a ``path`` column, any others), relative paths taken from the manifest's folder."""
    manifest = Path(manifest)
    with open(manifest, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "path" not in reader.fieldnames:
            raise SerError(f"{manifest} has no 'path' column; a manifest is a CSV file with one.")
        return [{**row, "path": str(p if Path(p).is_absolute() else manifest.parent / p)}
                for row in reader if (p := row["path"])]


def manifest_paths(manifest: str | os.PathLike) -> list[str]:
    """The ``path`` column of a CSV manifest, relative paths taken from the manifest's folder."""
    return [row["path"] for row in manifest_rows(manifest)]


def done_paths(output: Path) -> set[str]:
    """Paths already predicted in ``output`` (JSON lines). A torn last line is cut off the file, and so are the
    error lines of files that failed: they are tried again."""
    if not output.is_file():
        return set()
    done, kept, failed = set(), [], False
    with open(output, "rb") as f:
        for line in f:
            try:
                record = json.loads(line)
                path = record["path"]
            except (ValueError, KeyError):
                failed = True
                break  # an interrupted write: everything from here is rewritten
            if "error" in record:
                failed = True
                continue
            done.add(path)
            kept.append(line)
    if failed:
        output.write_bytes(b"".join(kept))
    return done


_WORKER_GATES: dict = {}


def _decode(path: str, sampling_rate: int, gate: tuple | None = None):
    """Decode one file; with ``gate`` (``(silence_db, min_speech_fraction, threshold, window_s, hop_s)``), also
    answer the VAD for every window :func:`ser_hf.scoring.score_waveform` will gate, keyed as the gate keys them."""
    try:
        wave = load_audio(path, sampling_rate)
    except SerError as err:
        return path, None, str(err), []
    if gate is None:
        return path, wave, None, []
    from ..scoring.score import gated_pieces
    from ..scoring.speech import SpeechGate

    silence_db, fraction, threshold, window_s, hop_s = gate
    if gate not in _WORKER_GATES:  # one Silero model per worker process
        _WORKER_GATES[gate] = SpeechGate(silence_db, vad=True, sampling_rate=sampling_rate,
                                         min_speech_fraction=fraction, cache_size=0)
        _WORKER_GATES[gate].vad.threshold = threshold
    worker_gate = _WORKER_GATES[gate]
    pieces = gated_pieces(wave, int(window_s * sampling_rate), int(hop_s * sampling_rate))
    return path, wave, None, [(SpeechGate.key(piece), worker_gate(piece)) for _, piece in pieces]


def _gate_spec(recognizer) -> tuple | None:
    gate = recognizer.gate
    if gate.vad is None:
        return None
    return (gate.silence_db, gate.min_speech_fraction, gate.vad.threshold, recognizer.window_s, recognizer.hop_s)


def _decoded(files: list[str], sampling_rate: int, workers: int, gate: tuple | None = None):
    """``(path, waveform or None, error or None, VAD answers)`` in the files' order, at most ``2 x workers``
    ahead. With workers, the VAD runs there too: its cost leaves the process that runs the model."""
    if workers <= 0:
        yield from (_decode(path, sampling_rate) for path in files)
        return
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init)
    try:
        pending: deque = deque()
        for path in files:
            pending.append(pool.submit(_decode, path, sampling_rate, gate))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:  # Ctrl-C, or the consumer stopped: drop the queued files, do not wait for them
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _worker_init() -> None:
    """A decoding worker leaves Ctrl-C to the main process (which stops the pool: one line, not a traceback per
    worker) and, on Linux, dies with it (even on ``kill -9``), so no worker or resource tracker is left behind."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the pool's own shutdown still ends the workers on a normal exit


def predict_to_jsonl(recognizer, files: list[str], output: str | os.PathLike, workers: int = 0,
                     progress: bool = True, top_k: int | None = None, sessions: list[list[str]] | None = None) -> dict:
    """Predict ``files`` into ``output`` (JSON lines), resuming what is there; with ``sessions`` (a partition of
    ``files`` into each speaker's files, in order), in session mode. Returns ``{"files", "done_before", "predicted",
    "failed", "seconds_of_audio"}`` for this process."""
    from tqdm.auto import tqdm

    output = Path(output)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    target, groups = output, sessions if sessions is not None else [[path] for path in files]
    every_group = groups
    if world > 1:
        from accelerate import PartialState

        state = PartialState(backend="gloo")  # CPU processes: without it each would think it is alone
        with state.split_between_processes(groups) as mine:
            groups = list(mine)
        target = output.with_name(f"{output.name}.part{state.process_index}")
    output.parent.mkdir(parents=True, exist_ok=True)
    done = done_paths(output) | (done_paths(target) if target != output else set())
    share = [path for group in groups for path in group]
    todo_groups = [group for group in groups if any(path not in done for path in group)]
    todo = [path for group in todo_groups for path in group]
    stats = {"files": len(share), "done_before": len(share) - sum(p not in done for p in todo), "predicted": 0,
             "failed": 0, "seconds_of_audio": 0.0}
    sizes = deque(len(group) for group in todo_groups)
    pending: list[tuple[str, object]] = []  # (path, ClipScore or error) of the speaker being scored

    with open(target, "a") as out, tqdm(total=len(todo), unit="file", desc="Predicting", disable=not progress) as bar:
        def write(path: str, record: dict) -> None:
            if path in done:  # written by an earlier run; its speaker was scored again for the others
                return
            if "error" in record:
                stats["failed"] += 1
            else:
                stats["predicted"] += 1
                stats["seconds_of_audio"] += record["duration_s"]  # as written, so a merged run sums the same
            out.write(json.dumps(record) + "\n")
            out.flush()

        for path, wave, error, answers in _decoded(todo, recognizer.sampling_rate, workers, _gate_spec(recognizer)):
            for key, answer in answers:
                recognizer.gate.remember(key, answer)
            bar.update()
            if sessions is None:
                if wave is None:
                    write(path, {"path": path, "error": error})
                else:
                    prediction = recognizer.predict(wave, sampling_rate=recognizer.sampling_rate, top_k=top_k)
                    prediction.path = path
                    write(path, prediction.to_dict())
                continue
            pending.append((path, error if wave is None else recognizer.score(wave)))
            if len(pending) < sizes[0]:
                continue
            sizes.popleft()
            scored = [(p, score) for p, score in pending if not isinstance(score, str)]
            answered = dict(zip((p for p, _ in scored), recognizer.answer_session(
                [score for _, score in scored], [p for p, _ in scored], top_k)))
            for p, score in pending:
                write(p, {"path": p, "error": score} if isinstance(score, str) else answered[p].to_dict())
            pending = []
    if world > 1:
        merged = _merge_parts(output, files, state)
        if merged is None:  # not the main process: the main one reports for all
            return {**stats, "main_process": False}
        counts = [len(every_group) // world + (rank < len(every_group) % world) for rank in range(world)]
        starts = [sum(counts[:rank]) for rank in range(world)]  # split_between_processes: the first ranks one more
        shares = [sum(len(g) for g in every_group[start:start + count]) for start, count in zip(starts, counts)]
        stats = {"files": len(files), "done_before": len(files) - len(merged), "processes": world, "shares": shares,
                 "predicted": sum("error" not in r for r in merged), "failed": sum("error" in r for r in merged),
                 "seconds_of_audio": sum(r.get("duration_s", 0.0) for r in merged)}
    return stats


def _barrier(state) -> None:
    """Wait for every process. CPU processes under ``accelerate launch`` get a gloo group but
    ``DistributedType.NO``, for which ``wait_for_everyone`` does not wait: use the group itself."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
    else:
        state.wait_for_everyone()


def _merge_parts(output: Path, files: list[str], state) -> list[dict] | None:
    """The main process appends every part's new records to ``output`` in the file list's order and returns
    them; the other processes return ``None``."""
    _barrier(state)
    if state.is_main_process:
        parts = [output.with_name(f"{output.name}.part{i}") for i in range(state.num_processes)]
        records = {}
        for part in parts:
            if part.is_file():
                for line in part.read_text().splitlines():
                    record = json.loads(line)
                    records[record["path"]] = line
        done, merged = done_paths(output), []
        with open(output, "a") as out:
            for path in files:
                if path in records and path not in done:
                    out.write(records[path] + "\n")
                    merged.append(json.loads(records[path]))
        for part in parts:
            part.unlink(missing_ok=True)
    _barrier(state)
    return merged if state.is_main_process else None
