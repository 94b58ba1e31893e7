"""Billboard sprites: decoded images turned into glowing ink or round cards, at any size and angle.

* Dark-background models (digits, fashion): the crisp ink intensity becomes the alpha of a
  sprite whose colour runs from the point's tint (a soft glow around the strokes) to a
  near-white tinted core, so black is see-through and near images cover far ones stroke by
  stroke, never with a square.
* Light-background models (faces): a round card, the face cropped by a soft circular mask
  and ringed in the point's tint.

``billboard_rgba`` is pure numpy. :class:`SpriteBank` keeps, per field point, a base
surface (``BASE_PX`` square) and its mips, and hands out sprites scaled to a pixel size,
turned by a roll angle and dimmed to an opacity step (baked into the pixels: a blit with
a surface alpha on top of per-pixel alpha is ~10x slower) and seen through the fog
(``fog.Fog``: their colour, not their alpha), reusing the ones from the previous frame when
size, angle and opacity step are the same (far billboards change slowly, so most frames
reuse most sprites; a new fog step only re-tints a copy). Near billboards larger than ``LARGE_AT`` x the
base get a crisp ``LARGE_PX`` base of their own while the frame's time budget allows, so
they stay sharp as they pass the ship.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pygame

from latent_odyssey.game.engine import imaging
from latent_odyssey.game.engine.imaging import InkStyle
from latent_odyssey.game.modes.odyssey.fog import ConstantTiles, Fog

BASE_PX = 96  # base sprite side (px); 28x28 decodes are enlarged 3.4x, 64x64 faces 1.5x
LARGE_PX = 224  # the crisp base of billboards shown big
LARGE_AT = 1.6  # a billboard wider than this many BASE_PX gets a LARGE_PX base
GLOW = 0.24  # glow alpha relative to the strokes
GLOW_PASSES = 1  # the glow is the decode blurred this many times (at its own resolution)
CORE_WHITE = 0.45  # how far the sprite's colour goes from the tint toward white
CARD_RIM = 0.035  # the card's tinted rim, as a fraction of its side
ROLL_STEP_DEG = 3.0  # sprites are turned in steps of this many degrees
LEVELS = 16  # opacity steps baked into sprites (a sprite is reused within one step of its own)
SIZE_SLACK = 0.035  # a sprite is reused while within this fraction of the wanted size ...
SIZE_SLACK_PX = 0.5  # ... or this many pixels
LEAD = 0.9  # a sprite made again for a growing billboard is made this many slacks bigger
MIP_MIN_PX = 20  # the smallest mip level
NEAREST_MIN_PX = 28  # sprites at least this big are shrunk from their mip nearest-neighbour
CROP_MIN_ALPHA = 3  # base sprites are cropped to where their alpha reaches this ...
TRIM_MIN_ALPHA = 2  # ... and frame sprites (dimmed, turned) to where it reaches this: a pixel of
# alpha 1 moves the frame by less than one level, and blitting costs by area (~40 % less)
SIZE_STEP = 1.0 / 48.0  # sizes above 48 px are rounded to steps of this fraction
BASES_KEPT = 1200  # base surfaces kept (least recently used dropped)
LARGE_KEPT = 24


def _blur3(x: np.ndarray, passes: int) -> np.ndarray:
    """A small [1 2 1]/4 blur, ``passes`` times (edges zero).  # (H, W) -> (H, W)"""
    for _ in range(passes):
        p = np.pad(x, 1)
        x = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] + 4.0 * p[1:-1, 1:-1]) * 0.125
    return x


def _disc(side: int, rim: float) -> tuple[np.ndarray, np.ndarray]:
    """(inside (S, S) in [0, 1], rim (S, S) in [0, 1]): an antialiased disc filling the
    square and the ring of its outer ``rim`` fraction."""
    c = (side - 1) / 2.0
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32)
    r = np.sqrt((xx - c) ** 2 + (yy - c) ** 2)  # (S, S)
    outer = side / 2.0 - 0.5
    inside = np.clip(outer - r + 0.5, 0.0, 1.0)
    ring = np.clip(r - (outer - rim * side) + 0.5, 0.0, 1.0) * inside
    return inside, ring


def billboard_rgba(img: np.ndarray, side: int, style: InkStyle, look: str,
                   tint: tuple[int, int, int]) -> np.ndarray:
    """A decoded image (H, W, 3) uint8 as a sprite (side, side, 4) uint8 (straight alpha).

    Dark backgrounds: one colour (the tint, lifted toward white by ``CORE_WHITE``) whose
    alpha is the image's intensity in ``look`` plus a soft glow (the decode blurred at its
    own resolution, then enlarged). Light backgrounds: a round card with a tinted rim.
    """
    side = int(side)
    t = np.asarray(tint, np.float32)  # (3,)
    out = np.empty((side, side, 4), np.uint8)
    if style.dark_background:
        if look == "nearest":
            ix = (np.arange(side) * img.shape[0] // side).astype(np.int64)
            a = img[ix][:, ix, 0].astype(np.float32) * (1.0 / 255.0)
        elif look == "smooth":
            a = imaging.resample(img[..., 0].astype(np.float32) * (1.0 / 255.0), (side, side))
        else:
            a = imaging.ink_intensity(img, (side, side), style).astype(np.float32) * (1.0 / 255.0)  # (S, S)
        small = img[..., 0].astype(np.float32) * (1.0 / 255.0)  # (H, W)
        glow = imaging.resample(_blur3(small, GLOW_PASSES), (side, side))  # (S, S)
        np.maximum(a, GLOW * glow, out=a)
        a *= 255.0
        a += 0.5
        np.clip(a, 0.0, 255.0, out=a)
        out[:, :, :3] = np.clip(t + (255.0 - t) * CORE_WHITE + 0.5, 0, 255).astype(np.uint8)
        out[:, :, 3] = a.astype(np.uint8)
        return out
    if look == "nearest":
        ix = (np.arange(side) * img.shape[0] // side).astype(np.int64)
        face = img[ix][:, ix].astype(np.float32)
    else:
        x = img.astype(np.float32) / 255.0
        if look == "crisp":
            x = imaging.unsharp(x, style.sharpen)
        face = np.stack([imaging.resample(x[:, :, c], (side, side)) for c in range(3)], axis=2) * 255.0
    inside, ring = _disc(side, CARD_RIM)
    rgb = face * (1.0 - ring[:, :, None]) + t[None, None, :] * ring[:, :, None]
    out[:, :, :3] = np.clip(rgb + 0.5, 0, 255)
    out[:, :, 3] = np.clip(inside * 255.0 + 0.5, 0, 255)
    return out


def rgba_surface(rgba: np.ndarray) -> pygame.Surface:
    """uint8 (h, w, 4) straight-alpha pixels -> a per-pixel-alpha Surface."""
    arr = np.ascontiguousarray(rgba)
    surf = pygame.image.frombuffer(arr.tobytes(), (arr.shape[1], arr.shape[0]), "RGBA")
    return surf.convert_alpha() if pygame.display.get_surface() is not None else surf.copy()


def size_bucket(size: float) -> int:
    """A billboard size in px, rounded (to whole px up to 48, then to ~2 % steps)."""
    s = max(1.0, float(size))
    if s <= 48.0:
        return int(round(s))
    step = s * SIZE_STEP
    return int(round(round(s / step) * step))


ANGLE_BUCKETS = round(360.0 / ROLL_STEP_DEG)


def angle_bucket(angle_deg: float) -> int:
    """A roll angle rounded to ``ROLL_STEP_DEG``, in [0, 360): a full turn gives the same bucket."""
    n = round(360.0 / ROLL_STEP_DEG)
    return int(round(float(angle_deg) / ROLL_STEP_DEG)) % n


def level_buckets(alpha: np.ndarray) -> np.ndarray:
    """Billboard opacities in [0, 1] as steps of ``LEVELS`` (1..LEVELS).  # (N,) -> (N,) int"""
    return np.clip(np.rint(np.asarray(alpha, np.float64) * LEVELS), 1, LEVELS).astype(np.int64)


def _scaled(src: pygame.Surface, size: tuple[int, int]) -> pygame.Surface:
    """A new surface of ``src`` at ``size`` (w, h) px: nearest-neighbour when shrinking a mip
    by less than 2x (three times cheaper, and the mip chain keeps it from aliasing), else
    filtered."""
    w = src.get_width()
    if src.get_size() == size:
        return src.copy()
    if size[0] >= NEAREST_MIN_PX and size[0] < w < 2 * size[0]:
        return pygame.transform.scale(src, size)
    return pygame.transform.smoothscale(src, size)


Box = tuple[float, float, float, float]  # (x0, y0, x1, y1): a crop as fractions of the sprite's side


def cropped(surface: pygame.Surface) -> tuple[pygame.Surface, Box] | None:
    """The part of a square sprite that is not transparent, and where it sits (None when
    all of it is): scaling, turning, dimming and blitting then touch about half the pixels."""
    side = surface.get_width()
    r = surface.get_bounding_rect(min_alpha=CROP_MIN_ALPHA)
    if r.width == 0 or r.height == 0:
        return None
    return surface.subsurface(r).copy(), (r.left / side, r.top / side, r.right / side, r.bottom / side)


class Deadline:
    """A time budget for making sprites in one frame (``seconds`` None: no limit)."""

    def __init__(self, seconds: float | None) -> None:
        self.end = None if seconds is None else time.perf_counter() + seconds

    def left(self) -> bool:
        return self.end is None or time.perf_counter() < self.end


@dataclass(frozen=True)
class Made:
    """A frame sprite of one billboard: what it was made for (size px, angle and opacity
    buckets, fog step), the ``surface`` to blit (scaled, turned, dimmed, seen through the fog;
    None when nothing of it is visible), the offset (px) of its centre from the billboard's
    and the billboard's own size and level when it was made (``wanted``: it may be made
    ahead)."""

    size: int
    angle: int
    level: int
    fog: int
    surface: pygame.Surface | None
    offset: tuple[float, float]
    wanted: tuple[int, int]


class SpriteBank:
    """Base sprites per field point and the frame's scaled, turned, dimmed and fogged sprites."""

    def __init__(self, style: InkStyle) -> None:
        self.style = style
        self.look = imaging.DEFAULT_LOOK
        self.bases_made = 0  # counters, for tests and profiling
        self.sprites_made = 0
        self.large_made_here = 0  # crisp large bases made on this thread ...
        self.large_taken = 0  # ... and made beforehand (by the field's worker)
        # key -> mips, largest first: (side, (cropped surface, box) or None when empty)
        self._bases: OrderedDict[Hashable, list[tuple[int, tuple[pygame.Surface, Box] | None]]] = OrderedDict()
        self._large: OrderedDict[Hashable, tuple[pygame.Surface, Box] | None] = OrderedDict()
        self._frame: dict[Hashable, Made] = {}  # key -> this frame's sprite
        self._last: dict[Hashable, Made] = {}  # ... and the previous frame's
        self._tiles = ConstantTiles()
        self._angle = 0  # the roll (buckets) of the previous frame ...
        self._turning = False  # ... and whether this frame's differs from it

    def set_look(self, look: str) -> None:
        """Switch the look (crisp / nearest / smooth): every sprite is made again."""
        if look != self.look:
            self.look = look
            self.clear()

    def clear(self) -> None:
        self._bases.clear()
        self._large.clear()
        self._frame.clear()
        self._last.clear()

    def has_base(self, key: Hashable) -> bool:
        return key in self._bases

    def make_base(self, key: Hashable, img: np.ndarray, tint: tuple[int, int, int],
                  rgba: np.ndarray | None = None) -> None:
        """Build the base sprite of ``key`` from its decoded image (or from its pixels
        ``rgba`` (BASE_PX, BASE_PX, 4), made beforehand), with its mips."""
        if rgba is None:
            rgba = billboard_rgba(img, BASE_PX, self.style, self.look, tint)
        full = [rgba_surface(rgba)]
        while full[-1].get_width() // 2 >= MIP_MIN_PX:
            side = full[-1].get_width() // 2
            full.append(pygame.transform.smoothscale(full[-1], (side, side)))
        self._bases[key] = [(m.get_width(), cropped(m)) for m in full]
        self.bases_made += 1
        while len(self._bases) > BASES_KEPT:
            self._bases.popitem(last=False)

    def has_large(self, key: Hashable) -> bool:
        return key in self._large

    def make_large(self, key: Hashable, img: np.ndarray, tint: tuple[int, int, int],
                   rgba: np.ndarray | None = None) -> None:
        """Build the crisp large base of ``key`` (or take its pixels ``rgba`` (LARGE_PX,
        LARGE_PX, 4), made beforehand, e.g. by the field's worker)."""
        if rgba is None:
            rgba = billboard_rgba(img, LARGE_PX, self.style, self.look, tint)
            self.large_made_here += 1
        else:
            self.large_taken += 1
        self._large[key] = cropped(rgba_surface(rgba))
        while len(self._large) > LARGE_KEPT:
            self._large.popitem(last=False)

    def begin_frame(self, angle: int = 0) -> None:
        """Start a frame drawn at roll ``angle`` (buckets): the sprites of the previous frame
        may be reused once more."""
        self._last, self._frame = self._frame, {}
        self._turning = angle != self._angle  # the view is rolling: one bucket of slack
        self._angle = angle

    def sprite(self, key: Hashable, img: np.ndarray, tint: tuple[int, int, int], size: int,
               angle: int, level: int, deadline: Deadline, exact: bool = False,
               stale_ok: bool = False, fog: Fog | None = None,
               large_here: bool = True, new_ok: bool = True) -> tuple[pygame.Surface, tuple[float, float]] | None:
        """The sprite of ``key`` (its base must exist) for a billboard ``size`` px wide, turned by ``angle``
        buckets, at opacity ``level`` / LEVELS (baked in, so the blit needs no surface
        alpha: ~10x faster), its colour seen through ``fog``. The previous frame's sprite is
        reused while its size is within ``SIZE_SLACK`` of ``size``, its level within one step
        and its angle the same (within one bucket while the view rolls); ``exact``: only the
        very same sprite, so the frame depends on nothing but the state. It is made again from
        scratch when the fog step changed (rarely). A sprite made again while its
        billboard grows or shrinks (brightens, dims) is made one slack ahead, at the far end
        of what may be reused, so it lasts twice as long (``LEAD``). ``stale_ok``:
        the previous sprite is reused whatever it was (the frame's time for sprites is spent;
        it is brought up to date in a later frame). A crisp large base is made while
        ``deadline`` allows (``large_here`` False: never here, it comes from ``make_large``;
        the base's largest mip stands in meanwhile). ``new_ok`` False: a billboard with no
        sprite yet gets none this frame (the frame's time is spent; it appears a frame later).
        Returns (sprite, offset (px) of its centre from the billboard's
        centre: sprites are cropped to their ink), or None when there is nothing to draw."""
        fog = fog if fog is not None else Fog.of(0.0)
        prev = self._frame.get(key) or self._last.get(key)
        slack = 0.0 if exact else max(SIZE_SLACK_PX, SIZE_SLACK * size)
        if prev is not None:
            turn = (prev.angle - angle) % ANGLE_BUCKETS
            if ((turn == 0 or (self._turning and not exact and min(turn, ANGLE_BUCKETS - turn) <= 1))
                    and abs(prev.level - level) <= (0 if exact else 1) and abs(prev.size - size) <= slack
                    and prev.fog == fog.step):
                self._frame[key] = prev
                return None if prev.surface is None else (prev.surface, prev.offset)
            if stale_ok and not exact:
                self._frame[key] = prev
                return None if prev.surface is None else (prev.surface, prev.offset)
        elif not new_ok and not exact:
            return None
        wanted = (size, level)
        if prev is not None and not exact:  # made one slack ahead, in the direction it is going
            if size != prev.wanted[0]:  # whole pixels, never past the slack (small sprites: none)
                size = max(1, size + int(math.copysign(math.floor(LEAD * slack), size - prev.wanted[0])))
            if level != prev.wanted[1]:
                level = min(LEVELS, max(1, level + (1 if level > prev.wanted[1] else -1)))
        mips = self._bases.get(key)
        if mips is None:
            return None
        self._bases.move_to_end(key)
        src = mips[0][1]
        for side, part in mips[1:]:
            if side >= size:
                src = part
        final = True  # False: a stand-in (the crisp large base is still to come), not kept
        if size > LARGE_AT * BASE_PX:
            if key not in self._large and large_here and deadline.left():
                self.make_large(key, img, tint)
            if key in self._large:
                self._large.move_to_end(key)
                src = self._large[key]
            else:
                final = False
        if src is None:
            return None
        part, (x0, y0, x1, y1) = src
        s = _scaled(part, (max(1, round(size * (x1 - x0))), max(1, round(size * (y1 - y0)))))
        ox, oy = ((x0 + x1) / 2 - 0.5) * size, ((y0 + y1) / 2 - 0.5) * size
        if angle:
            deg = angle * ROLL_STEP_DEG
            s = pygame.transform.rotate(s, deg)
            a = math.radians(deg)  # the offset turns with the sprite (counter-clockwise on screen)
            ox, oy = ox * math.cos(a) + oy * math.sin(a), -ox * math.sin(a) + oy * math.cos(a)
        # the alpha times level / LEVELS and the colour seen through the fog: one multiply
        # (255 is pygame's identity), then the fog's haze
        keep = fog.keep if fog else 255
        mult = (keep, keep, keep, int(round(255 * level / LEVELS)))
        if mult != (255, 255, 255, 255):
            self._tiles.blend(s, mult, pygame.BLEND_RGBA_MULT)
        if fog:
            self._tiles.blend(s, fog.haze, pygame.BLEND_RGB_ADD)
        w, h = s.get_size()
        r = s.get_bounding_rect(min_alpha=TRIM_MIN_ALPHA)
        if r.width == 0 or r.height == 0:  # nothing visible: remembered, so not made again
            made = Made(size, angle, level, fog.step, None, (ox, oy), wanted)
        else:
            if r.size != (w, h):  # trimmed: the corners a turn adds, glow too faint to see
                s = s.subsurface(r)
                ox, oy = ox + r.x + 0.5 * (r.width - w), oy + r.y + 0.5 * (r.height - h)
            made = Made(size, angle, level, fog.step, s, (ox, oy), wanted)
        if final:
            self._frame[key] = made
        self.sprites_made += 1
        return None if made.surface is None else (made.surface, made.offset)
