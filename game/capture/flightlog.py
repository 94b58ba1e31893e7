"""Flight logs: what a recording showed, as JSON lines (written, read, interpolated).

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
A mode scene defines ``snapshot() -> dict`` (JSON-serialisable: numbers, strings, booleans,
lists, None) and ``restore(state: dict, dt: float = 0.0) -> None`` (put the scene exactly in
that state; ``dt`` is the replay time since the previous restore, for the scene's own
animations such as cross-fades): every mode implements them (``engine.scene.ModeScene``).
Conventions the interpolation relies on: ``"orientation"``
(or any key ending in ``_quat``) is a unit quaternion ``[w, x, y, z]`` and is slerped; a key
``K`` with a sibling ``K_period`` is interpolated the short way round modulo that period;
lists containing floats and float values are lerped; everything else (ints, booleans, strings)
holds the earlier line's value.

Replaying a log is ``capture.replay``.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latent_odyssey.game.engine.scene import ModeScene, state_array
from latent_odyssey.game.modes.odyssey.flight import quat_slerp

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


def restore_scene(scene: ModeScene, state: dict, z: list | None = None, dt: float = 0.0) -> None:
    """Put a mode scene in ``state`` (a snapshot) through its protocol ``restore``, with the
    full latent ``z`` of the log line when the state has none of its own."""
    state = dict(state)
    if z is not None and "z" not in state:
        state["z"] = z
    scene.restore(state, dt=dt)


def engine_line(engine: Any, t: float) -> dict:
    """One log line for the engine's mode scene at relative time ``t`` seconds."""
    scene = engine.mode_scene
    model = engine.ctx.model
    z = scene.latent() if scene is not None else None
    return {
        "t": round(float(t), FLOAT_DECIMALS),
        "model": model.meta.name,
        "model_path": str(model.path),
        "mode": engine.mode_name,
        "z": None if z is None else jsonable(z),
        "state": jsonable(scene.snapshot()) if scene is not None else {},
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
        if z is not None and state_array(obj, "z") is None:
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
