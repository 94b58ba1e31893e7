"""The haze outside the populated region, applied where things are drawn, not as a pass over
the finished frame.

Fog of level ``f`` turns every colour ``c`` of the view into ``c (1 - f) + HAZE f``. That map
is affine, and alpha blending ("over") mixes colours convexly, so fogging each thing before it
is blended gives the same picture as fogging the frame afterwards: the field's sky is kept
fogged (one surface per step), stars and the horizon get fogged colours, and each billboard
sprite gets its colour fogged (its alpha untouched). Two full-window blend passes (~0.9 ms at
1280x720) become a few small ones. The tunnel, composed at half the window's size, is fogged
there before it is scaled up (a quarter of the pixels).

Levels are quantised to ``FOG_STEPS`` steps, so the surfaces made for a step are reused.
:class:`ConstantTiles` blends a surface with one colour by blitting constant tiles (a blit
with a blend flag is ~20x faster than ``fill`` with that flag).
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

HAZE = (70, 46, 96)  # the fog's colour
FOG_STEPS = 12  # fog levels are quantised to this many steps
TILE_PX = 256  # side of the constant tiles blended onto surfaces


@dataclass(frozen=True)
class Fog:
    """One quantised fog level: ``step`` of FOG_STEPS (0: clear), the multiplier ``keep``
    (0..255) and the ``haze`` added after it."""

    step: int
    keep: int
    haze: tuple[int, int, int]

    @classmethod
    def of(cls, level: float) -> Fog:
        """The fog for a level in [0, 1] (quantised to FOG_STEPS steps)."""
        step = max(0, min(FOG_STEPS, round(float(level) * FOG_STEPS)))
        f = step / FOG_STEPS
        return cls(step, int(255 * (1.0 - f)), (int(HAZE[0] * f), int(HAZE[1] * f), int(HAZE[2] * f)))

    def __bool__(self) -> bool:
        return self.step > 0

    def colour(self, c: tuple[int, int, int]) -> tuple[int, int, int]:
        """A colour seen through the fog (pygame's MULT then ADD, as :meth:`apply` does it)."""
        if not self:
            return (int(c[0]), int(c[1]), int(c[2]))
        return tuple(min(255, ((int(v) * self.keep + 255) >> 8) + h) for v, h in zip(c, self.haze, strict=True))

    def apply(self, surface: pygame.Surface, tiles: ConstantTiles) -> None:
        """Fog the colours of ``surface`` in place (its alpha, if any, is kept)."""
        if self:
            tiles.blend(surface, (self.keep, self.keep, self.keep), pygame.BLEND_RGB_MULT)
            tiles.blend(surface, self.haze, pygame.BLEND_RGB_ADD)


class ConstantTiles:
    """Blends surfaces with a constant colour by blitting ``TILE_PX`` tiles of it."""

    def __init__(self) -> None:
        self._tiles: dict[tuple, pygame.Surface] = {}

    def blend(self, surface: pygame.Surface, colour: tuple[int, ...], flag: int) -> None:
        """``surface`` blended in place with ``colour`` (RGB, or RGBA with an RGBA ``flag``)."""
        key = (tuple(colour), flag)
        tile = self._tiles.get(key)
        if tile is None:
            if len(self._tiles) > 64:
                self._tiles.clear()
            tile = pygame.Surface((TILE_PX, TILE_PX), pygame.SRCALPHA if len(colour) == 4 else 0)
            tile.fill(colour)
            self._tiles[key] = tile
        w, h = surface.get_size()
        for y in range(0, h, TILE_PX):
            for x in range(0, w, TILE_PX):
                surface.blit(tile, (x, y), special_flags=flag)
