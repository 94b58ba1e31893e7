"""Flight logs: what a recording showed, as JSON lines, and replaying them at any size.

A recording ``NAME.mp4`` gets ``NAME.flight.jsonl`` beside it (written as
``NAME.flight.partial.jsonl`` and renamed when the recording stops, like the video).

Format (one JSON object per line)
---------------------------------
* line 1, the header: ``{"format": "latent-odyssey-flight", "version": 1, "model": NAME,
  "model_path": PATH, "latent_dim": D, "mode": MODE, "size": [W, H], "fps": F,
  "video": FILE, "seed": S}``
* then one line per recorded frame: ``{"t": SECONDS, "model": NAME, "model_path": PATH,
  "mode": "navigator" | "odyssey" | "faces", "z": [D floats], "state": {...}}``. ``t`` counts
  from the first frame (0.0) and never decreases; ``z`` is the full latent on screen (or
  ``null``); ``state`` is the mode scene's snapshot (below).

Scene snapshot protocol
-----------------------
A scene may define ``snapshot() -> dict`` (JSON-serialisable: numbers, strings, booleans,
lists, None) and ``restore(state: dict, dt: float = 0.0) -> None`` (put the scene exactly in
that state; ``dt`` is the replay time since the previous restore, for the scene's own
animations such as cross-fades). Conventions the interpolation relies on: ``"orientation"``
(or any key ending in ``_quat``) is a unit quaternion ``[w, x, y, z]`` and is slerped; a key
``K`` with a sibling ``K_period`` is interpolated the short way round modulo that period;
lists containing floats and float values are lerped; everything else (ints, booleans, strings)
holds the earlier line's value. Scenes without the protocol get a defensive fallback
(:func:`scene_snapshot`, :func:`restore_scene`) that reads and writes their common attributes.

Replay (``odyssey replay LOG OUT.mp4 [--size WxH] [--fps F]``) opens a headless engine on the
logged model and mode, and for each output frame ``i`` restores the state at ``t = i / F``
(interpolated between the two log lines around it) and draws it without advancing the
simulation, encoding with a blocking recorder so that no frame is dropped.
"""

from __future__ import annotations

import atexit
import inspect
import json
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_NAME = "latent-odyssey-flight"
FORMAT_VERSION = 1
LOG_SUFFIX = ".flight.jsonl"
PARTIAL_SUFFIX = ".flight.partial.jsonl"
FLOAT_DECIMALS = 6  # latents and poses are logged to 1e-6 (far below a visible change)
QUAT_KEYS = ("orientation",)  # plus any key ending in QUAT_SUFFIX
QUAT_SUFFIX = "_quat"
PERIOD_SUFFIX = "_period"
MAX_LOG_LINE_CHARS = 1_000_000  # a longer line is not a flight log line


class FlightLogError(ValueError):
    """A flight log cannot be read or replayed; the message is one sentence."""


def log_path_for(video: Path) -> Path:
    """``captures/NAME.mp4`` -> ``captures/NAME.flight.jsonl``."""
    video = Path(video)
    return video.with_name(video.stem + LOG_SUFFIX)


# ----------------------------------------------------------------------------- JSON values


def jsonable(value: Any) -> Any:
    """numpy arrays and scalars -> lists, floats rounded to FLOAT_DECIMALS; NaN/inf -> None."""
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return round(v, FLOAT_DECIMALS) if math.isfinite(v) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str):
        return value
    return str(value)


# ----------------------------------------------------------------------------- snapshots


def _get(obj: Any, *names: str) -> Any:
    """The first of ``obj``'s attributes that exists and is not None (properties may raise)."""
    for name in names:
        try:
            value = getattr(obj, name)
        except Exception:
            continue
        if value is not None:
            return value
    return None


def scene_latent(scene: Any) -> np.ndarray | None:
    """The full latent (D,) the scene shows now, or None if it has none we can find."""
    for name in ("current_latent", "z", "pos", "position"):
        try:
            value = getattr(scene, name)
            if callable(value):
                value = value()
        except Exception:
            continue
        if value is None:
            continue
        try:
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            continue
        if arr.size and np.all(np.isfinite(arr)):
            return arr
    return None


def scene_snapshot(scene: Any) -> dict:
    """The scene's state as a JSON-able dict: its own ``snapshot()`` or a fallback."""
    own = getattr(scene, "snapshot", None)
    if callable(own):
        return jsonable(dict(own()))
    state: dict[str, Any] = {}
    ship = _get(scene, "ship")
    if ship is not None:  # Odyssey
        state["position"] = _get(ship, "position")
        state["orientation"] = _get(ship, "orientation")
        state["velocity"] = _get(scene, "_velocity", "velocity")
        if state["velocity"] is None:
            state["velocity"] = _get(ship, "velocity")
        for key in ("dims", "sub_index", "tunnel", "grid", "layer_count", "spacing",
                    "tour_kind", "tour_s", "selected_class", "autopilot_paused"):
            state[key] = _get(scene, key)
        flight_mode = _get(scene, "mode")
        state["flight_mode"] = flight_mode
        state["autopilot"] = flight_mode == "autopilot"
        state["tour_seed"] = _get(scene, "_tour_seed")
        tour = _get(scene, "tour")
        path = _get(tour, "path") if tour is not None else None
        length = _get(path, "length") if path is not None else None
        if length:
            state["tour_s_period"] = float(length)
    elif _get(scene, "dirs") is not None and callable(getattr(scene, "display_state", None)):
        face = scene.display_state()  # Face studio
        state["base"] = _get(face, "base")
        state["sliders"] = _get(face, "sliders")
        for key in ("show_grid", "spherical", "selected"):
            state[key] = _get(scene, key)
        slots = _get(scene, "slots") or {}
        state["slots"] = {
            name: None if slot is None else {"base": slot.state.base, "sliders": slot.state.sliders}
            for name, slot in slots.items()
        }
    else:  # Navigator and anything else
        for key in ("view", "zoom", "show_grid", "selected", "dims"):
            value = _get(scene, key)
            if value is not None:
                state[key] = value
    ctx = _get(scene, "ctx")
    if ctx is not None:
        state["smooth"] = _get(ctx, "smooth")
        state["show_hud"] = _get(ctx, "show_hud")
    return jsonable({k: v for k, v in state.items() if v is not None})


def _arr(value: Any, n: int | None = None) -> np.ndarray | None:
    if value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    if (n is not None and arr.size != n) or not np.all(np.isfinite(arr)):
        return None
    return arr


def _takes_dt(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "dt" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def restore_scene(scene: Any, state: dict, z: list | None = None, dt: float = 0.0) -> None:
    """Put ``scene`` in ``state`` (a snapshot), with the full latent ``z`` when known.

    Uses the scene's own ``restore(state[, dt])`` when it has one, else a fallback that sets
    the attributes :func:`scene_snapshot` reads (guarded: a missing attribute is skipped).
    """
    state = dict(state)
    if z is not None and "z" not in state:
        state["z"] = z
    own = getattr(scene, "restore", None)
    if callable(own):
        own(state, dt=dt) if _takes_dt(own) else own(state)
        return
    ctx = getattr(scene, "ctx", None)
    if ctx is not None:
        for key in ("smooth", "show_hud"):
            if isinstance(state.get(key), bool):
                setattr(ctx, key, state[key])
    if getattr(scene, "ship", None) is not None:
        _restore_odyssey(scene, state, dt)
    elif getattr(scene, "dirs", None) is not None and hasattr(scene, "display_state"):
        _restore_faces(scene, state)
    else:
        _restore_plain(scene, state)


def _restore_odyssey(scene: Any, state: dict, dt: float) -> None:
    """Fallback for the Odyssey scene (until it has restore()): pose, toggles, tour, rail."""
    from game.flight import quat_normalize

    for key in ("tunnel", "grid"):
        if isinstance(state.get(key), bool):
            setattr(scene, key, state[key])
    if isinstance(state.get("layer_count"), int):
        scene.layer_count = state["layer_count"]
    if isinstance(state.get("spacing"), (int, float)) and state["spacing"] > 0:
        scene.spacing = float(state["spacing"])
    if isinstance(state.get("selected_class"), int):
        scene.selected_class = state["selected_class"]
    sub = state.get("sub_index")
    if isinstance(sub, int) and sub != getattr(scene, "sub_index", sub) and hasattr(scene, "_set_subspace"):
        scene._set_subspace(sub, keep_position=False)
    z = _arr(state.get("z"), len(getattr(scene, "base", [])) or None)
    if z is not None and getattr(scene, "base", None) is not None:
        scene.base = z.copy()
    position = _arr(state.get("position"), 3)
    if position is None and z is not None and getattr(scene, "dims", None) is not None:
        position = z[np.asarray(scene.dims)]
    autopilot = state.get("autopilot") is True
    kind = state.get("tour_kind")
    tour_seed = state.get("tour_seed")
    if autopilot and hasattr(scene, "_start_autopilot"):
        changed = kind is not None and kind != getattr(scene, "tour_kind", kind)
        if isinstance(tour_seed, int) and tour_seed != getattr(scene, "_tour_seed", tour_seed):
            changed = True
        if changed or getattr(scene, "mode", None) != "autopilot" or getattr(scene, "tour", None) is None:
            if kind is not None:
                scene.tour_kind = kind
            if isinstance(tour_seed, int):
                scene._tour_seed = tour_seed
            scene.tour = None
            if position is not None:
                scene.ship.position = position.copy()
            scene._start_autopilot()
        if isinstance(state.get("tour_s"), (int, float)):
            scene.tour_s = float(state["tour_s"])
        scene._join_t = math.inf  # on the logged path: no join blend
    elif getattr(scene, "mode", None) == "autopilot":
        scene.mode = "manual"
    if not autopilot and isinstance(state.get("flight_mode"), str) and state["flight_mode"] != "autopilot":
        scene.mode = "manual"  # warps are replayed as the logged poses
        scene.warp_state = None
    if position is not None:
        scene.ship.position = position.copy()
    q = _arr(state.get("orientation"), 4)
    if q is not None and np.linalg.norm(q) > 0:
        scene.ship.orientation = quat_normalize(q)
    v = _arr(state.get("velocity"), 3)
    if v is not None:
        scene.ship.velocity = v.copy()
        if hasattr(scene, "_velocity"):
            scene._velocity = v.copy()
    if hasattr(scene, "_clock"):
        scene._clock += dt
    compositor = getattr(scene, "compositor", None)
    if compositor is not None and hasattr(compositor, "advance"):
        compositor.advance(dt)
    if not autopilot and hasattr(scene, "_maybe_reanchor"):
        scene._maybe_reanchor()  # lays a new straight rail when the pose left the old one


def _restore_faces(scene: Any, state: dict) -> None:
    """Fallback for the Face studio: slots (when they changed), the face, toggles."""
    from game.faces import FaceState

    n = len(getattr(scene, "names", []))
    d = getattr(scene.meta, "latent_dim", None)
    slots = state.get("slots")
    if isinstance(slots, dict) and hasattr(scene, "save"):
        for name, saved in slots.items():
            if name not in getattr(scene, "slots", {}) or not isinstance(saved, dict):
                continue
            base, sliders = _arr(saved.get("base"), d), _arr(saved.get("sliders"), n)
            if base is None or sliders is None:
                continue
            have = scene.slots[name]
            if have is not None and np.allclose(have.state.base, base) and np.allclose(have.state.sliders, sliders):
                continue
            scene.anim = None
            scene.state = FaceState(base, sliders)
            scene.save(name)
    base, sliders = _arr(state.get("base"), d), _arr(state.get("sliders"), n)
    if base is not None and sliders is not None:
        scene.anim = None
        scene.state = FaceState(base, sliders)
    for key in ("show_grid", "spherical"):
        if isinstance(state.get(key), bool):
            setattr(scene, key, state[key])
    if isinstance(state.get("selected"), int) and 0 <= state["selected"] < max(1, n):
        scene.selected = state["selected"]


def _restore_plain(scene: Any, state: dict) -> None:
    """Fallback for the Navigator (and other scenes with ``z``/``view``/``zoom``)."""
    z = _arr(state.get("z"))
    current = getattr(scene, "z", None)
    if z is not None and current is not None and np.size(current) == z.size:
        scene.z = z.copy()
        if hasattr(scene, "glide"):
            scene.glide = None
        if hasattr(scene, "morphing"):
            scene.morphing = False
    view = _arr(state.get("view"))
    if view is not None and getattr(scene, "view", None) is not None and np.size(scene.view) == view.size:
        scene.view = view.copy()
    if isinstance(state.get("zoom"), (int, float)) and state["zoom"] > 0:
        scene.zoom = float(state["zoom"])
    if isinstance(state.get("show_grid"), bool) and hasattr(scene, "show_grid"):
        scene.show_grid = state["show_grid"]
    if isinstance(state.get("selected"), int) and hasattr(scene, "selected"):
        scene.selected = state["selected"]


def engine_line(engine: Any, t: float) -> dict:
    """One log line for the engine's mode scene at relative time ``t`` seconds."""
    scene = engine.mode_scene
    model = engine.ctx.model
    z = scene_latent(scene) if scene is not None else None
    return {
        "t": round(float(t), FLOAT_DECIMALS),
        "model": model.meta.name,
        "model_path": str(model.path),
        "mode": engine.mode_name,
        "z": None if z is None else jsonable(z),
        "state": scene_snapshot(scene) if scene is not None else {},
    }


# ----------------------------------------------------------------------------- writing


class _OpenLogs:
    """Logs not yet closed, closed (kept) at interpreter exit."""

    def __init__(self) -> None:
        self._logs: dict[int, FlightLogWriter] = {}

    def add(self, log: FlightLogWriter) -> None:
        self._logs[id(log)] = log

    def discard(self, log: FlightLogWriter) -> None:
        self._logs.pop(id(log), None)

    def close_all(self) -> None:
        for log in list(self._logs.values()):
            log.close()


_OPEN_LOGS = _OpenLogs()
atexit.register(_OPEN_LOGS.close_all)


class FlightLogWriter:
    """Write a flight log next to a video: ``NAME.flight.partial.jsonl``, renamed on close.

    Never raises for I/O problems after it opened: the first failure sets ``error`` (one
    sentence) and later writes are ignored, so the game goes on.
    """

    def __init__(self, path: Path, header: dict) -> None:
        self.path = Path(path)
        self.partial_path = self.path.with_name(self.path.name.replace(LOG_SUFFIX, PARTIAL_SUFFIX))
        if self.partial_path == self.path:
            self.partial_path = self.path.with_name(self.path.name + ".partial")
        self.error: str | None = None
        self.lines = 0
        self._lock = threading.Lock()
        self._closed = False
        head = {"format": FORMAT_NAME, "version": FORMAT_VERSION, **jsonable(header)}
        self._file = open(self.partial_path, "w", encoding="utf-8")  # OSError: caller reports
        _OPEN_LOGS.add(self)
        self._write(head)

    def _write(self, obj: dict) -> None:
        if self._closed or self.error is not None:
            return
        try:
            self._file.write(json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n")
        except (OSError, ValueError) as exc:
            self.error = f"Cannot write the flight log {self.path}: {getattr(exc, 'strerror', None) or exc}."

    def write(self, line: dict) -> None:
        """Append one state line (see :func:`engine_line`)."""
        with self._lock:
            self._write(line)
            self.lines += 1

    def close(self, keep: bool = True) -> Path | None:
        """Flush, close and rename to ``path`` (``keep=False`` deletes it); idempotent."""
        with self._lock:
            if self._closed:
                return self.path if self.path.exists() and keep else None
            self._closed = True
            _OPEN_LOGS.discard(self)
            try:
                self._file.close()
            except OSError as exc:
                self.error = self.error or f"Cannot write the flight log {self.path}: {exc.strerror or exc}."
            if keep and self.lines and self.error is None:
                try:
                    os.replace(self.partial_path, self.path)
                    return self.path
                except OSError as exc:
                    self.error = f"Cannot write the flight log {self.path}: {exc.strerror or exc}."
            try:
                self.partial_path.unlink()
            except OSError:
                pass
            return None


# ----------------------------------------------------------------------------- reading


@dataclass
class FlightLog:
    """A parsed flight log: the header and the state lines in time order."""

    path: Path
    header: dict
    lines: list[dict]

    @property
    def duration(self) -> float:
        return float(self.lines[-1]["t"]) if self.lines else 0.0

    @property
    def times(self) -> np.ndarray:
        return np.array([line["t"] for line in self.lines], dtype=np.float64)  # (N,)

    def state_at(self, t: float) -> dict:
        """The line at time ``t``, interpolated between the two lines around it."""
        times = self.times if not hasattr(self, "_times") else self._times
        self._times = times
        i = int(np.searchsorted(times, t, side="right"))
        if i <= 0:
            return self.lines[0]
        if i >= len(self.lines):
            return self.lines[-1]
        a, b = self.lines[i - 1], self.lines[i]
        span = float(b["t"]) - float(a["t"])
        u = 0.0 if span <= 0 else (t - float(a["t"])) / span
        return interpolate_line(a, b, u)


def read_flight_log(path: Path) -> FlightLog:
    """Parse and validate a flight log; raises FlightLogError with one sentence."""
    path = Path(path)
    if not path.exists():
        raise FlightLogError(f"Flight log {path} does not exist.")
    if path.is_dir():
        raise FlightLogError(f"Flight log {path} is a folder, not a .flight.jsonl file.")
    try:
        with open(path, encoding="utf-8") as f:
            raw = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise FlightLogError(f"Cannot read the flight log {path}: {getattr(exc, 'strerror', None) or exc}.") from None
    rows = [(n, text) for n, text in enumerate(raw.splitlines(), 1) if text.strip()]
    if not rows:
        raise FlightLogError(f"Flight log {path} is empty.")
    parsed: list[tuple[int, dict]] = []
    for n, text in rows:
        if len(text) > MAX_LOG_LINE_CHARS:
            raise FlightLogError(f"Line {n} of {path} is too long to be a flight log line.")
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise FlightLogError(f"Line {n} of {path} is not valid JSON ({exc.msg}).") from None
        if not isinstance(obj, dict):
            raise FlightLogError(f"Line {n} of {path} is not a JSON object.")
        parsed.append((n, obj))
    _, header = parsed[0]
    if header.get("format") != FORMAT_NAME:
        raise FlightLogError(f"{path} is not a Latent Odyssey flight log (its first line has no format header).")
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise FlightLogError(f"Flight log {path} has format version {version!r}; this build reads up to {FORMAT_VERSION}.")
    lines: list[dict] = []
    last_t = -math.inf
    for n, obj in parsed[1:]:
        t = obj.get("t")
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
            raise FlightLogError(f"Line {n} of {path} has no valid time \"t\".")
        if t < last_t:
            raise FlightLogError(f"Line {n} of {path} goes back in time (t = {t} after {last_t}).")
        for key in ("model", "mode"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise FlightLogError(f"Line {n} of {path} has no {key} name.")
        if not isinstance(obj.get("state", {}), dict):
            raise FlightLogError(f"Line {n} of {path} has a state that is not a JSON object.")
        z = obj.get("z")
        if z is not None and _arr(z) is None:
            raise FlightLogError(f"Line {n} of {path} has a latent \"z\" that is not a list of numbers.")
        obj.setdefault("state", {})
        last_t = float(t)
        lines.append(obj)
    if not lines:
        raise FlightLogError(f"Flight log {path} has a header but no recorded frames.")
    return FlightLog(path, header, lines)


# ----------------------------------------------------------------------------- interpolation


def _is_quat_key(key: str) -> bool:
    return key in QUAT_KEYS or key.endswith(QUAT_SUFFIX)


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    )


def interpolate_value(key: str, a: Any, b: Any, u: float, period: float | None = None) -> Any:
    """One value between ``a`` (u=0) and ``b`` (u=1) by the conventions in the module docstring."""
    if u <= 0.0 or a is None or b is None:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        return interpolate_state(a, b, u)
    if _numbers(a) and _numbers(b) and len(a) == len(b) and len(a):
        if not any(isinstance(v, float) for v in a + b):
            return a  # integer lists (dims) hold
        x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
        if _is_quat_key(key) and len(a) == 4:
            from game.flight import quat_slerp

            return quat_slerp(x, y, u).tolist()
        return ((1.0 - u) * x + u * y).tolist()
    if isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
        if period and period > 0:
            delta = (float(b) - a + 0.5 * period) % period - 0.5 * period
            return (a + u * delta) % period
        return (1.0 - u) * a + u * float(b)
    return a


def interpolate_state(a: dict, b: dict, u: float) -> dict:
    """Key by key (keys only in ``a`` hold); periods ``K_period`` come from ``a``."""
    out = {}
    for key, value in a.items():
        period = a.get(key + PERIOD_SUFFIX)
        period = float(period) if isinstance(period, (int, float)) and not isinstance(period, bool) else None
        out[key] = interpolate_value(key, value, b.get(key), u, period) if key in b else value
    return out


def interpolate_line(a: dict, b: dict, u: float) -> dict:
    """A log line between lines ``a`` and ``b``; a change of model or mode holds ``a``."""
    if a.get("model") != b.get("model") or a.get("mode") != b.get("mode"):
        return a if u < 1.0 else b
    out = dict(a)
    out["t"] = (1.0 - u) * float(a["t"]) + u * float(b["t"])
    out["z"] = interpolate_value("z", a.get("z"), b.get("z"), u)
    out["state"] = interpolate_state(a.get("state") or {}, b.get("state") or {}, u)
    return out


# ----------------------------------------------------------------------------- replay


def resolve_log_model(log: FlightLog, line: dict) -> Path:
    """The decoder file a log line names: its logged path, else by name in the model folders."""
    from game import paths

    for candidate in (line.get("model_path"), log.header.get("model_path")):
        if isinstance(candidate, str) and candidate:
            p = Path(candidate)
            if p.is_file() and paths.model_display_name(p) == line["model"]:
                return p
    found = paths.find_model(line["model"])
    if found is None:
        sibling = log.path.parent / f"{line['model']}.onnx"
        if sibling.is_file():
            return sibling
        raise FlightLogError(
            f"The model {line['model']!r} this flight was recorded with is not installed; "
            f"put {line['model']}.onnx in {paths.pretrained_dir()} or $ODYSSEY_MODELS."
        )
    return found


def replay(
    log_path: Path,
    out: Path,
    size: tuple[int, int] | None = None,
    fps: int | None = None,
    gif: bool | None = None,
    provider: str = "auto",
    progress: bool = True,
) -> Any:
    """Re-render a flight log to ``out``; returns a :class:`game.render.RenderResult`.

    Raises FlightLogError / RenderError (one sentence) for bad input.
    """
    from game import render

    log = read_flight_log(log_path)
    if size is None:
        logged = log.header.get("size")
        if not (_numbers(logged) and len(logged) == 2 and all(int(v) >= 1 for v in logged)):
            raise FlightLogError(f"Flight log {log.path} has no valid size; pass --size WxH.")
        size = (int(logged[0]), int(logged[1]))
    if fps is None:
        logged_fps = log.header.get("fps")
        fps = int(logged_fps) if isinstance(logged_fps, (int, float)) and 1 <= logged_fps <= 240 else 30
    out, gif = render.check_output(Path(out), gif)
    render.check_size(size)
    first = log.lines[0]
    model_path = resolve_log_model(log, first)
    seed = log.header.get("seed") if isinstance(log.header.get("seed"), int) else None
    n_frames = int(math.floor(log.duration * fps + 1e-6)) + 1
    engine = render.headless_engine(model_path, first["mode"], size, seed, provider)
    current = (first["model"], first["mode"])

    def frame(i: int, dt: float) -> None:
        nonlocal current
        line = log.state_at(i / fps)
        if (line["model"], line["mode"]) != current:
            if line["model"] != current[0]:
                render.switch_model(engine, resolve_log_model(log, line), line["mode"])
            else:
                render.switch_mode(engine, line["mode"])
            current = (line["model"], line["mode"])
            dt = 0.0
        scene = engine.mode_scene
        if scene is not None:
            restore_scene(scene, line.get("state") or {}, line.get("z"), dt)
        engine.loop_once(0.0)  # draw the restored state; the simulation does not move

    return render.render_frames(engine, out, size, fps, n_frames, frame, gif=gif, progress=progress)
