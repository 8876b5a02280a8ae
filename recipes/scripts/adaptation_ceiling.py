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
  the validation speakers under ``adaptation_study.py``'s admissibility rule), the session's other clips scored.

    python recipes/scripts/adaptation_ceiling.py --model outputs/whisper_robust_ft/fold3 --fold 3 --data-dir ../shared/data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from adaptation_study import clip_scores, session_metrics

L2_WEIGHTS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
AFFINE_L2 = 0.01  # the affine ceiling's 56 parameters per speaker need a little weight decay to converge


def fit_map(log_p: np.ndarray, labels: np.ndarray, l2: float = 0.0, balanced: bool = False,
            affine: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(W, b)`` minimizing cross-entropy of ``log_p + log_p @ W + b`` (clips, classes) against ``labels`` plus
    ``l2`` times their squared norm; ``W`` (classes, classes) stays zero unless ``affine``, ``b`` is (classes,)."""
    x, t = torch.tensor(log_p, dtype=torch.float32), torch.tensor(labels)
    weight = None
    if balanced:
        counts = torch.bincount(t, minlength=x.shape[1]).float()
        weight = torch.where(counts > 0, 1 / counts.clamp(min=1), torch.zeros_like(counts))
    w = torch.zeros(x.shape[1], x.shape[1], requires_grad=affine)
    b = torch.zeros(x.shape[1], requires_grad=True)
    optimizer = torch.optim.LBFGS([w, b] if affine else [b], max_iter=100)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x + x @ w + b, t, weight=weight) + l2 * ((w ** 2).sum() + (b ** 2).sum())
        loss.backward()
        return loss

    optimizer.step(closure)
    return w.detach().numpy(), b.detach().numpy()


def replay(scores: dict, skewed: bool, method: str, l2: float = 0.0) -> dict:
    """UA and WA over all sessions: ``none``, ``ceiling`` (an offset), ``affine ceiling``, ``held-out offset`` and
    ``held-out affine`` (fitted on the speaker's clips outside the session), ``labelled`` (enrollment clips are not
    scored) or ``unenrolled`` (``labelled``'s clips, no offset)."""
    log_p, labels, speakers = scores["log_probabilities"], scores["labels"], scores["speakers"]
    speech = ~np.isnan(log_p).any(axis=1)
    no_map = (np.zeros((log_p.shape[1],) * 2), np.zeros(log_p.shape[1]))
    maps = {s: fit_map(log_p[(speakers == s) & speech], labels[(speakers == s) & speech], AFFINE_L2 * (method != "ceiling"),
                       balanced=True, affine=method == "affine ceiling")
            for s in np.unique(speakers)} if method.endswith("ceiling") else {}

    def decide(session: np.ndarray) -> tuple:
        w, b = maps.get(speakers[session[0]], no_map)
        if method.startswith("held-out"):  # the speaker's other clips, labelled
            rest = np.setdiff1d(np.flatnonzero((speakers == speakers[session[0]]) & speech), session)
            w, b = fit_map(log_p[rest], labels[rest], AFFINE_L2 * (method == "held-out affine"), balanced=True,
                           affine=method == "held-out affine")
        if method in ("labelled", "unenrolled"):
            enrolment = [next(i for i in session if labels[i] == c) for c in np.unique(labels[session])]
            w, b = fit_map(log_p[enrolment], labels[enrolment], l2) if method == "labelled" else no_map
            session = np.array([i for i in session if i not in set(enrolment)])
        x = log_p[session]
        return (x + x @ w + b).argmax(axis=1), labels[session]

    return session_metrics(scores, skewed, decide)


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
        if all(result["skewed"][k] >= base["skewed"][k] - 0.01 for k in ("ua", "wa")):
            admissible[l2] = result
    l2 = max(admissible, key=lambda w: admissible[w]["balanced"]["ua"]) if admissible else None
    rows = {"none": cells(test, "none"), "ceiling (labels of all the speaker's clips)": cells(test, "ceiling"),
            f"affine ceiling (labels of all the speaker's clips, L2 {AFFINE_L2})": cells(test, "affine ceiling"),
            "held-out offset (labels of the speaker's other clips)": cells(test, "held-out offset"),
            f"held-out affine (labels of the speaker's other clips, L2 {AFFINE_L2})": cells(test, "held-out affine")}
    if l2 is not None:
        rows["none, on the clips labelled enrollment scores"] = cells(test, "unenrolled")
        rows[f"labelled enrollment, one clip per emotion, L2 {l2}"] = cells(test, "labelled", l2)
    print(f"| {args.model}, fold {args.fold} test | balanced UA | balanced WA | skewed UA | skewed WA |")
    print("|---|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(f"| {name} | {r['balanced']['ua']:.3f} | {r['balanced']['wa']:.3f} | {r['skewed']['ua']:.3f} | "
              f"{r['skewed']['wa']:.3f} |")


if __name__ == "__main__":
    main()
