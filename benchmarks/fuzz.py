"""Fuzz the game: random input of every kind in every mode, checked after every frame.

    python -m benchmarks.fuzz [--frames 100000] [--seed 1] [--model PATH ...] [--size WxH]
                              [--json PATH]

One headless ``game.play.Game`` (SDL dummy driver) steps ``loop_once(1/60)`` ``--frames``
times while a seeded ``numpy.random.Generator`` posts real pygame events before each frame:

* keyboard: KEYDOWN / KEYUP of every key bound in the controls (held for a random number of
  frames, sometimes for many seconds: full thrust with boost into the soft wall), stray
  KEYUPs, unbound keys; the global keys F1 (help), P (pause), F2 / F3 / F4 (modes), M (next
  model), H (HUD), F9 (recording on / off into a temporary captures folder), F11
  (fullscreen), F12 (screenshot) and Esc (quit) at low rates;
* game controllers: CONTROLLERBUTTONDOWN / UP of every button, CONTROLLERAXISMOTION of every
  stick and trigger with random values (extremes included), random instance ids,
  CONTROLLERDEVICEADDED / REMOVED (hot-plug and unplug mid-press);
* mouse: clicks, drags (button down, motions, up) and the wheel, inside and just outside the
  window;
* the window: resizes (``set_mode`` at a new size, tiny ones included, then VIDEORESIZE and
  WINDOWSIZECHANGED; sometimes a stale VIDEORESIZE alone) and focus loss.

Quit (Esc with no overlay open) is part of the mix: the request is counted and
``engine.running`` set back to True, which is what a re-created engine would be. Every mode
is reached through its key (the models given are the model folder, so F3 / F4 / M load them).

Checked after every frame (:func:`check_latent`): no exception escaped ``loop_once``, and the
latent the mode shows (:func:`scene_latent`) is finite and inside the mode's allowed
region (:func:`allowed_region`), where "allowed" is what the code promises:

* navigator: the two shown dimensions inside the cursor clamp box
  (``clamp_lo`` .. ``clamp_hi``: the bounds widened to at least +-4 and by half their span),
  the hidden dimensions exactly at the training mean;
* odyssey: every dimension inside the box around ``meta.bounds()``, the centroids and the
  encoded sample points (tours visit those), widened by the distance the ship's soft wall
  guarantees (:func:`pullback_limit_flight_u`, in flight units of ``extent / 8``);
* faces: ``||z|| <= R + 3 K`` for K unit attribute directions, where a face's base comes
  from one of the studio's sources of random faces (``faces.state.face_sources``: the fitted
  density, the prior, the encoded training faces) at a temperature up to the studio's highest,
  and R is the largest of their ``norm_bound``s (the encoded faces' largest norm; chi tails of
  ``exp(-32)`` for the density and the prior, whose bound at temperature 1 is ``sqrt(D) + 8``);
  the sliders add at most ``3 K``, and morphs (linear, or
  ``game.morph.slerp``, whose norm goes linearly from one end's to the other's) and strip
  frames never leave the ball of their larger end.

At the end the engine is shut down and every video the F9 presses left behind must be
finalized (no ``.partial`` file) and decode with PyAV. A failure is reported with the seed
and the frame number (``--seed S --frames F`` reproduces it: the event stream depends only
on the seed, and the game steps a fixed 1/60 s per frame). Prints frames/s and the largest
excursion outside the bounds seen in each mode.

Models: ``--model`` (repeatable); by default every decoder in ``pretrained/``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latent_odyssey.game.cliutil import size_at_least
from latent_odyssey.game.modes.faces.state import TEMPERATURE_HIGH, face_sources

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPO = Path(__file__).resolve().parents[1]
FRAME_DT_S = 1.0 / 60.0
DEFAULT_FRAMES = 100_000
DEFAULT_SIZE = (480, 300)  # small enough that 100k frames take minutes, not hours
REPORT_EVERY_FRAMES = 10_000
REL_TOL = 1e-6  # float round-off allowed on the region checks (relative to the region's scale)
FACE_NORM_SLACK = 8.0  # ||N(0, I_D)|| < sqrt(D) + 8 except with probability exp(-32)
VIDEO_CHECK_LIMIT = 20  # decode at most this many of the videos left behind

# Per-frame event rates (probability that a frame gets one).
P_KEY = 0.35
P_MOUSE = 0.06
P_PAD = 0.08
P_RESIZE = 1 / 700
P_FOCUS = 1 / 2500
P_LONG_HOLD = 1 / 300  # thrust + boost (or a stick) held for seconds
GLOBAL_KEY_RATES = {  # key name -> probability per frame
    "f2": 1 / 400, "f3": 1 / 400, "f4": 1 / 400, "m": 1 / 1500, "f9": 1 / 700,
    "f1": 1 / 700, "p": 1 / 700, "escape": 1 / 900, "h": 1 / 1200, "f11": 1 / 5000,
    "f12": 1 / 4000,
}
CONTROLLER_INSTANCES = (0, 1, 5)  # instance ids the pad events use (none is really attached)
AXIS_RAW = (-32768, 32767)


# ----------------------------------------------------------------------------- regions


def pullback_limit_flight_u() -> float:
    """How far (flight units) the Odyssey ship can ever get outside its bounds box, per axis.

    ``game.flight``: along one axis the offset ``o`` outside the box obeys
    ``o'' = f - k o - c o'`` with ``|f| <= a = THRUST_ACCEL_U_S2 * BOOST_MULTIPLIER`` (thrust),
    ``k = PULL_STIFFNESS_PER_S2`` and damping ``c >= 0``; the speed is capped at ``v``
    (``MAX_SPEED_U_S``). ``W = o'^2 / 2 + k o^2 / 2 - a o`` never grows while ``o' > 0``
    (``dW/dt = o' (f - a) - c o'^2``), and an excursion starts at ``o = 0`` with
    ``o'^2 <= v^2`` or at rest, so ``o <= (a + sqrt(a^2 + k v^2)) / k`` (7.42 u).
    """
    from latent_odyssey.game.modes.odyssey.flight import (
        BOOST_MULTIPLIER,
        MAX_SPEED_U_S,
        PULL_STIFFNESS_PER_S2,
        THRUST_ACCEL_U_S2,
    )

    a = THRUST_ACCEL_U_S2 * BOOST_MULTIPLIER
    k = PULL_STIFFNESS_PER_S2
    return (a + math.sqrt(a * a + k * MAX_SPEED_U_S**2)) / k


@dataclass
class Region:
    """Where a mode's latent may be: a box (D,) and a norm limit."""

    what: str
    lo: np.ndarray  # (D,)
    hi: np.ndarray  # (D,)
    max_norm: float = math.inf
    scale: float = 1.0  # for the round-off tolerance
    bounds_lo: np.ndarray | None = None  # (D,) the model's bounds, for the excursion figure
    bounds_hi: np.ndarray | None = None
    unit: float = 1.0  # excursions are reported in these units (odyssey: flight units)

    def violation(self, z: np.ndarray) -> str | None:
        """None when ``z`` (D,) is inside, else one sentence saying where it is not."""
        if z.shape != self.lo.shape:
            return f"the latent has shape {z.shape}, expected {self.lo.shape}"
        if not np.all(np.isfinite(z)):
            return f"the latent is not finite: {np.array2string(z, precision=4, threshold=12)}"
        tol = REL_TOL * max(1.0, self.scale)
        below = np.nonzero(z < self.lo - tol)[0]
        above = np.nonzero(z > self.hi + tol)[0]
        if len(below) or len(above):
            d = int(below[0]) if len(below) else int(above[0])
            return (f"z[{d}] = {z[d]:.6g} is outside the allowed [{self.lo[d]:.6g}, {self.hi[d]:.6g}] "
                    f"({self.what})")
        norm = float(np.linalg.norm(z))
        if norm > self.max_norm + tol:
            return f"||z|| = {norm:.6g} is above the allowed {self.max_norm:.6g} ({self.what})"
        return None

    def excursion(self, z: np.ndarray) -> float:
        """Largest distance of ``z`` outside the model's bounds, in ``unit`` (0 inside)."""
        if self.bounds_lo is None or self.bounds_hi is None:
            return 0.0
        out = np.maximum(self.bounds_lo - z, 0.0) + np.maximum(z - self.bounds_hi, 0.0)
        return float(out.max()) / self.unit


def scene_latent(scene) -> np.ndarray | None:
    """The latent (D,) float64 the mode scene shows now (its protocol ``latent()``), or None."""
    if scene is None or getattr(scene, "_unsupported", None):
        return None
    z = scene.latent()
    return None if z is None else np.asarray(z, np.float64)


def allowed_region(scene) -> Region | None:
    """The region the mode scene promises to keep its latent in (see the module docstring)."""
    name = type(scene).__name__
    meta = getattr(scene, "meta", None)
    if meta is None:
        return None
    lo, hi = (np.asarray(b, np.float64) for b in meta.bounds())
    if name == "NavigatorScene":
        box_lo = np.asarray(scene.mean, np.float64).copy()
        box_hi = box_lo.copy()
        ix = list(scene.dims)
        box_lo[ix] = scene.clamp_lo
        box_hi[ix] = scene.clamp_hi
        scale = float(np.max(np.abs(np.concatenate([box_lo, box_hi]))))
        return Region("navigator: shown dims in the cursor clamp box, hidden dims at the mean",
                      box_lo, box_hi, scale=scale, bounds_lo=lo, bounds_hi=hi,
                      unit=float(np.max(hi - lo)))
    if name == "OdysseyScene":
        from latent_odyssey.game.modes.odyssey.scene import FLIGHT_EXTENT_U

        pts = [lo[None], hi[None]]
        centroids = meta.centroid_array()
        if len(centroids):
            pts.append(np.asarray(centroids, np.float64))
        samples, _ = meta.sample_array()
        if len(samples):
            pts.append(np.asarray(samples, np.float64))
        allp = np.concatenate(pts)
        unit = float(np.max(hi - lo)) / FLIGHT_EXTENT_U  # the largest flight unit of any subspace
        margin = pullback_limit_flight_u() * unit
        box_lo, box_hi = allp.min(axis=0) - margin, allp.max(axis=0) + margin
        scale = float(np.max(np.abs(np.concatenate([box_lo, box_hi]))))
        return Region(f"odyssey: bounds, centroids and samples widened by the soft wall's "
                      f"{pullback_limit_flight_u():.2f} flight units", box_lo, box_hi, scale=scale,
                      bounds_lo=lo, bounds_hi=hi, unit=unit)
    if name == "FaceStudioScene":
        d = meta.latent_dim
        k = len(getattr(scene, "names", ()))
        base = max(s.norm_bound(TEMPERATURE_HIGH, FACE_NORM_SLACK) for s in face_sources(meta).values())
        limit = base + 3.0 * k
        inf = np.full(d, math.inf)
        return Region("faces: a stored face or a prior draw, plus the sliders", -inf, inf,
                      max_norm=limit, scale=limit)
    return None


def check_latent(scene, cache: dict) -> tuple[str | None, float, str | None]:
    """(violation or None, excursion outside the bounds, scene kind) for the mode scene now."""
    z = scene_latent(scene)
    if z is None:
        return None, 0.0, None
    if cache.get("scene") is not scene:  # (the scene itself, not its id: ids are reused)
        cache["scene"], cache["region"] = scene, allowed_region(scene)
    region: Region | None = cache["region"]
    if region is None:
        if not np.all(np.isfinite(z)):
            return f"the latent is not finite: {z}", 0.0, type(scene).__name__
        return None, 0.0, type(scene).__name__
    return region.violation(z), region.excursion(z), type(scene).__name__


# ----------------------------------------------------------------------------- events


def _key_code(name: str) -> int | None:
    import warnings

    import pygame

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pygame.key.key_code(name)
        except (ValueError, pygame.error):
            return getattr(pygame, f"K_{name}", None)


def bound_keys(input_map) -> list[int]:
    """Every key code bound to an action or axis, sorted."""
    names: set[str] = set()
    for a in input_map.actions.values():
        names.update(a.keys)
    for x in input_map.axes.values():
        names.update(x.positive_keys)
        names.update(x.negative_keys)
    codes = {_key_code(n) for n in names}
    return sorted(c for c in codes if c is not None)


@dataclass
class EventSource:
    """The seeded stream of pygame events; ``post_frame(frame, size)`` posts one frame's."""

    rng: np.random.Generator
    keys: list[int]  # bound keys that are not global keys
    global_keys: dict[int, float]  # key code -> probability per frame
    pending: list[tuple[int, object]] = field(default_factory=list)  # (due frame, event)
    held_keys: set[int] = field(default_factory=set)
    pinned: dict[int, int] = field(default_factory=dict)  # long-held key -> frame it is let go
    counts: dict[str, int] = field(default_factory=dict)
    drag: tuple[int, int, int] | None = None  # (button, frames left, x) of a mouse drag

    def _post(self, event) -> None:
        import pygame

        pygame.event.post(event)
        name = pygame.event.event_name(event.type)
        self.counts[name] = self.counts.get(name, 0) + 1

    def _later(self, due: int, event) -> None:
        self.pending.append((due, event))

    def _hold(self) -> int:
        """Frames a key or button stays down: mostly short, sometimes seconds."""
        r = self.rng.random()
        if r < 0.6:
            return int(self.rng.integers(1, 6))
        if r < 0.95:
            return int(self.rng.integers(6, 90))
        return int(self.rng.integers(90, 600))

    def post_frame(self, frame: int, size: tuple[int, int]) -> tuple[int, int] | None:
        """Post this frame's events; returns a new window size to set first, or None."""
        import pygame

        E = pygame.event.Event
        rng = self.rng
        due = [ev for f, ev in self.pending if f <= frame]
        self.pending = [(f, ev) for f, ev in self.pending if f > frame]
        for ev in due:
            if ev.type == pygame.KEYUP:
                if self.pinned.get(ev.key, -1) > frame:
                    continue  # a short press of a key that is long-held meanwhile
                self.held_keys.discard(ev.key)
            self._post(ev)

        for code, p in self.global_keys.items():
            if rng.random() < p:
                self._post(E(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0))
                self._later(frame + 1 + int(rng.integers(0, 3)), E(pygame.KEYUP, key=code, mod=0, unicode="", scancode=0))

        if rng.random() < P_KEY:
            r = rng.random()
            if r < 0.75:
                code = self.keys[int(rng.integers(len(self.keys)))]
                mod = int(rng.choice([0, 0, 0, pygame.KMOD_SHIFT, pygame.KMOD_CTRL]))
                self._post(E(pygame.KEYDOWN, key=code, mod=mod, unicode="", scancode=0))
                self.held_keys.add(code)
                self._later(frame + self._hold(), E(pygame.KEYUP, key=code, mod=mod, unicode="", scancode=0))
            elif r < 0.9 and self.held_keys:  # let go early (of a key that is not long-held)
                code = sorted(self.held_keys)[int(rng.integers(len(self.held_keys)))]
                if self.pinned.get(code, -1) < frame:
                    self.held_keys.discard(code)
                    self._post(E(pygame.KEYUP, key=code, mod=0, unicode="", scancode=0))
            elif r < 0.95:  # a key nobody bound, or a stray KEYUP
                code = int(rng.integers(0, 1 << 30)) if rng.random() < 0.3 else int(rng.integers(32, 127))
                kind = pygame.KEYDOWN if rng.random() < 0.5 else pygame.KEYUP
                self._post(E(kind, key=code, mod=0, unicode="", scancode=0))
            else:  # key repeat of something held
                if self.held_keys:
                    code = sorted(self.held_keys)[0]
                    self._post(E(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0))

        if rng.random() < P_LONG_HOLD:
            frames = int(rng.integers(120, 900))
            if rng.random() < 0.6:  # full thrust and boost on the keyboard, sometimes turning
                for name in ["w", "left shift"] + (["a"] if rng.random() < 0.3 else []):
                    code = _key_code(name)
                    if code is not None:
                        self._post(E(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0))
                        self.held_keys.add(code)
                        self.pinned[code] = max(self.pinned.get(code, -1), frame + frames)
                        self._later(frame + frames, E(pygame.KEYUP, key=code, mod=0, unicode="", scancode=0))
            else:  # a trigger (thrust) and a stick held on a controller
                inst = int(rng.choice(CONTROLLER_INSTANCES))
                for axis, value in ((pygame.CONTROLLER_AXIS_TRIGGERRIGHT, 32767),
                                    (int(rng.integers(0, 4)), int(rng.choice(AXIS_RAW)))):
                    self._post(E(pygame.CONTROLLERAXISMOTION, instance_id=inst, which=inst, axis=axis, value=value))
                    self._later(frame + frames, E(pygame.CONTROLLERAXISMOTION, instance_id=inst, which=inst,
                                                  axis=axis, value=0))

        if rng.random() < P_PAD:
            inst = int(rng.choice(CONTROLLER_INSTANCES)) if rng.random() < 0.95 else int(rng.integers(0, 1 << 20))
            r = rng.random()
            if r < 0.45:
                button = int(rng.integers(0, 15)) if rng.random() < 0.97 else int(rng.integers(15, 64))
                self._post(E(pygame.CONTROLLERBUTTONDOWN, instance_id=inst, which=inst, button=button))
                self._later(frame + self._hold(), E(pygame.CONTROLLERBUTTONUP, instance_id=inst, which=inst, button=button))
            elif r < 0.9:
                axis = int(rng.integers(0, 6)) if rng.random() < 0.97 else int(rng.integers(6, 16))
                c = rng.random()
                if c < 0.3:
                    value = int(rng.choice(AXIS_RAW))
                elif c < 0.4:
                    value = 0
                else:
                    value = int(rng.integers(AXIS_RAW[0], AXIS_RAW[1] + 1))
                self._post(E(pygame.CONTROLLERAXISMOTION, instance_id=inst, which=inst, axis=axis, value=value))
            elif r < 0.95:
                self._post(E(pygame.CONTROLLERDEVICEADDED, device_index=int(rng.integers(0, 4)), which=int(rng.integers(0, 4))))
            else:
                self._post(E(pygame.CONTROLLERDEVICEREMOVED, instance_id=inst, which=inst))

        if self.drag is not None:
            button, left, _ = self.drag
            pos = self._pos(size)
            if left <= 0:
                self._post(E(pygame.MOUSEBUTTONUP, button=button, pos=pos, touch=False))
                self.drag = None
            else:
                self._post(E(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(1, 0, 0), touch=False))
                self.drag = (button, left - 1, 0)
        elif rng.random() < P_MOUSE:
            pos = self._pos(size)
            r = rng.random()
            if r < 0.4:  # click
                button = int(rng.integers(1, 8))
                self._post(E(pygame.MOUSEBUTTONDOWN, button=button, pos=pos, touch=False))
                self._later(frame + int(rng.integers(1, 4)), E(pygame.MOUSEBUTTONUP, button=button, pos=pos, touch=False))
            elif r < 0.7:  # drag with the left button
                self._post(E(pygame.MOUSEBUTTONDOWN, button=1, pos=pos, touch=False))
                self.drag = (1, int(rng.integers(2, 40)), 0)
            elif r < 0.9:  # wheel: pygame 2 sends MOUSEWHEEL and buttons 4 / 5
                up = rng.random() < 0.5
                self._post(E(pygame.MOUSEWHEEL, x=0, y=1 if up else -1, flipped=False, touch=False,
                             precise_x=0.0, precise_y=1.0 if up else -1.0))
                self._post(E(pygame.MOUSEBUTTONDOWN, button=4 if up else 5, pos=pos, touch=False))
                self._post(E(pygame.MOUSEBUTTONUP, button=4 if up else 5, pos=pos, touch=False))
            else:
                self._post(E(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0), touch=False))

        if rng.random() < P_FOCUS:
            self._post(E(pygame.WINDOWFOCUSLOST, window=None))

        if rng.random() < P_RESIZE:
            r = rng.random()
            if r < 0.15:
                new = (int(rng.integers(1, 80)), int(rng.integers(1, 80)))
            elif r < 0.6:
                new = (int(rng.integers(80, 640)), int(rng.integers(60, 400)))
            else:
                new = (int(rng.integers(640, 1281)), int(rng.integers(360, 721)))
            stale = rng.random() < 0.25  # an event whose size the window no longer has
            self._post(E(pygame.VIDEORESIZE, size=new, w=new[0], h=new[1]))
            self._post(E(pygame.WINDOWSIZECHANGED, x=new[0], y=new[1], window=None))
            return None if stale else new
        return None

    def _pos(self, size: tuple[int, int]) -> tuple[int, int]:
        w, h = size
        return (int(self.rng.integers(-20, w + 20)), int(self.rng.integers(-20, h + 20)))


# ----------------------------------------------------------------------------- the run


@contextlib.contextmanager
def _environment(models: Sequence[Path], root: Path) -> Iterator[Path]:
    """A model folder of links to ``models`` (and their encoders), empty shipped-model folder,
    captures and config in ``root``; the environment is restored afterwards."""
    folder = root / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (root / "pretrained").mkdir(exist_ok=True)
    for m in models:
        m = Path(m).resolve()
        for f in [m, *m.parent.glob(f"{m.stem}.encoder.onnx")]:
            link = folder / f.name
            if not link.exists():
                try:
                    link.symlink_to(f)
                except OSError:
                    shutil.copy2(f, link)
    env = {
        "ODYSSEY_MODELS": str(folder), "ODYSSEY_PRETRAINED": str(root / "pretrained"),
        "ODYSSEY_CAPTURES": str(root / "captures"), "XDG_CONFIG_HOME": str(root / "config"),
        "ODYSSEY_CONTROLS": None, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy",
    }
    saved = {k: os.environ.get(k) for k in env}
    try:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield root / "captures"
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def check_videos(folder: Path, limit: int = VIDEO_CHECK_LIMIT) -> dict:
    """Finalized videos in ``folder``: how many, how many decode, partial files left."""
    import av

    videos = sorted(p for p in folder.glob("*.mp4") if ".partial" not in p.name)
    partial = sorted(p.name for p in folder.glob("*.partial*"))
    bad: list[str] = []
    for p in videos[-limit:]:
        try:
            with av.open(str(p)) as container:
                n = sum(1 for _ in container.decode(container.streams.video[0]))
            if n < 1:
                bad.append(f"{p.name}: no frames")
        except Exception as exc:  # any decoding problem is a finding
            bad.append(f"{p.name}: {type(exc).__name__}: {exc}")
    return {"videos": len(videos), "checked": min(len(videos), limit), "undecodable": bad,
            "partial_files": partial}


def run(frames: int, seed: int, model_paths: Sequence[Path | str], size: tuple[int, int] = DEFAULT_SIZE,
        progress: Callable[[str], None] | None = None, workdir: Path | None = None) -> dict:
    """Fuzz ``frames`` frames with the event stream of ``seed``; returns the findings.

    ``model_paths``: decoders that make up the model folder (the first one starts, in the
    Navigator). The result: ``frames`` (run), ``seconds``, ``fps``, ``failure`` (None, or a
    dict with ``frame``, ``seed``, ``mode``, ``error`` and ``traceback``), ``mode_frames``,
    ``mode_switches``, ``quits``, ``resizes``, ``events`` (by type), ``recordings``
    (:func:`check_videos`), ``max_excursion`` (``"mode/model"`` -> largest distance outside
    the model's bounds: flight units in Odyssey, the bounds' largest span in the Navigator)
    and ``pullback_limit_flight_u``.
    """
    import pygame

    if not model_paths:
        raise ValueError("fuzz.run needs at least one model file.")
    tmp = Path(tempfile.mkdtemp(prefix="odyssey-fuzz-", dir=workdir))
    result: dict = {"seed": seed, "frames_asked": frames, "size": list(size), "failure": None,
                    "models": [str(p) for p in model_paths]}
    try:
        with _environment([Path(p) for p in model_paths], tmp) as captures:
            from latent_odyssey.game.play import Game

            engine = Game(Path(model_paths[0]), mode="navigator", provider="cpu", size=size,
                            headless=True, seed=seed)
            source = EventSource(
                rng=np.random.default_rng(seed),
                keys=[k for k in bound_keys(engine.input.map)
                      if k not in {_key_code(n) for n in GLOBAL_KEY_RATES}],
                global_keys={c: p for n, p in GLOBAL_KEY_RATES.items() if (c := _key_code(n)) is not None},
            )
            mode_frames: dict[str, int] = {}
            excursion: dict[str, float] = {}
            cache: dict = {}
            quits = resizes = switches = 0
            last_mode = engine.mode_name
            frame = 0
            t0 = time.perf_counter()
            try:
                for frame in range(frames):
                    new_size = source.post_frame(frame, engine.surface.get_size())
                    if new_size is not None:
                        resizes += 1
                        pygame.display.set_mode(new_size, pygame.RESIZABLE)
                    engine.loop_once(FRAME_DT_S)
                    if not engine.running:
                        quits += 1
                        engine.running = True
                    if engine.mode_name != last_mode:
                        switches += 1
                        last_mode = engine.mode_name
                    mode_frames[engine.mode_name] = mode_frames.get(engine.mode_name, 0) + 1
                    problem, out, kind = check_latent(engine.mode_scene, cache)
                    if kind is not None:
                        where = f"{engine.mode_name}/{engine.ctx.model.path.stem}"
                        excursion[where] = max(excursion.get(where, 0.0), out)
                    if problem is not None:
                        raise AssertionError(problem)
                    if progress is not None and (frame + 1) % REPORT_EVERY_FRAMES == 0:
                        rate = (frame + 1) / (time.perf_counter() - t0)
                        progress(f"{frame + 1} frames, {rate:.0f} frames/s, modes {mode_frames}")
                frame = frames
            except Exception as exc:
                result["failure"] = {
                    "frame": frame, "seed": seed, "mode": engine.mode_name,
                    "scene": type(engine.mode_scene).__name__, "model": str(engine.ctx.model.path.name),
                    "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                    "reproduce": f"python -m benchmarks.fuzz --seed {seed} --frames {frame + 1} "
                                 + " ".join(f"--model {p}" for p in model_paths)
                                 + f" --size {size[0]}x{size[1]}",
                }
            seconds = time.perf_counter() - t0
            try:
                engine.shutdown()
            except Exception as exc:
                if result["failure"] is None:
                    result["failure"] = {"frame": frame, "seed": seed, "mode": "shutdown",
                                         "error": f"{type(exc).__name__}: {exc}",
                                         "traceback": traceback.format_exc()}
            result.update(
                frames=frame, seconds=round(seconds, 2), fps=round(frame / seconds, 1) if seconds > 0 else 0.0,
                mode_frames=mode_frames, mode_switches=switches, quits=quits, resizes=resizes,
                events=dict(sorted(source.counts.items())),
                recordings=check_videos(captures) if captures.is_dir() else check_videos(tmp),
                max_excursion={k: round(v, 4) for k, v in excursion.items()},
                pullback_limit_flight_u=round(pullback_limit_flight_u(), 4),
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def default_models() -> list[Path]:
    from latent_odyssey.game import paths

    return [p for p in sorted((REPO / "pretrained").glob("*.onnx")) if paths.is_decoder_file(p)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=DEFAULT_FRAMES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", type=Path, action="append", help="a decoder (repeatable); default pretrained/*.onnx")
    parser.add_argument("--size", type=size_at_least((1, 1)), default=DEFAULT_SIZE, metavar="WxH")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the result as JSON")
    args = parser.parse_args(argv)
    models = args.model or default_models()
    if not models:
        print("fuzz: no models given and none in pretrained/; pass --model PATH.", file=sys.stderr)
        return 2
    missing = [m for m in models if not Path(m).is_file()]
    if missing:
        print(f"fuzz: no model file at {missing[0]}.", file=sys.stderr)
        return 2
    print(f"fuzz: {args.frames} frames, seed {args.seed}, models {', '.join(Path(m).name for m in models)}",
          flush=True)
    result = run(args.frames, args.seed, models, args.size, progress=lambda s: print(f"  {s}", flush=True))
    failure = result["failure"]
    print(f"frames {result['frames']}  {result['fps']:.0f} frames/s  ({result['seconds']:.0f} s)")
    print(f"modes {result['mode_frames']}  switches {result['mode_switches']}  quits {result['quits']}  "
          f"resizes {result['resizes']}")
    rec = result["recordings"]
    print(f"videos {rec['videos']} (decoded {rec['checked'] - len(rec['undecodable'])}/{rec['checked']}), "
          f"partial files left {len(rec['partial_files'])}")
    print(f"largest excursion outside the bounds {result['max_excursion']} "
          f"(Odyssey guarantee {result['pullback_limit_flight_u']} flight units)")
    if args.json is not None:
        from benchmarks.common import write_json

        write_json(args.json, result)
    ok = failure is None and not rec["undecodable"] and not rec["partial_files"]
    if failure is not None:
        print(f"FAIL at frame {failure['frame']} (seed {failure['seed']}, mode {failure['mode']}): "
              f"{failure['error']}\n{failure.get('traceback', '')}\nreproduce: {failure.get('reproduce', '')}")
    elif not ok:
        print(f"FAIL: videos {json.dumps(rec)}")
    else:
        print("PASS")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
