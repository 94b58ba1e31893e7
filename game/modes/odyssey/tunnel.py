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
Layers are projected through the ship's camera (pinhole, vertical field of view
:data:`FOV_Y_DEG`) and drawn far to near. For dark-background models (digits, fashion) they
are combined with a per-channel maximum (``BLEND_RGB_MAX``): black is see-through, so the
far layers glow in the centre of the near ones. Light-background models are alpha-blended.
Brightness falls with depth (fog), each layer is tinted toward a colour (the scene uses the
class of the nearest centroid), and big layers are cropped to the visible part before scaling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pygame

from latent_odyssey.game.modes.odyssey.flight import quat_to_matrix
from latent_odyssey.game.modes.odyssey.spline import Path

FOV_Y_DEG = 60.0  # vertical field of view of the ship camera
LAYER_SIZE = 0.8  # a layer is a square this many spacings wide
NEAR_CULL = 0.25  # layers closer than this many spacings are not drawn
NEAR_FADE = 1.1  # ... and fade out from this depth (in spacings) down to NEAR_CULL
DEPTH_FOG_PER_LAYER = 0.07  # brightness *= exp(-DEPTH_FOG_PER_LAYER * depth / spacing)
TINT_MIX = 0.6  # how strongly a layer is tinted toward its colour (0 = none)
FRAME_OUTLINE_ALPHA = 0.55  # brightness of the thin frame drawn around each layer
OUTLINE_MAX_FRACTION = 0.8  # ... while the layer is at most this many view heights tall
CROSSFADE_S = 0.15  # seconds over which an abandoned rail's layers fade out
ALPHA_BLEND_OPACITY = 0.6  # layer opacity for light-background models


def focal_px(height: int) -> float:
    """Focal length in pixels of the ship camera for a view ``height`` pixels tall."""
    return 0.5 * height / math.tan(math.radians(FOV_Y_DEG) / 2.0)


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
        return float(np.dot(np.asarray(pos, np.float64) - self.origin, self.direction))

    def lateral(self, pos: np.ndarray) -> float:
        """Distance of ``pos`` from the rail line."""
        rel = np.asarray(pos, np.float64) - self.origin
        return float(np.linalg.norm(rel - np.dot(rel, self.direction) * self.direction))

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
class Camera:
    """The ship camera: position (3,), rotation (3, 3) with columns right/up/forward."""

    position: np.ndarray
    rotation: np.ndarray

    def to_camera(self, pts: np.ndarray) -> np.ndarray:
        """World points to camera coordinates (x right, y up, z forward).  # (N, 3) -> (N, 3)"""
        return (np.asarray(pts, np.float64) - self.position[None, :]) @ self.rotation


@dataclass
class Layer:
    """One tunnel layer to draw: its decoded image, world point, rail depth and tint."""

    image: np.ndarray  # (H, W, 3) uint8
    point: np.ndarray  # (3,)
    rail_depth: float
    tint: tuple[int, int, int]


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


class TunnelCompositor:
    """Draws tunnel layers into a view surface (see the module docstring).

    ``dark_background`` picks max-blending (True) or alpha-blending (False).
    """

    def __init__(self, dark_background: bool = True) -> None:
        self.dark_background = dark_background
        self.drawn = 0  # layers drawn in the last call
        self._surfaces: dict[int, tuple[np.ndarray, pygame.Surface]] = {}
        self._last: list[Layer] = []
        self._old: list[Layer] = []
        self._old_fade = 0.0  # 1 -> 0 over CROSSFADE_S

    def begin_crossfade(self) -> None:
        """The rail changed: let the layers drawn last fade out instead of vanishing."""
        if self._last:
            self._old = list(self._last)
            self._old_fade = 1.0

    def advance(self, dt: float) -> None:
        """Advance the crossfade clock by ``dt`` seconds."""
        if self._old_fade > 0.0:
            self._old_fade = max(0.0, self._old_fade - dt / CROSSFADE_S)
            if self._old_fade == 0.0:
                self._old = []

    def surface_for(self, img: np.ndarray, like: pygame.Surface) -> pygame.Surface:
        """A 32-bit Surface (in ``like``'s pixel format) of a decoded image, reused while the
        decoder hands back the same array. 32-bit sources scale and blend several times faster
        than 24-bit ones."""
        hit = self._surfaces.get(id(img))
        if hit is not None and hit[0] is img:
            return hit[1]
        rgb = pygame.image.frombuffer(
            np.ascontiguousarray(img).tobytes(), (img.shape[1], img.shape[0]), "RGB"
        )
        surf = rgb.convert(like)
        if len(self._surfaces) > 256:
            self._surfaces.clear()
        self._surfaces[id(img)] = (img, surf)
        return surf

    def draw(
        self,
        view: pygame.Surface,
        camera: Camera,
        layers: list[Layer],
        spacing: float,
        count: int,
        smooth: bool = True,
    ) -> None:
        """Project and draw ``layers`` (any order) far to near onto ``view``."""
        self._last = layers
        items = [(layer, 1.0) for layer in layers]
        if self._old and self._old_fade > 0.0:
            items = [(layer, self._old_fade) for layer in self._old] + items
        if not items:
            self.drawn = 0
            return
        w, h = view.get_size()
        f = focal_px(h)
        cx, cy = 0.5 * w, 0.5 * h
        pts = np.stack([it[0].point for it in items])  # (N, 3)
        cam = camera.to_camera(pts)  # (N, 3)
        order = np.argsort(-cam[:, 2], kind="stable")  # far to near
        far_depth = count * spacing
        flags = pygame.BLEND_RGB_MAX if self.dark_background else 0
        drawn = 0
        for i in order:
            layer, weight = items[i]
            x, y, z = cam[i]
            z_rel = z / spacing
            if z_rel <= NEAR_CULL:
                continue
            near = smoothstep((z_rel - NEAR_CULL) / (NEAR_FADE - NEAR_CULL))
            far = min(1.0, max(0.0, (far_depth - layer.rail_depth) / spacing))
            fog = math.exp(-DEPTH_FOG_PER_LAYER * z_rel)
            level = weight * near * far * fog
            if level <= 0.02:
                continue
            size = f * LAYER_SIZE * spacing / z
            sx, sy = cx + f * x / z, cy - f * y / z
            if size < 2.0 or abs(sx - cx) > w + size or abs(sy - cy) > h + size:
                continue
            src = self.surface_for(layer.image, view)
            tint = tuple(
                int(255 * ((1.0 - TINT_MIX) + TINT_MIX * c / 255.0) * (level if self.dark_background else 1.0))
                for c in layer.tint
            )
            if tint != (255, 255, 255) or not self.dark_background:
                src = src.copy()
                src.fill(tint, special_flags=pygame.BLEND_RGB_MULT)
            if not self.dark_background:
                src.set_alpha(int(255 * ALPHA_BLEND_OPACITY * level))
            rect = blit_zoomed(view, src, (sx, sy), size, smooth, flags)
            if rect is not None:
                drawn += 1
                if size < OUTLINE_MAX_FRACTION * h:  # a huge layer's edge would cut the view
                    edge = tuple(int(c * FRAME_OUTLINE_ALPHA * level) for c in layer.tint)
                    pygame.draw.rect(view, edge, rect, width=1)
        self.drawn = drawn


def radial_background(
    size: tuple[int, int], inner: tuple[int, int, int], outer: tuple[int, int, int]
) -> pygame.Surface:
    """A radial gradient (``inner`` at the centre, ``outer`` at the corners), made once."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)  # (H, W)
    r = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2) / math.sqrt(2)
    t = np.clip(r, 0.0, 1.0) ** 0.8  # (H, W)
    rgb = (1 - t)[..., None] * np.asarray(inner, np.float32) + t[..., None] * np.asarray(outer, np.float32)
    arr = np.ascontiguousarray(rgb.astype(np.uint8).transpose(1, 0, 2))  # (W, H, 3) for surfarray
    return pygame.surfarray.make_surface(arr)
