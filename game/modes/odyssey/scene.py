"""Latent Space Odyssey: fly a ship through a 3-D subspace of a VAE's latent space.

Every point is an image: the view is a field of decoded images at fixed latent points all
around the ship (finer near it, coarser far away), billboards in perspective from the ship's
camera; or, with the tunnel on, images at points ahead of it nested as an endless zoom
around the direction of travel. Works with any model of at least 3 latent dimensions; wider
models are flown in a 3-D subspace (by default the three dimensions of highest variance, the
others held at their training mean) that the player can cycle.

Controls (named actions and axes from ``assets/controls.toml``; keyboard / controller)
---------------------------------------------------------------------------------------
yaw, pitch, roll       turn (A/D or arrows, Up/Down, Q/E; left stick, right stick X)
thrust, brake          W / right trigger, S / left trigger; boost: hold Shift
tunnel                 T      field / tunnel view (the field at start)
tunnel_look            C      tunnel look: plain -> trails -> prism
layers_more / _less    ] [    more / fewer tunnel layers (2..24, default 8)
spacing_more / _less   . ,    wider / narrower spacing: the field's lattice, the tunnel's
                              layers and the grid's cell offset
mouse_look             F      mouse look on / off (the mouse turns the ship; released when
                              the window loses focus)
grid                   Y      3x3 grid of decoded neighbours along the ship's right/up axes
autopilot              O / X  autopilot on / off; resumes a paused tour
tour_next              U / A  next tour kind: centroids -> dense (k-means) -> random
warp                   J / Y  warp to a random point inside the bounds (a sample of the
                              fitted density on models that have one: faces)
warp_class             K / B  warp to the selected class's centroid
class_0..9, class_next/prev   select the warp class (0-9, Tab, `)
smooth_toggle          N      image look: crisp ink -> nearest pixels -> smooth
subspace_next          cycle the flight subspace (models with more than 3 dims). The shipped
                       controls file has no such action yet, so until it does the scene reads
                       ``slerp_toggle`` (L), which no other odyssey control uses.

Any flight input while the autopilot flies pauses it (a notice says so); ``autopilot``
resumes it from the nearest point of the tour. Leaving the populated region (``meta.bounds()``)
fogs the view toward a haze and shows a warning while the ship's soft wall pulls it back.

This module holds the scene's state, its input handling (``handle``) and simulation
(``update``), and says what each frame shows (``frame_points``); ``view.py`` draws the frames
and ``hud.py`` the HUD over them, reading the scene and changing nothing in it.

Frame contract: ``draw`` makes at most one ``Decoder.decode_batch`` call per frame holding
every image the frame decodes itself (tunnel layers, the 9 grid cells, field points not yet
decoded), so at most one onnxruntime run per frame on the frame's thread. Field points are
fixed, so each is decoded once and kept (``fieldview``); two worker threads decode the
predictable way ahead meanwhile: the field's frontier (:class:`stream.FieldStream`) and the
rail's layers and grid cells (:class:`game.model.ahead.DecodeAhead`). With no workers
(``prefetch=False`` or ``freeze()``) every frame decodes all it shows, so frames depend on the
state alone (tests, recordings).

Models without classes (faces): the tour starts with the dense regions, the field's tints
and the HUD name k-means regions of the encoded data instead of classes.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.scene import GameContext, ModeScene
from latent_odyssey.game.model.ahead import DecodeAhead
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.modes.odyssey.field import BILLBOARD_CELLS, CARD_CELLS, Lattice
from latent_odyssey.game.modes.odyssey.flight import (
    MAX_SPEED_U_S,
    Ship,
    ShipControls,
    quat_from_axis_angle,
    quat_identity,
    quat_look_rotation,
    quat_mul,
    quat_normalize,
    quat_slerp,
    quat_to_matrix,
)
from latent_odyssey.game.modes.odyssey.frame import flight_frame, frame_bounds
from latent_odyssey.game.modes.odyssey.hud import draw_unsupported
from latent_odyssey.game.modes.odyssey.mouselook import MouseLook
from latent_odyssey.game.modes.odyssey.stream import FieldStream
from latent_odyssey.game.modes.odyssey.tours import DENSE_K, TOUR_KINDS, Tour, kmeans, make_tour
from latent_odyssey.game.modes.odyssey.tunnel import LOOKS as TUNNEL_LOOKS
from latent_odyssey.game.modes.odyssey.tunnel import (
    LineRail,
    PathRail,
    grid_points,
    grid_steps,
    layer_plan,
    smoothstep,
)
from latent_odyssey.game.modes.odyssey.view import OdysseyView

# ----- fog outside the populated region
FOG_MAX = 0.62  # fog never hides the view completely
FOG_FULL_EXTENT = 0.35  # fog reaches FOG_MAX this far outside, as a fraction of the mean extent
# ----- flight
FLIGHT_EXTENT_U = 8.0  # the ship's physics (game.flight) runs in a world scaled so the bounds'
# mean extent is this many flight units; latents differ in scale from model to model
# ----- tunnel and grid
LAYERS_DEFAULT = 8
LAYERS_MIN, LAYERS_MAX = 2, 24
SPACING_FRACTION = 0.06  # default layer spacing as a fraction of the mean bounds extent
SPACING_MIN_FRACTION, SPACING_MAX_FRACTION = 0.01, 0.4
SPACING_FACTOR = 1.25  # one press of spacing_more / spacing_less
TUNNEL_DEFAULT = False  # the field is the default view
FIELD_SPACING_FACTOR = 1.0  # the field's fine lattice spacing, in layer spacings
REGION_TINT = 0.75  # class-less models: region colours are this saturated (cards' rims)
TIMING_BATCH = 4  # images decoded at entry to time one decode (sizes the frame's budget)
REANCHOR_ANGLE_RAD = math.radians(12.0)  # turn this far from the rail and it is laid anew (the
# layers are drawn around the vanishing point anyway: this only refreshes what they show)
REANCHOR_LATERAL = 0.3  # ... or drift this many spacings sideways from it
REANCHOR_MIN_S = 0.05  # but no more often than this
# ----- autopilot and warp
TOUR_SPEED_FRACTION = 0.22  # autopilot speed: this fraction of the mean extent per second
TURN_RATE_PER_S = 3.0  # orientation slerps toward the path tangent: 1 - exp(-rate dt) per step
LEVEL_RATE_PER_S = 8.0  # ... and toward level flight (no roll) at this rate, or at once when
LEVEL_SNAP_RAD = math.radians(3.0)  # ... the roll is this small
LOOK_AHEAD_S = 0.3  # ... at the tangent this far ahead, which makes up for the slerp's lag
JOIN_S = 1.2  # seconds to blend from where the ship is onto the tour path
TAKEOVER_INPUT = 0.2  # |axis| above this while on autopilot hands control to the pilot
MOUSE_TAKEOVER_RAD = 0.02  # ... as does a mouse-look turn of this many radians in one frame
WARP_S = 0.8  # warp jump duration
WARP_TURN_RATE_PER_S = 12.0
FLASH_S = 0.35  # arrival flash
AHEAD_S = 1.5  # the decode-ahead worker looks this many seconds of travel ahead ...
GRID_AHEAD_STEPS = 4  # ... and this many half steps for the 9 grid cells of each
AHEAD_TURN_RAD = math.radians(4.0)  # flying this far off a straight rail: nothing is planned on it
TRACK_SAMPLES = 4096  # the tour loop is tabulated at this many points for the ship's motion
MAP_PATH_POINTS = 128  # of which the minimap draws this many
# ----- help and controls
SUBSPACE_ACTIONS = ("subspace_next", "slerp_toggle")  # first one that exists in the controls
# (action or axis, what it does in Odyssey) for the help overlay, in reading order
HELP_TEXT = (
    ("thrust", "Thrust"),
    ("brake", "Brake"),
    ("boost", "Boost (hold)"),
    ("pitch", "Nose down / up"),
    ("yaw", "Turn left / right"),
    ("roll", "Roll left / right"),
    ("tunnel", "Field / tunnel view"),
    ("tunnel_look", "Tunnel look: plain, trails, prism"),
    ("mouse_look", "Mouse look on / off"),
    ("layers_more", "More tunnel layers"),
    ("layers_less", "Fewer tunnel layers"),
    ("spacing_more", "Wider field, layer and grid spacing"),
    ("spacing_less", "Narrower field, layer and grid spacing"),
    ("grid", "3x3 grid of neighbours on / off"),
    ("autopilot", "Autopilot on / off, resume"),
    ("tour_next", "Next tour kind"),
    ("warp", "Warp to a random point"),
    ("warp_class", "Warp to the selected class"),
    ("class_next", "Select the next class"),
    ("class_prev", "Select the previous class"),
    ("smooth_toggle", "Image look: crisp, nearest, smooth"),
)


class OdysseyScene(ModeScene):
    """The 3-D flight mode (see the module docstring). ``prefetch=False`` disables the worker."""

    name = "odyssey"
    title = "Odyssey"
    fills_screen = True  # the field's sky, the scaled tunnel or the unsupported notice cover the window

    def __init__(self, prefetch: bool = True) -> None:
        super().__init__()
        self.prefetch = prefetch
        self.ship = Ship()
        self.tunnel = TUNNEL_DEFAULT
        self.tunnel_look = TUNNEL_LOOKS[0]
        self.grid = False
        self.layer_count = LAYERS_DEFAULT
        self.mode = "manual"  # manual | autopilot | warp
        self.autopilot_paused = False
        self.tour: Tour | None = None
        self.tour_kind = TOUR_KINDS[0]
        self.tour_s = 0.0
        self.selected_class = 0
        self.frames = 0  # frames drawn
        self.ahead: DecodeAhead | None = None
        self.stream: FieldStream | None = None  # the field's decode-ahead worker
        self.view: OdysseyView | None = None  # made on enter, for a model that can be flown
        self.mouse = MouseLook()
        self.clock = 0.0  # seconds of simulation
        self._controls = ShipControls()
        self._unsupported: str | None = None

    @property
    def last_batch_size(self) -> int:
        """Images the latest frame took from its one decode (``view.OdysseyView.last_batch_size``)."""
        return 0 if self.view is None else self.view.last_batch_size

    @property
    def grid_rects(self) -> list[pygame.Rect]:
        """Where the 9 grid cells were drawn last."""
        return [] if self.view is None else self.view.hud.grid_rects

    # ------------------------------------------------------------------ contract

    def help_rows(self, inp) -> list[tuple[str, str, str]]:
        """(what, keys, controller) rows for the help overlay, with Odyssey wording."""
        known = set(inp.map.actions) | set(inp.map.axes)
        meta = getattr(self, "meta", None)
        classless = meta is not None and not meta.class_names
        rows = []
        for name, what in HELP_TEXT:
            if classless and name in ("warp_class", "class_next", "class_prev"):
                continue  # nothing to select: the model has no classes
            if name in known:
                _, keys, pad = inp.bindings_text([name])[0]
                rows.append((what, keys, pad))
            if name == "warp_class":
                rows.append(("Select a class", "0-9", ""))
            if name == "mouse_look" and name in known:
                rows.append(("Turn (while mouse look is on)", "Mouse", ""))
        action = next((a for a in SUBSPACE_ACTIONS if a in known), None)
        if meta is not None and meta.latent_dim > 3 and action is not None:
            _, keys, pad = inp.bindings_text([action])[0]
            rows.append((f"Next 3-D subspace of the {meta.latent_dim} dims", keys, pad))
        return rows

    @classmethod
    def supports(cls, meta: ModelMeta) -> str | None:
        """None if the model can be flown, else one sentence saying why not."""
        if meta.latent_dim < 3:
            return (
                f"Odyssey needs a model with at least 3 latent dimensions; "
                f"{meta.name} has {meta.latent_dim}."
            )
        return None

    def enter(self, ctx: GameContext) -> None:
        super().enter(ctx)
        meta = self.meta
        self._unsupported = self.supports(meta)
        if self._unsupported:
            return
        samples, self.sample_labels = meta.sample_array()  # (M, D) latents, (M,)
        self.frame = flight_frame(meta.latent_dim, samples)  # every point below: frame coordinates
        self.samples_full = self.frame.to_frame(samples)  # (M, D)
        self.lo_full, self.hi_full = frame_bounds(self.frame, samples, *meta.bounds(), meta.latent_percentiles)
        self.mean_full = self.frame.to_frame(meta.latent_mean)  # (D,)
        self.std_full = (np.asarray(meta.latent_std, np.float64) if self.frame.identity
                         else self.samples_full.std(axis=0))  # (D,)
        self.dim_order = np.argsort(-self.std_full, kind="stable")  # top-variance axes first
        self.sub_index = 0
        self.base = self.mean_full.copy()  # (D,) the fixed axes
        self.centroids_full = self.frame.to_frame(meta.centroid_array()).reshape(-1, meta.latent_dim)  # (K, D)
        self.n_classes = len(meta.class_names)
        self._subspace_action = next(
            (a for a in SUBSPACE_ACTIONS if a in ctx.input.map.actions), None
        )
        self._rng = np.random.default_rng(getattr(ctx, "seed", None))  # warp targets
        self.density = meta.fitted_density()  # faces: random warps and tours sample it
        self._tour_seed = 0
        if not self.n_classes:
            self.tour_kind = "dense"  # no class centroids to tour
        self._regions: tuple | None = None  # class-less models: (dims, k-means centres (K, 3))
        self._lattice: tuple | None = None  # (id, Lattice)
        self._set_subspace(0, keep_position=False)
        self.ship = Ship(position=self.base[self.dims], orientation=quat_identity())
        self.spacing = SPACING_FRACTION * self.extent
        self.view = OdysseyView(meta, self.spacing)
        probe = np.repeat(self.mean_full[None, self.dims], TIMING_BATCH, axis=0)  # (B, 3)
        probe += np.linspace(-0.5, 0.5, TIMING_BATCH)[:, None] * self.extent
        self.decoder.run_raw(self.to_latent(probe))  # warms the session up and times one decode
        self.view.field.set_sync_budget(self.decoder.last_decode_ms / TIMING_BATCH)
        self.rail: LineRail | PathRail = LineRail(self.ship.position, self.ship.orientation)
        self.rail_serial = 0  # counts the rails laid
        self._layer_memo: tuple = (None, None)  # (key, points (L, 3))
        self._grid_memo: tuple = (None, None)  # (key, points (9, 3))
        self._anchor_time = -1.0
        self.warp_state: dict | None = None
        self.flash = 0.0  # the arrival flash, 1 -> 0 over FLASH_S
        self._ahead_key: tuple | None = None
        self.velocity = np.zeros(3)  # (3,) the ship's actual velocity, whatever flies it
        if self.prefetch:
            self.ahead = DecodeAhead(self.decoder)
            self.stream = FieldStream(self.decoder, prepare=self.view.prepare_payload)

    def exit(self) -> None:
        self.freeze()
        self.mouse.release()

    def freeze(self) -> None:
        """Stop the decode-ahead workers: every later frame decodes what it shows itself."""
        if self.ahead is not None:
            self.ahead.stop()
            self.ahead = None
        if self.stream is not None:
            self.stream.stop()
            self.stream = None

    # ------------------------------------------------------------------ subspace

    def _set_subspace(self, index: int, keep_position: bool = True) -> None:
        """Fly in dims ``dim_order[3i .. 3i+2]`` (wrapping); the other dims keep their values."""
        d = self.meta.latent_dim
        old_extent = getattr(self, "extent", None)
        if keep_position:
            self.base = self.frame_point()
        cycle = d // math.gcd(d, 3)
        self.sub_index = index % cycle
        start = 3 * self.sub_index
        self.dims = np.array([self.dim_order[(start + j) % d] for j in range(3)])
        self.lo, self.hi = self.lo_full[self.dims], self.hi_full[self.dims]
        self.extent = float(np.mean(self.hi - self.lo))
        self.unit = self.extent / FLIGHT_EXTENT_U  # latent units per flight unit
        self.centroids = self.centroids_full[:, self.dims]  # (K, 3)
        self.tour = None
        if keep_position:
            self.spacing *= self.extent / max(old_extent, 1e-12)
            self.ship.position = self.base[self.dims].copy()
            self.ship.velocity = np.zeros(3)
            self.warp_state = None
            if self.mode == "autopilot":
                self._start_autopilot()  # the same kind of tour, in the new subspace
            else:
                self.mode = "manual"
                self._lay_rail()

    def latent(self) -> np.ndarray:
        """The full latent vector (D,) at the ship."""
        return self.frame.to_latent(self.frame_point())

    def frame_point(self) -> np.ndarray:
        """The ship's point in frame coordinates (D,): the fixed axes from ``base``."""
        y = self.base.copy()
        y[self.dims] = self.ship.position
        return y

    def field_lattice(self) -> tuple[Lattice, tuple]:
        """The field's lattice for the current subspace and spacing, and an id that changes
        whenever its points would be other latents (subspace, spacing, the fixed dims)."""
        other = np.delete(self.base, self.dims)
        key = (self.sub_index, tuple(int(d) for d in self.dims), round(self.spacing, 12),
               np.round(other, 9).tobytes())
        if self._lattice is None or self._lattice[0] != key:
            anchor = self.mean_full[self.dims]
            cells = BILLBOARD_CELLS if self.view.style.dark_background else CARD_CELLS
            self._lattice = (key, Lattice(anchor, FIELD_SPACING_FACTOR * self.spacing, billboard_cells=cells))
        return self._lattice[1], self._lattice[0]

    def tints_of(self, pts: np.ndarray) -> np.ndarray:
        """Region colours of subspace points (N, 3) -> (N, 3) uint8: the nearest class
        centroid's colour (in the full latent), or for models without classes the colour of
        the nearest k-means region of the encoded data (in the subspace)."""
        pts = np.asarray(pts, np.float64).reshape(-1, 3)
        if self.n_classes:
            z = self.to_latent(pts).astype(np.float64)  # (N, D)
            d2 = np.sum((z[:, None, :] - self.centroids_full[None]) ** 2, axis=2)  # (N, K)
            colours = np.array(ui.CLASS_COLOURS, np.float64)
            return colours[np.argmin(d2, axis=1) % len(colours)].astype(np.uint8)
        centres = self.region_centres()
        d2 = np.sum((pts[:, None, :] - centres[None]) ** 2, axis=2)  # (N, K)
        colours = np.array(ui.CLASS_COLOURS, np.float64)
        grey = colours.mean(axis=1, keepdims=True)
        colours = grey + REGION_TINT * (colours - grey)
        return colours[np.argmin(d2, axis=1) % len(colours)].astype(np.uint8)

    def region_centres(self) -> np.ndarray:
        """k-means centres of the encoded data in the current subspace (K, 3), the regions of
        a model without classes."""
        dims = tuple(int(d) for d in self.dims)
        if self._regions is None or self._regions[0] != dims:
            sample = self.samples_full[:, self.dims]
            centres = kmeans(sample, DENSE_K) if len(sample) else self.base[self.dims][None].copy()
            self._regions = (dims, centres)
        return self._regions[1]

    def region_of(self, pt: np.ndarray) -> tuple[str, int]:
        """(name, colour index) of the region a subspace point lies in: its nearest class, or
        for models without classes its nearest k-means region ("region 3")."""
        if self.n_classes:
            z = self.to_latent(np.asarray(pt)[None])[0].astype(np.float64)
            k = int(np.argmin(np.sum((self.centroids_full - z[None]) ** 2, axis=1)))
            return self.meta.class_names[k], k
        k = int(np.argmin(np.sum((self.region_centres() - np.asarray(pt)[None]) ** 2, axis=1)))
        return f"region {k + 1}", k

    def flight_direction(self) -> np.ndarray:
        """The unit direction of travel (3,): along the velocity, or the nose when still."""
        v = np.asarray(self.velocity, np.float64)
        speed = math.hypot(*v)
        if speed > 1e-3 * self.extent:
            return v / speed
        return self.ship.forward

    def to_latent(self, pts: np.ndarray) -> np.ndarray:
        """Subspace points (N, 3) -> latents (N, D) float32 (other axes from ``base``)."""
        pts = np.asarray(pts, np.float64).reshape(-1, 3)
        y = np.repeat(self.base[None, :], len(pts), axis=0)  # (N, D) frame coordinates
        y[:, self.dims] = pts
        return self.frame.to_latent(y).astype(np.float32)

    # ------------------------------------------------------------------ input

    def handle(self, inp) -> None:
        if self._unsupported:
            return
        c = ShipControls(
            pitch=inp.axis("pitch"), yaw=inp.axis("yaw"), roll=inp.axis("roll"),
            thrust=max(0.0, inp.axis("thrust")), brake=max(0.0, inp.axis("brake")),
            boost=inp.held("boost"),
        )
        self._controls = c
        look_yaw, look_pitch = self.mouse.turn(inp)
        if self.mode == "autopilot" and max(
            abs(c.pitch), abs(c.yaw), abs(c.roll), c.thrust, c.brake,
            (abs(look_yaw) + abs(look_pitch)) / MOUSE_TAKEOVER_RAD * TAKEOVER_INPUT,
        ) > TAKEOVER_INPUT:
            self._pause_autopilot()
        if (look_yaw or look_pitch) and self.mode == "manual":
            turn = quat_mul(quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), look_yaw),
                            quat_from_axis_angle(np.array([1.0, 0.0, 0.0]), -look_pitch))
            self.ship.orientation = quat_normalize(quat_mul(self.ship.orientation, turn))
        p = inp.pressed
        if p("tunnel"):
            self.tunnel = not self.tunnel
            self._notify("Tunnel view: a zoom along your flight" if self.tunnel else "Field view: every point is an image")
            self._sound("tick")
        if "tunnel_look" in inp.map.actions and p("tunnel_look"):
            self.tunnel_look = TUNNEL_LOOKS[(TUNNEL_LOOKS.index(self.tunnel_look) + 1) % len(TUNNEL_LOOKS)]
            self._notify(f"Tunnel look: {self.tunnel_look}" + ("" if self.tunnel else " (T shows the tunnel)"), 2)
            self._sound("tick")
        if "mouse_look" in inp.map.actions and p("mouse_look"):
            on = self.mouse.toggle()
            self._notify("Mouse look on: the mouse turns the ship (F or focus loss releases it)" if on
                         else "Mouse look off", 2.5)
            self._sound("tick")
        if p("grid"):
            self.grid = not self.grid
            self._notify(f"Grid {'on' if self.grid else 'off'}")
            self._sound("tick")
        if p("layers_more") or p("layers_less"):
            step = 1 if p("layers_more") else -1
            self.layer_count = int(np.clip(self.layer_count + step, LAYERS_MIN, LAYERS_MAX))
            self._notify(f"Tunnel layers: {self.layer_count}", 1.5)
        if p("spacing_more") or p("spacing_less"):
            f = SPACING_FACTOR if p("spacing_more") else 1.0 / SPACING_FACTOR
            lo, hi = SPACING_MIN_FRACTION * self.extent, SPACING_MAX_FRACTION * self.extent
            self.spacing = float(np.clip(self.spacing * f, lo, hi))
            self._notify(f"Spacing: {self.spacing:.3f}", 1.5)
        if p("smooth_toggle") and self.ctx is not None:
            self.toggle_smooth()
            self._sound("tick")
        for k in range(10):
            if p(f"class_{k}") and k < self.n_classes:
                self.selected_class = k
                self._notify(f"Class {self.meta.class_names[k]} selected (warp_class flies there)", 2)
        if self.n_classes and (p("class_next") or p("class_prev")):
            step = 1 if p("class_next") else -1
            self.selected_class = (self.selected_class + step) % self.n_classes
            self._notify(f"Class {self.meta.class_names[self.selected_class]} selected", 1.5)
        if self._subspace_action and self.meta.latent_dim > 3 and p(self._subspace_action):
            self._set_subspace(self.sub_index + 1)
            self._notify("Subspace: dims " + ", ".join(f"z{d}" for d in self.dims), 2)
        if self.mode == "warp":
            return
        if p("tour_next"):
            self.tour_kind = TOUR_KINDS[(TOUR_KINDS.index(self.tour_kind) + 1) % len(TOUR_KINDS)]
            self._tour_seed += 1
            self.tour = None
            if self.mode == "autopilot" or self.autopilot_paused:
                self._start_autopilot()
            else:
                self._notify(f"Tour: {self.tour_title()} (autopilot flies it)")
        if p("autopilot"):
            if self.mode == "autopilot":
                self.mode = "manual"
                self.autopilot_paused = False
                self.ship.velocity = self.velocity.copy()
                self._lay_rail()
                self._notify("Autopilot off")
            else:
                self._start_autopilot()
        if p("warp"):
            self._warp_random()
        if p("warp_class"):
            if self.n_classes:
                k = self.selected_class
                self._start_warp(self.centroids[k], f"class {self.meta.class_names[k]}")
            else:
                self._notify("This model has no classes to warp to.")

    def random_points(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` random points of the flight subspace: samples of the model's fitted density
        (in the flown axes, inside the bounds) when it has one, else uniform inside the inner
        80 % of the bounds.  # (n, 3)"""
        if self.density is not None:
            return np.clip(self._density_points(n, rng)[:, self.dims], self.lo, self.hi)
        margin = 0.1 * (self.hi - self.lo)
        return rng.uniform(self.lo + margin, self.hi - margin, size=(n, 3))

    def _density_points(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` samples of the fitted density in frame coordinates, inside the bounds.  # (n, D)"""
        return np.clip(self.frame.to_frame(self.density.sample(n, rng)), self.lo_full, self.hi_full)

    def _warp_random(self) -> None:
        """Warp to a random point; with a fitted density (faces) to a whole sample of it: the
        flight takes the flown axes there and the arrival sets the fixed axes too, so each warp
        lands among other faces, not among the same average face."""
        if self.density is None:
            self._start_warp(self.random_points(1, self._rng)[0], "random point")
            return
        y = self._density_points(1, self._rng)[0]  # (D,)
        self._start_warp(y[self.dims], "random face", rest=y)

    def _notify(self, text: str, seconds: float = 3.0) -> None:
        if self.ctx is not None:
            self.ctx.notify(text, seconds)

    def _sound(self, name: str) -> None:
        """Play one of the engine's synthesised sounds (``engine.audio``; silent without)."""
        audio = getattr(self.ctx, "audio", None)
        if audio is not None:
            audio.play(name)

    # ------------------------------------------------------------------ autopilot and warp

    def tour_title(self) -> str:
        """The current tour kind in words."""
        return {"centroids": "class centroids", "dense": "dense regions (k-means)",
                "random": "random points"}[self.tour_kind]

    def _ensure_tour(self) -> Tour:
        if self.tour is None:
            self.tour = make_tour(
                self.tour_kind, self.centroids, list(self.meta.class_names),
                self.samples_full[:, self.dims], self.lo, self.hi, seed=1234 + self._tour_seed,
                sampler=self.random_points,
            )
            self.tour_kind = self.tour.kind
            path = self.tour.path
            # a dense table of the loop: the ship's motion reads it instead of the spline
            s = np.linspace(0.0, path.length, TRACK_SAMPLES + 1)
            self._track = (path.points_at(s), path.tangents_at(s))  # (T+1, 3) each
            self._track_step = path.length / TRACK_SAMPLES
            self.map_path = self._track[0][:: TRACK_SAMPLES // MAP_PATH_POINTS]  # (P, 3)
        return self.tour

    def _track_at(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        """Position (3,) and unit tangent (3,) on the tour at arc length ``s`` (table lookup)."""
        pts, tans = self._track
        x = (s % self.tour.path.length) / self._track_step
        i = min(int(x), TRACK_SAMPLES - 1)
        f = x - i
        p = pts[i] + f * (pts[i + 1] - pts[i])
        t = tans[i] + f * (tans[i + 1] - tans[i])
        return p, t / max(math.hypot(*t), 1e-12)

    def _start_autopilot(self) -> None:
        tour = self._ensure_tour()
        pts = self._track[0]
        i = int(np.argmin(np.sum((pts - self.ship.position[None]) ** 2, axis=1)))
        self.tour_s = i * self._track_step
        self._join_from = self.ship.position.copy()
        self._join_t = 0.0 if np.linalg.norm(pts[i] - self._join_from) > 1e-9 else JOIN_S
        self.mode = "autopilot"
        self.autopilot_paused = False
        self._set_rail(PathRail(tour.path))
        self._notify(f"Autopilot: touring {self.tour_title()}")

    def _pause_autopilot(self) -> None:
        self.mode = "manual"
        self.autopilot_paused = True
        self.ship.velocity = self.velocity.copy()
        self._lay_rail()
        self._notify("Autopilot paused: you have the controls (autopilot resumes)")

    def _start_warp(self, target: np.ndarray, label: str, notify: bool = True, rest: np.ndarray | None = None) -> None:
        """Fly to ``target`` (3,) in the flown axes; ``rest`` (D,), frame coordinates, also
        sets the fixed axes on arrival."""
        if self.mode == "autopilot":
            self.autopilot_paused = True
        start = self.ship.position.copy()
        target = np.asarray(target, np.float64).copy()
        direction = target - start
        if np.linalg.norm(direction) < 1e-9:
            direction = self.ship.forward
        look = quat_look_rotation(direction, self.ship.up)
        self.warp_state = {"start": start, "target": target, "t": 0.0, "look": look, "label": label,
                           "length": float(np.linalg.norm(target - start)),
                           "rest": None if rest is None else np.asarray(rest, np.float64).copy()}
        self.mode = "warp"
        self._set_rail(LineRail(start, look))
        if notify:
            self._notify(f"Warp to {label}", 1.5)
            self._sound("warp")

    def open_image(self, path: Path) -> None:
        """A dropped image (or ``--image``): encoded, and the ship warps to its μ (in the
        flown dimensions). A bad file changes nothing (a notice says why)."""
        post = self.encode_image(path)
        if post is not None and not self._unsupported:
            self._start_warp(self.frame.to_frame(post.mu)[self.dims], post.label)

    # ------------------------------------------------------------------ simulation

    def update(self, dt: float) -> None:
        if self._unsupported:
            return
        self.clock += dt
        self.view.compositor.advance(dt)
        self.flash = max(0.0, self.flash - dt / FLASH_S)
        prev = self.ship.position.copy()
        if self.mode == "warp":
            self._update_warp(dt)
        elif self.mode == "autopilot":
            self._update_autopilot(dt)
        else:
            self._step_ship(dt)
        if not (np.all(np.isfinite(self.ship.position)) and np.all(np.isfinite(self.ship.velocity))):
            self.ship = Ship(position=self.base[self.dims], orientation=quat_identity())
            self._lay_rail()
            prev = self.ship.position.copy()
        if self.mode == "manual":
            self.velocity = self.ship.velocity.copy()
            self._maybe_reanchor()
        else:
            self.velocity = (self.ship.position - prev) / dt if dt > 0 else np.zeros(3)
        audio = getattr(self.ctx, "audio", None)
        if audio is not None:  # the engine hum follows the speed (in flight units)
            audio.hum(math.hypot(*self.velocity) / self.unit / MAX_SPEED_U_S)

    def _step_ship(self, dt: float) -> None:
        """One physics step in flight units (latent / ``unit``), so every model flies alike."""
        k = self.unit
        self.ship.position = self.ship.position / k
        self.ship.velocity = self.ship.velocity / k
        self.ship.step(dt, self._controls, self.lo / k, self.hi / k)
        self.ship.position = self.ship.position * k
        self.ship.velocity = self.ship.velocity * k

    def _update_autopilot(self, dt: float) -> None:
        tour = self.tour
        assert tour is not None
        self.tour_s = (self.tour_s + TOUR_SPEED_FRACTION * self.extent * dt) % tour.path.length
        on_path, _ = self._track_at(self.tour_s)
        if self._join_t < JOIN_S:
            self._join_t += dt
            u = smoothstep(self._join_t / JOIN_S)
            self.ship.position = (1.0 - u) * self._join_from + u * on_path
        else:
            self.ship.position = on_path
        _, tangent = self._track_at(self.tour_s + TOUR_SPEED_FRACTION * self.extent * LOOK_AHEAD_S)
        look = quat_look_rotation(tangent)
        q = quat_slerp(self.ship.orientation, look, 1.0 - math.exp(-TURN_RATE_PER_S * dt))
        # the autopilot flies level: it takes out the roll the slerps gather on a curving path
        # (a small roll at once, a large one, left by the pilot, smoothly)
        m = quat_to_matrix(q)
        level = quat_look_rotation(m[:, 2])
        roll = abs(math.atan2(m[1, 0], m[1, 1]))  # world up seen from the ship: its tilt
        self.ship.orientation = level if roll < LEVEL_SNAP_RAD else quat_slerp(
            q, level, 1.0 - math.exp(-LEVEL_RATE_PER_S * dt))

    def _update_warp(self, dt: float) -> None:
        w = self.warp_state
        assert w is not None
        w["t"] += dt
        p = min(1.0, w["t"] / WARP_S)
        self.ship.position = w["start"] + (w["target"] - w["start"]) * smoothstep(p)
        self.ship.orientation = quat_slerp(
            self.ship.orientation, w["look"], 1.0 - math.exp(-WARP_TURN_RATE_PER_S * dt)
        )
        if p >= 1.0:
            if w.get("rest") is not None:
                self.base = w["rest"].copy()  # the fixed axes jump under the arrival flash
            self.ship.position = w["target"].copy()
            self.ship.velocity = np.zeros(3)
            self.warp_state = None
            self.mode = "manual"
            self.flash = 1.0
            self._lay_rail()
            self._sound("arrive")

    def warp_progress(self) -> float | None:
        """0..1 while a warp jump is under way, else None."""
        return None if self.warp_state is None else min(1.0, self.warp_state["t"] / WARP_S)

    # ------------------------------------------------------------------ recording protocol

    def start_tour(self, kind: str, seed: int = 0) -> None:
        """Engage the autopilot on tour ``kind`` (seeded), from the start of the loop, with the
        ship already on the path and looking along it (headless renders start here)."""
        if kind not in TOUR_KINDS:
            raise ValueError(f"Unknown tour {kind!r}; choose one of {', '.join(TOUR_KINDS)}.")
        self.tour_kind, self._tour_seed, self.tour = kind, int(seed), None
        tour = self._ensure_tour()
        p, t = self._track_at(0.0)
        self.ship.position, self.ship.velocity = p.copy(), np.zeros(3)
        self.ship.orientation = quat_look_rotation(t)
        self.tour_s, self._join_from, self._join_t = 0.0, p.copy(), JOIN_S
        self.mode, self.autopilot_paused, self.warp_state = "autopilot", False, None
        self._set_rail(PathRail(tour.path))

    def snapshot(self) -> dict:
        """The scene's state for flight logs (``game.flightlog``): JSON-able, see ``restore``."""
        state = {
            "z": self.latent().tolist(),
            "position": self.ship.position.tolist(),
            "orientation": self.ship.orientation.tolist(),
            "velocity": self.velocity.tolist(),
            "dims": [int(d) for d in self.dims], "sub_index": int(self.sub_index),
            "tunnel": self.tunnel, "tunnel_look": self.tunnel_look, "grid": self.grid,
            "layer_count": int(self.layer_count),
            "spacing": float(self.spacing), "selected_class": int(self.selected_class),
            "flight_mode": self.mode, "autopilot": self.mode == "autopilot",
            "autopilot_paused": self.autopilot_paused,
            "tour_kind": self.tour_kind, "tour_seed": int(self._tour_seed),
            "tour_s": float(self.tour_s), "flash": float(self.flash),
        }
        if self.tour is not None:
            state["tour_s_period"] = float(self.tour.path.length)
        if self.warp_state is not None:
            w = self.warp_state
            state.update(warp_start=w["start"].tolist(), warp_target=w["target"].tolist(),
                         warp_t=float(w["t"]), warp_label=w["label"])
            if w.get("rest") is not None:  # a whole latent: the fixed axes it sets on arrival
                state["warp_rest"] = self.frame.to_latent(w["rest"]).tolist()
        state.update(self.view_settings())
        return state

    def restore(self, state: dict, dt: float = 0.0) -> None:
        """Put the scene in a ``snapshot()`` state (values may be interpolated between two);
        ``dt`` advances the scene's own animations (cross-fades, pulses) for replays."""
        if self._unsupported:
            return

        def arr(key: str, n: int) -> np.ndarray | None:
            try:
                v = np.asarray(state.get(key), np.float64).reshape(-1)
            except (TypeError, ValueError):
                return None
            return v if v.size == n and np.all(np.isfinite(v)) else None

        self.restore_view_settings(state)
        if state.get("tunnel_look") in TUNNEL_LOOKS:
            self.tunnel_look = state["tunnel_look"]
        for key in ("tunnel", "grid", "autopilot_paused"):
            if isinstance(state.get(key), bool):
                setattr(self, key, state[key])
        if isinstance(state.get("layer_count"), int):
            self.layer_count = int(np.clip(state["layer_count"], LAYERS_MIN, LAYERS_MAX))
        if isinstance(state.get("spacing"), (int, float)) and state["spacing"] > 0:
            self.spacing = float(state["spacing"])
        if isinstance(state.get("selected_class"), int) and 0 <= state["selected_class"] < max(1, self.n_classes):
            self.selected_class = state["selected_class"]
        sub = state.get("sub_index")
        if isinstance(sub, int) and sub != self.sub_index:
            self._set_subspace(sub, keep_position=False)
        z = arr("z", self.meta.latent_dim)
        if z is not None:
            self.base = self.frame.to_frame(z)
        position = arr("position", 3)
        if position is None and z is not None:
            position = self.base[self.dims]
        mode = state.get("flight_mode", "autopilot" if state.get("autopilot") else "manual")
        if mode == "autopilot":
            kind, seed = state.get("tour_kind", self.tour_kind), state.get("tour_seed", self._tour_seed)
            if (self.mode != "autopilot" or self.tour is None or kind != self.tour_kind
                    or seed != self._tour_seed) and kind in TOUR_KINDS:
                self.start_tour(kind, int(seed))
            if isinstance(state.get("tour_s"), (int, float)):
                self.tour_s = float(state["tour_s"]) % self.tour.path.length
            self._join_t = JOIN_S
        elif mode == "warp" and arr("warp_start", 3) is not None and arr("warp_target", 3) is not None:
            start, target = arr("warp_start", 3), arr("warp_target", 3)
            w = self.warp_state
            if self.mode != "warp" or w is None or not (np.allclose(w["start"], start) and np.allclose(w["target"], target)):
                self.ship.position = start.copy()
                rest = arr("warp_rest", self.meta.latent_dim)
                self._start_warp(target, str(state.get("warp_label", "target")), notify=False,
                                 rest=None if rest is None else self.frame.to_frame(rest))
            self.warp_state["t"] = float(state.get("warp_t", 0.0))
        else:
            if self.mode != "manual":
                self.mode, self.warp_state = "manual", None
                self._lay_rail()
        if position is not None:
            self.ship.position = position.copy()
        q = arr("orientation", 4)
        if q is not None and np.linalg.norm(q) > 0:
            self.ship.orientation = q / np.linalg.norm(q)
        v = arr("velocity", 3)
        if v is not None:
            self.ship.velocity, self.velocity = v.copy(), v.copy()
        if isinstance(state.get("flash"), (int, float)):
            self.flash = float(state["flash"])
        self.clock += dt
        self.view.compositor.advance(dt)
        if self.mode == "manual":
            self._maybe_reanchor()

    # ------------------------------------------------------------------ rails

    def _set_rail(self, rail: LineRail | PathRail) -> None:
        self.rail = rail
        self.rail_serial += 1
        self.view.compositor.begin_crossfade()
        self._anchor_time = self.clock

    def _lay_rail(self) -> None:
        """A straight rail from the ship along its heading."""
        self._set_rail(LineRail(self.ship.position, self.ship.orientation))

    def _maybe_reanchor(self) -> None:
        rail = self.rail
        if not isinstance(rail, LineRail):
            self._lay_rail()
            return
        if self.clock - self._anchor_time < REANCHOR_MIN_S:
            return
        dot = abs(float((rail.orientation * self.ship.orientation).sum()))
        angle = 2.0 * math.acos(min(1.0, dot))
        if angle > REANCHOR_ANGLE_RAD or rail.lateral(self.ship.position) > REANCHOR_LATERAL * self.spacing:
            self._lay_rail()

    def rail_coord(self) -> float:
        """The ship's coordinate along the current rail."""
        if isinstance(self.rail, PathRail):
            return self.tour_s
        return self.rail.coord(self.ship.position)

    # ------------------------------------------------------------------ what the frame shows

    def frame_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """What this frame shows on the rail, in the subspace: (tunnel layer points (L, 3),
        rail depths (L,), grid points (9, 3) or None). With the tunnel off (the field view,
        which the view plans itself) there are no layers: (0, 3) and (0,).

        Layer and grid points change only when the ship crosses a layer / half-layer step, so
        they are computed then and kept (keyed by rail, step and settings)."""
        s = self.rail_coord()
        if self.tunnel:
            step = self.rail.step_size(self.spacing)
            key = (self.rail_serial, math.floor(s / step), self.layer_count, step, self.sub_index)
            if self._layer_memo[0] != key:
                coords, _ = layer_plan(self.rail, s, self.spacing, self.layer_count)
                self._layer_memo = (key, self.rail.points(coords))
            n = np.arange(1, self.layer_count + 1) + math.floor(s / step)
            view, depths = self._layer_memo[1], n * step - s
        else:
            view, depths = np.zeros((0, 3)), np.zeros(0)
        grid = None
        if self.grid and (self.ctx is None or self.ctx.show_hud):
            centre = float(grid_steps(self.rail, s, s, self.spacing)[0])
            key = (self.rail_serial, centre, self.spacing, self.sub_index)
            if self._grid_memo[0] != key:
                self._grid_memo = (key, grid_points(self.rail, np.array([centre]), self.spacing)[0])
            grid = self._grid_memo[1]
        return view, depths, grid

    def plan_ahead(self) -> None:
        """Hand the worker the layers and grid cells of the next AHEAD_S seconds of rail
        (grid cells: GRID_AHEAD_STEPS half steps), soonest first. Re-planned each time the
        ship crosses half a layer step; the view calls it after each frame's decode. While
        the pilot turns away from a straight rail it is about to be laid anew, so nothing is
        planned on it (the decodes would be wasted and would slow the frames meanwhile)."""
        if self.ahead is None:
            return
        if self.mode == "manual" and isinstance(self.rail, LineRail):
            along = float((self.flight_direction() * self.rail.direction).sum())
            if along < math.cos(AHEAD_TURN_RAD):
                return
        s = self.rail_coord()
        if self.mode == "autopilot":
            speed = TOUR_SPEED_FRACTION * self.extent
        elif self.mode == "warp":
            speed = 2.0 * self.warp_state["length"] / WARP_S if self.warp_state else 0.0
        else:
            speed = float((self.velocity * getattr(self.rail, "direction", np.zeros(3))).sum())
        if speed <= 1e-9:
            return
        step = self.rail.step_size(self.spacing)
        key = (self.rail_serial, math.floor(2.0 * s / step), self.tunnel, self.grid,
               self.layer_count, self.spacing, self.sub_index)
        if key == self._ahead_key:
            return
        self._ahead_key = key
        horizon = max(speed * AHEAD_S, 2.0 * step)
        when: list[np.ndarray] = []  # rail coordinate at which each row is first needed
        rows: list[np.ndarray] = []
        if self.tunnel:
            n = np.arange(math.floor(s / step) + 1 + self.layer_count,
                          math.floor((s + horizon) / step) + self.layer_count + 1)
            if len(n):
                rows.append(self.rail.points(self.rail.wrap(n, step)))
                when.append((n - self.layer_count) * step)
        if self.grid:
            half = 0.5 * step
            m = np.arange(round(s / half) + 1, round(min(s + horizon, s + GRID_AHEAD_STEPS * half) / half) + 1)
            if len(m):
                grids = grid_points(self.rail, self.rail.wrap(m, half), self.spacing)  # (M, 9, 3)
                rows.append(grids.reshape(-1, 3))
                when.append(np.repeat((m - 0.5) * half, 9))
        if rows:
            order = np.argsort(np.concatenate(when), kind="stable")
            self.ahead.submit(self.to_latent(np.concatenate(rows)[order]))

    def fog_level(self) -> float:
        """0 inside the populated region, rising to FOG_MAX outside it."""
        out = self.ship.outside_distance(self.lo, self.hi)
        return float(min(FOG_MAX, out / max(1e-9, FOG_FULL_EXTENT * self.extent)))

    # ------------------------------------------------------------------ drawing

    def draw(self, surface: pygame.Surface) -> None:
        """The frame, drawn by the view (``view.OdysseyView``) from the scene's state."""
        self.frames += 1
        if self._unsupported:
            draw_unsupported(surface, self._unsupported)
            return
        self.view.draw(surface, self)
