"""The Odyssey's view: turns the scene's state into the frame's pixels.

Each frame the view asks the scene what it shows (``frame_points``), decodes all of it in one
``Decoder.decode_batch`` call (tunnel layers or the image at the ship, plus the 9 grid cells),
then hands the decode-ahead worker the way ahead (``plan_ahead``). It composes the decoded
images at ``RENDER_SCALE`` of the window (tunnel layers, or the single view at the ship), adds
the fog outside the populated region, the warp's zoom blur and the arrival flash, scales the
result up and draws dust and warp streaks over it at full size, then the HUD (``hud.py``).

The view reads the scene through :class:`ViewedScene` and changes nothing in it; it owns the
drawing caches (surfaces, layer tints, the tunnel compositor and its cross-fade).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.modes.odyssey.flight import quat_to_matrix
from latent_odyssey.game.modes.odyssey.hud import HudScene, OdysseyHud
from latent_odyssey.game.modes.odyssey.tunnel import (
    Camera,
    Layer,
    TunnelCompositor,
    blit_zoomed,
    focal_px,
    radial_background,
)

if TYPE_CHECKING:
    from latent_odyssey.game.model.decoder import Decoder
    from latent_odyssey.game.modes.odyssey.tunnel import LineRail, PathRail

RENDER_SCALE = 0.5  # the decoded view is composed at this fraction of the window, then scaled up
VIEW_FRACTION = 0.86  # the single decoded view's height / window height (tunnel off)
SINGLE_TINT = 0.3  # how strongly the single view takes on its class colour
BG_INNER = (20, 24, 52)
BG_OUTER = (4, 5, 12)
HAZE = (70, 46, 96)  # fog colour outside the populated region
DARK_BORDER_MEAN = 100  # decoded borders darker than this (0..255) count as a dark background
DUST_COUNT = 220
DUST_RADIUS_SPACINGS = 3.0  # dust fills a cube of this half-size (in default spacings) around the ship
DUST_STREAK_S = 0.06  # streak length = distance travelled in this time
STREAK_COUNT = 64  # radial warp streaks


class ViewedScene(HudScene, Protocol):
    """What the view reads of the Odyssey scene (``scene.OdysseyScene``), the HUD's share
    included."""

    decoder: Decoder
    rail: LineRail | PathRail
    flash: float  # the arrival flash, 1 -> 0

    def frame_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]: ...

    def plan_ahead(self) -> None: ...

    def to_latent(self, pts: np.ndarray) -> np.ndarray: ...

    def warp_progress(self) -> float | None: ...


def class_tints(scene: ViewedScene, pts: np.ndarray) -> list[tuple[int, int, int]]:
    """Each point's nearest class colour (the tunnel glows in the colours it passes)."""
    if not scene.n_classes:
        return [(170, 200, 255)] * len(pts)
    z = scene.to_latent(pts).astype(np.float64)  # (L, D)
    d2 = np.sum((z[:, None, :] - scene.centroids_full[None]) ** 2, axis=2)  # (L, K)
    return [ui.class_colour(int(k)) for k in np.argmin(d2, axis=1)]


class OdysseyView:
    """Draws the Odyssey's frames (see the module docstring); made when the scene enters.

    ``mean_image`` is the model's decoded latent mean: a dark border picks max-blending for
    the tunnel layers. ``spacing`` is the default layer spacing, which sizes the dust cloud.
    """

    def __init__(self, mean_image: np.ndarray, spacing: float) -> None:
        border = np.concatenate([mean_image[0], mean_image[-1], mean_image[:, 0], mean_image[:, -1]])
        self.compositor = TunnelCompositor(float(border.mean()) < DARK_BORDER_MEAN)
        self.hud = OdysseyHud(self.compositor.surface_for)
        self.last_batch_size = 0  # images in the latest frame's decode_batch call
        self._dust_radius = DUST_RADIUS_SPACINGS * spacing
        dust_rng = np.random.default_rng(3)
        self._dust = dust_rng.uniform(-1.0, 1.0, (DUST_COUNT, 3)) * self._dust_radius  # (P, 3)
        streak_rng = np.random.default_rng(4)
        self._streaks = streak_rng.uniform(0.0, 1.0, (STREAK_COUNT, 3))  # angle, radius, length
        self._tinted: np.ndarray | None = None  # the layer points whose tints are kept
        self._tints: list[tuple[int, int, int]] = []
        self._view: pygame.Surface | None = None

    def draw(self, surface: pygame.Surface, scene: ViewedScene) -> None:
        """One frame of ``scene`` onto ``surface``, the HUD included when it is shown."""
        w, h = surface.get_size()
        view = self._view_surface((w, h))
        smooth = True if scene.ctx is None else scene.ctx.smooth
        pts, depths, images, grid_images = self._decode_frame(scene)
        vw, vh = view.get_size()
        view.blit(self._bg, (0, 0))
        camera = Camera(scene.ship.position.copy(), quat_to_matrix(scene.ship.orientation))
        if scene.tunnel:
            tints = self._layer_tints(scene, pts)
            layers = [Layer(img, p, float(d), t) for img, p, d, t in zip(images, pts, depths, tints, strict=True)]
            self.compositor.draw(view, camera, layers, scene.rail.step_size(scene.spacing),
                                 scene.layer_count, smooth)
        else:
            self._draw_single(view, scene, images[0], smooth)
        fog = scene.fog_level()
        if fog > 0.0:
            self._fog(view, fog)
        warp = scene.warp_progress()
        if warp is not None:
            self._zoom_blur(view, 4.0 * warp * (1.0 - warp))
        if scene.flash > 0.0:
            v = int(90 * scene.flash)
            self._flash_surf.fill((v, v, v))
            view.blit(self._flash_surf, (0, 0), special_flags=pygame.BLEND_RGB_ADD)
        if (vw, vh) == (w, h):
            surface.blit(view, (0, 0))
        else:
            pygame.transform.scale(view, (w, h), surface)
        self._draw_dust(surface, scene, camera)
        if warp is not None:
            self._draw_streaks(surface, 4.0 * warp * (1.0 - warp))
        if scene.ctx is None or scene.ctx.show_hud:
            self.hud.draw(surface, scene, camera, grid_images, pts)

    def _decode_frame(
        self, scene: ViewedScene
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """(view points (L, 3), rail depths (L,), their images, the grid's images): the
        frame's one decode, then the worker gets the way ahead."""
        view, depths, grid = scene.frame_points()
        pts = view if grid is None else np.concatenate([view, grid])
        images = scene.decoder.decode_batch(scene.to_latent(pts))  # the frame's one decode
        self.last_batch_size = len(pts)
        n = len(view)
        scene.plan_ahead()
        return view, depths, images[:n], images[n:]

    def _view_surface(self, size: tuple[int, int]) -> pygame.Surface:
        vsize = (max(1, round(size[0] * RENDER_SCALE)), max(1, round(size[1] * RENDER_SCALE)))
        if self._view is None or self._view.get_size() != vsize:
            self._view = pygame.Surface(vsize)
            self._bg = radial_background(vsize, BG_INNER, BG_OUTER).convert(self._view)
            self._fog_mult = pygame.Surface(vsize)
            self._fog_add = pygame.Surface(vsize)
            self._flash_surf = pygame.Surface(vsize)
        return self._view

    def _layer_tints(self, scene: ViewedScene, pts: np.ndarray) -> list[tuple[int, int, int]]:
        """The class colours of the tunnel layers at ``pts``, worked out again only when the
        scene hands out new layer points (it keeps them while the layout holds)."""
        if self._tinted is not pts:
            self._tinted, self._tints = pts, class_tints(scene, pts)
        return self._tints

    def _draw_single(self, view: pygame.Surface, scene: ViewedScene, img: np.ndarray, smooth: bool) -> None:
        """The image at the ship, large and centred, glowing in its nearest class's colour."""
        vw, vh = view.get_size()
        src = self.compositor.surface_for(img, view)
        tint = class_tints(scene, scene.ship.position[None])[0]
        dark = self.compositor.dark_background
        if dark:
            src = src.copy()
            src.fill(tuple(int(255 - SINGLE_TINT * (255 - c)) for c in tint), special_flags=pygame.BLEND_RGB_MULT)
        rect = blit_zoomed(view, src, (vw / 2, vh / 2), VIEW_FRACTION * vh, smooth,
                           pygame.BLEND_RGB_MAX if dark else 0)
        if rect is not None:
            pygame.draw.rect(view, tuple(c // 3 for c in tint), rect.inflate(4, 4), width=1)

    def _fog(self, view: pygame.Surface, fog: float) -> None:
        keep = int(255 * (1.0 - fog))
        self._fog_mult.fill((keep, keep, keep))
        self._fog_add.fill(tuple(int(c * fog) for c in HAZE))
        view.blit(self._fog_mult, (0, 0), special_flags=pygame.BLEND_RGB_MULT)
        view.blit(self._fog_add, (0, 0), special_flags=pygame.BLEND_RGB_ADD)

    def _zoom_blur(self, view: pygame.Surface, strength: float) -> None:
        """Zoom blur: scaled-up copies of the view blended over it (warp jumps)."""
        vw, vh = view.get_size()
        base = view.copy()
        for i in (1, 2, 3):
            f = 1.0 + 0.07 * i * strength
            sw, sh = int(vw * f), int(vh * f)
            scaled = pygame.transform.scale(base, (sw, sh))
            scaled.set_alpha(int(120 * strength / i))
            view.blit(scaled, ((vw - sw) // 2, (vh - sh) // 2))

    def _draw_dust(self, surface: pygame.Surface, scene: ViewedScene, camera: Camera) -> None:
        """Dust motes fixed in space around the ship: parallax and speed streaks."""
        w, h = surface.get_size()
        r = self._dust_radius
        rel = np.mod(self._dust - scene.ship.position[None] + r, 2 * r) - r  # (P, 3)
        cam = rel @ camera.rotation
        back = cam + (scene.velocity @ camera.rotation)[None] * DUST_STREAK_S
        ok = (cam[:, 2] > 0.08 * r) & (back[:, 2] > 0.04 * r)
        if not np.any(ok):
            return
        f = focal_px(h)
        cam, back = cam[ok], back[ok]
        x1 = w / 2 + f * cam[:, 0] / cam[:, 2]
        y1 = h / 2 - f * cam[:, 1] / cam[:, 2]
        x0 = w / 2 + f * back[:, 0] / back[:, 2]
        y0 = h / 2 - f * back[:, 1] / back[:, 2]
        level = np.clip(1.2 - cam[:, 2] / r, 0.15, 1.0)
        for a, b, c, d, lv in zip(x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist(), level.tolist(), strict=True):
            col = (int(150 * lv), int(190 * lv), int(255 * lv))
            if abs(a - c) + abs(b - d) < 2.0:
                surface.fill(col, (int(c), int(d), 2, 2))
            else:
                pygame.draw.line(surface, col, (a, b), (c, d), 2 if lv > 0.7 else 1)

    def _draw_streaks(self, surface: pygame.Surface, strength: float) -> None:
        w, h = surface.get_size()
        cx, cy = w / 2, h / 2
        reach = 0.6 * math.hypot(w, h)
        for a, r, ln in self._streaks:
            ang = 2 * math.pi * a
            r0 = reach * (0.12 + 0.5 * r)
            r1 = r0 + reach * strength * (0.15 + 0.45 * ln)
            ca, sa = math.cos(ang), math.sin(ang)
            v = int(120 + 135 * ln * strength)
            pygame.draw.line(surface, (v // 2, int(v * 0.8), v), (cx + ca * r0, cy + sa * r0),
                             (cx + ca * r1, cy + sa * r1), 1 + int(2 * ln * strength))
