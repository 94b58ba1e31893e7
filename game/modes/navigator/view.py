"""The Navigator's drawing: turns the scene's state into pixels.

``NavigatorView.draw(surface, scene)`` paints the window: the chrome, the latent map (decoded
grid tiles, point cloud, grid lines and axis labels, trail, interpolation paths, marks,
crosshair, legend and pills), the header, the decoded image, the info panel and the
interpolation strip. The view reads the scene through ``NavigatorState`` and keeps nothing but
drawing caches of its own; the one thing a frame asks of the scene is its batched ``decode``.
The player's own picture (posterior, pad, reparameterization strip) is drawn by
``posterior_view.PosteriorPainter``, the prior-vs-data layer by ``prior_view.PriorPainter``.

Drawing is cheap: the point cloud is pre-rendered onto a layer three map-sizes wide that is
re-rendered only after zooming, resizing or panning far, and all images a frame needs (cursor,
interpolation strip, grid tiles) are decoded in one batched ``decode_batch`` call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pygame

from latent_odyssey.game.engine import imaging, ui
from latent_odyssey.game.engine.scene import GameContext
from latent_odyssey.game.engine.ui import LINEAR_COLOUR, SLERP_COLOUR
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.model.morph import lerp, slerp
from latent_odyssey.game.modes.navigator.layout import Layout, thumb_rects
from latent_odyssey.game.modes.navigator.posterior_view import EncodedState, PosteriorPainter
from latent_odyssey.game.modes.navigator.prior_view import PriorPainter, PriorState

TRAIL_S = 2.5  # seconds of cursor trail
PATH_POINTS = 48  # polyline points per interpolation path on the map
GRID_CELLS = 12  # decoded grid tiles across the map width
LAYER_FACTOR = 3  # the point-cloud layer is this many map sizes wide and high

MAP_BG = (16, 19, 32)
GRID_MINOR = (26, 31, 50)
GRID_AXIS = (48, 56, 86)
MARK_COLOUR = (245, 245, 255)


class StripState(Protocol):
    """What the view reads of an interpolation strip (the scene's ``Strip``)."""

    a: np.ndarray  # (D,)
    b: np.ndarray  # (D,)
    label: str
    lin_z: np.ndarray  # (N, D)
    slerp_z: np.ndarray  # (N, D)
    images: list[np.ndarray] | None  # 2N uint8 (H, W, 3): linear row, then slerp row


class NavigatorState(EncodedState, PriorState, Protocol):
    """What the view reads of the Navigator scene (``NavigatorScene``); it writes nothing."""

    ctx: GameContext
    meta: ModelMeta
    layout: Layout
    dims: tuple[int, int]  # the two shown latent dimensions
    mean: np.ndarray  # (D,)
    z: np.ndarray  # (D,) the cursor
    view: np.ndarray  # (2,) latent at the map centre
    zoom: float
    t: float  # simulated seconds
    points2: np.ndarray  # (M, 2) encoded sample, shown dims
    labels: np.ndarray  # (M,)
    map_gliding: bool  # the map's content glides to a new epoch's places (live training)
    centroids: np.ndarray  # (K, D)
    class_names: list[str]
    selected: int | None
    marks: list[np.ndarray]
    trail: Sequence[tuple[float, float, float]]  # x, y, time
    follow_slerp: bool
    morphing: bool
    ride_t0: float | None
    glide: tuple | None
    show_grid: bool
    show_prior: bool

    @property
    def strip(self) -> StripState | None: ...

    @property
    def map_rect(self) -> pygame.Rect: ...

    @property
    def k(self) -> float: ...

    @property
    def scale(self) -> float: ...

    @property
    def position(self) -> np.ndarray: ...

    @property
    def steering(self) -> bool: ...

    def latent_to_screen(self, p: np.ndarray) -> tuple[float, float]: ...

    def screen_to_latent(self, px: float, py: float) -> np.ndarray: ...

    def nearest_class(self) -> tuple[int, float] | None: ...

    def map_points(self) -> tuple[np.ndarray, np.ndarray]: ...  # (M, 2), (K, 2) where drawn now

    def decode(self, extra: list[np.ndarray] | None) -> tuple[np.ndarray, list[np.ndarray] | None]: ...


def _fs(px: float, k: float) -> int:
    """A font size scaled with the window (``k``: the UI scale)."""
    return max(10, round(px * k))


def _grid_spacing(scale: float) -> float:
    """Latent units between grid lines at ``scale`` pixels per unit: a 1-2-5 step giving >= 56 px."""
    for base in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50):
        if base * scale >= 56:
            return float(base)
    return 100.0


def _status(scene: NavigatorState) -> tuple[str, tuple[int, int, int]]:
    """What the cursor is doing, for the info panel, and its colour."""
    if scene.morphing:
        return f"morphing to {scene.class_names[scene.selected]}", ui.ACCENT
    if scene.ride_t0 is not None:
        return ("riding slerp", SLERP_COLOUR) if scene.follow_slerp else ("riding linear", LINEAR_COLOUR)
    if scene.glide is not None:
        return "gliding", ui.FG
    if scene.steering:
        return "moving", ui.FG
    return "still", ui.DIM


class NavigatorView:
    """Draws a Navigator scene and owns the drawing caches (one view per scene entry)."""

    def __init__(self) -> None:
        self._chrome: pygame.Surface | None = None
        self._chrome_key: tuple | None = None
        self._layer: pygame.Surface | None = None
        self._layer_key: tuple | None = None
        self._layer_center = np.zeros(2)  # (2,) latent at the layer's centre
        self.grid_layer: pygame.Surface | None = None  # decoded tiles, once the grid was shown
        self._grid_key: tuple | None = None
        self._grid_cells = (0, 0, 0, 0)  # first tile i, first tile j, columns, rows
        self._grid_g = 1.0
        self._grid_pending: tuple | None = None
        self._legend: pygame.Surface | None = None
        self._legend_key: tuple | None = None
        self._image_scaled: pygame.Surface | None = None
        self._image_key: tuple | None = None
        self._image_src: np.ndarray | None = None
        self._strip_surface: pygame.Surface | None = None  # rendered thumbnails
        self._strip_key: tuple | None = None
        self._strip_src: list[np.ndarray] | None = None  # the strip images they show
        self._dot_cache: dict[tuple[int, int], pygame.Surface] = {}
        self._pills: dict[tuple, pygame.Surface] = {}
        self.posterior = PosteriorPainter()
        self.prior = PriorPainter()

    def draw(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        """Paint the whole window for ``scene`` (laid out for this surface's size)."""
        grid_zs = self._grid_plan(scene) if scene.show_grid else None
        image, grid_images = scene.decode(grid_zs)
        surface.blit(self._chrome_surface(scene.layout), (0, 0))
        self._draw_map(surface, scene, grid_images)
        self._draw_header(surface, scene)
        self._draw_image(surface, scene, image)
        self._draw_info(surface, scene)
        self._draw_strip(surface, scene)

    # ------------------------------------------------------------------ cached static layers

    def _chrome_surface(self, lay: Layout) -> pygame.Surface:
        key = (lay.size,)
        if self._chrome is not None and self._chrome_key == key:
            return self._chrome
        s = ui.backdrop(lay.size, lay.header.bottom)
        for rect in (lay.map, lay.info, lay.strip):
            ui.card(s, rect, ui.PANEL if rect is not lay.map else MAP_BG)
        pygame.draw.rect(s, (0, 0, 0), lay.image, border_radius=6)
        self._chrome, self._chrome_key = s, key
        return s

    def _dot(self, label: int, radius: int) -> pygame.Surface:
        key = (label, radius)
        dot = self._dot_cache.get(key)
        if dot is None:
            d = 2 * radius + 1
            dot = pygame.Surface((d, d), pygame.SRCALPHA)
            pygame.draw.circle(dot, (*ui.class_colour(int(label)), 170), (radius, radius), radius)
            self._dot_cache[key] = dot
        return dot

    def _layer_surface(self, scene: NavigatorState) -> tuple[pygame.Surface, tuple[int, int]]:
        """The point-cloud layer and the top-left of the map inside it (re-rendered lazily)."""
        r = scene.map_rect
        s = scene.scale
        transparent = scene.show_grid or scene.show_prior
        key = (r.size, round(s, 6), transparent)
        off = (scene.view - self._layer_center) * s
        if (
            self._layer is None or self._layer_key != key
            or abs(off[0]) > r.width * 0.95 or abs(off[1]) > r.height * 0.95
        ):
            self._render_layer(scene, key, transparent)
            off = np.zeros(2)
        lw, lh = self._layer.get_size()
        x = int(round((lw - r.width) / 2 + off[0]))
        y = int(round((lh - r.height) / 2 - off[1]))
        return self._layer, (x, y)

    def _render_layer(self, scene: NavigatorState, key: tuple, transparent: bool) -> None:
        r = scene.map_rect
        lw, lh = r.width * LAYER_FACTOR, r.height * LAYER_FACTOR
        layer = pygame.Surface((lw, lh), pygame.SRCALPHA if transparent else 0)
        layer.fill((0, 0, 0, 0) if transparent else MAP_BG)
        self._layer_center = scene.view.copy()
        self._paint_content(layer, scene.view, scene)
        self._layer, self._layer_key = layer, key

    def _paint_content(self, target: pygame.Surface, c: np.ndarray, scene: NavigatorState) -> None:
        """Grid lines, the encoded sample and the labelled class centroids onto ``target``,
        whose centre shows the latent ``c`` (2,), at the scene's scale (positions from
        ``scene.map_points()``: gliding while a new epoch arrives)."""
        s = scene.scale
        k = scene.k
        lw, lh = target.get_size()
        points, centroids = scene.map_points()  # (M, 2), (K, 2)

        def to_layer(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return lw / 2 + (x - c[0]) * s, lh / 2 - (y - c[1]) * s

        # grid lines at a 1-2-5 spacing, the axes through 0 brighter
        g = _grid_spacing(s)
        x0, x1 = c[0] - lw / (2 * s), c[0] + lw / (2 * s)
        y0, y1 = c[1] - lh / (2 * s), c[1] + lh / (2 * s)
        for v in np.arange(math.floor(x0 / g) * g, x1 + g, g):
            px = float(to_layer(np.array(v), np.array(0.0))[0])
            colour = GRID_AXIS if abs(v) < g * 1e-6 else GRID_MINOR
            pygame.draw.line(target, colour, (px, 0), (px, lh))
        for v in np.arange(math.floor(y0 / g) * g, y1 + g, g):
            py = float(to_layer(np.array(0.0), np.array(v))[1])
            colour = GRID_AXIS if abs(v) < g * 1e-6 else GRID_MINOR
            pygame.draw.line(target, colour, (0, py), (lw, py))
        # the encoded sample, coloured by class
        if len(points):
            radius = int(min(5, max(2, round((2.0 + 0.6 * math.log2(max(scene.zoom, 1.0))) * k))))
            lx, ly = to_layer(points[:, 0], points[:, 1])
            inside = (lx >= -radius) & (lx < lw + radius) & (ly >= -radius) & (ly < lh + radius)
            seq = [
                (self._dot(int(lab), radius), (int(px) - radius, int(py) - radius))
                for px, py, lab in zip(lx[inside], ly[inside], scene.labels[inside], strict=True)
            ]
            target.blits(seq, doreturn=False)
        # class centroids, labelled
        if len(centroids):
            cx, cy = to_layer(centroids[:, 0], centroids[:, 1])
            rad = round(11 * k)
            for i, (px, py) in enumerate(zip(cx, cy, strict=True)):
                col = ui.class_colour(i)
                pygame.draw.circle(target, (8, 10, 18), (int(px), int(py)), rad)
                pygame.draw.circle(target, col, (int(px), int(py)), rad, width=2)
                label = ui.fit_text(scene.class_names[i], _fs(12, k), 2 * rad - 4, bold=True)
                ui.text(target, label, (int(px), int(py) + 1), size=_fs(12, k), color=ui.FG, anchor="center", bold=True)

    def _grid_plan(self, scene: NavigatorState) -> list[np.ndarray] | None:
        """Latents to decode when the grid layer must be re-rendered, else None.

        Tile (i, j) covers latent [i g, (i + 1) g) x [j g, (j + 1) g) of the shown dims, with
        g = map width / GRID_CELLS; the layer holds the visible tiles plus two on each side,
        so panning re-renders it only every few tiles (and the decoder cache keeps the rest).
        """
        r = scene.map_rect
        s = scene.scale
        g = r.width / s / GRID_CELLS  # latent units per tile
        tile_px = max(4, int(round(g * s)))
        xl, yb = scene.screen_to_latent(r.left, r.bottom)
        xr, yt = scene.screen_to_latent(r.right, r.top)
        vi0, vi1 = math.floor(xl / g), math.floor(xr / g)
        vj0, vj1 = math.floor(yb / g), math.floor(yt / g)
        key = (r.size, round(g, 9), scene.ctx.image_look)
        if self.grid_layer is not None and self._grid_key == key:
            gi0, gj0, ncols, nrows = self._grid_cells
            if gi0 <= vi0 and vi1 < gi0 + ncols and gj0 <= vj0 and vj1 < gj0 + nrows:
                return None
        gi0, gj0 = vi0 - 2, vj0 - 2
        ncols, nrows = vi1 - vi0 + 5, vj1 - vj0 + 5
        ii, jj = np.meshgrid(np.arange(ncols), np.arange(nrows)[::-1])  # row 0 = top = highest j
        zs = np.repeat(scene.mean[None], ncols * nrows, axis=0)  # (T, D)
        zs[:, scene.dims[0]] = (gi0 + ii.ravel() + 0.5) * g
        zs[:, scene.dims[1]] = (gj0 + jj.ravel() + 0.5) * g
        self._grid_pending = (key, g, tile_px, (gi0, gj0, ncols, nrows))
        return list(zs)

    def _render_grid(self, images: list[np.ndarray], look: str, style: imaging.InkStyle) -> None:
        key, g, tile_px, cells = self._grid_pending
        _gi0, _gj0, ncols, nrows = cells
        layer = pygame.Surface((ncols * tile_px, nrows * tile_px))
        layer.fill(MAP_BG)
        for n, img in enumerate(images):
            row, col = divmod(n, ncols)
            tile = imaging.enlarged(img, (tile_px, tile_px), look, style)
            tile.set_alpha(120)
            layer.blit(tile, (col * tile_px, row * tile_px))
        self.grid_layer, self._grid_key, self._grid_g, self._grid_cells = layer, key, g, cells

    # ------------------------------------------------------------------ the map

    def _draw_map(self, surface: pygame.Surface, scene: NavigatorState, grid_images: list[np.ndarray] | None) -> None:
        r = scene.map_rect
        k = scene.k
        clip = surface.get_clip()
        surface.set_clip(r)
        if scene.show_grid:
            if grid_images is not None:
                self._render_grid(grid_images, scene.ctx.image_look, imaging.style_for(scene.meta))
            if self.grid_layer is not None:
                g = self._grid_g
                gi0, gj0, _ncols, nrows = self._grid_cells
                px, py = scene.latent_to_screen(np.array([gi0 * g, (gj0 + nrows) * g]))
                surface.fill(MAP_BG, r)
                surface.blit(self.grid_layer, (int(round(px)), int(round(py))))
        elif scene.show_prior:
            surface.fill(MAP_BG, r)
        if scene.show_prior:
            self.prior.draw_on_map(surface, scene)
        if scene.map_gliding:  # the content moves every frame: painted straight onto the map
            if not (scene.show_grid or scene.show_prior):
                surface.fill(MAP_BG, r)
            self._paint_content(surface.subsurface(r), scene.view, scene)
            self._layer = None  # re-rendered once the glide has ended
        else:
            layer, (lx, ly) = self._layer_surface(scene)
            surface.blit(layer, r.topleft, pygame.Rect(lx, ly, r.width, r.height))
        self._draw_axis_labels(surface, scene)
        self._draw_trail(surface, scene)
        if scene.strip is not None:
            self._draw_paths(surface, scene)
        rad = round(9 * k)
        for i, m in enumerate(scene.marks):
            px, py = scene.latent_to_screen(m[list(scene.dims)])
            pygame.draw.circle(surface, (8, 10, 18), (int(px), int(py)), rad)
            pygame.draw.circle(surface, MARK_COLOUR, (int(px), int(py)), rad, width=2)
            ui.text(surface, "AB"[i], (int(px), int(py) + 1), size=_fs(12, k), color=MARK_COLOUR, anchor="center", bold=True)
        self.posterior.draw_on_map(surface, scene)
        self._draw_crosshair(surface, scene)
        self.posterior.draw_lens(surface, scene)
        surface.set_clip(clip)
        self._draw_legend(surface, scene)
        m = round(10 * k)
        title = f"LATENT MAP   ·   x = z{scene.dims[0]}   y = z{scene.dims[1]}"
        pill = self._pill(title, _fs(13, k), ui.DIM, k, bold=True)
        surface.blit(pill, (r.left + m, r.top + m))
        if scene.show_prior:
            self.prior.draw_legend(surface, scene, self._pill, r.top + m + pill.get_height() + round(6 * k))
        foot = f"zoom ×{scene.zoom:.2f}"
        if scene.meta.latent_dim > 2:
            n = scene.meta.latent_dim - 2
            foot += f"   ·   {n} more dim{'s' if n > 1 else ''} held at {'their' if n > 1 else 'its'} mean"
        pill = self._pill(foot, _fs(13, k), ui.DIM, k)
        surface.blit(pill, pill.get_rect(bottomleft=(r.left + m, r.bottom - m)))

    def _pill(self, text: str, size: int, colour: tuple[int, int, int], k: float, bold: bool = False) -> pygame.Surface:
        """A label on a translucent rounded backdrop, cached by its text."""
        key = (text, size, colour, bold)
        pill = self._pills.get(key)
        if pill is None:
            label = ui.text_surface(text, size, colour, bold)
            pad_x, pad_y = round(8 * k), round(4 * k)
            pill = pygame.Surface((label.get_width() + 2 * pad_x, label.get_height() + 2 * pad_y), pygame.SRCALPHA)
            pygame.draw.rect(pill, (*ui.PANEL, 210), pill.get_rect(), border_radius=6)
            pill.blit(label, (pad_x, pad_y))
            if len(self._pills) > 64:
                self._pills.clear()
            self._pills[key] = pill
        return pill

    def _draw_axis_labels(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        """Grid values along the bottom and left edges of the map."""
        r = scene.map_rect
        g = _grid_spacing(scene.scale)
        lo = scene.screen_to_latent(r.left, r.bottom)
        hi = scene.screen_to_latent(r.right, r.top)
        fmt = "{:.0f}" if g >= 1 else ("{:.1f}" if g >= 0.1 else "{:.2f}")
        size = _fs(11, scene.k)
        edge = round(34 * scene.k)
        for v in np.arange(math.ceil(lo[0] / g) * g, hi[0], g):
            px = r.centerx + (v - scene.view[0]) * scene.scale
            if r.left + edge < px < r.right - edge:
                ui.text(surface, fmt.format(v + 0.0), (int(px), r.bottom - edge + 4), size=size, color=GRID_AXIS, anchor="midbottom")
        for v in np.arange(math.ceil(lo[1] / g) * g, hi[1], g):
            py = r.centery - (v - scene.view[1]) * scene.scale
            if r.top + edge < py < r.bottom - edge - 6:
                ui.text(surface, fmt.format(v + 0.0), (r.left + 8, int(py) - 2), size=size, color=GRID_AXIS, anchor="bottomleft")

    def _draw_trail(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        if len(scene.trail) < 2:
            return
        pts = np.asarray(scene.trail, np.float64)  # (N, 3): x, y, time
        fade = np.clip(1.0 - (scene.t - pts[:, 2]) / TRAIL_S, 0.0, 1.0) ** 1.6  # (N,)
        r, s = scene.map_rect, scene.scale
        sx = r.centerx + (pts[:, 0] - scene.view[0]) * s
        sy = r.centery - (pts[:, 1] - scene.view[1]) * s
        bg, fg = np.array(MAP_BG, np.float64), np.array(ui.ACCENT, np.float64)
        colours = (bg + (fg - bg) * fade[:, None]).astype(int).tolist()
        xy = np.stack([sx, sy], axis=1).tolist()
        for i in range(1, len(xy)):
            if fade[i] > 0.02:
                pygame.draw.line(surface, colours[i], xy[i - 1], xy[i], 3 if fade[i] > 0.5 else 2)

    def _draw_paths(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        s = scene.strip
        ts = np.linspace(0.0, 1.0, PATH_POINTS)
        ix = list(scene.dims)
        for zs, samples, colour, followed in (
            (lerp(s.a, s.b, ts), s.lin_z, LINEAR_COLOUR, not scene.follow_slerp),
            (slerp(s.a, s.b, ts), s.slerp_z, SLERP_COLOUR, scene.follow_slerp),
        ):
            pts = [scene.latent_to_screen(p) for p in zs[:, ix]]
            width = 3 if followed else 2
            pygame.draw.lines(surface, (6, 8, 14), False, pts, width + 4)
            pygame.draw.lines(surface, colour if followed else ui.mix(colour, MAP_BG, 0.25), False, pts, width)
            for p in samples[:, ix]:
                x, y = scene.latent_to_screen(p)
                pygame.draw.circle(surface, (6, 8, 14), (int(x), int(y)), 6 if followed else 5)
                pygame.draw.circle(surface, colour, (int(x), int(y)), 4 if followed else 3)

    def _draw_crosshair(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        r = scene.map_rect
        x, y = scene.latent_to_screen(scene.position)
        xi, yi = int(round(x)), int(round(y))
        guide = (58, 62, 90)
        pygame.draw.line(surface, guide, (r.left, yi), (r.right, yi))
        pygame.draw.line(surface, guide, (xi, r.top), (xi, r.bottom))
        col = ui.WARN if scene.show_prior and scene.off_data() else ui.ACCENT
        k = scene.k
        ring, inner, arm = round(11 * k), round(5 * k), round(18 * k)
        width = 2 if k < 1.3 else 3
        pygame.draw.circle(surface, (8, 10, 18), (xi, yi), ring + 1, width=width + 2)
        pygame.draw.circle(surface, col, (xi, yi), ring, width=width)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            pygame.draw.line(surface, col, (xi + dx * inner, yi + dy * inner), (xi + dx * arm, yi + dy * arm), width)

    def _draw_legend(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        if not scene.class_names:
            return
        r = scene.map_rect
        k = scene.k
        key = (scene.selected, r.height, k)
        if self._legend is None or self._legend_key != key:
            size = _fs(13, k)
            row = round(size * 1.45) if r.height >= 360 else size + 3
            names = [ui.fit_text(n, size, round(120 * k)) for n in scene.class_names]
            wmax = max(ui.font(size, True).size(n)[0] for n in names)
            dot_x, text_x = round(15 * k), round(28 * k)
            lw, lh = wmax + text_x + 14, row * len(names) + 14
            leg = pygame.Surface((lw, lh), pygame.SRCALPHA)
            pygame.draw.rect(leg, (*ui.PANEL, 215), leg.get_rect(), border_radius=8)
            for i, n in enumerate(names):
                y = 7 + i * row
                sel = i == scene.selected
                if sel:
                    pygame.draw.rect(leg, (*ui.ACCENT, 50), (3, y - 1, lw - 6, row), border_radius=5)
                pygame.draw.circle(leg, ui.class_colour(i), (dot_x, y + row // 2), max(3, round(5 * k)))
                ui.text(leg, n, (text_x, y + row // 2), size=size, color=ui.ACCENT if sel else ui.FG, anchor="midleft", bold=sel)
            self._legend, self._legend_key = leg, key
        m = round(10 * k)
        surface.blit(self._legend, self._legend.get_rect(topright=(r.right - m, r.top + m)))

    # ------------------------------------------------------------------ header and right-hand side

    def _draw_header(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        lay = scene.layout
        k = scene.k
        cy = lay.header.centery
        x = round(18 * k)
        rect = ui.text(surface, "LATENT ODYSSEY", (x, cy), size=_fs(20, k), color=ui.ACCENT, anchor="midleft", bold=True)
        rect = ui.text(surface, "Navigator", (rect.right + round(12 * k), cy), size=_fs(20, k), color=ui.FG, anchor="midleft")
        m = scene.meta
        info = f"{m.name}   ·   {m.dataset}   ·   {m.latent_dim}-D latent   ·   {m.image_shape[2]}×{m.image_shape[1]}"
        left = rect.right + round(26 * k)
        room = lay.header.width - left - round(380 * k)  # the HUD readout sits on the right
        if room > 80:
            info = ui.fit_text(info, _fs(14, k), room)
            ui.text(surface, info, (left, cy + 1), size=_fs(14, k), color=ui.DIM, anchor="midleft")

    def _draw_image(self, surface: pygame.Surface, scene: NavigatorState, image: np.ndarray) -> None:
        """The decoded cursor image, scaled to its panel (rescaled only when it changes); the
        drawing pad takes its place while it is open."""
        if scene.pad_open:
            self.posterior.draw_pad(surface, scene)
            return
        rect = scene.layout.image
        look = scene.ctx.image_look
        key = (rect.size, look)
        if self._image_scaled is None or self._image_key != key or self._image_src is not image:
            self._image_scaled = imaging.enlarged(image, rect.size, look, imaging.style_for(scene.meta))
            self._image_key = key
            self._image_src = image
        surface.blit(self._image_scaled, rect.topleft)
        pygame.draw.rect(surface, (60, 68, 100), rect.inflate(2, 2), width=1, border_radius=4)

    def _draw_info(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        if scene.pad_open:
            self.posterior.draw_pad_info(surface, scene)
            return
        r = scene.layout.info
        k = scene.k
        pad = round(14 * k)
        x, y = r.left + pad, r.top + round(12 * k)
        w = r.width - 2 * pad
        roomy = r.height >= 330 * k
        small = _fs(13, k)
        big = _fs(19 if roomy else 17, k)
        gap = round((14 if roomy else 8) * k)
        dot = max(4, round(6 * k))

        def label(s: str) -> None:
            nonlocal y
            ui.text(surface, s, (x, y), size=small, color=ui.DIM, bold=True)
            y += small + round(8 * k)

        def swatch_line(c: int, colour: tuple[int, int, int], right: str = "") -> None:
            nonlocal y
            pygame.draw.circle(surface, ui.class_colour(c), (x + dot, y + big // 2 + 2), dot)
            rw = ui.text(surface, right, (x + w, y + 3), size=small, color=ui.DIM, anchor="topright").width if right else 0
            name = ui.fit_text(scene.class_names[c], big, w - 3 * dot - rw - 6)
            ui.text(surface, name, (x + 3 * dot, y), size=big, color=colour)
            y += big + round(6 * k) + gap

        label("POSITION")
        for d in scene.dims:
            ui.text(surface, f"z{d}", (x, y), size=big, color=ui.DIM)
            ui.text(surface, f"{scene.z[d]:+.3f}", (x + w, y), size=big, color=ui.FG, anchor="topright")
            y += big + round(6 * k)
        y += gap
        near = scene.nearest_class()
        if near is not None:
            label("NEAREST CLASS")
            swatch_line(near[0], ui.FG, f"d {near[1]:.2f}")
        if scene.selected is not None:
            label("SELECTED")
            swatch_line(scene.selected, ui.ACCENT)
        hint_h = small + round(14 * k)
        if y + small + big + hint_h < r.bottom:
            label("STATUS")
            status, colour = _status(scene)
            ui.text(surface, ui.fit_text(status, big - 2, w), (x, y), size=big - 2, color=colour)
            y += big + round(4 * k)
        if y + small + hint_h < r.bottom:
            ui.text(surface, f"zoom ×{scene.zoom:.2f}", (x, y), size=small, color=ui.DIM)
            ui.text(surface, imaging.LOOK_NAMES[scene.ctx.image_look], (x + w, y), size=small, color=ui.DIM, anchor="topright")
        hint = ui.fit_text("F1 help  ·  M model  ·  F3 fly", small, w)
        ui.text(surface, hint, (r.centerx, r.bottom - round(10 * k)), size=small, color=(110, 120, 150), anchor="midbottom")

    def _draw_strip(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        r = scene.layout.strip
        k = scene.k
        pad = round(14 * k)
        small = _fs(13, k)
        s = scene.strip
        if s is None and scene.encoded is not None:
            self.posterior.draw_samples_strip(surface, scene, self._pill)
            return
        ui.text(surface, "INTERPOLATION", (r.left + pad, r.top + round(12 * k)), size=small, color=ui.DIM, bold=True)
        if s is None:
            self._draw_strip_help(surface, scene)
            return
        ui.text(surface, s.label, (r.right - pad, r.top + round(12 * k)), size=small, color=MARK_COLOUR, anchor="topright")
        frames = len(s.lin_z)
        rects = thumb_rects(r, k, frames)
        look = scene.ctx.image_look
        key = (r.size, look)
        if self._strip_surface is None or self._strip_key != key or self._strip_src is not s.images:
            # (this frame's decode has filled s.images)
            layer = pygame.Surface(r.size, pygame.SRCALPHA)
            style = imaging.style_for(scene.meta)
            for row_i, (row, colour, name) in enumerate(
                ((rects[0], LINEAR_COLOUR, "LINEAR"), (rects[1], SLERP_COLOUR, "SPHERICAL (SLERP)"))
            ):
                ui.text(layer, name, (row[0].left - r.left, row[0].top - r.top - round(16 * k)), size=_fs(12, k), color=colour, bold=True)
                for i, rect in enumerate(row):
                    img = imaging.enlarged(s.images[row_i * frames + i], rect.size, look, style)
                    layer.blit(img, (rect.left - r.left, rect.top - r.top))
            self._strip_surface, self._strip_key, self._strip_src = layer, key, s.images
        surface.blit(self._strip_surface, r.topleft)
        # highlight the frame nearest the cursor on the followed row
        row = rects[1] if scene.follow_slerp else rects[0]
        zs = s.slerp_z if scene.follow_slerp else s.lin_z
        i = int(np.argmin(np.linalg.norm(zs - scene.z[None], axis=1)))
        colour = SLERP_COLOUR if scene.follow_slerp else LINEAR_COLOUR
        pygame.draw.rect(surface, colour, row[i].inflate(6, 6), width=2, border_radius=4)
        hint = ui.fit_text("L switches the ridden path  ·  click a frame to go there", _fs(12, k), r.width - 2 * pad)
        ui.text(surface, hint, (r.centerx, r.bottom - round(10 * k)), size=_fs(12, k), color=ui.DIM, anchor="midbottom")

    def _draw_strip_help(self, surface: pygame.Surface, scene: NavigatorState) -> None:
        """The strip panel without an interpolation: the marks so far and how to make one."""
        r = scene.layout.strip
        k = scene.k
        pad = round(14 * k)
        marks = "   ".join(
            f"{n} ({m[scene.dims[0]]:+.2f}, {m[scene.dims[1]]:+.2f})" for n, m in zip("AB", scene.marks, strict=False)
        ) or "no marks yet"
        ui.text(surface, marks, (r.right - pad, r.top + round(12 * k)), size=_fs(13, k), color=MARK_COLOUR if scene.marks else ui.DIM, anchor="topright")
        lines = (
            ("Space", "marks A, then B"),
            ("I", "shows the frames between them, linear and spherical"),
            ("L", "switches which path the cursor rides"),
            ("", "without marks, I goes from the previous class to the selected one"),
        )
        size = _fs(14, k)
        step = round(size * 1.75)
        key_right = r.left + round(96 * k)
        text_left = key_right + round(16 * k)
        room = r.right - pad - text_left
        ty = r.top + max(round(44 * k), (r.height - 4 * step) // 2)
        for i, (key, line) in enumerate(lines):
            y = ty + i * step
            if y + step > r.bottom:
                break
            if key:
                kr = ui.text(surface, key, (key_right, y), size=size, color=ui.ACCENT, anchor="topright", bold=True)
                pygame.draw.rect(surface, (60, 66, 96), kr.inflate(10, 6), width=1, border_radius=5)
            ui.text(surface, ui.fit_text(line, size, room), (text_left, y), size=size, color=ui.FG if key else ui.DIM)
