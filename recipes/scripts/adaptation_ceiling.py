"""How much a per-speaker logit offset can gain at most, and what labelled enrollment gets of it (issue 18).

Replays ``adaptation_study.py``'s sessions (20 clips, 5 per speaker, balanced or 60% neutral) from its cached clip
scores of one model and fold:

* **ceiling**: each test speaker's offset fitted on all of that speaker's clips *with their labels* (class-weighted
  cross-entropy, in-sample): no offset-based adaptation, unsupervised or enrolled, can gain more;
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
from adaptation_study import clip_scores, session_metrics  # noqa: E402

L2_WEIGHTS = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def fit_offset(log_p: np.ndarray, labels: np.ndarray, l2: float = 0.0, balanced: bool = False) -> np.ndarray:
    """The offset ``b`` (classes,) minimizing cross-entropy of ``log_p + b`` (clips, classes) against ``labels``."""
    x, t = torch.tensor(log_p), torch.tensor(labels)
    weight = None
    if balanced:
        counts = torch.bincount(t, minlength=x.shape[1]).float()
        weight = torch.where(counts > 0, 1 / counts.clamp(min=1), torch.zeros_like(counts))
    b = torch.zeros(x.shape[1], requires_grad=True)
    optimizer = torch.optim.LBFGS([b], max_iter=100)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x + b, t, weight=weight) + l2 * (b ** 2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return b.detach().numpy()


def replay(scores: dict, skewed: bool, method: str, l2: float = 0.0) -> dict:
    """UA and WA over all sessions: ``none``, ``ceiling``, ``labelled`` (enrollment clips are not scored) or
    ``unenrolled`` (``labelled``'s clips, no offset)."""
    log_p, labels, speakers = scores["log_probabilities"], scores["labels"], scores["speakers"]
    speech = ~np.isnan(log_p).any(axis=1)
    offsets = {s: fit_offset(log_p[(speakers == s) & speech], labels[(speakers == s) & speech], balanced=True)
               for s in np.unique(speakers)} if method == "ceiling" else {}

    def decide(session: np.ndarray) -> tuple:
        offset = offsets.get(speakers[session[0]], 0.0)
        if method in ("labelled", "unenrolled"):
            enrolment = [next(i for i in session if labels[i] == c) for c in np.unique(labels[session])]
            offset = fit_offset(log_p[enrolment], labels[enrolment], l2) if method == "labelled" else 0.0
            session = np.array([i for i in session if i not in set(enrolment)])
        return (log_p[session] + offset).argmax(axis=1), labels[session]

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
    rows = {"none": cells(test, "none"), "ceiling (labels of all the speaker's clips)": cells(test, "ceiling")}
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
