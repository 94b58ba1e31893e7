"""The Navigator: a 2-D map of latent space beside the decoded image.

Controls (named actions and axes; rebind them in assets/controls.toml, see F1 in game):

* ``move_x`` / ``move_y`` (WASD, arrows, left stick): move the cursor; the speed is a fixed
  fraction of the visible map per second, so it slows down as you zoom in.
* Left click / drag on the map (mouse ``mark``): put the cursor there. A click on an
  interpolation thumbnail jumps to that frame.
* ``zoom_in`` / ``zoom_out`` (= / -, mouse wheel, D-pad up/down): zoom the map around the
  cursor (around the pointer when zooming with the wheel over the map).
* ``random`` (R / Y): glide to a random point drawn from the prior N(0, I).
* ``class_0`` .. ``class_9``, ``class_next`` / ``class_prev`` (0-9, Tab / `, shoulders):
  select a class and glide to its centroid (eased, ``GLIDE_S``).
* ``morph`` (G / B): toggle a slow drift toward the selected class (exponential approach,
  time constant ``MORPH_TAU_S``); while it is on, choosing a class retargets the drift.
* ``mark`` (Space / A): mark the cursor as A, then B (a third mark starts again at A).
* ``interpolate`` (I / X): show ``STRIP_FRAMES`` decoded frames from A to B, linear and
  spherical (slerp about the origin) as two rows, draw both paths on the map and ride the
  cursor along one of them. Without marks it runs from the previous to the selected class;
  with only A it runs from A to the cursor. Press again to hide.
* ``slerp_toggle`` (L): ride along the other path. ``smooth_toggle`` (N): smooth or nearest
  image scaling. ``grid`` (Y key): tile decoded samples under the map.

Your own picture (``pad.py``, ``encoded.py``; the view draws them):

* ``pad`` (E / D-pad right): open or close the drawing pad in place of the decoded image.
  Left drag on it draws, right drag erases; with keys or the stick the moves drive the pen
  point and ``mark`` (Space / A) held inks. ``pad_eraser`` (X) switches pen and eraser,
  ``pad_clear`` (C) wipes it. Every change is preprocessed (MNIST's recipe) and encoded
  within the frame: the posterior appears on the map as μ with its 1σ and 2σ ellipses, and
  the picture as the encoder sees it and the decoded μ appear beside the pad.
* A dropped image file (or ``odyssey play --image FILE``): encoded the same way (the scene's
  ``open_image``), and the cursor glides to its μ.
* ``resample`` (Z / D-pad left): new ε for the reparameterization samples z = μ + σ·ε, shown
  as dots inside the ellipses and decoded in the strip (the reparameterization trick).
* ``to_encoded`` (Enter): glide the cursor to the picture's μ (then G morphs it toward a class).
* ``prior_overlay`` (O): the prior N(0, I)'s 1σ/2σ/3σ circles over the density of the encoded
  data (a Gaussian mixture fitted by EM, ``model.mixture``), per-dimension KL bars, and a
  warning when the cursor is off the data ("latent space has holes").

Models with more than two latent dimensions are shown in the two dimensions of highest
spread (``meta.latent_std``); the others stay at their mean (``meta.latent_mean``).

This module holds the scene's state, input handling and simulation; ``layout.py`` places the
panels and ``view.py`` (``NavigatorView``) does all the drawing, asking the scene for one
batched decode per frame.
"""

from __future__ import annotations

import base64
import math
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pygame

from latent_odyssey.game.engine.input import InputState
from latent_odyssey.game.engine.scene import GameContext, ModeScene, state_array, worded_help_rows
from latent_odyssey.game.model.mixture import Mixture, fit_mixture
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.model.morph import ease_in_out, lerp, slerp
from latent_odyssey.game.model.posterior import (
    EncodeError,
    Posterior,
    encode_images,
    encode_picture,
)
from latent_odyssey.game.modes.navigator.encoded import Encoded, new_encoded
from latent_odyssey.game.modes.navigator.layout import Layout, thumb_rects
from latent_odyssey.game.modes.navigator.mapglide import MAP_GLIDE_S, MapGlide, blend, same_points
from latent_odyssey.game.modes.navigator.pad import DrawingPad, PadInput
from latent_odyssey.game.modes.navigator.view import NavigatorView

MOVE_VIEWS_PER_S = 0.3  # cursor speed at full stick, in visible map widths per second
GLIDE_S = 0.6  # glide to a class centroid
RANDOM_GLIDE_S = 0.35  # glide to a random point
MORPH_TAU_S = 1.1  # time constant of the morph drift (63 % of the way per tau)
MORPH_DONE_FRAC = 0.004  # morph stops within this fraction of the map span of its target
RIDE_S = 2.4  # ride along an interpolation path
ZOOM_STEP = 1.25  # zoom factor per press / wheel notch
ZOOM_MIN, ZOOM_MAX = 0.5, 64.0
FIT_MARGIN = 1.25  # the populated box fills 1 / FIT_MARGIN of the map at zoom 1
FOLLOW_MARGIN_FRAC = 0.12  # the view pans to keep the cursor this far inside the map
TRAIL_SAMPLE_S = 1 / 30  # the trail records the cursor at most this often
TRAIL_POINTS = 80
STRIP_FRAMES = 9  # frames per interpolation row
TO_ENCODED_GLIDE_S = 0.8  # glide to an encoded picture's μ
SNAPSHOT_PICTURE_MAX = 28 * 28  # snapshots carry the encoder's input up to this many values

# (action or axis, what it does in the Navigator) for the help overlay, in reading order
HELP_TEXT = (
    ("move_x", "Move the cursor left / right"),
    ("move_y", "Move the cursor down / up"),
    ("zoom_in", "Zoom in"),
    ("zoom_out", "Zoom out"),
    ("random", "Glide to a random point"),
    ("class_next", "Next class"),
    ("class_prev", "Previous class"),
    ("morph", "Drift toward the selected class"),
    ("mark", "Mark this point as A, then B"),
    ("interpolate", "Interpolate from A to B"),
    ("slerp_toggle", "Ride the linear / spherical path"),
    ("smooth_toggle", "Smooth / crisp image scaling"),
    ("grid", "Decoded images under the map"),
    ("pad", "Drawing pad: draw a digit"),
    ("pad_eraser", "Pad: pen / eraser"),
    ("pad_clear", "Pad: clear"),
    ("resample", "New ε: z = μ + σ·ε samples"),
    ("to_encoded", "Glide to your picture's μ"),
    ("prior_overlay", "Prior vs the data's density"),
)


@dataclass
class Strip:
    """An interpolation between a and b: STRIP_FRAMES latents per row (and their images)."""

    a: np.ndarray  # (D,)
    b: np.ndarray  # (D,)
    label: str
    lin_z: np.ndarray  # (N, D)
    slerp_z: np.ndarray  # (N, D)
    images: list[np.ndarray] | None = None  # 2N uint8 (H, W, 3): linear row, then slerp row (decode)


class NavigatorScene(ModeScene):
    """The 2-D latent map (left), the decoded image (right), interpolation strips below."""

    name = "navigator"
    title = "Navigator"
    fills_screen = True  # the chrome layer covers the window

    @classmethod
    def help_rows(cls, inp: InputState) -> list[tuple[str, str, str]]:
        """(what, keys, controller) rows for the help overlay, with Navigator wording."""
        known = set(inp.map.actions) | set(inp.map.axes)
        classes = [f"class_{i}" for i in range(10) if f"class_{i}" in known]
        firsts = [r[1].split(", ")[0] for r in inp.bindings_text(classes)]
        keys = "0-9" if firsts == [str(i) for i in range(10)] else " ".join(f for f in firsts if f)
        return worded_help_rows(inp, HELP_TEXT, {
            "move_y": [("Put the cursor there", "Left Click / drag on the map", "")],
            "random": [("Glide to class 0-9", keys, "")],
            "pad": [("Draw / erase on the pad", "Left / Right drag on it", "Space / A held, stick")],
            "to_encoded": [("Encode a picture", "Drop an image file", "")],
        })

    @classmethod
    def supports(cls, meta: ModelMeta) -> str | None:
        """None when the model can be shown, else the reason why not."""
        if meta.latent_dim < 2:
            return f"The Navigator needs a latent space of at least 2 dimensions; {meta.name} has {meta.latent_dim}."
        return None

    def latent(self) -> np.ndarray:
        """The full latent on screen.  # (D,)"""
        return np.asarray(self.z, np.float64).copy()

    def snapshot(self) -> dict:
        """The cursor's latent, the map's view and zoom, the grid and the selected class."""
        return {
            "z": self.latent().tolist(), "view": self.view.tolist(), "zoom": float(self.zoom),
            "show_grid": self.show_grid, "selected": self.selected,
            "dims": [int(d) for d in self.dims], "pad_open": self.pad_open,
            "show_prior": self.show_prior, "encoded": self._encoded_state(), **self.view_settings(),
        }

    def _encoded_state(self) -> dict | None:
        """The encoded picture's μ, σ, ε and label for snapshots, with the picture the encoder
        read as base64 bytes when it is small (``SNAPSHOT_PICTURE_MAX`` values; not a face)."""
        e = self.encoded
        if e is None:
            return None
        state = {"mu": e.post.mu.tolist(), "sigma": e.post.sigma.tolist(), "eps": e.eps.tolist(), "label": e.post.label}
        if e.post.image.size <= SNAPSHOT_PICTURE_MAX:
            u8 = (np.clip(e.post.image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
            state["picture"] = base64.b64encode(u8.tobytes()).decode("ascii")
        return state

    def restore(self, state: dict, dt: float = 0.0) -> None:
        """Put the cursor, view, zoom and toggles where ``state`` says (glides and morphs stop:
        the replay drives the cursor)."""
        self.restore_view_settings(state)
        z = state_array(state, "z", self.meta.latent_dim)
        if z is not None:
            self.z = z.copy()
            self.glide = None
            self.morphing = False
        view = state_array(state, "view", 2)
        if view is not None:
            self.view = view.copy()
        if isinstance(state.get("zoom"), (int, float)) and state["zoom"] > 0:
            self.zoom = float(state["zoom"])
        if isinstance(state.get("show_grid"), bool):
            self.show_grid = state["show_grid"]
        if isinstance(state.get("selected"), int) and 0 <= state["selected"] < len(self.class_names):
            self.selected = state["selected"]
        for key in ("pad_open", "show_prior"):
            if isinstance(state.get(key), bool):
                setattr(self, key, state[key])
        if self.show_prior:
            self.ensure_mixture()
        self._restore_encoded(state.get("encoded", "absent"))

    def _restore_encoded(self, saved: object) -> None:
        """Put back a snapshot's encoded posterior (the picture itself is not in snapshots)."""
        if saved == "absent":
            return
        if saved is None:
            self.encoded = None
            return
        if not isinstance(saved, dict):
            return
        d = self.meta.latent_dim
        mu, sigma = state_array(saved, "mu", d), state_array(saved, "sigma", d)
        eps = state_array(saved, "eps")
        if mu is None or sigma is None or eps is None or eps.size % d:
            return
        e = self.encoded
        if e is not None and np.allclose(e.post.mu, mu) and np.allclose(e.post.sigma, sigma) and e.eps.size == eps.size \
                and np.allclose(e.eps.ravel(), eps):
            return
        label = saved.get("label") if isinstance(saved.get("label"), str) else "picture"
        c, h, w = self.meta.image_shape
        picture = np.zeros((c, h, w), np.float32)
        try:
            raw = base64.b64decode(str(saved.get("picture", "")), validate=True)
        except (ValueError, TypeError):
            raw = b""
        if len(raw) == picture.size:
            picture = (np.frombuffer(raw, np.uint8).reshape(c, h, w) / 255.0).astype(np.float32)
        post = Posterior(mu, sigma, picture, label, label=label)
        self.encoded = Encoded(post, eps.reshape(-1, d), self.t - 1.0)

    # ------------------------------------------------------------------ setup

    def enter(self, ctx: GameContext) -> None:
        super().enter(ctx)
        meta = self.meta
        self.rng = np.random.default_rng(ctx.seed)
        self._take_model(meta)
        self.map_glide: MapGlide | None = None  # the map moving to a new epoch's positions
        k = len(self.class_names)
        self.selected: int | None = 0 if k else None
        self.prev_selected: int | None = None
        self.z = self.project(self.centroids[0]) if k else self.mean.copy()  # (D,)
        self.view = (self.lo2 + self.hi2) / 2  # (2,) latent at the map centre
        self.zoom = 1.0
        self.t = 0.0
        self.glide: tuple[np.ndarray, np.ndarray, float, float] | None = None  # start, end, t0, dur
        self.morphing = False
        self.marks: list[np.ndarray] = []
        self.strip: Strip | None = None
        self.follow_slerp = False
        self.ride_t0: float | None = None
        self.show_grid = False
        self.trail: deque[tuple[float, float, float]] = deque(maxlen=TRAIL_POINTS)
        self._move = (0.0, 0.0)
        self._dragging = False
        self.layout: Layout | None = None
        self.pad = DrawingPad()
        self.pad_open = False
        self._pad_encoded = self.pad.version  # the pad version last encoded
        self.pad_input = PadInput()  # strokes under way on the pad
        self._pen_move = (0.0, 0.0)
        self.encoded: Encoded | None = None  # the drawn or dropped picture's posterior
        self.show_prior = False
        self._painter = NavigatorView()  # draws the scene; owns the drawing caches

    def _take_model(self, meta: ModelMeta, dims: tuple[int, int] | None = None) -> None:
        """Everything the scene derives from the model's metadata: the shown dims (``dims``,
        else the two of highest spread), bounds, centroids and the encoded sample points."""
        d = meta.latent_dim
        if dims is not None:
            self.dims = dims
        elif d == 2:
            self.dims = (0, 1)
        else:
            order = np.argsort(-np.asarray(meta.latent_std, np.float64), kind="stable")
            self.dims = (int(order[0]), int(order[1]))
        self.mean = np.asarray(meta.latent_mean, np.float64)  # (D,)
        lo, hi = meta.bounds()
        ix = list(self.dims)
        self.lo2 = lo[ix].astype(np.float64)  # (2,)
        self.hi2 = hi[ix].astype(np.float64)
        self.span2 = np.maximum(self.hi2 - self.lo2, 1e-3)
        self.clamp_lo = np.minimum(self.lo2, -4.0) - 0.5 * self.span2
        self.clamp_hi = np.maximum(self.hi2, 4.0) + 0.5 * self.span2
        self.centroids = meta.centroid_array().astype(np.float64)  # (K, D)
        self.class_names = list(meta.class_names)
        pts, labels = meta.sample_array()
        self.points2 = pts[:, ix].astype(np.float64) if len(pts) else np.zeros((0, 2))  # (M, 2)
        self.labels = labels
        self.mixture: Mixture | None = None  # fitted on first use (ensure_mixture)

    def swap_model(self) -> None:
        """A newer epoch of the same model (live training; ``ctx.model`` is already the new
        one): the map's points, centroids and frame glide from where they are drawn to the
        new model's places (``mapglide``, eased over ``MAP_GLIDE_S``), and everything else
        carries on: the cursor's latent, the zoom, marks, the interpolation (decoded again),
        the encoded picture (encoded again by the new encoder). A cursor resting on the
        selected class's centroid glides along with it; a map at its home position glides
        to the new home. A model with another latent size or other classes starts afresh
        (``ModeScene.swap_model``)."""
        new = self.ctx.model.meta
        if new.latent_dim != self.meta.latent_dim or list(new.class_names) != self.class_names:
            super().swap_model()
            return
        points, centroids = self.map_points()
        span = self.map_span()
        home = (self.lo2 + self.hi2) / 2
        at_home = self.zoom == 1.0 and bool(np.allclose(self.view, home))
        resting = self.selected is not None and self.glide is None and self.ride_t0 is None \
            and not self.morphing and self._morph_distance() < MORPH_DONE_FRAC * float(self.span2.max())
        old_labels = self.labels
        self.meta, self.decoder = new, self.ctx.model.decoder
        self._take_model(new, self.dims)
        self.map_glide = MapGlide(
            points=points if same_points(old_labels, self.labels) else None, centroids=centroids,
            span=span, view=self.view.copy() if at_home else None, t0=self.t,
        )
        if self.strip is not None:
            self.strip.images = None  # decoded again by the new decoder
        self._reencode()
        if self.show_prior:
            self.ensure_mixture()
        if resting:
            self.start_glide(self.project(self.centroids[self.selected]), MAP_GLIDE_S)

    def _reencode(self) -> None:
        """The encoded picture under the new encoder (same ε); gone without an encoder."""
        e = self.encoded
        if e is None:
            return
        try:
            mu, sigma = encode_images(self.ctx.model.encoder, e.post.image[None])  # (1, D) each
        except Exception:  # no encoder, or one that refuses the picture: drop the posterior
            self.encoded = None
            return
        self.encoded = Encoded(replace(e.post, mu=mu[0], sigma=sigma[0]), e.eps, e.drawn_t)

    def map_points(self) -> tuple[np.ndarray, np.ndarray]:
        """Where the map draws the sample points (M, 2) and the class centroids (K, 2) now:
        the model's places, or on their way there while the map glides to a new epoch."""
        centroids = self.centroids[:, list(self.dims)] if len(self.centroids) else np.zeros((0, 2))
        g = self.map_glide
        if g is None:
            return self.points2, centroids
        u = g.progress(self.t)
        return blend(g.points, self.points2, u), blend(g.centroids, centroids, u)

    def map_span(self) -> np.ndarray:
        """The latent span (2,) the map is fitted to now (gliding to a new epoch's)."""
        g = self.map_glide
        return self.span2 if g is None else blend(g.span, self.span2, g.progress(self.t))

    @property
    def map_gliding(self) -> bool:
        """The map's content is on its way to a new epoch's places."""
        return self.map_glide is not None

    # ------------------------------------------------------------------ geometry

    def project(self, z: np.ndarray) -> np.ndarray:
        """A latent with the hidden dimensions set to their mean.  # (D,) -> (D,)"""
        out = self.mean.copy()
        ix = list(self.dims)
        out[ix] = np.asarray(z, np.float64)[ix]
        return out

    @property
    def position(self) -> np.ndarray:
        """The cursor in the two shown dimensions.  # (2,)"""
        return self.z[list(self.dims)].copy()

    @property
    def fit(self) -> float:
        """Pixels per latent unit at zoom 1: the populated span fills the map (1 before layout)."""
        if self.layout is None:
            return 1.0
        rect, span = self.layout.map, self.map_span()
        return float(min(rect.width / (span[0] * FIT_MARGIN), rect.height / (span[1] * FIT_MARGIN)))

    @property
    def map_rect(self) -> pygame.Rect:
        return self.layout.map if self.layout else pygame.Rect(0, 0, 1, 1)

    @property
    def k(self) -> float:
        """UI scale: 1 at 1280x720."""
        return self.layout.k if self.layout else 1.0

    @property
    def steering(self) -> bool:
        """The player is moving the cursor (keys, stick or a mouse drag)."""
        return self._move != (0.0, 0.0) or self._dragging

    @property
    def scale(self) -> float:
        """Pixels per latent unit now."""
        return self.fit * self.zoom

    def latent_to_screen(self, p: np.ndarray) -> tuple[float, float]:
        """(2,) latent (shown dims) -> window pixel."""
        r, s = self.map_rect, self.scale
        return (r.centerx + (p[0] - self.view[0]) * s, r.centery - (p[1] - self.view[1]) * s)

    def screen_to_latent(self, px: float, py: float) -> np.ndarray:
        """Window pixel -> (2,) latent (shown dims)."""
        r, s = self.map_rect, self.scale
        return np.array([self.view[0] + (px - r.centerx) / s, self.view[1] - (py - r.centery) / s])

    def set_position(self, p2: np.ndarray) -> None:
        """Put the cursor at (2,) latent coordinates of the shown dimensions."""
        z = self.z.copy()
        z[list(self.dims)] = np.clip(p2, self.clamp_lo, self.clamp_hi)
        self.z = z

    # ------------------------------------------------------------------ input

    def handle(self, inp: InputState) -> None:
        ctx = self.ctx
        self._move = (inp.axis("move_x"), inp.axis("move_y"))
        self._pen_move = (0.0, 0.0)
        if self.pad_open:  # the moves drive the pad's pen point instead of the cursor
            self._pen_move, self._move = self._move, (0.0, 0.0)
        if self._move != (0.0, 0.0):
            self.glide = None
            self.ride_t0 = None
        pointer = inp.pointer
        on_map = pointer is not None and self.layout is not None and self.layout.map.collidepoint(pointer)
        mouse = inp.last_device == "mouse"
        self._handle_encoding_actions(inp)
        pad_took = self.pad_open and self.layout is not None and self.pad_input.handle(
            self.pad, inp, self.layout.image, ctx.notify)

        if inp.pressed("zoom_in") or inp.pressed("zoom_out"):
            factor = ZOOM_STEP if inp.pressed("zoom_in") else 1 / ZOOM_STEP
            anchor = self.screen_to_latent(*pointer) if (mouse and on_map) else self.position
            self.zoom_by(factor, anchor)

        if pad_took:
            pass
        elif inp.pressed("mark"):
            if mouse and pointer is not None:
                if on_map:
                    self._dragging = True
                    self.glide = None
                    self.ride_t0 = None
                    self.set_position(self.screen_to_latent(*pointer))
                else:
                    self._click_strip(pointer)
            else:
                self.mark()
        elif self._dragging:
            if inp.held("mark") and pointer is not None:
                r = self.map_rect
                px = min(max(pointer[0], r.left), r.right - 1)
                py = min(max(pointer[1], r.top), r.bottom - 1)
                self.set_position(self.screen_to_latent(px, py))
            else:
                self._dragging = False

        if inp.pressed("random"):
            target = self.project(self.rng.standard_normal(self.meta.latent_dim))
            self.start_glide(target, RANDOM_GLIDE_S)
        k = len(self.class_names)
        for i in range(10):
            if inp.pressed(f"class_{i}"):
                if i < k:
                    self.select_class(i)
                elif k:
                    ctx.notify(f"{self.meta.name} has classes 0-{k - 1} only.")
                else:
                    ctx.notify(f"{self.meta.name} has no classes.")
        if k and inp.pressed("class_next"):
            self.select_class(((self.selected if self.selected is not None else -1) + 1) % k)
        if k and inp.pressed("class_prev"):
            self.select_class(((self.selected if self.selected is not None else 0) - 1) % k)
        if inp.pressed("morph"):
            if self.selected is None:
                ctx.notify("Morph needs a model with classes.")
            elif not self.morphing and self._morph_distance() < MORPH_DONE_FRAC * float(self.span2.max()):
                ctx.notify(f"Already at {self.class_label(self.selected)}: pick another class to morph to")
            else:
                self.morphing = not self.morphing
                self.glide = None
                ctx.notify(f"Morphing toward {self.class_label(self.selected)}" if self.morphing else "Morph off")
        if inp.pressed("interpolate"):
            self.toggle_interpolation()
        if inp.pressed("slerp_toggle"):
            self.follow_slerp = not self.follow_slerp
            ctx.notify("Riding the spherical path (slerp)" if self.follow_slerp else "Riding the linear path")
            if self.strip is not None:
                self.ride_t0 = self.t
        if inp.pressed("smooth_toggle"):
            self.toggle_smooth()
        if inp.pressed("grid"):
            self.show_grid = not self.show_grid
            ctx.notify("Decoded grid on" if self.show_grid else "Decoded grid off")
        if self.pad_open and self.pad.version != self._pad_encoded:
            self._pad_encoded = self.pad.version
            self._encode_pad()

    # ------------------------------------------------------------------ your own picture

    def pad_reason(self) -> str | None:
        """Why the drawing pad cannot be used with this model, or None."""
        if self.ctx.model.encoder is None:
            return f"{self.meta.name} has no encoder file beside it, so drawings cannot be encoded."
        if self.meta.channels != 1:
            return f"The pad draws greyscale pictures; {self.meta.name} is a colour model: drop a photo instead."
        return None

    def _handle_encoding_actions(self, inp: InputState) -> None:
        """The pad toggle, clear, resample, glide-to-μ and prior-overlay actions."""
        ctx = self.ctx
        if inp.pressed("pad"):
            reason = self.pad_reason()
            if reason and not self.pad_open:
                ctx.notify(reason, 4.0)
            else:
                self.pad_open = not self.pad_open
                self.pad_input.reset(self.pad)
                if self.pad_open:
                    self._pad_encoded = -1  # encode what is on the pad now
                    ctx.notify("Draw with the mouse (right button erases), or the arrows with Space held")
        if inp.pressed("pad_clear"):
            if self.pad_open:
                self.pad.clear()
            else:
                ctx.notify("Open the drawing pad first")
        if inp.pressed("resample"):
            if self.encoded is None:
                ctx.notify("Draw on the pad or drop an image first: its samples z = μ + σ·ε appear then")
            else:
                self.encoded.redraw(self.rng, self.t)
        if inp.pressed("to_encoded"):
            if self.encoded is None:
                ctx.notify("Draw on the pad or drop an image first")
            else:
                self.start_glide(self.encoded.post.mu.copy(), TO_ENCODED_GLIDE_S)
        if inp.pressed("prior_overlay"):
            self.show_prior = not self.show_prior
            if self.show_prior:
                self.ensure_mixture()
            ctx.notify("Prior N(0, I) vs the encoded data" if self.show_prior else "Prior overlay off")

    def _encode_pad(self) -> None:
        """Encode the drawing (keeping the samples' ε, so they move with μ and σ)."""
        if self.pad.empty:
            if self.encoded is not None and self.encoded.post.source == "drawing":
                self.encoded = None
            return
        try:
            post = encode_picture(self.ctx.model.encoder, self.meta, self.pad.picture())
        except EncodeError:
            return  # strokes too faint to find yet: keep what was there
        old = self.encoded
        if old is not None and old.eps.shape[1] == len(post.mu):
            self.encoded = Encoded(post, old.eps, old.drawn_t)
        else:
            self.encoded = new_encoded(post, self.rng, self.t)

    def open_image(self, path: Path) -> None:
        """A dropped image file (or ``--image``): encode it, show its posterior and samples,
        and glide the cursor to its μ. A bad file changes nothing (one-sentence notice)."""
        post = self.encode_image(path)
        if post is None:
            return
        self.encoded = new_encoded(post, self.rng, self.t)
        self.pad_open = False
        self.strip = None
        self.morphing = False
        self.start_glide(post.mu.copy(), TO_ENCODED_GLIDE_S)
        near = post.nearest_class(self.centroids)
        where = f": nearest class {self.class_names[near[0]]} (distance {near[1]:.2f})" if near else ""
        self.ctx.notify(f"Encoded {post.label}{where}", 5.0)

    def start_experiment(self, name: str) -> bool:
        """The Learn panel's Navigator experiments: ``morph_3_8``, ``boundary`` (where 4 and 9
        meet, zoomed in, decoded grid on), ``draw`` (the pad) and ``holes`` (the prior overlay
        and the cursor at the off-data point nearest the prior's centre)."""
        index = {n: i for i, n in enumerate(self.class_names)}
        self.strip, self.morphing, self.ride_t0 = None, False, None
        if name == "morph_3_8" and {"3", "8"} <= set(index):
            self.select_class(index["3"])  # glide to the 3s; the drift to the 8s starts after it
            self.prev_selected, self.selected, self.morphing = index["3"], index["8"], True
            return True
        if name == "boundary" and {"4", "9"} <= set(index):
            a, b = self.centroids[index["4"]], self.centroids[index["9"]]
            mid = self.project((a + b) / 2)
            gap = float(np.linalg.norm((a - b)[list(self.dims)]))
            self.zoom = float(np.clip(0.45 * self.map_rect.width / max(self.fit * gap, 1e-6), ZOOM_MIN, ZOOM_MAX))
            self.view = mid[list(self.dims)].copy()
            self.show_grid = True
            self.start_glide(mid, GLIDE_S)
            return True
        if name == "draw":
            reason = self.pad_reason()
            if reason:
                self.ctx.notify(reason, 4.0)
            else:
                self.pad_open, self._pad_encoded = True, -1
            return True
        if name == "holes" and self.ensure_mixture() is not None:
            self.show_prior = True
            grid = np.stack(np.meshgrid(np.linspace(-3, 3, 61), np.linspace(-3, 3, 61)), -1).reshape(-1, 2)
            grid = grid[np.linalg.norm(grid, axis=1) <= 3.0]  # inside the prior's 3σ circle
            off = self.mixture.off_data(grid)
            # the hole the prior believes in most: off the data, nearest the prior's centre
            pick = np.flatnonzero(off)[np.argmin(np.linalg.norm(grid[off], axis=1))] if off.any() \
                else int(np.argmin(self.mixture.log_density(grid)))
            hole = grid[pick]
            target = self.z.copy()
            target[list(self.dims)] = hole
            self.start_glide(target, GLIDE_S)
            return True
        return False

    def ensure_mixture(self) -> Mixture | None:
        """The Gaussian mixture of the encoded sample in the shown dims (fitted once)."""
        if self.mixture is None and len(self.points2) >= 10:
            self.mixture = fit_mixture(self.points2, self.labels)
        return self.mixture

    def off_data(self) -> bool:
        """The cursor is where the encoded data has (almost) no density."""
        mix = self.mixture
        return bool(mix is not None and mix.off_data(self.position[None])[0])

    def _morph_distance(self) -> float:
        """Distance (shown dims) from the cursor to the selected class centroid."""
        target = self.project(self.centroids[self.selected])
        return float(np.linalg.norm((target - self.z)[list(self.dims)]))

    def class_label(self, k: int) -> str:
        return f"class {self.class_names[k]}" if self.class_names[k].isdigit() else self.class_names[k]

    def zoom_by(self, factor: float, anchor: np.ndarray) -> None:
        """Zoom by ``factor`` keeping the latent point ``anchor`` (2,) fixed on screen."""
        new = float(min(ZOOM_MAX, max(ZOOM_MIN, self.zoom * factor)))
        if new == self.zoom:
            return
        self.view = anchor + (self.view - anchor) * (self.zoom / new)
        self.zoom = new

    def start_glide(self, target: np.ndarray, duration: float) -> None:
        self.ride_t0 = None
        self.glide = (self.z.copy(), np.asarray(target, np.float64).copy(), self.t, duration)

    def select_class(self, k: int) -> None:
        if k != self.selected:
            self.prev_selected = self.selected
        self.selected = k
        if self.morphing:
            self.ctx.notify(f"Morphing toward {self.class_label(k)}")
        else:
            self.start_glide(self.project(self.centroids[k]), GLIDE_S)

    def mark(self) -> None:
        if len(self.marks) >= 2:
            self.marks = []
        self.marks.append(self.z.copy())
        if len(self.marks) == 1:
            self.ctx.notify("Marked A  ·  Space marks B, I interpolates")
        else:
            self.ctx.notify("Marked B  ·  I interpolates from A to B")

    def toggle_interpolation(self) -> None:
        if self.strip is not None:
            self.strip = None
            self.ride_t0 = None
            return
        if len(self.marks) == 2:
            a, b, label = self.marks[0], self.marks[1], "A to B"
        elif len(self.marks) == 1:
            a, b, label = self.marks[0], self.z.copy(), "A to cursor"
        elif self.selected is not None and self.prev_selected is not None and self.prev_selected != self.selected:
            a = self.project(self.centroids[self.prev_selected])
            b = self.project(self.centroids[self.selected])
            label = f"{self.class_names[self.prev_selected]} to {self.class_names[self.selected]}"
        else:
            self.ctx.notify("Mark two points with Space (or pick two classes) to interpolate")
            return
        if np.allclose(a, b, atol=1e-6):
            self.ctx.notify("A and B are the same point: move, then mark B")
            return
        ts = np.linspace(0.0, 1.0, STRIP_FRAMES)
        self.strip = Strip(a=a, b=b, label=label, lin_z=lerp(a, b, ts), slerp_z=slerp(a, b, ts))
        self.glide = None
        self.ride_t0 = self.t

    def _thumb_rects(self, r: pygame.Rect) -> list[list[pygame.Rect]]:
        """Where the interpolation frames go in the strip panel ``r`` (see ``layout.thumb_rects``)."""
        return thumb_rects(r, self.k, STRIP_FRAMES)

    def _click_strip(self, pointer: tuple[int, int]) -> None:
        if self.strip is None or self.layout is None:
            return
        for row, zs in enumerate((self.strip.lin_z, self.strip.slerp_z)):
            for i, rect in enumerate(self._thumb_rects(self.layout.strip)[row]):
                if rect.collidepoint(pointer):
                    self.start_glide(zs[i], RANDOM_GLIDE_S)
                    return

    # ------------------------------------------------------------------ simulation

    def path_point(self, u: float) -> np.ndarray:
        """The ride position at u in [0, 1] along the followed path.  # (D,)"""
        s = self.strip
        fn = slerp if self.follow_slerp else lerp
        return fn(s.a, s.b, np.array([u]))[0]

    def update(self, dt: float) -> None:
        self.t += dt
        g = self.map_glide
        if g is not None:
            if g.view is not None:
                self.view = blend(g.view, (self.lo2 + self.hi2) / 2, g.progress(self.t))
            if g.done(self.t):
                self.map_glide = None
        self.pad_input.move_pen(self.pad, self._pen_move, dt)
        mx, my = self._move
        if mx or my:
            speed = MOVE_VIEWS_PER_S * self.map_rect.width / max(self.scale, 1e-9)
            self.set_position(self.position + np.array([mx, my]) * speed * dt)
        elif self.ride_t0 is not None and self.strip is not None:
            u = (self.t - self.ride_t0) / RIDE_S
            self.z = self.path_point(ease_in_out(u))
            if u >= 1.0:
                self.ride_t0 = None
        elif self.glide is not None:
            start, end, t0, dur = self.glide
            u = (self.t - t0) / dur
            self.z = start + (end - start) * ease_in_out(u)
            if u >= 1.0:
                self.z = end.copy()
                self.glide = None
        if self.morphing and self.glide is None and self.selected is not None and not self._dragging:
            target = self.project(self.centroids[self.selected])
            self.z = self.z + (target - self.z) * (1.0 - math.exp(-dt / MORPH_TAU_S))
            if self._morph_distance() < MORPH_DONE_FRAC * float(self.span2.max()):
                self.z = target
                self.morphing = False
                self.ctx.notify(f"Arrived at {self.class_label(self.selected)}")
        p = self.position
        if not self.trail or (
            self.t - self.trail[-1][2] >= TRAIL_SAMPLE_S - 1e-9
            and abs(self.trail[-1][0] - p[0]) + abs(self.trail[-1][1] - p[1]) > 1e-9
        ):
            self.trail.append((float(p[0]), float(p[1]), self.t))
        self._follow()

    def _follow(self) -> None:
        """Pan the view so the cursor stays inside the map."""
        if self.layout is None:
            return
        r, s = self.map_rect, self.scale
        half = np.array([r.width, r.height]) / (2 * s) * (1 - 2 * FOLLOW_MARGIN_FRAC)  # (2,) latent
        off = self.position - self.view
        self.view = self.view + np.where(off > half, off - half, 0) + np.where(off < -half, off + half, 0)

    # ------------------------------------------------------------------ decoding and drawing

    def nearest_class(self) -> tuple[int, float] | None:
        """The class whose centroid is nearest the cursor, and the distance to it."""
        if not len(self.centroids):
            return None
        d = np.linalg.norm(self.centroids - self.z[None], axis=1)  # (K,)
        k = int(np.argmin(d))
        return k, float(d[k])

    def decode(self, extra: list[np.ndarray] | None) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """One batched decode for the cursor (+ the strip's frames the first time, + ``extra``
        latents such as the view's grid tiles): the cursor image, and the images of ``extra``
        (None without it). Fills ``strip.images``."""
        batch = [self.z[None]]
        strip_new = self.strip is not None and self.strip.images is None
        if strip_new:
            batch += [self.strip.lin_z, self.strip.slerp_z]
        enc = self.encoded if self.encoded is not None and self.encoded.images is None else None
        if enc is not None:
            batch.append(enc.batch())
        if extra:
            batch.append(np.stack(extra))
        images = self.decoder.decode_batch(np.concatenate(batch, axis=0))  # one run at most
        n = 1
        if strip_new:
            self.strip.images = images[n : n + 2 * STRIP_FRAMES]
            n += 2 * STRIP_FRAMES
        if enc is not None:
            m = len(enc.eps) + 1
            enc.images = images[n : n + m]
            n += m
        return images[0], (images[n:] if extra else None)

    def draw(self, surface: pygame.Surface) -> None:
        """Lay the screen out (first frame, resize) and let the view paint the frame."""
        w, h = surface.get_size()
        if self.layout is None or self.layout.size != (w, h):
            self.layout = Layout.for_size(w, h)
            self._follow()
        self._painter.draw(surface, self)

    @property
    def _grid(self) -> pygame.Surface | None:
        """The view's decoded-grid layer (None until the grid has been drawn)."""
        return self._painter.grid_layer
