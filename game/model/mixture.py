"""A Gaussian mixture fitted to encoded data with EM (numpy only): the aggregate posterior's
density, which the prior N(0, I) only approximates (Ghosh et al. 2019 sample from such a fit).

``fit_mixture(points, labels)`` starts from one component per class (the class's mean and
covariance) when the points are labelled, else from deterministic k-means++ seeds, and runs
``EM_ITERS`` EM steps with full covariances (``REG_VAR`` added to the diagonal so a thin
cluster cannot collapse). ``Mixture.log_density(x)`` evaluates log p(x); ``data_threshold``
is the log-density that ``OFF_DATA_PERCENT`` percent of the fitted points fall below, the
line past which the map says "off the data".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EM_ITERS = 60
MAX_COMPONENTS = 10
REG_VAR = 1e-3  # latent units², added to every covariance's diagonal
OFF_DATA_PERCENT = 1.0  # points with a density below the lowest 1 % of the data's are "off the data"
SEED = 0  # k-means++ seeding for unlabelled data


@dataclass
class Mixture:
    """Σ_k w_k N(μ_k, Σ_k)."""

    weights: np.ndarray  # (K,)
    means: np.ndarray  # (K, D)
    covs: np.ndarray  # (K, D, D)
    data_threshold: float = -np.inf  # log-density below which a point is off the data

    def _factors(self) -> tuple[np.ndarray, np.ndarray]:
        """Per component: L⁻¹ with Σ = L Lᵀ (K, D, D), and log w - ½ log|2πΣ| (K,)."""
        chol = np.linalg.cholesky(self.covs)  # (K, D, D)
        inv = np.linalg.inv(chol)
        d = self.means.shape[1]
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        return inv, np.log(np.maximum(self.weights, 1e-300)) - 0.5 * (logdet + d * np.log(2 * np.pi))

    def component_log_density(self, x: np.ndarray) -> np.ndarray:
        """log w_k + log N(x; μ_k, Σ_k).  x (N, D) -> (N, K)"""
        x = np.asarray(x, np.float64)
        inv, norm = self._factors()
        diff = x[:, None, :] - self.means[None]  # (N, K, D)
        sol = np.einsum("kij,nkj->nki", inv, diff, optimize=True)  # (N, K, D): L⁻¹ (x - μ_k)
        return norm[None] - 0.5 * (sol * sol).sum(axis=2)

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log p(x).  x (N, D) -> (N,)"""
        c = self.component_log_density(x)
        top = c.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(c - top).sum(axis=1, keepdims=True)))[:, 0]

    def off_data(self, x: np.ndarray) -> np.ndarray:
        """True where a point's density is below ``data_threshold``.  x (N, D) -> (N,) bool"""
        return self.log_density(x) < self.data_threshold


def _kmeans_pp(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        d2 = np.min(((points[:, None] - np.asarray(centres)[None]) ** 2).sum(-1), axis=1)
        p = d2 / d2.sum() if d2.sum() > 0 else None
        centres.append(points[rng.choice(len(points), p=p)])
    return np.asarray(centres)


def fit_mixture(points: np.ndarray, labels: np.ndarray | None = None, components: int = MAX_COMPONENTS) -> Mixture:
    """EM fit of a full-covariance Gaussian mixture to ``points`` (N, D) (see the module docstring)."""
    x = np.asarray(points, np.float64)
    n, d = x.shape
    eye = np.eye(d) * REG_VAR
    classes = np.unique(labels[labels >= 0]) if labels is not None and len(labels) == n else np.zeros(0, int)
    if 1 < len(classes) <= components and (labels >= 0).mean() > 0.9:
        resp = np.stack([(labels == c).astype(np.float64) for c in classes], axis=1)  # (N, K)
    else:
        k = int(min(components, max(1, n // (5 * (d + 1)))))
        centres = _kmeans_pp(x, k, np.random.default_rng(SEED))
        resp = np.eye(k)[np.argmin(((x[:, None] - centres[None]) ** 2).sum(-1), axis=1)]
    mix = Mixture(np.ones(resp.shape[1]), np.zeros((resp.shape[1], d)), np.tile(np.eye(d), (resp.shape[1], 1, 1)))
    for it in range(EM_ITERS + 1):
        nk = resp.sum(axis=0) + 1e-9  # (K,)  M step
        mix.weights = nk / n
        mix.means = (resp.T @ x) / nk[:, None]
        for j in range(len(nk)):
            c = x - mix.means[j]
            mix.covs[j] = (resp[:, j, None] * c).T @ c / nk[j] + eye
        if it == EM_ITERS:
            break
        logp = mix.component_log_density(x)  # E step
        logp -= logp.max(axis=1, keepdims=True)
        resp = np.exp(logp)
        resp /= resp.sum(axis=1, keepdims=True)
    mix.data_threshold = float(np.percentile(mix.log_density(x), OFF_DATA_PERCENT))
    return mix
