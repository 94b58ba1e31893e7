"""Start-up time: from the command to the first frame on disk, in a fresh process.

    python -m benchmarks.startup [--runs 3] [--model NAME|PATH]

Each run is the wall time of ``python -m latent_odyssey.game play --headless --frames 1 --screenshot
TMP.png`` in a subprocess (interpreter start, imports, opening the model with onnxruntime,
the window on SDL's dummy driver, the mode's first frame, the PNG written, shutdown), from
``Popen`` to exit. Every run is a new interpreter (no warm imports), but the operating
system's file cache is warm after the first run; nothing here drops it. A run that fails or
leaves no PNG raises :class:`StartupError` with the command's last line of error output.

``run(runs, model) -> dict`` with median/p99 in ms and every sample in seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, stats

RUNS = 3
TIMEOUT_S = 120.0  # one start-up on a very busy machine


class StartupError(RuntimeError):
    """The game did not start and draw a frame (one sentence)."""


def command(screenshot: Path, model: str | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "latent_odyssey.game", "play", "--headless", "--frames", "1", "--screenshot", str(screenshot)]
    return cmd + (["--model", str(model)] if model else [])


def run_once(model: str | None = None) -> float:
    """Seconds from starting the command to its exit, with the PNG checked."""
    with tempfile.TemporaryDirectory(prefix="odyssey-bench-start-") as tmp:
        png = Path(tmp) / "first.png"
        env = dict(os.environ)
        env.pop("SDL_VIDEODRIVER", None)  # --headless chooses the dummy driver itself
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(command(png, model), cwd=REPO, env=env, capture_output=True,
                                  text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise StartupError(f"the game did not start within {TIMEOUT_S:g} s") from None
        seconds = time.perf_counter() - t0
        if proc.returncode != 0 or not png.is_file():
            last = (proc.stderr.strip().splitlines() or ["no error output"])[-1]
            raise StartupError(f"the game exited with status {proc.returncode} ({last})")
    return seconds


def run(runs: int = RUNS, model: str | None = None) -> dict[str, Any]:
    """Start-up statistics over ``runs`` fresh processes."""
    samples = [run_once(model) for _ in range(runs)]
    out: dict[str, Any] = stats([s * 1000.0 for s in samples])
    out["median_s"] = round(out["median_ms"] / 1000.0, 3)
    out["samples_s"] = [round(s, 3) for s in samples]
    shown = command(Path("TMP.png"), model)
    out["command"] = " ".join(["python", *shown[1:]])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument("--model", help="model name or .onnx path (default: the game's default)")
    args = ap.parse_args(argv)
    if args.runs < 1:
        print("startup: --runs must be at least 1.", file=sys.stderr)
        return 2
    try:
        r = run(args.runs, args.model)
    except StartupError as exc:
        print(f"startup: {exc}.", file=sys.stderr)
        return 1
    print(f"{r['command']}\n  median {r['median_s']:.2f} s over {r['n']} runs: "
          + ", ".join(f"{s:.2f}" for s in r["samples_s"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
