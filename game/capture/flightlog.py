"""Flight logs: what a recording showed, as JSON lines (written, read, interpolated).

A recording ``NAME.mp4`` gets ``NAME.flight.jsonl`` beside it (written as
``NAME.flight.PID-XXXXXX.partial.jsonl``, a name no other process uses, and renamed when the
recording stops, like the video).

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

Reading validates every field once, here: types, finiteness, ranges, and the stated limits
below; anything else raises :class:`FlightLogError` with one sentence naming the line.

Limits (a log outside them is refused, with the limit in the sentence)
-------------------------------------------------------------------------
* at most ``MAX_LOG_BYTES`` (1 GiB), ``MAX_LOG_LINE_CHARS`` per line, ``MAX_LOG_LINES`` state
  lines (an hour at 240 fps) and ``MAX_REPLAY_SECONDS`` of flight (an hour, like ``record``);
* JSON nested at most ``MAX_LOG_NESTING`` deep; every number finite, floats within
  +-``MAX_LOG_FLOAT`` and whole numbers within +-``MAX_LOG_INT``;
* header: ``size`` within the video limits, ``fps`` 1 to 240, ``seed`` 0 to ``MAX_SEED``;
  lines: ``t`` from 0, never decreasing, ``mode`` one of the game's modes, ``z`` a list of
  numbers (its length is checked against the model by ``capture.replay``).

Replaying a log is ``capture.replay``.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latent_odyssey.game.capture.encoder import partial_name
from latent_odyssey.game.cliutil import MAX_SEED, InputError, check_size, os_reason, quote
from latent_odyssey.game.engine.scene import ModeScene
from latent_odyssey.game.modes.odyssey.flight import quat_slerp
from latent_odyssey.game.modes.registry import MODES

FORMAT_NAME = "latent-odyssey-flight"
FORMAT_VERSION = 1
LOG_SUFFIX = ".flight.jsonl"
FLOAT_DECIMALS = 6  # latents and poses are logged to 1e-6 (far below a visible change)
QUAT_KEYS = ("orientation",)  # plus any key ending in QUAT_SUFFIX
QUAT_SUFFIX = "_quat"
PERIOD_SUFFIX = "_period"
MAX_LOG_LINE_CHARS = 1_000_000  # a longer line is not a flight log line
MAX_LOG_BYTES = 1 << 30  # a larger file is not a flight log (1 GiB)
MAX_REPLAY_SECONDS = 3600.0  # the longest flight replayed (record's own limit)
MAX_LOG_FPS = 240  # frames per second a log may ask for (record's own limit)
MAX_LOG_LINES = int(MAX_REPLAY_SECONDS * MAX_LOG_FPS) + 1  # state lines: an hour at 240 fps
MAX_LOG_NESTING = 10  # JSON objects and arrays inside each other (a line needs 5)
MAX_LOG_FLOAT = 1e6  # largest magnitude of a real number (latents and poses are far smaller)
MAX_LOG_INT = 2**53  # largest magnitude of a whole number (seeds are below 2**32)
MIN_LOG_SIDE_PX = 16  # smallest video side a header may name (record's own limit)


class FlightLogError(InputError, ValueError):
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
        suffix = LOG_SUFFIX if self.path.name.endswith(LOG_SUFFIX) else self.path.suffix
        self.partial_path = partial_name(self.path, suffix)
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
            reason = os_reason(exc) if isinstance(exc, OSError) else exc
            self.error = f"Cannot write the flight log {self.path}: {reason}."

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
                self.error = self.error or f"Cannot write the flight log {self.path}: {os_reason(exc)}."
            if keep and self.lines and self.error is None:
                try:
                    os.replace(self.partial_path, self.path)
                    return self.path
                except OSError as exc:
                    self.error = f"Cannot write the flight log {self.path}: {os_reason(exc)}."
            try:
                self.partial_path.unlink()
            except OSError:
                pass
            return None


# ----------------------------------------------------------------------------- reading


@dataclass
class FlightLog:
    """A parsed flight log: the header and the state lines in time order (``numbers``: each
    state line's line number in the file, for messages)."""

    path: Path
    header: dict
    lines: list[dict]
    numbers: list[int] = field(default_factory=list)

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

    def line_number(self, t: float) -> int:
        """The file line number of the state line shown at time ``t``."""
        i = max(0, int(np.searchsorted(self.times, t, side="right")) - 1)
        return self.numbers[i] if i < len(self.numbers) else 0


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a flight log may hold")


def _check_values(value: object, depth: int = 1) -> str | None:
    """What is wrong with a parsed line's values (nesting, numbers), or None."""
    if depth > MAX_LOG_NESTING:
        return f"is nested deeper than the limit of {MAX_LOG_NESTING} levels"
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, list):
        items = value
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    elif isinstance(value, int):
        return None if abs(value) <= MAX_LOG_INT else f"holds the whole number {value}, beyond +-2**53"
    elif isinstance(value, float):
        if not math.isfinite(value):
            return "holds a number that is not finite"
        return None if abs(value) <= MAX_LOG_FLOAT else f"holds {value:g}, beyond the limit of +-{MAX_LOG_FLOAT:g}"
    else:
        return None
    for item in items:
        problem = _check_values(item, depth + 1)
        if problem:
            return problem
    return None


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _open_log(path: Path):
    """The log file opened for reading, after the checks a path needs; FlightLogError else."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FlightLogError(f"Flight log {path} does not exist.") from None
    except OSError as exc:
        raise FlightLogError(f"Cannot read the flight log {path}: {os_reason(exc)}.") from None
    if stat.S_ISDIR(st.st_mode):
        raise FlightLogError(f"Flight log {path} is a folder, not a .flight.jsonl file.")
    if not stat.S_ISREG(st.st_mode):
        raise FlightLogError(f"Flight log {path} is not a regular file (a pipe or a device).")
    if st.st_size > MAX_LOG_BYTES:
        raise FlightLogError(f"Flight log {path} is {st.st_size / 2**30:.1f} GiB, over the limit of "
                             f"{MAX_LOG_BYTES / 2**30:.0f} GiB.")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise FlightLogError(f"Cannot read the flight log {path}: {os_reason(exc)}.") from None


def _parse_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) of every non-blank line, each checked for size, UTF-8 and JSON."""
    parsed: list[tuple[int, dict]] = []
    with _open_log(path) as f:
        n = 0
        while True:
            try:
                raw = f.readline(MAX_LOG_LINE_CHARS + 2)
            except OSError as exc:
                raise FlightLogError(f"Cannot read the flight log {path}: {os_reason(exc)}.") from None
            if not raw:
                break
            n += 1
            if len(raw) > MAX_LOG_LINE_CHARS and not raw.endswith(b"\n"):
                raise FlightLogError(f"Line {n} of {path} is longer than the limit of "
                                     f"{MAX_LOG_LINE_CHARS:,} characters.")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise FlightLogError(f"Line {n} of {path} is not UTF-8 text.") from None
            text = text.lstrip("\ufeff") if n == 1 else text
            if not text.strip():
                continue
            if len(parsed) > MAX_LOG_LINES:
                raise FlightLogError(f"Flight log {path} has more than {MAX_LOG_LINES:,} lines, the limit "
                                     f"(an hour at {MAX_LOG_FPS} fps).")
            try:
                obj = json.loads(text, parse_constant=_reject_constant)
            except RecursionError:
                raise FlightLogError(f"Line {n} of {path} is nested deeper than the limit of "
                                     f"{MAX_LOG_NESTING} levels.") from None
            except ValueError as exc:
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                raise FlightLogError(f"Line {n} of {path} is not valid JSON ({reason}).") from None
            if not isinstance(obj, dict):
                raise FlightLogError(f"Line {n} of {path} is not a JSON object.")
            parsed.append((n, obj))
    if not parsed:
        raise FlightLogError(f"Flight log {path} is empty.")
    return parsed


def _check_header(path: Path, header: dict) -> None:
    """The header's format, version and the optional model, size, fps and seed fields."""
    if header.get("format") != FORMAT_NAME:
        raise FlightLogError(f"{path} is not a Latent Odyssey flight log (its first line has no format header).")
    version = header.get("version")
    if not _whole(version) or not 1 <= version <= FORMAT_VERSION:
        raise FlightLogError(f"Flight log {path} has format version {quote(version)}; this build reads "
                             f"version {FORMAT_VERSION}{' and older' if FORMAT_VERSION > 1 else ''}.")

    def bad(field_: str, what: str) -> FlightLogError:
        return FlightLogError(f"The header of flight log {path} has {field_} {quote(header.get(field_))}; "
                              f"it must be {what}.")

    for key in ("model", "mode", "model_path", "video"):
        if header.get(key) is not None and not isinstance(header[key], str):
            raise bad(key, "a string")
    dim = header.get("latent_dim")
    if dim is not None and (not _whole(dim) or dim < 1):
        raise bad("latent_dim", "a whole number of at least 1")
    size = header.get("size")
    if size is not None:
        if not (isinstance(size, list) and len(size) == 2 and all(_whole(v) for v in size)):
            raise bad("size", "[WIDTH, HEIGHT] in whole pixels")
        try:
            check_size((size[0], size[1]), (MIN_LOG_SIDE_PX, MIN_LOG_SIDE_PX), "video size", ValueError)
        except ValueError as exc:
            raise FlightLogError(f"Flight log {path} was recorded at a size replay cannot render: {exc}") from None
    fps = header.get("fps")
    if fps is not None and (not _whole(fps) or not 1 <= fps <= MAX_LOG_FPS):
        raise bad("fps", f"a whole number from 1 to {MAX_LOG_FPS}")
    seed = header.get("seed")
    if seed is not None and (not _whole(seed) or not 0 <= seed <= MAX_SEED):
        raise bad("seed", f"a whole number from 0 to {MAX_SEED}")


def _check_line(path: Path, n: int, obj: dict, last_t: float) -> None:
    """One state line: time, names, latent and state."""
    t = obj.get("t")
    if not _number(t):
        raise FlightLogError(f"Line {n} of {path} has no valid time \"t\" (a number of seconds).")
    if t < 0:
        raise FlightLogError(f"Line {n} of {path} has a negative time (t = {t}).")
    if t > MAX_REPLAY_SECONDS:
        raise FlightLogError(f"Line {n} of {path} is at t = {t:g} s, past the replay limit of "
                             f"{MAX_REPLAY_SECONDS:g} s (an hour).")
    if t < last_t:
        raise FlightLogError(f"Line {n} of {path} goes back in time (t = {t} after {last_t}).")
    for key in ("model", "mode"):
        if not isinstance(obj.get(key), str) or not obj[key]:
            raise FlightLogError(f"Line {n} of {path} has no {key} name.")
    if obj["mode"] not in MODES:
        raise FlightLogError(f"Line {n} of {path} names the mode {quote(obj['mode'])}; this build has "
                             f"{', '.join(MODES)}.")
    if obj.get("model_path") is not None and not isinstance(obj["model_path"], str):
        raise FlightLogError(f"Line {n} of {path} has a model_path that is not a string.")
    if not isinstance(obj.get("state", {}), dict):
        raise FlightLogError(f"Line {n} of {path} has a state that is not a JSON object.")
    z = obj.get("z")
    if z is not None and not (isinstance(z, list) and z and all(_number(v) for v in z)):
        raise FlightLogError(f"Line {n} of {path} has a latent \"z\" that is not a list of numbers.")


def _check_numbers(path: Path, n: int, obj: dict) -> None:
    problem = _check_values(obj)
    if problem:
        raise FlightLogError(f"Line {n} of {path} {problem}.")


def _kind(value: Any) -> str:
    """A snapshot value's type in words: what a log state must hold in its place."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list) and value and all(_number(v) for v in value):
        return f"a list of {len(value)} numbers"
    return "a list" if isinstance(value, list) else "anything"


def check_state_types(log: FlightLog, model: str, mode: str, schema: dict) -> None:
    """Every state of ``model`` in ``mode`` holds, under each key of ``schema`` (the mode
    scene's own ``snapshot()``), a value of the same kind: a number for a number, a list of
    as many numbers for a list of numbers, and so on; FlightLogError naming the line else."""
    kinds = {key: _kind(value) for key, value in schema.items() if value is not None}
    for line, n in zip(log.lines, log.numbers, strict=True):
        if line["model"] != model or line["mode"] != mode:
            continue
        for key, want in kinds.items():
            got = line["state"].get(key)
            if got is None or want == "anything" or _kind(got) == want:
                continue
            shown = json.dumps(got)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise FlightLogError(f"Line {n} of {log.path} has {shown} in the {mode} state's {quote(key)}, "
                                 f"where that mode keeps {want}.")


def read_flight_log(path: Path) -> FlightLog:
    """Parse and validate a flight log (see the module docstring for the rules and limits);
    raises FlightLogError with one sentence."""
    path = Path(path)
    parsed = _parse_rows(path)
    _, header = parsed[0]
    _check_header(path, header)
    _check_numbers(path, *parsed[0])
    lines: list[dict] = []
    numbers: list[int] = []
    last_t = 0.0
    for n, obj in parsed[1:]:
        _check_line(path, n, obj, last_t)
        _check_numbers(path, n, obj)
        obj.setdefault("state", {})
        last_t = float(obj["t"])
        lines.append(obj)
        numbers.append(n)
    if not lines:
        raise FlightLogError(f"Flight log {path} has a header but no recorded frames.")
    return FlightLog(path, header, lines, numbers)


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
