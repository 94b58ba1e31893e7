"""Drawing the prior against the data on the Navigator's map (reads the scene, writes nothing).

The VAE's prior is p(z) = N(0, I); the encoded training data fill only part of it (the
aggregate posterior). The layer shows both in the two shown dimensions:

* the prior's 1σ, 2σ and 3σ circles (radius 1, 2, 3 latent units around 0; a marginal of
  N(0, I) is N(0, I) again), in violet;
* the data's density from the scene's Gaussian mixture (``model.mixture``), as filled bands
  with contour lines (marching squares on a grid every ``GRID_STEP_PX`` pixels) at the levels
  that hold ``DATA_LEVELS`` percent of the encoded points, in teal;
* a legend with the per-dimension KL(q ‖ p) from the model file's metrics
  (``engine.learn.draw_kl_bars``), and, when the cursor is off the data, a warning pill.

The layer is rendered once per view (pan, zoom, size) and blitted every frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np
import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.learn import draw_kl_bars, kl_per_dim
from latent_odyssey.game.model.mixture import Mixture
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.modes.navigator.layout import MapGeometry, font_px

PRIOR_COLOUR = (196, 150, 255)
DATA_COLOUR = (60, 205, 190)
GRID_STEP_PX = 4  # the density is evaluated every this many pixels
DATA_LEVELS = (50.0, 90.0, 99.0)  # contours holding this percent of the encoded points
BAND_ALPHA = (92, 56, 30)  # fill inside the 50 %, 90 %, 99 % contours
PRIOR_SIGMAS = (1, 2, 3)

Pill = Callable[[str, int, tuple[int, int, int], float], pygame.Surface]


class PriorState(MapGeometry, Protocol):
    """What this painter reads of the Navigator scene."""

    meta: ModelMeta
    dims: tuple[int, int]
    view: np.ndarray  # (2,)
    zoom: float
    points2: np.ndarray  # (M, 2)
    mixture: Mixture | None


    def off_data(self) -> bool: ...




def level_values(mix: Mixture, points: np.ndarray, percents: tuple[float, ...] = DATA_LEVELS) -> list[float]:
    """Log-density levels whose super-level sets hold ``percents`` percent of ``points``."""
    logp = mix.log_density(points)
    return [float(np.percentile(logp, 100.0 - p)) for p in percents]


def contour_segments(values: np.ndarray, level: float) -> np.ndarray:
    """Marching squares: the segments where the grid ``values`` (ny, nx) cross ``level``, in
    grid coordinates (x = column, y = row).  -> (S, 2, 2)"""
    v = values - level
    ny, nx = v.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        th = np.where(v[:, :-1] * v[:, 1:] < 0, v[:, :-1] / (v[:, :-1] - v[:, 1:]), np.nan)  # (ny, nx-1)
        tv = np.where(v[:-1] * v[1:] < 0, v[:-1] / (v[:-1] - v[1:]), np.nan)  # (ny-1, nx)
    jj, ii = np.meshgrid(np.arange(nx - 1), np.arange(ny - 1))
    # each cell's crossings on its top, right, bottom and left edges: (ny-1, nx-1, 4, 2)
    pts = np.stack([
        np.stack([jj + th[:-1], ii + 0.0], -1),
        np.stack([jj + 1.0, ii + tv[:, 1:]], -1),
        np.stack([jj + th[1:], ii + 1.0], -1),
        np.stack([jj + 0.0, ii + tv[:, :-1]], -1),
    ], axis=2)
    ok = ~np.isnan(pts).any(-1)  # (ny-1, nx-1, 4)
    count = ok.sum(-1)
    order = np.argsort(~ok, axis=-1, kind="stable")  # the crossed edges first
    two = count == 2
    p = np.take_along_axis(pts, order[..., None], axis=2)
    segs = [np.stack([p[two][:, 0], p[two][:, 1]], 1)]
    four = count == 4  # a saddle: pair top with left, bottom with right
    if four.any():
        q = pts[four]
        segs += [np.stack([q[:, 0], q[:, 3]], 1), np.stack([q[:, 2], q[:, 1]], 1)]
    return np.concatenate(segs) if segs else np.zeros((0, 2, 2))


class PriorPainter:
    """Renders and caches the prior/data layer for one view."""

    def __init__(self) -> None:
        self._layer: pygame.Surface | None = None
        self._key: tuple | None = None
        self._levels: list[float] | None = None

    def _render(self, scene: PriorState) -> pygame.Surface:
        r = scene.map_rect
        mix = scene.mixture
        layer = pygame.Surface(r.size, pygame.SRCALPHA)
        if mix is not None:
            if self._levels is None:
                self._levels = level_values(mix, scene.points2)
            nx, ny = r.width // GRID_STEP_PX + 2, r.height // GRID_STEP_PX + 2
            gx = r.left + np.arange(nx) * GRID_STEP_PX  # (nx,) window pixels
            gy = r.top + np.arange(ny) * GRID_STEP_PX
            lx = scene.screen_to_latent(gx, np.full(nx, r.top))[0]  # (nx,) latent x
            ly = scene.screen_to_latent(np.full(ny, r.left), gy)[1]  # (ny,) latent y
            xx, yy = np.meshgrid(lx, ly)
            logp = mix.log_density(np.stack([xx.ravel(), yy.ravel()], 1)).reshape(ny, nx)  # (ny, nx)
            alpha = np.zeros((ny, nx))
            for level, a in zip(self._levels, BAND_ALPHA, strict=True):
                alpha = np.where((logp >= level) & (alpha == 0), a, alpha)
            rgba = np.zeros((ny, nx, 4), np.uint8)
            rgba[..., :3] = DATA_COLOUR
            rgba[..., 3] = alpha.astype(np.uint8)
            small = pygame.image.frombuffer(rgba.tobytes(), (nx, ny), "RGBA")
            big = pygame.transform.smoothscale(small, (nx * GRID_STEP_PX, ny * GRID_STEP_PX))
            layer.blit(big, (0, 0))
            for level in self._levels:
                for (x0, y0), (x1, y1) in contour_segments(logp, level) * GRID_STEP_PX:
                    pygame.draw.aaline(layer, (*DATA_COLOUR, 230), (x0, y0), (x1, y1))
        # the prior's circles around the origin
        ox, oy = scene.latent_to_screen(np.zeros(2))
        ox, oy = ox - r.left, oy - r.top
        k = scene.k
        for s in PRIOR_SIGMAS:
            rad = s * scene.scale
            if rad < 4:
                continue
            rect = pygame.Rect(0, 0, round(2 * rad), round(2 * rad))
            rect.center = (round(ox), round(oy))
            pygame.draw.ellipse(layer, (*PRIOR_COLOUR, 235), rect, width=2)
            lx, ly = ox + rad * 0.7071, oy - rad * 0.7071
            ui.text(layer, f"{s}σ", (round(lx) + 4, round(ly) - 2), size=font_px(12, k), color=PRIOR_COLOUR, anchor="bottomleft", bold=True)
        return layer

    def draw_on_map(self, surface: pygame.Surface, scene: PriorState) -> None:
        """The density bands, contours and prior circles (call with the map as the clip)."""
        r = scene.map_rect
        key = (r.size, tuple(np.round(scene.view, 6)), round(scene.scale, 6), id(scene.mixture))
        if self._layer is None or self._key != key:
            self._layer, self._key = self._render(scene), key
        surface.blit(self._layer, r.topleft)

    def draw_legend(self, surface: pygame.Surface, scene: PriorState, pill: Pill, top: int) -> None:
        """The legend (with the KL bars) in the map's lower left, and the off-data warning
        under the map's title (at ``top``)."""
        r = scene.map_rect
        k = scene.k
        m = round(10 * k)
        small = font_px(12, k)
        kl = kl_per_dim(scene.meta)
        w = round(300 * k)
        rows = 3 + (3 if kl is not None else 0)
        h = rows * (small + round(6 * k)) + round(14 * k)
        box = pygame.Rect(r.left + m, r.bottom - m - round(34 * k) - h, w, h)
        ui.panel(surface, box, alpha=225)
        x, y = box.left + round(10 * k), box.top + round(8 * k)
        ui.text(surface, "PRIOR vs DATA", (x, y), size=small, color=ui.DIM, bold=True)
        y += small + round(6 * k)
        pygame.draw.circle(surface, PRIOR_COLOUR, (x + 6, y + small // 2 + 1), 6, width=2)
        ui.text(surface, "prior p(z) = N(0, I): 1σ, 2σ, 3σ circles", (x + 20, y), size=small, color=PRIOR_COLOUR)
        y += small + round(6 * k)
        pygame.draw.rect(surface, DATA_COLOUR, (x, y + 2, 12, small - 2), border_radius=2)
        levels = " / ".join(f"{p:g}" for p in DATA_LEVELS)
        ui.text(surface, f"encoded data (mixture fit): {levels} %", (x + 20, y), size=small, color=DATA_COLOUR)
        y += small + round(8 * k)
        if kl is not None:
            ui.text(surface, f"KL(q || p) per dimension, test set: {sum(kl):.2f} nats", (x, y), size=small, color=ui.FG)
            y += small + round(4 * k)
            bars = pygame.Rect(x, y, w - round(20 * k), 2 * small + round(6 * k))
            draw_kl_bars(surface, bars, kl, highlight=scene.dims, k=k)
        if scene.off_data():
            warn = pill("OFF THE DATA: latent space has a hole here (few training images encode here)", font_px(13, k), ui.WARN, k)
            surface.blit(warn, (r.left + m, top))
