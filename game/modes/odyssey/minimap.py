"""The Odyssey minimap: a radar of the model's encoded sample points in the ship's frame.

The map looks down the ship's *up* axis with the ship's forward pointing to the top of the
map, so what lies ahead on the map lies ahead in flight, and yawing turns the map. It is
centred on the middle of the latent bounds, not on the ship, so the whole cloud stays in
view and the ship moves across it. Points are coloured by class; points above the ship's
plane are bright, points below it dim. The tour path, the tunnel layer points and the ship
(a triangle pointing forward) are drawn over the cloud.

Cost per frame: one vectorised projection of the M points (M <= a few thousand, written out:
no BLAS call), a bucket order by height, and fancy-indexed writes into the surface's pixel
array (``pygame.surfarray``); no per-point draw calls. The frame (background, rings, border)
and the colour table are built once; the frame is copied in as pixels (an SDL blit of some
sizes, 196 px among them, costs ten times more on this project's machines).
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from latent_odyssey.game.engine import ui

MAX_POINTS = 1500  # sample points shown (more only cost time)
MAP_FILL = 0.46  # the bounds' half-diagonal spans this fraction of the map size
HEIGHT_LEVELS = (0.38, 0.68, 1.0)  # brightness of points below / near / above the ship
HEIGHT_BAND = 0.08  # |height| below this fraction of the half-diagonal counts as "near"
BACKGROUND = (10, 13, 24)
RING = (40, 52, 84)
PATH_COLOUR = (255, 196, 64)
LAYER_COLOUR = (120, 230, 255)
SHIP_COLOUR = (255, 255, 255)


class Minimap:
    """Radar of sample points (see the module docstring). Call :meth:`set_points` first."""

    def __init__(self, size: int = 200) -> None:
        self.size = int(size)
        self.surface = pygame.Surface((self.size, self.size))
        self._frame = self._make_frame()
        self._frame_px = pygame.surfarray.array2d(self._frame)  # (S, S) pixel values
        self._pts = np.zeros((0, 3))
        self._rel = np.zeros((3, 0))  # (3, M) the points about the map's centre, one row per axis
        self._label_idx = np.zeros(0, np.int64)
        self._colours = np.zeros((1, len(HEIGHT_LEVELS)), np.uint32)
        self._centre = np.zeros(3)
        self._half_diag = 1.0
        self._scale = 1.0

    def _make_frame(self) -> pygame.Surface:
        s = self.size
        frame = pygame.Surface((s, s))
        frame.fill(BACKGROUND)
        c = s // 2
        for r in (0.15, 0.3, 0.46):
            pygame.draw.circle(frame, RING, (c, c), int(r * s), width=1)
        pygame.draw.line(frame, RING, (c, 4), (c, s - 4))
        pygame.draw.line(frame, RING, (4, c), (s - 4, c))
        pygame.draw.rect(frame, RING, frame.get_rect(), width=1)
        return frame

    def set_points(
        self, points: np.ndarray, labels: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> None:
        """The cloud to show: points (M, 3) in the flight subspace, labels (M,) (-1 = none)."""
        self._pts = np.asarray(points, np.float64).reshape(-1, 3)
        labels = np.asarray(labels, np.int64).reshape(-1)
        if len(self._pts) > MAX_POINTS:  # an even, deterministic subsample
            keep = np.linspace(0, len(self._pts) - 1, MAX_POINTS).astype(np.int64)
            self._pts, labels = self._pts[keep], labels[keep]
        lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        self._centre = 0.5 * (lo + hi)
        self._half_diag = max(1e-9, 0.5 * float(np.linalg.norm(hi - lo)))
        self._scale = MAP_FILL * self.size / self._half_diag
        self._rel = np.ascontiguousarray((self._pts - self._centre[None, :]).T)  # (3, M)
        n_classes = int(labels.max()) + 1 if len(labels) else 0
        self._label_idx = np.where(labels >= 0, labels, n_classes)  # -1 -> last row
        table = np.zeros((n_classes + 1, len(HEIGHT_LEVELS)), np.uint32)
        for k in range(n_classes + 1):
            base = ui.class_colour(k if k < n_classes else -1)
            for j, level in enumerate(HEIGHT_LEVELS):
                rgb = tuple(int(c * level + BACKGROUND[i] * (1 - level)) for i, c in enumerate(base))
                table[k, j] = self.surface.map_rgb(rgb)
        self._colours = table

    def project(self, pts: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map pixels (N, 2) float and heights (N,) of world points, for a ship rotation (3, 3)."""
        rel = (np.asarray(pts, np.float64).reshape(-1, 3) - self._centre[None, :]).T  # (3, N)
        x, y, h = self._project_rel(rel, rotation)
        return np.stack([x, y], axis=1), h

    def _project_rel(self, rel: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Map x (N,), y (N,) and heights (N,) of points ``rel`` (3, N) about the map's centre:
        ``rel^T R`` for the right, up and forward columns, written out."""
        r = np.asarray(rotation, np.float64)
        c = 0.5 * self.size
        k = self._scale

        def column(j: int) -> np.ndarray:
            return rel[0] * r[0, j] + rel[1] * r[1, j] + rel[2] * r[2, j]

        return c + k * column(0), c - k * column(2), column(1)

    def draw(
        self,
        target: pygame.Surface,
        topleft: tuple[int, int],
        ship_pos: np.ndarray,
        rotation: np.ndarray,
        path_pts: np.ndarray | None = None,
        layer_pts: np.ndarray | None = None,
        marker: np.ndarray | None = None,
        alpha: int = 235,
    ) -> pygame.Rect:
        """Render the radar into ``target`` at ``topleft``; returns the rect drawn."""
        surf = self.surface
        s = self.size
        # the ship, marker, path and layer points in one projection, then the cloud
        extras = [np.asarray(ship_pos, np.float64).reshape(1, 3)]
        extras.append(np.asarray(marker, np.float64).reshape(-1, 3) if marker is not None else np.zeros((0, 3)))
        extras.append(np.asarray(path_pts, np.float64).reshape(-1, 3) if path_pts is not None else np.zeros((0, 3)))
        extras.append(np.asarray(layer_pts, np.float64).reshape(-1, 3) if layer_pts is not None else np.zeros((0, 3)))
        sizes = np.cumsum([0] + [len(e) for e in extras])
        xy, h = self.project(np.concatenate(extras), rotation)
        ship_xy, ship_h = xy[0], h[0]
        marker_xy = xy[sizes[1] : sizes[2]]
        path_xy = xy[sizes[2] : sizes[3]]
        layer_xy = xy[sizes[3] : sizes[4]]
        px = pygame.surfarray.pixels2d(surf)  # (W, H) view, locks the surface
        px[...] = self._frame_px
        if len(self._pts):
            cx, cy, ch = self._project_rel(self._rel, rotation)
            rel_h = ch - ship_h
            band = HEIGHT_BAND * self._half_diag
            level = (rel_h >= -band).astype(np.int64) + (rel_h > band)  # 0 below, 1 near, 2 above
            # lowest first, highest on top (a bucket order, no full sort)
            order = np.concatenate([np.flatnonzero(level == k) for k in range(len(HEIGHT_LEVELS))])
            ix = cx[order].astype(np.int64)
            iy = cy[order].astype(np.int64)
            cols = self._colours[self._label_idx[order], level[order]]
            ok = (ix >= 0) & (iy >= 0) & (ix < s - 1) & (iy < s - 1)
            ix, iy, cols = ix[ok], iy[ok], cols[ok]
            # 2x2 dots in one assignment: each point's four pixels, in drawing order
            px[np.stack([ix, ix + 1, ix, ix + 1], 1).ravel(), np.stack([iy, iy, iy + 1, iy + 1], 1).ravel()] = np.repeat(cols, 4)
        del px
        if len(path_xy) > 1:
            pygame.draw.lines(surf, PATH_COLOUR, True, path_xy.tolist())
        for x, y in layer_xy.tolist():
            if 0 <= x < s and 0 <= y < s:
                surf.fill(LAYER_COLOUR, (int(x) - 1, int(y) - 1, 2, 2))
        if len(marker_xy):
            pygame.draw.circle(surf, PATH_COLOUR, marker_xy[0].astype(int).tolist(), 5, width=1)
        self._draw_ship(surf, ship_xy)
        px = pygame.surfarray.pixels2d(surf)  # the border goes over everything
        for edge in ((0, slice(None)), (s - 1, slice(None)), (slice(None), 0), (slice(None), s - 1)):
            px[edge] = self._frame_px[edge]
        del px
        surf.set_alpha(alpha)
        return self.show(target, topleft)

    def show(self, target: pygame.Surface, topleft: tuple[int, int]) -> pygame.Rect:
        """Blit the radar as last drawn into ``target`` at ``topleft``; returns the rect."""
        return target.blit(self.surface, topleft)

    def _draw_ship(self, surf: pygame.Surface, xy: np.ndarray) -> None:
        s = self.size
        x = min(max(float(xy[0]), 6.0), s - 6.0)  # pinned to the edge when outside the map
        y = min(max(float(xy[1]), 6.0), s - 6.0)
        r = 7.0
        pts = [(x, y - r), (x - r * math.sin(2.4), y - r * math.cos(2.4) + 1),
               (x, y + 2), (x + r * math.sin(2.4), y - r * math.cos(2.4) + 1)]
        pygame.draw.polygon(surf, (0, 0, 0), [(px + 1, py + 1) for px, py in pts])
        pygame.draw.polygon(surf, SHIP_COLOUR, pts)
