"""Autopilot tours through a 3-D latent subspace, and a worker that decodes the way ahead.

Tours (all closed loops, ``spline.Path(closed=True)``, travelled at constant speed):

* ``centroids``  the class centroids (models with class names)
* ``dense``      k-means centres (k = :data:`DENSE_K`) of the model's encoded sample points,
                 so the loop visits where the data is densest
* ``random``     points drawn uniformly inside the inner part of the latent bounds (seeded), or
                 by the caller's ``sampler`` (the Odyssey: the model's fitted density, if any)

Waypoints are ordered into a short loop (greedy nearest neighbour, then 2-opt), so the path
does not cross itself needlessly. Everything is numpy and deterministic: the same model,
subspace and seed always give the same tour.

The way ahead is decoded by :class:`latent_odyssey.game.model.ahead.DecodeAhead`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from latent_odyssey.game.modes.odyssey.spline import Path

TOUR_KINDS = ("centroids", "dense", "random")
DENSE_K = 8  # k-means centres in the dense tour
KMEANS_SEED = 0
KMEANS_MAX_ITERS = 100
RANDOM_TOUR_POINTS = 8
RANDOM_TOUR_SEED = 1234
RANDOM_TOUR_MARGIN = 0.15  # fraction of each bound's width kept clear at both ends


# ---------------------------------------------------------------------------- k-means


def kmeans(
    points: np.ndarray, k: int, seed: int = KMEANS_SEED, max_iters: int = KMEANS_MAX_ITERS
) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), numpy only.

    Deterministic for a given ``seed``. ``points`` (M, D) -> centres (min(k, distinct M), D),
    float64. An emptied cluster is re-seeded at the point farthest from its centre.
    """
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"kmeans needs a non-empty (M, D) array, got shape {x.shape}.")
    uniq = np.unique(x, axis=0)
    k = int(max(1, min(k, len(uniq))))
    rng = np.random.default_rng(seed)
    centres = np.empty((k, x.shape[1]))
    centres[0] = x[rng.integers(len(x))]
    d2 = np.sum((x - centres[0]) ** 2, axis=1)  # (M,) squared distance to nearest centre
    for j in range(1, k):
        total = float(d2.sum())
        if total <= 0.0:
            centres[j] = uniq[j]
        else:
            centres[j] = x[rng.choice(len(x), p=d2 / total)]
        d2 = np.minimum(d2, np.sum((x - centres[j]) ** 2, axis=1))
    labels = np.full(len(x), -1)
    for _ in range(max_iters):
        dist = _sq_dists(x, centres)  # (M, k)
        new_labels = np.argmin(dist, axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        for j in range(k):
            members = x[labels == j]
            if len(members):
                centres[j] = members.mean(axis=0)
            else:  # empty cluster: take the worst-served point
                far = int(np.argmax(dist[np.arange(len(x)), labels]))
                centres[j] = x[far]
                labels[far] = j
    return centres


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances.  # (M, D), (K, D) -> (M, K)"""
    return np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=2)


# ---------------------------------------------------------------------------- loop order


def order_loop(points: np.ndarray) -> np.ndarray:
    """Indices visiting ``points`` (K, D) in a short closed loop: nearest neighbour + 2-opt.

    Starts at index 0, so the order is deterministic.  # -> (K,) int
    """
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    if n <= 3:
        return np.arange(n)
    d = np.sqrt(_sq_dists(pts, pts))  # (K, K)
    order = [0]
    left = set(range(1, n))
    while left:
        last = order[-1]
        nxt = min(left, key=lambda j: (d[last, j], j))
        order.append(nxt)
        left.remove(nxt)
    improved = True
    while improved:
        improved = False
        for i in range(n - 1):
            for j in range(i + 2, n if i > 0 else n - 1):
                a, b = order[i], order[i + 1]
                c, e = order[j], order[(j + 1) % n]
                if d[a, c] + d[b, e] < d[a, b] + d[c, e] - 1e-12:
                    order[i + 1 : j + 1] = order[i + 1 : j + 1][::-1]
                    improved = True
    return np.asarray(order)


# ---------------------------------------------------------------------------- tours


@dataclass
class Tour:
    """A closed tour: ordered waypoints (K, 3), their names, and the arc-length path."""

    kind: str
    waypoints: np.ndarray  # (K, 3) in the flight subspace
    stop_names: list[str]
    path: Path

    def next_stop(self, s: float) -> int:
        """Index of the waypoint the ship reaches next at arc length ``s``."""
        dists = self.path.waypoint_distances  # (K,)
        s = float(s) % self.path.length
        ahead = np.nonzero(dists > s + 1e-9)[0]
        return int(ahead[0]) if len(ahead) else 0


def make_tour(
    kind: str,
    centroids: np.ndarray,
    class_names: list[str],
    samples: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    seed: int = RANDOM_TOUR_SEED,
    sampler: Callable[[int, np.random.Generator], np.ndarray] | None = None,
) -> Tour:
    """Build a tour of ``kind`` in the flight subspace.

    ``centroids`` (K, 3), ``samples`` (M, 3), ``lo``/``hi`` (3,) are already projected to the
    subspace. ``sampler(n, rng) -> (n, 3)`` draws the ``random`` tour's points (default: uniform
    inside the inner part of the bounds). Falls back to the next kind when a kind has fewer than 2 distinct waypoints
    (no classes, too few samples), ending with ``random``, which always works.
    """
    if kind not in TOUR_KINDS:
        raise ValueError(f"Unknown tour kind {kind!r}; choose one of {', '.join(TOUR_KINDS)}.")
    lo = np.asarray(lo, np.float64)
    hi = np.asarray(hi, np.float64)
    if kind == "centroids":
        pts = np.asarray(centroids, np.float64).reshape(-1, 3)
        names = [class_names[i] if i < len(class_names) else str(i) for i in range(len(pts))]
    elif kind == "dense":
        sample = np.asarray(samples, np.float64).reshape(-1, 3)
        pts = kmeans(sample, DENSE_K) if len(sample) else np.zeros((0, 3))
        names = [f"cluster {i + 1}" for i in range(len(pts))]
    else:
        rng = np.random.default_rng(seed)
        if sampler is not None:
            pts = np.asarray(sampler(RANDOM_TOUR_POINTS, rng), np.float64)
        else:
            margin = RANDOM_TOUR_MARGIN * (hi - lo)
            pts = rng.uniform(lo + margin, hi - margin, size=(RANDOM_TOUR_POINTS, 3))
        names = [f"point {i + 1}" for i in range(len(pts))]
    if len(pts) >= 2:
        order = order_loop(pts)
        pts, names = pts[order], [names[i] for i in order]
        try:
            path = Path(pts, closed=True)
        except ValueError:
            path = None
        if path is not None and path.length > 1e-9:
            keep = _kept_rows(pts, path.waypoints)
            return Tour(kind, path.waypoints, [names[i] for i in keep], path)
    nxt = TOUR_KINDS[(TOUR_KINDS.index(kind) + 1) % len(TOUR_KINDS)]
    return make_tour(nxt, centroids, class_names, samples, lo, hi, seed, sampler)


def _kept_rows(pts: np.ndarray, kept: np.ndarray) -> list[int]:
    """Which rows of ``pts`` survived the path's duplicate removal (in order)."""
    out, j = [], 0
    for i, p in enumerate(pts):
        if j < len(kept) and np.array_equal(p, kept[j]):
            out.append(i)
            j += 1
    return out
