"""Labelled enrollment fitted three more ways, beside the map the library ships (issue 18).

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
  weights those two chose.

Each family's setting is chosen on the validation speakers by ``adaptation_ceiling.choose`` (one setting for every
``k``, admissible on skewed sessions); the test rows print as one table.

    python recipes/scripts/enrollment_variants.py --model default --fold 1 --data-dir ../shared/data
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.special import log_softmax

sys.path.insert(0, str(Path(__file__).parent))
from adaptation_ceiling import enrolled_rows, logit_map, print_rows  # noqa: E402
from adaptation_study import model_fold_args  # noqa: E402
from enrollment_head import head_fit, model_parts  # noqa: E402

from ser_hf.inference.adaptation import fit_speaker_map  # noqa: E402

MAP_L2 = (0.1, 0.3, 1.0, 3.0)
HEAD_L2 = (0.1, 0.3, 1.0)
ENSEMBLE_WEIGHTS = (0.3, 0.5, 0.7)  # the centered head's share
POPULATION_L2 = 0.01


def balanced_mean(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The mean over emotions of each emotion's mean embedding ``(dim,)``: a speaker's centre that does not lean
    towards the emotion they said most."""
    return np.mean([z[labels == c].mean(axis=0) for c in np.unique(labels)], axis=0)


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
    centre = np.mean([balanced_mean(validation["z"][validation["speakers"] == s],
                                    validation["labels"][validation["speakers"] == s])
                      for s in np.unique(validation["speakers"])], axis=0)
    rows, chosen = {}, {}
    families = {
        "map": lambda: {f"map L2 {l2}": logit_map(True, l2) for l2 in MAP_L2},
        "prior map": lambda: {"population map alone": prior_map(population, None),
                              **{f"prior map L2 {l2}": prior_map(population, l2) for l2 in MAP_L2}},
        "centered head": lambda: {f"centered head L2 {l2}": centered_head(w0, b0, centre, l2) for l2 in HEAD_L2},
        "ensemble": lambda: {f"ensemble, head weight {w}, {chosen['centered head']}, {chosen['prior map']}":
                             ensemble(parts_fit["centered head"], parts_fit["prior map"], w) for w in ENSEMBLE_WEIGHTS},
    }
    parts_fit: dict = {}
    for family, candidates in families.items():
        print(f"# {family}", flush=True)
        fits = candidates()
        family_rows, report = enrolled_rows(validation, parts["test"], fits)
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
