"""The Navigator's drawing pad: a square canvas of ink the encoder reads while you draw.

The canvas is ``PAD_CELLS`` x ``PAD_CELLS`` cells of ink in [0, 1] (bright ink on black, as
MNIST is). A stroke from point a to point b (cell coordinates, x right and y down, a cell's
centre at +0.5) inks every cell whose centre is within ``radius`` of the segment, with a
one-cell anti-aliased edge: ``coverage = clip(radius + 0.5 - distance, 0, 1)``. The pen
keeps the larger of old ink and coverage; the eraser removes coverage. ``version`` counts
edits, so the scene re-encodes only a changed drawing.

Controls (``PadInput``, which the Navigator scene hands its input while the pad is open):
left drag on the pad draws, right drag (``pad_eraser`` on the mouse) erases; the moves (keys
or the stick) drive the pen point and ``mark`` (Space / A) held inks; ``pad_eraser`` (X)
switches pen and eraser. ``pad_clear`` (C) is the scene's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pygame

from latent_odyssey.game.engine.input import InputState

PAD_CELLS = 112  # canvas side in cells (4x MNIST's 28, before the MNIST recipe shrinks it)
PEN_RADIUS_CELLS = 4.0  # pen: a stroke about 1/14 of the pad wide, like MNIST's pen at 28 px
ERASER_RADIUS_CELLS = 9.0
PEN_SPEED_CELLS_PER_S = 70.0  # the pen point at full stick / a held key


def capsule_coverage(xs: np.ndarray, ys: np.ndarray, a: tuple[float, float], b: tuple[float, float],
                     radius: float) -> np.ndarray:
    """Anti-aliased coverage in [0, 1] of a round-capped stroke from ``a`` to ``b`` at points
    (xs, ys): ``clip(radius + 0.5 - distance to the segment, 0, 1)``."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / length2, 0.0, 1.0)
    else:
        t = np.zeros_like(xs)
    dist = np.hypot(xs - (ax + t * dx), ys - (ay + t * dy))
    return np.clip(radius + 0.5 - dist, 0.0, 1.0)


class DrawingPad:
    """A canvas of ink (see the module docstring); nothing here draws on the screen."""

    def __init__(self, cells: int = PAD_CELLS) -> None:
        self.cells = cells
        self.ink = np.zeros((cells, cells), np.float64)  # (H, W) in [0, 1], row 0 at the top
        self.version = 0  # edits so far
        self.eraser = False  # the tool: pen (False) or eraser
        self.pen = np.array([cells / 2, cells / 2])  # (2,) the keyboard / stick pen point, cells
        self.last: tuple[float, float] | None = None  # where the current stroke is, cells

    @property
    def empty(self) -> bool:
        return not bool((self.ink > 0.5).any())

    def radius(self, eraser: bool | None = None) -> float:
        return ERASER_RADIUS_CELLS if (self.eraser if eraser is None else eraser) else PEN_RADIUS_CELLS

    def stroke(self, a: tuple[float, float], b: tuple[float, float], eraser: bool | None = None) -> None:
        """Ink (or erase) the segment a -> b, in cell coordinates."""
        erase = self.eraser if eraser is None else eraser
        r = self.radius(erase)
        n = self.cells
        x0 = int(max(0, np.floor(min(a[0], b[0]) - r - 1)))
        x1 = int(min(n, np.ceil(max(a[0], b[0]) + r + 1)))
        y0 = int(max(0, np.floor(min(a[1], b[1]) - r - 1)))
        y1 = int(min(n, np.ceil(max(a[1], b[1]) + r + 1)))
        if x0 >= x1 or y0 >= y1:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5  # cell centres
        cov = capsule_coverage(xs, ys, a, b, r)
        block = self.ink[y0:y1, x0:x1]
        self.ink[y0:y1, x0:x1] = np.minimum(block, 1.0 - cov) if erase else np.maximum(block, cov)
        self.version += 1

    def draw_to(self, p: tuple[float, float], eraser: bool | None = None) -> None:
        """Continue the current stroke to ``p`` (a dot when the stroke starts there)."""
        start = self.last if self.last is not None else p
        self.stroke(start, p, eraser)
        self.last = (float(p[0]), float(p[1]))

    def lift(self) -> None:
        """End the current stroke."""
        self.last = None

    def move_pen(self, dx: float, dy: float) -> tuple[float, float]:
        """Move the keyboard / stick pen point by (dx, dy) cells, kept on the canvas."""
        self.pen = np.clip(self.pen + np.array([dx, dy]), 0.0, self.cells - 1e-6)
        return float(self.pen[0]), float(self.pen[1])

    def clear(self) -> None:
        self.ink[:] = 0.0
        self.last = None
        self.version += 1

    def picture(self) -> np.ndarray:
        """The drawing as an 8-bit grey picture (bright ink on black).  # (H, W) uint8"""
        return (np.clip(self.ink, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

    def to_cells(self, px: float, py: float, rect_x: int, rect_y: int, rect_size: int) -> tuple[float, float]:
        """A window pixel over the pad drawn at (rect_x, rect_y, rect_size square) -> cells."""
        s = self.cells / max(rect_size, 1)
        return (px + 0.5 - rect_x) * s, (py + 0.5 - rect_y) * s


class PadInput:
    """Drawing gestures on a ``DrawingPad`` shown at a window rectangle: mouse strokes, and
    the pen point driven by keys or a stick with ``mark`` held."""

    def __init__(self) -> None:
        self.pointer_action: str | None = None  # "mark" or "pad_eraser": a mouse stroke under way
        self.pen_down = False  # a keyboard / stick stroke is under way

    def reset(self, pad: DrawingPad) -> None:
        """End any stroke (the pad opened or closed)."""
        self.pointer_action, self.pen_down = None, False
        pad.lift()

    def handle(self, pad: DrawingPad, inp: InputState, rect: pygame.Rect,
               notify: Callable[[str], None]) -> bool:
        """This frame's input for the pad drawn at ``rect``; True when it took ``mark`` (so
        it neither marks A/B nor moves the map's cursor)."""
        pointer = inp.pointer
        if inp.last_device == "mouse" and pointer is not None:
            for action, erase in (("mark", False), ("pad_eraser", True)):
                if inp.pressed(action) and rect.collidepoint(pointer):
                    self.pointer_action = action
                    pad.lift()
                    pad.draw_to(pad.to_cells(*pointer, rect.x, rect.y, rect.width), eraser=erase)
                    return True
            if self.pointer_action is None:
                return False
            if inp.held(self.pointer_action):
                x = min(max(pointer[0], rect.left), rect.right - 1)
                y = min(max(pointer[1], rect.top), rect.bottom - 1)
                pad.draw_to(pad.to_cells(x, y, rect.x, rect.y, rect.width), eraser=self.pointer_action == "pad_eraser")
            else:
                self.pointer_action = None
                pad.lift()
            return True
        if inp.pressed("pad_eraser"):
            pad.eraser = not pad.eraser
            notify("Eraser" if pad.eraser else "Pen")
        if inp.pressed("mark"):
            pad.lift()
            pad.draw_to((float(pad.pen[0]), float(pad.pen[1])))
            self.pen_down = True
            return True
        if self.pen_down:
            if not inp.held("mark"):
                self.pen_down = False
                pad.lift()
            return True
        return False

    def move_pen(self, pad: DrawingPad, move: tuple[float, float], dt: float) -> None:
        """Drive the pen point by the move axes (x right, y up +) for ``dt`` s; ink when down."""
        mx, my = move
        if mx or my:
            p = pad.move_pen(mx * PEN_SPEED_CELLS_PER_S * dt, -my * PEN_SPEED_CELLS_PER_S * dt)
            if self.pen_down:
                pad.draw_to(p)
