"""The encoder's answer for one picture: the posterior q(z | x) = N(μ, diag σ²), and the
reparameterization trick that samples it (Kingma & Welling 2014, section 2.4).

* ``encode_images(encoder, x)``: one onnxruntime run, images (N, C, H, W) -> μ, σ (N, D).
* ``encode_picture(handle_parts, rgba)``: preprocess (``preprocess.prepare``) and encode one
  picture -> :class:`Posterior`.
* ``encode_file(...)``: the same from an image file (``imagefile.read_image``); every way it can
  fail raises :class:`EncodeError` (an ``ImageFileError`` or ``BlankImageError`` included)
  with one sentence.
* ``Posterior.samples(eps)``: z = μ + σ · ε, ε ~ N(0, I); ``nearest_class(centroids)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latent_odyssey.game.model.imagefile import ImageFileError, read_image
from latent_odyssey.game.model.modelfile import ENCODER_INPUT, ModelMeta
from latent_odyssey.game.model.preprocess import BlankImageError, prepare


class EncodeError(ValueError):
    """A picture cannot be encoded: bad file, blank picture, or no encoder (one sentence)."""


@dataclass
class Posterior:
    """q(z | x) for one picture, with the picture as the encoder saw it."""

    mu: np.ndarray  # (D,) float64
    sigma: np.ndarray  # (D,) float64, exp(logvar / 2)
    image: np.ndarray  # (C, H, W) float32 in [0, 1]: the encoder's input
    source: str = "drawing"  # a file name, or "drawing"
    inverted: bool = False  # light paper was inverted
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # content box in the source picture, px
    label: str = field(default="")  # short name for the screen

    def samples(self, eps: np.ndarray) -> np.ndarray:
        """The reparameterization trick: z = μ + σ · ε.  eps (S, D) -> (S, D)"""
        return self.mu[None] + self.sigma[None] * np.asarray(eps, np.float64)

    def nearest_class(self, centroids: np.ndarray) -> tuple[int, float] | None:
        """(index, Euclidean distance) of the class centroid nearest μ; None without classes."""
        cen = np.asarray(centroids, np.float64).reshape(-1, len(self.mu))  # (K, D)
        if not len(cen):
            return None
        d = np.linalg.norm(cen - self.mu[None], axis=1)  # (K,)
        k = int(np.argmin(d))
        return k, float(d[k])


def encode_images(encoder, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One onnxruntime run: images (N, C, H, W) in [0, 1] -> μ (N, D), σ (N, D) float64."""
    x = np.ascontiguousarray(images, dtype=np.float32)
    mu, logvar = encoder.run(None, {ENCODER_INPUT: x})[:2]
    return mu.astype(np.float64), np.exp(0.5 * logvar.astype(np.float64))


def require_encoder(encoder, meta: ModelMeta) -> None:
    """Raise EncodeError (one sentence) when the model has no encoder to use."""
    if encoder is None:
        name = meta.encoder_file or f"{meta.name}.encoder.onnx"
        raise EncodeError(f"{meta.name} has no encoder ({name} is not beside the model), so it cannot encode pictures.")


def encode_picture(encoder, meta: ModelMeta, rgba: np.ndarray, source: str = "drawing") -> Posterior:
    """Preprocess a picture (uint8 (H, W, 4) RGBA or (H, W) grey) the way the model's training
    data was, and encode it. Raises EncodeError (blank picture, no encoder)."""
    require_encoder(encoder, meta)
    try:
        prep = prepare(rgba, meta.kind, meta.image_shape)
    except BlankImageError:
        what = "The drawing" if source == "drawing" else source
        raise EncodeError(f"{what} shows nothing to encode: no strokes or object stand out from its background.") from None
    mu, sigma = encode_images(encoder, prep.image[None])
    label = Path(source).name if source != "drawing" else "your drawing"
    return Posterior(mu[0], sigma[0], prep.image, source, prep.inverted, prep.box, label)


def encode_file(encoder, meta: ModelMeta, path: Path | str) -> Posterior:
    """Read, check, preprocess and encode an image file; EncodeError (one sentence) otherwise."""
    require_encoder(encoder, meta)
    try:
        rgba = read_image(path)
    except ImageFileError as exc:
        raise EncodeError(str(exc)) from None
    return encode_picture(encoder, meta, rgba, str(path))
