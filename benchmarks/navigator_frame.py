"""Benchmark: the Navigator's frame time while moving, with and without the decode cache.

Runs the navigator headless (SDL dummy driver) at 1280x720, holding ``move_x`` and reversing
direction every ``SWING_FRAMES`` frames, for ``frames`` frames after ``WARMUP_FRAMES``
warm-up frames. Each sample is the wall time of one ``Engine.loop_once(1/60)`` call: events,
input, update, one batched decode, drawing and the (dummy) flip, without the 60 FPS sleep.
The second run repeats it with the decoder cache disabled (every frame decodes). With the
cache on, the swings retrace positions already decoded, so most frames decode nothing: the
difference between the two runs is the decode cost a still or retracing cursor saves.

    python -m benchmarks.navigator_frame [--model NAME|PATH] [--frames 600] [--size 1280x720]

``run(model_path, frames, size) -> dict`` is the entry point for a benchmark suite.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

WARMUP_FRAMES = 60
SWING_FRAMES = 90  # frames between direction reversals (1.5 s of simulated time)
DT_S = 1.0 / 60.0


def _measure(model_path: Path, frames: int, size: tuple[int, int], cache: bool) -> dict:
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    from latent_odyssey.game.play import Game

    engine = Game(model_path, headless=True, size=size, seed=0)
    try:
        decoder = engine.ctx.model.decoder
        if not cache:
            decoder.cache_entries = 0
            decoder._cache.clear()
        keys = (pygame.K_d, pygame.K_a)
        held = None
        times_ms: list[float] = []
        decode_ms: list[float] = []  # onnxruntime time of the frames that decoded
        runs0 = 0
        for i in range(WARMUP_FRAMES + frames):
            want = keys[(i // SWING_FRAMES) % 2]
            if want != held:
                if held is not None:
                    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=held, mod=0))
                pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=want, mod=0))
                held = want
            if i == WARMUP_FRAMES:
                runs0 = decoder.runs
            runs = decoder.runs
            t0 = time.perf_counter()
            engine.loop_once(DT_S)
            if i >= WARMUP_FRAMES:
                times_ms.append((time.perf_counter() - t0) * 1000.0)
                if decoder.runs != runs:
                    decode_ms.append(decoder.last_decode_ms)
        t = np.asarray(times_ms)
        return {
            "median_ms": float(np.median(t)),
            "p99_ms": float(np.percentile(t, 99)),
            "mean_ms": float(t.mean()),
            "decode_runs_per_frame": (decoder.runs - runs0) / frames,
            "decode_median_ms": float(np.median(decode_ms)) if decode_ms else 0.0,
        }
    finally:
        engine.shutdown()


def run(model_path: Path | str, frames: int = 600, size: tuple[int, int] = (1280, 720)) -> dict:
    """Frame-time statistics (ms) with the decoder cache on and off."""
    model_path = Path(model_path)
    return {
        "model": str(model_path),
        "frames": frames,
        "size": f"{size[0]}x{size[1]}",
        "cache": _measure(model_path, frames, size, cache=True),
        "no_cache": _measure(model_path, frames, size, cache=False),
    }


def main(argv: list[str] | None = None) -> int:
    from latent_odyssey.game import paths
    from latent_odyssey.game.cli import parse_size

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="model name or .onnx path (default: the shipped mnist-2d)")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--size", type=parse_size, default=(1280, 720))
    args = parser.parse_args(argv)
    path = paths.find_model(args.model or paths.DEFAULT_MODEL)
    if path is None:
        print(f"navigator_frame: {paths.describe_missing_model(args.model or paths.DEFAULT_MODEL)} "
              "Pass --model PATH.", file=sys.stderr)
        return 2
    res = run(path, args.frames, args.size)
    print(f"navigator frame time, {res['size']}, {res['frames']} frames moving, model {path.name}")
    for label, key in (("decode cache on ", "cache"), ("decode cache off", "no_cache")):
        r = res[key]
        print(f"  {label}: median {r['median_ms']:6.2f} ms   p99 {r['p99_ms']:6.2f} ms   "
              f"mean {r['mean_ms']:6.2f} ms   decodes/frame {r['decode_runs_per_frame']:.2f}   "
              f"decode median {r['decode_median_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
