"""The Face Morphing Studio: edit a face along attribute directions, keep two faces, morph.

The face on screen is ``z = base + Σ s_i · d_i(base)``: ``base`` is a random latent from the
chosen source (the density fitted to the encoded training set when the model file has one, else
the encoded training faces; ``state.face_sources``), ``d_i`` the attribute edits (smile, age,
gender, glasses for the shipped faces model; ``state.SliderEdit``: the file's edit field of
the attribute at this face when it has one, else its unit direction) and ``s_i`` the sliders,
from ``SLIDER_MIN`` to ``SLIDER_MAX``.

Controls (named actions and axes; rebind them in assets/controls.toml, F1 shows them in game):

* ``slider`` (A/D, Left/Right, left stick X, D-pad left/right): move the selected slider,
  ``SLIDER_UNITS_PER_S`` at full deflection. Mouse: press on a slider and drag.
* ``attr_next`` / ``attr_prev`` (S/W, Down/Up, D-pad down/up): select the attribute.
* ``random`` (R / Y): glide to a new random face (a seeded ``numpy.random.Generator``,
  ``ctx.seed``) from the chosen source; the sliders go back to 0.
* ``sample_source`` (O, or a click on the source bar at the top of the face): where random
  faces come from, in turn: the fitted density, the prior N(0, I), the encoded training faces
  (those the file has); a new face from the new source glides in.
* ``temperature_down`` / ``temperature_up`` ([ / ]): the temperature of density and prior
  samples, ``TEMPERATURE_STEP`` a press from ``TEMPERATURE_LOW`` to ``TEMPERATURE_HIGH`` (1: as
  fitted; 0: the density's component means, the prior's mean). A random face on screen is made
  again at the new temperature from its own random numbers, so it stays the same face.
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
* A dropped face photo (or ``odyssey play --image``; ``open_image``): its centre square is
  encoded and becomes the face on screen, sliders at 0, to edit and store in A / B.

Decoding: a frame makes at most one ``decode_batch`` call, and only when something changed
(while a slider moves, the grid re-decodes at most every GRID_REFRESH_S so the face itself
reaches the screen within a frame):
the face, plus the 28 grid cells when the grid is on, plus the 2 x 8 strip frames when a
slot changed. Row i of the grid is ``base + Σ_{j≠i} s_j d_j + v d_i`` computed the same way
every time, so moving slider i leaves row i in the decoder's cache: a slider change costs one
run of about 22 images (29 after a random face).

The scene holds the state, reads input and runs the simulation; ``state`` has the face data
and latent maths, ``layout`` the screen rectangles (also used to hit-test clicks) and ``view``
the drawing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

from latent_odyssey.game.engine.input import InputState
from latent_odyssey.game.engine.scene import GameContext, ModeScene, state_array, worded_help_rows
from latent_odyssey.game.model.density import Draw
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.model.morph import ease_in_out, interpolate
from latent_odyssey.game.modes.faces.layout import Layout
from latent_odyssey.game.modes.faces.state import (
    GRID_VALUES,
    SLIDER_MAX,
    SLIDER_MIN,
    STRIP_FRAMES,
    TEMPERATURE_DEFAULT,
    TEMPERATURE_HIGH,
    TEMPERATURE_LOW,
    TEMPERATURE_STEP,
    Anim,
    FaceState,
    SliderEdit,
    Slot,
    default_source,
    face_sources,
    uses_temperature,
)
from latent_odyssey.game.modes.faces.view import FaceStudioView

SLIDER_UNITS_PER_S = 2.0  # slider speed at full stick / a held key
GRID_REFRESH_S = 0.1  # while the face keeps changing, the grid re-decodes at most this often
MORPH_S = 2.0  # one A -> B morph
RANDOM_GLIDE_S = 0.35  # glide to a new random face
SMILE_SWEEP_S = 4.0  # the Learn panel's experiment: the smile slider from -3 to +3
RESET_GLIDE_S = 0.25  # glide of the sliders back to 0
TEMPERATURE_GLIDE_S = 0.2  # glide of a random face to its new temperature
SAME_FACE_ATOL = 1e-6  # latents closer than this (max abs) count as the same face

# (action or axis, what it does in the Face Studio) for the help overlay, in reading order
HELP_TEXT = (
    ("slider", "Move the selected slider"),
    ("attr_next", "Select the next attribute"),
    ("attr_prev", "Select the previous attribute"),
    ("random", "A new random face"),
    ("sample_source", "Random faces from: fitted density / N(0, I) / encoded"),
    ("temperature_down", "Lower temperature of random faces"),
    ("temperature_up", "Higher temperature of random faces"),
    ("reset_face", "All sliders back to 0"),
    ("save_a", "Store this face in slot A"),
    ("save_b", "Store this face in slot B"),
    ("morph", "Morph A to B (again: back)"),
    ("slerp_toggle", "Linear / spherical path"),
    ("grid", "Attribute grid (-3..+3)"),
    ("smooth_toggle", "Smooth / crisp scaling"),
)


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
            "sample_source": [("Next source of random faces", "Left Click on the source bar", "")],
        })

    # ------------------------------------------------------------------ setup

    def enter(self, ctx: GameContext) -> None:
        super().enter(ctx)
        meta = self.meta
        self.rng = np.random.default_rng(ctx.seed)
        self.names = list(meta.attributes)
        self.edit = SliderEdit(meta, self.names)  # the sliders' edits, d_i(base) (K, D)
        self.t = 0.0
        self.face_no = 1
        self.sources = face_sources(meta)  # name -> sampler of random faces
        self.source = default_source(self.sources)
        self.temperature = TEMPERATURE_DEFAULT
        self.face_draw: tuple[str, Draw, np.ndarray] | None = None  # (source, draw, base) of the random face
        self.state = FaceState(self._random_base(), np.zeros(len(self.names)))
        self.selected = 0
        self.anim: Anim | None = None
        self.spherical = False
        self.show_grid = False
        self.slots: dict[str, Slot | None] = {"A": None, "B": None}
        self.morphed_to: str | None = None  # the slot the last finished morph ended at
        self._slide = 0.0  # slider axis this frame
        self._dragging: int | None = None  # row being dragged with the mouse
        self.keys = self._key_names(ctx.input)
        # decoded images and what they were decoded for
        self.face_image: np.ndarray | None = None
        self._face_key: bytes | None = None
        self.grid_images: list[np.ndarray] | None = None
        self._grid_key: bytes | None = None
        self._grid_time = float("-inf")  # ctx.time_s of the last grid decode
        self.strip_z: np.ndarray | None = None  # (2 * STRIP_FRAMES, D): linear row, slerp row
        self.strip_images: list[np.ndarray] | None = None
        self.view = FaceStudioView()  # the layout and the scaled surfaces

    def exit(self) -> None:
        self.view.drop_surfaces()

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
        return self.display_state().z(self.edit)

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
            "source": self.source, "temperature": self.temperature,
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
        if state.get("source") in self.sources:
            self.source = state["source"]
        t = state.get("temperature")
        if isinstance(t, (int, float)) and not isinstance(t, bool) and TEMPERATURE_LOW <= t <= TEMPERATURE_HIGH:
            self.temperature = float(t)
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
        return FaceState(self.edit.base_for(z, s), s)

    def settle(self) -> None:
        """Stop any morph or glide where it is now (the face on screen becomes the state)."""
        if self.anim is not None:
            self.state = self.display_state().copy()
            self.anim = None

    def start_anim(self, end: FaceState, duration: float, morph: bool, label: str = "",
                   start: FaceState | None = None) -> None:
        start = (start or self.display_state()).copy()
        end = end.copy()
        self.anim = Anim(start, end, start.z(self.edit), end.z(self.edit), self.t, duration, morph, label)

    def set_slider(self, i: int, value: float) -> None:
        self.settle()
        self.state.sliders[i] = min(SLIDER_MAX, max(SLIDER_MIN, float(value)))

    def _random_base(self) -> np.ndarray:
        """A new random base latent from the chosen source at the temperature (its random
        numbers are kept in ``face_draw``).  # (D,)"""
        sampler = self.sources[self.source]
        draw = sampler.draw(1, self.rng)
        base = sampler.latents(draw, self.temperature)[0]
        self.face_draw = (self.source, draw, base)
        return base

    def random_face(self) -> None:
        base = self._random_base()
        self.face_no += 1
        self.start_anim(FaceState(base, np.zeros(self.n_attrs)), RANDOM_GLIDE_S, morph=False)

    def source_words(self, source: str | None = None) -> str:
        """'fitted density (10 Gaussians in an 18-D subspace)', 'prior N(0, I)', ..."""
        sampler = self.sources[source or self.source]
        detail = sampler.describe()
        return f"{sampler.name} ({detail})" if detail else sampler.name

    def next_source(self) -> None:
        """Random faces from the next source; a new face from it glides in."""
        names = list(self.sources)
        self.source = names[(names.index(self.source) + 1) % len(names)]
        self.random_face()
        self.ctx.notify(f"Random faces from the {self.source_words()}", 3.0)

    def change_temperature(self, steps: int) -> None:
        """Temperature ± ``steps`` × TEMPERATURE_STEP; a random face on screen is made again at
        the new temperature from its own random numbers (the sliders stay)."""
        if not uses_temperature(self.source):
            self.ctx.notify(f"The temperature does not change the {self.source_words()}")
            return
        t = round(min(TEMPERATURE_HIGH, max(TEMPERATURE_LOW, self.temperature + steps * TEMPERATURE_STEP)), 2)
        if t == self.temperature:
            self.ctx.notify(f"Temperature {t:.1f} is the {'highest' if steps > 0 else 'lowest'}")
            return
        self.temperature = t
        face = self.anim.end if self.anim is not None else self.state  # where the face is going
        kept = self.face_draw
        if kept is not None and kept[0] == self.source and np.allclose(face.base, kept[2]):
            base = self.sources[self.source].latents(kept[1], t)[0]
            self.face_draw = (kept[0], kept[1], base)
            self.start_anim(FaceState(base, face.sliders.copy()), TEMPERATURE_GLIDE_S, morph=False)
            self.ctx.notify(f"Temperature {t:.1f}: the same face, drawn {'wider' if steps > 0 else 'narrower'}", 2.0)
        else:
            self.ctx.notify(f"Temperature {t:.1f} for the next random face", 2.0)

    def open_image(self, path: Path) -> None:
        """A dropped face photo: encoded, its μ becomes the face (sliders at 0), editable with
        the sliders and storable in slot A / B. A bad file changes nothing (a notice says why)."""
        post = self.encode_image(path)
        if post is None:
            return
        self.face_no += 1
        self.start_anim(FaceState(post.mu.copy(), np.zeros(self.n_attrs)), RANDOM_GLIDE_S, morph=False)
        keys = f"{self.keys.get('save_a', '')} / {self.keys.get('save_b', '')}"
        self.ctx.notify(f"Encoded {post.label}: edit it with the sliders, store it with {keys}", 5.0)

    def start_experiment(self, name: str) -> bool:
        """The Learn panel's ``smile``: the smile slider sweeps from -3 to +3 on this face."""
        if name != "smile" or "smile" not in self.names:
            return False
        i = self.names.index("smile")
        self.selected = i
        start, end = self.display_state().copy(), self.display_state().copy()
        start.sliders[i], end.sliders[i] = SLIDER_MIN, SLIDER_MAX
        self.anim, self.state = None, start.copy()
        self.start_anim(end, SMILE_SWEEP_S, morph=False, label="smile -3 to +3", start=start)
        return True

    def reset_sliders(self) -> None:
        now = self.display_state()
        self.start_anim(FaceState(now.base.copy(), np.zeros(self.n_attrs)), RESET_GLIDE_S, morph=False)

    def save(self, slot: str) -> None:
        state = self.display_state().copy()
        z = state.z(self.edit)
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
        z = self.state.z(self.edit)
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
                self.set_slider(self._dragging, self.layout.rows[self._dragging].value_at(pointer[0]))
            else:
                self._dragging = None

        if inp.pressed("random"):
            self.random_face()
        if inp.pressed("sample_source"):
            self.next_source()
        if inp.pressed("temperature_up"):
            self.change_temperature(+1)
        if inp.pressed("temperature_down"):
            self.change_temperature(-1)
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

    def _click(self, pos: tuple[int, int]) -> None:
        lay = self.layout
        if lay is None:
            return
        if lay.source_bar.w and lay.source_bar.collidepoint(pos):
            self.next_source()
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
                    self.set_slider(i, row.value_at(pos[0]))
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
        """Row i, column c: base + Σ_{j≠i} s_j d_j + GRID_VALUES[c]·d_i (d at base).  # (K * 7, D)"""
        state = state or self.display_state()
        values = np.asarray(GRID_VALUES, np.float64)[:, None]  # (7, 1)
        dirs = self.edit.dirs(state.base)  # (K, D)
        out = []
        for i in range(self.n_attrs):
            s = state.sliders.copy()
            s[i] = 0.0
            rest = state.base + s @ dirs  # (D,)
            out.append(rest[None] + values * dirs[i][None])  # (7, D)
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
        z = state.z(self.edit)
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

    @property
    def layout(self) -> Layout | None:
        """Screen rectangles of the last drawn frame (None before the first draw)."""
        return self.view.layout

    def draw(self, surface: pygame.Surface) -> None:
        """Decode what changed (``decode_frame``), then let the view paint the frame."""
        self.decode_frame()
        self.view.draw(surface, self)
