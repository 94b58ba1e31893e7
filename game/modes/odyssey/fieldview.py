"""Drawing the field: billboards at fixed latent points, in perspective from the ship camera.

Each frame (:meth:`FieldView.plan`, then the frame's one decode, then :meth:`draw`):

1. the lattice points near the ship (``field.Lattice``) are projected through the camera
   (position + rotation, roll included); those in front, on screen and not faded out
   (depth fog, the edge of their level's reach, the near plane) are kept, far to near;
2. points not yet in the store are decoded: all of them when no worker runs (tests,
   recordings: frames then depend on nothing but the state), else the nearest
   ``sync_budget`` in the frame's one ``decode_batch`` and the rest, with the frontier the
   ship is heading into, by the :class:`stream.FieldStream` worker;
3. each billboard is drawn centred on its projected point, ``F * size / depth`` pixels
   wide, turned by the camera's roll (``Camera.roll_deg``), with its brightness as the
   sprite's alpha and its colour seen through the fog outside the populated region.

The view owns the store of decoded images and the sprites (``sprites.SpriteBank``); it
reads the scene through :class:`FieldScene` and changes nothing in it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pygame

from latent_odyssey.game.engine.imaging import InkStyle
from latent_odyssey.game.modes.odyssey.camera import Camera, focal_px
from latent_odyssey.game.modes.odyssey.field import Lattice
from latent_odyssey.game.modes.odyssey.fog import Fog
from latent_odyssey.game.modes.odyssey.sprites import (
    BASE_PX,
    LARGE_AT,
    LARGE_PX,
    Deadline,
    SpriteBank,
    angle_bucket,
    billboard_rgba,
    level_buckets,
)
from latent_odyssey.game.modes.odyssey.stream import FieldStore, FieldStream

NEAR_CULL_CELLS = 0.22  # billboards nearer than this many fine spacings (depth) are not drawn
NEAR_FADE_CELLS = 0.7  # ... and fade out from this depth down to NEAR_CULL_CELLS
MIN_ALPHA = 0.03  # dimmer billboards are not drawn
MIN_SIZE_PX = 3.0
SIZE_FADE_FRACTION = 0.3  # billboards wider than this many screen heights fade out ...
MAX_SIZE_FRACTION = 0.5  # ... until they are this wide, and are then not drawn (passed by)
SYNC_BUDGET_MS = 1.2  # decode time the frame may spend on field points when a worker runs
SPRITE_BUDGET_MS = 1.2  # time the frame may spend making new base sprites when a worker runs ...
UPDATE_BUDGET_MS = 1.2  # ... and rescaling / turning / dimming sprites (the rest wait a frame;
# billboards with no sprite yet, e.g. all of them after a switch from the tunnel, appear a frame later)
AHEAD_S = 0.8  # the worker decodes what is visible from where the ship will be this much later
AHEAD_FOV_MARGIN = 1.35  # ... in a view this much wider (the ship may turn meanwhile)
REPLAN_FRAMES = 12  # the worker's request is renewed at least this often (frames)
LARGE_SOON = 0.7  # billboards wider than this fraction of LARGE_AT x BASE_PX get their crisp
# large sprite made by the worker, so it is there when they grow past LARGE_AT
LARGE_ASKED_KEPT = 48  # large sprites asked of the worker and not yet used, at most
BASE_ASKED_KEPT = 64  # base sprites of points the frame decoded itself asked of the worker, at most ...
BASE_ASKS_PER_FRAME = 8  # ... this many asked per frame (~10 ms of the worker's time: its queue
# of jobs never overflows, and it still gets to its decodes) ...
BASE_RETRY_FRAMES = 20  # ... and asked again when not made this many frames later
PAYLOADS_KEPT = 400  # worker-made sprite pixels waiting for their point to be seen, at most (~37 KB each)


class FieldScene(Protocol):
    """What the field view reads of the Odyssey scene."""

    stream: FieldStream | None
    velocity: np.ndarray  # (3,)

    def field_lattice(self) -> tuple[Lattice, tuple]: ...

    def to_latent(self, pts: np.ndarray) -> np.ndarray: ...

    def tints_of(self, pts: np.ndarray) -> np.ndarray: ...


@dataclass
class Visible:
    """The frame's billboards, far to near: keys (N, 3) int, screen xy (N, 2), width px
    (N,), alpha (N,), distance to the ship (N,), world points (N, 3)."""

    keys: np.ndarray
    xy: np.ndarray
    size: np.ndarray
    alpha: np.ndarray
    dist: np.ndarray
    points: np.ndarray

    def __len__(self) -> int:
        return len(self.keys)


def visible_points(lattice: Lattice, camera: Camera, size: tuple[int, int],
                   fov_margin: float = 1.0) -> Visible:
    """The lattice points a camera sees on a ``size`` screen, far to near (see the module
    docstring). ``fov_margin`` > 1 widens the view (for planning ahead)."""
    w, h = size
    fp = lattice.around(camera.position)
    d, presence = lattice.presence(fp, camera.position)
    keep = presence > MIN_ALPHA
    cam = camera.to_camera(fp.points[keep])  # (N, 3)
    d, presence = d[keep], presence[keep]
    z = cam[:, 2]
    s = lattice.spacing
    front = z > NEAR_CULL_CELLS * s
    cam, d, presence, z = cam[front], d[front], presence[front], z[front]
    f = focal_px(h)
    width = f * lattice.world_size(d) / z  # (N,) px
    x = 0.5 * w + f * cam[:, 0] / z
    y = 0.5 * h - f * cam[:, 1] / z
    reach = 0.72 * width  # half the diagonal of a turned square
    mx, my = 0.5 * w * fov_margin, 0.5 * h * fov_margin
    on = (np.abs(x - 0.5 * w) < mx + reach) & (np.abs(y - 0.5 * h) < my + reach)
    on &= (width >= MIN_SIZE_PX) & (width < MAX_SIZE_FRACTION * h)
    near = np.clip((z / s - NEAR_CULL_CELLS) / (NEAR_FADE_CELLS - NEAR_CULL_CELLS), 0.0, 1.0)
    big = np.clip((MAX_SIZE_FRACTION * h - width) / ((MAX_SIZE_FRACTION - SIZE_FADE_FRACTION) * h), 0.0, 1.0)
    near = np.minimum(near, big)  # passing by: too near, or too big to be worth the fill
    alpha = presence * lattice.fog(d) * near * near * (3.0 - 2.0 * near)
    on &= alpha > MIN_ALPHA
    idx = np.nonzero(keep)[0][front][on]
    order = np.argsort(-z[on], kind="stable")  # far to near
    return Visible(
        keys=fp.keys[idx][order], xy=np.stack([x[on], y[on]], axis=1)[order], size=width[on][order],
        alpha=alpha[on][order], dist=d[on][order], points=fp.points[idx][order],
    )


class FieldView:
    """Plans, decodes into its store and draws the field (see the module docstring)."""

    def __init__(self, style: InkStyle, capacity: int) -> None:
        self.store = FieldStore(capacity)
        self.bank = SpriteBank(style)
        self.sync_budget = 8  # field images the frame may decode itself while a worker runs
        self.drawn = 0  # billboards drawn in the last frame
        self.waiting = 0  # visible points not decoded yet (the worker has them)
        self.visible: Visible | None = None
        self._visible_keys: list[tuple] = []  # the visible points' keys, as tuples
        self._lattice_id: tuple | None = None
        self._tints: dict[tuple, tuple[int, int, int]] = {}
        self._payloads: dict[tuple, tuple[str, np.ndarray]] = {}  # key -> (look, sprite pixels) from the worker
        self._large_asked: dict[tuple, None] = {}  # keys whose large sprite the worker was asked for, oldest first
        self._large_ready: dict[tuple, tuple[str, np.ndarray]] = {}  # key -> (look, pixels) from the worker
        self._base_asked: dict[tuple, int] = {}  # key -> frame its base pixels were asked of the worker, oldest first
        self._frame_no = 0  # frames that made bases
        self._plan_key: tuple | None = None
        self._plan_age = 0

    def set_sync_budget(self, ms_per_image: float) -> None:
        """Size the frame's own decode budget from the decode time of one image (ms)."""
        self.sync_budget = max(1, int(SYNC_BUDGET_MS / max(1e-3, ms_per_image)))

    def plan(self, scene: FieldScene, camera: Camera, size: tuple[int, int], look: str
             ) -> tuple[list[tuple], np.ndarray | None]:
        """The visible billboards of this frame; returns the keys and latents (M, D) the
        frame must decode itself (the rest go to the worker)."""
        lattice, lattice_id = scene.field_lattice()
        if lattice_id != self._lattice_id:
            self.store.clear()
            self.bank.clear()
            self._tints.clear()
            self._payloads.clear()
            self._large_asked.clear()
            self._large_ready.clear()
            self._base_asked.clear()
            self._lattice_id, self._plan_key = lattice_id, None
        if look != self.bank.look:
            self.bank.set_look(look)
            self._large_asked.clear()
            self._large_ready.clear()
            self._base_asked.clear()
        stream = scene.stream
        if stream is not None:
            stream.drain(self.store, self._payloads)
            while len(self._payloads) > PAYLOADS_KEPT:  # decoded ahead and never shown: dropped
                del self._payloads[next(iter(self._payloads))]
        vis = visible_points(lattice, camera, size)
        keys = [tuple(k) for k in vis.keys.tolist()]
        self.visible, self._visible_keys = vis, keys
        missing = [i for i, k in enumerate(keys) if k not in self.store]
        sync = missing
        if stream is not None and len(self.store) > 0:
            sync = sorted(missing, key=lambda i: vis.dist[i])[: self.sync_budget]
            self._feed_stream(scene, lattice, camera, size, vis, keys, missing, sync)
        self.waiting = len(missing) - len(sync)
        if not sync:
            return [], None
        return [keys[i] for i in sync], scene.to_latent(vis.points[sync])

    def accept(self, keys: list[tuple], images: list[np.ndarray]) -> None:
        """Store the frame's decoded field images."""
        for k, img in zip(keys, images, strict=True):
            self.store.put(k, img)

    def _feed_stream(self, scene: FieldScene, lattice: Lattice, camera: Camera, size: tuple[int, int],
                     vis: Visible, keys: list[tuple], missing: list[int], sync: list[int]) -> None:
        """Hand the worker the visible points the frame does not decode and the frontier the
        ship is heading into, nearest first (renewed when the view moves on, or every
        REPLAN_FRAMES frames)."""
        ahead = Camera(camera.position + np.asarray(scene.velocity, np.float64) * AHEAD_S, camera.rotation)
        cell = tuple(np.floor((ahead.position - lattice.anchor) / lattice.spacing).astype(int).tolist())
        heading = tuple(np.round(camera.rotation[:, 2] * 12.0).astype(int).tolist())
        key = (cell, heading, len(missing) - len(sync) > 0)
        self._plan_age += 1
        if key == self._plan_key and self._plan_age < REPLAN_FRAMES:
            return
        self._plan_key, self._plan_age = key, 0
        later = visible_points(lattice, ahead, size, AHEAD_FOV_MARGIN)
        skip = set(sync)
        want: dict[tuple, tuple[float, np.ndarray]] = {}
        for i in missing:
            if i not in skip:
                want[keys[i]] = (float(vis.dist[i]), vis.points[i])
        for k, d, p in zip(later.keys.tolist(), later.dist.tolist(), later.points, strict=True):
            k = tuple(k)
            if k not in self.store and k not in want:
                want[k] = (d + 1e-6, p)
        if not want:
            return
        order = sorted(want, key=lambda k: want[k][0])
        pts = np.stack([want[k][1] for k in order])
        self._learn_tints(scene, order, pts)
        extras = [("sprite", self.bank.look, self._tints[k], BASE_PX) for k in order]
        scene.stream.request(self.store.serial, order, scene.to_latent(pts), extras)

    def prepare_payload(self, img: np.ndarray, extra: tuple[str, str, tuple[int, int, int], int]
                        ) -> tuple[str, np.ndarray]:
        """The worker's share of a sprite: its pixels (numpy only), for ("sprite", look, tint,
        side); returns (look, pixels (side, side, 4))."""
        _, look, tint, side = extra
        return look, billboard_rgba(img, side, self.bank.style, look, tint)

    def accept_large(self, serial: int, key: tuple, payload: tuple[str, np.ndarray]) -> None:
        """A large sprite's pixels from the worker (``prepare_later``), for the store's ``serial``."""
        if serial == self.store.serial and key in self._large_asked:
            self._large_ready[key] = payload

    def _learn_tints(self, scene: FieldScene, keys: list[tuple], pts: np.ndarray) -> None:
        """Work out (once) the region colours of the points ``keys`` at ``pts`` (M, 3)."""
        fresh = [i for i, k in enumerate(keys) if k not in self._tints]
        if fresh:
            for i, t in zip(fresh, scene.tints_of(pts[fresh]).tolist(), strict=True):
                self._tints[keys[i]] = tuple(int(c) for c in t)

    def draw(self, surface: pygame.Surface, scene: FieldScene, camera: Camera, limited: bool,
             fog: Fog | None = None) -> None:
        """Blit the planned billboards far to near, turned by the camera's roll, seen through
        ``fog``. ``limited``: spend at most SPRITE_BUDGET_MS making new base sprites (points
        left over show a frame later), else make all (frames then depend on the state alone)."""
        vis = self.visible
        self.drawn = 0
        angle = angle_bucket(camera.roll_deg())
        self.bank.begin_frame(angle)
        if vis is None or not len(vis):
            return
        deadline = Deadline(SPRITE_BUDGET_MS / 1000.0 if limited else None)
        keys = self._visible_keys
        images = [self.store.get(k) for k in keys]
        need = [i for i, (k, img) in enumerate(zip(keys, images, strict=True))
                if img is not None and not self.bank.has_base(k)]
        if need:
            self._make_bases(scene, keys, images, vis, sorted(need, key=lambda i: vis.dist[i]), deadline, limited)
        updates = Deadline(UPDATE_BUDGET_MS / 1000.0 if limited else None)
        sizes = np.maximum(1, np.rint(vis.size)).astype(np.int64).tolist()  # (N,) px
        levels = level_buckets(vis.alpha).tolist()  # (N,)
        big = (vis.size > LARGE_SOON * LARGE_AT * BASE_PX).tolist() if limited else [False] * len(vis)
        tints, bank = self._tints, self.bank
        sprites: list[tuple[int, pygame.Surface, tuple[float, float]]] = []
        for i in np.argsort(-vis.size, kind="stable").tolist():  # the biggest are brought up to date first
            k, img = keys[i], images[i]
            if img is None or not bank.has_base(k):
                continue
            if big[i] and not bank.has_large(k):
                self._large_from_worker(scene, k, img)
            spent = not updates.left()
            spr = bank.sprite(k, img, tints[k], sizes[i], angle, levels[i], deadline, exact=not limited,
                              stale_ok=spent, fog=fog, large_here=not limited, new_ok=not spent)
            if spr is not None:
                sprites.append((i, *spr))
        sprites.sort(key=lambda it: it[0])  # far to near
        xy = vis.xy.tolist()
        blits = []
        for i, spr, (ox, oy) in sprites:
            sw, sh = spr.get_size()
            blits.append((spr, (math.floor(xy[i][0] + ox - 0.5 * sw + 0.5), math.floor(xy[i][1] + oy - 0.5 * sh + 0.5))))
        surface.blits(blits, doreturn=False)
        self.drawn = len(blits)

    def _large_from_worker(self, scene: FieldScene, key: tuple, img: np.ndarray) -> None:
        """The crisp large sprite of ``key`` from the worker: taken when it is ready, else
        asked for (once)."""
        ready = self._large_ready.pop(key, None)
        if ready is not None and ready[0] == self.bank.look:
            self.bank.make_large(key, img, self._tints[key], ready[1])
            self._large_asked.pop(key, None)  # asked again should the bank forget it
        elif key not in self._large_asked and scene.stream is not None:
            self._large_asked[key] = None
            scene.stream.prepare_later(self.store.serial, ("large", key), img,
                                       ("sprite", self.bank.look, self._tints[key], LARGE_PX))
            while len(self._large_asked) > LARGE_ASKED_KEPT:  # passed by unseen: drop their pixels
                old = next(iter(self._large_asked))
                del self._large_asked[old]
                self._large_ready.pop(old, None)

    def _make_bases(self, scene: FieldScene, keys: list[tuple], images: list, vis: Visible,
                    need: list[int], deadline: Deadline, limited: bool) -> None:
        """Base sprites for the points in ``need`` (nearest first): from the worker's pixels
        when it made them; else, with a worker, its pixels are asked for (the frame decoded
        the point itself: it shows a frame or two later, ~1.3 ms of numpy off the frame), and
        else (not ``limited``, or no worker) made here while ``deadline`` allows (always at
        least one)."""
        self._learn_tints(scene, [keys[i] for i in need], vis.points[need])
        stream = scene.stream
        made_here = asks = 0
        self._frame_no += 1
        for i in need:
            k = keys[i]
            ready = self._payloads.pop(k, None)
            if ready is not None and ready[0] == self.bank.look:
                self.bank.make_base(k, images[i], self._tints[k], ready[1])  # the worker made the pixels
                self._base_asked.pop(k, None)
                continue
            if stream is not None and limited:
                asked = self._base_asked.get(k)
                if asks < BASE_ASKS_PER_FRAME and (asked is None or self._frame_no - asked > BASE_RETRY_FRAMES):
                    asks += 1  # (asked again when the job was dropped or came too late)
                    self._base_asked.pop(k, None)
                    self._base_asked[k] = self._frame_no
                    stream.prepare_later(self.store.serial, ("base", k), images[i],
                                         ("sprite", self.bank.look, self._tints[k], BASE_PX))
                    while len(self._base_asked) > BASE_ASKED_KEPT:
                        del self._base_asked[next(iter(self._base_asked))]
                continue
            if made_here > 0 and not deadline.left():
                break
            self.bank.make_base(k, images[i], self._tints[k])
            made_here += 1

    def accept_base(self, serial: int, key: tuple, payload: tuple[str, np.ndarray]) -> None:
        """A base sprite's pixels from the worker (``prepare_later``), for the store's ``serial``."""
        if serial == self.store.serial and key in self._base_asked:
            self._payloads[key] = payload
