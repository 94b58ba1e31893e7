"""The tunnel compositor: decoded images at points ahead, drawn nested as an endless fly-through.

Rails
-----
Layers sit at fixed world points on a *rail*, at rail coordinates that are whole multiples of
the layer spacing ``Δ``. As the ship advances along the rail, a layer's depth shrinks
continuously, so its on-screen size ``F·Δ / depth`` grows; it fades out as it passes the near
plane, and a new layer fades in at the far end. Because the points stay fixed while the ship
moves, every layer is decoded once and then comes from the decoder's cache.

* :class:`LineRail`  a straight line from an anchor point along the anchor's forward axis
  (manual flight and warps; the scene re-anchors it when the ship turns or drifts away).
* :class:`PathRail`  the autopilot's closed tour path; the spacing is rounded so that a
  whole number of layers fits one lap, so positions repeat exactly lap after lap.

Both also give the 3x3 grid's centre and axes at a quantised rail coordinate, so the grid
changes in steps that can be predicted (and decoded ahead) rather than every frame.

Compositing
-----------
The tunnel is a zoom centred on the direction of travel: every layer is drawn centred on the
*vanishing point* of the flight direction (where a point infinitely far ahead along the
velocity lands on screen; the scene's view passes it), ``F · LAYER_SIZE · Δ / depth`` pixels
wide, so layers grow continuously as the ship advances and never trail off toward a corner.
Each layer is turned by the camera's roll about its centre, the vanishing point (in steps
of ``sprites.ROLL_STEP_DEG``, as the field's billboards), so the tunnel rolls with the ship. Layers are drawn far to near with no outlines. For
dark-background models (digits, fashion) they are crisp images added up (``BLEND_RGB_ADD``,
each at ``ADD_LEVEL``): black is see-through, the far layers glow in the centre of the near
ones and strokes that cross glow brighter. Light-background models (faces) are round cards, alpha-blended. Brightness
falls with depth (fog), each layer is tinted toward a colour (the scene uses the class of
the nearest centroid; the ``prism`` look a hue that turns along the rail), and big layers are
cropped to the visible part before scaling.
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pygame

from latent_odyssey.game.engine import imaging
from latent_odyssey.game.engine.imaging import InkStyle
from latent_odyssey.game.modes.odyssey.camera import focal_px
from latent_odyssey.game.modes.odyssey.flight import quat_to_matrix
from latent_odyssey.game.modes.odyssey.fog import ConstantTiles
from latent_odyssey.game.modes.odyssey.spline import Path
from latent_odyssey.game.modes.odyssey.sprites import (
    ROLL_STEP_DEG,
    Deadline,
    billboard_rgba,
    rgba_surface,
)

LAYER_SIZE = 1.1  # a layer is a square this many spacings wide
NEAR_CULL = 0.45  # layers closer than this many spacings are not drawn
NEAR_FADE = 1.5  # ... and fade out from this depth (in spacings) down to NEAR_CULL
BACKGROUND_CACHE = 4  # sky gradients kept (one per window size and colour pair)
BACKGROUND_STEPS = 4  # colour-table entries per pixel of radius (a 1/4 px step: colours within 1 level)
DEPTH_FOG_PER_LAYER = 0.07  # brightness *= exp(-DEPTH_FOG_PER_LAYER * depth / spacing)
TINT_MIX = 0.6  # how strongly a layer is tinted toward its colour (0 = none)
ADD_LEVEL = 0.62  # dark backgrounds: layers are added, each at this brightness
CROSSFADE_S = 0.1  # seconds over which an abandoned rail's layers fade out
LAYER_PX = 256  # crisp layer surfaces are made this many pixels wide
LEVEL_STEPS = 16  # a layer's brightness is quantised to this many steps (its surface is kept)
LAYERS_KEPT = 96  # crisp layer surfaces kept
LAYER_MIP_MIN_PX = 24  # the smallest mip of a layer surface
CRISP_BUDGET_MS = 1.5  # time a frame may spend making crisp layers when no worker makes them
TURN_BUDGET_MS = 1.0  # ... and turning and tinting layer surfaces (roll and level steps), interactive
STANDIN_PX = 64  # the quick bilinear stand-in shown until a crisp layer is made is this wide
CARD_TINT = (200, 200, 220)  # light backgrounds: the layer cards' rim
TINTED_KEPT = 256  # turned, tinted and dimmed layer surfaces kept
PRISM_HUE_STEP = 0.085  # prism look: hue turn per layer step along the rail
TRAIL_KEEP = 200  # trails look: the last frame is kept at this brightness (of 255) ...
TRAIL_ZOOM = 1.045  # ... zoomed by this factor about the vanishing point
LOOKS = ("plain", "trails", "prism")  # the tunnel's looks (tunnel_look cycles them)


def smoothstep(t: float) -> float:
    """3t² - 2t³ on [0, 1] (clamped)."""
    t = min(1.0, max(0.0, float(t)))
    return t * t * (3.0 - 2.0 * t)


# ---------------------------------------------------------------------------- rails


class LineRail:
    """A straight rail from ``origin`` along the forward axis of ``orientation`` (w, x, y, z)."""

    closed = False

    def __init__(self, origin: np.ndarray, orientation: np.ndarray) -> None:
        self.origin = np.array(origin, dtype=np.float64).reshape(3)
        self.orientation = np.array(orientation, dtype=np.float64).reshape(4)
        m = quat_to_matrix(self.orientation)  # columns right, up, forward
        self.right, self.up, self.direction = m[:, 0].copy(), m[:, 1].copy(), m[:, 2].copy()

    def coord(self, pos: np.ndarray) -> float:
        """Rail coordinate of the point on the rail nearest ``pos``."""
        rel = np.asarray(pos, np.float64) - self.origin
        return float((rel * self.direction).sum())  # (not np.dot: a BLAS call per frame can stall)

    def lateral(self, pos: np.ndarray) -> float:
        """Distance of ``pos`` from the rail line."""
        rel = np.asarray(pos, np.float64) - self.origin
        along = float((rel * self.direction).sum())
        return float(np.sqrt(((rel - along * self.direction) ** 2).sum()))

    def step_size(self, spacing: float) -> float:
        return float(spacing)

    def points(self, s: np.ndarray) -> np.ndarray:
        """World points at rail coordinates.  # (N,) -> (N, 3)"""
        s = np.asarray(s, dtype=np.float64).reshape(-1)
        return self.origin[None, :] + s[:, None] * self.direction[None, :]

    def wrap(self, n: np.ndarray, step: float) -> np.ndarray:
        """Rail coordinates of grid indices ``n``.  # (N,) int -> (N,)"""
        return np.asarray(n, dtype=np.float64) * step

    def axes(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(right, up) of the rail at coordinates ``s``, for the grid.  # (M,) -> (M, 3), (M, 3)"""
        m = len(np.asarray(s).reshape(-1))
        return np.repeat(self.right[None], m, axis=0), np.repeat(self.up[None], m, axis=0)


class PathRail:
    """The autopilot's closed path as a rail (arc length = rail coordinate)."""

    closed = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def step_size(self, spacing: float) -> float:
        """``spacing`` rounded so a whole number of steps fits one lap."""
        n = max(1, round(self.path.length / max(float(spacing), 1e-12)))
        return self.path.length / n

    def points(self, s: np.ndarray) -> np.ndarray:
        return self.path.points_at(np.asarray(s, dtype=np.float64).reshape(-1))

    def wrap(self, n: np.ndarray, step: float) -> np.ndarray:
        laps = max(1, round(self.path.length / step))
        return (np.asarray(n, dtype=np.int64) % laps).astype(np.float64) * step

    def axes(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Right and up of the look frame along the path's tangent.  # (M,) -> (M, 3), (M, 3)"""
        return look_frames(self.path.tangents_at(np.asarray(s, np.float64).reshape(-1)))


def look_frames(forward: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Right and up axes of frames looking along ``forward`` with up near world +y (+x when
    forward is vertical), as ``quat_look_rotation`` builds them, vectorised.

    # forward (M, 3) -> right (M, 3), up (M, 3)
    """
    f = np.asarray(forward, np.float64).reshape(-1, 3)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-300)
    right = np.cross(np.array([0.0, 1.0, 0.0]), f)  # up x forward
    norm = np.linalg.norm(right, axis=1, keepdims=True)
    vertical = norm[:, 0] < 1e-6
    if np.any(vertical):
        right[vertical] = np.cross(np.array([1.0, 0.0, 0.0]), f[vertical])
        norm[vertical] = np.linalg.norm(right[vertical], axis=1, keepdims=True)
    right = right / norm
    return right, np.cross(f, right)


Rail = LineRail | PathRail


def layer_plan(rail: Rail, s: float, spacing: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Rail coordinates of the ``count`` layers ahead of ``s`` and their rail depths.

    Layer n sits at ``n · step``; the first is the nearest one strictly ahead of ``s``.
    Returns (coords (count,), depths (count,)) with depths in (0, count · step].
    """
    step = rail.step_size(spacing)
    n0 = math.floor(s / step)
    n = np.arange(n0 + 1, n0 + 1 + count, dtype=np.int64)  # (count,)
    depths = n.astype(np.float64) * step - s
    return rail.wrap(n, step), depths


GRID_OFFSETS = np.array([(i, j) for j in (1, 0, -1) for i in (-1, 0, 1)], dtype=np.float64)  # (9, 2)


def grid_steps(rail: Rail, s0: float, s1: float, spacing: float) -> np.ndarray:
    """Quantised rail coordinates of the grid centres met from ``s0`` to ``s1`` (inclusive),
    one every half spacing.  # -> (M,)"""
    step = 0.5 * rail.step_size(spacing)
    n = np.arange(round(s0 / step), round(s1 / step) + 1, dtype=np.int64)
    return rail.wrap(n, step)


def grid_points(rail: Rail, centres: np.ndarray, cell: float) -> np.ndarray:
    """3x3 grids around rail coordinates ``centres``: row-major from the top-left, the centre
    (index 4) on the rail, neighbours ``cell`` apart along the rail's right/up axes.

    # centres (M,) -> (M, 9, 3)
    """
    centres = np.asarray(centres, np.float64).reshape(-1)
    mid = rail.points(centres)  # (M, 3)
    right, up = rail.axes(centres)  # (M, 3) each
    off = GRID_OFFSETS[None, :, 0:1] * right[:, None, :] + GRID_OFFSETS[None, :, 1:2] * up[:, None, :]
    return mid[:, None, :] + cell * off


# ---------------------------------------------------------------------------- drawing


@dataclass
class Layer:
    """One tunnel layer to draw: its decoded image, world point, depth ahead (along the rail,
    or along the flight direction for the layers of an abandoned rail), tint and rail index."""

    image: np.ndarray  # (H, W, 3) uint8
    point: np.ndarray  # (3,)
    depth: float
    tint: tuple[int, int, int]
    index: int = 0  # the layer's step number on its rail (the prism look colours by it)


def blit_zoomed(
    dst: pygame.Surface,
    src: pygame.Surface,
    center: tuple[float, float],
    width: float,
    smooth: bool = True,
    flags: int = 0,
) -> pygame.Rect | None:
    """Draw ``src`` scaled to ``width`` px wide, centred at ``center``; crop to what is visible.

    Only the source pixels that land on ``dst`` are scaled, so a layer many times larger than
    the screen costs no more than one the size of the screen. Returns the full (uncropped)
    destination rect, or None when nothing is visible.
    """
    sw, sh = src.get_size()
    k = width / sw  # dest pixels per source pixel
    if k <= 0 or not math.isfinite(k):
        return None
    x0 = center[0] - 0.5 * sw * k
    y0 = center[1] - 0.5 * sh * k
    dw, dh = dst.get_size()
    vx0, vy0 = max(0.0, x0), max(0.0, y0)
    vx1, vy1 = min(float(dw), x0 + sw * k), min(float(dh), y0 + sh * k)
    if vx1 <= vx0 or vy1 <= vy0:
        return None
    c0 = max(0, int(math.floor((vx0 - x0) / k)))
    c1 = min(sw, int(math.ceil((vx1 - x0) / k)))
    r0 = max(0, int(math.floor((vy0 - y0) / k)))
    r1 = min(sh, int(math.ceil((vy1 - y0) / k)))
    if c1 <= c0 or r1 <= r0:
        return None
    px, py = x0 + c0 * k, y0 + r0 * k
    out_w = max(1, round(x0 + c1 * k) - round(px))
    out_h = max(1, round(y0 + r1 * k) - round(py))
    part = src if (c0, r0, c1, r1) == (0, 0, sw, sh) else src.subsurface((c0, r0, c1 - c0, r1 - r0))
    if smooth and (out_w, out_h) != part.get_size():
        scaled = pygame.transform.smoothscale(part, (out_w, out_h))
    else:
        scaled = pygame.transform.scale(part, (out_w, out_h))
    dst.blit(scaled, (round(px), round(py)), special_flags=flags)
    return pygame.Rect(round(x0), round(y0), round(sw * k), round(sh * k))


def layer_pixels(img: np.ndarray, look: str, style: InkStyle) -> list[np.ndarray]:
    """A layer's crisp pixels, numpy only (the field's worker makes them): for dark
    backgrounds its grey levels (LAYER_PX, LAYER_PX) uint8 and their mips, halved by 2x2
    means down to LAYER_MIP_MIN_PX; for light ones a round card (LAYER_PX, LAYER_PX, 4)."""
    if not style.dark_background:
        return [billboard_rgba(img, LAYER_PX, style, look, CARD_TINT)]
    mips = [imaging.ink_intensity(img, (LAYER_PX, LAYER_PX), style)]
    while mips[-1].shape[0] // 2 >= LAYER_MIP_MIN_PX:
        m = mips[-1].astype(np.uint16)  # (S, S), S even: LAYER_PX is a power of two
        half = (m[0::2, 0::2] + m[1::2, 0::2] + m[0::2, 1::2] + m[1::2, 1::2] + 2) // 4
        mips.append(half.astype(np.uint8))
    return mips


def hue_colour(hue: float, saturation: float = 0.75) -> tuple[int, int, int]:
    """A bright colour of ``hue`` in [0, 1) (HSV with value 1)."""
    h6 = (hue % 1.0) * 6.0
    i, f = int(h6), h6 - int(h6)
    lo, fall, rise = 1.0 - saturation, 1.0 - saturation * f, 1.0 - saturation * (1.0 - f)
    r, g, b = [(1, rise, lo), (fall, 1, lo), (lo, 1, rise), (lo, fall, 1), (rise, lo, 1), (1, lo, fall)][i % 6]
    return int(255 * r), int(255 * g), int(255 * b)


class TunnelCompositor:
    """Draws tunnel layers nested around the vanishing point (see the module docstring).

    ``style`` (``imaging.InkStyle``) gives the crisp look and the blending: for dark
    backgrounds, crisp tinted layers added up (black is see-through); for
    light ones, round cards alpha-blended far to near. ``look``: ``plain``, ``trails``
    (each frame keeps a zoomed, dimmed copy of the last one: feedback trails) or ``prism``
    (layers coloured by hue along the rail).
    """

    def __init__(self, style: InkStyle) -> None:
        self.style = style
        self.dark_background = style.dark_background
        self.image_look = imaging.DEFAULT_LOOK
        self.drawn = 0  # layers drawn in the last call
        self.made_here = 0  # final layer surfaces made on this thread ...
        self.taken = 0  # ... and from the worker's pixels (counters, for tests and profiling)
        self._bases: OrderedDict[int, tuple[np.ndarray, pygame.Surface]] = OrderedDict()
        self._tinted: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._last: list[Layer] = []
        self._old: list[Layer] = []
        self._old_fade = 0.0  # 1 -> 0 over CROSSFADE_S
        self._trail: pygame.Surface | None = None
        self._dim: pygame.Surface | None = None
        self._deadline = Deadline(None)
        self._tiles = ConstantTiles()
        self._ask: Callable[[np.ndarray, tuple], None] | None = None  # the worker, during draw
        self._updates = Deadline(None)  # the frame's time for new turned / tinted surfaces
        self._shown: dict[int, tuple[tuple, tuple[pygame.Surface, float]]] = {}  # image id -> (what, surface) last drawn
        self._asked: OrderedDict[int, np.ndarray] = OrderedDict()  # id -> image asked of the worker
        self._ready: dict[int, tuple[np.ndarray, str, np.ndarray]] = {}  # id -> (image, look, pixels)

    def begin_crossfade(self) -> None:
        """The rail changed: let the layers drawn last fade out instead of vanishing."""
        if self._last:
            self._old = list(self._last)
            self._old_fade = 1.0

    @property
    def old_layers(self) -> list[Layer]:
        """The abandoned rail's layers while they fade out (else empty)."""
        return self._old if self._old_fade > 0.0 else []

    def advance(self, dt: float) -> None:
        """Advance the crossfade clock by ``dt`` seconds."""
        if self._old_fade > 0.0:
            self._old_fade = max(0.0, self._old_fade - dt / CROSSFADE_S)
            if self._old_fade == 0.0:
                self._old = []

    def set_image_look(self, look: str) -> None:
        """crisp / nearest / smooth: the layer surfaces are made again."""
        if look != self.image_look:
            self.image_look = look
            self._bases.clear()
            self._tinted.clear()
            self._shown.clear()
            self._asked.clear()
            self._ready.clear()

    def accept_pixels(self, image_id: int, look: str, pixels: np.ndarray) -> None:
        """A layer's crisp pixels from the worker (``layer_pixels``), asked for by ``draw``."""
        img = self._asked.pop(image_id, None)
        if img is not None and look == self.image_look:
            self._ready[image_id] = (img, look, pixels)
            while len(self._ready) > LAYERS_KEPT:  # layers passed before they were drawn again
                del self._ready[next(iter(self._ready))]

    def _offloaded(self, img: np.ndarray) -> bool:
        """Whether the worker makes this layer's crisp pixels: it is asked once; True while
        they are still to come (a stand-in is drawn meanwhile)."""
        if self._ask is None or (self.dark_background and (self.image_look != "crisp" or not imaging.is_grey(img))):
            return False  # no worker, or a cheap pygame scale makes it here
        if id(img) not in self._asked:
            self._asked[id(img)] = img
            self._ask(img, ("layer", self.image_look))
            while len(self._asked) > LAYERS_KEPT:
                self._asked.popitem(last=False)
        return True

    def _surfaces(self, pixels: list[np.ndarray]) -> list[pygame.Surface]:
        """The layer surfaces (largest first) of ``layer_pixels``' output."""
        if self.dark_background:
            shown = pygame.display.get_surface() is not None
            return [imaging.grey_surface(p).convert() if shown else imaging.grey_surface(p).convert(32) for p in pixels]
        mips = [rgba_surface(pixels[0])]
        while mips[-1].get_width() // 2 >= LAYER_MIP_MIN_PX:
            side = mips[-1].get_width() // 2
            mips.append(pygame.transform.smoothscale(mips[-1], (side, side)))
        return mips

    def _base(self, img: np.ndarray) -> tuple[list[pygame.Surface], bool]:
        """(mips, final): the crisp layer surface of a decoded image and its mips (largest
        first), kept while the decoder hands back the same array: 32-bit grey for dark
        backgrounds, a round card for light ones. Far layers scale from a small mip:
        cheaper, and no aliasing. The field's worker makes the crisp pixels when there is one
        (``draw``'s ``ask``), else this thread while the frame's time for them lasts; until
        they are there a quick bilinear stand-in is used (``final`` False)."""
        hit = self._bases.get(id(img))
        if hit is not None and hit[0] is img and hit[2]:
            self._bases.move_to_end(id(img))
            return hit[1], True
        ready = self._ready.pop(id(img), None)
        if ready is not None and ready[0] is img:  # the worker made it, mips included
            final, mips = True, self._surfaces(ready[2])
            self.taken += 1
        else:
            final = not self._offloaded(img) and self._deadline.left()
            if not final and hit is not None and hit[0] is img:
                return hit[1], False
            look = self.image_look if final else "smooth"
            self.made_here += final
            side = LAYER_PX if final else STANDIN_PX  # (a stand-in is small: it shows a frame or two)
            if self.dark_background:
                surf = imaging.enlarged(img, (side, side), look, self.style)
                surf = surf.convert() if pygame.display.get_surface() is not None else surf.convert(32)
            else:
                surf = rgba_surface(billboard_rgba(img, side, self.style, look, CARD_TINT))
            mips = [surf]
            while mips[-1].get_width() // 2 >= LAYER_MIP_MIN_PX:
                side = mips[-1].get_width() // 2
                mips.append(pygame.transform.smoothscale(mips[-1], (side, side)))
        self._bases[id(img)] = (img, mips, final)
        self._bases.move_to_end(id(img))
        while len(self._bases) > LAYERS_KEPT:
            self._bases.popitem(last=False)
        return mips, final

    def _layer_surface(self, img: np.ndarray, tint: tuple[int, int, int], level: float,
                       size: float, angle: int = 0) -> tuple[pygame.Surface, float]:
        """(surface, its width in layer widths): the layer's mip for a ``size`` px layer,
        turned by ``angle`` buckets of ROLL_STEP_DEG (a turned square is wider), then (dark
        backgrounds) tinted toward ``tint`` and dimmed to ``level`` (quantised) by one
        multiply-blit. Both are kept: a new level does not turn the mip again. When the frame's
        TURN_BUDGET_MS for new ones is spent (``draw``'s ``limited``), the layer's surface of the
        last frame stands in (a bucket of roll or a level step behind, for a frame or two)."""
        mips, final = self._base(img)
        i = 0
        while i + 1 < len(mips) and mips[i + 1].get_width() >= size:
            i += 1
        base = mips[i]
        q = max(1, min(LEVEL_STEPS, round(level * LEVEL_STEPS))) if self.dark_background else 0
        want = (id(img), tint, q, i, final, angle)
        shown = self._shown.get(id(img))
        if (shown is not None and shown[0] != want and shown[0][4] == final
                and self._kept(want) is None and not self._updates.left()):
            return shown[1]  # this frame's time for new layer surfaces is spent: last frame's
        made = self._turned_tinted(base, img, tint, q, i, final, angle)
        self._shown[id(img)] = (want, made)
        return made

    def _turned_tinted(self, base: pygame.Surface, img: np.ndarray, tint: tuple[int, int, int], q: int,
                       i: int, final: bool, angle: int) -> tuple[pygame.Surface, float]:
        """``_layer_surface``'s making (and keeping) of a turned, tinted mip."""
        turned, wider = base, 1.0
        if angle:
            key = ("turned", id(img), i, final, angle)
            hit = self._kept(key)
            if hit is None:  # a black (added: nothing) or transparent rim, so the turn pads with it
                framed = pygame.Surface((base.get_width() + 2, base.get_height() + 2), base.get_flags(), base)
                framed.fill((0, 0, 0, 0))
                framed.blit(base, (1, 1), special_flags=0 if self.dark_background else pygame.BLEND_RGBA_MAX)
                surf = pygame.transform.rotate(framed, angle * ROLL_STEP_DEG)
                hit = self._keep(key, (surf, surf.get_width() / base.get_width()))
            turned, wider = hit
        if not self.dark_background:
            return turned, wider
        key = (id(img), tint, q, i, final, angle)
        hit = self._kept(key)
        if hit is None:
            surf = turned.copy()
            lv = q / LEVEL_STEPS
            self._tiles.blend(surf, tuple(int(255 * ((1.0 - TINT_MIX) + TINT_MIX * c / 255.0) * lv) for c in tint),
                              pygame.BLEND_RGB_MULT)
            hit = self._keep(key, (surf, wider))
        return hit

    def _kept(self, key: tuple) -> tuple[pygame.Surface, float] | None:
        hit = self._tinted.get(key)
        if hit is not None:
            self._tinted.move_to_end(key)
        return hit

    def _keep(self, key: tuple, made: tuple[pygame.Surface, float]) -> tuple[pygame.Surface, float]:
        self._tinted[key] = made
        while len(self._tinted) > TINTED_KEPT:
            self._tinted.popitem(last=False)
        return made

    def draw(self, view: pygame.Surface, vanishing: tuple[float, float], layers: list[Layer],
             spacing: float, count: int, look: str = "plain", smooth: bool = True,
             old_depths: np.ndarray | None = None, limited: bool = False,
             ask: Callable[[np.ndarray, tuple], None] | None = None, angle: int = 0) -> None:
        """Draw ``layers`` (any order) far to near onto ``view``, all centred on the
        vanishing point ``vanishing`` (view pixels), each ``F * LAYER_SIZE * spacing / depth``
        wide. ``old_depths`` are the current depths of the abandoned rail's layers (which
        fade out over CROSSFADE_S). ``limited``: spend at most CRISP_BUDGET_MS making crisp
        layers (new ones show bilinear for a frame or two), else make all of them. ``ask(image,
        extra)``: a worker that makes crisp pixels (``layer_pixels``) and hands them to
        ``accept_pixels``; new layers show bilinear until they come. ``angle``: the roll, in
        buckets of ROLL_STEP_DEG; each layer is turned by it about its centre."""
        self._deadline = Deadline(CRISP_BUDGET_MS / 1000.0 if limited else None)
        self._updates = Deadline(TURN_BUDGET_MS / 1000.0 if limited else None)
        self._ask = ask if limited else None
        if len(self._shown) > LAYERS_KEPT:
            self._shown.clear()
        self._last = layers
        items = [(layer, layer.depth, 1.0) for layer in layers]
        if self._old and self._old_fade > 0.0 and old_depths is not None:
            items = [(layer, float(d), self._old_fade) for layer, d in zip(self._old, old_depths, strict=True)] + items
        w, h = view.get_size()
        if look == "trails":
            self._draw_trail(view, vanishing)
        else:
            self._trail = None
        f = focal_px(h)
        far_depth = count * spacing
        flags = pygame.BLEND_RGB_ADD if self.dark_background else 0
        drawn = 0
        for layer, depth, weight in sorted(items, key=lambda it: -it[1]):
            z_rel = depth / spacing
            if z_rel <= NEAR_CULL:
                continue
            near = smoothstep((z_rel - NEAR_CULL) / (NEAR_FADE - NEAR_CULL))
            far = min(1.0, max(0.0, (far_depth - depth) / spacing + 1.0))
            level = weight * near * far * math.exp(-DEPTH_FOG_PER_LAYER * z_rel)
            if self.dark_background:
                level *= ADD_LEVEL  # layers add up: each alone is dimmer, overlaps glow
            if level <= 0.02:
                continue
            size = f * LAYER_SIZE * spacing / depth
            if size < 2.0:
                continue
            tint = hue_colour(layer.index * PRISM_HUE_STEP) if look == "prism" else layer.tint
            src, wider = self._layer_surface(layer.image, tint, level, size, angle)
            if not self.dark_background:
                src.set_alpha(int(255 * level))
            if blit_zoomed(view, src, vanishing, size * wider, smooth, flags) is not None:
                drawn += 1
        self.drawn = drawn
        if look == "trails":
            self._trail = view.copy()

    def _draw_trail(self, view: pygame.Surface, vanishing: tuple[float, float]) -> None:
        """Feedback trails: the last frame, zoomed about the vanishing point and dimmed."""
        trail = self._trail
        if trail is None or trail.get_size() != view.get_size():
            return
        w, h = view.get_size()
        if self._dim is None or self._dim.get_size() != (w, h):
            self._dim = pygame.Surface((w, h)).convert(view) if view.get_bitsize() == 32 else pygame.Surface((w, h))
            self._dim.fill((TRAIL_KEEP,) * 3)
        trail.blit(self._dim, (0, 0), special_flags=pygame.BLEND_RGB_MULT)
        vx, vy = vanishing
        k = TRAIL_ZOOM
        zoomed = pygame.transform.scale(trail, (int(w * k), int(h * k)))
        view.blit(zoomed, (round(vx - k * vx), round(vy - k * vy)), special_flags=pygame.BLEND_RGB_MAX)


@functools.lru_cache(maxsize=BACKGROUND_CACHE)
def radial_background(
    size: tuple[int, int], inner: tuple[int, int, int], outer: tuple[int, int, int]
) -> pygame.Surface:
    """A round radial gradient (``inner`` at the centre, ``outer`` at the corners), made once per
    size and colours for the whole process (a colour table by radius: ~12 ms at 1280x720, so a new view, e.g. after a
    live model swap, does not pay it again); round, so a roll about the centre leaves it
    unchanged. Shared: callers copy or convert it, never draw on it."""
    w, h = size
    half = 0.5 * math.hypot(w, h)  # px, centre to corner
    t = np.clip(np.arange(int(math.ceil(half * BACKGROUND_STEPS)) + 2) / (BACKGROUND_STEPS * half), 0.0, 1.0) ** 0.8  # (N,)
    lut = ((1 - t)[:, None] * np.asarray(inner, np.float64) + t[:, None] * np.asarray(outer, np.float64)).astype(np.uint8)  # (N, 3)
    dx2 = (np.arange(w, dtype=np.float32) - w / 2) ** 2  # (W,)
    dy2 = (np.arange(h, dtype=np.float32) - h / 2) ** 2  # (H,)
    arr = lut[(np.sqrt(dx2[:, None] + dy2[None, :]) * BACKGROUND_STEPS + 0.5).astype(np.intp)]  # (W, H, 3) for surfarray
    return pygame.surfarray.make_surface(arr)
