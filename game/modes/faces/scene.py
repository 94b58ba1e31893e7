"""The Face Morphing Studio: edit a face along attribute directions, keep two faces, morph.

The face on screen is ``z = base + Σ s_i · d_i``: ``base`` is a latent drawn from the prior
N(0, I), ``d_i`` are the model's unit attribute directions (``meta.attributes``: smile, age,
gender, glasses for the shipped faces model) and ``s_i`` the sliders, from ``SLIDER_MIN`` to
``SLIDER_MAX``.

Controls (named actions and axes; rebind them in assets/controls.toml, F1 shows them in game):

* ``slider`` (A/D, Left/Right, left stick X, D-pad left/right): move the selected slider,
  ``SLIDER_UNITS_PER_S`` at full deflection. Mouse: press on a slider and drag.
* ``attr_next`` / ``attr_prev`` (S/W, Down/Up, D-pad down/up): select the attribute.
* ``random`` (R / Y): glide to a new random face (a seeded ``numpy.random.Generator``,
  ``ctx.seed``); the sliders go back to 0.
* ``reset_face`` (Backspace / X): glide all sliders back to 0.
* ``save_a`` / ``save_b`` (1 / 2, shoulders): store the face in slot A / B. Clicking a slot
  loads its face (clicking an empty one stores the face there).
* ``morph`` (G / B): play A to B (eased, ``MORPH_S``), ending exactly at B with B's sliders;
  pressed again after a morph to B it plays back to A (ping-pong); pressed mid-way it turns
  round.
* ``slerp_toggle`` (L): linear or spherical (slerp) morph path. The strip under the sliders
  always shows ``STRIP_FRAMES`` frames of both paths; the active one is highlighted.
  Clicking a strip frame continues editing from that face.
* ``grid`` (Y key): the attribute grid, one row per attribute, the face with that slider at
  each of ``GRID_VALUES`` (-3..+3); the columns sit under the slider's ticks. Clicking a cell
  sets that slider.
* ``smooth_toggle`` (N): smooth (bilinear) or crisp (nearest) image scaling.

Decoding: a frame makes at most one ``decode_batch`` call, and only when something changed
(while a slider moves, the grid re-decodes at most every GRID_REFRESH_S so the face itself
reaches the screen within a frame):
the face, plus the 28 grid cells when the grid is on, plus the 2 x 8 strip frames when a
slot changed. Row i of the grid is ``base + Σ_{j≠i} s_j d_j + v d_i`` computed the same way
every time, so moving slider i leaves row i in the decoder's cache: a slider change costs one
run of about 22 images (29 after a random face).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.input import InputState
from latent_odyssey.game.engine.scene import GameContext, ModeScene, state_array, worded_help_rows
from latent_odyssey.game.engine.ui import LINEAR_COLOUR, SLERP_COLOUR
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.model.morph import ease_in_out, interpolate

SLIDER_MIN, SLIDER_MAX = -3.0, 3.0  # latent units along a unit direction
SLIDER_UNITS_PER_S = 2.0  # slider speed at full stick / a held key
GRID_VALUES = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)  # grid columns (slider values)
GRID_REFRESH_S = 0.1  # while the face keeps changing, the grid re-decodes at most this often
STRIP_FRAMES = 8  # frames per strip row, A and B included
MORPH_S = 2.0  # one A -> B morph
RANDOM_GLIDE_S = 0.35  # glide to a new random face
RESET_GLIDE_S = 0.25  # glide of the sliders back to 0
SAME_FACE_ATOL = 1e-6  # latents closer than this (max abs) count as the same face

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
ATTR_ENDS = {  # what the low and high ends of each slider look like (train/faces.py)
    "smile": ("frown", "grin"),
    "age": ("young", "old"),
    "gender": ("feminine", "masculine"),
    "glasses": ("none", "glasses"),
}

# (action or axis, what it does in the Face Studio) for the help overlay, in reading order
HELP_TEXT = (
    ("slider", "Move the selected slider"),
    ("attr_next", "Select the next attribute"),
    ("attr_prev", "Select the previous attribute"),
    ("random", "A new random face"),
    ("reset_face", "All sliders back to 0"),
    ("save_a", "Store this face in slot A"),
    ("save_b", "Store this face in slot B"),
    ("morph", "Morph A to B (again: back)"),
    ("slerp_toggle", "Linear / spherical path"),
    ("grid", "Attribute grid (-3..+3)"),
    ("smooth_toggle", "Smooth / crisp scaling"),
)


def _signed(v: float) -> str:
    """'+1.25', '−0.50' (a real minus sign), '0.00'."""
    if abs(v) < 0.005:
        return "0.00"
    return f"+{v:.2f}" if v > 0 else f"\u2212{-v:.2f}"


def face_base(meta: ModelMeta, rng: np.random.Generator) -> np.ndarray:
    """A random face to start from: one of the encoded training faces stored in the model file
    (sample_z), so it looks like the data; N(0, I) when the file carries none.  # (D,)"""
    samples, _ = meta.sample_array()
    if len(samples):
        return samples[int(rng.integers(len(samples)))].astype(np.float64)
    return rng.standard_normal(meta.latent_dim)


@dataclass
class FaceState:
    """A face as the studio edits it: a base latent and the slider values."""

    base: np.ndarray  # (D,) float64
    sliders: np.ndarray  # (K,) float64

    def z(self, dirs: np.ndarray) -> np.ndarray:
        """base + Σ s_i d_i  # (D,)"""
        return self.base + self.sliders @ dirs

    def copy(self) -> FaceState:
        return FaceState(self.base.copy(), self.sliders.copy())


@dataclass
class Slot:
    state: FaceState
    z: np.ndarray  # (D,)
    image: np.ndarray  # uint8 (H, W, 3)
    surface: pygame.Surface | None = None
    surface_key: tuple | None = None


@dataclass
class Anim:
    """An eased transition between two face states (a morph or a glide)."""

    start: FaceState
    end: FaceState
    z0: np.ndarray  # (D,)
    z1: np.ndarray  # (D,)
    t0: float
    duration: float
    morph: bool  # True: follows the scene's linear/spherical choice; False: linear glide
    label: str = ""  # "A to B"

    def progress(self, t: float) -> float:
        return min(1.0, max(0.0, (t - self.t0) / self.duration))


@dataclass
class Row:
    """Screen rectangles of one attribute row."""

    rect: pygame.Rect
    track: pygame.Rect  # x span = first to last column centre; y centre = the track line
    cells: list[pygame.Rect]  # grid cells, one per GRID_VALUES (empty when the grid is off)


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
    attrs: pygame.Rect
    slots: pygame.Rect
    strip: pygame.Rect
    rows: list[Row]
    columns: list[int]  # x centre of each GRID_VALUES column
    slot_rects: dict[str, pygame.Rect]
    strip_cells: list[list[pygame.Rect]]  # [linear row, slerp row] x STRIP_FRAMES

    @classmethod
    def build(cls, w: int, h: int, n_attrs: int, grid: bool) -> Layout:
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
                   face_panel, face, attrs, slots,
                   strip, rows, columns, slot_rects, strip_cells)


class FaceStudioScene(ModeScene):
    """A big decoded face (left), attribute sliders (+ grid), slots A/B and the morph strip."""

    name = "faces"
    title = "Face Studio"

    @classmethod
    def supports(cls, meta: ModelMeta) -> str | None:
        """None when the studio can show ``meta`` (a faces model, or any model with attribute
        directions), else one sentence saying why not."""
        if meta.kind == "faces" or meta.attributes:
            return None
        article = "an" if meta.kind[:1] in ("a", "e", "i", "o", "u") else "a"
        return f"Face studio needs a faces model; {meta.name} is {article} {meta.kind} model."

    @classmethod
    def help_rows(cls, inp: InputState) -> list[tuple[str, str, str]]:
        """(what, keys, controller) rows for the help overlay, with Face Studio wording."""
        return worded_help_rows(inp, HELP_TEXT, {
            "slider": [("Set a slider", "Left Click / drag on it", "")],
            "save_b": [("Load a slot (or fill it)", "Left Click on it", "")],
            "grid": [("Use a grid cell / frame", "Left Click on it", "")],
        })

    # ------------------------------------------------------------------ setup

    def enter(self, ctx: GameContext) -> None:
        super().enter(ctx)
        meta = self.meta
        self.rng = np.random.default_rng(ctx.seed)
        self.names = list(meta.attributes)
        d = meta.latent_dim
        units = (np.stack([meta.attribute_array(n).astype(np.float64) for n in self.names])
                 if self.names else np.zeros((0, d)))  # (K, D) unit rows from the model file
        # One slider unit = one standard deviation of the encoded faces along that direction,
        # so -3..+3 spans the data's own range of the attribute (a unit step in 128-D is tiny).
        samples, _ = meta.sample_array()
        spread = (samples.astype(np.float64) @ units.T).std(0) if len(samples) > 1 else np.ones(len(units))
        self.dirs = units * np.maximum(spread, 1e-3)[:, None]  # (K, D)
        self.colours = [ATTR_COLOURS.get(n, ui.class_colour(i)) for i, n in enumerate(self.names)]
        self.t = 0.0
        self.face_no = 1
        self.state = FaceState(face_base(meta, self.rng), np.zeros(len(self.names)))
        self.selected = 0
        self.anim: Anim | None = None
        self.spherical = False
        self.show_grid = False
        self.slots: dict[str, Slot | None] = {"A": None, "B": None}
        self.morphed_to: str | None = None  # the slot the last finished morph ended at
        self._slide = 0.0  # slider axis this frame
        self._dragging: int | None = None  # row being dragged with the mouse
        self.layout: Layout | None = None
        self.keys = self._key_names(ctx.input)
        # decoded images and what they were decoded for
        self.face_image: np.ndarray | None = None
        self._face_key: bytes | None = None
        self.grid_images: list[np.ndarray] | None = None
        self._grid_key: bytes | None = None
        self._grid_time = float("-inf")  # ctx.time_s of the last grid decode
        self.strip_z: np.ndarray | None = None  # (2 * STRIP_FRAMES, D): linear row, slerp row
        self.strip_images: list[np.ndarray] | None = None
        # scaled surfaces
        self._chrome: pygame.Surface | None = None
        self._chrome_key: tuple | None = None
        self._face_surface: pygame.Surface | None = None
        self._face_surface_key: tuple | None = None
        self._grid_surfaces: list[pygame.Surface] | None = None
        self._grid_surfaces_key: tuple | None = None
        self._strip_layer: pygame.Surface | None = None
        self._strip_layer_key: tuple | None = None

    def exit(self) -> None:
        self._chrome = self._face_surface = self._strip_layer = None
        self._grid_surfaces = None

    @staticmethod
    def _key_names(inp: InputState) -> dict[str, str]:
        """Short key names for the on-screen hints ('A/D', 'Backspace'); '' when unbound."""
        out: dict[str, str] = {}
        for name, _ in HELP_TEXT:
            if name not in inp.map.actions and name not in inp.map.axes:
                out[name] = ""
                continue
            keys = inp.bindings_text([name])[0][1]
            if name in inp.map.axes:
                parts = [p.split(", ")[0] for p in keys.split(" / ")]
                out[name] = "/".join(p for p in parts if p)
            else:
                out[name] = keys.split(", ")[0]
        return out

    # ------------------------------------------------------------------ state

    @property
    def n_attrs(self) -> int:
        return len(self.names)

    @property
    def z(self) -> np.ndarray:
        """The latent on screen now.  # (D,)"""
        return self.display_state().z(self.dirs)

    @property
    def sliders(self) -> np.ndarray:
        """Slider values on screen now (interpolated while a morph or glide runs).  # (K,)"""
        return self.display_state().sliders

    def latent(self) -> np.ndarray:
        """The full latent on screen.  # (D,)"""
        return np.asarray(self.z, np.float64)

    def snapshot(self) -> dict:
        """The face (base + sliders), the slots A/B, the grid and morph toggles."""
        face = self.display_state()
        return {
            "z": self.latent().tolist(), "base": face.base.tolist(), "sliders": face.sliders.tolist(),
            "show_grid": self.show_grid, "spherical": self.spherical, "selected": int(self.selected),
            "slots": {
                name: None if slot is None else {"base": slot.state.base.tolist(), "sliders": slot.state.sliders.tolist()}
                for name, slot in self.slots.items()
            },
            **self.view_settings(),
        }

    def restore(self, state: dict, dt: float = 0.0) -> None:
        """The slots (re-saved only when they changed), the face and the toggles."""
        self.restore_view_settings(state)
        d, n = self.meta.latent_dim, self.n_attrs
        slots = state.get("slots")
        if isinstance(slots, dict):
            for name, saved in slots.items():
                if name not in self.slots or not isinstance(saved, dict):
                    continue
                base, sliders = state_array(saved, "base", d), state_array(saved, "sliders", n)
                if base is None or sliders is None:
                    continue
                have = self.slots[name]
                if have is not None and np.allclose(have.state.base, base) and np.allclose(have.state.sliders, sliders):
                    continue
                self.anim = None
                self.state = FaceState(base, sliders)
                self.save(name)
        base, sliders = state_array(state, "base", d), state_array(state, "sliders", n)
        if base is not None and sliders is not None:
            self.anim = None
            self.state = FaceState(base, sliders)
        for key in ("show_grid", "spherical"):
            if isinstance(state.get(key), bool):
                setattr(self, key, state[key])
        if isinstance(state.get("selected"), int) and 0 <= state["selected"] < max(1, n):
            self.selected = state["selected"]

    def display_state(self) -> FaceState:
        a = self.anim
        if a is None:
            return self.state
        e = ease_in_out(a.progress(self.t))
        spherical = self.spherical if a.morph else False
        z = interpolate(a.z0, a.z1, np.array([e]), spherical)[0]
        s = (1 - e) * a.start.sliders + e * a.end.sliders
        return FaceState(z - s @ self.dirs, s)

    def settle(self) -> None:
        """Stop any morph or glide where it is now (the face on screen becomes the state)."""
        if self.anim is not None:
            self.state = self.display_state().copy()
            self.anim = None

    def start_anim(self, end: FaceState, duration: float, morph: bool, label: str = "",
                   start: FaceState | None = None) -> None:
        start = (start or self.display_state()).copy()
        end = end.copy()
        self.anim = Anim(start, end, start.z(self.dirs), end.z(self.dirs), self.t, duration, morph, label)

    def set_slider(self, i: int, value: float) -> None:
        self.settle()
        self.state.sliders[i] = min(SLIDER_MAX, max(SLIDER_MIN, float(value)))

    def random_face(self) -> None:
        base = face_base(self.meta, self.rng)
        self.face_no += 1
        self.start_anim(FaceState(base, np.zeros(self.n_attrs)), RANDOM_GLIDE_S, morph=False)

    def reset_sliders(self) -> None:
        now = self.display_state()
        self.start_anim(FaceState(now.base.copy(), np.zeros(self.n_attrs)), RESET_GLIDE_S, morph=False)

    def save(self, slot: str) -> None:
        state = self.display_state().copy()
        z = state.z(self.dirs)
        image = self.decoder.decode_batch(z[None])[0]  # the face on screen: a cache hit
        self.slots[slot] = Slot(state, z, image)
        self.morphed_to = None
        self.strip_z = None  # the strip is decoded again with the next frame
        self.strip_images = None
        other = "B" if slot == "A" else "A"
        if self.slots[other] is None:
            self.ctx.notify(f"Saved slot {slot}; store another face in slot {other} "
                            f"({self.keys.get('save_' + other.lower(), '')}) to morph")
        else:
            self.ctx.notify(f"Saved slot {slot}; press {self.keys.get('morph', '')} to morph A to B")

    def load(self, slot: str) -> None:
        s = self.slots[slot]
        if s is not None:
            self.anim = None
            self.state = s.state.copy()

    def at_slot(self) -> str | None:
        """'A' or 'B' when the face on screen is that slot's face (no animation running)."""
        if self.anim is not None:
            return None
        z = self.state.z(self.dirs)
        for name, s in self.slots.items():
            if s is not None and np.max(np.abs(s.z - z)) < SAME_FACE_ATOL:
                return name
        return None

    def morph(self) -> None:
        a = self.anim
        if a is not None and a.morph:  # turn round where it is
            p = a.progress(self.t)
            label = " to ".join(reversed(a.label.split(" to ")))
            self.anim = Anim(a.end, a.start, a.z1, a.z0, self.t - (1 - p) * a.duration, a.duration, True, label)
            return
        missing = [k for k, s in self.slots.items() if s is None]
        if missing:
            keys = " and ".join(f"{k} ({self.keys.get('save_' + k.lower(), '')})" for k in missing)
            self.ctx.notify(f"Store a face in slot {keys} first, then morph")
            return
        back = self.at_slot() == "B" and self.morphed_to == "B"  # ping-pong after a morph to B
        src, dst = ("B", "A") if back else ("A", "B")
        s0, s1 = self.slots[src], self.slots[dst]
        self.start_anim(s1.state, MORPH_S, morph=True, label=f"{src} to {dst}", start=s0.state)

    # ------------------------------------------------------------------ input

    def handle(self, inp: InputState) -> None:
        ctx = self.ctx
        k = self.n_attrs
        self._slide = inp.axis("slider") if k else 0.0
        if self._slide != 0.0:
            self.settle()
        if k and inp.pressed("attr_next"):
            self.selected = (self.selected + 1) % k
        if k and inp.pressed("attr_prev"):
            self.selected = (self.selected - 1) % k

        pointer = inp.pointer
        if inp.pressed("mark"):
            if inp.last_device == "mouse" and pointer is not None:
                self._click(pointer)
        elif self._dragging is not None:
            if inp.held("mark") and pointer is not None:
                self.set_slider(self._dragging, self._value_at(self._dragging, pointer[0]))
            else:
                self._dragging = None

        if inp.pressed("random"):
            self.random_face()
        if inp.pressed("reset_face"):
            self.reset_sliders()
        if inp.pressed("save_a"):
            self.save("A")
        if inp.pressed("save_b"):
            self.save("B")
        if inp.pressed("morph"):
            self.morph()
        if inp.pressed("slerp_toggle"):
            self.spherical = not self.spherical
            ctx.notify("Spherical morph path (slerp)" if self.spherical else "Linear morph path")
        if inp.pressed("grid"):
            self.show_grid = not self.show_grid
            ctx.notify("Attribute grid on" if self.show_grid else "Attribute grid off")
        if inp.pressed("smooth_toggle"):
            self.toggle_smooth()

    def _value_at(self, row: int, x: float) -> float:
        track = self.layout.rows[row].track
        f = (x - track.left) / max(1, track.w)
        return SLIDER_MIN + f * (SLIDER_MAX - SLIDER_MIN)

    def _click(self, pos: tuple[int, int]) -> None:
        lay = self.layout
        if lay is None:
            return
        for i, row in enumerate(lay.rows):
            for c, cell in enumerate(row.cells):
                if cell.collidepoint(pos):
                    self.selected = i
                    self.set_slider(i, GRID_VALUES[c])
                    return
            hit = row.rect.copy()
            if row.cells:
                hit.height = row.cells[0].top - row.rect.top
            if hit.collidepoint(pos):
                self.selected = i
                if abs(pos[0] - row.track.centerx) <= row.track.w // 2 + 12:
                    self._dragging = i
                    self.set_slider(i, self._value_at(i, pos[0]))
                return
        for name, rect in lay.slot_rects.items():
            if rect.collidepoint(pos):
                if self.slots[name] is None:
                    self.save(name)
                else:
                    self.load(name)
                return
        if self.strip_z is not None:
            for k, cells in enumerate(lay.strip_cells):
                for i, cell in enumerate(cells):
                    if cell.collidepoint(pos):
                        self.anim = None
                        self.state = FaceState(self.strip_z[k * STRIP_FRAMES + i].copy(), np.zeros(self.n_attrs))
                        return

    # ------------------------------------------------------------------ simulation

    def update(self, dt: float) -> None:
        self.t += dt
        if self._slide != 0.0 and self.n_attrs:
            i = self.selected
            self.set_slider(i, self.state.sliders[i] + self._slide * SLIDER_UNITS_PER_S * dt)
        a = self.anim
        if a is not None and a.progress(self.t) >= 1.0:
            self.state = a.end.copy()
            self.anim = None
            if a.morph:
                self.morphed_to = a.label[-1]

    # ------------------------------------------------------------------ decoding

    def grid_latents(self, state: FaceState | None = None) -> np.ndarray:
        """Row i, column c: base + Σ_{j≠i} s_j d_j + GRID_VALUES[c]·d_i.  # (K * 7, D)"""
        state = state or self.display_state()
        values = np.asarray(GRID_VALUES, np.float64)[:, None]  # (7, 1)
        out = []
        for i in range(self.n_attrs):
            s = state.sliders.copy()
            s[i] = 0.0
            rest = state.base + s @ self.dirs  # (D,)
            out.append(rest[None] + values * self.dirs[i][None])  # (7, D)
        return np.concatenate(out) if out else np.zeros((0, self.meta.latent_dim))

    def _strip_latents(self) -> np.ndarray | None:
        a, b = self.slots["A"], self.slots["B"]
        if a is None or b is None:
            return None
        ts = np.linspace(0.0, 1.0, STRIP_FRAMES)
        return np.concatenate([interpolate(a.z, b.z, ts, False), interpolate(a.z, b.z, ts, True)])

    def decode_frame(self) -> None:
        """One ``decode_batch`` call for everything that changed (face, grid, strip), or none."""
        state = self.display_state()
        z = state.z(self.dirs)
        key = z.tobytes() + state.sliders.tobytes()
        need_face = key != self._face_key
        need_grid = self.show_grid and self.n_attrs > 0 and key != self._grid_key
        now = self.ctx.time_s if self.ctx is not None else 0.0
        if need_grid and need_face and now - self._grid_time < GRID_REFRESH_S:
            # A slider is moving: the face reaches the screen this frame (one image), the
            # grid follows at GRID_REFRESH_S and catches up on the first still frame.
            need_grid = False
        need_strip = self.strip_images is None and self.slots["A"] is not None and self.slots["B"] is not None
        if not (need_face or need_grid or need_strip):
            return
        batch = [z[None]]
        if need_grid:
            batch.append(self.grid_latents(state))
        if need_strip:
            self.strip_z = self._strip_latents()
            batch.append(self.strip_z)
        images = self.decoder.decode_batch(np.concatenate(batch))  # one onnxruntime run at most
        self.face_image, self._face_key = images[0], key
        n = 1
        if need_grid:
            m = self.n_attrs * len(GRID_VALUES)
            self.grid_images, self._grid_key, self._grid_time = images[n : n + m], key, now
            n += m
        if need_strip:
            self.strip_images = images[n : n + 2 * STRIP_FRAMES]

    # ------------------------------------------------------------------ drawing

    def draw(self, surface: pygame.Surface) -> None:
        w, h = surface.get_size()
        if self.layout is None or self.layout.size != (w, h) or self.layout.grid != self.show_grid:
            self.layout = Layout.build(w, h, self.n_attrs, self.show_grid)
        self.decode_frame()
        surface.blit(self._chrome_surface(), (0, 0))
        self._draw_header(surface)
        self._draw_face(surface)
        self._draw_attributes(surface)
        self._draw_slots(surface)
        self._draw_strip(surface)

    def _scale(self, rgb8: np.ndarray, size: tuple[int, int]) -> pygame.Surface:
        img = ui.image_surface(rgb8)
        if img.get_size() == size:
            return img.copy()
        fn = pygame.transform.smoothscale if self.ctx.smooth else pygame.transform.scale
        return fn(img, size)

    def _chrome_surface(self) -> pygame.Surface:
        lay = self.layout
        key = (lay.size, lay.grid)
        if self._chrome is not None and self._chrome_key == key:
            return self._chrome
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
        self._chrome, self._chrome_key = s, key
        return s

    def _keycap(self, surface: pygame.Surface, key: str, pos: tuple[int, int], size: int = 12) -> int:
        """A key name in a rounded box with its left edge at pos (vertical centre); returns the right edge."""
        if not key:
            return pos[0]
        img = ui.text_surface(key, size, ui.FG, True)
        r = img.get_rect(midleft=(pos[0] + 5, pos[1]))
        pygame.draw.rect(surface, KEYCAP, r.inflate(10, 6), width=1, border_radius=5)
        surface.blit(img, r)
        return r.right + 5

    def _hints(self, surface: pygame.Surface, items: list[tuple[str, str]], left: int, right: int, y: int) -> None:
        """Key caps with a word each, right-aligned at ``right``; the last ones are left out
        when they would reach ``left``."""
        parts = [(key, what) for key, what in items if key]
        widths = [ui.font(12, True).size(k)[0] + 14 + ui.font(12).size(w)[0] + 18 for k, w in parts]
        while parts and sum(widths) - 12 > right - left:
            parts.pop()
            widths.pop()
        x = right - sum(widths) + 12
        for (key, what), wdt in zip(parts, widths, strict=True):
            end = self._keycap(surface, key, (x, y))
            ui.text(surface, what, (end + 5, y), size=12, color=HINT, anchor="midleft")
            x += wdt

    def _draw_header(self, surface: pygame.Surface) -> None:
        cy = self.layout.header.centery
        rect = ui.text(surface, "LATENT ODYSSEY", (18, cy), size=20, color=ui.ACCENT, anchor="midleft", bold=True)
        rect = ui.text(surface, "Face Studio", (rect.right + 12, cy), size=20, color=ui.FG, anchor="midleft")
        m = self.meta
        info = f"{m.name}   ·   {m.latent_dim}-D latent   ·   {m.image_shape[2]}×{m.image_shape[1]}"
        if m.dataset:
            info = f"{m.name}   ·   {m.dataset}   ·   " + info.split("   ·   ", 1)[1]
        if rect.right + 26 + ui.font(14).size(info)[0] < self.layout.size[0] - 16:
            ui.text(surface, info, (rect.right + 26, cy + 1), size=14, color=ui.DIM, anchor="midleft")

    def _draw_face(self, surface: pygame.Surface) -> None:
        lay = self.layout
        rect = lay.face
        if self.face_image is not None:
            key = (rect.size, self.ctx.smooth, id(self.face_image))
            if self._face_surface is None or self._face_surface_key != key:
                self._face_surface = self._scale(self.face_image, rect.size)
                self._face_surface_key = key
            surface.blit(self._face_surface, rect.topleft)
        pygame.draw.rect(surface, (60, 68, 100), rect.inflate(2, 2), width=1, border_radius=4)
        # status pill at the bottom of the face
        a = self.anim
        if a is not None and a.morph:
            p = a.progress(self.t)
            status = f"morphing {a.label}  ·  {'spherical' if self.spherical else 'linear'}  ·  {p * 100:3.0f} %"
            colour = SLERP_COLOUR if self.spherical else LINEAR_COLOUR
        elif a is not None:
            status, colour = "gliding", ui.FG
        else:
            edited = int(np.count_nonzero(np.abs(self.state.sliders) >= 0.005))
            status = f"face {self.face_no}" + (f"  ·  {edited} slider{'s' if edited != 1 else ''} moved" if edited else "")
            colour = ui.FG
        img = ui.text_surface(status, 14, colour, False)
        pill = img.get_rect(midbottom=(rect.centerx, rect.bottom - 10)).inflate(22, 10)
        ui.panel(surface, pill, alpha=185, color=(10, 12, 22), radius=pill.h // 2)
        surface.blit(img, img.get_rect(center=pill.center))
        slot = self.at_slot()
        if slot is not None:
            self._badge(surface, slot, (rect.left + 12, rect.top + 12), 30)

    def _badge(self, surface: pygame.Surface, slot: str, topleft: tuple[int, int], size: int) -> None:
        r = pygame.Rect(topleft, (size, size))
        pygame.draw.rect(surface, SHADOW, r.inflate(4, 4), border_radius=size // 3 + 2)
        pygame.draw.rect(surface, SLOT_COLOURS[slot], r, border_radius=size // 3)
        ui.text(surface, slot, r.center, size=int(size * 0.6), color=(12, 14, 24), anchor="center", bold=True)

    def _draw_attributes(self, surface: pygame.Surface) -> None:
        lay = self.layout
        k = self.keys
        self._hints(surface, [(k["attr_prev"] + "/" + k["attr_next"] if k["attr_prev"] else "", "select"),
                              (k["slider"], "adjust"), (k["reset_face"], "reset"), (k["random"], "random"),
                              (k["grid"], "grid")], lay.attrs.left + 120, lay.attrs.right - 14, lay.attrs.top + 18)
        if not self.names:
            ui.text(surface, f"{self.meta.name} has no attribute directions.", lay.attrs.center, size=16,
                    color=ui.DIM, anchor="center")
            return
        sliders = self.sliders
        self._update_grid_surfaces()
        pointer = self.ctx.input.pointer
        for i, row in enumerate(lay.rows):
            colour = self.colours[i]
            sel = i == self.selected
            if sel:
                ui.panel(surface, row.rect, alpha=150, color=(34, 40, 66), radius=8)
                pygame.draw.rect(surface, colour, (row.rect.left, row.rect.top + 8, 3, row.rect.h - 16), border_radius=2)
            v = float(sliders[i])
            value_colour = colour if abs(v) >= 0.005 else ui.DIM
            if lay.compact:  # one line: NAME  +1.25
                y = row.track.top
                r = ui.text(surface, self.names[i].upper(), (row.rect.left + 12, y), size=13,
                            color=ui.FG if sel else ui.DIM, anchor="midleft", bold=True)
                ui.text(surface, _signed(v), (r.right + 8, y), size=15, color=value_colour, anchor="midleft", bold=sel)
            else:
                name_y = row.rect.top + 8 if lay.grid else row.track.centery - 24
                ui.text(surface, self.names[i].upper(), (row.rect.left + 14, name_y), size=15,
                        color=ui.FG if sel else ui.DIM, bold=True)
                ui.text(surface, _signed(v), (row.rect.left + 14, name_y + 22), size=24, color=value_colour, bold=sel)
            ends = ATTR_ENDS.get(self.names[i], ("less", "more")) if lay.end_labels else None
            self._draw_track(surface, row, v, colour, sel, ends)
            if row.cells and self._grid_surfaces is not None:
                nearest = int(np.argmin(np.abs(np.asarray(GRID_VALUES) - v)))
                for c, cell in enumerate(row.cells):
                    surface.blit(self._grid_surfaces[i * len(GRID_VALUES) + c], cell.topleft)
                    hover = pointer is not None and cell.collidepoint(pointer)
                    if c == nearest:
                        pygame.draw.rect(surface, colour, cell.inflate(4, 4), width=2, border_radius=3)
                    elif hover:
                        pygame.draw.rect(surface, ui.FG, cell.inflate(4, 4), width=1, border_radius=3)

    def _draw_track(self, surface: pygame.Surface, row: Row, v: float, colour, sel: bool,
                    ends: tuple[str, str] | None) -> None:
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

    def _update_grid_surfaces(self) -> None:
        lay = self.layout
        if not lay.grid or self.grid_images is None or not lay.rows:
            return
        size = lay.rows[0].cells[0].size
        key = (size, self.ctx.smooth, id(self.grid_images))
        if self._grid_surfaces is None or self._grid_surfaces_key != key:
            self._grid_surfaces = [self._scale(img, size) for img in self.grid_images]
            self._grid_surfaces_key = key

    def _draw_slots(self, surface: pygame.Surface) -> None:
        lay = self.layout
        k = self.keys
        self._hints(surface, [(k["save_a"], "A"), (k["save_b"], "B"), (k["morph"], "morph")],
                    lay.slots.left + 80, lay.slots.right - 14, lay.slots.top + 18)
        for name, rect in lay.slot_rects.items():
            slot = self.slots[name]
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
                skey = (rect.size, self.ctx.smooth)
                if slot.surface is None or slot.surface_key != skey:
                    slot.surface, slot.surface_key = self._scale(slot.image, rect.size), skey
                surface.blit(slot.surface, rect.topleft)
                pygame.draw.rect(surface, colour, rect.inflate(4, 4), width=2, border_radius=4)
            self._badge(surface, name, (rect.left - 6, rect.top - 6), 24)
        # the morph arrow between the slots, with the morph's position on it
        a_rect, b_rect = lay.slot_rects["A"], lay.slot_rects["B"]
        x0, x1, y = a_rect.right + 14, b_rect.left - 14, a_rect.centery
        if x1 - x0 < 20:
            return
        path_colour = SLERP_COLOUR if self.spherical else LINEAR_COLOUR
        if self.spherical:  # an arc for the great circle
            pts = [(x0 + (x1 - x0) * u, y - 16 * np.sin(np.pi * u)) for u in np.linspace(0, 1, 24)]
        else:
            pts = [(x0, y), (x1, y)]
        pygame.draw.lines(surface, TRACK, False, pts, 4)
        pygame.draw.polygon(surface, TRACK, [(x1 + 6, y), (x1 - 4, y - 7), (x1 - 4, y + 7)])
        a = self.anim
        if a is not None and a.morph:
            e = ease_in_out(a.progress(self.t))
            u = e if a.label.startswith("A") else 1 - e
            px = x0 + (x1 - x0) * u
            py = y - (16 * np.sin(np.pi * u) if self.spherical else 0)
            done = [p for p in pts if p[0] <= px] + [(px, py)]
            if len(done) >= 2:
                pygame.draw.lines(surface, path_colour, False, done, 4)
            pygame.draw.circle(surface, SHADOW, (int(px), int(py)), 8)
            pygame.draw.circle(surface, path_colour, (int(px), int(py)), 6)
        ui.text(surface, "spherical" if self.spherical else "linear", ((x0 + x1) // 2, y + 14), size=13,
                color=path_colour, anchor="midtop", bold=True)
        if k["slerp_toggle"] and y + 52 < lay.slots.bottom:
            end = ((x0 + x1) // 2) - 20
            end = self._keycap(surface, k["slerp_toggle"], (end, y + 44))
            ui.text(surface, "path", (end + 5, y + 44), size=12, color=HINT, anchor="midleft")

    def _draw_strip(self, surface: pygame.Surface) -> None:
        lay = self.layout
        rows = lay.strip_cells
        if self.strip_images is None:
            k = self.keys
            room = lay.strip.w - 28
            msg = "Store two faces in slots A and B to see the morph between them"
            if ui.font(15).size(msg)[0] > room:
                msg = "Store faces in slots A and B"
            cx, cy = lay.strip.centerx, lay.strip.centery + 4
            ui.text(surface, msg, (cx, cy - 14), size=15, color=ui.DIM, anchor="center")
            if k["save_a"] and k["save_b"] and k["morph"] and room > 300:
                x = cx - 130
                x = self._keycap(surface, k["save_a"], (x, cy + 16))
                x = self._keycap(surface, k["save_b"], (x + 4, cy + 16))
                x = ui.text(surface, "store,", (x + 6, cy + 16), size=13, color=HINT, anchor="midleft").right
                x = self._keycap(surface, k["morph"], (x + 6, cy + 16))
                ui.text(surface, "plays the morph", (x + 6, cy + 16), size=13, color=HINT, anchor="midleft")
            return
        for cells, name, colour in ((rows[0], "LINEAR", LINEAR_COLOUR), (rows[1], "SPHERICAL", SLERP_COLOUR)):
            if cells[0].left - lay.strip.left > 90:
                ui.text(surface, name, (lay.strip.left + 14, cells[0].centery), size=12, color=colour,
                        anchor="midleft", bold=True)
        key = (lay.size, self.ctx.smooth, id(self.strip_images))
        if self._strip_layer is None or self._strip_layer_key != key:
            layer = pygame.Surface(lay.strip.size, pygame.SRCALPHA)
            for r, cells in enumerate(rows):
                for i, cell in enumerate(cells):
                    img = self._scale(self.strip_images[r * STRIP_FRAMES + i], cell.size)
                    layer.blit(img, (cell.left - lay.strip.left, cell.top - lay.strip.top))
            self._strip_layer, self._strip_layer_key = layer, key
        surface.blit(self._strip_layer, lay.strip.topleft)
        active = 1 if self.spherical else 0
        colour = SLERP_COLOUR if self.spherical else LINEAR_COLOUR
        for r, cells in enumerate(rows):
            edge = colour if r == active else ui.mix((SLERP_COLOUR, LINEAR_COLOUR)[active], ui.PANEL, 0.7)
            pygame.draw.rect(surface, edge, cells[0].union(cells[-1]).inflate(8, 8), width=2 if r == active else 1,
                             border_radius=6)
        for r, name in ((0, "A"), (-1, "B")):
            self._badge(surface, name, (rows[0][r].left + 3, rows[0][r].top + 3), 16)
        a = self.anim
        if a is not None and a.morph:  # the morph's position on the active row
            e = ease_in_out(a.progress(self.t))
            u = e if a.label.startswith("A") else 1 - e
            cells = rows[active]
            x = cells[0].centerx + u * (cells[-1].centerx - cells[0].centerx)
            top, bottom = rows[0][0].top - 6, rows[1][0].bottom + 6
            pygame.draw.line(surface, SHADOW, (int(x), top), (int(x), bottom), 5)
            pygame.draw.line(surface, ui.FG, (int(x), top), (int(x), bottom), 2)
        mode = "spherical (slerp)" if self.spherical else "linear"
        ui.text(surface, f"A to B  ·  {STRIP_FRAMES} frames  ·  morph path: {mode}", (lay.strip.right - 14, lay.strip.top + 12),
                size=12, color=HINT, anchor="topright")
