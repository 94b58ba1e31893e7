"""Fit face-dependent attribute edits (``game/model/editfield.py``) on counterfactual pairs.

The renderer draws the same faces with an attribute low and high (``FIT_PAIRS_SEED``, never the
held-out pairs the report scores on). Both are encoded (μ_lo, μ_hi, (P, D) each) and the change
Δ = μ_hi − μ_lo is regressed on the face: Δ ≈ offset + (z − center) @ J, with z each end of a
pair (so that the field also holds for faces already at the high end, which the studio meets
as often as low ones), ridge penalty ``FIELD_L2``, and J kept to its top ``FIELD_RANK`` singular
directions (J = left @ right.T). numpy only: fitted from the ONNX files.
"""

from __future__ import annotations

import numpy as np

from latent_odyssey.export.facequality import FIT_PAIRS_SEED, counterfactual_pairs
from latent_odyssey.game.model.editfield import EditField
from latent_odyssey.train.faces import ATTRIBUTES

FIELD_PAIRS = 2000  # counterfactual pairs per attribute the field is fitted on
FIELD_RANK = 32  # singular directions of J kept (rank 16: ~1-3 points less of the way; full 128: ~0.5 more)
FIELD_L2 = 10.0  # ridge penalty on J (in squared latent units summed over the pairs' ends)


def fit_edit_field(mu_low: np.ndarray, mu_high: np.ndarray, rank: int = FIELD_RANK, l2: float = FIELD_L2) -> EditField:
    """The edit field of one attribute from its pairs' encodings (P, D) each."""
    mu_low, mu_high = np.asarray(mu_low, np.float64), np.asarray(mu_high, np.float64)
    change = mu_high - mu_low  # (P, D)
    offset = change.mean(0)  # (D,)
    x = np.concatenate([mu_low, mu_high])  # (2P, D): both ends of every pair
    y = np.concatenate([change, change]) - offset  # (2P, D)
    center = x.mean(0)
    xc = x - center
    d = x.shape[1]
    jac = np.linalg.solve(xc.T @ xc + l2 * np.eye(d), xc.T @ y)  # (D, D)
    u, s, vt = np.linalg.svd(jac)
    r = max(1, min(rank, d))
    return EditField(center, offset, u[:, :r] * s[:r], vt[:r].T)


def fit_model_fields(model, pairs: int = FIELD_PAIRS, log=print) -> dict[str, dict]:
    """{attribute: stored field} for every attribute, fitted on ``pairs`` counterfactual pairs
    of ``FIT_PAIRS_SEED`` (attribute j: seed + j) encoded by ``model``
    (``export.facereport.OnnxFaceModel``: ``encode`` and ``size``)."""
    out = {}
    for j, attr in enumerate(ATTRIBUTES):
        p = counterfactual_pairs(attr, pairs, FIT_PAIRS_SEED + j, model.size)
        field = fit_edit_field(model.encode(p.low), model.encode(p.high))
        out[attr] = field.to_dict()
        log(f"  {attr}: edit field fitted on {pairs} pairs (mean change {np.linalg.norm(field.offset):.2f}, rank {field.left.shape[1]})")
    return out
