"""Labelled enrollment in the embedding: the speaker's few labelled clips fine-tune the classifier itself (issue 18).

``adaptation_ceiling.py``'s labelled enrollment maps the 7 log probabilities (``x + x W + b``, 56 parameters). Here
the same clips set aside beforehand (``k`` per emotion) move the shipped classifier's weights on the pooled embedding
``z`` the classifier reads: ``W0 + dW``, ``b0 + db`` fitted by class-weighted cross-entropy plus ``l2`` times
``|dW|^2 + |db|^2`` (so that a few clips move it only a little). Both are measured on the same sessions, against no
adaptation; each one's L2 weight is chosen on the validation speakers by ``adaptation_ceiling.choose``.

The embeddings come from ``speaker_normalized_head.embeddings`` (one pass over the whole clip, no speech gate, no
temperature), so its "none" rows differ slightly from ``adaptation_ceiling.py``'s.

    python recipes/scripts/enrollment_head.py --model default --fold 1 --data-dir ../shared/data
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from scipy.special import log_softmax

sys.path.insert(0, str(Path(__file__).parent))
from adaptation_ceiling import L2_WEIGHTS, enrolled_rows, logit_map, print_rows  # noqa: E402
from adaptation_study import model_fold_args  # noqa: E402
from speaker_normalized_head import embeddings  # noqa: E402

from ser_hf.scoring.loading import load_model  # noqa: E402

HEAD_L2 = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def fit_classifier(z: np.ndarray, labels: np.ndarray, w0: np.ndarray, b0: np.ndarray,
                   l2: float) -> tuple[np.ndarray, np.ndarray]:
    """``(W (classes, dim), b (classes,))``: the classifier ``(w0, b0)`` moved towards the clips ``z (clips, dim)``,
    ``labels (clips,)`` by class-weighted cross-entropy plus ``l2`` times ``|W - w0|^2 + |b - b0|^2``."""
    z = torch.as_tensor(z, dtype=torch.float32)
    t = torch.as_tensor(labels, dtype=torch.int64)
    counts = torch.bincount(t, minlength=len(b0)).float()
    weight = torch.where(counts > 0, 1 / counts.clamp(min=1), torch.zeros_like(counts))
    base_w, base_b = torch.as_tensor(w0), torch.as_tensor(b0)
    dw = torch.zeros_like(base_w, requires_grad=True)
    db = torch.zeros_like(base_b, requires_grad=True)
    optimizer = torch.optim.LBFGS([dw, db], max_iter=100)

    def closure():
        optimizer.zero_grad()
        logits = z @ (base_w + dw).T + base_b + db
        loss = torch.nn.functional.cross_entropy(logits, t, weight=weight) + l2 * ((dw ** 2).sum() + (db ** 2).sum())
        loss.backward()
        return loss

    optimizer.step(closure)
    return (base_w + dw).detach().numpy(), (base_b + db).detach().numpy()


def head_fit(w0: np.ndarray, b0: np.ndarray, l2: float):
    """A ``fit`` for ``adaptation_ceiling.enrolled_beforehand``: the classifier ``(w0 (classes, dim), b0)`` moved
    towards the speaker's clips set aside (:func:`fit_classifier`), scoring ``log_softmax(z @ W.T + b)``."""
    def fit(enrolment: dict):
        w, b = fit_classifier(enrolment["z"], enrolment["labels"], w0, b0, l2)
        return lambda rows, session: log_softmax(rows["z"][session] @ w.T + b, axis=1)
    return fit


def model_parts(model: str, fold: int, data_dir) -> tuple[tuple[np.ndarray, np.ndarray], dict]:
    """``((W0 (classes, dim), b0), {"validation", "test": {"log_probabilities", "z", "labels", "speakers",
    "label_names"}})``: the model's classifier and every clip's embedding, from the cache."""
    network, _ = load_model(model)
    w0 = network.classifier.weight.detach().numpy().astype(np.float32)
    b0 = network.classifier.bias.detach().numpy().astype(np.float32)
    parts = {}
    for part in ("validation", "test"):
        data = embeddings(model, fold, part, data_dir)
        assert np.allclose(data["z"] @ w0.T + b0, data["logits"], atol=1e-3)  # the classifier reads z
        parts[part] = {"log_probabilities": log_softmax(data["logits"], axis=1), "z": data["z"],
                       "labels": data["labels"], "speakers": data["speakers"], "label_names": data["label_names"]}
    return (w0, b0), parts


def main() -> None:
    args = model_fold_args(__doc__.splitlines()[0])
    (w0, b0), parts = model_parts(args.model, args.fold, args.data_dir)
    rows = {}
    for name, fits in (("the log probabilities' map", {f"{'affine' if a else 'offset'} L2 {l2}": logit_map(a, l2)
                                                       for a in (False, True) for l2 in L2_WEIGHTS}),
                       ("the classifier on the embedding", {f"head L2 {l2}": head_fit(w0, b0, l2) for l2 in HEAD_L2})):
        print(f"# {name}")
        rows.update(enrolled_rows(parts["validation"], parts["test"], fits)[0])
    print_rows(f"{args.model}, fold {args.fold} test, sessions of 10", rows)


if __name__ == "__main__":
    main()
