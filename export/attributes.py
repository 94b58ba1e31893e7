"""Face attribute directions for the model file, chosen on how well they edit.

Candidates per attribute come from ``export.directions`` (numpy): the mean difference, the
logistic normal, the conditional normal (InterFaceGAN) and, for synthetic faces, the mean
latent difference of counterfactual pairs; here, with the torch decoder at hand, also
``decoded`` (:func:`decoded_directions`): the paired direction refined by gradient descent on
the very pixel error the counterfactual score measures, on the fitting pairs.

* **Synthetic faces** (the renderer can draw the same face with the attribute low and high):
  each candidate is scored on held-out counterfactual pairs (``export.facequality``: the
  fraction of the way an edit of the low face's μ gets to the high face's decode, and where the
  change lands), and the one that gets farthest is kept. The same numbers as
  ``benchmarks/face_quality.py`` prints for the shipped files.
* **Every face model** also gets the older judge test: a small attribute CNN trained on the
  labels (``train/attr_classifier.py``) judges ``EDIT_FACES`` random faces z ~ N(0, I) decoded at
  z ± ``EDIT_STEP``·d: how often the target attribute moves the intended way, and how much the
  other three move (mean |Δ| in units of each attribute's range). Without counterfactuals (a
  folder of photos) the candidate with the best judge score (mean target change − mean
  off-target change) is kept.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from latent_odyssey.export.directions import candidate_directions, unit
from latent_odyssey.export.facequality import FIT_PAIRS_SEED, HELDOUT_SEED, counterfactual_pairs
from latent_odyssey.export.facereport import best_methods, edit_lines, score_methods
from latent_odyssey.train.attr_classifier import ATTR_NAMES, train_classifier
from latent_odyssey.train.metrics import encode_all

EDIT_FACES = 500
EDIT_STEP = 2.0  # latent units along the unit direction
ATTR_RANGE = torch.tensor([2.0, 1.0, 1.0, 1.0])  # smile spans [-1, 1], the others [0, 1]
PAIRS = 200  # counterfactual pairs per attribute, to fit the paired directions and to score all
DECODED_STEPS = 60  # Adam steps of the decoded fit (about a minute per attribute on one CPU core)
DECODED_LR = 0.02  # Adam's rate on the (unnormalised) direction
SYNTHETIC = "synthetic faces"  # TensorData.dataset of the renderer's faces
BATCH = 256  # images per torch call


@torch.no_grad()
def edit_quality(
    model, judge, directions: list[torch.Tensor], seed: int = 0, edit_faces: int = EDIT_FACES
) -> list[dict]:
    """Per attribute: success rate of ±EDIT_STEP edits and mean off-target |Δ| (range units)."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn((edit_faces, model.cfg.latent_dim), generator=gen)
    rows = []
    for j, d in enumerate(directions):
        up = judge.predict(model.decode(z + EDIT_STEP * d))
        down = judge.predict(model.decode(z - EDIT_STEP * d))
        delta = (up - down) / ATTR_RANGE  # (N, 4)
        others = [k for k in range(len(directions)) if k != j]
        rows.append({
            "attribute": ATTR_NAMES[j],
            "success": float((delta[:, j] > 0).float().mean()),
            "target_change": float(delta[:, j].mean()),
            "off_target": float(delta[:, others].abs().mean()),
        })
    return rows


def numpy_model(model):
    """(encode, decode) numpy callables of a torch VAE: images (N, C, H, W) -> μ (N, D) float64,
    z (N, D) -> images (N, C, H, W) float32 in [0, 1]; batched, no gradients."""

    @torch.no_grad()
    def encode(images: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(images, np.float32))
        return torch.cat([model.encode(x[i:i + BATCH])[0] for i in range(0, len(x), BATCH)]).double().numpy()

    @torch.no_grad()
    def decode(z: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(z, np.float32))
        return torch.cat([model.decode(t[i:i + BATCH]) for i in range(0, len(t), BATCH)]).numpy()

    return encode, decode


def decoded_directions(model, codes: list[tuple[np.ndarray, np.ndarray]], start: np.ndarray,
                       steps: int = DECODED_STEPS) -> np.ndarray:
    """Per attribute j, the unit direction d that minimises the mean over the fitting pairs
    (μ_lo, μ_hi) = ``codes[j]`` ((P, D) each) of |dec(μ_lo + α d) − dec(μ_hi)|², with α =
    mean((μ_hi − μ_lo) · d) the step ``export.facequality.edit_score`` takes; Adam from
    ``start[j]`` (the paired direction), keeping the best direction met (the start included).
    -> (A, D)"""
    was = model.training
    model.eval()
    frozen = [q for q in model.parameters() if q.requires_grad]
    for q in frozen:  # gradients for the direction only
        q.requires_grad_(False)
    out = []
    try:
        for (lo, hi), d0 in zip(codes, start, strict=True):
            lo_t = torch.from_numpy(np.asarray(lo, np.float32))  # (P, D)
            gap = torch.from_numpy(np.asarray(hi - lo, np.float32))  # (P, D)
            with torch.no_grad():
                target = model.decode(torch.from_numpy(np.asarray(hi, np.float32)))  # (P, C, H, W)
            v = torch.tensor(np.asarray(d0, np.float32), requires_grad=True)
            opt = torch.optim.Adam([v], lr=DECODED_LR)
            best = (math.inf, unit(np.asarray(d0, np.float64)))  # (error, direction): the start counts
            for _ in range(steps + 1):
                d = v / v.norm()
                err = ((model.decode(lo_t + (gap @ d).mean() * d) - target) ** 2).sum() / len(lo_t)
                if float(err.detach()) < best[0]:  # the error of the direction before this step
                    best = (float(err.detach()), unit(d.detach().double().numpy()))
                opt.zero_grad()
                err.backward()
                opt.step()
            out.append(best[1])
    finally:
        model.train(was)
        for q in frozen:
            q.requires_grad_(True)
    return np.stack(out)


def counterfactual_choice(model, mu: np.ndarray, attrs: np.ndarray, pairs: int = PAIRS,
                          decoded_steps: int = DECODED_STEPS
                          ) -> tuple[dict[str, np.ndarray], dict[str, str], list[str]]:
    """Candidates (with ``paired`` and ``decoded``), the method each attribute keeps, and the
    edit table (lines)."""
    encode, decode = numpy_model(model)
    size = model.cfg.image_size
    fit = [counterfactual_pairs(a, pairs, FIT_PAIRS_SEED + j, size) for j, a in enumerate(ATTR_NAMES)]
    codes = [(encode(p.low), encode(p.high)) for p in fit]
    cands = candidate_directions(mu, attrs, codes)
    cands["decoded"] = decoded_directions(model, codes, cands["paired"], decoded_steps)
    held = [counterfactual_pairs(a, pairs, HELDOUT_SEED + 1 + j, size) for j, a in enumerate(ATTR_NAMES)]
    result = {"name": "this model", "edits": score_methods(held, cands, encode, decode)}
    best = best_methods(result, cands)
    for row in result["edits"]:
        if row["method"] == best[row["attribute"]]:
            row["method"] += " (chosen)"
    return cands, best, edit_lines([result], pairs)


def directions_for_export(
    model, data, edit_faces: int = EDIT_FACES, judge_train: int = 12000, judge_epochs: int = 4,
    pairs: int = PAIRS, decoded_steps: int = DECODED_STEPS,
) -> tuple[dict[str, list[float]] | None, str | None]:
    """(attribute -> unit direction, markdown tables) for face models; (None, None) otherwise.

    ``edit_faces``, ``judge_train`` (training faces for the judge CNN), ``judge_epochs``,
    ``pairs`` (counterfactual pairs per attribute) and ``decoded_steps`` trade the tests'
    precision for time (tests use small values).
    """
    if data.train_attrs is None:
        return None, None
    attrs_t = torch.from_numpy(data.train_attrs)
    mu = encode_all(model, data.train_x)[0].detach().double().numpy()  # (N, D)
    attrs = data.train_attrs.astype(np.float64)
    lines: list[str] = []
    if data.dataset == SYNTHETIC:
        cands, best, lines = counterfactual_choice(model, mu, attrs, pairs, decoded_steps)
        lines.append("")
    else:
        cands, best = candidate_directions(mu, attrs), None
    judge = train_classifier(data.train_x[:judge_train], attrs_t[:judge_train], epochs=judge_epochs)
    judge_err = ((judge.predict(data.test_x) - torch.from_numpy(data.test_attrs)).abs() / ATTR_RANGE).mean(0)
    quality = {k: edit_quality(model, judge, list(torch.from_numpy(v).float()), edit_faces=edit_faces)
               for k, v in cands.items()}
    if best is None:  # cleaner = more change of the target per unit of change in the other three
        best = {name: max(quality, key=lambda k, j=j: quality[k][j]["target_change"] - quality[k][j]["off_target"])
                for j, name in enumerate(ATTR_NAMES)}
    lines += [
        f"Judge test: {edit_faces} random faces z ~ N(0, I), decoded at z ± {EDIT_STEP:g}·d, judged by a "
        "CNN trained on the synthetic labels (its test error per attribute, in range units: "
        + ", ".join(f"{n} {e:.3f}" for n, e in zip(ATTR_NAMES, judge_err.tolist(), strict=True)) + ").",
        "",
        "| attribute | method | success (intended direction) | mean target Δ | mean off-target abs Δ | chosen |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for j, name in enumerate(ATTR_NAMES):
        for k, q in quality.items():
            r = q[j]
            lines.append(
                f"| {name} | {k} | {r['success']:.1%} | {r['target_change']:+.3f} | {r['off_target']:.3f} | "
                f"{'yes' if k == best[name] else ''} |"
            )
    chosen = {}
    for j, name in enumerate(ATTR_NAMES):
        vec = np.round(unit(cands[best[name]][j]), 6)
        chosen[name] = (vec / np.linalg.norm(vec)).tolist()  # re-normalised after rounding: unit vectors
    return chosen, "\n".join(lines)
