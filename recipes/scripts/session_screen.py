"""Screen session-mode designs on a trained model's clips before one is built into the product.

    python recipes/scripts/session_screen.py --model outputs/loco/whisper_tiny_fold1 --protocol leave-one-corpus-out \
        --fold 1 --data-dir ../shared/data --output docs/reports/session_mode/screen.json --merge

Each clip of the fold (training, validation and test speakers) is scored once by the model and cached (``--cache``):
its logits and its pooled embedding (the classifier's input, ``(2 * channels,)``). Sessions are the evaluation's
(:func:`ser_hf.evaluation.sessions.sessions`: a speaker's clips, all of them; 10 at random, 5 draws; skewed: every
neutral clip and 3 of each other emotion); UA and WA in clip mode and session mode over the pooled clips, per corpus.

Designs: ``shipped`` (session mode before the head: the log probabilities' offset and mix fitted by EM with the model's
population statistics, :func:`ser_hf.scoring.adaptation.adapt_session`); ``center`` (the session's mean logits
replaced by the population's: the plain per-speaker centring); ``head`` (a linear head, logistic regression with
``C = 0.1``, trained on the training speakers' embeddings standardized by each speaker's own statistics; a session's
embeddings are standardized by the session's); ``head_mix`` (``C = 0.01``, and the session's emotion mix estimated
by the head itself and its expected offset added back, so a neutral-heavy session is not pushed away from neutral:
:class:`ser_hf.scoring.session_head.SessionHead`); ``mix_clip`` and ``mix_shipped`` (``head_mix``'s log probabilities
added to clip mode's, or to ``shipped``'s: the session mode that ships now, ``adapt_session`` with the head).
``--head-weights 0.5 1 2`` adds ``mix_shipped`` with each weight of the head, with the guard (``w0.5``) and without
(``w0.5_unguarded``).

``--stream`` replays each speaker's clips as a stream instead (all of them, and skewed sessions; 3 random orders):
``running`` (the streams' running adapter), ``causal`` (``fit_session`` with the head, fitted to the clips so far, the
last ``--buffer``, after ``--warmup``) and ``causal_em`` (the same without the head).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ser_hf.evaluation.metrics import ser_metrics
from ser_hf.evaluation.sessions import SESSION_KINDS, sessions
from ser_hf.scoring.adaptation import STRENGTH, WARMUP, SessionAdapter, adapt_session, fit_session
from ser_hf.scoring.decision import decide, normalize_log
from ser_hf.scoring.session_head import SessionHead


def scored_parts(model_dir: str, protocol: str, fold: int, data_dir: str, cache: Path) -> dict[str, dict]:
    """``{part: {"logits" (clips, labels), "embedding" (clips, dims), "label", "speaker", "corpus"}}`` over the
    fold's clips with speech, computed once and cached."""
    cached = cache / f"{Path(model_dir).name}_{protocol}_fold{fold}.npz"
    if not cached.is_file():
        score_fold(model_dir, protocol, fold, data_dir, cached)
    data = np.load(cached, allow_pickle=True)
    parts = {}
    for part in ("train", "validation", "test"):
        speech = data[f"{part}_speech"]
        parts[part] = {key: data[f"{part}_{key}"][speech] for key in ("logits", "embedding", "label", "speaker", "corpus")}
    return parts


def score_fold(model_dir: str, protocol: str, fold: int, data_dir: str, path: Path) -> None:
    """Score every clip of the fold (one thread), keeping each clip's embedding (:func:`ser_hf.scoring.score.clip_outputs`)."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    from ser_hf.data.audio_files import load_audio
    from ser_hf.data.protocols import protocol_corpora
    from ser_hf.data.splits import load_split
    from ser_hf.scoring.score import clip_outputs
    from ser_hf.scoring.speech import default_gate

    torch.set_num_threads(1)
    model = AutoModelForAudioClassification.from_pretrained(model_dir, trust_remote_code=True).eval()
    feature_extractor = AutoFeatureExtractor.from_pretrained(model_dir, trust_remote_code=True)
    split, _ = load_split(protocol_corpora(protocol), data_dir, "core7", calm="merge", protocol=protocol, fold=fold)
    gate, arrays = default_gate(), {}
    for part in ("train", "validation", "test"):
        rows = split[part]
        logits, embeddings, speech = [], [], []
        for path_ in tqdm(rows["path"], desc=f"{part} clips"):
            wave = load_audio(path_, feature_extractor.sampling_rate)
            speech.append(bool(gate(wave)))
            clip, embedding = clip_outputs(model, feature_extractor, wave)
            logits.append(clip)
            embeddings.append(embedding)
        arrays.update({f"{part}_logits": np.stack(logits), f"{part}_embedding": np.stack(embeddings),
                       f"{part}_speech": np.array(speech), **{f"{part}_{key}": np.array(rows[key])
                                                               for key in ("label", "speaker", "corpus")}})
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def log_softmax(x: np.ndarray) -> np.ndarray:
    return normalize_log(np.asarray(x, dtype=np.float64))


def session_modes(parts: dict, config: dict, num_labels: int, head_weights: tuple[float, ...] = ()) -> dict:
    """``{design: fn(part, rows) -> log probabilities (len(rows), labels)}``; ``head_weights`` add ``mix_shipped``
    with each weight of the head, guarded and not."""
    temperature = config.get("calibration_temperature") or 1.0
    population = parts["validation"]["logits"] / temperature
    labels = parts["validation"]["label"]
    reference = np.mean([population[labels == k].mean(axis=0) for k in np.unique(labels)], axis=0)
    means, spread = np.asarray(config["adaptation_class_means"]), config["adaptation_spread"]
    train = parts["train"]
    plain = SessionHead.fit(train["embedding"], train["label"], train["speaker"], num_labels, c=0.1)
    head = SessionHead.fit(train["embedding"], train["label"], train["speaker"], num_labels)  # the shipped one

    def own_statistics(x):  # the session's own mean and spread, no mix added back
        return x.mean(axis=0), np.maximum(x.std(axis=0), 1e-8)

    def head_mix(part, rows):
        x = part["embedding"][rows]
        return head.log_probabilities(x, head.session(x))

    def clip(part, rows):
        return log_softmax(part["logits"][rows] / temperature)

    def weighted(weight, guard):
        return lambda part, rows: adapt_session(clip(part, rows), means, spread, part["embedding"][rows], head,
                                                guard=guard, head_weight=weight)

    extra = {f"w{w:g}{'' if guard else '_unguarded'}": weighted(w, guard) for w in head_weights for guard in (True, False)}
    return {
        "shipped": lambda part, rows: adapt_session(clip(part, rows), means, spread),
        "center": lambda part, rows: log_softmax(part["logits"][rows] / temperature
                                                 - (part["logits"][rows] / temperature).mean(axis=0) + reference),
        "head": lambda part, rows: plain.log_probabilities(part["embedding"][rows],
                                                           own_statistics(part["embedding"][rows])),
        "head_mix": head_mix,
        "mix_clip": lambda part, rows: log_softmax(head_mix(part, rows) + clip(part, rows)),
        "mix_shipped": lambda part, rows: adapt_session(clip(part, rows), means, spread, part["embedding"][rows], head),
        **extra,
    }


def session_table(part: dict, names: list[str], temperature: float, modes: dict) -> dict:
    """``{kind: {"clip": {"ua", "wa"}, design: {"ua", "wa"}}}`` on ``part``'s own emotions."""
    columns = sorted(set(part["label"].tolist()))
    position = {k: i for i, k in enumerate(columns)}
    scored = [names[k] for k in columns]
    clip = log_softmax(part["logits"] / temperature)
    out = {}
    for kind in SESSION_KINDS:
        chosen = sessions(part["speaker"], part["label"], kind, names.index("neutral"))
        references = np.array([position[k] for rows in chosen for k in part["label"][rows]])
        row = {"sessions": len(chosen), "clips": len(references)}
        for design, fn in {"clip": lambda p, rows: clip[rows], **modes}.items():
            predicted = np.concatenate([decide(fn(part, rows), columns) for rows in chosen])
            m = ser_metrics(predicted, references, scored)
            row[design] = {"ua": round(m["ua"], 4), "wa": round(m["wa"], 4)}
        out[kind] = row
    return out


ORDERS = 3
STREAM_DESIGNS = ("running", "causal", "causal_em")


def replay(log_p: np.ndarray, emb: np.ndarray, design: str, means, spread, head, prior, warmup: int,
           buffer: int) -> np.ndarray:
    """One session's clips ``(clips, labels)`` answered in order, each with the clips before it."""
    out = log_p.copy()
    if design == "running":
        adapter = SessionAdapter(prior=prior, strength=STRENGTH, warmup=WARMUP)  # what new_adapter gives streams
        return np.stack([adapter(row) for row in log_p])
    for i in range(len(log_p)):
        if i + 1 < warmup:
            continue
        rows = slice(max(0, i + 1 - buffer), i + 1)
        fit = fit_session(log_p[rows], means, spread, emb[rows] if design == "causal" else None,
                          head if design == "causal" else None)
        out[i] = fit.apply(log_p[i], emb[i] if design == "causal" else None)
    return out


def stream_table(part: dict, names: list[str], temperature: float, means, spread, head, prior, warmup: int,
                 buffer: int) -> dict:
    """``{kind: {"clip": {"ua", "wa"}, design: {"ua", "wa"}}}`` of ``part``'s speakers replayed as streams."""
    columns = sorted(set(part["label"].tolist()))
    position = {k: i for i, k in enumerate(columns)}
    clip = log_softmax(part["logits"] / temperature)
    out = {}
    for kind in ("all", "skewed"):
        chosen = sessions(part["speaker"], part["label"], kind, names.index("neutral"))
        orders = [np.random.default_rng(seed).permutation(rows) for rows in chosen for seed in range(ORDERS)]
        references = np.array([position[k] for rows in orders for k in part["label"][rows]])
        row = {"sessions": len(chosen), "clips": len(references) // ORDERS}
        for design in ("clip",) + STREAM_DESIGNS:
            predicted = [decide(clip[rows] if design == "clip" else replay(
                clip[rows], part["embedding"][rows], design, means, spread, head, prior, warmup, buffer), columns)
                for rows in orders]
            m = ser_metrics(np.concatenate(predicted), references, [names[k] for k in columns])
            row[design] = {"ua": round(m["ua"], 4), "wa": round(m["wa"], 4)}
        out[kind] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a trained model's folder (required unless --render)")
    parser.add_argument("--protocol", default="leave-one-corpus-out")
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--data-dir", default="../shared/data")
    parser.add_argument("--cache", default="outputs/session_screen")
    parser.add_argument("--name", help="the row's name in the report (default: the model folder's)")
    parser.add_argument("--output", default="docs/reports/session_mode/screen.json")
    parser.add_argument("--merge", action="store_true", help="add this model's rows to the --output report's")
    parser.add_argument("--render", action="store_true", help="only write --output's table (.md) from its JSON")
    parser.add_argument("--stream", action="store_true", help="replay sessions clip by clip (streams' designs)")
    parser.add_argument("--warmup", type=int, default=10, help="--stream: clips before the causal fit starts")
    parser.add_argument("--buffer", type=int, default=200, help="--stream: the causal fit's last clips")
    parser.add_argument("--head-weights", type=float, nargs="*", default=[],
                        help="also mix_shipped with these weights of the session head, guarded and not")
    args = parser.parse_args()
    output = Path(args.output)
    if args.render:
        report = json.loads(output.read_text())
        render = write_stream_table if args.stream else write_table
        return render(report, output.with_suffix(".md"))
    if not args.model:
        parser.error("--model is required")

    from ser_hf.data.labels import get_label_set

    parts = scored_parts(args.model, args.protocol, args.fold, args.data_dir, Path(args.cache))
    config = json.loads((Path(args.model) / "config.json").read_text())
    names = list(get_label_set("core7"))
    temperature = config.get("calibration_temperature") or 1.0
    if args.stream:
        return stream_screen(args, parts, config, names, temperature, output)
    modes = session_modes(parts, config, len(names), tuple(args.head_weights))
    rows = {}
    for part in ("validation", "test"):
        for corpus in np.unique(parts[part]["corpus"]):
            keep = parts[part]["corpus"] == corpus
            subset = {key: value[keep] for key, value in parts[part].items()}
            rows[f"{part}/{corpus}"] = session_table(subset, names, temperature, modes)
            print(part, corpus, json.dumps(rows[f"{part}/{corpus}"]), flush=True)
    name = args.name or Path(args.model).name
    report = json.loads(output.read_text()) if args.merge and output.is_file() else {"models": {}}
    report["models"][name] = {"model": args.model, "protocol": args.protocol, "fold": args.fold, "rows": rows}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    write_table(report, output.with_suffix(".md"))


def stream_screen(args, parts: dict, config: dict, names: list[str], temperature: float, output: Path) -> None:
    """The streams' designs on every validation and test corpus of the fold, merged into ``output``'s report."""
    means, spread = np.asarray(config["adaptation_class_means"]), config["adaptation_spread"]
    train = parts["train"]
    head = SessionHead.fit(train["embedding"], train["label"], train["speaker"], len(names))
    prior = config.get("adaptation_prior")
    if prior is None:
        prior = log_softmax(parts["validation"]["logits"] / temperature).mean(axis=0)
    rows = {}
    for part in ("validation", "test"):
        for corpus in np.unique(parts[part]["corpus"]):
            keep = parts[part]["corpus"] == corpus
            subset = {key: value[keep] for key, value in parts[part].items()}
            rows[f"{part}/{corpus}"] = stream_table(subset, names, temperature, means, spread, head,
                                                    np.asarray(prior), args.warmup, args.buffer)
            print(part, corpus, json.dumps(rows[f"{part}/{corpus}"]), flush=True)
    report = json.loads(output.read_text()) if args.merge and output.is_file() else {"models": {}}
    report["models"][args.name or Path(args.model).name] = {
        "model": args.model, "protocol": args.protocol, "fold": args.fold, "warmup": args.warmup,
        "buffer": args.buffer, "rows": rows}
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    write_stream_table(report, output.with_suffix(".md"))


def write_stream_table(report: dict, path: Path) -> None:
    """UA over whole speakers' streams and WA over skewed ones, per model, part/corpus and streams' design."""
    designs = ("clip",) + STREAM_DESIGNS
    lines = [f"<!-- written by recipes/scripts/session_screen.py --stream from {path.with_suffix('.json').name} -->",
             ("Streams: each speaker's clips answered one at a time in a random order (3 orders), each with the clips "
              "before it only (the causal fits with this clip too, the last 200; the warm-up's clips in clip mode). UA "
              "over all of a speaker's clips; WA over skewed sessions (every neutral clip and 3 of each other emotion)."),
             "", "| model | speakers | " + " | ".join(f"{d} UA (all)" for d in designs) + " | "
             + " | ".join(f"{d} WA (skewed)" for d in designs) + " |", "|---|---|" + "---:|" * (2 * len(designs))]
    for name, entry in report["models"].items():
        for where, table in entry["rows"].items():
            every, skewed = table["all"], table["skewed"]
            cells = [f"{every[d]['ua']:.3f}" for d in designs] + [f"{skewed[d]['wa']:.3f}" for d in designs]
            lines.append(f"| {name} | {where.replace('/', ' ')} | " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")


def write_table(report: dict, path: Path) -> None:
    """10-clip sessions' UA and skewed sessions' WA per model, part/corpus and design, against clip mode (the designs
    every model was screened with)."""
    tables = [t["random10"] for e in report["models"].values() for t in e["rows"].values()]
    designs = [d for d in tables[0] if d not in ("clip", "sessions", "clips") and all(d in t for t in tables)]
    lines = [f"<!-- written by recipes/scripts/session_screen.py from {path.with_suffix('.json').name} -->",
             ("Session mode against clip mode (UA on 10-clip sessions, 5 draws per speaker; WA on skewed sessions: every "
             "neutral clip and 3 of each other emotion), each speaker's clips scored on its corpus's own emotions."), "",
             "| model | speakers | clip UA (10) | " + " | ".join(f"{d} UA (10)" for d in designs)
             + " | clip WA (skewed) | " + " | ".join(f"{d} WA (skewed)" for d in designs) + " |",
             "|---|---|" + "---:|" * (2 * len(designs) + 2)]
    for name, entry in report["models"].items():
        for where, table in entry["rows"].items():
            ten, skewed = table["random10"], table.get("skewed")
            cells = [f"{ten['clip']['ua']:.3f}"] + [f"{ten[d]['ua']:.3f} ({100 * (ten[d]['ua'] - ten['clip']['ua']):+.1f})"
                                                    for d in designs]
            if skewed:
                cells += [f"{skewed['clip']['wa']:.3f}"] + [
                    f"{skewed[d]['wa']:.3f} ({100 * (skewed[d]['wa'] - skewed['clip']['wa']):+.1f})" for d in designs]
            else:
                cells += [""] * (len(designs) + 1)
            lines.append(f"| {name} | {where.replace('/', ' ')} | " + " | ".join(cells) + " |")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
