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
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from adaptation_study import clip_scores, session_metrics

from ser_hf.inference.adaptation import fit_speaker_map

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
    """``(rest, maps_input)``: ``scores`` without ``k`` clips with speech per speaker and emotion (drawn by
    ``seed``; fewer where the speaker has fewer), and ``{speaker: (log_p, labels)}`` of the clips set aside."""
    rng = np.random.default_rng(seed)
    log_p, labels, speakers = scores["log_probabilities"], scores["labels"], scores["speakers"]
    speech = ~np.isnan(log_p).any(axis=1)
    aside = np.zeros(len(labels), dtype=bool)
    for s in np.unique(speakers):
        for c in np.unique(labels[speakers == s]):
            rows = np.flatnonzero((speakers == s) & (labels == c) & speech)
            aside[rng.permutation(rows)[:k]] = True
    rest = {key: (value[~aside] if key != "label_names" else value) for key, value in scores.items()}
    enrolment = {s: (log_p[aside & (speakers == s)], labels[aside & (speakers == s)]) for s in np.unique(speakers)}
    return rest, enrolment


def enrolled_beforehand(scores: dict, k: int, settings: list[tuple[bool, float] | None]) -> dict:
    """``{setting: {"balanced": metrics, "skewed": metrics}}`` of the sessions drawn after :func:`set_aside`, each
    metric the mean over ``ENROLL_SEEDS`` draws of the clips set aside; a setting is ``(affine, l2)``, or ``None``
    for no map on the same sessions."""
    out = {setting: {"balanced": [], "skewed": []} for setting in settings}
    for seed in range(ENROLL_SEEDS):
        rest, enrolment = set_aside(scores, k, seed)
        for setting in settings:
            maps = {s: fit_speaker_map(x, t, setting[1], affine=setting[0]) for s, (x, t) in enrolment.items()} \
                if setting is not None else {}

            def decide(session: np.ndarray) -> tuple:
                x = rest["log_probabilities"][session]
                if maps:
                    w, b = maps[rest["speakers"][session[0]]]
                    x = x + x @ w + b
                return x.argmax(axis=1), rest["labels"][session]

            for kind in out[setting]:
                out[setting][kind].append(session_metrics(rest, kind == "skewed", decide, ENROLLED_SESSION_CLIPS))
    return {setting: {kind: {m: float(np.mean([r[m] for r in runs])) for m in runs[0]} for kind, runs in kinds.items()}
            for setting, kinds in out.items()}


def describe(setting: tuple[bool, float] | None) -> str:
    return "none" if setting is None else f"{'affine' if setting[0] else 'offset'} L2 {setting[1]}"


def admissible_over(result: dict, base: dict) -> bool:
    """``adaptation_study.py``'s rule: lowers neither UA nor WA of skewed sessions by more than 1 point."""
    return all(result["skewed"][m] >= base["skewed"][m] - 0.01 for m in ("ua", "wa"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--fold", type=int, required=True)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
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
    # Labelled enrollment beforehand: one setting (map, L2) for every k, chosen on the validation speakers: the best
    # mean balanced UA over the k among the settings admissible at every k.
    settings = [None] + [(affine, l2) for affine in (False, True) for l2 in L2_WEIGHTS]
    tried = {k: enrolled_beforehand(validation, k, settings) for k in ENROLL_PER_EMOTION}
    for k, results in tried.items():
        print(f"validation, {k} per emotion (balanced UA / skewed UA / skewed WA): " + "; ".join(
            f"{describe(s)} {r['balanced']['ua']:.3f} / {r['skewed']['ua']:.3f} / {r['skewed']['wa']:.3f}"
            for s, r in results.items()))
    ok = [s for s in settings[1:] if all(admissible_over(r[s], r[None]) for r in tried.values())]
    if ok:
        best = max(ok, key=lambda s: np.mean([r[s]["balanced"]["ua"] for r in tried.values()]))
        print(f"chosen on validation: {describe(best)}")
        for k in ENROLL_PER_EMOTION:
            result = enrolled_beforehand(test, k, [None, best])
            rows[f"none, on the sessions left after setting aside {k} per emotion"] = result[None]
            rows[f"enrolled beforehand, {k} per emotion, {describe(best)}"] = result[best]
    else:
        print("labelled enrollment beforehand: no setting is admissible at every k")
    print(f"| {args.model}, fold {args.fold} test | balanced UA | balanced WA | skewed UA | skewed WA | sessions |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(f"| {name} | {r['balanced']['ua']:.3f} | {r['balanced']['wa']:.3f} | {r['skewed']['ua']:.3f} | "
              f"{r['skewed']['wa']:.3f} | {r['balanced']['sessions']:.0f} / {r['skewed']['sessions']:.0f} |")


if __name__ == "__main__":
    main()
