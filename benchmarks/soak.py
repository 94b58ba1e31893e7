"""Soak: a long autopilot tour in Odyssey with tunnel and grid; memory growth and frame spikes.

    python -m benchmarks.soak [--minutes 10] [--model PATH] [--size 1280x720] [--warmup-s 20]
                              [--tour-every-s 120] [--json PATH]

A headless ``game.play.Game`` (SDL dummy driver) in the Odyssey mode, the tunnel on (the
default), the grid switched on with its key (Y) and the autopilot with its key (O); every
``--tour-every-s`` seconds of game time the next tour kind is chosen (U), so the decoder
cache, the decode-ahead worker and the minimap see new paths all along. ``--minutes`` of game
time are stepped with ``loop_once(1/60)`` (10 minutes = 36,000 frames), as fast as the machine
goes.

Measured:

* resident memory (``/proc/self/statm``, after ``gc.collect()``) once the warm-up
  (``--warmup-s`` of game time: caches filled, every tour kind not yet seen) is over and at
  the end, and a sample every ``SAMPLE_EVERY_S`` of game time for the trend;
* the wall time of every ``loop_once`` after the warm-up: max, p99, median and how many
  frames took over ``MAX_FRAME_MS``.

Targets: growth < ``MAX_GROWTH_MB`` and max frame < ``MAX_FRAME_MS``; prints PASS or MISS for
each. The machine's load average is printed beside them: frames on a busy 2-core machine
have spikes that are not the game's. Uses ``pretrained/mnist-3d.onnx`` (else another 3-D
model in ``pretrained/``) unless ``--model`` is given.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

from latent_odyssey.game.cliutil import size_at_least

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

REPO = Path(__file__).resolve().parents[1]
FRAME_DT_S = 1.0 / 60.0
DEFAULT_MINUTES = 10.0
DEFAULT_SIZE = (1280, 720)
DEFAULT_WARMUP_S = 20.0  # game seconds before the first memory figure
DEFAULT_TOUR_EVERY_S = 120.0  # game seconds between tour changes
SAMPLE_EVERY_S = 10.0  # game seconds between memory samples
MAX_GROWTH_MB = 20.0
MAX_FRAME_MS = 100.0
PREFERRED_MODELS = ("mnist-3d", "fashion-3d")


def rss_mb() -> float:
    """Resident set size of this process in MB (``/proc/self/statm``, field 2, pages)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def default_model() -> Path | None:
    """pretrained/mnist-3d.onnx, else fashion-3d, else any decoder of 3 or more dims there."""
    from latent_odyssey.game import paths
    from latent_odyssey.game.model.modelfile import ModelFileError, open_model

    folder = REPO / "pretrained"
    for name in PREFERRED_MODELS:
        if (folder / f"{name}.onnx").is_file():
            return folder / f"{name}.onnx"
    for p in sorted(folder.glob("*.onnx")):
        if not paths.is_decoder_file(p):
            continue
        try:
            if open_model(p, "cpu")[1].latent_dim >= 3:
                return p
        except ModelFileError:
            continue
    return None


def _tap(engine, key: int) -> None:
    import pygame

    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))
    engine.loop_once(FRAME_DT_S)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))
    engine.loop_once(FRAME_DT_S)


def run(model: Path, minutes: float = DEFAULT_MINUTES, size: tuple[int, int] = DEFAULT_SIZE,
        warmup_s: float = DEFAULT_WARMUP_S, tour_every_s: float = DEFAULT_TOUR_EVERY_S,
        progress=None) -> dict:
    """Soak ``minutes`` of game time; returns the figures (see the module docstring)."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    from latent_odyssey.game.modes.odyssey.scene import OdysseyScene
    from latent_odyssey.game.play import Game

    frames = max(1, round(minutes * 60.0 / FRAME_DT_S))
    warmup = min(round(warmup_s / FRAME_DT_S), frames // 2)
    tour_every = max(1, round(tour_every_s / FRAME_DT_S))
    sample_every = max(1, round(SAMPLE_EVERY_S / FRAME_DT_S))
    engine = Game(Path(model), mode="odyssey", provider="cpu", size=size, headless=True, seed=0)
    try:
        scene = engine.mode_scene
        if not isinstance(scene, OdysseyScene) or engine.mode_name != "odyssey":
            raise RuntimeError(f"{Path(model).name} cannot be flown in Odyssey.")
        engine.loop_once(FRAME_DT_S)
        if not scene.grid:
            _tap(engine, pygame.K_y)
        if not scene.tunnel:
            _tap(engine, pygame.K_t)
        _tap(engine, pygame.K_o)
        if scene.mode != "autopilot" or not scene.grid or not scene.tunnel:
            raise RuntimeError("The autopilot, tunnel and grid did not all come on.")
        times_ms = np.zeros(frames)
        samples: list[tuple[float, float]] = []
        rss_start = rss_end = 0.0
        tours = [scene.tour_kind]
        t_wall = time.perf_counter()
        for i in range(frames):
            if i and i % tour_every == 0:
                _tap(engine, pygame.K_u)  # next tour kind (two frames, not timed)
                tours.append(scene.tour_kind)
            t0 = time.perf_counter()
            engine.loop_once(FRAME_DT_S)
            times_ms[i] = (time.perf_counter() - t0) * 1000.0
            if i + 1 == warmup:
                gc.collect()
                rss_start = rss_mb()
                samples.append(((i + 1) * FRAME_DT_S, rss_start))
            elif i + 1 > warmup and (i + 1 - warmup) % sample_every == 0:
                samples.append(((i + 1) * FRAME_DT_S, rss_mb()))
                if progress is not None:
                    progress(f"{(i + 1) * FRAME_DT_S / 60:.1f} game min  rss {samples[-1][1]:.1f} MB  "
                             f"max frame so far {times_ms[warmup:i + 1].max():.1f} ms")
        wall_s = time.perf_counter() - t_wall
        if scene.mode != "autopilot":
            raise RuntimeError(f"The autopilot stopped flying (mode {scene.mode}).")
        gc.collect()
        rss_end = rss_mb()
        samples.append((frames * FRAME_DT_S, rss_end))
    finally:
        engine.shutdown()
    after = times_ms[warmup:]
    growth = rss_end - rss_start
    max_frame = float(after.max()) if after.size else 0.0
    slope = 0.0
    if len(samples) >= 3:  # MB per game minute, least squares over the samples
        ts = np.array([s[0] for s in samples]) / 60.0
        slope = float(np.polyfit(ts, np.array([s[1] for s in samples]), 1)[0])
    return {
        "model": str(model), "size": list(size), "game_minutes": round(frames * FRAME_DT_S / 60, 2),
        "frames": frames, "warmup_frames": warmup, "wall_s": round(wall_s, 1),
        "fps": round(frames / wall_s, 1), "tours": tours,
        "rss_after_warmup_mb": round(rss_start, 1), "rss_end_mb": round(rss_end, 1),
        "rss_growth_mb": round(growth, 1), "rss_slope_mb_per_game_min": round(slope, 2),
        "rss_samples": [(round(t, 1), round(m, 1)) for t, m in samples],
        "frame_max_ms": round(max_frame, 1),
        "frame_p99_ms": round(float(np.percentile(after, 99)), 2) if after.size else 0.0,
        "frame_median_ms": round(float(np.median(after)), 2) if after.size else 0.0,
        "frames_over_limit": int(np.sum(after > MAX_FRAME_MS)),
        "slowest_frames": [int(warmup + j) for j in np.argsort(after)[::-1][:5]],
        "load_average": list(os.getloadavg()),
        "growth_ok": growth < MAX_GROWTH_MB, "frame_ok": max_frame < MAX_FRAME_MS,
    }


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return v


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=_positive, default=DEFAULT_MINUTES, help="game minutes (default 10)")
    parser.add_argument("--model", type=Path, help="a 3-D (or wider) decoder; default pretrained/mnist-3d.onnx")
    parser.add_argument("--size", type=size_at_least((320, 200)), default=DEFAULT_SIZE, metavar="WxH")
    parser.add_argument("--warmup-s", type=_positive, default=DEFAULT_WARMUP_S)
    parser.add_argument("--tour-every-s", type=_positive, default=DEFAULT_TOUR_EVERY_S)
    parser.add_argument("--json", type=Path, metavar="PATH")
    args = parser.parse_args(argv)
    model = args.model or default_model()
    if model is None or not Path(model).is_file():
        print("soak: no 3-D model (pass --model PATH, or put mnist-3d.onnx in pretrained/).", file=sys.stderr)
        return 2
    print(f"soak: {args.minutes:g} game minutes of {Path(model).name} at {args.size[0]}x{args.size[1]}, "
          f"autopilot + tunnel + grid", flush=True)
    try:
        r = run(model, args.minutes, args.size, args.warmup_s, args.tour_every_s,
                progress=lambda s: print(f"  {s}", flush=True))
    except RuntimeError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 1
    load = ", ".join(f"{v:.2f}" for v in r["load_average"])
    print(f"frames {r['frames']} in {r['wall_s']:.0f} s ({r['fps']:.0f} frames/s), tours {' -> '.join(r['tours'])}")
    print(f"memory: {r['rss_after_warmup_mb']:.1f} MB after warm-up -> {r['rss_end_mb']:.1f} MB at the end: "
          f"growth {r['rss_growth_mb']:+.1f} MB (trend {r['rss_slope_mb_per_game_min']:+.2f} MB/game min)  "
          f"{'PASS' if r['growth_ok'] else 'MISS'} (< {MAX_GROWTH_MB:g} MB)")
    print(f"frame time after warm-up: max {r['frame_max_ms']:.1f} ms, p99 {r['frame_p99_ms']:.1f} ms, "
          f"median {r['frame_median_ms']:.1f} ms, {r['frames_over_limit']} over {MAX_FRAME_MS:g} ms  "
          f"{'PASS' if r['frame_ok'] else 'MISS'} (< {MAX_FRAME_MS:g} ms; load average {load})")
    if args.json is not None:
        from benchmarks.common import write_json

        write_json(args.json, r)
    return 0 if r["growth_ok"] and r["frame_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
