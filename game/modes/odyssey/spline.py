"""Constant-speed paths through latent space: centripetal Catmull-Rom with arc-length lookup.

Pure numpy, any dimension D (2, 3, 128, ...). Used by the autopilot: ``Path(waypoints)``
then ``point_at(s)`` with ``s`` advancing by ``speed * dt`` moves at constant speed.

Conventions
-----------
* Curve: centripetal Catmull-Rom (alpha = 0.5; Yuksel, Schaefer & Keyser 2011, "Parameterization
  and applications of Catmull-Rom curves"), which has no cusps or self-intersections inside
  a segment. Each segment is stored as a cubic in its local parameter u in [0, 1] and passes
  exactly through its two waypoints.
* Open paths extend the ends with mirrored phantom points; closed paths wrap around (the
  last waypoint joins the first; a repeated first point at the end is dropped).
* ``s`` is arc length in the waypoints' units. Closed paths wrap ``s`` modulo ``length``;
  open paths clamp it to ``[0, length]``.
* Arc length comes from a dense lookup table (``samples_per_segment`` intervals per segment,
  each integrated with Gauss-Legendre quadrature of the curve's speed); ``s`` maps back to the
  curve parameter by monotone cubic Hermite interpolation in that table (slopes = 1 / speed),
  so equal steps in ``s`` give equal distances along the curve.
"""

from __future__ import annotations

import numpy as np

CATMULL_ROM_ALPHA = 0.5  # 0.5 = centripetal
DUPLICATE_TOLERANCE = 1e-9  # waypoints closer than this (same units) count as duplicates
_QUADRATURE_POINTS = 5  # Gauss-Legendre nodes per arc-length integral
# Nodes (Q,) and weights (Q,) on [-1, 1].
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(_QUADRATURE_POINTS)


class Path:
    """A centripetal Catmull-Rom path through ``waypoints`` (K, D), parametrised by arc length."""

    def __init__(
        self,
        waypoints: np.ndarray,
        closed: bool = True,
        samples_per_segment: int = 64,
    ) -> None:
        pts = np.asarray(waypoints, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[1] < 1:
            raise ValueError(f"Path waypoints must be a (K, D) array, got shape {pts.shape}.")
        if not np.all(np.isfinite(pts)):
            raise ValueError("Path waypoints must be finite numbers (found NaN or inf).")
        if int(samples_per_segment) < 1:
            raise ValueError("Path samples_per_segment must be at least 1.")
        pts = _drop_duplicates(pts, closed)
        if len(pts) < 2:
            raise ValueError(
                f"Path needs at least 2 distinct waypoints, got {len(pts)} after dropping duplicates."
            )
        self.waypoints: np.ndarray = pts  # (K, D), duplicates removed
        self.closed: bool = bool(closed)
        self.samples_per_segment: int = int(samples_per_segment)
        self._coeffs = _segment_coefficients(pts, self.closed)  # (S, 4, D)
        n_seg = self._coeffs.shape[0]

        # Arc-length table over the global parameter g = segment + u, g in [0, S]:
        # Gauss-Legendre quadrature of the speed |dp/dg| on each of n sub-intervals.
        n = self.samples_per_segment
        self._g_table = np.arange(n_seg * n + 1, dtype=np.float64) / n  # (S*n + 1,)
        mid = 0.5 * (self._g_table[:-1] + self._g_table[1:])  # (S*n,)
        g_q = mid[:, None] + (0.5 / n) * _GL_NODES[None, :]  # (S*n, Q)
        speed_q = np.linalg.norm(self._eval(g_q.reshape(-1), derivative=True), axis=1)
        pieces = (0.5 / n) * (speed_q.reshape(g_q.shape) @ _GL_WEIGHTS)  # (S*n,)
        self._s_table = np.concatenate([[0.0], np.cumsum(pieces)])  # (S*n + 1,)
        # Slopes dg/ds at both ends of every table interval, for cubic Hermite inversion s -> g.
        # Taken inside the interval's own segment: |dp/dg| jumps at segment joins.
        seg = np.repeat(np.arange(n_seg), n)  # (S*n,)
        u0 = np.tile(np.arange(n, dtype=np.float64) / n, n_seg)  # (S*n,)
        speed0 = np.linalg.norm(self._eval_seg(seg, u0, derivative=True), axis=1)
        speed1 = np.linalg.norm(self._eval_seg(seg, u0 + 1.0 / n, derivative=True), axis=1)
        self._dg_ds0 = 1.0 / np.maximum(speed0, 1e-300)  # (S*n,)
        self._dg_ds1 = 1.0 / np.maximum(speed1, 1e-300)  # (S*n,)
        self.length: float = float(self._s_table[-1])
        # Arc length at each (deduplicated) waypoint.  # (K,)
        self.waypoint_distances: np.ndarray = self._s_table[: len(pts) * n : n].copy()

    @property
    def dim(self) -> int:
        """Dimension D of the path's points."""
        return int(self.waypoints.shape[1])

    # ------------------------------------------------------------------ queries

    def point_at(self, s: float) -> np.ndarray:
        """Point at arc length ``s`` (wraps if closed, clamps if open).  # -> (D,)"""
        return self.points_at(np.array([float(s)]))[0]

    def points_at(self, s: np.ndarray) -> np.ndarray:
        """Points at many arc lengths.  # s (M,) -> (M, D)"""
        return self._eval(self._param(s))

    def tangent_at(self, s: float) -> np.ndarray:
        """Unit direction of travel at arc length ``s``.  # -> (D,)"""
        return self.tangents_at(np.array([float(s)]))[0]

    def tangents_at(self, s: np.ndarray) -> np.ndarray:
        """Unit directions of travel at many arc lengths.  # s (M,) -> (M, D)"""
        g = self._param(s)
        d = self._eval(g, derivative=True)  # (M, D)
        norm = np.linalg.norm(d, axis=1, keepdims=True)
        # Where the curve momentarily stalls, fall back to the direction of a short chord.
        stalled = norm[:, 0] < 1e-12
        if np.any(stalled):
            h = 1e-4
            g0 = np.clip(g[stalled] - h, 0.0, self._g_table[-1])
            g1 = np.clip(g[stalled] + h, 0.0, self._g_table[-1])
            d[stalled] = self._eval(g1) - self._eval(g0)
            norm = np.linalg.norm(d, axis=1, keepdims=True)
        return d / np.maximum(norm, 1e-300)

    # ------------------------------------------------------------------ internals

    def _param(self, s: np.ndarray) -> np.ndarray:
        """Arc length -> global parameter g in [0, S].  # (M,) -> (M,)

        Inverts the arc-length table with a monotone cubic Hermite (slopes dg/ds = 1 / speed,
        limited Fritsch-Carlson style), then takes one Newton step on the arc length integrated
        by quadrature from the table knot, so equal ``ds`` gives equal distance on the curve.
        """
        s = np.asarray(s, dtype=np.float64).reshape(-1)
        s = np.mod(s, self.length) if self.closed else np.clip(s, 0.0, self.length)
        s_tab, g_tab = self._s_table, self._g_table
        j = np.clip(np.searchsorted(s_tab, s, side="right") - 1, 0, len(s_tab) - 2)  # (M,)
        h = s_tab[j + 1] - s_tab[j]  # (M,)
        dg = g_tab[j + 1] - g_tab[j]  # (M,)
        t = np.clip((s - s_tab[j]) / np.maximum(h, 1e-300), 0.0, 1.0)
        # Slopes in g per unit t, capped at 3x the secant to keep g(s) monotone.
        m0 = np.minimum(self._dg_ds0[j] * h, 3.0 * dg)
        m1 = np.minimum(self._dg_ds1[j] * h, 3.0 * dg)
        t2, t3 = t * t, t * t * t
        g = (
            g_tab[j] * (2 * t3 - 3 * t2 + 1)
            + m0 * (t3 - 2 * t2 + t)
            + g_tab[j + 1] * (-2 * t3 + 3 * t2)
            + m1 * (t3 - t2)
        )
        g = np.clip(g, g_tab[j], g_tab[j + 1])
        # One Newton step on the exact (quadrature) arc length polishes the estimate.
        seg = np.minimum(j // self.samples_per_segment, self._coeffs.shape[0] - 1)  # (M,)
        u_start = g_tab[j] - seg  # (M,)
        u = g - seg
        half = 0.5 * (u - u_start)  # (M,)
        u_q = (u_start + half)[:, None] + half[:, None] * _GL_NODES[None, :]  # (M, Q)
        seg_q = np.repeat(seg, _QUADRATURE_POINTS)
        speed_q = np.linalg.norm(
            self._eval_seg(seg_q, u_q.reshape(-1), derivative=True), axis=1
        ).reshape(u_q.shape)
        s_at_g = s_tab[j] + half * (speed_q @ _GL_WEIGHTS)  # (M,)
        speed = np.linalg.norm(self._eval_seg(seg, u, derivative=True), axis=1)  # (M,)
        ok = speed > 1e-9
        g = np.where(ok, g - (s_at_g - s) / np.where(ok, speed, 1.0), g)
        return np.clip(g, g_tab[j], g_tab[j + 1])

    def _eval(self, g: np.ndarray, derivative: bool = False) -> np.ndarray:
        """Curve (or d/dg) at global parameters g.  # (M,) -> (M, D)"""
        n_seg = self._coeffs.shape[0]
        seg = np.clip(np.floor(g).astype(np.int64), 0, n_seg - 1)  # (M,)
        return self._eval_seg(seg, g - seg, derivative)

    def _eval_seg(self, seg: np.ndarray, u: np.ndarray, derivative: bool = False) -> np.ndarray:
        """Curve (or d/du) of segments ``seg`` at local parameters ``u``.  # (M,), (M,) -> (M, D)"""
        u = np.asarray(u, dtype=np.float64)[:, None]  # (M, 1)
        a, b, c, d = (self._coeffs[seg, k] for k in range(4))  # each (M, D)
        if derivative:
            return (3.0 * a * u + 2.0 * b) * u + c
        return ((a * u + b) * u + c) * u + d


def _drop_duplicates(pts: np.ndarray, closed: bool) -> np.ndarray:
    """Remove consecutive repeats (and, for loops, a last point equal to the first).  # (K, D)"""
    if len(pts) == 0:
        return pts
    keep = [0]
    for i in range(1, len(pts)):
        if np.linalg.norm(pts[i] - pts[keep[-1]]) > DUPLICATE_TOLERANCE:
            keep.append(i)
    out = pts[keep]
    if closed and len(out) > 1 and np.linalg.norm(out[-1] - out[0]) <= DUPLICATE_TOLERANCE:
        out = out[:-1]
    return out


def _segment_coefficients(pts: np.ndarray, closed: bool) -> np.ndarray:
    """Cubic coefficients (a, b, c, d) per segment, p(u) = ((a u + b) u + c) u + d.

    Segment i runs from waypoint i (u = 0) to waypoint i + 1 (u = 1). Uses the Hermite form of
    the non-uniform Catmull-Rom spline with knot intervals |P_{j+1} - P_j| ** alpha.
    # pts (K, D) -> (S, 4, D), S = K if closed else K - 1
    """
    k = len(pts)
    if closed:
        idx = np.arange(k)
        p0, p1, p2, p3 = pts[(idx - 1) % k], pts[idx], pts[(idx + 1) % k], pts[(idx + 2) % k]
    else:
        before = 2.0 * pts[0] - pts[1]  # mirrored phantom points
        after = 2.0 * pts[-1] - pts[-2]
        ext = np.concatenate([before[None], pts, after[None]])  # (K + 2, D)
        p0, p1, p2, p3 = ext[:-3], ext[1:-2], ext[2:-1], ext[3:]
    # Knot intervals; all > 0 because consecutive duplicates were dropped.
    dt0 = _knot(p0, p1)  # (S, 1)
    dt1 = _knot(p1, p2)
    dt2 = _knot(p2, p3)
    # Tangents at p1 and p2 with respect to the knot parameter, scaled to u in [0, 1].
    m1 = ((p1 - p0) / dt0 - (p2 - p0) / (dt0 + dt1) + (p2 - p1) / dt1) * dt1
    m2 = ((p2 - p1) / dt1 - (p3 - p1) / (dt1 + dt2) + (p3 - p2) / dt2) * dt1
    a = 2.0 * p1 - 2.0 * p2 + m1 + m2
    b = -3.0 * p1 + 3.0 * p2 - 2.0 * m1 - m2
    return np.stack([a, b, m1, p1], axis=1)


def _knot(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Centripetal knot interval |q - p| ** alpha, floored away from zero.  # (S, D) -> (S, 1)"""
    dist = np.linalg.norm(q - p, axis=1, keepdims=True)
    return np.maximum(dist, DUPLICATE_TOLERANCE) ** CATMULL_ROM_ALPHA
