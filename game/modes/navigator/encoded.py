"""An encoded picture in the Navigator: its posterior, the reparameterization samples, and
the geometry of its ellipse on the map (shared by the scene and the view; draws nothing).

The posterior q(z | x) = N(μ, diag σ²) is axis-aligned in latent space, so in the two shown
dimensions (i, j) its kσ contour is the ellipse centred on μ with radii k·σ_i and k·σ_j
latent units, that is ``k · σ · scale`` pixels at the map's scale (``ellipse_rect``).
``SAMPLES`` reparameterization samples z = μ + σ·ε, ε ~ N(0, I), are kept with the ε that
made them; ``redraw`` draws a new ε (the ``resample`` action).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame

from latent_odyssey.game.model.posterior import Posterior

SAMPLES = 8  # reparameterization samples shown (dots on the map, decodes in the strip)
SIGMAS = (1.0, 2.0)  # the ellipses drawn: 1σ and 2σ
SPREAD_S = 0.45  # new samples fly out from μ to μ + σ·ε over this long


@dataclass
class Encoded:
    """A picture's posterior with its current samples (and their decodes, once made)."""

    post: Posterior
    eps: np.ndarray  # (S, D) ε ~ N(0, I)
    drawn_t: float  # scene time the ε were drawn (the dots fly out from μ)
    images: list[np.ndarray] | None = None  # decoded μ, then the S samples: uint8 (H, W, 3)

    @property
    def zs(self) -> np.ndarray:
        """z = μ + σ·ε.  # (S, D)"""
        return self.post.samples(self.eps)

    def batch(self) -> np.ndarray:
        """What to decode: μ, then the samples.  # (1 + S, D)"""
        return np.concatenate([self.post.mu[None], self.zs])

    def redraw(self, rng: np.random.Generator, t: float) -> None:
        """Draw new ε (the images are decoded again with the next frame)."""
        self.eps = rng.standard_normal(self.eps.shape)
        self.drawn_t = t
        self.images = None

    def spread(self, t: float) -> float:
        """How far the samples have flown out from μ at scene time ``t``: 0..1 (eased)."""
        u = min(1.0, max(0.0, (t - self.drawn_t) / SPREAD_S))
        return 1.0 - (1.0 - u) ** 3


def new_encoded(post: Posterior, rng: np.random.Generator, t: float, samples: int = SAMPLES) -> Encoded:
    """An Encoded with fresh ε."""
    return Encoded(post, rng.standard_normal((samples, len(post.mu))), t)


def ellipse_rect(centre_px: tuple[float, float], sigma2: np.ndarray, scale: float, k: float) -> pygame.Rect:
    """The bounding box of the kσ ellipse: centred on ``centre_px``, radii k·σ·scale px
    (``sigma2`` (2,): σ of the shown dims; ``scale``: pixels per latent unit)."""
    rx, ry = k * float(sigma2[0]) * scale, k * float(sigma2[1]) * scale
    left, top = round(centre_px[0] - rx), round(centre_px[1] - ry)
    right, bottom = round(centre_px[0] + rx), round(centre_px[1] + ry)
    return pygame.Rect(left, top, max(1, right - left), max(1, bottom - top))
