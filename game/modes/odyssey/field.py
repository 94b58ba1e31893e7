"""The field: fixed latent points around the ship, finer near it and coarser far away.

The flight subspace is tiled by nested cubic lattices anchored at the model's latent mean:
level ``L`` has spacing ``s_L = s_0 2^L`` and reaches ``REACH_CELLS`` of its own spacings
(radius ``R_L = REACH_CELLS s_L``) from the ship. Every lattice point of level ``L + 1`` is
also one of level ``L``, so each point is *owned* by the coarsest level that has it (the top
level owns all of its points), and is shown while the ship is within its owner's radius,
fading out over the last ``EDGE_FADE`` of it. Near the ship the field is dense; far away only
coarse points remain, so the number shown stays about constant, whatever the speed.

A point is known by its integer lattice index in level-0 steps (``keys``): the same latent
point always has the same key, so each is decoded once, and only the frontier is new work.
Each point is moved off its lattice site by a fixed pseudo-random offset of up to
``JITTER`` of its owner's spacing (a hash of the key: a stratified set, not rows and
columns that read as wallpaper), so it is still the same latent point every time.

Billboards are ``BILLBOARD_CELLS`` fine spacings wide near the ship and grow with distance
as ``(d / R_0) ** SIZE_GROWTH`` beyond the finest level: far images stay readable while
still shrinking with distance (true perspective divides by depth on top of that).

Pure numpy; no pygame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LEVELS = 3  # lattice levels (spacing doubles each level)
REACH_CELLS = 3.3  # level L reaches this many of its own spacings from the ship
EDGE_FADE = 0.3  # a level's points fade out over this fraction of its radius, at its edge
BILLBOARD_CELLS = 0.38  # billboard width near the ship, in fine spacings (see-through ink) ...
CARD_CELLS = 0.3  # ... and for opaque round cards (faces), which must not cover each other as much
SIZE_GROWTH = 0.55  # billboards farther than R_0 grow as (d / R_0) ** SIZE_GROWTH
FOG_DENSITY = 1.6  # brightness *= exp(-FOG_DENSITY * d / R_top)
CELLS_KEPT = 6  # point sets kept per level (and whole sets): the ship's cells and those it looks ahead from
JITTER = 0.32  # points move off their lattice site by up to this fraction of their owner's spacing
_HASH = np.array([[73856093, 19349663, 83492791], [2654435761, 40503, 2246822519],
                  [3266489917, 668265263, 374761393]], np.int64)  # (3, 3) per-axis hash multipliers


def jitter(keys: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Fixed offsets of lattice points, in level-0 steps: uniform in [-JITTER, JITTER] x the
    owner's spacing, from a hash of the key.  # (N, 3) int, (N,) -> (N, 3)"""
    k = np.asarray(keys, np.int64).reshape(-1, 3)
    h = (k[:, None, :] * _HASH[None, :, :]).sum(axis=2)  # (N, 3), wraps around: fine for a hash
    h = (h ^ (h >> 13)) * 1274126177
    u = ((h >> 8) & 0xFFFF).astype(np.float64) / 65535.0  # (N, 3) in [0, 1]
    return (2.0 * u - 1.0) * JITTER * (2.0 ** np.asarray(owner, np.float64))[:, None]


def owner_of(keys: np.ndarray, levels: int = LEVELS) -> np.ndarray:
    """The level owning each key: the coarsest lattice that has it.  # (N, 3) int -> (N,) int8"""
    k = np.asarray(keys, np.int64).reshape(-1, 3)
    owner = np.zeros(len(k), np.int8)
    for lv in range(1, levels):
        owner[np.all(k % (2**lv) == 0, axis=1)] = lv
    return owner


@dataclass(frozen=True)
class FieldPoints:
    """Candidate field points around a centre.

    ``keys`` (N, 3) int64 lattice indices in level-0 steps; ``points`` (N, 3) world
    positions; ``owner`` (N,) the level that owns each point; ``radius`` (N,) the owner's
    reach (a point is shown while the ship is closer than this)."""

    keys: np.ndarray
    points: np.ndarray
    owner: np.ndarray
    radius: np.ndarray


class Lattice:
    """Nested lattices anchored at ``anchor`` (3,) with fine spacing ``spacing`` (see the
    module docstring). ``around(centre)`` lists the points near a position."""

    def __init__(self, anchor: np.ndarray, spacing: float, levels: int = LEVELS,
                 reach_cells: float = REACH_CELLS, billboard_cells: float = BILLBOARD_CELLS) -> None:
        if not spacing > 0.0 or not math.isfinite(spacing):
            raise ValueError(f"the field spacing must be a positive number, not {spacing!r}")
        self.anchor = np.asarray(anchor, np.float64).reshape(3).copy()
        self.spacing = float(spacing)
        self.levels = int(levels)
        self.reach_cells = float(reach_cells)
        self.billboard_cells = float(billboard_cells)
        self._memo: dict[tuple, FieldPoints] = {}  # cells of every level -> points, newest last
        self._parts: dict[tuple[int, tuple], tuple[np.ndarray, np.ndarray]] = {}  # (level, cell) -> (keys, points)
        n = int(math.ceil(self.reach_cells)) + 2
        offs = np.arange(-n, n + 2)
        cube = np.stack(np.meshgrid(offs, offs, offs, indexing="ij"), axis=-1).reshape(-1, 3)  # (M, 3)
        far = np.sqrt(np.sum((cube - 0.5) ** 2, axis=1))  # from the middle of the centre's cell
        self._ball = cube[far <= self.reach_cells + 2.0]  # generous: the ship moves inside the cell

    @property
    def reach(self) -> float:
        """The farthest any point is shown from the ship (the top level's radius)."""
        return self.reach_cells * self.spacing * 2 ** (self.levels - 1)

    def level_radius(self, level: int) -> float:
        return self.reach_cells * self.spacing * 2**level

    def point_of(self, keys: np.ndarray) -> np.ndarray:
        """World positions of lattice keys, jittered.  # (N, 3) int -> (N, 3)"""
        k = np.asarray(keys, np.int64).reshape(-1, 3)
        site = k.astype(np.float64) + jitter(k, owner_of(k, self.levels))
        return self.anchor[None, :] + site * self.spacing

    def around(self, centre: np.ndarray) -> FieldPoints:
        """Every point within its owner's reach of some position in the centre's cell at each
        level (a superset of what ``presence`` keeps). Each level's part is kept for the last
        CELLS_KEPT cells, so moving costs one level's worth now and then, and the frame's
        view and the worker's look ahead (another cell) do not push each other out."""
        rel = (np.asarray(centre, np.float64).reshape(3) - self.anchor) / self.spacing  # level-0 steps
        cells = tuple(tuple(np.floor(rel / 2**lv).astype(np.int64).tolist()) for lv in range(self.levels))
        hit = self._memo.get(cells)
        if hit is not None:
            return hit
        parts = [self._level_part(lv, cells[lv]) for lv in range(self.levels)]
        keys = np.concatenate([p[0] for p in parts])
        fp = FieldPoints(keys, np.concatenate([p[1] for p in parts]),
                         np.concatenate([np.full(len(p[0]), lv, np.int8) for lv, p in enumerate(parts)]),
                         np.concatenate([np.full(len(p[0]), self.level_radius(lv)) for lv, p in enumerate(parts)]))
        self._memo[cells] = fp
        while len(self._memo) > CELLS_KEPT:
            del self._memo[next(iter(self._memo))]
        return fp

    def _level_part(self, lv: int, cell: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        """(keys (M, 3) in level-0 steps, points (M, 3)) owned by level ``lv`` around ``cell``
        (in level-``lv`` steps), kept per level."""
        hit = self._parts.get((lv, cell))
        if hit is not None:
            return hit
        idx = np.asarray(cell, np.int64)[None, :] + self._ball  # (M, 3) in level-lv steps
        if lv < self.levels - 1:
            idx = idx[np.any(idx & 1, axis=1)]  # the coarser level owns the all-even ones
        keys = idx * 2**lv
        site = keys.astype(np.float64) + jitter(keys, np.full(len(keys), lv))
        points = self.anchor[None, :] + site * self.spacing
        self._parts[(lv, cell)] = (keys, points)
        while len(self._parts) > CELLS_KEPT * self.levels:
            del self._parts[next(iter(self._parts))]
        return keys, points

    def presence(self, fp: FieldPoints, centre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(distance (N,), presence (N,) in [0, 1]) of each point from ``centre``: 1 well
        inside its owner's reach, falling smoothly to 0 at it."""
        d = np.sqrt(np.sum((fp.points - np.asarray(centre, np.float64)[None, :]) ** 2, axis=1))
        t = np.clip((fp.radius - d) / (EDGE_FADE * fp.radius), 0.0, 1.0)
        return d, t * t * (3.0 - 2.0 * t)

    def world_size(self, d: np.ndarray) -> np.ndarray:
        """Billboard width (world units) at distance ``d`` from the ship.  # (N,) -> (N,)"""
        r0 = self.level_radius(0)
        grow = np.maximum(1.0, np.asarray(d, np.float64) / r0) ** SIZE_GROWTH
        return self.billboard_cells * self.spacing * grow

    def fog(self, d: np.ndarray) -> np.ndarray:
        """Depth fog: brightness (0, 1] at distance ``d``.  # (N,) -> (N,)"""
        return np.exp(-FOG_DENSITY * np.asarray(d, np.float64) / self.reach)
