"""Latent interpolation helpers: linear and spherical paths between two latents, and easing.

* ``lerp(a, b, t)``  straight line ``(1 - t)·a + t·b``.
* ``slerp(a, b, t)`` great-circle path about the origin (White 2016, "Sampling Generative
  Networks"): for latents drawn from N(0, I) the norm stays near the prior's typical shell,
  where a straight line would cut through the low-norm middle of the ball.
* ``interpolate(a, b, t, spherical)`` picks one of the two.
* ``ease_in_out(t)`` cubic easing for animations on [0, 1].

Shapes: ``a``, ``b`` are ``(D,)``, ``t`` is ``(N,)``; the paths return ``(N, D)`` float64.
Torch-free (used by the game).
"""

from __future__ import annotations

import math

import numpy as np

PARALLEL_EPS = 1e-6  # sin(angle) below this: a and b are (anti)parallel, fall back to linear
ZERO_NORM = 1e-9  # latents shorter than this have no direction to rotate


def ease_in_out(t: float) -> float:
    """Cubic ease-in-out on [0, 1] (t is clamped); symmetric: ease(1 - t) = 1 - ease(t)."""
    t = min(1.0, max(0.0, float(t)))
    return 4 * t * t * t if t < 0.5 else 1 - (-2 * t + 2) ** 3 / 2


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """a, b (D,), t (N,) -> (N, D) points on the straight line."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape(-1, 1)  # (N, 1)
    return (1 - t) * a + t * b


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """a, b (D,), t (N,) -> (N, D) points on the great circle through a and b (about 0).

    The direction turns along the great circle (the usual ``sin((1-t)Ω)/sin Ω`` form, on unit
    vectors) while the norm goes linearly from ``|a|`` to ``|b|``, so the path never leaves the
    ball of the larger norm; t = 0 and t = 1 give a and b exactly. (The form applied to a and b
    themselves is the same for equal norms, but with unequal norms close to 180 degrees apart
    it swings out without bound: |a| = 1, |b| = 2, 179.4 degrees reaches |z| = 100.) Falls back
    to linear when a or b is zero or they are (anti)parallel, where the great circle is undefined.
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    t = np.asarray(t, np.float64).reshape(-1, 1)  # (N, 1)
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < ZERO_NORM or nb < ZERO_NORM:
        return (1 - t) * a + t * b
    cos = float(np.clip(np.dot(a, b) / (na * nb), -1.0, 1.0))
    omega = math.acos(cos)
    so = math.sin(omega)
    if so < PARALLEL_EPS:
        return (1 - t) * a + t * b
    direction = (np.sin((1 - t) * omega) * (a / na) + np.sin(t * omega) * (b / nb)) / so  # (N, D) unit
    out = ((1 - t) * na + t * nb) * direction
    return np.where(t == 0.0, a, np.where(t == 1.0, b, out))


def interpolate(a: np.ndarray, b: np.ndarray, t: np.ndarray, spherical: bool) -> np.ndarray:
    """``slerp`` when ``spherical`` else ``lerp``: (N, D)."""
    return slerp(a, b, t) if spherical else lerp(a, b, t)
