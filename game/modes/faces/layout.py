"""Where the Face Studio's panels, slider tracks, grid cells, slots and strip frames sit on
screen: the view draws into these rectangles and the scene hit-tests mouse clicks against them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from latent_odyssey.game.modes.faces.state import GRID_VALUES, SLIDER_MAX, SLIDER_MIN, STRIP_FRAMES

MARGIN_PX = 16
GAP_PX = 12
HEADER_PX = 52
PANEL_TITLE_PX = 36  # title band at the top of each panel
COLUMN_HEAD_PX = 16  # the grid values written over the attribute columns
NAME_COL_PX = 150  # attribute names / strip row names, left of the slider columns
END_LABEL_PX = 72  # room right of the tracks for the high-end label ("masculine")
COMPACT_ROW_PX = 66  # attribute rows lower than this put name and value on one line
COL_GAP_PX = 10  # between grid columns
STRIP_GAP_PX = 8  # between strip frames
SOURCE_BAR_PX = (360, 28)  # the source bar at the top of the face: widest, height
SOURCE_BAR_MIN_PX = 150  # narrower faces get no source bar


@dataclass
class Row:
    """Screen rectangles of one attribute row."""

    rect: pygame.Rect
    track: pygame.Rect  # x span = first to last column centre; y centre = the track line
    cells: list[pygame.Rect]  # grid cells, one per GRID_VALUES (empty when the grid is off)

    def value_at(self, x: float) -> float:
        """The slider value under screen x (px) on this row's track (not clamped)."""
        f = (x - self.track.left) / max(1, self.track.w)
        return SLIDER_MIN + f * (SLIDER_MAX - SLIDER_MIN)


@dataclass
class Layout:
    """Screen rectangles for one window size and grid setting."""

    size: tuple[int, int]
    grid: bool
    compact: bool  # attribute name and value on one line
    end_labels: bool  # room for the words at the track ends
    header: pygame.Rect
    face_panel: pygame.Rect
    face: pygame.Rect
    source_bar: pygame.Rect  # where random faces come from, at the top of the face (0 wide: none)
    attrs: pygame.Rect
    slots: pygame.Rect
    strip: pygame.Rect
    rows: list[Row]
    columns: list[int]  # x centre of each GRID_VALUES column
    slot_rects: dict[str, pygame.Rect]
    strip_cells: list[list[pygame.Rect]]  # [linear row, slerp row] x STRIP_FRAMES

    @classmethod
    def build(cls, w: int, h: int, n_attrs: int, grid: bool) -> Layout:
        """The layout of a ``w`` x ``h`` window with ``n_attrs`` attribute rows, grid on or off."""
        m, gap = MARGIN_PX, GAP_PX
        top = HEADER_PX + 8
        bottom_h = max(90, min(220, int(h * 0.27)))
        upper_h = max(80, h - m - top - gap - bottom_h)
        left_w = max(80, min(upper_h, int(w * 0.38)))
        right_x = m + left_w + gap
        right_w = max(120, w - m - right_x)
        face_panel = pygame.Rect(m, top, left_w, upper_h)
        side = max(16, min(face_panel.w, face_panel.h) - 24)
        face = pygame.Rect(0, 0, side, side)
        face.center = face_panel.center
        bar_w = min(SOURCE_BAR_PX[0], face.w - 2 * 52)  # clear of the slot badge at the top left
        source_bar = pygame.Rect(0, 0, bar_w if bar_w >= SOURCE_BAR_MIN_PX else 0, SOURCE_BAR_PX[1])
        source_bar.midtop = (face.centerx, face.top + 12)
        attrs = pygame.Rect(right_x, top, right_w, upper_h)
        slots = pygame.Rect(m, top + upper_h + gap, left_w, bottom_h)
        strip = pygame.Rect(right_x, slots.top, right_w, bottom_h)

        # attribute rows: a name column, then GRID_VALUES columns (cells under the track ticks)
        name_w = min(NAME_COL_PX, right_w // 4)
        end_labels = right_w >= 560
        cols_left = attrs.left + 16 + name_w
        cols_w = max(40, attrs.right - 16 - (END_LABEL_PX if end_labels else 0) - cols_left)
        n_cols = len(GRID_VALUES)
        rows_top = attrs.top + PANEL_TITLE_PX + COLUMN_HEAD_PX
        row_h = max(24, (attrs.bottom - 8 - rows_top) // max(1, n_attrs))
        pitch = max(8, (cols_w - COL_GAP_PX * (n_cols - 1)) // n_cols)
        cell = max(8, min(pitch, row_h - 30)) if grid else pitch  # grid cells also fit the row
        span = cell * n_cols + COL_GAP_PX * (n_cols - 1)
        x0 = cols_left + max(0, (cols_w - span) // 2)
        columns = [x0 + i * (cell + COL_GAP_PX) + cell // 2 for i in range(n_cols)]
        rows = []
        for i in range(n_attrs):
            r = pygame.Rect(attrs.left + 8, rows_top + i * row_h, attrs.w - 16, row_h - 4)
            track_y = r.top + 12 if grid else r.centery
            track = pygame.Rect(columns[0], track_y, columns[-1] - columns[0], 1)
            cells = [pygame.Rect(c - cell // 2, r.top + 24, cell, cell) for c in columns] if grid else []
            rows.append(Row(r, track, cells))

        # slots: A and B thumbnails with the morph arrow between them
        thumb = max(16, min(bottom_h - PANEL_TITLE_PX - 14, (left_w - 32 - 90) // 2))
        ty = slots.top + PANEL_TITLE_PX + (bottom_h - PANEL_TITLE_PX - 8 - thumb) // 2
        slot_rects = {
            "A": pygame.Rect(slots.left + 16, ty, thumb, thumb),
            "B": pygame.Rect(slots.right - 16 - thumb, ty, thumb, thumb),
        }

        # strip: two rows (linear, slerp) of STRIP_FRAMES frames, in the attribute columns
        strip_w = max(40, strip.right - 16 - cols_left)  # no end labels here: the full width
        frame = max(8, min((strip_w - STRIP_GAP_PX * (STRIP_FRAMES - 1)) // STRIP_FRAMES,
                           (bottom_h - PANEL_TITLE_PX - 10 - 8) // 2))
        fspan = frame * STRIP_FRAMES + STRIP_GAP_PX * (STRIP_FRAMES - 1)
        fx0 = cols_left + max(0, (strip_w - fspan) // 2)
        if not end_labels:  # no room beside the tracks: frames start at the panel's left
            fx0 = strip.left + 14 + min(90, name_w)
        strip_cells = []
        for k in range(2):
            y = strip.top + PANEL_TITLE_PX + k * (frame + 8)
            strip_cells.append([pygame.Rect(fx0 + i * (frame + STRIP_GAP_PX), y, frame, frame)
                                for i in range(STRIP_FRAMES)])
        return cls((w, h), grid, row_h < COMPACT_ROW_PX, end_labels, pygame.Rect(0, 0, w, HEADER_PX),
                   face_panel, face, source_bar, attrs, slots,
                   strip, rows, columns, slot_rects, strip_cells)
