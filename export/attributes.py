"""Face attribute directions in latent space, and how cleanly they edit.

For each attribute two candidate unit directions are computed from the encoded, labelled
training faces (μ):

* ``means``: difference of class means (attribute high minus low, split at its midpoint),
* ``linear``: the normal of a logistic-regression classifier on μ.

Edit quality is judged by a small attribute CNN trained on the synthetic labels
(``train/attr_classifier.py``): for ``EDIT_FACES`` random faces z ~ N(0, I), decode
z ± ``EDIT_STEP``·d and count how often the target attribute moves the intended way, and how
much the other three move (mean |Δ| in units of each attribute's range). Per attribute the
direction with the better score (mean target change − mean off-target change) is kept.
"""

from __future__ import annotations

import torch

from latent_odyssey.train.attr_classifier import ATTR_NAMES, train_classifier
from latent_odyssey.train.metrics import encode_all

EDIT_FACES = 500
EDIT_STEP = 2.0  # latent units along the unit direction
ATTR_RANGE = torch.tensor([2.0, 1.0, 1.0, 1.0])  # smile spans [-1, 1], the others [0, 1]
SPLIT = torch.tensor([0.0, 0.5, 0.5, 0.5])  # high/low split per attribute


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm().clamp_min(1e-12)


def mean_difference(mu: torch.Tensor, attrs: torch.Tensor) -> list[torch.Tensor]:
    """Per attribute: unit(mean μ of high faces − mean μ of low faces)."""
    out = []
    for j in range(attrs.shape[1]):
        high = attrs[:, j] > SPLIT[j]
        out.append(_unit(mu[high].mean(0) - mu[~high].mean(0)))
    return out


def logistic_normals(mu: torch.Tensor, attrs: torch.Tensor, steps: int = 300) -> list[torch.Tensor]:
    """Per attribute: unit normal of a logistic regression (μ standardised, L2 1e-3)."""
    mean, std = mu.mean(0), mu.std(0).clamp_min(1e-6)
    xs = (mu - mean) / std
    return [_unit(_fit_logistic(xs, (attrs[:, j] > SPLIT[j]).float(), steps) / std)  # μ coordinates
            for j in range(attrs.shape[1])]


def _fit_logistic(xs: torch.Tensor, y: torch.Tensor, steps: int) -> torch.Tensor:
    """Weights (D,) of an L2-regularised logistic regression of y (N,) on xs (N, D)."""
    w = torch.zeros(xs.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(xs @ w + b, y) + 1e-3 * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach()


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


def directions_for_export(
    model, data, edit_faces: int = EDIT_FACES, judge_train: int = 12000, judge_epochs: int = 4
) -> tuple[dict[str, list[float]] | None, str | None]:
    """(attribute -> unit direction, markdown table) for face models; (None, None) otherwise.

    ``edit_faces``, ``judge_train`` (training faces for the judge CNN) and ``judge_epochs``
    trade the edit test's precision for time (tests use small values).
    """
    if data.train_attrs is None:
        return None, None
    attrs = torch.from_numpy(data.train_attrs)
    mu, _ = encode_all(model, data.train_x)
    judge = train_classifier(data.train_x[:judge_train], attrs[:judge_train], epochs=judge_epochs)
    test_pred = judge.predict(data.test_x)
    test_true = torch.from_numpy(data.test_attrs)
    judge_err = ((test_pred - test_true).abs() / ATTR_RANGE).mean(0)
    cands = {"means": mean_difference(mu, attrs), "linear": logistic_normals(mu, attrs)}
    quality = {k: edit_quality(model, judge, v, edit_faces=edit_faces) for k, v in cands.items()}
    chosen: dict[str, list[float]] = {}
    lines = [
        f"Edit quality: {edit_faces} random faces z ~ N(0, I), decoded at z ± {EDIT_STEP:g}·d, judged by a "
        "CNN trained on the synthetic labels (its test error per attribute, in range units: "
        + ", ".join(f"{n} {e:.3f}" for n, e in zip(ATTR_NAMES, judge_err.tolist(), strict=True)) + ").",
        "",
        "| attribute | method | success (intended direction) | mean target Δ | mean off-target abs Δ | chosen |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for j, name in enumerate(ATTR_NAMES):
        # cleaner = more change of the target per unit of change in the other three
        scores = {k: q[j]["target_change"] - q[j]["off_target"] for k, q in quality.items()}
        best = max(scores, key=scores.get)
        chosen[name] = [round(v, 6) for v in _unit(cands[best][j]).tolist()]
        for k, q in quality.items():
            r = q[j]
            lines.append(
                f"| {name} | {k} | {r['success']:.1%} | {r['target_change']:+.3f} | {r['off_target']:.3f} | "
                f"{'yes' if k == best else ''} |"
            )
    # re-normalise after rounding so validation sees unit vectors
    for name, vec in chosen.items():
        n = sum(v * v for v in vec) ** 0.5
        chosen[name] = [v / n for v in vec]
    return chosen, "\n".join(lines)
