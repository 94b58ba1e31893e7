"""How good a face VAE is, judged against the renderer's own ground truth (numpy only).

Every measurement takes the model as two callables, so the same code scores shipped ONNX files
(``benchmarks/face_quality.py``, ``export/density.py``) and a PyTorch model being exported:
``encode(images (N, C, H, W) float32 in [0, 1]) -> μ (N, D)`` and ``decode(z (N, D)) -> images``.

* **Held-out PSNR** (:func:`heldout_psnr`): faces rendered from ``HELDOUT_SEED``, a render seed
  no training run uses (a run with seed s trains on seed 2s and tests on 2s + 1;
  :func:`check_heldout_seed`), encoded to μ and decoded; PSNR = 10 log10(1 / MSE) per image,
  over all pixels and channels in [0, 1], averaged over the images (dB).
* **Counterfactual edits** (:func:`counterfactual_pairs`, :func:`edit_score`): the renderer
  draws the same faces (same seed: pose, colours, shape, hair) with one attribute at its low end
  and at its high end (``LOW``, ``HIGH``; the other attributes as sampled). Both are encoded
  (μ_lo, μ_hi) and decoded (x̂_lo, x̂_hi). The edit moves μ_lo along the unit direction d by
  one step for all pairs, the **mean projection of the true latent difference on d**,
  ``α = mean((μ_hi − μ_lo) · d)`` (the step a slider would take; a per-pair step would use
  knowledge of the target). *Fraction of the way* = 1 − Σ|x̂(μ_lo + αd) − x̂_hi|² / Σ|x̂_lo − x̂_hi|²
  over all pairs and pixels (1: the edit lands on the high face's decode; 0: no closer; < 0:
  farther). An edit field (``game/model/editfield.py``) moves each μ_lo by its own fitted
  change v(μ_lo) instead (:func:`field_score`); *pairs closer*: the share of pairs whose error went down. *Locality*: the share
  of the edit's squared pixel change |x̂(μ_lo + αd) − x̂_lo|² inside the attribute's region
  (``REGIONS``: the renderer's own drawing window of the mouth for smile, of the glasses, over
  the eyes, for glasses), beside the same share of the true change |x_hi − x_lo|² between the
  two renders, and the region's share of the image (what a change spread evenly would get).
* **Ceiling** (:func:`edit_ceiling`): the most of the way any edit can get that sees only the
  low face, measured on the true renders. Some cues of the high face are drawn from uniforms
  the low face does not show (``train.faces.HIDDEN_AT_LOW``: which beard a feminine face would
  grow, whether a young face would bald); the best guess of the high face is its mean over
  those draws, and even that guess keeps their spread as error.
* **Sample quality** (:func:`sample_quality`): latents from each sampler (the prior N(0, I),
  the fitted density, the encoded training faces stored in the file) are decoded, and each set
  gets its sharpness, the mean variance of the 4-neighbour Laplacian of the grey image (higher is
  sharper; real renders and reconstructions for reference), and a Fréchet distance between
  the encodings μ of the decoded samples and the encodings of the decoded reconstructions of
  held-out faces (as FID, with the model's own encoder as the feature map: 0 when the samples
  are distributed like reconstructions of real faces).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from latent_odyssey.game.model.density import LatentSampler
from latent_odyssey.game.model.editfield import EditField
from latent_odyssey.train.faces import (
    ATTRIBUTES,
    EYE_Y,
    HIDDEN_AT_LOW,
    MOUTH_Y,
    NOSE_Y,
    face_landmarks,
    face_uniforms,
    render_faces,
    render_uniforms,
)

Encode = Callable[[np.ndarray], np.ndarray]
Decode = Callable[[np.ndarray], np.ndarray]

HELDOUT_SEED = 7_777_777  # render seed of the held-out faces and pairs (no training run uses it)
FIT_PAIRS_SEED = 5_555_555  # render seed of the pairs the ``paired`` directions are fitted on
LOW = {"smile": -1.0, "age": 0.0, "gender": 0.0, "glasses": 0.0}  # the low end of each attribute
HIGH = {"smile": 1.0, "age": 1.0, "gender": 1.0, "glasses": 1.0}
CEILING_DRAWS = 24  # resamplings of the hidden uniforms per face for ``edit_ceiling``
CEILING_SEED = 1  # seed of those resamplings
# (u0, u1, v0, v1) in the renderer's face-local units: its drawing windows (train/faces.py)
REGIONS = {
    "smile": ("mouth", (-0.22, 0.22, MOUTH_Y - 0.12, MOUTH_Y + 0.12)),  # _draw_mouth
    "glasses": ("eyes", (-0.48, 0.48, EYE_Y - 0.12, EYE_Y + 0.11)),  # _draw_glasses
}


def check_heldout_seed(training_seed: object, seed: int = HELDOUT_SEED) -> None:
    """Raise ValueError when ``seed`` is one of the render seeds a run with ``training_seed`` used."""
    if isinstance(training_seed, int) and seed in (2 * training_seed, 2 * training_seed + 1):
        raise ValueError(f"Render seed {seed} is the training or test stream of training seed {training_seed}.")


def render(n: int, seed: int, size: int, attrs: np.ndarray | None = None) -> np.ndarray:
    """``render_faces`` as the models take them.  # (N, 3, size, size) float32 in [0, 1]"""
    images, _ = render_faces(n, seed=seed, size=size, attrs=attrs)
    return images.transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of images in [0, 1].  (N, C, H, W) x2 -> (N,)"""
    mse = ((np.asarray(a, np.float64) - b) ** 2).reshape(len(a), -1).mean(axis=1)
    return 10.0 * np.log10(1.0 / np.maximum(mse, 1e-12))


def heldout_psnr(encode: Encode, decode: Decode, images: np.ndarray) -> float:
    """Mean per-image PSNR (dB) of the μ reconstructions of ``images`` (N, C, H, W)."""
    return float(psnr(decode(encode(images)), images).mean())


# ----------------------------------------------------------------------------- counterfactuals


@dataclass
class Pairs:
    """The same faces rendered with one attribute low and high."""

    attr: str
    low: np.ndarray  # (P, C, H, W) float32 in [0, 1]
    high: np.ndarray  # (P, C, H, W)
    region: np.ndarray | None  # (P, H, W) bool, the attribute's region (None: no region)


def region_mask(attr: str, n: int, seed: int, size: int, attrs: np.ndarray | None = None) -> np.ndarray | None:
    """The attribute's region (``REGIONS``) in each of the faces ``render_faces(n, seed, size,
    attrs)`` draws, or None for an attribute without one.  # (N, size, size) bool

    The renderer places a face by a similarity transform (shift, scale, tilt); the nose and mouth
    landmarks, ``MOUTH_Y − NOSE_Y`` apart in face-local units, give it back."""
    if attr not in REGIONS:
        return None
    u0, u1, v0, v1 = REGIONS[attr][1]
    marks = face_landmarks(n, seed=seed, size=size, attrs=attrs)
    nose, mouth = marks["nose"].astype(np.float64), marks["mouth"].astype(np.float64)  # (N, 2) px
    down = mouth - nose  # (N, 2): the face's local +v axis, MOUTH_Y - NOSE_Y units long
    unit_px = np.linalg.norm(down, axis=1) / (MOUTH_Y - NOSE_Y)  # (N,) pixels per local unit
    ev = down / np.linalg.norm(down, axis=1, keepdims=True)  # (N, 2)
    eu = np.stack([ev[:, 1], -ev[:, 0]], axis=1)  # (N, 2): +u, a quarter turn from +v
    origin = nose - NOSE_Y * unit_px[:, None] * ev  # (N, 2) px of the local point (0, 0)
    c = np.arange(size) + 0.5
    px = np.stack(np.meshgrid(c, c, indexing="xy"), axis=-1).reshape(-1, 2)  # (H*W, 2) (x, y)
    rel = px[None] - origin[:, None]  # (N, H*W, 2)
    u = (rel * eu[:, None]).sum(-1) / unit_px[:, None]  # (N, H*W)
    v = (rel * ev[:, None]).sum(-1) / unit_px[:, None]
    inside = (u >= u0) & (u <= u1) & (v >= v0) & (v <= v1)
    return inside.reshape(n, size, size)


def counterfactual_pairs(attr: str, n: int, seed: int = HELDOUT_SEED, size: int = 64) -> Pairs:
    """``n`` faces of seed ``seed`` rendered with ``attr`` at ``LOW`` and at ``HIGH``."""
    j = ATTRIBUTES.index(attr)
    forced = np.full((n, len(ATTRIBUTES)), np.nan, np.float32)
    forced[:, j] = LOW[attr]
    low = render(n, seed, size, forced)
    region = region_mask(attr, n, seed, size, forced)
    forced[:, j] = HIGH[attr]
    return Pairs(attr, low, render(n, seed, size, forced), region)


def edit_ceiling(attr: str, n: int, seed: int = HELDOUT_SEED, size: int = 64, draws: int = CEILING_DRAWS) -> float:
    """The fraction of the way (as ``edit_score``, on the true renders of the ``n`` pairs of
    ``counterfactual_pairs(attr, n, seed, size)``) reached by the best edit that sees only the
    low face: the high face's mean over ``draws`` resamplings of the uniforms
    ``HIDDEN_AT_LOW[attr]``, a resampling counting for a face only when its low render stays
    pixel for pixel the same (a face none kept counts as not edited). A mean of k draws misses
    the true face by (1 + 1/k) times the draws' spread, so each face's error is scaled by
    k / (k + 1) (unbiased); 1.0 when nothing is hidden."""
    hidden = list(HIDDEN_AT_LOW[attr])
    if not hidden:
        return 1.0
    j = ATTRIBUTES.index(attr)
    r, labels = face_uniforms(n, seed)
    low, high = labels.copy(), labels.copy()  # (n, 4)
    low[:, j], high[:, j] = LOW[attr], HIGH[attr]
    x_low = render_uniforms(r, low, size).astype(np.float64)  # (n, size, size, 3)
    x_high = render_uniforms(r, high, size).astype(np.float64)
    total, count = np.zeros_like(x_high), np.zeros(n)
    rng = np.random.default_rng(CEILING_SEED)
    for _ in range(draws):
        r2 = r.copy()
        r2[:, hidden] = rng.random((n, len(hidden)))
        same = np.all(render_uniforms(r2, low, size) == x_low, axis=(1, 2, 3))  # (n,) the low face unchanged
        total[same] += render_uniforms(r2[same], high[same], size)
        count += same
    seen = count > 0  # (n,) a face no resampling kept is guessed as its low face: no edit
    guess = np.where(seen[:, None, None, None], total / np.maximum(count, 1)[:, None, None, None], x_low)
    after = ((guess - x_high) ** 2).reshape(n, -1).sum(1) * np.where(seen, count / (count + 1), 1.0)  # (n,)
    before = ((x_low - x_high) ** 2).sum()
    return float(1.0 - after.sum() / max(before, 1e-300))


@dataclass
class PairCodes:
    """A model's encodings and decodes of one set of pairs."""

    mu_low: np.ndarray  # (P, D)
    mu_high: np.ndarray  # (P, D)
    dec_low: np.ndarray  # (P, C, H, W)
    dec_high: np.ndarray  # (P, C, H, W)


def encode_pairs(pairs: Pairs, encode: Encode, decode: Decode) -> PairCodes:
    mu_low, mu_high = encode(pairs.low), encode(pairs.high)
    return PairCodes(mu_low, mu_high, decode(mu_low), decode(mu_high))


def region_share(change: np.ndarray, region: np.ndarray | None) -> float:
    """The share of the squared change (P, C, H, W) inside ``region`` (P, H, W); NaN without one."""
    if region is None:
        return float("nan")
    energy = (np.asarray(change, np.float64) ** 2).sum(axis=1)  # (P, H, W)
    return float(energy[region].sum() / max(energy.sum(), 1e-300))


def edit_score(pairs: Pairs, codes: PairCodes, direction: np.ndarray, decode: Decode) -> dict:
    """The edit of the low faces along ``direction`` (D,) scored against the high faces (see the
    module docstring): {"step", "fraction", "closer", "local_edit", "local_true", "area"}."""
    d = np.asarray(direction, np.float64)
    d = d / np.linalg.norm(d)
    step = float(((codes.mu_high - codes.mu_low) @ d).mean())
    return _scored(pairs, codes, decode((codes.mu_low + step * d).astype(np.float32)), step)


def field_score(pairs: Pairs, codes: PairCodes, field: EditField, decode: Decode) -> dict:
    """The edit of each low face by its own change of the edit ``field``, μ_lo + v(μ_lo) (the
    field's fitted low-to-high change; nothing of the high face is used), scored as
    ``edit_score``; "step" is the mean length of the change."""
    change = field.vector(codes.mu_low)  # (P, D)
    step = float(np.linalg.norm(change, axis=1).mean())
    return _scored(pairs, codes, decode((codes.mu_low + change).astype(np.float32)), step)


def _scored(pairs: Pairs, codes: PairCodes, edited: np.ndarray, step: float) -> dict:
    """The scores of ``edited`` (P, C, H, W), the decodes of the edited low faces."""
    before = ((codes.dec_low - codes.dec_high).astype(np.float64) ** 2).reshape(len(edited), -1).sum(1)  # (P,)
    after = ((edited - codes.dec_high).astype(np.float64) ** 2).reshape(len(edited), -1).sum(1)
    return {
        "step": step,
        "fraction": float(1.0 - after.sum() / max(before.sum(), 1e-300)),
        "closer": float((after < before).mean()),
        "local_edit": region_share(edited - codes.dec_low, pairs.region),
        "local_true": region_share(pairs.high - pairs.low, pairs.region),
        "area": float(pairs.region.mean()) if pairs.region is not None else float("nan"),
    }


# ----------------------------------------------------------------------------- samples


def sharpness(images: np.ndarray) -> float:
    """Mean variance of the 4-neighbour Laplacian of the grey images (N, C, H, W) in [0, 1]."""
    g = np.asarray(images, np.float64).mean(axis=1)  # (N, H, W)
    lap = 4 * g[:, 1:-1, 1:-1] - g[:, :-2, 1:-1] - g[:, 2:, 1:-1] - g[:, 1:-1, :-2] - g[:, 1:-1, 2:]
    return float(lap.reshape(len(g), -1).var(axis=1).mean())


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` (N, F) and ``b`` (M, F)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ma, mb = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, v = np.linalg.eigh(ca)
    root = (v * np.sqrt(np.maximum(w, 0))) @ v.T  # ca^½
    cross = np.linalg.eigvalsh(root @ cb @ root)  # eigenvalues of ca^½ cb ca^½ (symmetric PSD)
    return float(((ma - mb) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.sqrt(np.maximum(cross, 0)).sum())


def sample_quality(
    encode: Encode, decode: Decode, samplers: dict[str, LatentSampler | np.ndarray], real: np.ndarray,
    n: int, seed: int = 0, temperature: float = 1.0,
) -> list[dict]:
    """Rows {"source", "sharpness", "frechet"} for the real renders ``real`` (N, C, H, W), their
    reconstructions, and ``n`` decoded latents of each sampler (a sampler, or fixed latents
    (M, D) such as the encoded training faces, of which the first ``n`` are used)."""
    recon = decode(encode(real))
    reference = encode(recon)  # (N, D) the encodings of reconstructions of real faces
    rows = [
        {"source": "real renders", "sharpness": sharpness(real), "frechet": frechet(encode(real), reference)},
        {"source": "reconstructions (μ)", "sharpness": sharpness(recon), "frechet": float("nan")},
    ]
    for name, sampler in samplers.items():
        if isinstance(sampler, LatentSampler):
            z = sampler.sample(n, seed, temperature)
        else:
            z = np.asarray(sampler, np.float64)[:n]
        images = decode(z.astype(np.float32))
        rows.append({"source": name, "sharpness": sharpness(images), "frechet": frechet(encode(images), reference)})
    return rows
