"""The Odyssey's HUD: the flight-data and mode panels, the reticle, the radar (minimap), the
3x3 neighbour grid and the in-mode warnings, drawn over the view.

Sizes are in pixels at a 720-pixel-high window and scale with the window height (``u``).
The HUD reads the scene through :class:`HudScene` and changes nothing in it; it keeps its
own caches (rendered text, panel frames, scaled grid cells, the radar's point cloud). The
panels' numbers are read ``READOUT_HZ`` times a second, so most frames draw text that is
already rendered.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.modes.odyssey.camera import Camera, focal_px
from latent_odyssey.game.modes.odyssey.flight import MAX_SPEED_U_S
from latent_odyssey.game.modes.odyssey.minimap import Minimap

if TYPE_CHECKING:
    from latent_odyssey.game.engine.scene import GameContext
    from latent_odyssey.game.model.modelfile import ModelMeta
    from latent_odyssey.game.modes.odyssey.flight import Ship
    from latent_odyssey.game.modes.odyssey.frame import FlightFrame
    from latent_odyssey.game.modes.odyssey.tours import Tour

HUD_MARGIN = 16  # px
READOUT_HZ = 15  # the panels' numbers change this often (readable, and their text is rendered less)
READOUT_CLEARANCE = 30  # px: the engine's FPS readout sits in the top-right corner above our panel
PANEL_W, PANEL_H = 318, 142  # px
MINIMAP_SIZE = 196  # px
MINIMAP_HZ = 30  # the radar is drawn again this often (simulated time); between, the last one shows
COMPACT_BELOW_PX = 300  # windows less tall than this get the one-line caption instead of the panels
CAPTION_PX = 11
GRID_CELL = 76  # px: one neighbour image
PANEL_COLOUR = (14, 18, 34)
EDGE = (70, 120, 200)


class HudScene(Protocol):
    """What the HUD reads of the Odyssey scene (``scene.OdysseyScene``)."""

    ctx: GameContext | None
    meta: ModelMeta
    ship: Ship
    velocity: np.ndarray  # (3,) latent units per second
    clock: float  # seconds of simulation
    unit: float  # latent units per flight unit
    frame: FlightFrame  # the axes flown: the latent's own or principal axes (``frame.py``)
    dims: np.ndarray  # (3,) the frame axes flown
    mean_full: np.ndarray  # (D,) the data's mean, frame coordinates
    std_full: np.ndarray  # (D,) its standard deviation per frame axis
    lo: np.ndarray  # (3,) the populated region in the subspace
    hi: np.ndarray
    centroids: np.ndarray  # (K, 3)
    centroids_full: np.ndarray  # (K, D) frame coordinates
    samples_full: np.ndarray  # (M, D) frame coordinates
    sample_labels: np.ndarray  # (M,)
    n_classes: int
    selected_class: int
    mode: str  # manual | autopilot | warp
    autopilot_paused: bool
    tour: Tour | None
    tour_s: float
    map_path: np.ndarray  # (P, 3) the tour loop for the radar (set with ``tour``)
    warp_state: dict | None
    tunnel: bool
    tunnel_look: str  # plain | trails | prism
    layer_count: int
    spacing: float
    rail_serial: int  # changes whenever the rail is laid anew

    def frame_point(self) -> np.ndarray: ...

    def fog_level(self) -> float: ...

    def tour_title(self) -> str: ...

    def region_of(self, pt: np.ndarray) -> tuple[str, int]: ...


def draw_unsupported(surface: pygame.Surface, reason: str) -> None:
    """The whole frame when the model cannot be flown: the reason, centred."""
    w, h = surface.get_size()
    surface.fill(ui.BG)
    ui.text(surface, reason, (w // 2, h // 2), 22, ui.WARN, "center")


class OdysseyHud:
    """Draws the HUD (see the module docstring). ``image_surface(img, size)`` shows a decoded
    image at ``size`` px in the current image look (the view's crisp enlargement): (surface,
    final), where a stand-in (``final`` False) is asked for again in later frames."""

    def __init__(self, image_surface: Callable[[np.ndarray, tuple[int, int]], tuple[pygame.Surface, bool]]) -> None:
        self.image_surface = image_surface
        self.minimap = Minimap(MINIMAP_SIZE)
        self.grid_rects: list[pygame.Rect] = []  # where the 9 grid cells were drawn last
        self._minimap_dims: tuple[int, ...] | None = None  # the subspace the radar shows
        self._minimap_tick: tuple | None = None  # the MINIMAP_HZ tick (and modes) of the radar shown
        self._text_cache: dict[tuple, pygame.Surface] = {}
        self._panel_cache: dict[tuple, pygame.Surface] = {}
        self._composites: dict[str, tuple[tuple, pygame.Surface]] = {}  # panel name -> (what it shows, image)
        self._grid_cache: tuple | None = None  # ((cell, rail), images, scaled surfaces, final flags)
        self._tick = -1  # the READOUT_HZ tick of the numbers shown
        self._readings: tuple | None = None  # what the panels show (see _read)

    def drop_grid(self) -> None:
        """Forget the grid's scaled cells (the image look changed)."""
        self._grid_cache = None

    def _text(self, surface, s: str, pos, size: int, color=ui.FG, anchor="topleft", bold=False) -> pygame.Rect:
        key = (s, size, color, bold)
        img = self._text_cache.get(key)
        if img is None:
            if len(self._text_cache) > 600:
                self._text_cache.clear()
            img = ui.font(size, bold).render(s, True, color)
            self._text_cache[key] = img
        rect = img.get_rect(**{anchor: pos})
        surface.blit(img, rect)
        return rect

    def _composed(self, surface: pygame.Surface, rect: pygame.Rect, name: str, key: tuple,
                  draw: Callable[[pygame.Surface, pygame.Rect], None]) -> None:
        """A panel and its contents (``draw(image, rect)``) at ``rect``, composed once into a
        translucent image and made again only when ``key`` (what it shows) changes: one blit
        a frame instead of the panel and a dozen texts."""
        hit = self._composites.get(name)
        if hit is None or hit[0] != key or hit[1].get_size() != rect.size:
            img = pygame.Surface(rect.size, pygame.SRCALPHA)
            self._panel(img, img.get_rect())
            draw(img, img.get_rect())
            hit = self._composites[name] = (key, img)
        surface.blit(hit[1], rect.topleft)

    def _panel(self, surface, rect: pygame.Rect, accent=EDGE) -> None:
        key = (rect.size, accent)
        img = self._panel_cache.get(key)
        if img is None:
            img = pygame.Surface(rect.size, pygame.SRCALPHA)
            pygame.draw.rect(img, (*PANEL_COLOUR, 200), img.get_rect(), border_radius=6)
            pygame.draw.rect(img, (*accent, 90), img.get_rect(), width=1, border_radius=6)
            k = 12
            wd, ht = rect.size
            for (x, y), (dx, dy) in (((0, 0), (1, 1)), ((wd - 1, 0), (-1, 1)),
                                     ((0, ht - 1), (1, -1)), ((wd - 1, ht - 1), (-1, -1))):
                pygame.draw.line(img, (*accent, 255), (x, y), (x + dx * k, y), 2)
                pygame.draw.line(img, (*accent, 255), (x, y), (x, y + dy * k), 2)
            self._panel_cache[key] = img
        surface.blit(img, rect.topleft)

    def draw(
        self,
        surface: pygame.Surface,
        scene: HudScene,
        camera: Camera,
        grid_images: list[np.ndarray],
        view_pts: np.ndarray | None,
        field_count: int = 0,
    ) -> None:
        """The HUD over ``surface``: ``grid_images`` are the frame's 9 neighbour images (or
        none), ``view_pts`` (L, 3) the tunnel layers' points for the radar (None in the
        field view), ``field_count`` the field's billboards drawn this frame."""
        w, h = surface.get_size()
        u = max(0.6, h / 720.0)
        m = int(HUD_MARGIN * u)
        self._draw_reticle(surface, scene, camera, u)
        self.grid_rects = []
        if h < COMPACT_BELOW_PX:  # a small window (a GIF, a thumbnail): a caption, not the panels
            self._draw_caption(surface, scene, field_count)
            return
        # ----- left panel: flight data; the numbers are read READOUT_HZ times a second
        tick = int(scene.clock * READOUT_HZ)
        if tick != self._tick or self._readings is None:
            self._tick = tick
            self._readings = self._read(scene, field_count)
        pw, ph = int(PANEL_W * u), int(PANEL_H * u)
        left = pygame.Rect(m, m, pw, ph)
        self._composed(surface, left, "flight", (tick, scene.selected_class),
                       lambda img, r: self._draw_flight(img, scene, r, u))
        # ----- right panel: modes
        right = pygame.Rect(w - m - pw, m + int(READOUT_CLEARANCE * u), pw, ph)
        blink = scene.mode != "autopilot" or int(scene.clock * 2) % 2 == 0
        self._composed(surface, right, "modes",
                       (tick, scene.mode, scene.autopilot_paused, blink, scene.tunnel, scene.tunnel_look,
                        scene.layer_count, scene.spacing, tuple(int(d) for d in scene.dims)),
                       lambda img, r: self._draw_modes(img, scene, r, u, blink))
        # ----- minimap
        self._draw_minimap(surface, scene, camera, view_pts, u, m)
        # ----- grid
        self.grid_rects = []
        if grid_images:
            self._draw_grid(surface, scene, grid_images, u, m)
        # ----- warnings and hints
        fog = scene.fog_level()
        if fog > 0.0:
            pulse = 0.8 + 0.2 * math.sin(scene.clock * 6.0)
            col = tuple(int(c * pulse + 40 * (1 - pulse)) for c in ui.WARN)
            out = self._readings[4]
            box = pygame.Rect(0, 0, int(400 * u), int(58 * u))
            box.midtop = (w // 2, m)
            self._panel(surface, box, ui.WARN)
            self._text(surface, "LEAVING THE POPULATED REGION", (w // 2, box.y + int(7 * u)),
                       int(19 * u), col, "midtop", True)
            self._text(surface, f"{out:.2f} u outside the bounds  ·  pulling back",
                       (w // 2, box.y + int(34 * u)), int(15 * u), (230, 170, 170), "midtop")
        if scene.mode == "warp" and scene.warp_state is not None:
            self._text(surface, "W A R P", (w // 2, int(h * 0.78)), int(28 * u), (150, 230, 255), "center", True)

    def _read(self, scene: HudScene, field_count: int) -> tuple:
        """The numbers the panels show until the next READOUT_HZ tick: (speed, position (3,),
        nearest (name, colour index, distance text), billboards drawn, distance outside the
        populated region)."""
        pos = scene.ship.position.copy()
        if scene.n_classes:
            d2 = np.sum((scene.centroids_full - scene.frame_point()[None]) ** 2, axis=1)
            k = int(np.argmin(d2))
            near = (f"{scene.meta.class_names[k]}", k, f"dist {math.sqrt(float(d2[k])):.2f}")
        else:  # no classes: the k-means region of the data, and how typical the point is
            name, k = scene.region_of(pos)
            d = scene.dims  # how far from the data's mean, in standard deviations, in the dims flown
            off = (pos - scene.mean_full[d]) / np.maximum(scene.std_full[d], 1e-9)
            near = (name, k, f"{float(np.sqrt((off * off).sum())):.1f}σ from the mean")
        out = scene.ship.outside_distance(scene.lo, scene.hi)
        return math.hypot(*scene.velocity), pos, near, field_count, out

    def _draw_flight(self, surface: pygame.Surface, scene: HudScene, left: pygame.Rect, u: float) -> None:
        """The flight-data panel's contents: model, speed, position, the nearest class or region."""
        speed, shown_pos, (near, near_k, near_note) = self._readings[:3]
        pw = left.width
        x, y = left.x + int(12 * u), left.y + int(8 * u)
        fs, fl = int(15 * u), int(13 * u)
        self._text(surface, "LATENT ODYSSEY", (x, y), fl, ui.ACCENT, bold=True)
        self._text(surface, scene.meta.name, (left.right - int(12 * u), y), fl, ui.DIM, "topright")
        y += int(24 * u)
        self._text(surface, "SPEED", (x, y + int(4 * u)), fl, ui.DIM)
        self._text(surface, f"{speed:5.2f}", (x + int(64 * u), y), int(22 * u), ui.FG, bold=True)
        self._text(surface, "u/s", (x + int(128 * u), y + int(5 * u)), fl, ui.DIM)
        bar = pygame.Rect(x + int(162 * u), y + int(8 * u), pw - int(186 * u), int(8 * u))
        pygame.draw.rect(surface, (40, 48, 80), bar, border_radius=3)
        fill = bar.copy()
        top = MAX_SPEED_U_S * scene.unit
        fill.width = int(bar.width * min(1.0, speed / top))
        if fill.width > 0:
            pygame.draw.rect(surface, (80, 200, 255) if speed < 0.45 * top else ui.ACCENT,
                             fill, border_radius=3)
        y += int(30 * u)
        self._text(surface, "POS", (x, y), fl, ui.DIM)
        pos = "   ".join(f"{scene.frame.name(d)} {v:+.2f}" for d, v in zip(scene.dims, shown_pos, strict=True))
        self._text(surface, pos, (x + int(64 * u), y), fs, ui.FG)
        y += int(24 * u)
        self._text(surface, "NEAR", (x, y), fl, ui.DIM)
        col = ui.class_colour(near_k)
        pygame.draw.circle(surface, col, (x + int(70 * u), y + int(8 * u)), int(5 * u))
        self._text(surface, near, (x + int(82 * u), y), fs, col, bold=True)
        self._text(surface, near_note, (x + int(170 * u), y), fs, ui.DIM)
        y += int(24 * u)
        if scene.n_classes:
            self._text(surface, "WARP TO", (x, y), fl, ui.DIM)
            k = scene.selected_class
            col = ui.class_colour(k)
            pygame.draw.circle(surface, col, (x + int(70 * u), y + int(8 * u)), int(5 * u), width=2)
            self._text(surface, f"{scene.meta.class_names[k]}", (x + int(82 * u), y), fs, col)
        else:
            self._text(surface, "WARP", (x, y), fl, ui.DIM)
            self._text(surface, "J: a random point", (x + int(82 * u), y), fs, ui.DIM)

    def _draw_modes(self, surface: pygame.Surface, scene: HudScene, right: pygame.Rect, u: float,
                    blink: bool) -> None:
        """The modes panel's contents: flight mode (its dot lit when ``blink``), tour, view
        (field or tunnel), subspace."""
        fs = int(15 * u)
        x, y = right.x + int(12 * u), right.y + int(8 * u)
        if scene.mode == "warp":
            state, col = "WARP", (120, 220, 255)
        elif scene.mode == "autopilot":
            state, col = "AUTOPILOT", ui.ACCENT
        elif scene.autopilot_paused:
            state, col = "AUTOPILOT PAUSED", (255, 150, 90)
        else:
            state, col = "MANUAL FLIGHT", (120, 230, 160)
        pygame.draw.circle(surface, col if blink else (60, 60, 60), (x + int(5 * u), y + int(9 * u)), int(5 * u))
        self._text(surface, state, (x + int(18 * u), y), int(17 * u), col, bold=True)
        y += int(26 * u)
        tour = f"tour  {scene.tour_title()}"
        if scene.tour is not None and scene.mode == "autopilot":
            tour += f"  ›  {scene.tour.stop_names[scene.tour.next_stop(scene.tour_s)]}"
        self._text(surface, tour, (x, y), fs, ui.FG)
        y += int(24 * u)
        if scene.mode == "warp" and scene.warp_state is not None:
            self._text(surface, f"jumping to {scene.warp_state['label']}", (x, y), fs, (120, 220, 255))
        elif scene.autopilot_paused:
            self._text(surface, "autopilot (O) resumes the tour", (x, y), fs, ui.DIM)
        else:
            self._text(surface, "flight input takes over", (x, y), fs, ui.DIM)
        y += int(24 * u)
        if scene.tunnel:
            look = "" if scene.tunnel_look == "plain" else f" · {scene.tunnel_look}"
            view = f"TUNNEL  {scene.layer_count} layers{look}"
        else:
            view = f"FIELD  {self._readings[3]} images"
        self._text(surface, view, (x, y), fs, (120, 230, 255))
        self._text(surface, f"spacing {scene.spacing:.3f}", (right.right - int(12 * u), y), fs, ui.DIM, "topright")
        y += int(24 * u)
        dims = " ".join(scene.frame.name(d) for d in scene.dims)
        self._text(surface, f"SUBSPACE  {dims}", (x, y), fs, ui.FG)
        self._text(surface, f"of {scene.meta.latent_dim} dims", (right.right - int(12 * u), y), fs, ui.DIM, "topright")

    def _draw_minimap(self, surface, scene: HudScene, camera: Camera, view_pts: np.ndarray,
                      u: float, m: int) -> None:
        """The radar in the bottom-right corner, showing the subspace flown now."""
        w, h = surface.get_size()
        dims = tuple(int(d) for d in scene.dims)
        want = int(MINIMAP_SIZE * u)
        if want != self.minimap.size:  # the radar scales with the window like the panels
            self.minimap = Minimap(want)
            self._minimap_dims = None
            self._minimap_tick = None
        if dims != self._minimap_dims:
            self.minimap.set_points(scene.samples_full[:, scene.dims], scene.sample_labels, scene.lo, scene.hi)
            self._minimap_dims = dims
            self._minimap_tick = None
        size = self.minimap.size
        mm = pygame.Rect(w - m - size, h - m - size, size, size)
        self._panel(surface, mm.inflate(int(12 * u), int(34 * u)).move(0, -int(11 * u)))
        self._text(surface, "RADAR", (mm.x, mm.y - int(22 * u)), int(13 * u), ui.DIM)
        self._text(surface, "ahead is up", (mm.right, mm.y - int(22 * u)), int(13 * u), ui.DIM, "topright")
        path_pts = scene.map_path if scene.tour is not None else None
        marker = None
        if scene.mode == "warp" and scene.warp_state is not None:
            marker = scene.warp_state["target"]
        elif scene.n_classes:
            marker = scene.centroids[scene.selected_class]
        tick = (int(scene.clock * MINIMAP_HZ), scene.tunnel, scene.mode, scene.selected_class, scene.tour is None)
        if tick == self._minimap_tick:  # the same radar: ~0.6 ms saved every other frame
            self.minimap.show(surface, mm.topleft)
            return
        self._minimap_tick = tick
        self.minimap.draw(surface, mm.topleft, scene.ship.position, camera.rotation, path_pts,
                          view_pts if scene.tunnel else None, marker)

    def _draw_caption(self, surface, scene: HudScene, field_count: int) -> None:
        """The compact HUD: one line in the bottom-left corner (model, view, flight mode)."""
        h = surface.get_height()
        view = f"tunnel · {scene.tunnel_look}" if scene.tunnel else f"field · {field_count} images"
        mode = {"autopilot": f"autopilot · {scene.tour_title()}", "warp": "warp"}.get(scene.mode, "manual flight")
        text = f"LATENT ODYSSEY  ·  {scene.meta.name}  ·  {view}  ·  {mode}"
        self._text(surface, ui.fit_text(text, CAPTION_PX, surface.get_width() - 16), (8, h - 8),
                   CAPTION_PX, ui.DIM, "bottomleft")

    def _draw_reticle(self, surface, scene: HudScene, camera: Camera, u: float) -> None:
        w, h = surface.get_size()
        cx, cy = w // 2, h // 2
        col = (110, 150, 210)
        r = int(30 * u)
        for a0 in (0.25, 1.82, 3.39, 4.96):
            rect = pygame.Rect(cx - r, cy - r, 2 * r, 2 * r)
            pygame.draw.arc(surface, col, rect, a0, a0 + 1.0, 1)
        pygame.draw.line(surface, col, (cx - r - int(10 * u), cy), (cx - r - int(3 * u), cy))
        pygame.draw.line(surface, col, (cx + r + int(3 * u), cy), (cx + r + int(10 * u), cy))
        # flight path marker: where the velocity points
        v = scene.velocity @ camera.rotation
        if math.hypot(*v) > 1e-3 and v[2] > 1e-6:
            f = focal_px(h)
            px, py = cx + f * v[0] / v[2], cy - f * v[1] / v[2]
            if abs(px - cx) < w / 2 and abs(py - cy) < h / 2:
                c2 = (120, 255, 170)
                pygame.draw.circle(surface, c2, (int(px), int(py)), int(6 * u), 1)
                pygame.draw.line(surface, c2, (px - 12 * u, py), (px - 6 * u, py))
                pygame.draw.line(surface, c2, (px + 6 * u, py), (px + 12 * u, py))
                pygame.draw.line(surface, c2, (px, py - 6 * u), (px, py - 11 * u))

    def _draw_grid(self, surface, scene: HudScene, images: list[np.ndarray], u: float, m: int) -> None:
        """The 3x3 neighbour images in the bottom-left corner (the centre one outlined)."""
        w, h = surface.get_size()
        cell = int(GRID_CELL * u)
        gap = max(2, int(4 * u))
        size = 3 * cell + 2 * gap
        rect = pygame.Rect(m, h - m - size, size, size)
        self._panel(surface, rect.inflate(int(12 * u), int(34 * u)).move(0, -int(11 * u)))
        self._text(surface, "NEIGHBOURS", (rect.x, rect.y - int(22 * u)), int(13 * u), ui.DIM)
        self._text(surface, f"right / up ± {scene.spacing:.3f}", (rect.right, rect.y - int(22 * u)),
                   int(13 * u), ui.DIM, "topright")
        key = (cell, scene.rail_serial)
        cached = self._grid_cache
        # the decoder hands back the same arrays for cached images: rescale only on a change
        if (cached is None or cached[0] != key or len(cached[1]) != len(images)
                or any(a is not b for a, b in zip(cached[1], images, strict=False))):
            made = [self.image_surface(img, (cell, cell)) for img in images]
            self._grid_cache = (key, list(images), [m[0] for m in made], [m[1] for m in made])
        elif not all(cached[3]):  # stand-ins: the crisp cells may have come meanwhile
            for i, img in enumerate(images):
                if not cached[3][i]:
                    cached[2][i], cached[3][i] = self.image_surface(img, (cell, cell))
        for i, s in enumerate(self._grid_cache[2]):
            r, c = divmod(i, 3)
            pos = (rect.x + c * (cell + gap), rect.y + r * (cell + gap))
            surface.blit(s, pos)
            self.grid_rects.append(pygame.Rect(pos, (cell, cell)))
            if i == 4:
                pygame.draw.rect(surface, ui.ACCENT, (*pos, cell, cell), width=2)
            else:
                pygame.draw.rect(surface, (50, 64, 100), (*pos, cell, cell), width=1)
