"""Drawing helpers shared by every scene: cached fonts, text with anchors, panels, image blits.

Colours are RGB tuples; sizes are in pixels.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pygame

BG = (12, 14, 24)
PANEL = (22, 26, 42)
FG = (225, 230, 245)
DIM = (140, 150, 175)
ACCENT = (255, 196, 64)
WARN = (255, 96, 80)
PANEL_EDGE = (40, 46, 72)  # border of opaque panels (``card``)
BACKDROP_LOW = (18, 16, 34)  # the backdrop's gradient runs from BG to this at the bottom
HEADER_RULE = (34, 40, 64)  # the line under a mode's header
CARD_RADIUS_PX = 10
LINEAR_COLOUR = (90, 205, 255)  # a linear interpolation path (Navigator, Face Studio)
SLERP_COLOUR = (255, 112, 196)  # a spherical one
# tab10-like class colours, readable on the dark background
CLASS_COLOURS = [
    (31, 150, 255), (255, 140, 30), (60, 200, 80), (240, 70, 70), (170, 120, 230),
    (190, 120, 90), (240, 120, 200), (160, 160, 160), (210, 210, 50), (40, 210, 220),
]


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> pygame.font.Font:
    """The UI font at ``size`` px (pygame's bundled font, so it exists everywhere)."""
    if not pygame.font.get_init():
        pygame.font.init()
    f = pygame.font.Font(None, int(size * 1.35))
    f.set_bold(bold)
    return f


@lru_cache(maxsize=1024)
def text_surface(
    s: str, size: int = 18, color: tuple[int, int, int] = FG, bold: bool = False
) -> pygame.Surface:
    """The rendered (anti-aliased) text, cached: redrawing the same label costs one blit.

    Treat the returned surface as read-only (it is shared).
    """
    return font(size, bold).render(s, True, color)


def fit_text(s: str, size: int, width: int, bold: bool = False) -> str:
    """``s``, shortened with an ellipsis if needed to fit ``width`` pixels at ``size``."""
    f = font(size, bold)
    if f.size(s)[0] <= width:
        return s
    while s and f.size(s + "…")[0] > width:
        s = s[:-1]
    return s + "…" if s else ""


def clear_caches() -> None:
    """Forget cached fonts and rendered text (call before ``pygame.quit()``)."""
    text_surface.cache_clear()
    font.cache_clear()


def text(
    surface: pygame.Surface, s: str, pos: tuple[int, int], size: int = 18,
    color: tuple[int, int, int] = FG, anchor: str = "topleft", bold: bool = False,
) -> pygame.Rect:
    """Draw ``s`` anchored at ``pos`` (any pygame.Rect anchor name); returns its rect."""
    img = text_surface(s, size, tuple(color), bold)
    rect = img.get_rect(**{anchor: pos})
    surface.blit(img, rect)
    return rect


def panel(surface: pygame.Surface, rect: pygame.Rect, alpha: int = 200, color=PANEL, radius: int = 8) -> None:
    """A translucent rounded panel (nothing where ``rect`` has no area: a tiny window)."""
    if rect.width <= 0 or rect.height <= 0:
        return
    layer = pygame.Surface(rect.size, pygame.SRCALPHA)
    pygame.draw.rect(layer, (*color, alpha), layer.get_rect(), border_radius=radius)
    surface.blit(layer, rect.topleft)


def backdrop(size: tuple[int, int], header_bottom: int) -> pygame.Surface:
    """A mode's window background: ``BG`` with a soft vertical gradient for depth (4 px
    bands toward ``BACKDROP_LOW`` at the bottom) and a rule along the header's bottom edge."""
    s = pygame.Surface(size)
    s.fill(BG)
    for y in range(0, size[1], 4):
        pygame.draw.rect(s, mix(BG, BACKDROP_LOW, y / max(1, size[1])), (0, y, size[0], 4))
    pygame.draw.line(s, HEADER_RULE, (0, header_bottom - 1), (size[0], header_bottom - 1))
    return s


def card(surface: pygame.Surface, rect: pygame.Rect, color=PANEL) -> None:
    """An opaque rounded panel with a 1 px ``PANEL_EDGE`` border (drawn onto ``surface``)."""
    pygame.draw.rect(surface, color, rect, border_radius=CARD_RADIUS_PX)
    pygame.draw.rect(surface, PANEL_EDGE, rect, width=1, border_radius=CARD_RADIUS_PX)


def class_colour(label: int) -> tuple[int, int, int]:
    return CLASS_COLOURS[label % len(CLASS_COLOURS)] if label >= 0 else DIM


def mix(c1: tuple[int, int, int], c2: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    """The colour ``f`` of the way from ``c1`` to ``c2`` (f = 0: c1, f = 1: c2), truncated."""
    return tuple(int(a + (b - a) * f) for a, b in zip(c1, c2, strict=True))  # type: ignore[return-value]


def image_surface(rgb8: np.ndarray) -> pygame.Surface:
    """uint8 (H, W, 3) -> a pygame Surface (H, W)."""
    return pygame.image.frombuffer(np.ascontiguousarray(rgb8).tobytes(), (rgb8.shape[1], rgb8.shape[0]), "RGB")

