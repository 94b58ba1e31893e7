"""Where the Navigator's panels go for one window size, shared by input (clicks) and drawing
(and ``MapGeometry``, the map transform that the drawing modules read).

``Layout`` holds the screen rectangles (header, latent map, decoded image, info panel,
interpolation strip) and the UI scale ``k``; ``thumb_rects`` places the interpolation
thumbnails inside the strip panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pygame


class MapGeometry(Protocol):
    """The map's placement and transform, as the Navigator scene offers them to drawing code."""

    @property
    def map_rect(self) -> pygame.Rect: ...

    @property
    def k(self) -> float: ...  # the UI scale, 1 at 1280x720

    @property
    def scale(self) -> float: ...  # pixels per latent unit

    def latent_to_screen(self, p: np.ndarray) -> tuple[float, float]: ...

    def screen_to_latent(self, px: float, py: float) -> np.ndarray: ...


def font_px(px: float, k: float) -> int:
    """A font size scaled with the window (``k``: the UI scale), never below 10 px."""
    return max(10, round(px * k))


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


def thumb_rects(r: pygame.Rect, k: float, frames: int) -> list[list[pygame.Rect]]:
    """Where the interpolation frames go in the strip panel ``r``: two rows of ``frames``
    squares (linear, then spherical), at UI scale ``k``."""
    gap = max(3, round(6 * k))
    label_h = round(18 * k)
    top = round(40 * k)
    foot = round(30 * k)
    inner_w = r.width - round(28 * k)
    size = min((inner_w - gap * (frames - 1)) // frames, (r.height - top - foot - 2 * label_h - 8) // 2)
    size = max(8, size)
    total = size * frames + gap * (frames - 1)
    x0 = r.left + (r.width - total) // 2
    rows = []
    y = r.top + top + label_h
    for _row in range(2):
        rows.append([pygame.Rect(x0 + i * (size + gap), y, size, size) for i in range(frames)])
        y += size + label_h + 8
    return rows


@dataclass
class SampleStripRects:
    """Where the reparameterization strip's pictures go inside the strip panel."""

    source: pygame.Rect  # the picture as the encoder sees it
    mean: pygame.Rect  # the decoded μ
    samples: list[pygame.Rect]  # the decoded z = μ + σ·ε, in two rows


def sample_strip_rects(r: pygame.Rect, k: float, n: int) -> SampleStripRects:
    """The strip panel ``r`` with an encoded picture: the source and the decoded μ side by side
    on the left, ``n`` sample decodes in two rows on the right, at UI scale ``k``."""
    pad = round(14 * k)
    top = r.top + round(44 * k)
    foot = round(30 * k)
    label_h = round(18 * k)
    gap = max(3, round(8 * k))
    avail_h = r.bottom - foot - top
    big = max(16, min(round(112 * k), avail_h - label_h - round(36 * k), (r.width - 2 * pad) // 5))
    source = pygame.Rect(r.left + pad, top + label_h, big, big)
    mean = pygame.Rect(source.right + round(26 * k), source.top, big, big)
    cols = max(1, (n + 1) // 2)
    left = mean.right + round(28 * k)
    size = max(8, min((r.right - pad - left - gap * (cols - 1)) // cols, (avail_h - 2 * label_h - gap) // 2))
    samples = []
    for i in range(n):
        row, col = divmod(i, cols)
        samples.append(pygame.Rect(left + col * (size + gap), top + label_h + row * (size + label_h + gap), size, size))
    return SampleStripRects(source, mean, samples)
