"""Labelled enrollment fitted four more ways, beside the map the library ships (issue 18).

The same clips set aside beforehand (``k`` per emotion) and the same sessions as ``adaptation_ceiling.py``'s
"enrolled beforehand" rows (sessions of 10 clips, 5 draws), scored from ``enrollment_head.py``'s embeddings:

* **map** (shipped): the speaker's affine map of the log probabilities, its L2 pulling towards no change;
* **prior map**: the same map pulled towards the *population's* map, fitted on every validation speaker's clips
  (class-weighted, L2 0.01), instead of towards no change; the population map applied alone, with no enrollment,
  is a setting too;
* **centered head**: the enrollment clips' class-balanced mean embedding (the mean over emotions of each emotion's
  mean) moved onto the validation speakers' one, and the classifier then fine-tuned on the moved clips
  (``enrollment_head.head_fit``); the session's clips are moved the same way;
* **ensemble**: the mean, weighted, of the centered head's and the prior map's log probabilities, with the L2
  weights those two chose;
* **population head**: one classifier for every speaker, on embeddings centred by each speaker's own balanced mean
  of the clips set aside: fitted (from the shipped one, L2 towards it) on every validation speaker's clips so
  centred, over every ``k`` and draw; the speaker's map of its log probabilities (the library's L2) may follow.

Each family's setting is chosen on the validation speakers by ``adaptation_ceiling.choose`` (one setting for every
``k``, admissible on skewed sessions); the test rows print as one table. The population head is fitted on the
validation speakers themselves, so its setting is chosen by two-fold cross-validation over them (fitted on one half
of the speakers, measured on the other) and the head scored on the test speakers is then fitted on all of them.

    python recipes/scripts/enrollment_variants.py --model default --fold 1 --data-dir ../shared/data
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.special import log_softmax

sys.path.insert(0, str(Path(__file__).parent))
from adaptation_ceiling import (  # noqa: E402
    ENROLL_PER_EMOTION,
    ENROLL_SEEDS,
    enrolled_beforehand,
    enrolled_rows,
    logit_map,
    print_rows,
    set_aside,
    subset,
)
from adaptation_study import model_fold_args  # noqa: E402
from enrollment_head import fit_classifier, head_fit, model_parts  # noqa: E402

from ser_hf.scoring.adaptation import ENROLL_L2, fit_speaker_map  # noqa: E402

MAP_L2 = (0.1, 0.3, 1.0, 3.0)
HEAD_L2 = (0.1, 0.3, 1.0)
ENSEMBLE_WEIGHTS = (0.3, 0.5, 0.7)  # the centered head's share
POPULATION_L2 = 0.01
POPULATION_HEAD_L2 = (0.003, 0.03, 0.3)


def balanced_mean(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean over emotions of each emotion's mean embedding ``(dim,)``: a speaker's centre that does not lean
    towards the emotion they said most."""
    return np.mean([z[labels == c].mean(axis=0) for c in np.unique(labels)], axis=0)


def speaker_centre(scores: dict) -> np.ndarray:
    """The mean over ``scores``' speakers of each one's :func:`balanced_mean` ``(dim,)``."""
    return np.mean([balanced_mean(scores["z"][scores["speakers"] == s], scores["labels"][scores["speakers"] == s])
                    for s in np.unique(scores["speakers"])], axis=0)


def centred_rows(scores: dict) -> tuple[np.ndarray, np.ndarray]:
    """``(z (rows, dim), labels (rows,))``: every clip of every speaker, its embedding less the balanced mean of
    the speaker's clips set aside, once for each ``k`` and draw of ``adaptation_ceiling.set_aside``."""
    z, labels = [], []
    for k in ENROLL_PER_EMOTION:
        for seed in range(ENROLL_SEEDS):
            _, aside = set_aside(scores, k, seed)
            for speaker, enrolment in aside.items():
                own = scores["speakers"] == speaker
                z.append(scores["z"][own] - balanced_mean(enrolment["z"], enrolment["labels"]))
                labels.append(scores["labels"][own])
    return np.concatenate(z), np.concatenate(labels)


def population_heads(scores: dict, w0: np.ndarray, b0: np.ndarray) -> dict:
    """``{name: fit}``: for each ``POPULATION_HEAD_L2``, the classifier fitted on ``scores``' speakers'
    :func:`centred_rows` (moved onto their :func:`speaker_centre`), alone and with the speaker's map after it."""
    centre = speaker_centre(scores)
    z, labels = centred_rows(scores)
    fits = {}
    for l2 in POPULATION_HEAD_L2:
        w, b = fit_classifier(z + centre, labels, w0, b0, l2)
        for map_l2 in (None, ENROLL_L2):
            name = f"population head L2 {l2}" + (f", then map L2 {map_l2}" if map_l2 else "")
            fits[name] = population_fit(w, b, centre, map_l2)
    return fits


def population_fit(w: np.ndarray, b: np.ndarray, centre: np.ndarray, map_l2: float | None):
    """A ``fit``: the speaker's clips moved by ``centre - their balanced mean`` and scored by ``(w, b)``; with
    ``map_l2``, the speaker's affine map of those log probabilities fitted on the clips set aside."""
    def fit(enrolment: dict):
        shift = centre - balanced_mean(enrolment["z"], enrolment["labels"])

        def score(z):
            return log_softmax((z + shift) @ w.T + b, axis=1)

        if map_l2 is None:
            return lambda rows, session: score(rows["z"][session])
        speaker_map = logit_map(True, map_l2)({"log_probabilities": score(enrolment["z"]), "labels": enrolment["labels"]})
        return lambda rows, session: speaker_map({"log_probabilities": score(rows["z"][session])}, slice(None))
    return fit


def cross_validated(validation: dict, w0: np.ndarray, b0: np.ndarray) -> dict:
    """``{k: {name: cells}}`` ("none" included) for ``adaptation_ceiling.choose``: :func:`population_heads` fitted
    on every other validation speaker and measured on the rest, and the other way round, each cell the mean of the
    two halves."""
    speakers = np.unique(validation["speakers"])
    halves = []
    for half in (speakers[0::2], speakers[1::2]):
        held = np.isin(validation["speakers"], half)
        fits = population_heads(subset(validation, ~held), w0, b0)
        halves.append({k: enrolled_beforehand(subset(validation, held), k, {"none": None, **fits}) for k in ENROLL_PER_EMOTION})
    return {k: {name: {kind: {m: float(np.mean([h[k][name][kind][m] for h in halves])) for m in cells}
                       for kind, cells in r.items()}
                for name, r in halves[0][k].items()} for k in ENROLL_PER_EMOTION}


def prior_map(prior: tuple | None, l2: float):
    """A ``fit``: the speaker's affine map pulled towards ``prior`` (``None``: the prior alone, no fit)."""
    def fit(enrolment: dict):
        w, b = prior if l2 is None else fit_speaker_map(enrolment["log_probabilities"], enrolment["labels"], l2,
                                                        prior=prior)
        return lambda rows, session: log_softmax(rows["log_probabilities"][session] @ (np.eye(len(b)) + w) + b, axis=1)
    return fit


def centered_head(w0: np.ndarray, b0: np.ndarray, centre: np.ndarray, l2: float):
    """A ``fit``: the speaker's clips moved by ``centre - their balanced mean``, then ``head_fit`` on them."""
    def fit(enrolment: dict):
        shift = centre - balanced_mean(enrolment["z"], enrolment["labels"])
        head = head_fit(w0, b0, l2)({"z": enrolment["z"] + shift, "labels": enrolment["labels"]})
        return lambda rows, session: head({"z": rows["z"] + shift}, session)
    return fit


def ensemble(first, second, weight: float):
    """A ``fit``: ``weight`` times ``first``'s log probabilities plus ``1 - weight`` times ``second``'s."""
    def fit(enrolment: dict):
        a, b = first(enrolment), second(enrolment)
        return lambda rows, session: weight * a(rows, session) + (1 - weight) * b(rows, session)
    return fit


def main() -> None:
    args = model_fold_args(__doc__.splitlines()[0])
    (w0, b0), parts = model_parts(args.model, args.fold, args.data_dir)
    validation = parts["validation"]
    population = fit_speaker_map(validation["log_probabilities"], validation["labels"], POPULATION_L2)
    centre = speaker_centre(validation)
    rows, chosen = {}, {}
    families = {
        "map": lambda: {f"map L2 {l2}": logit_map(True, l2) for l2 in MAP_L2},
        "prior map": lambda: {"population map alone": prior_map(population, None),
                              **{f"prior map L2 {l2}": prior_map(population, l2) for l2 in MAP_L2}},
        "centered head": lambda: {f"centered head L2 {l2}": centered_head(w0, b0, centre, l2) for l2 in HEAD_L2},
        "ensemble": lambda: {f"ensemble, head weight {w}, {chosen['centered head']}, {chosen['prior map']}":
                             ensemble(parts_fit["centered head"], parts_fit["prior map"], w) for w in ENSEMBLE_WEIGHTS},
        "population head": lambda: population_heads(validation, w0, b0),
    }
    parts_fit: dict = {}
    for family, candidates in families.items():
        print(f"# {family}", flush=True)
        fits = candidates()
        tried = cross_validated(validation, w0, b0) if family == "population head" else None
        family_rows, report = enrolled_rows(validation, parts["test"], fits, tried)
        rows.update(family_rows if not rows else {k: v for k, v in family_rows.items() if not k.startswith("none")})
        if report:
            chosen[family] = report["fit"]
            parts_fit[family] = fits[report["fit"]]
        if family in ("centered head", "prior map") and family not in chosen:
            print(f"no admissible {family}: the ensemble is not measured")
            break
    print_rows(f"{args.model}, fold {args.fold} test, sessions of 10", rows)


if __name__ == "__main__":
    main()
