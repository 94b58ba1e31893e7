"""The fitted density of a model's latent space, and sampling from it (numpy only).

Random latents from the prior N(0, I) fall in the holes of a VAE's aggregate posterior and decode
to blobs; a density fitted after training to the encoded training set samples like the data
(Ghosh et al. 2019, "From Variational to Deterministic Autoencoders", ex-post density
estimation). Here the density is a Gaussian mixture in the principal subspace of the posterior
means μ, with isotropic noise off that subspace::

    z = c + Bᵀ y + e,   y ~ Σ_k w_k N(m_k, C_k)   (r-D),   e ~ N(0, s² (I − BᵀB))   (the other D − r dims)

* ``c`` (D,) the mean of μ; ``B`` (r, D) orthonormal rows, the top principal directions of μ:
  the fewest that hold ``VARIANCE_KEPT`` of μ's variance, at most ``MAX_RANK``;
* the mixture (``COMPONENTS`` components, full r×r covariances, as Ghosh et al.) is fitted with
  :func:`game.model.mixture.fit_mixture` on the coordinates ``y = B (μ − c)``;
* ``s²`` is the variance of μ left off the subspace, per remaining dimension.

Why this shape: the encoded faces of the shipped model fill a thin, rotated subspace (99 % of
μ's variance lies in 13 of the 128 principal directions), so a diagonal mixture in the latent
axes misses it, and K full 128-D covariances cost K·8256 numbers (82k floats at K = 10) to
describe mostly noise. In the subspace the same mixture is ~6k floats (about 60 KB of JSON).
Measured on the shipped faces model (1000 samples each; the numbers are in the README): the
mixture's samples re-encode and decode like the data (Fréchet distance of their encodings to the
encoded reconstructions 0.8-1.1, the data's own 0.9), N(0, I) does not (42).

In the model file (``ModelMeta.density``, JSON)::

    {"method": "gmm-pca", "mean": [D], "basis": [r][D], "weights": [K], "means": [K][r],
     "covs": [K][r][r], "residual_std": s, "points": N}

:func:`check_density` says what is wrong with a stored one (the model-file reader turns that
into one sentence). Sampling is split in two so a face keeps its identity while the
temperature changes: :meth:`LatentSampler.draw` takes the random numbers (a component and
standard normal noise), :meth:`LatentSampler.latents` turns them into latents at a temperature
``T`` that scales the spread of each component and the off-subspace noise (T = 0: the component
means; T = 1: the fit). :class:`PriorSampler` is N(0, T² I) with the same interface.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from latent_odyssey.game.model.jsonarrays import numeric_arrays
from latent_odyssey.game.model.mixture import Mixture, fit_mixture

METHOD = "gmm-pca"
COMPONENTS = 10  # mixture components (Ghosh et al. 2019 use 10)
VARIANCE_KEPT = 0.995  # share of μ's variance the subspace keeps
MAX_RANK = 32  # at most this many subspace dimensions (keeps the metadata small)
DECIMALS = 6  # stored numbers are rounded to this many decimals
UNIT_TOL = 1e-3  # basis rows must be orthonormal, and weights sum to 1, within this
SYMMETRY_TOL = 1e-6  # relative asymmetry allowed in a stored covariance
TEMPERATURE_MIN, TEMPERATURE_MAX = 0.0, 2.0  # the range a temperature is clamped to
NORM_SLACK = 8.0  # norm_bound's default: exceeded with probability exp(-32)


@dataclass
class Draw:
    """The random numbers behind ``n`` latents (see the module docstring)."""

    component: np.ndarray  # (n,) int, the mixture component (zeros for the prior)
    eps: np.ndarray  # (n, r) standard normal, the in-subspace noise (r = D for the prior)
    noise: np.ndarray  # (n, D) standard normal, the off-subspace noise (unused by the prior)


class LatentSampler:
    """Samples latents: ``draw`` the random numbers, then ``latents`` at a temperature."""

    name = ""  # what the sampler is, in a few words, for the screen

    def describe(self) -> str:
        """More about the sampler, in a few words ('' when there is nothing to add)."""
        return ""

    def draw(self, n: int, rng: np.random.Generator) -> Draw:
        raise NotImplementedError

    def norm_bound(self, temperature: float, slack: float = NORM_SLACK) -> float:
        """A norm no latent of this sampler at ``temperature`` or below exceeds, except with a
        probability of about exp(−slack²/2) (a standard normal vector in k dims is longer than
        √k + t with probability at most exp(−t²/2))."""
        raise NotImplementedError

    def latents(self, draw: Draw, temperature: float = 1.0) -> np.ndarray:
        """The latents of ``draw`` at ``temperature``.  # (n, D) float64"""
        raise NotImplementedError

    def sample(self, n: int, seed: int | np.random.Generator, temperature: float = 1.0) -> np.ndarray:
        """``n`` latents, the same for the same seed (or generator state).  # (n, D) float64"""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return self.latents(self.draw(n, rng), temperature)


class PriorSampler(LatentSampler):
    """The VAE's prior N(0, T² I)."""

    name = "prior N(0, I)"

    def __init__(self, latent_dim: int) -> None:
        self.latent_dim = int(latent_dim)

    def draw(self, n: int, rng: np.random.Generator) -> Draw:
        eps = rng.standard_normal((n, self.latent_dim))  # (n, D)
        return Draw(np.zeros(n, np.int64), eps, np.zeros((n, 0)))

    def latents(self, draw: Draw, temperature: float = 1.0) -> np.ndarray:
        return _clamp(temperature) * draw.eps

    def norm_bound(self, temperature: float, slack: float = NORM_SLACK) -> float:
        return _clamp(temperature) * (math.sqrt(self.latent_dim) + slack)


class Density(LatentSampler):
    """The fitted density (see the module docstring); build it with :meth:`from_dict`."""

    name = "fitted density"

    def __init__(self, mean: np.ndarray, basis: np.ndarray, mixture: Mixture, residual_std: float,
                 points: int = 0) -> None:
        self.mean = np.asarray(mean, np.float64)  # (D,)
        self.basis = np.asarray(basis, np.float64)  # (r, D)
        self.mixture = mixture  # in the subspace: weights (K,), means (K, r), covs (K, r, r)
        self.residual_std = float(residual_std)
        self.points = int(points)
        self._chol = np.linalg.cholesky(mixture.covs)  # (K, r, r)
        self._p = mixture.weights / mixture.weights.sum()  # (K,)

    @property
    def latent_dim(self) -> int:
        return self.basis.shape[1]

    @property
    def rank(self) -> int:
        return self.basis.shape[0]

    @property
    def components(self) -> int:
        return len(self.mixture.weights)

    def describe(self) -> str:
        """'10 Gaussians in a 19-D subspace'."""
        k = self.components
        article = "an" if str(self.rank).startswith("8") or self.rank in (11, 18) else "a"
        return f"{k} Gaussian{'s' if k != 1 else ''} in {article} {self.rank}-D subspace"

    def draw(self, n: int, rng: np.random.Generator) -> Draw:
        component = rng.choice(self.components, size=n, p=self._p)  # (n,)
        eps = rng.standard_normal((n, self.rank))  # (n, r)
        noise = rng.standard_normal((n, self.latent_dim))  # (n, D)
        return Draw(component, eps, noise)

    def latents(self, draw: Draw, temperature: float = 1.0) -> np.ndarray:
        t = _clamp(temperature)
        k = draw.component
        y = self.mixture.means[k] + t * np.einsum("nij,nj->ni", self._chol[k], draw.eps)  # (n, r)
        off = draw.noise - (draw.noise @ self.basis.T) @ self.basis  # (n, D) the noise off the subspace
        return self.mean + y @ self.basis + (t * self.residual_std) * off  # (n, D)

    def norm_bound(self, temperature: float, slack: float = NORM_SLACK) -> float:
        """|c| + max_k (|m_k| + T (√tr C_k + slack √λ_max(C_k))) + T s (√D + slack): |L ε| is
        |L|-Lipschitz in ε with mean at most |L|_F = √tr C (Gaussian concentration)."""
        t = _clamp(temperature)
        covs = self.mixture.covs  # (K, r, r)
        top = np.sqrt(np.linalg.eigvalsh(covs)[:, -1])  # (K,)
        trace = np.sqrt(np.trace(covs, axis1=1, axis2=2))  # (K,)
        far = np.linalg.norm(self.mixture.means, axis=1) + t * (trace + slack * top)  # (K,)
        off = t * self.residual_std * (math.sqrt(self.latent_dim) + slack)
        return float(np.linalg.norm(self.mean)) + float(far.max()) + off

    def log_density(self, z: np.ndarray) -> np.ndarray:
        """log p(z) under the fit (T = 1), nats.  z (N, D) -> (N,)"""
        x = np.asarray(z, np.float64) - self.mean  # (N, D)
        y = x @ self.basis.T  # (N, r)
        out = self.mixture.log_density(y)
        rest = self.latent_dim - self.rank
        if rest and self.residual_std > 0:
            e2 = ((x - y @ self.basis) ** 2).sum(axis=1)  # (N,)
            s2 = self.residual_std ** 2
            out = out - 0.5 * e2 / s2 - 0.5 * rest * math.log(2 * math.pi * s2)
        return out

    # ------------------------------------------------------------------ the stored form

    def to_dict(self) -> dict:
        """The JSON object stored in the model file (numbers rounded to ``DECIMALS``)."""
        mix = self.mixture
        covs = 0.5 * (mix.covs + np.transpose(mix.covs, (0, 2, 1)))
        return {
            "method": METHOD, "mean": _rounded(self.mean), "basis": _rounded(self.basis),
            "weights": _rounded(mix.weights), "means": _rounded(mix.means), "covs": _rounded(covs),
            "residual_std": round(self.residual_std, DECIMALS), "points": self.points,
        }

    @classmethod
    def from_dict(cls, raw: dict) -> Density:
        """The density of a stored JSON object that :func:`check_density` accepted."""
        mix = Mixture(np.asarray(raw["weights"], np.float64), np.asarray(raw["means"], np.float64),
                      np.asarray(raw["covs"], np.float64))
        return cls(raw["mean"], raw["basis"], mix, raw["residual_std"], raw.get("points", 0))


def fit_density(mu: np.ndarray, components: int = COMPONENTS, variance_kept: float = VARIANCE_KEPT,
                max_rank: int = MAX_RANK) -> Density:
    """Fit the density to the posterior means ``mu`` (N, D) of the training set (see the module
    docstring); deterministic (``fit_mixture`` seeds its own k-means++)."""
    x = np.asarray(mu, np.float64)
    n, d = x.shape
    if n < 2:
        raise ValueError(f"A density needs at least 2 encoded points, got {n}.")
    mean = x.mean(axis=0)
    centred = x - mean  # (N, D)
    _, sv, vt = np.linalg.svd(centred, full_matrices=False)  # vt (min(N, D), D)
    var = sv ** 2
    share = np.cumsum(var) / max(var.sum(), 1e-300)
    rank = int(min(max_rank, len(var), np.searchsorted(share, variance_kept) + 1))
    basis = vt[:rank] * np.where(vt[:rank].sum(axis=1, keepdims=True) < 0, -1.0, 1.0)  # (r, D) sign-fixed
    y = centred @ basis.T  # (N, r)
    mixture = fit_mixture(y, None, components)
    rest = d - rank
    residual = ((centred - y @ basis) ** 2).sum() / (n * rest) if rest else 0.0
    return Density(mean, basis, mixture, math.sqrt(residual), n)


def check_density(raw: object, latent_dim: int) -> str | None:
    """What is wrong with a stored density, as a phrase ("density weights do not sum to 1
    (0.93)"), or None when it is well-formed: shapes, finite numbers, an orthonormal basis,
    weights that are non-negative and sum to 1, symmetric positive-definite covariances."""
    if not isinstance(raw, dict):
        return "density is not a JSON object"
    if raw.get("method") != METHOD:
        return f"density method {raw.get('method')!r} is not {METHOD!r}"
    missing = [k for k in ("mean", "basis", "weights", "means", "covs", "residual_std") if k not in raw]
    if missing:
        return f"density lacks {', '.join(missing)}"
    arrays = numeric_arrays(raw, ("mean", "basis", "weights", "means", "covs"), "density")
    if isinstance(arrays, str):
        return arrays
    mean, basis, weights, means, covs = (arrays[k] for k in ("mean", "basis", "weights", "means", "covs"))
    if mean.shape != (latent_dim,):
        return f"density mean should have {latent_dim} values, not shape {list(mean.shape)}"
    if basis.ndim != 2 or basis.shape[1] != latent_dim or not 1 <= basis.shape[0] <= latent_dim:
        return f"density basis should be r rows of {latent_dim} values (1 <= r <= {latent_dim}), not shape {list(basis.shape)}"
    r = basis.shape[0]
    gram_err = float(np.abs(basis @ basis.T - np.eye(r)).max())
    if gram_err > UNIT_TOL:
        return f"density basis rows are not orthonormal (off by {gram_err:.3g})"
    if weights.ndim != 1 or len(weights) < 1:
        return f"density weights should be a list of at least one number, not shape {list(weights.shape)}"
    k = len(weights)
    if np.any(weights < 0):
        return "density weights hold a negative weight"
    if abs(float(weights.sum()) - 1.0) > UNIT_TOL:
        return f"density weights do not sum to 1 ({float(weights.sum()):.4g})"
    if means.shape != (k, r):
        return f"density means should have shape [{k}, {r}], not {list(means.shape)}"
    if covs.shape != (k, r, r):
        return f"density covs should have shape [{k}, {r}, {r}], not {list(covs.shape)}"
    asym = np.abs(covs - np.transpose(covs, (0, 2, 1))).max()
    if asym > SYMMETRY_TOL * max(1.0, float(np.abs(covs).max())):
        return "density covs are not symmetric"
    try:
        np.linalg.cholesky(covs)
    except np.linalg.LinAlgError:
        return "density covs are not positive-definite"
    s = raw["residual_std"]
    if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0:
        return f"density residual_std {s!r} is not a finite number >= 0"
    points = raw.get("points", 0)
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        return f"density points {points!r} is not a whole number >= 0"
    return None


def _rounded(a: np.ndarray) -> list:
    return np.round(np.asarray(a, np.float64), DECIMALS).tolist()


def _clamp(temperature: float) -> float:
    return min(TEMPERATURE_MAX, max(TEMPERATURE_MIN, float(temperature)))
