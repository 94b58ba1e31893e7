"""Latent Space Odyssey: fly a ship through a 3-D subspace of a VAE's latent space.

The view is decoded live at the ship's position (or, with the tunnel on, at points ahead of
it, drawn nested as an endless fly-through). Works with any model of at least 3 latent
dimensions; wider models are flown in a 3-D subspace (by default the three dimensions of
highest variance, the others held at their training mean) that the player can cycle.

Controls (named actions and axes from ``assets/controls.toml``; keyboard / controller)
---------------------------------------------------------------------------------------
yaw, pitch, roll       turn (A/D or arrows, Up/Down, Q/E; left stick, right stick X)
thrust, brake          W / right trigger, S / left trigger; boost: hold Shift
tunnel                 T      tunnel view on / off (on at start)
layers_more / _less    ] [    more / fewer tunnel layers (2..24, default 8)
spacing_more / _less   . ,    wider / narrower layer spacing (also the grid's cell offset)
grid                   Y      3x3 grid of decoded neighbours along the ship's right/up axes
autopilot              O / X  autopilot on / off; resumes a paused tour
tour_next              U / A  next tour kind: centroids -> dense (k-means) -> random
warp                   J / Y  warp to a random point inside the bounds
warp_class             K / B  warp to the selected class's centroid
class_0..9, class_next/prev   select the warp class (0-9, Tab, `)
smooth_toggle          N      smooth / nearest-neighbour image scaling
subspace_next          cycle the flight subspace (models with more than 3 dims). The shipped
                       controls file has no such action yet, so until it does the scene reads
                       ``slerp_toggle`` (L), which no other odyssey control uses.

Any flight input while the autopilot flies pauses it (a notice says so); ``autopilot``
resumes it from the nearest point of the tour. Leaving the populated region (``meta.bounds()``)
fogs the view toward a haze and shows a warning while the ship's soft wall pulls it back.

Frame contract: ``draw`` makes exactly one ``Decoder.decode_batch`` call per frame holding
every image the frame shows (tunnel layers or the view at the ship, plus the 9 grid cells),
so at most one onnxruntime run per frame; a worker thread (:class:`game.tours.DecodeAhead`)
decodes the predictable way ahead (along the rail) into the decoder's cache meanwhile.
"""

from __future__ import annotations

import math

import numpy as np
import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.scene import GameContext, ModeScene
from latent_odyssey.game.model.ahead import DecodeAhead
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.modes.odyssey.flight import (
    MAX_SPEED_U_S,
    Ship,
    ShipControls,
    quat_identity,
    quat_look_rotation,
    quat_slerp,
    quat_to_matrix,
)
from latent_odyssey.game.modes.odyssey.minimap import Minimap
from latent_odyssey.game.modes.odyssey.tours import TOUR_KINDS, Tour, make_tour
from latent_odyssey.game.modes.odyssey.tunnel import (
    Camera,
    Layer,
    LineRail,
    PathRail,
    TunnelCompositor,
    blit_zoomed,
    focal_px,
    grid_points,
    grid_steps,
    layer_plan,
    radial_background,
    smoothstep,
)

# ----- view
RENDER_SCALE = 0.5  # the decoded view is composed at this fraction of the window, then scaled up
VIEW_FRACTION = 0.86
SINGLE_TINT = 0.3  # how strongly the single view takes on its class colour  # the single decoded view's height / window height (tunnel off)
BG_INNER = (20, 24, 52)
BG_OUTER = (4, 5, 12)
HAZE = (70, 46, 96)  # fog colour outside the populated region
FOG_MAX = 0.62  # fog never hides the view completely
FOG_FULL_EXTENT = 0.35  # fog reaches FOG_MAX this far outside, as a fraction of the mean extent
DARK_BORDER_MEAN = 100  # decoded borders darker than this (0..255) count as a dark background
# ----- flight
FLIGHT_EXTENT_U = 8.0  # the ship's physics (game.flight) runs in a world scaled so the bounds'
# mean extent is this many flight units; latents differ in scale from model to model
# ----- tunnel and grid
LAYERS_DEFAULT = 8
LAYERS_MIN, LAYERS_MAX = 2, 24
SPACING_FRACTION = 0.06  # default layer spacing as a fraction of the mean bounds extent
SPACING_MIN_FRACTION, SPACING_MAX_FRACTION = 0.01, 0.4
SPACING_FACTOR = 1.25  # one press of spacing_more / spacing_less
TUNNEL_DEFAULT = True
REANCHOR_ANGLE_RAD = math.radians(5.0)  # turn this far from the rail and it is laid anew
REANCHOR_LATERAL = 0.3  # ... or drift this many spacings sideways from it
REANCHOR_MIN_S = 0.05  # but no more often than this
# ----- autopilot and warp
TOUR_SPEED_FRACTION = 0.22  # autopilot speed: this fraction of the mean extent per second
TURN_RATE_PER_S = 3.0  # orientation slerps toward the path tangent: 1 - exp(-rate dt) per step
LOOK_AHEAD_S = 0.3  # ... at the tangent this far ahead, which makes up for the slerp's lag
JOIN_S = 1.2  # seconds to blend from where the ship is onto the tour path
TAKEOVER_INPUT = 0.2  # |axis| above this while on autopilot hands control to the pilot
WARP_S = 0.8  # warp jump duration
WARP_TURN_RATE_PER_S = 12.0
FLASH_S = 0.35  # arrival flash
AHEAD_S = 1.5
TRACK_SAMPLES = 4096  # the tour loop is tabulated at this many points for the ship's motion
MAP_PATH_POINTS = 128  # of which the minimap draws this many  # the decode-ahead worker looks this many seconds of travel ahead
# ----- particles
DUST_COUNT = 220
DUST_RADIUS_SPACINGS = 3.0  # dust fills a cube of this half-size (in default spacings) around the ship
DUST_STREAK_S = 0.06  # streak length = distance travelled in this time
STREAK_COUNT = 64  # radial warp streaks
# ----- HUD
HUD_MARGIN = 16
READOUT_CLEARANCE = 30  # the engine's FPS readout sits in the top-right corner above our panel
PANEL_W, PANEL_H = 318, 142
MINIMAP_SIZE = 196
GRID_CELL = 76
PANEL_COLOUR = (14, 18, 34)
EDGE = (70, 120, 200)
SUBSPACE_ACTIONS = ("subspace_next", "slerp_toggle")  # first one that exists in the controls
# (action or axis, what it does in Odyssey) for the help overlay, in reading order
HELP_TEXT = (
    ("thrust", "Thrust"),
    ("brake", "Brake"),
    ("boost", "Boost (hold)"),
    ("pitch", "Nose down / up"),
    ("yaw", "Turn left / right"),
    ("roll", "Roll left / right"),
    ("tunnel", "Tunnel view on / off"),
    ("layers_more", "More tunnel layers"),
    ("layers_less", "Fewer tunnel layers"),
    ("spacing_more", "Wider layer and grid spacing"),
    ("spacing_less", "Narrower layer and grid spacing"),
    ("grid", "3x3 grid of neighbours on / off"),
    ("autopilot", "Autopilot on / off, resume"),
    ("tour_next", "Next tour kind"),
    ("warp", "Warp to a random point"),
    ("warp_class", "Warp to the selected class"),
    ("class_next", "Select the next class"),
    ("class_prev", "Select the previous class"),
    ("smooth_toggle", "Smooth / crisp image scaling"),
)


class OdysseyScene(ModeScene):
    """The 3-D flight mode (see the module docstring). ``prefetch=False`` disables the worker."""

    name = "odyssey"
    title = "Odyssey"

    def __init__(self, prefetch: bool = True) -> None:
        super().__init__()
        self.prefetch = prefetch
        self.ship = Ship()
        self.tunnel = TUNNEL_DEFAULT
        self.grid = False
        self.layer_count = LAYERS_DEFAULT
        self.mode = "manual"  # manual | autopilot | warp
        self.autopilot_paused = False
        self.tour: Tour | None = None
        self.tour_kind = TOUR_KINDS[0]
        self.tour_s = 0.0
        self.selected_class = 0
        self.last_batch_size = 0  # images in the latest frame's decode_batch call
        self.frames = 0
        self.grid_rects: list[pygame.Rect] = []  # where the 9 grid cells were drawn last
        self.ahead: DecodeAhead | None = None
        self._controls = ShipControls()
        self._clock = 0.0
        self._unsupported: str | None = None

    # ------------------------------------------------------------------ contract

    def help_rows(self, inp) -> list[tuple[str, str, str]]:
        """(what, keys, controller) rows for the help overlay, with Odyssey wording."""
        known = set(inp.map.actions) | set(inp.map.axes)
        rows = []
        for name, what in HELP_TEXT:
            if name in known:
                _, keys, pad = inp.bindings_text([name])[0]
                rows.append((what, keys, pad))
            if name == "warp_class":
                rows.append(("Select a class", "0-9", ""))
        meta = getattr(self, "meta", None)
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
        self.lo_full, self.hi_full = (b.astype(np.float64) for b in meta.bounds())
        std = np.asarray(meta.latent_std, np.float64)
        self.dim_order = np.argsort(-std, kind="stable")  # top-variance dims first
        self.sub_index = 0
        self.base = np.asarray(meta.latent_mean, np.float64).copy()  # (D,) the fixed dims
        self.centroids_full = meta.centroid_array().astype(np.float64)  # (K, D)
        self.samples_full, self.sample_labels = meta.sample_array()
        self.n_classes = len(meta.class_names)
        self._subspace_action = next(
            (a for a in SUBSPACE_ACTIONS if a in ctx.input.map.actions), None
        )
        self._rng = np.random.default_rng(getattr(ctx, "seed", None))  # warp targets
        self._tour_seed = 0
        self.minimap = Minimap(MINIMAP_SIZE)
        self.compositor = TunnelCompositor(self._dark_background())
        self._set_subspace(0, keep_position=False)
        self.ship = Ship(position=self.base[self.dims], orientation=quat_identity())
        self.spacing = SPACING_FRACTION * self.extent
        self._dust_radius = DUST_RADIUS_SPACINGS * self.spacing
        dust_rng = np.random.default_rng(3)
        self._dust = dust_rng.uniform(-1.0, 1.0, (DUST_COUNT, 3)) * self._dust_radius  # (P, 3)
        streak_rng = np.random.default_rng(4)
        self._streaks = streak_rng.uniform(0.0, 1.0, (STREAK_COUNT, 3))  # angle, radius, length
        self.rail: LineRail | PathRail = LineRail(self.ship.position, self.ship.orientation)
        self._rail_serial = 0
        self._layer_memo: tuple = (None, None, None)  # (key, points (L, 3), tints)
        self._grid_memo: tuple = (None, None)  # (key, points (9, 3))
        self._anchor_time = -1.0
        self.warp_state: dict | None = None
        self._flash = 0.0
        self._view: pygame.Surface | None = None
        self._text_cache: dict[tuple, pygame.Surface] = {}
        self._panel_cache: dict[tuple, pygame.Surface] = {}
        self._grid_cache: tuple | None = None  # ((cell, smooth), images, scaled surfaces)
        self._ahead_key: tuple | None = None
        self._velocity = np.zeros(3)
        self._last_images: list[np.ndarray] = []
        if self.prefetch:
            self.ahead = DecodeAhead(self.decoder)

    def exit(self) -> None:
        self.freeze()

    def freeze(self) -> None:
        """Stop the decode-ahead worker: every later frame decodes what it shows itself."""
        if self.ahead is not None:
            self.ahead.stop()
            self.ahead = None

    # ------------------------------------------------------------------ subspace

    def _set_subspace(self, index: int, keep_position: bool = True) -> None:
        """Fly in dims ``dim_order[3i .. 3i+2]`` (wrapping); the other dims keep their values."""
        d = self.meta.latent_dim
        old_extent = getattr(self, "extent", None)
        if keep_position:
            self.base = self.latent()
        cycle = d // math.gcd(d, 3)
        self.sub_index = index % cycle
        start = 3 * self.sub_index
        self.dims = np.array([self.dim_order[(start + j) % d] for j in range(3)])
        self.lo, self.hi = self.lo_full[self.dims], self.hi_full[self.dims]
        self.extent = float(np.mean(self.hi - self.lo))
        self.unit = self.extent / FLIGHT_EXTENT_U  # latent units per flight unit
        self.centroids = self.centroids_full[:, self.dims]  # (K, 3)
        self.minimap.set_points(self.samples_full[:, self.dims], self.sample_labels, self.lo, self.hi)
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
        return self.to_latent(self.ship.position[None])[0].astype(np.float64)

    def to_latent(self, pts: np.ndarray) -> np.ndarray:
        """Subspace points (N, 3) -> latents (N, D) float32 (other dims from ``base``)."""
        pts = np.asarray(pts, np.float64).reshape(-1, 3)
        z = np.repeat(self.base[None, :], len(pts), axis=0)
        z[:, self.dims] = pts
        return z.astype(np.float32)

    def _dark_background(self) -> bool:
        img = self.decoder.decode_one(np.asarray(self.meta.latent_mean, np.float32))
        border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
        return float(border.mean()) < DARK_BORDER_MEAN

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
        if self.mode == "autopilot" and max(
            abs(c.pitch), abs(c.yaw), abs(c.roll), c.thrust, c.brake
        ) > TAKEOVER_INPUT:
            self._pause_autopilot()
        p = inp.pressed
        if p("tunnel"):
            self.tunnel = not self.tunnel
            self._notify(f"Tunnel {'on' if self.tunnel else 'off'}")
        if p("grid"):
            self.grid = not self.grid
            self._notify(f"Grid {'on' if self.grid else 'off'}")
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
            self.ctx.smooth = not self.ctx.smooth
            self._notify(f"Image scaling: {'smooth' if self.ctx.smooth else 'nearest'}", 1.5)
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
                self._notify(f"Tour: {self._tour_title()} (autopilot flies it)")
        if p("autopilot"):
            if self.mode == "autopilot":
                self.mode = "manual"
                self.autopilot_paused = False
                self.ship.velocity = self._velocity.copy()
                self._lay_rail()
                self._notify("Autopilot off")
            else:
                self._start_autopilot()
        if p("warp"):
            margin = 0.1 * (self.hi - self.lo)
            target = self._rng.uniform(self.lo + margin, self.hi - margin)
            self._start_warp(target, "random point")
        if p("warp_class"):
            if self.n_classes:
                k = self.selected_class
                self._start_warp(self.centroids[k], f"class {self.meta.class_names[k]}")
            else:
                self._notify("This model has no classes to warp to.")

    def _notify(self, text: str, seconds: float = 3.0) -> None:
        if self.ctx is not None:
            self.ctx.notify(text, seconds)

    # ------------------------------------------------------------------ autopilot and warp

    def _tour_title(self) -> str:
        return {"centroids": "class centroids", "dense": "dense regions (k-means)",
                "random": "random points"}[self.tour_kind]

    def _ensure_tour(self) -> Tour:
        if self.tour is None:
            self.tour = make_tour(
                self.tour_kind, self.centroids, list(self.meta.class_names),
                self.samples_full[:, self.dims], self.lo, self.hi, seed=1234 + self._tour_seed,
            )
            self.tour_kind = self.tour.kind
            path = self.tour.path
            # a dense table of the loop: the ship's motion reads it instead of the spline
            s = np.linspace(0.0, path.length, TRACK_SAMPLES + 1)
            self._track = (path.points_at(s), path.tangents_at(s))  # (T+1, 3) each
            self._track_step = path.length / TRACK_SAMPLES
            self._map_path = self._track[0][:: TRACK_SAMPLES // MAP_PATH_POINTS]  # (P, 3)
        return self.tour

    def _track_at(self, s: float) -> tuple[np.ndarray, np.ndarray]:
        """Position (3,) and unit tangent (3,) on the tour at arc length ``s`` (table lookup)."""
        pts, tans = self._track
        x = (s % self.tour.path.length) / self._track_step
        i = min(int(x), TRACK_SAMPLES - 1)
        f = x - i
        p = pts[i] + f * (pts[i + 1] - pts[i])
        t = tans[i] + f * (tans[i + 1] - tans[i])
        return p, t / max(float(np.linalg.norm(t)), 1e-12)

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
        self._notify(f"Autopilot: touring {self._tour_title()}")

    def _pause_autopilot(self) -> None:
        self.mode = "manual"
        self.autopilot_paused = True
        self.ship.velocity = self._velocity.copy()
        self._lay_rail()
        self._notify("Autopilot paused: you have the controls (autopilot resumes)")

    def _start_warp(self, target: np.ndarray, label: str, notify: bool = True) -> None:
        if self.mode == "autopilot":
            self.autopilot_paused = True
        start = self.ship.position.copy()
        target = np.asarray(target, np.float64).copy()
        direction = target - start
        if np.linalg.norm(direction) < 1e-9:
            direction = self.ship.forward
        look = quat_look_rotation(direction, self.ship.up)
        self.warp_state = {"start": start, "target": target, "t": 0.0, "look": look, "label": label,
                           "length": float(np.linalg.norm(target - start))}
        self.mode = "warp"
        self._set_rail(LineRail(start, look))
        if notify:
            self._notify(f"Warp to {label}", 1.5)

    # ------------------------------------------------------------------ simulation

    def update(self, dt: float) -> None:
        if self._unsupported:
            return
        self._clock += dt
        self.compositor.advance(dt)
        self._flash = max(0.0, self._flash - dt / FLASH_S)
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
            self._velocity = self.ship.velocity.copy()
            self._maybe_reanchor()
        else:
            self._velocity = (self.ship.position - prev) / dt if dt > 0 else np.zeros(3)

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
        self.ship.orientation = quat_slerp(
            self.ship.orientation, look, 1.0 - math.exp(-TURN_RATE_PER_S * dt)
        )

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
            self.ship.position = w["target"].copy()
            self.ship.velocity = np.zeros(3)
            self.warp_state = None
            self.mode = "manual"
            self._flash = 1.0
            self._lay_rail()

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
            "velocity": self._velocity.tolist(),
            "dims": [int(d) for d in self.dims], "sub_index": int(self.sub_index),
            "tunnel": self.tunnel, "grid": self.grid, "layer_count": int(self.layer_count),
            "spacing": float(self.spacing), "selected_class": int(self.selected_class),
            "flight_mode": self.mode, "autopilot": self.mode == "autopilot",
            "autopilot_paused": self.autopilot_paused,
            "tour_kind": self.tour_kind, "tour_seed": int(self._tour_seed),
            "tour_s": float(self.tour_s), "flash": float(self._flash),
        }
        if self.tour is not None:
            state["tour_s_period"] = float(self.tour.path.length)
        if self.warp_state is not None:
            w = self.warp_state
            state.update(warp_start=w["start"].tolist(), warp_target=w["target"].tolist(),
                         warp_t=float(w["t"]), warp_label=w["label"])
        if self.ctx is not None:
            state.update(smooth=self.ctx.smooth, show_hud=self.ctx.show_hud)
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

        if self.ctx is not None:
            for key in ("smooth", "show_hud"):
                if isinstance(state.get(key), bool):
                    setattr(self.ctx, key, state[key])
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
            self.base = z.copy()
        position = arr("position", 3)
        if position is None and z is not None:
            position = z[self.dims]
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
                self._start_warp(target, str(state.get("warp_label", "target")), notify=False)
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
            self.ship.velocity, self._velocity = v.copy(), v.copy()
        if isinstance(state.get("flash"), (int, float)):
            self._flash = float(state["flash"])
        self._clock += dt
        self.compositor.advance(dt)
        if self.mode == "manual":
            self._maybe_reanchor()

    # ------------------------------------------------------------------ rails

    def _set_rail(self, rail: LineRail | PathRail) -> None:
        self.rail = rail
        self._rail_serial += 1
        self.compositor.begin_crossfade()
        self._anchor_time = self._clock
        self._grid_cache = None

    def _lay_rail(self) -> None:
        """A straight rail from the ship along its heading."""
        self._set_rail(LineRail(self.ship.position, self.ship.orientation))

    def _maybe_reanchor(self) -> None:
        rail = self.rail
        if not isinstance(rail, LineRail):
            self._lay_rail()
            return
        if self._clock - self._anchor_time < REANCHOR_MIN_S:
            return
        dot = abs(float(np.dot(rail.orientation, self.ship.orientation)))
        angle = 2.0 * math.acos(min(1.0, dot))
        if angle > REANCHOR_ANGLE_RAD or rail.lateral(self.ship.position) > REANCHOR_LATERAL * self.spacing:
            self._lay_rail()

    def rail_coord(self) -> float:
        """The ship's coordinate along the current rail."""
        if isinstance(self.rail, PathRail):
            return self.tour_s
        return self.rail.coord(self.ship.position)

    # ------------------------------------------------------------------ the frame's decode

    def frame_points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """What this frame shows, in the subspace: (view points (L, 3), rail depths (L,),
        grid points (9, 3) or None). With the tunnel off the view is the ship's position.

        Layer and grid points change only when the ship crosses a layer / half-layer step, so
        they are computed then and kept (keyed by rail, step and settings)."""
        s = self.rail_coord()
        if self.tunnel:
            step = self.rail.step_size(self.spacing)
            key = (self._rail_serial, math.floor(s / step), self.layer_count, step, self.sub_index)
            if self._layer_memo[0] != key:
                coords, _ = layer_plan(self.rail, s, self.spacing, self.layer_count)
                pts = self.rail.points(coords)
                self._layer_memo = (key, pts, self._class_tints(pts))
            n = np.arange(1, self.layer_count + 1) + math.floor(s / step)
            view, depths = self._layer_memo[1], n * step - s
        else:
            view, depths = self.ship.position[None].copy(), np.zeros(1)
        grid = None
        if self.grid and (self.ctx is None or self.ctx.show_hud):
            centre = float(grid_steps(self.rail, s, s, self.spacing)[0])
            key = (self._rail_serial, centre, self.spacing, self.sub_index)
            if self._grid_memo[0] != key:
                self._grid_memo = (key, grid_points(self.rail, np.array([centre]), self.spacing)[0])
            grid = self._grid_memo[1]
        return view, depths, grid

    def _decode_frame(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], list[np.ndarray]]:
        view, depths, grid = self.frame_points()
        pts = view if grid is None else np.concatenate([view, grid])
        images = self.decoder.decode_batch(self.to_latent(pts))  # the frame's one decode
        self.last_batch_size = len(pts)
        n = len(view)
        self._plan_ahead()
        return view, depths, images[:n], images[n:]

    def _plan_ahead(self) -> None:
        """Hand the worker the layers and grid cells of the next AHEAD_S seconds of rail,
        soonest first. Re-planned each time the ship crosses half a layer step."""
        if self.ahead is None:
            return
        s = self.rail_coord()
        if self.mode == "autopilot":
            speed = TOUR_SPEED_FRACTION * self.extent
        elif self.mode == "warp":
            speed = 2.0 * self.warp_state["length"] / WARP_S if self.warp_state else 0.0
        else:
            speed = float(np.dot(self._velocity, getattr(self.rail, "direction", np.zeros(3))))
        if speed <= 1e-9:
            return
        step = self.rail.step_size(self.spacing)
        key = (self._rail_serial, math.floor(2.0 * s / step), self.tunnel, self.grid,
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
            m = np.arange(round(s / half) + 1, round((s + horizon) / half) + 1)
            if len(m):
                grids = grid_points(self.rail, self.rail.wrap(m, half), self.spacing)  # (M, 9, 3)
                rows.append(grids.reshape(-1, 3))
                when.append(np.repeat((m - 0.5) * half, 9))
        if rows:
            order = np.argsort(np.concatenate(when), kind="stable")
            self.ahead.submit(self.to_latent(np.concatenate(rows)[order]))

    # ------------------------------------------------------------------ drawing

    def draw(self, surface: pygame.Surface) -> None:
        self.frames += 1
        w, h = surface.get_size()
        if self._unsupported:
            surface.fill(ui.BG)
            ui.text(surface, self._unsupported, (w // 2, h // 2), 22, ui.WARN, "center")
            return
        view = self._view_surface((w, h))
        smooth = True if self.ctx is None else self.ctx.smooth
        pts, depths, images, grid_images = self._decode_frame()
        self._last_images = images
        vw, vh = view.get_size()
        view.blit(self._bg, (0, 0))
        camera = Camera(self.ship.position.copy(), quat_to_matrix(self.ship.orientation))
        if self.tunnel:
            tints = self._layer_memo[2]
            layers = [Layer(img, p, float(d), t) for img, p, d, t in zip(images, pts, depths, tints, strict=True)]
            self.compositor.draw(view, camera, layers, self.rail.step_size(self.spacing),
                                 self.layer_count, smooth)
        else:
            self._draw_single(view, images[0], smooth)
        fog = self.fog_level()
        if fog > 0.0:
            self._fog(view, fog)
        warp = self.warp_progress()
        if warp is not None:
            self._zoom_blur(view, 4.0 * warp * (1.0 - warp))
        if self._flash > 0.0:
            v = int(90 * self._flash)
            self._flash_surf.fill((v, v, v))
            view.blit(self._flash_surf, (0, 0), special_flags=pygame.BLEND_RGB_ADD)
        if (vw, vh) == (w, h):
            surface.blit(view, (0, 0))
        else:
            pygame.transform.scale(view, (w, h), surface)
        self._draw_dust(surface, camera)
        if warp is not None:
            self._draw_streaks(surface, 4.0 * warp * (1.0 - warp))
        if self.ctx is None or self.ctx.show_hud:
            self._draw_hud(surface, camera, grid_images, pts)

    def _view_surface(self, size: tuple[int, int]) -> pygame.Surface:
        vsize = (max(1, round(size[0] * RENDER_SCALE)), max(1, round(size[1] * RENDER_SCALE)))
        if self._view is None or self._view.get_size() != vsize:
            self._view = pygame.Surface(vsize)
            self._bg = radial_background(vsize, BG_INNER, BG_OUTER).convert(self._view)
            self._fog_mult = pygame.Surface(vsize)
            self._fog_add = pygame.Surface(vsize)
            self._flash_surf = pygame.Surface(vsize)
        return self._view

    def _class_tints(self, pts: np.ndarray) -> list[tuple[int, int, int]]:
        """Each point's nearest class colour (the tunnel glows in the colours it passes)."""
        if not self.n_classes:
            return [(170, 200, 255)] * len(pts)
        z = self.to_latent(pts).astype(np.float64)  # (L, D)
        d2 = np.sum((z[:, None, :] - self.centroids_full[None]) ** 2, axis=2)  # (L, K)
        return [ui.class_colour(int(k)) for k in np.argmin(d2, axis=1)]

    def _draw_single(self, view: pygame.Surface, img: np.ndarray, smooth: bool) -> None:
        """The image at the ship, large and centred, glowing in its nearest class's colour."""
        vw, vh = view.get_size()
        src = self.compositor.surface_for(img, view)
        tint = self._class_tints(self.ship.position[None])[0]
        dark = self.compositor.dark_background
        if dark:
            src = src.copy()
            src.fill(tuple(int(255 - SINGLE_TINT * (255 - c)) for c in tint), special_flags=pygame.BLEND_RGB_MULT)
        rect = blit_zoomed(view, src, (vw / 2, vh / 2), VIEW_FRACTION * vh, smooth,
                           pygame.BLEND_RGB_MAX if dark else 0)
        if rect is not None:
            pygame.draw.rect(view, tuple(c // 3 for c in tint), rect.inflate(4, 4), width=1)

    def fog_level(self) -> float:
        """0 inside the populated region, rising to FOG_MAX outside it."""
        out = self.ship.outside_distance(self.lo, self.hi)
        return float(min(FOG_MAX, out / max(1e-9, FOG_FULL_EXTENT * self.extent)))

    def _fog(self, view: pygame.Surface, fog: float) -> None:
        keep = int(255 * (1.0 - fog))
        self._fog_mult.fill((keep, keep, keep))
        self._fog_add.fill(tuple(int(c * fog) for c in HAZE))
        view.blit(self._fog_mult, (0, 0), special_flags=pygame.BLEND_RGB_MULT)
        view.blit(self._fog_add, (0, 0), special_flags=pygame.BLEND_RGB_ADD)

    def _zoom_blur(self, view: pygame.Surface, strength: float) -> None:
        """Zoom blur: scaled-up copies of the view blended over it (warp jumps)."""
        vw, vh = view.get_size()
        base = view.copy()
        for i in (1, 2, 3):
            f = 1.0 + 0.07 * i * strength
            sw, sh = int(vw * f), int(vh * f)
            scaled = pygame.transform.scale(base, (sw, sh))
            scaled.set_alpha(int(120 * strength / i))
            view.blit(scaled, ((vw - sw) // 2, (vh - sh) // 2))

    def _draw_dust(self, surface: pygame.Surface, camera: Camera) -> None:
        """Dust motes fixed in space around the ship: parallax and speed streaks."""
        w, h = surface.get_size()
        r = self._dust_radius
        rel = np.mod(self._dust - self.ship.position[None] + r, 2 * r) - r  # (P, 3)
        cam = rel @ camera.rotation
        back = cam + (self._velocity @ camera.rotation)[None] * DUST_STREAK_S
        ok = (cam[:, 2] > 0.08 * r) & (back[:, 2] > 0.04 * r)
        if not np.any(ok):
            return
        f = focal_px(h)
        cam, back = cam[ok], back[ok]
        x1 = w / 2 + f * cam[:, 0] / cam[:, 2]
        y1 = h / 2 - f * cam[:, 1] / cam[:, 2]
        x0 = w / 2 + f * back[:, 0] / back[:, 2]
        y0 = h / 2 - f * back[:, 1] / back[:, 2]
        level = np.clip(1.2 - cam[:, 2] / r, 0.15, 1.0)
        for a, b, c, d, lv in zip(x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist(), level.tolist(), strict=True):
            col = (int(150 * lv), int(190 * lv), int(255 * lv))
            if abs(a - c) + abs(b - d) < 2.0:
                surface.fill(col, (int(c), int(d), 2, 2))
            else:
                pygame.draw.line(surface, col, (a, b), (c, d), 2 if lv > 0.7 else 1)

    def _draw_streaks(self, surface: pygame.Surface, strength: float) -> None:
        w, h = surface.get_size()
        cx, cy = w / 2, h / 2
        reach = 0.6 * math.hypot(w, h)
        for a, r, ln in self._streaks:
            ang = 2 * math.pi * a
            r0 = reach * (0.12 + 0.5 * r)
            r1 = r0 + reach * strength * (0.15 + 0.45 * ln)
            ca, sa = math.cos(ang), math.sin(ang)
            v = int(120 + 135 * ln * strength)
            pygame.draw.line(surface, (v // 2, int(v * 0.8), v), (cx + ca * r0, cy + sa * r0),
                             (cx + ca * r1, cy + sa * r1), 1 + int(2 * ln * strength))

    # ------------------------------------------------------------------ HUD

    def _text(self, surface, s: str, pos, size: int, color=ui.FG, anchor="topleft", bold=False) -> pygame.Rect:
        key = (s, size, color, bold)
        img = self._text_cache.get(key)
        if img is None:
            if len(self._text_cache) > 600:
                self._text_cache.clear()
            img = ui.font(size, bold).render(s, True, color)
            self._text_cache[key] = img
        rect = img.get_rect(**{anchor: pos})
        surface.blit(img, rect)
        return rect

    def _panel(self, surface, rect: pygame.Rect, accent=EDGE) -> None:
        key = (rect.size, accent)
        img = self._panel_cache.get(key)
        if img is None:
            img = pygame.Surface(rect.size, pygame.SRCALPHA)
            pygame.draw.rect(img, (*PANEL_COLOUR, 200), img.get_rect(), border_radius=6)
            pygame.draw.rect(img, (*accent, 90), img.get_rect(), width=1, border_radius=6)
            k = 12
            wd, ht = rect.size
            for (x, y), (dx, dy) in (((0, 0), (1, 1)), ((wd - 1, 0), (-1, 1)),
                                     ((0, ht - 1), (1, -1)), ((wd - 1, ht - 1), (-1, -1))):
                pygame.draw.line(img, (*accent, 255), (x, y), (x + dx * k, y), 2)
                pygame.draw.line(img, (*accent, 255), (x, y), (x, y + dy * k), 2)
            self._panel_cache[key] = img
        surface.blit(img, rect.topleft)

    def _draw_hud(self, surface, camera: Camera, grid_images: list[np.ndarray], view_pts) -> None:
        w, h = surface.get_size()
        u = max(0.6, h / 720.0)
        m = int(HUD_MARGIN * u)
        self._draw_reticle(surface, camera, u)
        # ----- left panel: flight data
        pw, ph = int(PANEL_W * u), int(PANEL_H * u)
        left = pygame.Rect(m, m, pw, ph)
        self._panel(surface, left)
        x, y = left.x + int(12 * u), left.y + int(8 * u)
        fs, fl = int(15 * u), int(13 * u)
        self._text(surface, "LATENT ODYSSEY", (x, y), fl, ui.ACCENT, bold=True)
        self._text(surface, self.meta.name, (left.right - int(12 * u), y), fl, ui.DIM, "topright")
        y += int(24 * u)
        speed = float(np.linalg.norm(self._velocity))
        self._text(surface, "SPEED", (x, y + int(4 * u)), fl, ui.DIM)
        self._text(surface, f"{speed:5.2f}", (x + int(64 * u), y), int(22 * u), ui.FG, bold=True)
        self._text(surface, "u/s", (x + int(128 * u), y + int(5 * u)), fl, ui.DIM)
        bar = pygame.Rect(x + int(162 * u), y + int(8 * u), pw - int(186 * u), int(8 * u))
        pygame.draw.rect(surface, (40, 48, 80), bar, border_radius=3)
        fill = bar.copy()
        top = MAX_SPEED_U_S * self.unit
        fill.width = int(bar.width * min(1.0, speed / top))
        if fill.width > 0:
            pygame.draw.rect(surface, (80, 200, 255) if speed < 0.45 * top else ui.ACCENT,
                             fill, border_radius=3)
        y += int(30 * u)
        self._text(surface, "POS", (x, y), fl, ui.DIM)
        pos = "   ".join(f"z{d} {v:+.2f}" for d, v in zip(self.dims, self.ship.position, strict=True))
        self._text(surface, pos, (x + int(64 * u), y), fs, ui.FG)
        y += int(24 * u)
        self._text(surface, "NEAR", (x, y), fl, ui.DIM)
        if self.n_classes:
            z = self.latent()
            d2 = np.sum((self.centroids_full - z[None]) ** 2, axis=1)
            k = int(np.argmin(d2))
            col = ui.class_colour(k)
            pygame.draw.circle(surface, col, (x + int(70 * u), y + int(8 * u)), int(5 * u))
            self._text(surface, f"{self.meta.class_names[k]}", (x + int(82 * u), y), fs, col, bold=True)
            self._text(surface, f"dist {math.sqrt(float(d2[k])):.2f}", (x + int(170 * u), y), fs, ui.DIM)
            y += int(24 * u)
            self._text(surface, "WARP TO", (x, y), fl, ui.DIM)
            k = self.selected_class
            col = ui.class_colour(k)
            pygame.draw.circle(surface, col, (x + int(70 * u), y + int(8 * u)), int(5 * u), width=2)
            self._text(surface, f"{self.meta.class_names[k]}", (x + int(82 * u), y), fs, col)
        else:
            self._text(surface, "no classes", (x + int(64 * u), y), fs, ui.DIM)
        # ----- right panel: modes
        right = pygame.Rect(w - m - pw, m + int(READOUT_CLEARANCE * u), pw, ph)
        self._panel(surface, right)
        x, y = right.x + int(12 * u), right.y + int(8 * u)
        if self.mode == "warp":
            state, col = "WARP", (120, 220, 255)
        elif self.mode == "autopilot":
            state, col = "AUTOPILOT", ui.ACCENT
        elif self.autopilot_paused:
            state, col = "AUTOPILOT PAUSED", (255, 150, 90)
        else:
            state, col = "MANUAL FLIGHT", (120, 230, 160)
        blink = self.mode != "autopilot" or int(self._clock * 2) % 2 == 0
        pygame.draw.circle(surface, col if blink else (60, 60, 60), (x + int(5 * u), y + int(9 * u)), int(5 * u))
        self._text(surface, state, (x + int(18 * u), y), int(17 * u), col, bold=True)
        y += int(26 * u)
        tour = f"tour  {self._tour_title()}"
        if self.tour is not None and self.mode == "autopilot":
            tour += f"  ›  {self.tour.stop_names[self.tour.next_stop(self.tour_s)]}"
        self._text(surface, tour, (x, y), fs, ui.FG)
        y += int(24 * u)
        if self.mode == "warp" and self.warp_state is not None:
            self._text(surface, f"jumping to {self.warp_state['label']}", (x, y), fs, (120, 220, 255))
        elif self.autopilot_paused:
            self._text(surface, "autopilot (O) resumes the tour", (x, y), fs, ui.DIM)
        else:
            self._text(surface, "flight input takes over", (x, y), fs, ui.DIM)
        y += int(24 * u)
        tun = f"TUNNEL  {self.layer_count} layers" if self.tunnel else "TUNNEL  off"
        self._text(surface, tun, (x, y), fs, (120, 230, 255) if self.tunnel else ui.DIM)
        self._text(surface, f"spacing {self.spacing:.3f}", (right.right - int(12 * u), y), fs, ui.DIM, "topright")
        y += int(24 * u)
        dims = " ".join(f"z{d}" for d in self.dims)
        self._text(surface, f"SUBSPACE  {dims}", (x, y), fs, ui.FG)
        self._text(surface, f"of {self.meta.latent_dim} dims", (right.right - int(12 * u), y), fs, ui.DIM, "topright")
        # ----- minimap
        size = self.minimap.size
        mm = pygame.Rect(w - m - size, h - m - size, size, size)
        self._panel(surface, mm.inflate(int(12 * u), int(34 * u)).move(0, -int(11 * u)))
        self._text(surface, "RADAR", (mm.x, mm.y - int(22 * u)), fl, ui.DIM)
        self._text(surface, "ahead is up", (mm.right, mm.y - int(22 * u)), fl, ui.DIM, "topright")
        path_pts = self._map_path if self.tour is not None else None
        marker = None
        if self.mode == "warp" and self.warp_state is not None:
            marker = self.warp_state["target"]
        elif self.n_classes:
            marker = self.centroids[self.selected_class]
        self.minimap.draw(surface, mm.topleft, self.ship.position, camera.rotation, path_pts,
                          view_pts if self.tunnel else None, marker)
        # ----- grid
        self.grid_rects = []
        if grid_images:
            self._draw_grid(surface, grid_images, u, m)
        # ----- warnings and hints
        fog = self.fog_level()
        if fog > 0.0:
            pulse = 0.8 + 0.2 * math.sin(self._clock * 6.0)
            col = tuple(int(c * pulse + 40 * (1 - pulse)) for c in ui.WARN)
            out = self.ship.outside_distance(self.lo, self.hi)
            box = pygame.Rect(0, 0, int(400 * u), int(58 * u))
            box.midtop = (w // 2, m)
            self._panel(surface, box, ui.WARN)
            self._text(surface, "LEAVING THE POPULATED REGION", (w // 2, box.y + int(7 * u)),
                       int(19 * u), col, "midtop", True)
            self._text(surface, f"{out:.2f} u outside the bounds  ·  pulling back",
                       (w // 2, box.y + int(34 * u)), fs, (230, 170, 170), "midtop")
        if self.mode == "warp" and self.warp_state is not None:
            self._text(surface, "W A R P", (w // 2, int(h * 0.78)), int(28 * u), (150, 230, 255), "center", True)

    def _draw_reticle(self, surface, camera: Camera, u: float) -> None:
        w, h = surface.get_size()
        cx, cy = w // 2, h // 2
        col = (110, 150, 210)
        r = int(30 * u)
        for a0 in (0.25, 1.82, 3.39, 4.96):
            rect = pygame.Rect(cx - r, cy - r, 2 * r, 2 * r)
            pygame.draw.arc(surface, col, rect, a0, a0 + 1.0, 1)
        pygame.draw.line(surface, col, (cx - r - int(10 * u), cy), (cx - r - int(3 * u), cy))
        pygame.draw.line(surface, col, (cx + r + int(3 * u), cy), (cx + r + int(10 * u), cy))
        # flight path marker: where the velocity points
        v = self._velocity @ camera.rotation
        if np.linalg.norm(v) > 1e-3 and v[2] > 1e-6:
            f = focal_px(h)
            px, py = cx + f * v[0] / v[2], cy - f * v[1] / v[2]
            if abs(px - cx) < w / 2 and abs(py - cy) < h / 2:
                c2 = (120, 255, 170)
                pygame.draw.circle(surface, c2, (int(px), int(py)), int(6 * u), 1)
                pygame.draw.line(surface, c2, (px - 12 * u, py), (px - 6 * u, py))
                pygame.draw.line(surface, c2, (px + 6 * u, py), (px + 12 * u, py))
                pygame.draw.line(surface, c2, (px, py - 6 * u), (px, py - 11 * u))

    def _draw_grid(self, surface, images: list[np.ndarray], u: float, m: int) -> None:
        w, h = surface.get_size()
        cell = int(GRID_CELL * u)
        gap = max(2, int(4 * u))
        size = 3 * cell + 2 * gap
        rect = pygame.Rect(m, h - m - size, size, size)
        self._panel(surface, rect.inflate(int(12 * u), int(34 * u)).move(0, -int(11 * u)))
        self._text(surface, "NEIGHBOURS", (rect.x, rect.y - int(22 * u)), int(13 * u), ui.DIM)
        self._text(surface, f"right / up ± {self.spacing:.3f}", (rect.right, rect.y - int(22 * u)),
                   int(13 * u), ui.DIM, "topright")
        smooth = True if self.ctx is None else self.ctx.smooth
        cached = self._grid_cache
        # the decoder hands back the same arrays for cached images: rescale only on a change
        if (cached is None or cached[0] != (cell, smooth) or len(cached[1]) != len(images)
                or any(a is not b for a, b in zip(cached[1], images, strict=False))):
            scale = pygame.transform.smoothscale if smooth else pygame.transform.scale
            surfs = [scale(self.compositor.surface_for(img, surface), (cell, cell)) for img in images]
            self._grid_cache = ((cell, smooth), list(images), surfs)
        self.grid_rects = []
        for i, s in enumerate(self._grid_cache[2]):
            r, c = divmod(i, 3)
            pos = (rect.x + c * (cell + gap), rect.y + r * (cell + gap))
            surface.blit(s, pos)
            self.grid_rects.append(pygame.Rect(pos, (cell, cell)))
            if i == 4:
                pygame.draw.rect(surface, ui.ACCENT, (*pos, cell, cell), width=2)
            else:
                pygame.draw.rect(surface, (50, 64, 100), (*pos, cell, cell), width=1)
