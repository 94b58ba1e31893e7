"""Recording speed: headless tour rendering (frames/s) and the game's frame time while recording.

    python -m benchmarks.record_speed [--model PATH] [--size 1280x720] [--seconds 4]
                                      [--frames 240] [--json OUT.json]

Set-up everywhere: the Odyssey autopilot flying the centroid tour with the tunnel (8 layers)
and the 3x3 grid on, HUD and minimap drawn, at ``--size``.

1. ``render``  ``game.render.render_tour`` as ``odyssey record`` runs it: ``--seconds`` of
   video at 30 fps, frames drawn with a fixed 1/30 s step, blocking encoding on the
   recorder's worker thread, for each x264 preset in ``PRESETS``. Reports frames rendered
   and encoded per wall-clock second and the speed relative to real time (> 1: faster).
   ``draw only`` is the same flight without any encoding: the ceiling the encoder eats into.
2. ``game``    ``Engine.loop_once(1/60)`` wall time (median, p99; the 60 FPS pacing sleep
   happens outside the timed part, as in play) for ``--frames`` frames, first without and
   then with in-game recording on (``RecordingController``: capture every second frame,
   non-blocking superfast encoding). Also reports the frames the recorder had to drop and
   the video's length against the game time it covers.

Uses ``pretrained/mnist-3d.onnx`` unless ``--model`` is given. ``run()`` returns the numbers
as a dict; the machine (CPU, cores, load average) is recorded with them, since a loaded
machine gives slower numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "pretrained" / "mnist-3d.onnx"
PRESETS = ("veryfast", "superfast")  # offline default, live default
VIDEO_FPS = 30
GAME_DT_S = 1.0 / 60.0
WARMUP_FRAMES = 30


def stats(samples_ms: list[float]) -> dict:
    """Median, p99, mean of frame times in ms, and their count."""
    t = np.asarray(samples_ms, dtype=np.float64)
    return {"median_ms": round(float(np.median(t)), 3), "p99_ms": round(float(np.percentile(t, 99)), 3),
            "mean_ms": round(float(t.mean()), 3), "n": int(t.size)}


def machine() -> dict:
    """Where the numbers were taken: cores, load average (a busy machine is slower), versions."""
    import av
    import onnxruntime
    import pygame

    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
            "usable_cores": usable, "load_average": load, "python": platform.python_version(),
            "onnxruntime": onnxruntime.__version__, "pygame": pygame.version.ver, "av": av.__version__,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _tour_engine(model: Path, size: tuple[int, int], as_played: bool = False):
    """A headless engine flying the centroid tour with tunnel + grid. ``as_played``: a plain
    Engine (decode-ahead worker on, as in play) instead of ``odyssey record``'s set-up."""
    from latent_odyssey.game.capture import render
    from latent_odyssey.game.play import Game

    if as_played:
        engine = Game(model, mode="odyssey", headless=True, size=size, seed=0)
    else:
        engine = render.headless_engine(model, "odyssey", size, seed=0)
    scene = engine.mode_scene
    scene.tunnel, scene.grid = True, True
    scene.start_tour("centroids", seed=0)
    return engine


def render_speed(model: Path, size: tuple[int, int], seconds: float, folder: Path) -> dict:
    """Headless ``record`` speed per preset, and the draw-only ceiling."""
    from latent_odyssey.game.capture import encoder, render

    out: dict = {}
    n = round(seconds * VIDEO_FPS)
    engine = _tour_engine(model, size)
    grabbed = []
    engine.frame_listeners.append(lambda surface, t: grabbed.append(encoder.frame_array(surface)))
    t0 = time.perf_counter()
    try:
        for i in range(n):
            engine.loop_once(0.0 if i == 0 else 1.0 / VIDEO_FPS)
            grabbed.clear()
    finally:
        engine.shutdown()
    wall = time.perf_counter() - t0
    out["draw only"] = {"frames": n, "wall_s": round(wall, 3), "fps": round(n / wall, 2),
                        "x_real_time": round(n / VIDEO_FPS / wall, 3)}
    for preset in PRESETS:
        result = render.render_tour(model, folder / f"tour-{preset}.mp4", "centroids", seconds,
                                    VIDEO_FPS, size, tunnel=True, grid=True, seed=0,
                                    progress=False, log=False, preset=preset)
        out[preset] = {"frames": result.frames, "wall_s": round(result.wall_s, 3),
                       "fps": round(result.render_fps, 2),
                       "x_real_time": round(result.frames / VIDEO_FPS / result.wall_s, 3),
                       "file_kb": round(result.path.stat().st_size / 1024, 1)}
    return out


def game_frame_time(model: Path, size: tuple[int, int], frames: int, folder: Path,
                    pace: bool = True) -> dict:
    """loop_once wall time without and with in-game recording (same flight, one engine)."""
    engine = _tour_engine(model, size, as_played=True)
    engine.recording.folder = folder
    results: dict = {}
    try:
        for phase in ("off", "on"):
            if phase == "on" and not engine.recording.start():
                raise RuntimeError(engine.recording.last_error or "recording did not start")
            times: list[float] = []
            next_t = time.perf_counter()
            t_game0 = engine.ctx.time_s
            for i in range(WARMUP_FRAMES + frames):
                if pace:  # sleep to the next 1/60 s, outside the timed part (as clock.tick does)
                    delay = next_t - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                    next_t = max(next_t + GAME_DT_S, time.perf_counter() - GAME_DT_S)
                t0 = time.perf_counter()
                engine.loop_once(GAME_DT_S)
                if i >= WARMUP_FRAMES:
                    times.append((time.perf_counter() - t0) * 1000.0)
            results[phase] = stats(times)
            if phase == "on":
                take = engine.recording.take
                game_s = engine.ctx.time_s - t_game0
                captured, dropped = take.frames, take.recorder.dropped
                t_stop = time.perf_counter()
                engine.recording.stop(wait=True)
                results[phase].update({
                    "captured_frames": captured,
                    "dropped_frames": dropped,
                    "video_frames": engine.recording.last_path and _count_frames(engine.recording.last_path),
                    "game_s": round(game_s, 3),
                    "finalize_s": round(time.perf_counter() - t_stop, 3),
                })
    finally:
        engine.shutdown()
    return results


def _count_frames(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def run(model_path: Path | str, size: tuple[int, int] = (1280, 720), seconds: float = 4.0,
        frames: int = 240, pace: bool = True) -> dict:
    """Both measurements; returns {"render": {...}, "game": {"off": {...}, "on": {...}}, ...}."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    model = Path(model_path)
    with tempfile.TemporaryDirectory(prefix="record-speed-") as tmp:
        folder = Path(tmp)
        return {
            "model": str(model), "size": list(size), "video_fps": VIDEO_FPS,
            "render": render_speed(model, size, seconds, folder),
            "game": game_frame_time(model, size, frames, folder, pace),
            "machine": machine(),
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help=f"decoder .onnx (default {DEFAULT_MODEL})")
    ap.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT")
    ap.add_argument("--seconds", type=float, default=4.0, help="video length of the render test")
    ap.add_argument("--frames", type=int, default=240, help="game frames per phase")
    ap.add_argument("--no-pace", dest="pace", action="store_false", help="run game frames back to back")
    ap.add_argument("--json", type=Path, help="also write the results here")
    a = ap.parse_args()
    model = a.model or DEFAULT_MODEL
    if not model.is_file():
        sys.exit(f"record_speed: no model at {model}; pass --model PATH to a 3-D (or wider) decoder.")
    try:
        w, h = (int(v) for v in a.size.lower().split("x"))
    except ValueError:
        sys.exit(f"record_speed: --size must look like 1280x720, not {a.size!r}.")
    from latent_odyssey.game.capture.render import RenderError
    from latent_odyssey.game.model.modelfile import ModelFileError

    try:
        r = run(model, (w, h), a.seconds, a.frames, a.pace)
    except (ModelFileError, RenderError, ValueError) as exc:
        sys.exit(f"record_speed: {exc}")
    m = r["machine"]
    print(f"machine: {m['cores']} cores ({m['usable_cores']} usable), load {m['load_average']}, "
          f"onnxruntime {m['onnxruntime']}, pygame {m['pygame']}, av {m['av']}, {m['date']}")
    print(f"model {r['model']}  {w}x{h}  tour centroids, tunnel 8 layers + grid + HUD")
    print(f"headless render ({a.seconds:g} s of video at {VIDEO_FPS} fps):")
    for name, m in r["render"].items():
        extra = f"  {m['file_kb']:8.1f} kB" if "file_kb" in m else ""
        print(f"  {name:10s} {m['fps']:6.1f} frames/s  {m['x_real_time']:5.2f}x real time{extra}")
    print(f"game frame time, loop_once(1/60), {a.frames} frames{' paced to 60 FPS' if a.pace else ''}:")
    for phase in ("off", "on"):
        m = r["game"][phase]
        line = f"  recording {phase:3s}  median {m['median_ms']:6.2f} ms  p99 {m['p99_ms']:6.2f} ms"
        if phase == "on":
            line += (f"  captured {m['captured_frames']}  dropped {m['dropped_frames']}  "
                     f"video {m['video_frames']} frames for {m['game_s']:.2f} s  "
                     f"finalize {m['finalize_s']:.2f} s")
        print(line)
    if a.json:
        from latent_odyssey.game import atomic

        atomic.write_json(a.json, r, indent=2)


if __name__ == "__main__":
    main()
