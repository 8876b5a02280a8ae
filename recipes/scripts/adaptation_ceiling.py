"""How much a per-speaker logit offset can gain at most, and what labelled enrollment gets of it (issue 18).

Replays ``adaptation_study.py``'s sessions (20 clips, 5 per speaker, balanced or 60% neutral) from its cached clip
scores of one model and fold:

* **ceiling**: each test speaker's offset fitted on all of that speaker's clips *with their labels* (class-weighted
  cross-entropy, in-sample): no offset-based adaptation, unsupervised or enrolled, can gain more;
* **affine ceiling**: the same with a per-speaker affine map of the log probabilities (``x + x W + b``), which
  can also move the boundaries between emotions, not only their offsets (in-sample: 56 parameters per speaker fit
  the clips they score, so this bound is loose);
* **held-out offset / affine**: both fitted on the speaker's labelled clips *outside* the session, which is what a
  speaker who labelled a few dozen clips beforehand would get (balanced sessions only: a skewed session takes most of
  a CREMA-D speaker's neutral clips, leaving the fit next to none);
* **labelled enrollment**: the offset fitted on one labelled clip per emotion of the session (L2 weight chosen on
  the validation speakers under ``adaptation_study.py``'s admissibility rule), the session's other clips scored;
* **enrolled beforehand**: ``k`` labelled clips per emotion of each speaker set aside before any session is drawn (a
  speaker who read a few sentences in each emotion), the offset or the affine map fitted on them (L2 weight chosen
  on the validation speakers, as above), every clip of the sessions drawn from the speaker's other clips scored,
  against no adaptation on the same sessions. These sessions have 10 clips, not 20: a RAVDESS actor has 12 neutral
  clips (calm merged), too few for a 60%-neutral session of 20 once some are set aside; a map fitted beforehand does
  not depend on the session, so its size only sets how many speakers take part.

    python recipes/scripts/adaptation_ceiling.py --model outputs/whisper_robust_ft/fold3 --fold 3 --data-dir ../shared/data

Prints every row; the "enrolled beforehand" rows also go into ``docs/reports/adaptation/enrollment.json``
(``{name: {"foldF": {"model", "fit", "session_clips", "draws", "per_emotion": {k: {"none", "enrolled"}}}}}``, each
cell ``{"balanced", "skewed"}`` UA and WA; ``--name`` gives the model's name there, rows of the same name and fold
replaced, the others kept); a shipped model's own rows are its folder's ``enrollment.json``, which its card shows.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from adaptation_study import clip_scores, model_fold_args, session_metrics

from ser_hf.evaluation.metrics import ser_metrics
from ser_hf.scoring.adaptation import fit_speaker_map

L2_WEIGHTS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
AFFINE_L2 = 0.01  # the affine ceiling's 56 parameters per speaker need a little weight decay to converge


def replay(scores: dict, skewed: bool, method: str, l2: float = 0.0) -> dict:
    """UA and WA over all sessions: ``none``, ``ceiling`` (an offset), ``affine ceiling``, ``held-out offset`` and
    ``held-out affine`` (fitted on the speaker's clips outside the session), ``labelled`` (enrollment clips are not
    scored) or ``unenrolled`` (``labelled``'s clips, no offset)."""
    log_p, labels, speakers = scores["log_probabilities"], scores["labels"], scores["speakers"]
    speech = ~np.isnan(log_p).any(axis=1)
    no_map = (np.zeros((log_p.shape[1],) * 2), np.zeros(log_p.shape[1]))
    maps = {s: fit_speaker_map(log_p[(speakers == s) & speech], labels[(speakers == s) & speech], AFFINE_L2 * (method != "ceiling"),
                       balanced=True, affine=method == "affine ceiling")
            for s in np.unique(speakers)} if method.endswith("ceiling") else {}

    def decide(session: np.ndarray) -> tuple:
        w, b = maps.get(speakers[session[0]], no_map)
        if method.startswith("held-out"):  # the speaker's other clips, labelled
            rest = np.setdiff1d(np.flatnonzero((speakers == speakers[session[0]]) & speech), session)
            w, b = fit_speaker_map(log_p[rest], labels[rest], AFFINE_L2 * (method == "held-out affine"), balanced=True,
                           affine=method == "held-out affine")
        if method in ("labelled", "unenrolled"):
            enrolment = [next(i for i in session if labels[i] == c) for c in np.unique(labels[session])]
            w, b = fit_speaker_map(log_p[enrolment], labels[enrolment], l2, affine=False, balanced=False) if method == "labelled" else no_map
            session = np.array([i for i in session if i not in set(enrolment)])
        x = log_p[session]
        return (x + x @ w + b).argmax(axis=1), labels[session]

    return session_metrics(scores, skewed, decide)


ENROLL_PER_EMOTION = (1, 2, 3, 5)
ENROLLED_SESSION_CLIPS = 10
ENROLL_SEEDS = 5


def set_aside(scores: dict, k: int, seed: int = 0) -> tuple[dict, dict]:
    """``(rest, aside)``: ``scores`` without ``k`` clips with speech per speaker and emotion (drawn by ``seed``; fewer
    where the speaker has fewer), and ``{speaker: the same keys, of that speaker's clips set aside}``."""
    rng = np.random.default_rng(seed)
    labels, speakers = scores["labels"], scores["speakers"]
    speech = ~np.isnan(scores["log_probabilities"]).any(axis=1)
    aside = np.zeros(len(labels), dtype=bool)
    for s in np.unique(speakers):
        for c in np.unique(labels[speakers == s]):
            rows = np.flatnonzero((speakers == s) & (labels == c) & speech)
            aside[rng.permutation(rows)[:k]] = True
    return subset(scores, ~aside), {s: subset(scores, aside & (speakers == s)) for s in np.unique(speakers)}


def subset(scores: dict, mask: np.ndarray) -> dict:
    """``scores``' clips where ``mask (clips,)`` holds (``label_names`` kept whole)."""
    return {key: (value[mask] if key != "label_names" else value) for key, value in scores.items()}


def logit_map(affine: bool, l2: float):
    """A ``fit`` for :func:`enrolled_beforehand`: the speaker's map of the log probabilities (offset or affine)."""
    def fit(enrolment: dict):
        w, b = fit_speaker_map(enrolment["log_probabilities"], enrolment["labels"], l2, affine=affine)
        return lambda rows, session: rows["log_probabilities"][session] @ (np.eye(len(b)) + w) + b
    return fit


def enrolled_beforehand(scores: dict, k: int, fits: dict) -> dict:
    """``{name: {"balanced": metrics, "skewed": metrics}}`` of the sessions drawn after :func:`set_aside`, each
    metric the mean over ``ENROLL_SEEDS`` draws of the clips set aside. ``fits[name](speaker's clips set aside)``
    returns ``adapt(rows, session) -> scores (clips, classes)``; a ``None`` fit scores the same sessions unadapted."""
    out = {name: {"balanced": [], "skewed": []} for name in fits}
    for seed in range(ENROLL_SEEDS):
        rest, aside = set_aside(scores, k, seed)
        for name, fit in fits.items():
            adapters = {s: fit(e) for s, e in aside.items()} if fit is not None else {}

            def decide(session: np.ndarray) -> tuple:
                speaker = rest["speakers"][session[0]]
                x = adapters[speaker](rest, session) if adapters else rest["log_probabilities"][session]
                return x.argmax(axis=1), rest["labels"][session]

            for kind in out[name]:
                out[name][kind].append(session_metrics(rest, kind == "skewed", decide, ENROLLED_SESSION_CLIPS))
    return {name: {kind: {m: float(np.mean([r[m] for r in runs])) for m in runs[0]} for kind, runs in kinds.items()}
            for name, kinds in out.items()}


RESAMPLES = 1000


def gain_interval(scores: dict, k: int, fit) -> tuple[float, float, float, int]:
    """``(gain, low, high, speakers)``: the balanced UA that ``fit`` adds to no adaptation on
    :func:`enrolled_beforehand`'s balanced sessions (pooled over the draws, in points), and its 95% interval when
    the test speakers are drawn again with replacement (``RESAMPLES`` times, seed 0)."""
    by_speaker: dict = {}  # speaker -> [references, unadapted predictions, adapted predictions]
    for draw in range(ENROLL_SEEDS):
        rest, aside = set_aside(scores, k, draw)
        adapters = {s: fit(e) for s, e in aside.items()}

        def decide(session: np.ndarray, rest=rest, adapters=adapters) -> tuple:
            speaker, references = rest["speakers"][session[0]], rest["labels"][session]
            adapted = adapters[speaker](rest, session).argmax(axis=1)
            for kept, value in zip(by_speaker.setdefault(speaker, ([], [], [])),
                                   (references, rest["log_probabilities"][session].argmax(axis=1), adapted)):
                kept.append(value)
            return adapted, references

        session_metrics(rest, False, decide, ENROLLED_SESSION_CLIPS)  # the sessions, kept per speaker by decide
    names, speakers = list(scores["label_names"]), [[np.concatenate(r) for r in rows] for rows in by_speaker.values()]

    def gain(picked) -> float:
        ref, none, adapted = (np.concatenate([speakers[i][j] for i in picked]) for j in range(3))
        return 100 * (ser_metrics(adapted, ref, names)["ua"] - ser_metrics(none, ref, names)["ua"])

    rng = np.random.default_rng(0)
    resampled = [gain(rng.integers(0, len(speakers), len(speakers))) for _ in range(RESAMPLES)]
    return gain(range(len(speakers))), *np.percentile(resampled, [2.5, 97.5]), len(speakers)


def choose(validation: dict, fits: dict, tried: dict | None = None) -> str | None:
    """The fit admissible at every ``k`` of ``ENROLL_PER_EMOTION`` on the validation speakers with the best mean
    balanced UA over them (``None`` if none is); prints every cell. ``tried`` (``{k: {name: cells}}``, "none"
    included) replaces the measurement on ``validation`` where the fits were fitted on those speakers themselves."""
    tried = tried or {k: enrolled_beforehand(validation, k, {"none": None, **fits}) for k in ENROLL_PER_EMOTION}
    for k, results in tried.items():
        print(f"validation, {k} per emotion (balanced UA / skewed UA / skewed WA): " + "; ".join(
            f"{name} {r['balanced']['ua']:.3f} / {r['skewed']['ua']:.3f} / {r['skewed']['wa']:.3f}"
            for name, r in results.items()))
    ok = [name for name in fits if all(admissible_over(r[name], r["none"]) for r in tried.values())]
    return max(ok, key=lambda n: np.mean([r[n]["balanced"]["ua"] for r in tried.values()])) if ok else None


def enrolled_rows(validation: dict, test: dict, fits: dict, tried: dict | None = None) -> tuple[dict, dict]:
    """``(rows, report)``: test rows ``{name: {"balanced", "skewed"}}`` of the fit :func:`choose` picks (from
    ``tried`` where given), beside no adaptation, per ``k``; ``report`` is the same as ``{"fit", "session_clips",
    "draws", "per_emotion": {k: {"none", "enrolled"}}}`` (empty where no fit is admissible)."""
    best, rows = choose(validation, fits, tried), {}
    if best is None:
        print("labelled enrollment beforehand: no setting is admissible at every k")
        return rows, {}
    print(f"chosen on validation: {best}")
    report = {"fit": best, "session_clips": ENROLLED_SESSION_CLIPS, "draws": ENROLL_SEEDS, "per_emotion": {}}
    for k in ENROLL_PER_EMOTION:
        result = enrolled_beforehand(test, k, {"none": None, best: fits[best]})
        rows[f"none, on the sessions left after setting aside {k} per emotion"] = result["none"]
        rows[f"enrolled beforehand, {k} per emotion, {best}"] = result[best]
        report["per_emotion"][str(k)] = {"none": result["none"], "enrolled": result[best]}
        point, low, high, n = gain_interval(test, k, fits[best])
        print(f"test, {k} per emotion, {best}: balanced UA {point:+.1f} points (95% interval over the {n} test "
              f"speakers, resampled: {low:+.1f} to {high:+.1f})", flush=True)
    return rows, report


def save_enrollment(path: Path, name: str, fold: int, model: str, report: dict) -> None:
    """Merge one model's and fold's enrollment rows into ``path`` (the other models' and folds' rows are kept)."""
    saved = json.loads(path.read_text()) if path.is_file() else {}
    rounded = json.loads(json.dumps(report), parse_float=lambda v: round(float(v), 4))
    saved.setdefault(name, {})[f"fold{fold}"] = {"model": model, **rounded}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2) + "\n")


def admissible_over(result: dict, base: dict) -> bool:
    """``adaptation_study.py``'s rule: lowers neither UA nor WA of skewed sessions by more than 1 point."""
    return all(result["skewed"][m] >= base["skewed"][m] - 0.01 for m in ("ua", "wa"))


def main() -> None:
    args = model_fold_args(__doc__.splitlines()[0], model=None, extra=(
        ("--name", {"default": None, "help": "the model's name in enrollment.json (default: --model)"}),
        ("--output", {"default": "docs/reports/adaptation/enrollment.json"})))
    validation, test = (clip_scores(args.model, args.fold, part, args.data_dir) for part in ("validation", "test"))

    def cells(scores, method, l2=0.0):
        return {kind: replay(scores, kind == "skewed", method, l2) for kind in ("balanced", "skewed")}

    base = cells(validation, "none")
    admissible = {}
    for l2 in L2_WEIGHTS:
        result = cells(validation, "labelled", l2)
        if admissible_over(result, base):
            admissible[l2] = result
    l2 = max(admissible, key=lambda w: admissible[w]["balanced"]["ua"]) if admissible else None
    rows = {"none": cells(test, "none"), "ceiling (labels of all the speaker's clips)": cells(test, "ceiling"),
            f"affine ceiling (labels of all the speaker's clips, L2 {AFFINE_L2})": cells(test, "affine ceiling"),
            "held-out offset (labels of the speaker's other clips)": cells(test, "held-out offset"),
            f"held-out affine (labels of the speaker's other clips, L2 {AFFINE_L2})": cells(test, "held-out affine")}
    if l2 is not None:
        rows["none, on the clips labelled enrollment scores"] = cells(test, "unenrolled")
        rows[f"labelled enrollment, one clip per emotion, L2 {l2}"] = cells(test, "labelled", l2)
    # Labelled enrollment beforehand: one setting (map, L2) for every k, chosen on the validation speakers.
    enrolled, report = enrolled_rows(validation, test, {f"{'affine' if affine else 'offset'} L2 {l2}": logit_map(affine, l2)
                                                        for affine in (False, True) for l2 in L2_WEIGHTS})
    rows.update(enrolled)
    if report:
        save_enrollment(Path(args.output), args.name or args.model, args.fold, args.model, report)
    print_rows(f"{args.model}, fold {args.fold} test", rows)


def print_rows(title: str, rows: dict) -> None:
    """``rows`` (``{name: {"balanced", "skewed"}}``) as a Markdown table: UA and WA of both kinds of session, and
    how many sessions each had."""
    print(f"| {title} | balanced UA | balanced WA | skewed UA | skewed WA | sessions |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(f"| {name} | {r['balanced']['ua']:.3f} | {r['balanced']['wa']:.3f} | {r['skewed']['ua']:.3f} | "
              f"{r['skewed']['wa']:.3f} | {r['balanced']['sessions']:.0f} / {r['skewed']['sessions']:.0f} |")


if __name__ == "__main__":
    main()
