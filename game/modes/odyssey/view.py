"""The Odyssey's view: turns the scene's state into the frame's pixels.

Two looks of the same space, T switches them:

* the **field** (default): decoded images at fixed latent points all around the ship
  (``field``, drawn by ``fieldview``), billboards in true perspective through the ship
  camera, over a deep-space backdrop with a faint horizon (world-up's plane) and the
  model's encoded data as class-coloured stars;
* the **tunnel**: images at points ahead on the rail, nested around the vanishing point of
  the flight direction (``tunnel.TunnelCompositor``), composed at ``TUNNEL_SCALE`` of the
  window and scaled up.

Roll turns everything: field billboards, stars, dust and horizon are projected through the
full camera (roll included) and the billboards are turned by the camera's roll angle; the
tunnel's layers are turned by the same angle about the vanishing point (its sky is round). A
full roll gives the same frame back.

Each frame makes at most one ``Decoder.decode_batch`` call holding what the frame itself
decodes (tunnel layers, the 3x3 grid, field points the worker has not brought yet), then
hands the workers the way ahead. The fog outside the populated region is applied where
things are drawn (``fog.py``: the sky, stars, horizon and sprites of the field; the tunnel at
its own half size), then the arrival flash, dust and the warp's streaks go on top, then the
HUD (``hud.py``).

The view reads the scene through :class:`ViewedScene` and changes nothing in it; it owns the
drawing caches (surfaces, sprites, the field's store of decoded images, the compositor).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pygame

from latent_odyssey.game.engine import imaging, ui
from latent_odyssey.game.engine.imaging import InkStyle
from latent_odyssey.game.modes.odyssey.camera import Camera, focal_px, mat_apply
from latent_odyssey.game.modes.odyssey.fieldview import FieldScene, FieldView
from latent_odyssey.game.modes.odyssey.flight import quat_to_matrix
from latent_odyssey.game.modes.odyssey.fog import FOG_STEPS, ConstantTiles, Fog
from latent_odyssey.game.modes.odyssey.hud import HudScene, OdysseyHud
from latent_odyssey.game.modes.odyssey.sprites import angle_bucket
from latent_odyssey.game.modes.odyssey.stream import FieldStream, store_capacity
from latent_odyssey.game.modes.odyssey.tunnel import (
    Layer,
    TunnelCompositor,
    layer_pixels,
    radial_background,
)

if TYPE_CHECKING:
    from latent_odyssey.game.model.decoder import Decoder
    from latent_odyssey.game.model.modelfile import ModelMeta
    from latent_odyssey.game.modes.odyssey.tunnel import LineRail, PathRail

TUNNEL_SCALE = 0.5  # the tunnel is composed at this fraction of the window, then scaled up
BG_INNER = (20, 24, 52)
BG_OUTER = (4, 5, 12)
FLASH_STEPS = FOG_STEPS  # the arrival flash is quantised to this many steps
HORIZON = (46, 62, 112)  # the horizon line (world-up's plane through the ship)
HORIZON_GLOW = (20, 26, 54)
STAR_MAX = 1200  # encoded sample points drawn as stars
STAR_LEVELS = 12  # star brightness steps
STAR_NEAR = 0.02  # stars nearer than this fraction of the mean extent are not drawn
DUST_COUNT = 220
DUST_RADIUS_SPACINGS = 3.0  # dust fills a cube of this half-size (in default spacings) around the ship
DUST_COLOUR = np.array([150.0, 190.0, 255.0])  # a mote at full brightness
DUST_STREAK_S = 0.06  # streak length = distance travelled in this time
STREAK_COUNT = 64  # radial warp streaks
GRID_DEFER_AT = 4  # with a worker, a frame with this many new tunnel layers to decode (a new
# rail) shows the last frame's grid and decodes the new grid the next frame (~1.3 ms moved)
CELLS_ASKED_KEPT = 36  # crisp grid cells asked of the worker and not yet shown, at most


class ViewedScene(HudScene, FieldScene, Protocol):
    """What the view reads of the Odyssey scene (``scene.OdysseyScene``), the HUD's and the
    field's share included."""

    decoder: Decoder
    rail: LineRail | PathRail
    flash: float  # the arrival flash, 1 -> 0
    tunnel_look: str  # plain | trails | prism
    extent: float

    def frame_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]: ...

    def plan_ahead(self) -> None: ...

    def warp_progress(self) -> float | None: ...

    def flight_direction(self) -> np.ndarray: ...


def class_tints(scene: ViewedScene, pts: np.ndarray) -> list[tuple[int, int, int]]:
    """Each point's region colour (the tunnel glows in the colours it passes)."""
    return [tuple(int(c) for c in t) for t in scene.tints_of(pts).tolist()]


def tunnel_sky_side(size: tuple[int, int]) -> int:
    """The side (px) of the round sky the tunnel view is cut from, for a ``size`` window: its
    diagonal at TUNNEL_SCALE, so any roll of the view stays inside it."""
    return int(math.ceil(math.hypot(size[0], size[1]) * TUNNEL_SCALE))


class OdysseyView:
    """Draws the Odyssey's frames (see the module docstring); made when the scene enters.

    ``meta``: the model (its crisp style and image size); ``spacing``: the default layer
    spacing, which sizes the dust cloud.
    """

    def __init__(self, meta: ModelMeta, spacing: float) -> None:
        self.style: InkStyle = imaging.style_for(meta)
        self.compositor = TunnelCompositor(self.style)
        self.field = FieldView(self.style, store_capacity(meta.image_shape))
        self.hud = OdysseyHud(self._cell_surface)
        self.last_batch_size = 0  # images the latest frame took from its one decode (tunnel layers,
        # grid cells, the field points it decoded itself; an unchanged layout's come from the last frame)
        self._warmed: int | None = None  # the tunnel sky's side the worker was asked to make
        self._grid_shown: list[np.ndarray] = []  # the grid images of the last frame ...
        self._grid_pts: np.ndarray | None = None  # ... and the points they were decoded from
        self._view_pts: np.ndarray | None = None  # the tunnel layers' points of the last frame ...
        self._view_images: list[np.ndarray] = []  # ... and their images
        self.roll_deg = 0.0  # the roll the last frame was drawn with
        self.vanishing: tuple[float, float] | None = None  # the tunnel's centre (window px)
        self._look = imaging.DEFAULT_LOOK
        self._dust_radius = DUST_RADIUS_SPACINGS * spacing
        dust_rng = np.random.default_rng(3)
        self._dust = dust_rng.uniform(-1.0, 1.0, (DUST_COUNT, 3)) * self._dust_radius  # (P, 3)
        streak_rng = np.random.default_rng(4)
        self._streaks = streak_rng.uniform(0.0, 1.0, (STREAK_COUNT, 3))  # angle, radius, length
        self._tinted: np.ndarray | None = None  # the layer points whose tints are kept
        self._tints: list[tuple[int, int, int]] = []
        self._bgs: dict[tuple[int, int, int], pygame.Surface] = {}  # (w, h, fog step) -> sky
        self._tiles = ConstantTiles()
        self._stream: FieldStream | None = None  # the field's worker, while a frame is drawn
        self._cells_asked: dict[tuple, np.ndarray] = {}  # (image id, size) -> image: crisp grid cells asked of it
        self._cells_ready: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}  # ... -> (image, grey pixels)
        self._cells_standin: dict[tuple, tuple[np.ndarray, pygame.Surface]] = {}  # ... -> (image, smooth stand-in)
        self._consts: dict[tuple, pygame.Surface] = {}
        self._tunnel_view: pygame.Surface | None = None
        self._stars: tuple | None = None  # (dims, points (M, 3), labels (M,), colours (K, S, 3))
        self._star_palette: tuple | None = None  # (fog step, mapped colours (K, S))

    # ------------------------------------------------------------------ the frame

    def draw(self, surface: pygame.Surface, scene: ViewedScene) -> None:
        """One frame of ``scene`` onto ``surface``, the HUD included when it is shown."""
        w, h = surface.get_size()
        ctx = scene.ctx
        look = ctx.image_look if ctx is not None else imaging.DEFAULT_LOOK
        if look != self._look:
            self._look = look
            self.hud.drop_grid()
            self._cells_asked.clear()
            self._cells_ready.clear()
            self._cells_standin.clear()
        self.compositor.set_image_look(look)
        self._stream = scene.stream
        self._collect_prepared(scene)
        camera = Camera(scene.ship.position.copy(), quat_to_matrix(scene.ship.orientation))
        self.roll_deg = camera.roll_deg()
        pts, depths, images, grid_images = self._decode_frame(scene, camera, (w, h), look)
        fog = Fog.of(scene.fog_level())
        if scene.tunnel:
            self._draw_tunnel(surface, scene, camera, pts, depths, images, look, fog)
        else:
            self.vanishing = None
            side = tunnel_sky_side((w, h))
            if scene.stream is not None and self._warmed != side:
                self._warmed = side
                scene.stream.prepare_later(0, ("warm",), None, ("warm", (side, side)))
            surface.blit(self._background((w, h), fog), (0, 0))
            self._draw_horizon(surface, camera, fog)
            self._draw_stars(surface, scene, camera, fog)
            self.field.draw(surface, scene, camera, limited=scene.stream is not None, fog=fog)
        if scene.flash > 0.0:
            v = int(90 * round(scene.flash * FLASH_STEPS) / FLASH_STEPS)
            surface.blit(self._const((w, h), (v, v, v)), (0, 0), special_flags=pygame.BLEND_RGB_ADD)
        self._draw_dust(surface, scene, camera)
        warp = scene.warp_progress()
        if warp is not None:
            self._draw_streaks(surface, 4.0 * warp * (1.0 - warp))
        if ctx is None or ctx.show_hud:
            self.hud.draw(surface, scene, camera, grid_images, pts if scene.tunnel else None, self.field.drawn)

    def prepare_payload(self, img: np.ndarray, extra: tuple) -> Any:
        """The field worker's numpy work on a decoded image (``stream.FieldStream``'s
        ``prepare``): a field sprite's pixels (``("sprite", look, tint, side)``), a tunnel
        layer's crisp pixels (``("layer", look)``), a grid cell's (``("cell", size)``), or the
        tunnel's sky made ahead (``("warm", size)``: kept by ``radial_background``, returns None)."""
        if extra[0] == "warm":  # the tunnel's sky, made before the player first turns the tunnel on
            radial_background(extra[1], BG_INNER, BG_OUTER)
            return None
        if extra[0] == "layer":
            return layer_pixels(img, extra[1], self.style)
        if extra[0] == "cell":
            return imaging.ink_intensity(img, extra[1], self.style)
        return self.field.prepare_payload(img, extra)

    def _collect_prepared(self, scene: ViewedScene) -> None:
        """Hand the worker's finished ``prepare_later`` jobs to the field and the tunnel."""
        if scene.stream is None:
            return
        for serial, key, payload in scene.stream.take_prepared():
            if key[0] == "layer":
                self.compositor.accept_pixels(key[1], key[2], payload)
            elif key[0] == "cell":
                img = self._cells_asked.pop(key[1:], None)
                if img is not None:
                    self._cells_ready[key[1:]] = (img, payload)
                    while len(self._cells_ready) > CELLS_ASKED_KEPT:  # the grid moved on before
                        del self._cells_ready[next(iter(self._cells_ready))]
            elif key[0] == "warm":
                continue
            elif key[0] == "base":
                self.field.accept_base(serial, key[1], payload)
            else:
                self.field.accept_large(serial, key[1], payload)

    def _ask_layer(self, scene: ViewedScene) -> Callable[[np.ndarray, tuple], None] | None:
        """The compositor's way to have the worker make a layer's crisp pixels."""
        stream = scene.stream
        if stream is None:
            return None
        return lambda img, extra: stream.prepare_later(0, ("layer", id(img), extra[1]), img, extra)

    def _decode_frame(
        self, scene: ViewedScene, camera: Camera, size: tuple[int, int], look: str
    ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """(tunnel points (L, 3), their depths (L,), their images, the grid's images): the
        frame's one decode (tunnel layers, grid cells and the field points it decodes
        itself), then the workers get the way ahead."""
        view, depths, grid = scene.frame_points()
        field_keys, field_z = ([], None)
        if not scene.tunnel:
            field_keys, field_z = self.field.plan(scene, camera, size, look)
        kept_grid = kept_view = None
        if grid is not None and grid is self._grid_pts and len(self._grid_shown) == len(grid):
            kept_grid, grid = self._grid_shown, None  # the same points (kept by the scene): the same images
        elif (grid is not None and scene.stream is not None and len(self._grid_shown) == len(grid)
                and len(view) and view is not self._view_pts
                and scene.decoder.count_missing(scene.to_latent(view)) >= GRID_DEFER_AT):
            kept_grid, grid = self._grid_shown, None  # a new rail's layers first; its grid next frame
        if len(view) and view is self._view_pts:
            kept_view, view_now = self._view_images, np.zeros((0, 3))
        else:
            view_now = view
        parts = [p for p in (view_now, grid) if p is not None and len(p)]
        z = scene.to_latent(np.concatenate(parts)) if parts else np.zeros((0, scene.meta.latent_dim), np.float32)
        if field_z is not None:
            z = np.concatenate([z, field_z])
        images = scene.decoder.decode_batch(z) if len(z) else []  # the frame's one decode
        n_view = len(view_now)
        n_grid = 0 if grid is None else len(grid)
        if field_keys:
            self.field.accept(field_keys, images[n_view + n_grid :])
        scene.plan_ahead()
        view_images = kept_view if kept_view is not None else images[:n_view]
        self._view_pts, self._view_images = view, view_images
        if kept_grid is None:
            self._grid_pts = grid
            self._grid_shown = images[n_view : n_view + n_grid]
        self.last_batch_size = len(view_images) + len(self._grid_shown) + (0 if field_z is None else len(field_z))
        return view, depths, view_images, self._grid_shown

    # ------------------------------------------------------------------ field backdrop

    def _background(self, size: tuple[int, int], fog: Fog | None = None) -> pygame.Surface:
        """The deep-space sky at ``size``, seen through ``fog`` (kept per size and fog step)."""
        key = (size[0], size[1], fog.step if fog else 0)
        bg = self._bgs.get(key)
        if bg is None:
            if fog:
                bg = self._background(size).copy()
                fog.apply(bg, self._tiles)
            else:
                bg = radial_background(size, BG_INNER, BG_OUTER)
                if pygame.display.get_surface() is not None:
                    bg = bg.convert()
            if len(self._bgs) > 4:
                self._bgs = {k: v for k, v in self._bgs.items() if k[2] == 0}  # the clear skies stay
            self._bgs[key] = bg
        return bg

    def _const(self, size: tuple[int, int], colour: tuple[int, int, int]) -> pygame.Surface:
        """A surface of one colour (blitting it with a blend flag is ~20x faster than
        ``fill`` with that flag)."""
        key = (size, colour)
        s = self._consts.get(key)
        if s is None:
            if len(self._consts) > 64:
                self._consts.clear()
            s = pygame.Surface(size)
            s.fill(colour)
            self._consts[key] = s
        return s

    def _draw_horizon(self, surface: pygame.Surface, camera: Camera, fog: Fog) -> None:
        """World-up's plane through the ship, as a faint line: it turns as the ship rolls."""
        w, h = surface.get_size()
        u = camera.direction_to_camera(np.array([0.0, 1.0, 0.0]))  # world up in camera coords
        nx, ny = u[0], -u[1]  # the line: nx (x - cx) + ny (y - cy) = -u_z F
        norm2 = nx * nx + ny * ny
        if norm2 < 1e-6:
            return
        f = focal_px(h)
        k = -u[2] * f / norm2
        px, py = 0.5 * w + nx * k, 0.5 * h + ny * k
        if math.hypot(px - 0.5 * w, py - 0.5 * h) > math.hypot(w, h):
            return
        n = math.sqrt(norm2)
        tx, ty = -ny / n, nx / n
        reach = math.hypot(w, h)
        a, b = (px - tx * reach, py - ty * reach), (px + tx * reach, py + ty * reach)
        glow = fog.colour(HORIZON_GLOW)
        for off in (-2.0, 2.0):
            pygame.draw.line(surface, glow, (a[0] + nx / n * off, a[1] + ny / n * off),
                             (b[0] + nx / n * off, b[1] + ny / n * off), 2)
        pygame.draw.aaline(surface, fog.colour(HORIZON), a, b)

    def _draw_stars(self, surface: pygame.Surface, scene: ViewedScene, camera: Camera, fog: Fog) -> None:
        """The model's encoded data as class-coloured stars fixed in the flight subspace
        (the cloud shows where the data lives; the field's tints agree with it)."""
        dims = tuple(int(d) for d in scene.dims)
        if self._stars is None or self._stars[0] != dims:
            pts = scene.samples_full[:STAR_MAX][:, scene.dims].astype(np.float64)  # (M, 3)
            labels = np.asarray(scene.sample_labels[:STAR_MAX], np.int64)
            colours = np.array([ui.class_colour(int(k)) if scene.n_classes else (170, 180, 210)
                                for k in range(max(1, scene.n_classes))], np.float64)  # (K, 3)
            levels = np.linspace(0.25, 1.0, STAR_LEVELS)  # (S,)
            table = (colours[:, None, :] * levels[None, :, None]).astype(np.int64)  # (K, S, 3)
            self._stars = (dims, np.ascontiguousarray(pts.T), np.clip(labels, 0, len(colours) - 1), table)  # pts (3, M)
            self._star_palette = None
        _, pts, labels, table = self._stars
        if self._star_palette is None or self._star_palette[0] != fog.step:
            mapped = np.array([[surface.map_rgb(fog.colour(c)) for c in row] for row in table.tolist()], np.int64)
            self._star_palette = (fog.step, mapped)  # (K, S) pixel values
        mapped = self._star_palette[1]
        w, h = surface.get_size()
        # camera coordinates, written out per axis (as Camera.to_camera), the depth first: the
        # stars behind the ship are dropped before the rest is worked out
        r, c = camera.rotation, camera.position
        rel = [pts[i] - c[i] for i in range(3)]  # 3 x (M,)
        z = rel[0] * r[0, 2] + rel[1] * r[1, 2] + rel[2] * r[2, 2]
        front = np.flatnonzero(z > STAR_NEAR * scene.extent)
        rel = [v[front] for v in rel]
        f = focal_px(h) / z[front]
        fx = 0.5 * w + (rel[0] * r[0, 0] + rel[1] * r[1, 0] + rel[2] * r[2, 0]) * f
        fy = 0.5 * h - (rel[0] * r[0, 1] + rel[1] * r[1, 1] + rel[2] * r[2, 1]) * f
        ok = (fx >= 0) & (fx < w - 1) & (fy >= 0) & (fy < h - 1)
        if not np.any(ok):
            return
        x = fx[ok].astype(np.int64)
        y = fy[ok].astype(np.int64)
        sel = front[ok]
        level = np.clip((1.4 - z[sel] / scene.extent) * STAR_LEVELS, 0, STAR_LEVELS - 1).astype(np.int64)
        colour = mapped[labels[sel], level]
        try:
            px = pygame.surfarray.pixels2d(surface)
        except (ValueError, pygame.error):  # a surface without direct pixel access
            return
        px[x, y] = colour
        big = level >= STAR_LEVELS // 2
        px[x[big] + 1, y[big]] = colour[big]
        px[x[big], y[big] + 1] = colour[big]
        del px

    # ------------------------------------------------------------------ tunnel

    def _layer_tints(self, scene: ViewedScene, pts: np.ndarray) -> list[tuple[int, int, int]]:
        """The class colours of the tunnel layers at ``pts``, worked out again only when the
        scene hands out new layer points (it keeps them while the layout holds)."""
        if self._tinted is not pts:
            self._tinted, self._tints = pts, class_tints(scene, pts)
        return self._tints

    def _draw_tunnel(self, surface: pygame.Surface, scene: ViewedScene, camera: Camera, pts: np.ndarray,
                     depths: np.ndarray, images: list[np.ndarray], look: str, fog: Fog) -> None:
        """The tunnel composed at TUNNEL_SCALE around the vanishing point, its layers turned
        by the roll (each about its own centre, the vanishing point: the same picture as the
        whole tunnel turned about the window's centre, for a fraction of the pixels), seen
        through ``fog`` and scaled onto the window."""
        w, h = surface.get_size()
        direction = scene.flight_direction()
        vp = camera.screen_point(direction, (w, h))
        if vp is None:  # flying backwards: the tunnel is behind; keep it centred
            vp = (0.5 * w, 0.5 * h)
        self.vanishing = vp
        k = TUNNEL_SCALE
        vsize = (max(1, round(w * k)), max(1, round(h * k)))
        view = self._tunnel_view
        if view is None or view.get_size() != vsize:
            view = pygame.Surface(vsize).convert() if pygame.display.get_surface() is not None else pygame.Surface(vsize)
            self._tunnel_view = view
        side = tunnel_sky_side((w, h))
        bg = self._background((side, side))  # round: any centred crop of it is the same sky, rolled or not
        view.blit(bg, (0, 0), pygame.Rect((side - vsize[0]) // 2, (side - vsize[1]) // 2, *vsize))
        vx, vy = vp[0] * k, vp[1] * k
        tints = self._layer_tints(scene, pts)
        step = scene.rail.step_size(scene.spacing)
        idx0 = int(math.floor(scene.rail_coord() / step))
        layers = [Layer(img, p, float(d), t, idx0 + 1 + i)
                  for i, (img, p, d, t) in enumerate(zip(images, pts, depths, tints, strict=True))]
        old = self.compositor.old_layers
        old_depths = None
        if old:
            old_pts = np.stack([layer.point for layer in old])
            old_depths = np.sum((old_pts - scene.ship.position[None, :]) * direction[None, :], axis=1)
        self.compositor.draw(view, (vx, vy), layers, step, scene.layer_count, scene.tunnel_look,
                             look != "nearest", old_depths, limited=scene.stream is not None,
                             ask=self._ask_layer(scene), angle=angle_bucket(self.roll_deg))
        warp = scene.warp_progress()
        if warp is not None:
            self._zoom_blur(view, (vx, vy), 4.0 * warp * (1.0 - warp))
        fog.apply(view, self._tiles)  # at half size: a quarter of the window's pixels
        pygame.transform.scale(view, (w, h), surface)  # (scale2x's edge rules change ~1 % of
        # these soft pixels and cost three times as much)

    def _zoom_blur(self, view: pygame.Surface, centre: tuple[float, float], strength: float) -> None:
        """Zoom blur about ``centre``: scaled-up copies of the view blended over it (warps)."""
        vw, vh = view.get_size()
        base = view.copy()
        for i in (1, 2, 3):
            f = 1.0 + 0.07 * i * strength
            sw, sh = int(vw * f), int(vh * f)
            scaled = pygame.transform.scale(base, (sw, sh))
            scaled.set_alpha(int(120 * strength / i))
            view.blit(scaled, (round(centre[0] - f * centre[0]), round(centre[1] - f * centre[1])))

    # ------------------------------------------------------------------ over the view

    def _cell_surface(self, img: np.ndarray, size: tuple[int, int]) -> tuple[pygame.Surface, bool]:
        """A grid cell: the decoded image at ``size`` in the current look, and whether it is
        final. With a worker, crisp grey cells are made there (``ink_intensity``): a bilinear
        stand-in shows until they come (a frame or two after the grid moves)."""
        stream = self._stream
        key = (id(img), tuple(size))
        standin = self._cells_standin.get(key)
        if stream is not None and standin is not None and standin[0] is img:
            ready = self._cells_ready.pop(key, None)
            if ready is not None and ready[0] is img:
                del self._cells_standin[key]
                return imaging.grey_surface(ready[1]), True
            return standin[1], False  # the same stand-in until the crisp cell comes
        if stream is None or self._look != "crisp" or not imaging.is_grey(img) or size[1] <= img.shape[0]:
            return imaging.enlarged(img, size, self._look, self.style), True
        ready = self._cells_ready.pop(key, None)
        if ready is not None and ready[0] is img:
            return imaging.grey_surface(ready[1]), True
        if key not in self._cells_asked:
            self._cells_asked[key] = img
            stream.prepare_later(0, ("cell", *key), img, ("cell", tuple(size)))
            while len(self._cells_asked) > CELLS_ASKED_KEPT:
                del self._cells_asked[next(iter(self._cells_asked))]
        made = imaging.enlarged(img, size, "smooth", self.style)
        self._cells_standin[key] = (img, made)
        while len(self._cells_standin) > CELLS_ASKED_KEPT:
            del self._cells_standin[next(iter(self._cells_standin))]
        return made, False

    def _draw_dust(self, surface: pygame.Surface, scene: ViewedScene, camera: Camera) -> None:
        """Dust motes fixed in space around the ship: parallax and speed streaks."""
        w, h = surface.get_size()
        r = self._dust_radius
        rel = np.mod(self._dust - scene.ship.position[None] + r, 2 * r) - r  # (P, 3)
        cam = mat_apply(rel, camera.rotation)
        back = cam + camera.direction_to_camera(scene.velocity)[None] * DUST_STREAK_S
        ok = (cam[:, 2] > 0.08 * r) & (back[:, 2] > 0.04 * r)
        if not np.any(ok):
            return
        f = focal_px(h)
        cam, back = cam[ok], back[ok]
        x1 = w / 2 + f * cam[:, 0] / cam[:, 2]
        y1 = h / 2 - f * cam[:, 1] / cam[:, 2]
        x0 = w / 2 + f * back[:, 0] / back[:, 2]
        y0 = h / 2 - f * back[:, 1] / back[:, 2]
        level = np.clip(1.2 - cam[:, 2] / r, 0.15, 1.0)  # (P,)
        seen = (np.maximum(x0, x1) >= 0) & (np.minimum(x0, x1) < w) & (np.maximum(y0, y1) >= 0) & (np.minimum(y0, y1) < h)
        cols = (level[seen, None] * DUST_COLOUR).astype(np.int64).tolist()  # (P', 3)
        dot = (np.abs(x0 - x1) + np.abs(y0 - y1) < 2.0)[seen].tolist()
        wide = (level[seen] > 0.7).tolist()
        line, fill = pygame.draw.line, surface.fill
        for a, b, c, d, col, is_dot, is_wide in zip(x0[seen].tolist(), y0[seen].tolist(), x1[seen].tolist(),
                                                    y1[seen].tolist(), cols, dot, wide, strict=True):
            if is_dot:
                fill(col, (int(c), int(d), 2, 2))
            else:
                line(surface, col, (a, b), (c, d), 2 if is_wide else 1)

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
