"""The Navigator: a 2-D map of latent space beside the decoded image.

Controls (named actions and axes; rebind them in assets/controls.toml, see F1 in game):

* ``move_x`` / ``move_y`` (WASD, arrows, left stick): move the cursor; the speed is a fixed
  fraction of the visible map per second, so it slows down as you zoom in.
* Left click / drag on the map (mouse ``mark``): put the cursor there. A click on an
  interpolation thumbnail jumps to that frame.
* ``zoom_in`` / ``zoom_out`` (= / -, mouse wheel, D-pad up/down): zoom the map around the
  cursor (around the pointer when zooming with the wheel over the map).
* ``random`` (R / Y): glide to a random point drawn from the prior N(0, I).
* ``class_0`` .. ``class_9``, ``class_next`` / ``class_prev`` (0-9, Tab / `, shoulders):
  select a class and glide to its centroid (eased, ``GLIDE_S``).
* ``morph`` (G / B): toggle a slow drift toward the selected class (exponential approach,
  time constant ``MORPH_TAU_S``); while it is on, choosing a class retargets the drift.
* ``mark`` (Space / A): mark the cursor as A, then B (a third mark starts again at A).
* ``interpolate`` (I / X): show ``STRIP_FRAMES`` decoded frames from A to B, linear and
  spherical (slerp about the origin) as two rows, draw both paths on the map and ride the
  cursor along one of them. Without marks it runs from the previous to the selected class;
  with only A it runs from A to the cursor. Press again to hide.
* ``slerp_toggle`` (L): ride along the other path. ``smooth_toggle`` (N): smooth or nearest
  image scaling. ``grid`` (Y key): tile decoded samples under the map.

Models with more than two latent dimensions are shown in the two dimensions of highest
spread (``meta.latent_std``); the others stay at their mean (``meta.latent_mean``).

Drawing is cheap: the point cloud is pre-rendered onto a layer three map-sizes wide that is
re-rendered only after zooming, resizing or panning far, and all images a frame needs (cursor,
interpolation strip, grid tiles) are decoded in one batched ``decode_batch`` call.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.input import InputState
from latent_odyssey.game.engine.scene import GameContext, ModeScene, state_array, worded_help_rows
from latent_odyssey.game.engine.ui import LINEAR_COLOUR, SLERP_COLOUR
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.model.morph import ease_in_out, lerp, slerp

MOVE_VIEWS_PER_S = 0.3  # cursor speed at full stick, in visible map widths per second
GLIDE_S = 0.6  # glide to a class centroid
RANDOM_GLIDE_S = 0.35  # glide to a random point
MORPH_TAU_S = 1.1  # time constant of the morph drift (63 % of the way per tau)
MORPH_DONE_FRAC = 0.004  # morph stops within this fraction of the map span of its target
RIDE_S = 2.4  # ride along an interpolation path
ZOOM_STEP = 1.25  # zoom factor per press / wheel notch
ZOOM_MIN, ZOOM_MAX = 0.5, 64.0
FIT_MARGIN = 1.25  # the populated box fills 1 / FIT_MARGIN of the map at zoom 1
FOLLOW_MARGIN_FRAC = 0.12  # the view pans to keep the cursor this far inside the map
TRAIL_S = 2.5  # seconds of cursor trail
TRAIL_SAMPLE_S = 1 / 30  # the trail records the cursor at most this often
TRAIL_POINTS = 80
STRIP_FRAMES = 9  # frames per interpolation row
PATH_POINTS = 48  # polyline points per interpolation path on the map
GRID_CELLS = 12  # decoded grid tiles across the map width
LAYER_FACTOR = 3  # the point-cloud layer is this many map sizes wide and high

MAP_BG = (16, 19, 32)
GRID_MINOR = (26, 31, 50)
GRID_AXIS = (48, 56, 86)
MARK_COLOUR = (245, 245, 255)

# (action or axis, what it does in the Navigator) for the help overlay, in reading order
HELP_TEXT = (
    ("move_x", "Move the cursor left / right"),
    ("move_y", "Move the cursor down / up"),
    ("zoom_in", "Zoom in"),
    ("zoom_out", "Zoom out"),
    ("random", "Glide to a random point"),
    ("class_next", "Next class"),
    ("class_prev", "Previous class"),
    ("morph", "Drift toward the selected class"),
    ("mark", "Mark this point as A, then B"),
    ("interpolate", "Interpolate from A to B"),
    ("slerp_toggle", "Ride the linear / spherical path"),
    ("smooth_toggle", "Smooth / crisp image scaling"),
    ("grid", "Decoded images under the map"),
)


@dataclass
class Layout:
    """Screen rectangles for one window size, and ``k``, the UI scale (1 at 1280x720)."""

    size: tuple[int, int]
    k: float
    header: pygame.Rect
    map: pygame.Rect
    image: pygame.Rect
    info: pygame.Rect
    strip: pygame.Rect

    @classmethod
    def for_size(cls, w: int, h: int) -> Layout:
        k = max(0.72, min(1.6, w / 1280, h / 720))
        pad = max(8, round(16 * k))
        header_h = round(52 * k)
        top = header_h + pad // 2
        body_h = max(100, h - top - pad)
        map_w = max(120, int((w - 3 * pad) * 0.52))
        map_rect = pygame.Rect(pad, top, map_w, body_h)
        rx = map_rect.right + pad
        rw = max(120, w - rx - pad)
        info_min = round(190 * k)
        s = max(64, min(int(rw * 0.63), int(body_h * 0.56), rw - pad - info_min))
        image = pygame.Rect(rx, top, s, s)
        info = pygame.Rect(image.right + pad, top, max(60, rw - s - pad), s)
        strip_top = image.bottom + pad
        strip = pygame.Rect(rx, strip_top, rw, max(60, h - strip_top - pad))
        return cls((w, h), k, pygame.Rect(0, 0, w, header_h), map_rect, image, info, strip)


@dataclass
class Strip:
    """An interpolation between a and b: STRIP_FRAMES latents per row and the map paths."""

    a: np.ndarray  # (D,)
    b: np.ndarray  # (D,)
    label: str
    lin_z: np.ndarray  # (N, D)
    slerp_z: np.ndarray  # (N, D)
    images: list[np.ndarray] | None = None  # 2N uint8 (H, W, 3): linear row, then slerp row
    surface: pygame.Surface | None = None  # rendered thumbnails (cached per size / smoothing)
    surface_key: tuple | None = None


class NavigatorScene(ModeScene):
    """The 2-D latent map (left), the decoded image (right), interpolation strips below."""

    name = "navigator"
    title = "Navigator"
    fills_screen = True  # the chrome layer covers the window

    @classmethod
    def help_rows(cls, inp: InputState) -> list[tuple[str, str, str]]:
        """(what, keys, controller) rows for the help overlay, with Navigator wording."""
        known = set(inp.map.actions) | set(inp.map.axes)
        classes = [f"class_{i}" for i in range(10) if f"class_{i}" in known]
        firsts = [r[1].split(", ")[0] for r in inp.bindings_text(classes)]
        keys = "0-9" if firsts == [str(i) for i in range(10)] else " ".join(f for f in firsts if f)
        return worded_help_rows(inp, HELP_TEXT, {
            "move_y": [("Put the cursor there", "Left Click / drag on the map", "")],
            "random": [("Glide to class 0-9", keys, "")],
        })

    @classmethod
    def supports(cls, meta: ModelMeta) -> str | None:
        """None when the model can be shown, else the reason why not."""
        if meta.latent_dim < 2:
            return f"The Navigator needs a latent space of at least 2 dimensions; {meta.name} has {meta.latent_dim}."
        return None

    def latent(self) -> np.ndarray:
        """The full latent on screen.  # (D,)"""
        return np.asarray(self.z, np.float64).copy()

    def snapshot(self) -> dict:
        """The cursor's latent, the map's view and zoom, the grid and the selected class."""
        return {
            "z": self.latent().tolist(), "view": self.view.tolist(), "zoom": float(self.zoom),
            "show_grid": self.show_grid, "selected": self.selected,
            "dims": [int(d) for d in self.dims], **self.view_settings(),
        }

    def restore(self, state: dict, dt: float = 0.0) -> None:
        """Put the cursor, view, zoom and toggles where ``state`` says (glides and morphs stop:
        the replay drives the cursor)."""
        self.restore_view_settings(state)
        z = state_array(state, "z", self.meta.latent_dim)
        if z is not None:
            self.z = z.copy()
            self.glide = None
            self.morphing = False
        view = state_array(state, "view", 2)
        if view is not None:
            self.view = view.copy()
        if isinstance(state.get("zoom"), (int, float)) and state["zoom"] > 0:
            self.zoom = float(state["zoom"])
        if isinstance(state.get("show_grid"), bool):
            self.show_grid = state["show_grid"]
        if isinstance(state.get("selected"), int) and 0 <= state["selected"] < len(self.class_names):
            self.selected = state["selected"]

    # ------------------------------------------------------------------ setup

    def enter(self, ctx: GameContext) -> None:
        super().enter(ctx)
        meta = self.meta
        self.rng = np.random.default_rng(ctx.seed)
        d = meta.latent_dim
        if d == 2:
            self.dims = (0, 1)
        else:
            order = np.argsort(-np.asarray(meta.latent_std, np.float64), kind="stable")
            self.dims = (int(order[0]), int(order[1]))
        self.mean = np.asarray(meta.latent_mean, np.float64)  # (D,)
        lo, hi = meta.bounds()
        ix = list(self.dims)
        self.lo2 = lo[ix].astype(np.float64)  # (2,)
        self.hi2 = hi[ix].astype(np.float64)
        self.span2 = np.maximum(self.hi2 - self.lo2, 1e-3)
        self.clamp_lo = np.minimum(self.lo2, -4.0) - 0.5 * self.span2
        self.clamp_hi = np.maximum(self.hi2, 4.0) + 0.5 * self.span2
        self.centroids = meta.centroid_array().astype(np.float64)  # (K, D)
        self.class_names = list(meta.class_names)
        pts, labels = meta.sample_array()
        self.points2 = pts[:, ix].astype(np.float64) if len(pts) else np.zeros((0, 2))  # (M, 2)
        self.labels = labels
        k = len(self.class_names)
        self.selected: int | None = 0 if k else None
        self.prev_selected: int | None = None
        self.z = self.project(self.centroids[0]) if k else self.mean.copy()  # (D,)
        self.view = (self.lo2 + self.hi2) / 2  # (2,) latent at the map centre
        self.zoom = 1.0
        self.t = 0.0
        self.glide: tuple[np.ndarray, np.ndarray, float, float] | None = None  # start, end, t0, dur
        self.morphing = False
        self.marks: list[np.ndarray] = []
        self.strip: Strip | None = None
        self.follow_slerp = False
        self.ride_t0: float | None = None
        self.show_grid = False
        self.trail: deque[tuple[float, float, float]] = deque(maxlen=TRAIL_POINTS)
        self._move = (0.0, 0.0)
        self._dragging = False
        self.layout: Layout | None = None
        self._fit = 1.0  # pixels per latent unit at zoom 1 (set with the layout)
        self._chrome: pygame.Surface | None = None
        self._chrome_key: tuple | None = None
        self._layer: pygame.Surface | None = None
        self._layer_key: tuple | None = None
        self._layer_center = self.view.copy()
        self._grid: pygame.Surface | None = None
        self._grid_key: tuple | None = None
        self._grid_cells = (0, 0, 0, 0)  # first tile i, first tile j, columns, rows
        self._grid_g = 1.0
        self._grid_pending: tuple | None = None
        self._legend: pygame.Surface | None = None
        self._legend_key: tuple | None = None
        self._image: np.ndarray | None = None
        self._image_scaled: pygame.Surface | None = None
        self._image_key: tuple | None = None
        self._image_src: np.ndarray | None = None
        self._dot_cache: dict[tuple[int, int], pygame.Surface] = {}
        self._pills: dict[tuple, pygame.Surface] = {}

    # ------------------------------------------------------------------ geometry

    def project(self, z: np.ndarray) -> np.ndarray:
        """A latent with the hidden dimensions set to their mean.  # (D,) -> (D,)"""
        out = self.mean.copy()
        ix = list(self.dims)
        out[ix] = np.asarray(z, np.float64)[ix]
        return out

    @property
    def position(self) -> np.ndarray:
        """The cursor in the two shown dimensions.  # (2,)"""
        return self.z[list(self.dims)].copy()

    def _fit_scale(self, rect: pygame.Rect) -> float:
        """Pixels per latent unit at zoom 1."""
        return float(min(rect.width / (self.span2[0] * FIT_MARGIN), rect.height / (self.span2[1] * FIT_MARGIN)))

    @property
    def map_rect(self) -> pygame.Rect:
        return self.layout.map if self.layout else pygame.Rect(0, 0, 1, 1)

    @property
    def k(self) -> float:
        """UI scale: 1 at 1280x720."""
        return self.layout.k if self.layout else 1.0

    def fs(self, px: float) -> int:
        """A font size scaled with the window."""
        return max(10, round(px * self.k))

    @property
    def scale(self) -> float:
        """Pixels per latent unit now."""
        return self._fit * self.zoom

    def latent_to_screen(self, p: np.ndarray) -> tuple[float, float]:
        """(2,) latent (shown dims) -> window pixel."""
        r, s = self.map_rect, self.scale
        return (r.centerx + (p[0] - self.view[0]) * s, r.centery - (p[1] - self.view[1]) * s)

    def screen_to_latent(self, px: float, py: float) -> np.ndarray:
        """Window pixel -> (2,) latent (shown dims)."""
        r, s = self.map_rect, self.scale
        return np.array([self.view[0] + (px - r.centerx) / s, self.view[1] - (py - r.centery) / s])

    def set_position(self, p2: np.ndarray) -> None:
        """Put the cursor at (2,) latent coordinates of the shown dimensions."""
        z = self.z.copy()
        z[list(self.dims)] = np.clip(p2, self.clamp_lo, self.clamp_hi)
        self.z = z

    # ------------------------------------------------------------------ input

    def handle(self, inp: InputState) -> None:
        ctx = self.ctx
        self._move = (inp.axis("move_x"), inp.axis("move_y"))
        if self._move != (0.0, 0.0):
            self.glide = None
            self.ride_t0 = None
        pointer = inp.pointer
        on_map = pointer is not None and self.layout is not None and self.layout.map.collidepoint(pointer)
        mouse = inp.last_device == "mouse"

        if inp.pressed("zoom_in") or inp.pressed("zoom_out"):
            factor = ZOOM_STEP if inp.pressed("zoom_in") else 1 / ZOOM_STEP
            anchor = self.screen_to_latent(*pointer) if (mouse and on_map) else self.position
            self.zoom_by(factor, anchor)

        if inp.pressed("mark"):
            if mouse and pointer is not None:
                if on_map:
                    self._dragging = True
                    self.glide = None
                    self.ride_t0 = None
                    self.set_position(self.screen_to_latent(*pointer))
                else:
                    self._click_strip(pointer)
            else:
                self.mark()
        elif self._dragging:
            if inp.held("mark") and pointer is not None:
                r = self.map_rect
                px = min(max(pointer[0], r.left), r.right - 1)
                py = min(max(pointer[1], r.top), r.bottom - 1)
                self.set_position(self.screen_to_latent(px, py))
            else:
                self._dragging = False

        if inp.pressed("random"):
            target = self.project(self.rng.standard_normal(self.meta.latent_dim))
            self.start_glide(target, RANDOM_GLIDE_S)
        k = len(self.class_names)
        for i in range(10):
            if inp.pressed(f"class_{i}"):
                if i < k:
                    self.select_class(i)
                elif k:
                    ctx.notify(f"{self.meta.name} has classes 0-{k - 1} only.")
                else:
                    ctx.notify(f"{self.meta.name} has no classes.")
        if k and inp.pressed("class_next"):
            self.select_class(((self.selected if self.selected is not None else -1) + 1) % k)
        if k and inp.pressed("class_prev"):
            self.select_class(((self.selected if self.selected is not None else 0) - 1) % k)
        if inp.pressed("morph"):
            if self.selected is None:
                ctx.notify("Morph needs a model with classes.")
            elif not self.morphing and self._morph_distance() < MORPH_DONE_FRAC * float(self.span2.max()):
                ctx.notify(f"Already at {self.class_label(self.selected)}: pick another class to morph to")
            else:
                self.morphing = not self.morphing
                self.glide = None
                ctx.notify(f"Morphing toward {self.class_label(self.selected)}" if self.morphing else "Morph off")
        if inp.pressed("interpolate"):
            self.toggle_interpolation()
        if inp.pressed("slerp_toggle"):
            self.follow_slerp = not self.follow_slerp
            ctx.notify("Riding the spherical path (slerp)" if self.follow_slerp else "Riding the linear path")
            if self.strip is not None:
                self.ride_t0 = self.t
        if inp.pressed("smooth_toggle"):
            self.toggle_smooth()
        if inp.pressed("grid"):
            self.show_grid = not self.show_grid
            ctx.notify("Decoded grid on" if self.show_grid else "Decoded grid off")

    def _morph_distance(self) -> float:
        """Distance (shown dims) from the cursor to the selected class centroid."""
        target = self.project(self.centroids[self.selected])
        return float(np.linalg.norm((target - self.z)[list(self.dims)]))

    def class_label(self, k: int) -> str:
        return f"class {self.class_names[k]}" if self.class_names[k].isdigit() else self.class_names[k]

    def zoom_by(self, factor: float, anchor: np.ndarray) -> None:
        """Zoom by ``factor`` keeping the latent point ``anchor`` (2,) fixed on screen."""
        new = float(min(ZOOM_MAX, max(ZOOM_MIN, self.zoom * factor)))
        if new == self.zoom:
            return
        self.view = anchor + (self.view - anchor) * (self.zoom / new)
        self.zoom = new

    def start_glide(self, target: np.ndarray, duration: float) -> None:
        self.ride_t0 = None
        self.glide = (self.z.copy(), np.asarray(target, np.float64).copy(), self.t, duration)

    def select_class(self, k: int) -> None:
        if k != self.selected:
            self.prev_selected = self.selected
        self.selected = k
        if self.morphing:
            self.ctx.notify(f"Morphing toward {self.class_label(k)}")
        else:
            self.start_glide(self.project(self.centroids[k]), GLIDE_S)

    def mark(self) -> None:
        if len(self.marks) >= 2:
            self.marks = []
        self.marks.append(self.z.copy())
        if len(self.marks) == 1:
            self.ctx.notify("Marked A  ·  Space marks B, I interpolates")
        else:
            self.ctx.notify("Marked B  ·  I interpolates from A to B")

    def toggle_interpolation(self) -> None:
        if self.strip is not None:
            self.strip = None
            self.ride_t0 = None
            return
        if len(self.marks) == 2:
            a, b, label = self.marks[0], self.marks[1], "A to B"
        elif len(self.marks) == 1:
            a, b, label = self.marks[0], self.z.copy(), "A to cursor"
        elif self.selected is not None and self.prev_selected is not None and self.prev_selected != self.selected:
            a = self.project(self.centroids[self.prev_selected])
            b = self.project(self.centroids[self.selected])
            label = f"{self.class_names[self.prev_selected]} to {self.class_names[self.selected]}"
        else:
            self.ctx.notify("Mark two points with Space (or pick two classes) to interpolate")
            return
        if np.allclose(a, b, atol=1e-6):
            self.ctx.notify("A and B are the same point: move, then mark B")
            return
        ts = np.linspace(0.0, 1.0, STRIP_FRAMES)
        self.strip = Strip(a=a, b=b, label=label, lin_z=lerp(a, b, ts), slerp_z=slerp(a, b, ts))
        self.glide = None
        self.ride_t0 = self.t

    def _click_strip(self, pointer: tuple[int, int]) -> None:
        if self.strip is None or self.layout is None:
            return
        for row, zs in enumerate((self.strip.lin_z, self.strip.slerp_z)):
            for i, rect in enumerate(self._thumb_rects(self.layout.strip)[row]):
                if rect.collidepoint(pointer):
                    self.start_glide(zs[i], RANDOM_GLIDE_S)
                    return

    # ------------------------------------------------------------------ simulation

    def path_point(self, u: float) -> np.ndarray:
        """The ride position at u in [0, 1] along the followed path.  # (D,)"""
        s = self.strip
        fn = slerp if self.follow_slerp else lerp
        return fn(s.a, s.b, np.array([u]))[0]

    def update(self, dt: float) -> None:
        self.t += dt
        mx, my = self._move
        if mx or my:
            speed = MOVE_VIEWS_PER_S * self.map_rect.width / max(self.scale, 1e-9)
            self.set_position(self.position + np.array([mx, my]) * speed * dt)
        elif self.ride_t0 is not None and self.strip is not None:
            u = (self.t - self.ride_t0) / RIDE_S
            self.z = self.path_point(ease_in_out(u))
            if u >= 1.0:
                self.ride_t0 = None
        elif self.glide is not None:
            start, end, t0, dur = self.glide
            u = (self.t - t0) / dur
            self.z = start + (end - start) * ease_in_out(u)
            if u >= 1.0:
                self.z = end.copy()
                self.glide = None
        if self.morphing and self.glide is None and self.selected is not None and not self._dragging:
            target = self.project(self.centroids[self.selected])
            self.z = self.z + (target - self.z) * (1.0 - math.exp(-dt / MORPH_TAU_S))
            if self._morph_distance() < MORPH_DONE_FRAC * float(self.span2.max()):
                self.z = target
                self.morphing = False
                self.ctx.notify(f"Arrived at {self.class_label(self.selected)}")
        p = self.position
        if not self.trail or (
            self.t - self.trail[-1][2] >= TRAIL_SAMPLE_S - 1e-9
            and abs(self.trail[-1][0] - p[0]) + abs(self.trail[-1][1] - p[1]) > 1e-9
        ):
            self.trail.append((float(p[0]), float(p[1]), self.t))
        self._follow()

    def _follow(self) -> None:
        """Pan the view so the cursor stays inside the map."""
        if self.layout is None:
            return
        r, s = self.map_rect, self.scale
        half = np.array([r.width, r.height]) / (2 * s) * (1 - 2 * FOLLOW_MARGIN_FRAC)  # (2,) latent
        off = self.position - self.view
        self.view = self.view + np.where(off > half, off - half, 0) + np.where(off < -half, off + half, 0)

    # ------------------------------------------------------------------ decoding

    def nearest_class(self) -> tuple[int, float] | None:
        if not len(self.centroids):
            return None
        d = np.linalg.norm(self.centroids - self.z[None], axis=1)  # (K,)
        k = int(np.argmin(d))
        return k, float(d[k])

    def _decode(self, need_grid: list[np.ndarray] | None) -> list[np.ndarray] | None:
        """One batched decode for the cursor (+ strip frames + grid tiles when needed)."""
        batch = [self.z[None]]
        strip_new = self.strip is not None and self.strip.images is None
        if strip_new:
            batch += [self.strip.lin_z, self.strip.slerp_z]
        if need_grid:
            batch.append(np.stack(need_grid))
        images = self.decoder.decode_batch(np.concatenate(batch, axis=0))  # one run at most
        self._image = images[0]
        if strip_new:
            self.strip.images = images[1 : 1 + 2 * STRIP_FRAMES]
        return images[1 + (2 * STRIP_FRAMES if strip_new else 0):] if need_grid else None

    # ------------------------------------------------------------------ drawing

    def draw(self, surface: pygame.Surface) -> None:
        w, h = surface.get_size()
        if self.layout is None or self.layout.size != (w, h):
            self.layout = Layout.for_size(w, h)
            self._fit = self._fit_scale(self.layout.map)
            self._follow()
        grid_zs = self._grid_plan() if self.show_grid else None
        grid_images = self._decode(grid_zs)
        surface.blit(self._chrome_surface(), (0, 0))
        self._draw_map(surface, grid_images)
        self._draw_header(surface)
        self._draw_image(surface)
        self._draw_info(surface)
        self._draw_strip(surface)

    # ----- cached static layers

    def _chrome_surface(self) -> pygame.Surface:
        lay = self.layout
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

    def _grid_spacing(self) -> float:
        """Latent units between grid lines: a 1-2-5 step giving >= 56 px."""
        s = self.scale
        for base in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50):
            if base * s >= 56:
                return float(base)
        return 100.0

    def _layer_surface(self) -> tuple[pygame.Surface, tuple[int, int]]:
        """The point-cloud layer and the top-left of the map inside it (re-rendered lazily)."""
        r = self.map_rect
        s = self.scale
        transparent = self.show_grid
        key = (r.size, round(s, 6), transparent)
        off = (self.view - self._layer_center) * s
        if (
            self._layer is None or self._layer_key != key
            or abs(off[0]) > r.width * 0.95 or abs(off[1]) > r.height * 0.95
        ):
            self._render_layer(key, transparent)
            off = np.zeros(2)
        lw, lh = self._layer.get_size()
        x = int(round((lw - r.width) / 2 + off[0]))
        y = int(round((lh - r.height) / 2 - off[1]))
        return self._layer, (x, y)

    def _render_layer(self, key: tuple, transparent: bool) -> None:
        r = self.map_rect
        s = self.scale
        lw, lh = r.width * LAYER_FACTOR, r.height * LAYER_FACTOR
        layer = pygame.Surface((lw, lh), pygame.SRCALPHA if transparent else 0)
        layer.fill((0, 0, 0, 0) if transparent else MAP_BG)
        c = self.view.copy()
        self._layer_center = c

        def to_layer(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return lw / 2 + (x - c[0]) * s, lh / 2 - (y - c[1]) * s

        # grid lines at a 1-2-5 spacing, the axes through 0 brighter
        g = self._grid_spacing()
        x0, x1 = c[0] - lw / (2 * s), c[0] + lw / (2 * s)
        y0, y1 = c[1] - lh / (2 * s), c[1] + lh / (2 * s)
        for v in np.arange(math.floor(x0 / g) * g, x1 + g, g):
            px = float(to_layer(np.array(v), np.array(0.0))[0])
            colour = GRID_AXIS if abs(v) < g * 1e-6 else GRID_MINOR
            pygame.draw.line(layer, colour, (px, 0), (px, lh))
        for v in np.arange(math.floor(y0 / g) * g, y1 + g, g):
            py = float(to_layer(np.array(0.0), np.array(v))[1])
            colour = GRID_AXIS if abs(v) < g * 1e-6 else GRID_MINOR
            pygame.draw.line(layer, colour, (0, py), (lw, py))
        # the encoded sample, coloured by class
        if len(self.points2):
            radius = int(min(5, max(2, round((2.0 + 0.6 * math.log2(max(self.zoom, 1.0))) * self.k))))
            lx, ly = to_layer(self.points2[:, 0], self.points2[:, 1])
            inside = (lx >= -radius) & (lx < lw + radius) & (ly >= -radius) & (ly < lh + radius)
            seq = [
                (self._dot(int(lab), radius), (int(px) - radius, int(py) - radius))
                for px, py, lab in zip(lx[inside], ly[inside], self.labels[inside], strict=True)
            ]
            layer.blits(seq, doreturn=False)
        # class centroids, labelled
        if len(self.centroids):
            cen = self.centroids[:, list(self.dims)]
            cx, cy = to_layer(cen[:, 0], cen[:, 1])
            rad = round(11 * self.k)
            for k, (px, py) in enumerate(zip(cx, cy, strict=True)):
                col = ui.class_colour(k)
                pygame.draw.circle(layer, (8, 10, 18), (int(px), int(py)), rad)
                pygame.draw.circle(layer, col, (int(px), int(py)), rad, width=2)
                label = ui.fit_text(self.class_names[k], self.fs(12), 2 * rad - 4, bold=True)
                ui.text(layer, label, (int(px), int(py) + 1), size=self.fs(12), color=ui.FG, anchor="center", bold=True)
        self._layer, self._layer_key = layer, key

    def _grid_plan(self) -> list[np.ndarray] | None:
        """Latents to decode when the grid layer must be re-rendered, else None.

        Tile (i, j) covers latent [i g, (i + 1) g) x [j g, (j + 1) g) of the shown dims, with
        g = map width / GRID_CELLS; the layer holds the visible tiles plus two on each side,
        so panning re-renders it only every few tiles (and the decoder cache keeps the rest).
        """
        r = self.map_rect
        s = self.scale
        g = r.width / s / GRID_CELLS  # latent units per tile
        tile_px = max(4, int(round(g * s)))
        xl, yb = self.screen_to_latent(r.left, r.bottom)
        xr, yt = self.screen_to_latent(r.right, r.top)
        vi0, vi1 = math.floor(xl / g), math.floor(xr / g)
        vj0, vj1 = math.floor(yb / g), math.floor(yt / g)
        key = (r.size, round(g, 9), self.ctx.smooth)
        if self._grid is not None and self._grid_key == key:
            gi0, gj0, ncols, nrows = self._grid_cells
            if gi0 <= vi0 and vi1 < gi0 + ncols and gj0 <= vj0 and vj1 < gj0 + nrows:
                return None
        gi0, gj0 = vi0 - 2, vj0 - 2
        ncols, nrows = vi1 - vi0 + 5, vj1 - vj0 + 5
        ii, jj = np.meshgrid(np.arange(ncols), np.arange(nrows)[::-1])  # row 0 = top = highest j
        zs = np.repeat(self.mean[None], ncols * nrows, axis=0)  # (T, D)
        zs[:, self.dims[0]] = (gi0 + ii.ravel() + 0.5) * g
        zs[:, self.dims[1]] = (gj0 + jj.ravel() + 0.5) * g
        self._grid_pending = (key, g, tile_px, (gi0, gj0, ncols, nrows))
        return list(zs)

    def _render_grid(self, images: list[np.ndarray]) -> None:
        key, g, tile_px, cells = self._grid_pending
        _gi0, _gj0, ncols, nrows = cells
        layer = pygame.Surface((ncols * tile_px, nrows * tile_px))
        layer.fill(MAP_BG)
        scale_fn = pygame.transform.smoothscale if self.ctx.smooth else pygame.transform.scale
        for n, img in enumerate(images):
            row, col = divmod(n, ncols)
            tile = scale_fn(ui.image_surface(img), (tile_px, tile_px))
            tile.set_alpha(120)
            layer.blit(tile, (col * tile_px, row * tile_px))
        self._grid, self._grid_key, self._grid_g, self._grid_cells = layer, key, g, cells

    def _draw_map(self, surface: pygame.Surface, grid_images: list[np.ndarray] | None) -> None:
        r = self.map_rect
        clip = surface.get_clip()
        surface.set_clip(r)
        if self.show_grid:
            if grid_images is not None:
                self._render_grid(grid_images)
            if self._grid is not None:
                g = self._grid_g
                gi0, gj0, _ncols, nrows = self._grid_cells
                px, py = self.latent_to_screen(np.array([gi0 * g, (gj0 + nrows) * g]))
                surface.fill(MAP_BG, r)
                surface.blit(self._grid, (int(round(px)), int(round(py))))
        layer, (lx, ly) = self._layer_surface()
        surface.blit(layer, r.topleft, pygame.Rect(lx, ly, r.width, r.height))
        self._draw_axis_labels(surface)
        self._draw_trail(surface)
        if self.strip is not None:
            self._draw_paths(surface)
        rad = round(9 * self.k)
        for i, m in enumerate(self.marks):
            px, py = self.latent_to_screen(m[list(self.dims)])
            pygame.draw.circle(surface, (8, 10, 18), (int(px), int(py)), rad)
            pygame.draw.circle(surface, MARK_COLOUR, (int(px), int(py)), rad, width=2)
            ui.text(surface, "AB"[i], (int(px), int(py) + 1), size=self.fs(12), color=MARK_COLOUR, anchor="center", bold=True)
        self._draw_crosshair(surface)
        surface.set_clip(clip)
        self._draw_legend(surface)
        m = round(10 * self.k)
        title = f"LATENT MAP   ·   x = z{self.dims[0]}   y = z{self.dims[1]}"
        pill = self._pill(title, self.fs(13), ui.DIM, bold=True)
        surface.blit(pill, (r.left + m, r.top + m))
        foot = f"zoom ×{self.zoom:.2f}"
        if self.meta.latent_dim > 2:
            n = self.meta.latent_dim - 2
            foot += f"   ·   {n} more dim{'s' if n > 1 else ''} held at {'their' if n > 1 else 'its'} mean"
        pill = self._pill(foot, self.fs(13), ui.DIM)
        surface.blit(pill, pill.get_rect(bottomleft=(r.left + m, r.bottom - m)))

    def _pill(self, text: str, size: int, colour: tuple[int, int, int], bold: bool = False) -> pygame.Surface:
        """A label on a translucent rounded backdrop, cached by its text."""
        key = (text, size, colour, bold)
        pill = self._pills.get(key)
        if pill is None:
            label = ui.text_surface(text, size, colour, bold)
            pad_x, pad_y = round(8 * self.k), round(4 * self.k)
            pill = pygame.Surface((label.get_width() + 2 * pad_x, label.get_height() + 2 * pad_y), pygame.SRCALPHA)
            pygame.draw.rect(pill, (*ui.PANEL, 210), pill.get_rect(), border_radius=6)
            pill.blit(label, (pad_x, pad_y))
            if len(self._pills) > 64:
                self._pills.clear()
            self._pills[key] = pill
        return pill

    def _draw_axis_labels(self, surface: pygame.Surface) -> None:
        """Grid values along the bottom and left edges of the map."""
        r = self.map_rect
        g = self._grid_spacing()
        lo = self.screen_to_latent(r.left, r.bottom)
        hi = self.screen_to_latent(r.right, r.top)
        fmt = "{:.0f}" if g >= 1 else ("{:.1f}" if g >= 0.1 else "{:.2f}")
        size = self.fs(11)
        edge = round(34 * self.k)
        for v in np.arange(math.ceil(lo[0] / g) * g, hi[0], g):
            px = r.centerx + (v - self.view[0]) * self.scale
            if r.left + edge < px < r.right - edge:
                ui.text(surface, fmt.format(v + 0.0), (int(px), r.bottom - edge + 4), size=size, color=GRID_AXIS, anchor="midbottom")
        for v in np.arange(math.ceil(lo[1] / g) * g, hi[1], g):
            py = r.centery - (v - self.view[1]) * self.scale
            if r.top + edge < py < r.bottom - edge - 6:
                ui.text(surface, fmt.format(v + 0.0), (r.left + 8, int(py) - 2), size=size, color=GRID_AXIS, anchor="bottomleft")

    def _draw_trail(self, surface: pygame.Surface) -> None:
        if len(self.trail) < 2:
            return
        pts = np.asarray(self.trail, np.float64)  # (N, 3): x, y, time
        fade = np.clip(1.0 - (self.t - pts[:, 2]) / TRAIL_S, 0.0, 1.0) ** 1.6  # (N,)
        r, s = self.map_rect, self.scale
        sx = r.centerx + (pts[:, 0] - self.view[0]) * s
        sy = r.centery - (pts[:, 1] - self.view[1]) * s
        bg, fg = np.array(MAP_BG, np.float64), np.array(ui.ACCENT, np.float64)
        colours = (bg + (fg - bg) * fade[:, None]).astype(int).tolist()
        xy = np.stack([sx, sy], axis=1).tolist()
        for i in range(1, len(xy)):
            if fade[i] > 0.02:
                pygame.draw.line(surface, colours[i], xy[i - 1], xy[i], 3 if fade[i] > 0.5 else 2)

    def _draw_paths(self, surface: pygame.Surface) -> None:
        s = self.strip
        ts = np.linspace(0.0, 1.0, PATH_POINTS)
        ix = list(self.dims)
        for zs, samples, colour, followed in (
            (lerp(s.a, s.b, ts), s.lin_z, LINEAR_COLOUR, not self.follow_slerp),
            (slerp(s.a, s.b, ts), s.slerp_z, SLERP_COLOUR, self.follow_slerp),
        ):
            pts = [self.latent_to_screen(p) for p in zs[:, ix]]
            width = 3 if followed else 2
            pygame.draw.lines(surface, (6, 8, 14), False, pts, width + 4)
            pygame.draw.lines(surface, colour if followed else ui.mix(colour, MAP_BG, 0.25), False, pts, width)
            for p in samples[:, ix]:
                x, y = self.latent_to_screen(p)
                pygame.draw.circle(surface, (6, 8, 14), (int(x), int(y)), 6 if followed else 5)
                pygame.draw.circle(surface, colour, (int(x), int(y)), 4 if followed else 3)

    def _draw_crosshair(self, surface: pygame.Surface) -> None:
        r = self.map_rect
        x, y = self.latent_to_screen(self.position)
        xi, yi = int(round(x)), int(round(y))
        guide = (58, 62, 90)
        pygame.draw.line(surface, guide, (r.left, yi), (r.right, yi))
        pygame.draw.line(surface, guide, (xi, r.top), (xi, r.bottom))
        col = ui.ACCENT
        k = self.k
        ring, inner, arm = round(11 * k), round(5 * k), round(18 * k)
        width = 2 if k < 1.3 else 3
        pygame.draw.circle(surface, (8, 10, 18), (xi, yi), ring + 1, width=width + 2)
        pygame.draw.circle(surface, col, (xi, yi), ring, width=width)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            pygame.draw.line(surface, col, (xi + dx * inner, yi + dy * inner), (xi + dx * arm, yi + dy * arm), width)

    def _draw_legend(self, surface: pygame.Surface) -> None:
        if not self.class_names:
            return
        r = self.map_rect
        key = (self.selected, r.height, self.k)
        if self._legend is None or self._legend_key != key:
            size = self.fs(13)
            row = round(size * 1.45) if r.height >= 360 else size + 3
            names = [ui.fit_text(n, size, round(120 * self.k)) for n in self.class_names]
            wmax = max(ui.font(size, True).size(n)[0] for n in names)
            dot_x, text_x = round(15 * self.k), round(28 * self.k)
            lw, lh = wmax + text_x + 14, row * len(names) + 14
            leg = pygame.Surface((lw, lh), pygame.SRCALPHA)
            pygame.draw.rect(leg, (*ui.PANEL, 215), leg.get_rect(), border_radius=8)
            for k, n in enumerate(names):
                y = 7 + k * row
                sel = k == self.selected
                if sel:
                    pygame.draw.rect(leg, (*ui.ACCENT, 50), (3, y - 1, lw - 6, row), border_radius=5)
                pygame.draw.circle(leg, ui.class_colour(k), (dot_x, y + row // 2), max(3, round(5 * self.k)))
                ui.text(leg, n, (text_x, y + row // 2), size=size, color=ui.ACCENT if sel else ui.FG, anchor="midleft", bold=sel)
            self._legend, self._legend_key = leg, key
        m = round(10 * self.k)
        surface.blit(self._legend, self._legend.get_rect(topright=(r.right - m, r.top + m)))

    # ----- header and right-hand side

    def _draw_header(self, surface: pygame.Surface) -> None:
        lay = self.layout
        cy = lay.header.centery
        x = round(18 * self.k)
        rect = ui.text(surface, "LATENT ODYSSEY", (x, cy), size=self.fs(20), color=ui.ACCENT, anchor="midleft", bold=True)
        rect = ui.text(surface, "Navigator", (rect.right + round(12 * self.k), cy), size=self.fs(20), color=ui.FG, anchor="midleft")
        m = self.meta
        info = f"{m.name}   ·   {m.dataset}   ·   {m.latent_dim}-D latent   ·   {m.image_shape[2]}×{m.image_shape[1]}"
        left = rect.right + round(26 * self.k)
        room = lay.header.width - left - round(380 * self.k)  # the HUD readout sits on the right
        if room > 80:
            info = ui.fit_text(info, self.fs(14), room)
            ui.text(surface, info, (left, cy + 1), size=self.fs(14), color=ui.DIM, anchor="midleft")

    def _draw_image(self, surface: pygame.Surface) -> None:
        rect = self.layout.image
        if self._image is None:
            return
        key = (rect.size, self.ctx.smooth)
        if self._image_scaled is None or self._image_key != key or self._image_src is not self._image:
            img = ui.image_surface(self._image)
            fn = pygame.transform.smoothscale if self.ctx.smooth else pygame.transform.scale
            self._image_scaled = fn(img, rect.size)
            self._image_key = key
            self._image_src = self._image
        surface.blit(self._image_scaled, rect.topleft)
        pygame.draw.rect(surface, (60, 68, 100), rect.inflate(2, 2), width=1, border_radius=4)

    def _status(self) -> tuple[str, tuple[int, int, int]]:
        if self.morphing:
            return f"morphing to {self.class_names[self.selected]}", ui.ACCENT
        if self.ride_t0 is not None:
            return ("riding slerp", SLERP_COLOUR) if self.follow_slerp else ("riding linear", LINEAR_COLOUR)
        if self.glide is not None:
            return "gliding", ui.FG
        if self._move != (0.0, 0.0) or self._dragging:
            return "moving", ui.FG
        return "still", ui.DIM

    def _draw_info(self, surface: pygame.Surface) -> None:
        r = self.layout.info
        pad = round(14 * self.k)
        x, y = r.left + pad, r.top + round(12 * self.k)
        w = r.width - 2 * pad
        roomy = r.height >= 330 * self.k
        small = self.fs(13)
        big = self.fs(19 if roomy else 17)
        gap = round((14 if roomy else 8) * self.k)
        dot = max(4, round(6 * self.k))

        def label(s: str) -> None:
            nonlocal y
            ui.text(surface, s, (x, y), size=small, color=ui.DIM, bold=True)
            y += small + round(8 * self.k)

        def swatch_line(k: int, colour: tuple[int, int, int], right: str = "") -> None:
            nonlocal y
            pygame.draw.circle(surface, ui.class_colour(k), (x + dot, y + big // 2 + 2), dot)
            rw = ui.text(surface, right, (x + w, y + 3), size=small, color=ui.DIM, anchor="topright").width if right else 0
            name = ui.fit_text(self.class_names[k], big, w - 3 * dot - rw - 6)
            ui.text(surface, name, (x + 3 * dot, y), size=big, color=colour)
            y += big + round(6 * self.k) + gap

        label("POSITION")
        for d in self.dims:
            ui.text(surface, f"z{d}", (x, y), size=big, color=ui.DIM)
            ui.text(surface, f"{self.z[d]:+.3f}", (x + w, y), size=big, color=ui.FG, anchor="topright")
            y += big + round(6 * self.k)
        y += gap
        near = self.nearest_class()
        if near is not None:
            label("NEAREST CLASS")
            swatch_line(near[0], ui.FG, f"d {near[1]:.2f}")
        if self.selected is not None:
            label("SELECTED")
            swatch_line(self.selected, ui.ACCENT)
        hint_h = small + round(14 * self.k)
        if y + small + big + hint_h < r.bottom:
            label("STATUS")
            status, colour = self._status()
            ui.text(surface, ui.fit_text(status, big - 2, w), (x, y), size=big - 2, color=colour)
            y += big + round(4 * self.k)
        if y + small + hint_h < r.bottom:
            ui.text(surface, f"zoom ×{self.zoom:.2f}", (x, y), size=small, color=ui.DIM)
            ui.text(surface, "smooth" if self.ctx.smooth else "crisp", (x + w, y), size=small, color=ui.DIM, anchor="topright")
        hint = ui.fit_text("F1 help  ·  M model  ·  F3 fly", small, w)
        ui.text(surface, hint, (r.centerx, r.bottom - round(10 * self.k)), size=small, color=(110, 120, 150), anchor="midbottom")

    def _thumb_rects(self, r: pygame.Rect) -> list[list[pygame.Rect]]:
        """Where the interpolation frames go: two rows of STRIP_FRAMES squares."""
        k = self.k
        gap = max(3, round(6 * k))
        label_h = round(18 * k)
        top = round(40 * k)
        foot = round(30 * k)
        inner_w = r.width - round(28 * k)
        size = min((inner_w - gap * (STRIP_FRAMES - 1)) // STRIP_FRAMES, (r.height - top - foot - 2 * label_h - 8) // 2)
        size = max(8, size)
        total = size * STRIP_FRAMES + gap * (STRIP_FRAMES - 1)
        x0 = r.left + (r.width - total) // 2
        rows = []
        y = r.top + top + label_h
        for _row in range(2):
            rows.append([pygame.Rect(x0 + i * (size + gap), y, size, size) for i in range(STRIP_FRAMES)])
            y += size + label_h + 8
        return rows

    def _draw_strip(self, surface: pygame.Surface) -> None:
        r = self.layout.strip
        pad = round(14 * self.k)
        small = self.fs(13)
        ui.text(surface, "INTERPOLATION", (r.left + pad, r.top + round(12 * self.k)), size=small, color=ui.DIM, bold=True)
        s = self.strip
        if s is None:
            marks = "   ".join(
                f"{n} ({m[self.dims[0]]:+.2f}, {m[self.dims[1]]:+.2f})" for n, m in zip("AB", self.marks, strict=False)
            ) or "no marks yet"
            ui.text(surface, marks, (r.right - pad, r.top + round(12 * self.k)), size=small, color=MARK_COLOUR if self.marks else ui.DIM, anchor="topright")
            lines = (
                ("Space", "marks A, then B"),
                ("I", "shows the frames between them, linear and spherical"),
                ("L", "switches which path the cursor rides"),
                ("", "without marks, I goes from the previous class to the selected one"),
            )
            size = self.fs(14)
            step = round(size * 1.75)
            key_right = r.left + round(96 * self.k)
            text_left = key_right + round(16 * self.k)
            room = r.right - pad - text_left
            ty = r.top + max(round(44 * self.k), (r.height - 4 * step) // 2)
            for i, (key, line) in enumerate(lines):
                y = ty + i * step
                if y + step > r.bottom:
                    break
                if key:
                    kr = ui.text(surface, key, (key_right, y), size=size, color=ui.ACCENT, anchor="topright", bold=True)
                    pygame.draw.rect(surface, (60, 66, 96), kr.inflate(10, 6), width=1, border_radius=5)
                ui.text(surface, ui.fit_text(line, size, room), (text_left, y), size=size, color=ui.FG if key else ui.DIM)
            return
        ui.text(surface, s.label, (r.right - pad, r.top + round(12 * self.k)), size=small, color=MARK_COLOUR, anchor="topright")
        rects = self._thumb_rects(r)
        key = (r.size, self.ctx.smooth, id(s.images))
        if s.images is not None and (s.surface is None or s.surface_key != key):
            layer = pygame.Surface(r.size, pygame.SRCALPHA)
            fn = pygame.transform.smoothscale if self.ctx.smooth else pygame.transform.scale
            for row_i, (row, colour, name) in enumerate(
                ((rects[0], LINEAR_COLOUR, "LINEAR"), (rects[1], SLERP_COLOUR, "SPHERICAL (SLERP)"))
            ):
                ui.text(layer, name, (row[0].left - r.left, row[0].top - r.top - round(16 * self.k)), size=self.fs(12), color=colour, bold=True)
                for i, rect in enumerate(row):
                    img = fn(ui.image_surface(s.images[row_i * STRIP_FRAMES + i]), rect.size)
                    layer.blit(img, (rect.left - r.left, rect.top - r.top))
            s.surface, s.surface_key = layer, key
        if s.surface is not None:
            surface.blit(s.surface, r.topleft)
        # highlight the frame nearest the cursor on the followed row
        row = rects[1] if self.follow_slerp else rects[0]
        zs = s.slerp_z if self.follow_slerp else s.lin_z
        i = int(np.argmin(np.linalg.norm(zs - self.z[None], axis=1)))
        colour = SLERP_COLOUR if self.follow_slerp else LINEAR_COLOUR
        pygame.draw.rect(surface, colour, row[i].inflate(6, 6), width=2, border_radius=4)
        hint = ui.fit_text("L switches the ridden path  ·  click a frame to go there", self.fs(12), r.width - 2 * pad)
        ui.text(surface, hint, (r.centerx, r.bottom - round(10 * self.k)), size=self.fs(12), color=ui.DIM, anchor="midbottom")
