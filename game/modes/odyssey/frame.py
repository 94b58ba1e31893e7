"""The coordinates the Odyssey flies in: the latent axes themselves, or the principal axes of
the encoded data (numpy only).

A frame is an orthonormal basis B (D, D) of the latent space; a latent z has frame
coordinates y = Bᵀ z and back z = B y (a rotation: distances and Gaussians stay as they are).
The scene keeps every point (ship, fixed dims, stored samples, centroids, bounds) in frame
coordinates and turns them into latents only to decode them.

* Narrow models (fewer than ``PRINCIPAL_MIN_DIM`` dims: the digits and fashion models, a
  5-D test model) fly their own axes ``z0, z1, ...``: B = I.
* Wide models (the 128-D faces) fly their principal axes ``PC1, PC2, ...``: the eigenvectors
  of the covariance of the encoded samples stored in the file, by falling variance. Three raw
  axes of the shipped faces hold 12 % of the encoded faces' variance and leave the face at
  the mean in the other 125 (one average face everywhere); the first three principal axes
  hold 25 %, and every frame coordinate moves all the latent dims together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PRINCIPAL_MIN_DIM = 16  # models with at least this many latent dims fly their principal axes


@dataclass(frozen=True)
class FlightFrame:
    """An orthonormal frame of the latent space: the latent axes (``z0, z1, ...``) or principal
    axes (``PC1, PC2, ...``)."""

    basis: np.ndarray  # (D, D) float64, orthonormal columns: the frame's axes in latent coordinates
    identity: bool  # the latent axes themselves (basis = I): coordinates pass through unchanged

    @property
    def prefix(self) -> str:
        return "z" if self.identity else "PC"

    @classmethod
    def axes(cls, dim: int) -> FlightFrame:
        """The latent axes themselves."""
        return cls(np.eye(dim), True)

    @classmethod
    def principal(cls, samples: np.ndarray) -> FlightFrame:
        """Principal axes of ``samples`` (M, D), largest variance first, each signed so that its
        largest latent component is positive (the same file always gives the same frame)."""
        x = np.asarray(samples, np.float64)
        cov = np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])  # (D, D)
        w, v = np.linalg.eigh(cov)  # ascending
        v = v[:, np.argsort(-w, kind="stable")]  # (D, D) columns by falling variance
        sign = np.sign(v[np.argmax(np.abs(v), axis=0), np.arange(v.shape[1])])
        return cls(v * np.where(sign == 0, 1.0, sign)[None], False)

    def to_frame(self, z: np.ndarray) -> np.ndarray:
        """Latents (..., D) -> frame coordinates (..., D)."""
        z = np.asarray(z, np.float64)
        return z if self.identity else z @ self.basis

    def to_latent(self, y: np.ndarray) -> np.ndarray:
        """Frame coordinates (..., D) -> latents (..., D) float64."""
        y = np.asarray(y, np.float64)
        return y if self.identity else y @ self.basis.T

    def name(self, axis: int) -> str:
        """The axis' name on the HUD: ``z12`` or ``PC3``."""
        return f"z{int(axis)}" if self.identity else f"PC{int(axis) + 1}"


def flight_frame(latent_dim: int, samples: np.ndarray) -> FlightFrame:
    """The frame a model is flown in (module docstring): principal axes for wide models with
    enough stored samples to estimate them, else the latent axes."""
    samples = np.asarray(samples, np.float64).reshape(-1, latent_dim)
    if latent_dim >= PRINCIPAL_MIN_DIM and len(samples) > latent_dim:
        return FlightFrame.principal(samples)
    return FlightFrame.axes(latent_dim)


def frame_bounds(frame: FlightFrame, samples: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 percentiles: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The populated region per frame axis, (lo (D,), hi (D,)): the file's own per-dim
    percentile bounds on the latent axes, the same percentiles of the samples' frame
    coordinates on principal axes."""
    if frame.identity:
        return np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    y = frame.to_frame(samples)  # (M, D)
    low, high = np.percentile(y, list(percentiles), axis=0)
    return low, np.maximum(high, low + 1e-6)
