"""Overlays drawn over the mode: the help screen (bindings in force) and the pause screen.

Controls (the engine routes ``help``, ``pause`` and ``quit`` globally):

* Help (F1 / controller Back): lists every binding actually in force, grouped into
  "Everywhere" and the current mode. F1, Back, Esc, Enter or Backspace close it.
* Pause (P / Start): freezes the mode below (only the top scene updates). P, Start, Esc,
  Enter or Backspace resume.
"""

from __future__ import annotations

import math

import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.input import InputState
from latent_odyssey.game.engine.scene import Scene

Row = tuple[str, str, str]  # (what it does, keys and mouse, controller)
Section = tuple[str, list[Row]]

DIM_ALPHA = 165  # darkening of the mode below an overlay (0..255)
ROW_PX = 22  # help row height at the default font size
HELP_FONT_PX = 15
TITLE_FONT_PX = 30
PANEL_MARGIN_PX = 36
MIN_SCALE = 0.62  # the help's type shrinks down to this to fit every row
MIN_FONT_PX = 10
MIN_ROW_PX = 13
THREE_COLUMNS_MIN_PX = 1100  # a panel this wide may use three columns


def split_columns(lines: list, per_col: int, max_cols: int) -> list[list]:
    """Lines in as few columns as hold them (up to ``max_cols``), each split at a section
    boundary when one balances the columns, else where the column is full."""
    for n in range(1, max_cols + 1):
        if len(lines) <= n * per_col or n == max_cols:
            break
    columns, rest = [], list(lines)
    for left in range(n, 1, -1):
        target = math.ceil(len(rest) / left)
        gaps = [i for i, ln in enumerate(rest) if ln[0] == "gap" and i <= per_col
                and len(rest) - i - 1 <= (left - 1) * per_col]
        cut = min(gaps, key=lambda i: abs(i - target)) if gaps else min(per_col, target)
        if gaps and abs(cut - target) > per_col // 3:
            cut = min(per_col, target)
        columns.append(rest[:cut])
        rest = rest[cut:]
        while rest and rest[0][0] == "gap":
            rest = rest[1:]
    columns.append(rest)
    return [c for c in columns if c] or [[]]


class _Overlay(Scene):
    """Shared: translucent, closes on confirm / cancel, caches its rendered panel."""

    opaque = False

    def __init__(self) -> None:
        super().__init__()
        self._cache: pygame.Surface | None = None
        self._cache_size: tuple[int, int] | None = None

    def handle(self, inp: InputState) -> None:
        if inp.pressed("confirm") or inp.pressed("cancel"):
            self.done = True

    def draw(self, surface: pygame.Surface) -> None:
        size = surface.get_size()
        if self._cache is None or self._cache_size != size:
            self._cache = self.render(size)
            self._cache_size = size
        surface.blit(self._cache, (0, 0))

    def render(self, size: tuple[int, int]) -> pygame.Surface:  # pragma: no cover - abstract
        raise NotImplementedError


class HelpOverlay(_Overlay):
    """The bindings in force, as a readable translucent panel over the mode."""

    name = "help"

    def __init__(self, sections: list[Section], sources: tuple = ()) -> None:
        super().__init__()
        self.sections = [(title, rows) for title, rows in sections if rows]
        self.sources = sources
        self.rows_total = 0  # set by render: every row, and the rows that fit on screen
        self.rows_shown = 0

    @classmethod
    def for_bindings(
        cls, inp: InputState, groups: list[tuple[str, list[str]]], extra: dict[str, list[Row]] | None = None
    ) -> HelpOverlay:
        """Build the sections from named actions/axes (unknown names are skipped)."""
        known = set(inp.map.actions) | set(inp.map.axes)
        sections: list[Section] = []
        for title, names in groups:
            rows = inp.bindings_text([n for n in names if n in known])
            rows += (extra or {}).get(title, [])
            sections.append((title, rows))
        return cls(sections, tuple(inp.map.sources))

    def render(self, size: tuple[int, int]) -> pygame.Surface:
        w, h = size
        out = pygame.Surface(size, pygame.SRCALPHA)
        out.fill((4, 6, 12, DIM_ALPHA))
        lines: list[tuple[str, object]] = []  # ("title", str) | ("row", Row)
        for title, rows in self.sections:
            if lines:
                lines.append(("gap", None))
            lines.append(("title", title))
            lines.extend(("row", r) for r in rows)
        panel_w = min(w - 2 * PANEL_MARGIN_PX, 1180)
        scale = 1.0 if h >= 640 else max(MIN_SCALE, h / 640)
        while True:  # the largest type at which every row fits (two columns, or three if wide)
            fpx = max(MIN_FONT_PX, round(HELP_FONT_PX * scale))
            row_h = max(MIN_ROW_PX, round(ROW_PX * scale))
            header_h = round(64 * scale)
            footer_h = round(34 * scale)
            per_col = max(1, (h - 2 * PANEL_MARGIN_PX - header_h - footer_h - 8) // row_h)
            max_cols = 3 if panel_w >= THREE_COLUMNS_MIN_PX else 2
            columns = split_columns(lines, per_col, max_cols)
            if max(len(c) for c in columns) <= per_col or scale <= MIN_SCALE:
                break
            scale = max(MIN_SCALE, scale * 0.92)
        n_cols = len(columns)
        self.rows_total = sum(1 for kind, _ in lines if kind == "row")
        self.rows_shown = 0
        longest = max(len(c) for c in columns)
        panel_h = min(h - 2 * PANEL_MARGIN_PX, header_h + footer_h + longest * row_h + 12)
        rect = pygame.Rect(0, 0, panel_w, panel_h)
        rect.center = (w // 2, h // 2)
        ui.panel(out, rect, alpha=238, radius=14)
        pygame.draw.rect(out, (*ui.ACCENT, 90), rect, width=1, border_radius=14)
        ui.text(out, "Controls", (rect.left + 24, rect.top + round(16 * scale)), size=round(TITLE_FONT_PX * scale * 0.8), color=ui.ACCENT, bold=True)
        ui.text(out, "the bindings in force", (rect.right - 24, rect.top + round(22 * scale)), size=fpx - 1, color=ui.DIM, anchor="topright")
        col_w = (rect.width - 48 - (n_cols - 1) * 28) // n_cols
        for ci, col in enumerate(columns):
            x = rect.left + 24 + ci * (col_w + 28)
            rows_here = [item for kind, item in col if kind == "row"]  # each column sizes its own
            keys_need = max((ui.font(fpx).size(r[1])[0] for r in rows_here), default=60) + 18
            pad_need = max((ui.font(fpx).size(r[2])[0] for r in rows_here), default=40) + 8
            c_pad = int(min(pad_need, col_w * 0.25))
            c_keys = int(min(keys_need, col_w * 0.40))
            c_action = col_w - c_keys - c_pad
            y = rect.top + header_h
            for kind, item in col:
                if y + row_h > rect.bottom - footer_h + 4:
                    break
                if kind == "gap":
                    y += row_h // 2
                    continue
                if kind == "title":
                    ui.text(out, str(item).upper(), (x, y + 2), size=fpx - 2, color=ui.ACCENT, bold=True)
                    ui.text(out, "keys / mouse", (x + c_action, y + 2), size=fpx - 3, color=ui.DIM)
                    ui.text(out, "controller", (x + c_action + c_keys, y + 2), size=fpx - 3, color=ui.DIM)
                    pygame.draw.line(out, (*ui.DIM, 70), (x, y + row_h - 2), (x + col_w, y + row_h - 2))
                    y += row_h
                    continue
                what, keys, pad = item  # type: ignore[misc]
                ui.text(out, ui.fit_text(what, fpx, c_action - 12), (x, y + 3), size=fpx, color=ui.FG)
                ui.text(out, ui.fit_text(keys or "-", fpx, c_keys - 12), (x + c_action, y + 3), size=fpx, color=(255, 214, 120))
                ui.text(out, ui.fit_text(pad or "-", fpx, c_pad - 4), (x + c_action + c_keys, y + 3), size=fpx, color=(150, 200, 255))
                y += row_h
                self.rows_shown += 1
        names = ", ".join(str(s) for s in self.sources[1:]) if len(self.sources) > 1 else ""
        foot = "Esc, F1 or Back to close"
        foot += f"   ·   your bindings: {names}" if names else "   ·   rebind in assets/controls.toml or ~/.config/latent-odyssey/controls.toml"
        ui.text(out, ui.fit_text(foot, fpx - 2, rect.width - 48), (rect.left + 24, rect.bottom - footer_h + 8), size=fpx - 2, color=ui.DIM)
        return out


class PauseOverlay(_Overlay):
    """A dimmed, frozen frame with a short "Paused" card."""

    name = "pause"

    def render(self, size: tuple[int, int]) -> pygame.Surface:
        w, h = size
        out = pygame.Surface(size, pygame.SRCALPHA)
        out.fill((4, 6, 12, DIM_ALPHA))
        rect = pygame.Rect(0, 0, min(w - 40, 460), 150)
        rect.center = (w // 2, h // 2)
        ui.panel(out, rect, alpha=240, radius=16)
        pygame.draw.rect(out, (*ui.ACCENT, 110), rect, width=1, border_radius=16)
        ui.text(out, "PAUSED", (rect.centerx, rect.top + 30), size=34, color=ui.ACCENT, anchor="midtop", bold=True)
        ui.text(out, "P or Start to resume", (rect.centerx, rect.top + 88), size=17, color=ui.FG, anchor="midtop")
        ui.text(out, "F1 help  ·  Esc resume", (rect.centerx, rect.top + 114), size=14, color=ui.DIM, anchor="midtop")
        return out
