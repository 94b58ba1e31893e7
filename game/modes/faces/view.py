"""The Face Studio's drawing: it turns the scene's state into pixels and changes none of it.

``FaceStudioView.draw(surface, scene)`` lays the window out (``layout.Layout``), then paints
the header, the big face with its source bar (where random faces come from, and their
temperature) and status pill, the attribute sliders (and the attribute grid),
slots A/B with the morph arrow, and the morph strip. The view owns the scaled surfaces of the
decoded images and the panel chrome, each kept until its image, size or scaling changes. It
reads the scene through ``StudioLike``; the scene decodes the images before each draw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

import numpy as np
import pygame

from latent_odyssey.game.engine import imaging, ui
from latent_odyssey.game.engine.scene import GameContext
from latent_odyssey.game.engine.ui import LINEAR_COLOUR, SLERP_COLOUR
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.model.morph import ease_in_out
from latent_odyssey.game.modes.faces.layout import COLUMN_HEAD_PX, PANEL_TITLE_PX, Layout, Row
from latent_odyssey.game.modes.faces.state import (
    GRID_VALUES,
    SLIDER_MAX,
    SLIDER_MIN,
    STRIP_FRAMES,
    Anim,
    FaceState,
    Slot,
    uses_temperature,
)

TRACK = (46, 52, 80)
TICK = (70, 78, 112)
KEYCAP = (60, 66, 96)
HINT = (110, 120, 150)
SHADOW = (6, 8, 14)
SLOT_COLOURS = {"A": (120, 225, 170), "B": (255, 160, 90)}
ATTR_COLOURS = {
    "smile": (255, 200, 80),
    "age": (170, 150, 255),
    "gender": (255, 120, 180),
    "glasses": (100, 200, 255),
}
SOURCE_COLOURS = {  # the source bar's dot and name, per source of random faces
    "density": (120, 225, 170),
    "prior": (255, 140, 110),
    "encoded": (110, 180, 255),
}
SOURCE_SHORT = {"density": "fitted density", "prior": "prior N(0, I)", "encoded": "encoded faces"}
ATTR_ENDS = {  # what the low and high ends of each slider look like (train/faces.py)
    "smile": ("frown", "grin"),
    "age": ("young", "old"),
    "gender": ("feminine", "masculine"),
    "glasses": ("none", "glasses"),
}

T = TypeVar("T")


class StudioLike(Protocol):
    """What the view reads of the Face Studio scene (``scene.FaceStudioScene``)."""

    ctx: GameContext
    meta: ModelMeta
    names: list[str]  # attribute names, one slider each
    keys: dict[str, str]  # action -> short key name for the hints ('' when unbound)
    state: FaceState  # the edited face (without a running animation)
    selected: int  # the selected slider
    anim: Anim | None
    t: float  # s, scene time
    spherical: bool
    show_grid: bool
    face_no: int
    source: str  # where random faces come from: "density", "prior" or "encoded"
    temperature: float  # of density and prior samples
    slots: dict[str, Slot | None]
    face_image: np.ndarray | None  # uint8 (H, W, 3)
    grid_images: list[np.ndarray] | None  # K * len(GRID_VALUES), row by row
    strip_images: list[np.ndarray] | None  # 2 * STRIP_FRAMES: linear row, slerp row

    @property
    def sliders(self) -> np.ndarray:
        """Slider values on screen now.  # (K,)"""

    def at_slot(self) -> str | None:
        """'A' or 'B' when the face on screen is that slot's face."""


class _Cached(Generic[T]):
    """Something drawn (a surface, a list of them) and what it was drawn from: it is drawn
    again when the source object (compared by identity) or the key (by value) changes."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._source: object = None
        self._key: tuple = ()

    def get(self, source: object, key: tuple, make: Callable[..., T], *args: object) -> T:
        """The kept value, or ``make(*args)`` when ``source`` or ``key`` changed."""
        if self._value is None or self._source is not source or self._key != key:
            self._value, self._source, self._key = make(*args), source, key
        return self._value


def _signed(v: float) -> str:
    """'+1.25', '−0.50' (a real minus sign), '0.00'."""
    if abs(v) < 0.005:
        return "0.00"
    return f"+{v:.2f}" if v > 0 else f"\u2212{-v:.2f}"


def _path_colour(spherical: bool) -> tuple[int, int, int]:
    return SLERP_COLOUR if spherical else LINEAR_COLOUR


def _morph_at(scene: StudioLike) -> float | None:
    """Where a running morph is on the way from A (0) to B (1); None when no morph runs."""
    a = scene.anim
    if a is None or not a.morph:
        return None
    e = ease_in_out(a.progress(scene.t))
    return e if a.label.startswith("A") else 1 - e


def _scale(rgb8: np.ndarray, size: tuple[int, int], look: str) -> pygame.Surface:
    """A decoded image at ``size`` (px) in the image ``look`` (``engine.imaging``: crisp,
    nearest or smooth)."""
    return imaging.enlarged(rgb8, size, look)


def _scale_all(images: list[np.ndarray], size: tuple[int, int], look: str) -> list[pygame.Surface]:
    """``_scale`` of each image."""
    return [_scale(img, size, look) for img in images]


def _keycap(surface: pygame.Surface, key: str, pos: tuple[int, int], size: int = 12) -> int:
    """A key name in a rounded box with its left edge at pos (vertical centre); returns the right edge."""
    if not key:
        return pos[0]
    img = ui.text_surface(key, size, ui.FG, True)
    r = img.get_rect(midleft=(pos[0] + 5, pos[1]))
    pygame.draw.rect(surface, KEYCAP, r.inflate(10, 6), width=1, border_radius=5)
    surface.blit(img, r)
    return r.right + 5


def _hints(surface: pygame.Surface, items: list[tuple[str, str]], left: int, right: int, y: int) -> None:
    """Key caps with a word each, right-aligned at ``right``; the last ones are left out
    when they would reach ``left``."""
    parts = [(key, what) for key, what in items if key]
    widths = [ui.font(12, True).size(k)[0] + 14 + ui.font(12).size(w)[0] + 18 for k, w in parts]
    while parts and sum(widths) - 12 > right - left:
        parts.pop()
        widths.pop()
    x = right - sum(widths) + 12
    for (key, what), wdt in zip(parts, widths, strict=True):
        end = _keycap(surface, key, (x, y))
        ui.text(surface, what, (end + 5, y), size=12, color=HINT, anchor="midleft")
        x += wdt


def _badge(surface: pygame.Surface, slot: str, topleft: tuple[int, int], size: int) -> None:
    """The slot's letter on a rounded square of its colour, ``size`` px."""
    r = pygame.Rect(topleft, (size, size))
    pygame.draw.rect(surface, SHADOW, r.inflate(4, 4), border_radius=size // 3 + 2)
    pygame.draw.rect(surface, SLOT_COLOURS[slot], r, border_radius=size // 3)
    ui.text(surface, slot, r.center, size=int(size * 0.6), color=(12, 14, 24), anchor="center", bold=True)


def _draw_track(surface: pygame.Surface, row: Row, v: float, colour: tuple[int, int, int], sel: bool,
                ends: tuple[str, str] | None) -> None:
    """One slider: the track with a tick under each grid column, the fill from 0 and the knob."""
    t = row.track
    y = t.top
    span = SLIDER_MAX - SLIDER_MIN
    pygame.draw.line(surface, TRACK, (t.left, y), (t.right, y), 6)
    pygame.draw.circle(surface, TRACK, (t.left, y), 3)
    pygame.draw.circle(surface, TRACK, (t.right, y), 3)
    for g in GRID_VALUES:
        x = t.left + int(round((g - SLIDER_MIN) / span * t.w))
        half = 7 if g == 0 else 4
        pygame.draw.line(surface, TICK, (x, y - half), (x, y + half), 1)
    x0 = t.left + (0 - SLIDER_MIN) / span * t.w
    xv = t.left + (v - SLIDER_MIN) / span * t.w
    if abs(xv - x0) >= 1:
        fill = colour if sel else ui.mix(colour, ui.PANEL, 0.35)
        pygame.draw.line(surface, fill, (int(min(x0, xv)), y), (int(max(x0, xv)), y), 6)
    r = 10 if sel else 8
    c = (int(round(xv)), y)
    if sel:
        glow = pygame.Surface((4 * r, 4 * r), pygame.SRCALPHA)
        pygame.draw.circle(glow, (*colour, 60), (2 * r, 2 * r), 2 * r - 2)
        surface.blit(glow, (c[0] - 2 * r, c[1] - 2 * r))
    pygame.draw.circle(surface, SHADOW, c, r + 2)
    pygame.draw.circle(surface, colour if sel else ui.mix(colour, ui.DIM, 0.3), c, r)
    pygame.draw.circle(surface, (250, 250, 255), c, max(2, r // 3))
    if ends is not None:
        ui.text(surface, ends[0], (t.left - 20, y), size=12, color=HINT, anchor="midright")
        ui.text(surface, ends[1], (t.right + 20, y), size=12, color=HINT, anchor="midleft")


class FaceStudioView:
    """Draws the Face Studio; owns its layout and the cached surfaces."""

    def __init__(self) -> None:
        self.layout: Layout | None = None  # of the last drawn frame
        self.drop_surfaces()

    def drop_surfaces(self) -> None:
        """Forget every cached surface (they are made again when next drawn); the layout stays."""
        self._chrome: _Cached[pygame.Surface] = _Cached()
        self._face: _Cached[pygame.Surface] = _Cached()
        self._grid: _Cached[list[pygame.Surface]] = _Cached()
        self._strip: _Cached[pygame.Surface] = _Cached()
        self._slots: defaultdict[str, _Cached[pygame.Surface]] = defaultdict(_Cached)

    def draw(self, surface: pygame.Surface, scene: StudioLike) -> None:
        """The whole studio on ``surface``, laid out for its size."""
        w, h = surface.get_size()
        if self.layout is None or self.layout.size != (w, h) or self.layout.grid != scene.show_grid:
            self.layout = Layout.build(w, h, len(scene.names), scene.show_grid)
        lay = self.layout
        surface.blit(self._chrome.get(None, (lay.size, lay.grid), self._make_chrome), (0, 0))
        self._draw_header(surface, scene)
        self._draw_face(surface, scene)
        self._draw_attributes(surface, scene)
        self._draw_slots(surface, scene)
        self._draw_strip(surface, scene)

    def _make_chrome(self) -> pygame.Surface:
        """The backdrop, panel cards, panel titles and column headings (no state in them)."""
        lay = self.layout
        s = ui.backdrop(lay.size, lay.header.bottom)
        for rect in (lay.face_panel, lay.attrs, lay.slots, lay.strip):
            ui.card(s, rect)
        pygame.draw.rect(s, (0, 0, 0), lay.face.inflate(4, 4), border_radius=6)
        for title, rect in (("ATTRIBUTES", lay.attrs), ("SLOTS", lay.slots), ("MORPH STRIP", lay.strip)):
            ui.text(s, title, (rect.left + 14, rect.top + 12), size=13, color=ui.DIM, bold=True)
        # column headings over the sliders: the grid values, under which ticks and cells sit
        if lay.rows:
            for v, x in zip(GRID_VALUES, lay.columns, strict=True):
                label = "0" if v == 0 else _signed(v)[:-3]
                ui.text(s, label, (x, lay.attrs.top + PANEL_TITLE_PX + COLUMN_HEAD_PX - 2), size=12, color=HINT,
                        anchor="midbottom")
        return s

    def _draw_header(self, surface: pygame.Surface, scene: StudioLike) -> None:
        cy = self.layout.header.centery
        rect = ui.text(surface, "LATENT ODYSSEY", (18, cy), size=20, color=ui.ACCENT, anchor="midleft", bold=True)
        rect = ui.text(surface, "Face Studio", (rect.right + 12, cy), size=20, color=ui.FG, anchor="midleft")
        m = scene.meta
        info = f"{m.name}   ·   {m.latent_dim}-D latent   ·   {m.image_shape[2]}×{m.image_shape[1]}"
        if m.dataset:
            info = f"{m.name}   ·   {m.dataset}   ·   " + info.split("   ·   ", 1)[1]
        if rect.right + 26 + ui.font(14).size(info)[0] < self.layout.size[0] - 16:
            ui.text(surface, info, (rect.right + 26, cy + 1), size=14, color=ui.DIM, anchor="midleft")

    def _draw_face(self, surface: pygame.Surface, scene: StudioLike) -> None:
        rect = self.layout.face
        look = scene.ctx.image_look
        image = scene.face_image
        if image is not None:
            face = self._face.get(image, (rect.size, look), _scale, image, rect.size, look)
            surface.blit(face, rect.topleft)
        pygame.draw.rect(surface, (60, 68, 100), rect.inflate(2, 2), width=1, border_radius=4)
        # status pill at the bottom of the face
        a = scene.anim
        if a is not None and a.morph:
            p = a.progress(scene.t)
            status = f"morphing {a.label}  ·  {'spherical' if scene.spherical else 'linear'}  ·  {p * 100:3.0f} %"
            colour = _path_colour(scene.spherical)
        elif a is not None:
            status, colour = "gliding", ui.FG
        else:
            edited = int(np.count_nonzero(np.abs(scene.state.sliders) >= 0.005))
            status = f"face {scene.face_no}" + (f"  ·  {edited} slider{'s' if edited != 1 else ''} moved" if edited else "")
            colour = ui.FG
        img = ui.text_surface(status, 14, colour, False)
        pill = img.get_rect(midbottom=(rect.centerx, rect.bottom - 10)).inflate(22, 10)
        ui.panel(surface, pill, alpha=185, color=(10, 12, 22), radius=pill.h // 2)
        surface.blit(img, img.get_rect(center=pill.center))
        slot = scene.at_slot()
        if slot is not None:
            _badge(surface, slot, (rect.left + 12, rect.top + 12), 30)
        self._draw_source(surface, scene)

    def _draw_source(self, surface: pygame.Surface, scene: StudioLike) -> None:
        """The source bar: a dot and the name of the source of random faces, and the temperature."""
        bar = self.layout.source_bar
        if not bar.w:
            return
        colour = SOURCE_COLOURS.get(scene.source, ui.FG)
        pointer = scene.ctx.input.pointer
        hover = pointer is not None and bar.collidepoint(pointer)
        ui.panel(surface, bar, alpha=200 if hover else 170, color=(10, 12, 22), radius=bar.h // 2)
        if hover:
            pygame.draw.rect(surface, ui.mix(colour, ui.PANEL, 0.4), bar, width=1, border_radius=bar.h // 2)
        cy = bar.centery
        pygame.draw.circle(surface, colour, (bar.left + 16, cy), 5)
        r = ui.text(surface, "random:", (bar.left + 28, cy), size=13, color=ui.DIM, anchor="midleft")
        ui.text(surface, SOURCE_SHORT.get(scene.source, scene.source), (r.right + 6, cy), size=14, color=colour,
                anchor="midleft", bold=True)
        temp = f"T {scene.temperature:.1f}" if uses_temperature(scene.source) else "T –"
        ui.text(surface, temp, (bar.right - 14, cy), size=14, color=ui.FG, anchor="midright", bold=True)

    def _grid_surfaces(self, scene: StudioLike) -> list[pygame.Surface] | None:
        """The grid images scaled to the cells; None while there are none to show."""
        lay = self.layout
        images = scene.grid_images
        if not lay.grid or images is None or not lay.rows:
            return None
        size = lay.rows[0].cells[0].size
        look = scene.ctx.image_look
        return self._grid.get(images, (size, look), _scale_all, images, size, look)

    def _draw_attributes(self, surface: pygame.Surface, scene: StudioLike) -> None:
        lay = self.layout
        k = scene.keys
        _hints(surface, [(k["attr_prev"] + "/" + k["attr_next"] if k["attr_prev"] else "", "select"),
                         (k["slider"], "adjust"), (k["reset_face"], "reset"), (k["random"], "random"),
                         (k["sample_source"], "source"),
                         (f"{k['temperature_down']} {k['temperature_up']}" if k["temperature_up"] else "", "temp."),
                         (k["grid"], "grid")], lay.attrs.left + 120, lay.attrs.right - 14, lay.attrs.top + 18)
        if not scene.names:
            ui.text(surface, f"{scene.meta.name} has no attribute directions.", lay.attrs.center, size=16,
                    color=ui.DIM, anchor="center")
            return
        sliders = scene.sliders
        grid_surfaces = self._grid_surfaces(scene)
        pointer = scene.ctx.input.pointer
        for i, row in enumerate(lay.rows):
            name = scene.names[i]
            colour = ATTR_COLOURS.get(name, ui.class_colour(i))
            sel = i == scene.selected
            if sel:
                ui.panel(surface, row.rect, alpha=150, color=(34, 40, 66), radius=8)
                pygame.draw.rect(surface, colour, (row.rect.left, row.rect.top + 8, 3, row.rect.h - 16), border_radius=2)
            v = float(sliders[i])
            value_colour = colour if abs(v) >= 0.005 else ui.DIM
            if lay.compact:  # one line: NAME  +1.25
                y = row.track.top
                r = ui.text(surface, name.upper(), (row.rect.left + 12, y), size=13,
                            color=ui.FG if sel else ui.DIM, anchor="midleft", bold=True)
                ui.text(surface, _signed(v), (r.right + 8, y), size=15, color=value_colour, anchor="midleft", bold=sel)
            else:
                name_y = row.rect.top + 8 if lay.grid else row.track.centery - 24
                ui.text(surface, name.upper(), (row.rect.left + 14, name_y), size=15,
                        color=ui.FG if sel else ui.DIM, bold=True)
                ui.text(surface, _signed(v), (row.rect.left + 14, name_y + 22), size=24, color=value_colour, bold=sel)
            ends = ATTR_ENDS.get(name, ("less", "more")) if lay.end_labels else None
            _draw_track(surface, row, v, colour, sel, ends)
            if row.cells and grid_surfaces is not None:
                nearest = int(np.argmin(np.abs(np.asarray(GRID_VALUES) - v)))
                for c, cell in enumerate(row.cells):
                    surface.blit(grid_surfaces[i * len(GRID_VALUES) + c], cell.topleft)
                    hover = pointer is not None and cell.collidepoint(pointer)
                    if c == nearest:
                        pygame.draw.rect(surface, colour, cell.inflate(4, 4), width=2, border_radius=3)
                    elif hover:
                        pygame.draw.rect(surface, ui.FG, cell.inflate(4, 4), width=1, border_radius=3)

    def _draw_slots(self, surface: pygame.Surface, scene: StudioLike) -> None:
        lay = self.layout
        k = scene.keys
        look = scene.ctx.image_look
        _hints(surface, [(k["save_a"], "A"), (k["save_b"], "B"), (k["morph"], "morph")],
               lay.slots.left + 80, lay.slots.right - 14, lay.slots.top + 18)
        for name, rect in lay.slot_rects.items():
            slot = scene.slots[name]
            colour = SLOT_COLOURS[name]
            if slot is None:
                pygame.draw.rect(surface, (28, 32, 52), rect, border_radius=6)
                pygame.draw.rect(surface, ui.mix(colour, ui.PANEL, 0.55), rect, width=2, border_radius=6)
                ui.text(surface, "empty", (rect.centerx, rect.centery - 10), size=14, color=ui.DIM, anchor="center")
                save = k.get("save_" + name.lower(), "")
                if save:
                    ui.text(surface, f"{save} stores the face", (rect.centerx, rect.centery + 12), size=12,
                            color=HINT, anchor="center")
            else:
                thumb = self._slots[name].get(slot.image, (rect.size, look), _scale, slot.image, rect.size, look)
                surface.blit(thumb, rect.topleft)
                pygame.draw.rect(surface, colour, rect.inflate(4, 4), width=2, border_radius=4)
            _badge(surface, name, (rect.left - 6, rect.top - 6), 24)
        # the morph arrow between the slots, with the morph's position on it
        a_rect, b_rect = lay.slot_rects["A"], lay.slot_rects["B"]
        x0, x1, y = a_rect.right + 14, b_rect.left - 14, a_rect.centery
        if x1 - x0 < 20:
            return
        path_colour = _path_colour(scene.spherical)
        if scene.spherical:  # an arc for the great circle
            pts = [(x0 + (x1 - x0) * u, y - 16 * np.sin(np.pi * u)) for u in np.linspace(0, 1, 24)]
        else:
            pts = [(x0, y), (x1, y)]
        pygame.draw.lines(surface, TRACK, False, pts, 4)
        pygame.draw.polygon(surface, TRACK, [(x1 + 6, y), (x1 - 4, y - 7), (x1 - 4, y + 7)])
        u = _morph_at(scene)
        if u is not None:
            px = x0 + (x1 - x0) * u
            py = y - (16 * np.sin(np.pi * u) if scene.spherical else 0)
            done = [p for p in pts if p[0] <= px] + [(px, py)]
            if len(done) >= 2:
                pygame.draw.lines(surface, path_colour, False, done, 4)
            pygame.draw.circle(surface, SHADOW, (int(px), int(py)), 8)
            pygame.draw.circle(surface, path_colour, (int(px), int(py)), 6)
        ui.text(surface, "spherical" if scene.spherical else "linear", ((x0 + x1) // 2, y + 14), size=13,
                color=path_colour, anchor="midtop", bold=True)
        if k["slerp_toggle"] and y + 52 < lay.slots.bottom:
            end = ((x0 + x1) // 2) - 20
            end = _keycap(surface, k["slerp_toggle"], (end, y + 44))
            ui.text(surface, "path", (end + 5, y + 44), size=12, color=HINT, anchor="midleft")

    def _make_strip_layer(self, images: list[np.ndarray], look: str) -> pygame.Surface:
        """Both strip rows' frames, scaled, on a transparent layer the size of the strip panel."""
        lay = self.layout
        layer = pygame.Surface(lay.strip.size, pygame.SRCALPHA)
        for r, cells in enumerate(lay.strip_cells):
            for i, cell in enumerate(cells):
                img = _scale(images[r * STRIP_FRAMES + i], cell.size, look)
                layer.blit(img, (cell.left - lay.strip.left, cell.top - lay.strip.top))
        return layer

    def _draw_strip(self, surface: pygame.Surface, scene: StudioLike) -> None:
        lay = self.layout
        rows = lay.strip_cells
        images = scene.strip_images
        if images is None:
            k = scene.keys
            room = lay.strip.w - 28
            msg = "Store two faces in slots A and B to see the morph between them"
            if ui.font(15).size(msg)[0] > room:
                msg = "Store faces in slots A and B"
            cx, cy = lay.strip.centerx, lay.strip.centery + 4
            ui.text(surface, msg, (cx, cy - 14), size=15, color=ui.DIM, anchor="center")
            if k["save_a"] and k["save_b"] and k["morph"] and room > 300:
                x = cx - 130
                x = _keycap(surface, k["save_a"], (x, cy + 16))
                x = _keycap(surface, k["save_b"], (x + 4, cy + 16))
                x = ui.text(surface, "store,", (x + 6, cy + 16), size=13, color=HINT, anchor="midleft").right
                x = _keycap(surface, k["morph"], (x + 6, cy + 16))
                ui.text(surface, "plays the morph", (x + 6, cy + 16), size=13, color=HINT, anchor="midleft")
            return
        for cells, name, colour in ((rows[0], "LINEAR", LINEAR_COLOUR), (rows[1], "SPHERICAL", SLERP_COLOUR)):
            if cells[0].left - lay.strip.left > 90:
                ui.text(surface, name, (lay.strip.left + 14, cells[0].centery), size=12, color=colour,
                        anchor="midleft", bold=True)
        look = scene.ctx.image_look
        layer = self._strip.get(images, (lay.size, look), self._make_strip_layer, images, look)
        surface.blit(layer, lay.strip.topleft)
        active = 1 if scene.spherical else 0
        colour = _path_colour(scene.spherical)
        for r, cells in enumerate(rows):
            edge = colour if r == active else ui.mix((SLERP_COLOUR, LINEAR_COLOUR)[active], ui.PANEL, 0.7)
            pygame.draw.rect(surface, edge, cells[0].union(cells[-1]).inflate(8, 8), width=2 if r == active else 1,
                             border_radius=6)
        for r, name in ((0, "A"), (-1, "B")):
            _badge(surface, name, (rows[0][r].left + 3, rows[0][r].top + 3), 16)
        u = _morph_at(scene)
        if u is not None:  # the morph's position on the active row
            cells = rows[active]
            x = cells[0].centerx + u * (cells[-1].centerx - cells[0].centerx)
            top, bottom = rows[0][0].top - 6, rows[1][0].bottom + 6
            pygame.draw.line(surface, SHADOW, (int(x), top), (int(x), bottom), 5)
            pygame.draw.line(surface, ui.FG, (int(x), top), (int(x), bottom), 2)
        mode = "spherical (slerp)" if scene.spherical else "linear"
        ui.text(surface, f"A to B  ·  {STRIP_FRAMES} frames  ·  morph path: {mode}", (lay.strip.right - 14, lay.strip.top + 12),
                size=12, color=HINT, anchor="topright")
