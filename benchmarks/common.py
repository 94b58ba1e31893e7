"""Shared helpers of the benchmark suite: timing statistics, a plain-text table, the machine.

* :func:`stats` turns samples in milliseconds into ``{"median_ms", "p99_ms", "mean_ms",
  "min_ms", "n"}`` (p99 by linear interpolation between order statistics, numpy's default,
  so with fewer than 100 samples it lies between the two largest).
* :func:`time_calls` times ``fn()`` ``runs`` times after ``warmup`` untimed calls.
* :func:`format_table` lays rows out in aligned columns (numbers right-aligned).
* :func:`machine` describes where the numbers were taken: CPU model (``/proc/cpuinfo``),
  logical cores, usable cores, load average, Python and library versions, onnxruntime's
  providers, the git commit and the date. Numbers from a busy machine are not comparable
  with numbers from an idle one: the load average is recorded for that reason.
* :func:`write_json` writes atomically (temporary file in the same folder, then rename).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
P99 = 99.0  # percentile reported as the "p99" frame time


def stats(samples_ms: Sequence[float]) -> dict[str, float]:
    """Median, p99, mean and min of samples in ms (rounded to µs), and their count."""
    t = np.asarray(samples_ms, dtype=np.float64)
    if t.size == 0:
        raise ValueError("no samples to summarise")
    return {
        "median_ms": round(float(np.median(t)), 3),
        "p99_ms": round(float(np.percentile(t, P99)), 3),
        "mean_ms": round(float(t.mean()), 3),
        "min_ms": round(float(t.min()), 3),
        "n": int(t.size),
    }


def time_calls(fn: Callable[[], Any], runs: int, warmup: int = 0) -> list[float]:
    """Wall time (ms) of ``runs`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out: list[float] = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def fmt(value: Any, digits: int = 2) -> str:
    """A table cell: floats with ``digits`` decimals, None as ``-``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: int = 2) -> str:
    """Rows under headers in aligned columns; numeric cells right-aligned."""
    cells = [[fmt(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, c in enumerate(row):
            widths[i] = max(widths[i], len(c))
    numeric = [
        all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) if rows else False
        for i in range(len(headers))
    ]
    pad = " " * indent

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return (pad + "  ".join(parts)).rstrip()

    out = [line(list(headers)), pad + "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (platform's guess elsewhere)."""
    try:
        for text_line in Path("/proc/cpuinfo").read_text().splitlines():
            if text_line.lower().startswith(("model name", "hardware", "cpu model")):
                return text_line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except Exception:
        return None
    if module == "pygame":
        return mod.version.ver
    return getattr(mod, "__version__", "unknown")


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (None where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine() -> dict[str, Any]:
    """Where and when the numbers were taken (see the module docstring)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import onnxruntime as ort

        providers = list(ort.get_available_providers())
    except Exception:
        providers = []
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count()
    torch_threads = None
    if _version("torch"):
        import torch

        torch_threads = torch.get_num_threads()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "load_average": load_average(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": _version("numpy"),
        "onnxruntime": _version("onnxruntime"),
        "pygame": _version("pygame"),
        "torch": _version("torch"),
        "torch_threads": torch_threads,
        "providers": providers,
        "commit": git_commit(),
        "date": _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds"),
    }


def machine_header(m: dict[str, Any]) -> str:
    """Two or three lines describing ``machine()`` for the printed report."""
    load = m.get("load_average")
    load_s = "/".join(f"{v:g}" for v in load) if load else "n/a"
    return "\n".join([
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), load {load_s}",
        f"python {m['python']}, onnxruntime {m['onnxruntime']} ({', '.join(m['providers']) or 'no providers'}), "
        f"pygame {m['pygame']}, torch {m['torch'] or 'absent'}"
        + (f" ({m['torch_threads']} threads)" if m.get("torch_threads") else ""),
        f"date {m['date']}, commit {m['commit'] or 'unknown'}",
    ])


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically (temporary file, then rename)."""
    from latent_odyssey.game import atomic

    return atomic.write_json(path, data, indent=1)
