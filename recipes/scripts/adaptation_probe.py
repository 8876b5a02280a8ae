"""Two more ways to adapt to the speaker, measured beside ``adaptation_study.py``'s logit centering (same sessions,
same admissibility rule), for the Whisper-backbone model:

* **composition**: the logit shift minus what the session's own (predicted) mix of emotions explains: the
  offset is ``mean(log p) - pi @ M``, ``M`` the validation speakers' mean log probabilities per true class and
  ``pi`` the session's mean posterior shrunk by ``shrink`` towards the validation mix;
* **embedding statistics** (AdaBN): the head's BatchNorm normalizes the conv features with a blend of its
  population statistics and the running mean and variance of this speaker's frames;
* **enrollment in the embedding**: the conv features of a few of the speaker's neutral clips move (and, with
  ``scale``, rescale) the speaker's features onto the validation speakers' neutral ones, before the BatchNorm.
  Only neutral clips set the shift, so a session's own mix of emotions cannot move it.

    python recipes/scripts/adaptation_probe.py --model default --fold 1 --data-dir ../shared/data

Caches the head's conv features per clip in ``outputs/adaptation/`` (float16, about 300 MB per fold) and prints
one line per configuration: the change of balanced UA/WA and skewed UA/WA, on validation and test speakers.
"""

from __future__ import annotations

import itertools
import pickle
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
import adaptation_study as study  # noqa: E402

from ser_hf.data import load_audio, load_split  # noqa: E402
from ser_hf.scoring.loading import load_model  # noqa: E402
from ser_hf.scoring.score import model_inputs, softmax  # noqa: E402


def conv_features(network, fe, model: str, fold: int, part: str, data_dir) -> dict:
    """Per clip: the head's conv output before its BatchNorm ``(frames, channels)`` and the logits, cached."""
    path = study.CACHE / f"frames_{model}_fold{fold}_{part}.pkl"
    if not path.is_file():
        from tqdm import tqdm

        split, names = load_split(["ravdess", "crema_d", "tess"], data_dir, "core7", calm="merge",
                                  protocol="multi-corpus", fold=fold)
        rows, grab = split[part], {}
        hook = network.head_conv.register_forward_hook(lambda m, i, o: grab.__setitem__("x", o[0].T.numpy()))
        frames, logits = [], []
        for clip in tqdm(rows["path"], desc=f"{model} fold {fold} {part}", mininterval=30):
            with torch.inference_mode():
                logits.append(network(**model_inputs(fe, load_audio(clip, fe.sampling_rate),
                                                     network.main_input_name)).logits[0].numpy())
            frames.append(grab["x"].astype(np.float16))
        hook.remove()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            pickle.dump({"frames": frames, "logits": np.stack(logits)}, f)
    with open(path, "rb") as f:
        saved = pickle.load(f)
    scores = study.clip_scores(model, fold, part, data_dir)  # labels, speakers and the gate's "no speech" rows
    return {**scores, "frames": [x.astype(np.float32) for x in saved["frames"]], "logits": saved["logits"]}


class AdaBN:
    """Adapted logits of clip ``i``: the head's BatchNorm with ``alpha`` of this speaker's frame statistics."""

    def __init__(self, network, data: dict, alpha: float, warmup: int):
        self.network, self.data, self.alpha, self.warmup = network, data, alpha, warmup
        self.sum = self.squares = 0.0
        self.frames = self.clips = 0

    def __call__(self, i: int) -> np.ndarray:
        x = self.data["frames"][i]
        out = self.data["logits"][i]
        if self.clips >= self.warmup:
            bn = self.network.head_norm
            mean = self.sum / self.frames
            blend_mean = (1 - self.alpha) * bn.running_mean.numpy() + self.alpha * mean
            blend_var = (1 - self.alpha) * bn.running_var.numpy() + self.alpha * (self.squares / self.frames - mean**2)
            out = head_logits(self.network, x, blend_mean, blend_var)
        self.sum, self.squares = self.sum + x.sum(0), self.squares + (x.astype(np.float64) ** 2).sum(0)
        self.frames, self.clips = self.frames + len(x), self.clips + 1
        return out


class EnrollEmbedding:
    """Adapted logits of clip ``i`` after enrolling ``k`` neutral clips: ``x + alpha * (x' - x)``, where ``x'`` maps
    the speaker's neutral frame mean and (``scale`` of its) spread onto the population's neutral ones."""

    def __init__(self, network, data: dict, population: tuple, alpha: float, k: int, scale: float):
        self.network, self.data, (self.mean, self.var) = network, data, population
        self.alpha, self.k, self.scale = alpha, k, scale

    def enroll(self, session: np.ndarray) -> np.ndarray:
        """Take the session's first ``k`` neutral clips as the enrollment; returns the clips left to score."""
        neutral = list(self.data["label_names"]).index("neutral")
        chosen = session[self.data["labels"][session] == neutral][: self.k]
        frames = np.concatenate([self.data["frames"][i] for i in chosen])
        self.speaker_mean = frames.mean(0)
        self.ratio = (self.var / (frames.var(0) + 1e-5)) ** (self.scale / 2)
        return np.array([i for i in session if i not in set(chosen)])

    def __call__(self, i: int) -> np.ndarray:
        x = self.data["frames"][i]
        mapped = self.mean + (x - self.speaker_mean) * self.ratio
        bn = self.network.head_norm
        return head_logits(self.network, x + self.alpha * (mapped - x), bn.running_mean.numpy(), bn.running_var.numpy())


def head_logits(network, x: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """The head's logits ``(labels,)`` from its conv features ``x`` ``(frames, channels)``, its BatchNorm using
    ``mean`` and ``var`` ``(channels,)``."""
    bn = network.head_norm
    y = (x - mean) / np.sqrt(var + bn.eps) * bn.weight.detach().numpy() + bn.bias.detach().numpy()
    y = torch.from_numpy(np.maximum(y, 0).T[None].astype(np.float32))
    with torch.inference_mode():
        return network.classifier(network.pooling(y, torch.ones(1, y.shape[-1])))[0].numpy()


class Composition:
    """Adapted log probabilities of clip ``i``: centering that leaves the session's own mix of emotions alone."""

    def __init__(self, data: dict, means: np.ndarray, mix: np.ndarray, strength: float, warmup: int, shrink: float):
        self.data, self.means, self.mix = data, means, mix
        self.strength, self.warmup, self.shrink = strength, warmup, shrink
        self.sum, self.posteriors, self.count = np.zeros(means.shape[1]), np.zeros(means.shape[0]), 0

    def __call__(self, i: int) -> np.ndarray:
        log_p = self.data["log_probabilities"][i]
        out = log_p
        if self.count >= self.warmup:
            pi = (1 - self.shrink) * self.posteriors / self.count + self.shrink * self.mix
            out = log_p - self.strength * (self.sum / self.count - pi @ self.means)
        self.sum, self.posteriors, self.count = self.sum + log_p, self.posteriors + softmax(out), self.count + 1
        return out


def replay(data: dict, factory, skewed: bool) -> tuple[float, float]:
    """UA and WA over the study's sessions, each adapted by a fresh ``factory()`` (clip index -> logits)."""

    def decide(session: np.ndarray) -> tuple:
        adapt = factory()
        if hasattr(adapt, "enroll"):
            session = adapt.enroll(session)
        return np.asarray([int(np.argmax(adapt(i))) for i in session]), data["labels"][session]

    m = study.session_metrics(data, skewed, decide)
    return m["ua"], m["wa"]


def main() -> None:
    args = study.model_fold_args(__doc__.splitlines()[0])
    torch.set_num_threads(1)
    network, fe = load_model(args.model)
    network.eval()
    parts = {part: conv_features(network, fe, args.model, args.fold, part, args.data_dir) for part in ("validation", "test")}
    val = parts["validation"]
    speech = ~np.isnan(val["log_probabilities"]).any(1)
    means = np.stack([val["log_probabilities"][speech & (val["labels"] == k)].mean(0)
                      for k in range(len(val["label_names"]))])
    mix = np.bincount(val["labels"][speech], minlength=len(means)) / speech.sum()
    configs = {("none",): lambda d: (lambda i: d["logits"][i])}
    for alpha, warmup in itertools.product((0.5, 1.0), (3, 10)):
        configs[("adabn", alpha, warmup)] = lambda d, a=alpha, w=warmup: AdaBN(network, d, a, w)
    neutral = np.concatenate([val["frames"][i] for i in np.flatnonzero(speech & (val["labels"] == list(
        val["label_names"]).index("neutral")))])
    population = (neutral.mean(0), neutral.var(0))
    for alpha, k, scale in itertools.product((0.5, 1.0), (2, 3), (0.0, 1.0)):
        configs[("enroll-embedding", alpha, k, scale)] = \
            lambda d, a=alpha, n=k, c=scale: EnrollEmbedding(network, d, population, a, n, c)
    for strength, warmup, shrink in itertools.product((0.5, 1.0), (3, 5, 10), (0.0, 0.5, 1.0)):
        configs[("composition", strength, warmup, shrink)] = \
            lambda d, s=strength, w=warmup, k=shrink: Composition(d, means, mix, s, w, k)
    results = {key: {part: [replay(d, lambda: make(d), skewed) for skewed in (False, True)] for part, d in parts.items()}
               for key, make in configs.items()}
    base = results[("none",)]
    for key, r in results.items():
        admissible = all(r["validation"][1][k] >= base["validation"][1][k] - 0.01 for k in (0, 1))
        change = {part: [round(r[part][s][k] - base[part][s][k], 3) for s in (0, 1) for k in (0, 1)] for part in r}
        print(args.model, args.fold, key, "admissible" if admissible else "-", "validation", change["validation"],
              "test", change["test"], flush=True)


if __name__ == "__main__":
    main()
