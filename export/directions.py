"""Candidate attribute directions in latent space, from encoded labelled faces (numpy only).

Each method turns posterior means ``mu`` (N, D) and attributes ``attrs`` (N, A) (columns in
``train.faces.ATTRIBUTES`` order; an attribute is "high" above its ``SPLIT``) into one unit
direction per attribute, (A, D):

* ``means``: the difference of the class means, mean μ of high faces − mean μ of low faces;
* ``logistic``: the normal of an L2-regularised logistic regression on standardised μ (as a
  direction in μ's own coordinates: the weights divided by the standard deviations);
* ``conditional``: the logistic normal with the other attributes' normals projected out
  (InterFaceGAN's conditional manipulation, Shen et al. 2020: moving along it leaves the other
  attributes' classifiers unchanged to first order);
* ``paired``: the mean of μ_high − μ_low over counterfactual pairs, the same training-stream
  faces rendered with the attribute low and high (only a renderer can give these pairs);
* ``decoded``: the paired direction refined through the decoder (``export.attributes``, torch, at
  export only): the direction whose edit lands nearest the high faces' decodes in pixels.

``export.attributes`` picks one per attribute for the model file; ``benchmarks/face_quality.py``
scores all of them against true counterfactual renders (``export.facequality``).
"""

from __future__ import annotations

import numpy as np

SPLIT = (0.0, 0.5, 0.5, 0.5)  # high/low split per attribute: smile in [-1, 1], the others in [0, 1]
L2 = 1e-3  # logistic regression: weight decay on the standardised weights
NEWTON_STEPS = 30  # Newton iterations (it converges in about 10)
METHODS = ("means", "logistic", "conditional", "paired", "decoded")


def unit(v: np.ndarray) -> np.ndarray:
    """v / |v| along the last axis."""
    v = np.asarray(v, np.float64)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def high(attrs: np.ndarray) -> np.ndarray:
    """Which faces are on the high side of each attribute.  (N, A) -> (N, A) bool"""
    a = np.asarray(attrs, np.float64)
    return a > np.asarray(SPLIT[: a.shape[1]])[None]


def mean_difference(mu: np.ndarray, attrs: np.ndarray) -> np.ndarray:
    """Per attribute: unit(mean μ of high faces − mean μ of low faces).  # (A, D)"""
    x = np.asarray(mu, np.float64)
    hi = high(attrs)
    return unit(np.stack([x[h].mean(0) - x[~h].mean(0) for h in hi.T]))


def logistic_normals(mu: np.ndarray, attrs: np.ndarray, l2: float = L2) -> np.ndarray:
    """Per attribute: the unit normal of a logistic regression of "high" on μ.  # (A, D)"""
    x = np.asarray(mu, np.float64)
    mean, std = x.mean(0), np.maximum(x.std(0), 1e-6)
    xs = np.hstack([(x - mean) / std, np.ones((len(x), 1))])  # (N, D + 1): standardised, with a bias
    return unit(np.stack([_fit_logistic(xs, h.astype(np.float64), l2)[:-1] / std for h in high(attrs).T]))


def _fit_logistic(xs: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Newton's method on mean BCE + l2·|w|² (the bias not decayed).  xs (N, P), y (N,) -> w (P,)"""
    n, p = xs.shape
    decay = np.full(p, 2.0 * l2)
    decay[-1] = 0.0
    w = np.zeros(p)
    for _ in range(NEWTON_STEPS):
        prob = 1.0 / (1.0 + np.exp(-(xs @ w)))  # (N,)
        grad = xs.T @ (prob - y) / n + decay * w  # (P,)
        hess = (xs * (prob * (1 - prob))[:, None]).T @ xs / n + np.diag(decay) + 1e-9 * np.eye(p)  # (P, P)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def conditional(normals: np.ndarray) -> np.ndarray:
    """Each row with the span of the other rows projected out, re-normalised.  (A, D) -> (A, D)"""
    n = np.asarray(normals, np.float64)
    out = []
    for j in range(len(n)):
        others = np.delete(n, j, axis=0)  # (A - 1, D)
        v = n[j]
        if len(others):
            q, _ = np.linalg.qr(others.T)  # (D, A - 1) orthonormal basis of the others' span
            v = v - q @ (q.T @ v)
        out.append(v)
    return unit(np.stack(out))


def paired_difference(mu_low: np.ndarray, mu_high: np.ndarray) -> np.ndarray:
    """unit(mean(μ_high − μ_low)) over counterfactual pairs.  (P, D) x2 -> (D,)"""
    return unit((np.asarray(mu_high, np.float64) - mu_low).mean(axis=0))


def candidate_directions(mu: np.ndarray, attrs: np.ndarray,
                         pairs: list[tuple[np.ndarray, np.ndarray]] | None = None) -> dict[str, np.ndarray]:
    """{method: (A, D) unit directions} for every method in ``METHODS``; ``paired`` only when
    ``pairs`` gives (μ_low (P, D), μ_high (P, D)) for every attribute."""
    logistic = logistic_normals(mu, attrs)
    out = {"means": mean_difference(mu, attrs), "logistic": logistic, "conditional": conditional(logistic)}
    if pairs is not None:
        out["paired"] = np.stack([paired_difference(lo, hi) for lo, hi in pairs])
    return out
