"""Headless rendering: autopilot tours and face morphs straight to a video file, no window.

Usage::

    odyssey record OUT.mp4 [--model M] [--tour centroids|dense|random] [--seconds S]
                   [--fps F] [--size WxH] [--tunnel] [--grid] [--seed N] [--gif]
    odyssey record OUT.mp4 --model faces --morph A_SEED:B_SEED [--seconds S] ...

Contract
--------
* Runs on SDL's dummy video driver: nothing opens on screen, works over SSH and in CI.
* Deterministic: frame ``i`` shows simulation time ``i / fps`` (a fixed ``1 / fps`` step per
  frame, simulated in the engine's whole ``FIXED_DT_S`` steps, never the wall clock), the
  Odyssey's decode-ahead worker is off and every random choice is seeded by ``--seed``
  (default 0). Two runs with the same arguments give identical frames, and identical files:
  x264's macroblock-tree rate control, which is not repeatable, is off for these renders.
* ``round(seconds * fps)`` frames, encoded with a *blocking* :class:`VideoRecorder` (every
  frame is encoded, none dropped) on its worker thread while the next frame is drawn.
* Output: H.264 MP4 (also .mov/.mkv), or an animated GIF with ``--gif`` or an OUT ending in
  ``.gif``. A flight log ``OUT.flight.jsonl`` is written beside it (``--no-log`` to skip),
  so ``odyssey replay`` can render the same flight again at another size.
* Tours: the Odyssey autopilot flies the tour from its start (``--tunnel`` and ``--grid`` as
  the in-game toggles; both off by default). Morphs: the Face studio morphs from the random
  face of seed A (the face the studio opens with under ``--seed A``) to that of seed B over
  the whole video, first frame exactly A, last frame exactly B.
* Bad input raises :class:`RenderError` with one sentence (the CLI prints it, exit 2).
* A progress bar (frames done / total, frames per second, time left) goes to stderr.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from game import flightlog, paths
from game.cliutil import EXIT_FAILURE, EXIT_USAGE, ensure_writable, split_size
from game.modelfile import ModelMeta

DEFAULT_SECONDS = 10.0
DEFAULT_FPS = 30  # video frames per second (MP4)
DEFAULT_GIF_FPS = 25  # GIF delays are whole centiseconds: 25 fps is exact
DEFAULT_SIZE = (1280, 720)
DEFAULT_SEED = 0
MIN_SIDE_PX = 16
MAX_SIDE_PX = 8192
MAX_FPS = 240
MAX_SECONDS = 3600.0
OFFLINE_PRESET = "veryfast"  # x264 preset for offline renders (quality over speed is affordable)
OFFLINE_CRF = 20
RENDER_QUEUE_FRAMES = 4  # frames between the renderer and the encoder thread
PROGRESS_INTERVAL_S = 0.1  # how often the progress bar is redrawn on a terminal
PROGRESS_LINES = 10  # lines written when stderr is not a terminal (one per 10 %)
PROGRESS_WIDTH = 28  # characters in the bar
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
# x264's macroblock-tree rate control is not repeatable on some content (measured: 4 different
# files from 30 encodes of the same frames, pixels off by up to 35); without it, bit-exact.
DETERMINISTIC_X264 = {"x264-params": "mbtree=0"}
NO_STEP_LIMIT = 1_000_000  # FixedStep max_steps while rendering: dt = 1/fps always fully simulated


class RenderError(ValueError):
    """Headless rendering cannot do what was asked; the message is one sentence."""


@dataclass
class RenderResult:
    """What a headless render produced."""

    path: Path
    frames: int
    size: tuple[int, int]
    fps: int
    wall_s: float  # render + encode wall time
    log_path: Path | None = None

    @property
    def render_fps(self) -> float:
        """Frames rendered and encoded per wall-clock second."""
        return self.frames / self.wall_s if self.wall_s > 0 else math.inf


# ----------------------------------------------------------------------------- argument checks


def parse_size(value: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); RenderError with one sentence otherwise."""
    size = split_size(value)
    if size is None:
        raise RenderError(f"Video size {value!r} is not WIDTHxHEIGHT, e.g. 1280x720.")
    check_size(size)
    return size


def check_size(size: tuple[int, int]) -> None:
    w, h = size
    if not (MIN_SIDE_PX <= w <= MAX_SIDE_PX and MIN_SIDE_PX <= h <= MAX_SIDE_PX):
        raise RenderError(
            f"Video size {w}x{h} must be from {MIN_SIDE_PX} to {MAX_SIDE_PX} pixels per side."
        )


def parse_fps(value: str) -> int:
    try:
        fps = int(str(value).strip())
    except ValueError:
        raise RenderError(f"Frame rate {value!r} is not a whole number of frames per second.") from None
    if not 1 <= fps <= MAX_FPS:
        raise RenderError(f"Frame rate {fps} must be from 1 to {MAX_FPS} frames per second.")
    return fps


def parse_seconds(value: str) -> float:
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise RenderError(f"Duration {value!r} is not a number of seconds.") from None
    if not (math.isfinite(seconds) and 0.0 < seconds <= MAX_SECONDS):
        raise RenderError(f"Duration {value} must be more than 0 and at most {MAX_SECONDS:g} seconds.")
    return seconds


def parse_seed(value: str) -> int:
    try:
        seed = int(str(value).strip())
    except ValueError:
        raise RenderError(f"Seed {value!r} is not a whole number.") from None
    if seed < 0:
        raise RenderError(f"Seed {seed} must not be negative.")
    return seed


def parse_morph(value: str) -> tuple[int, int]:
    """``"3:17"`` -> (3, 17): the seeds of the two random faces."""
    m = re.fullmatch(r"\s*(\d{1,18})\s*:\s*(\d{1,18})\s*", str(value))
    if not m:
        raise RenderError(f"Morph {value!r} is not A_SEED:B_SEED, e.g. 3:17.")
    return int(m.group(1)), int(m.group(2))


def check_output(out: Path, gif: bool | None = None) -> tuple[Path, bool]:
    """The output path (suffix added when missing) and whether it is a GIF; its folder is
    created. RenderError when the name or the folder is unusable."""
    out = Path(out)
    if out.is_dir():
        raise RenderError(f"Output {out} is a folder; give a file name such as {out / 'flight.mp4'}.")
    suffix = out.suffix.lower()
    if not suffix:
        out = out.with_suffix(".gif" if gif else ".mp4")
        suffix = out.suffix
    if gif is None:
        gif = suffix == ".gif"
    if gif and suffix != ".gif":
        raise RenderError(f"A GIF needs an output name ending in .gif, not {out.name}.")
    if not gif and suffix not in VIDEO_SUFFIXES + (".gif",):
        raise RenderError(f"Output {out.name} must end in .mp4, .mov, .mkv or .gif.")
    gif = gif or suffix == ".gif"
    if out.is_dir():
        raise RenderError(f"Output {out} is a folder; give a file name such as {out / 'flight.mp4'}.")
    return ensure_writable(out, RenderError), gif


# ----------------------------------------------------------------------------- engine and frames


def headless_engine(model_path: Path, mode: str, size: tuple[int, int], seed: int | None,
                    provider: str = "auto") -> Any:
    """A windowless Engine in ``mode`` whose drawing surface is exactly ``size``.

    Raises RenderError when the model cannot be shown in that mode.
    """
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    from game import app
    from game.flight import FixedStep
    from game.modelfile import open_model

    cls, reason = app.load_mode_class(mode)
    if cls is None:
        raise RenderError(reason)
    _session, meta = open_model(Path(model_path), "cpu")
    reason = app.mode_reason(mode, cls, meta)
    if reason:
        reason = reason.rstrip(".").split("; press M")[0]
        raise RenderError(f"{reason}.")
    try:
        engine = app.Engine(model_path, mode=mode, provider=provider, size=size, headless=True, seed=seed)
    except app.EngineError as exc:
        raise RenderError(str(exc)) from None
    if engine.mode_name != mode:
        notices = [text for text, _ in engine.ctx.notices]
        engine.shutdown()
        raise RenderError(notices[-1] if notices else f"The {mode} mode could not start.")
    if engine.surface.get_size() != tuple(size):  # below the window minimum: the dummy driver obliges
        engine.surface = pygame.display.set_mode(size)
    engine.fixed = FixedStep(app.FIXED_DT_S, max_steps=NO_STEP_LIMIT)
    deterministic(engine)
    return engine


def deterministic(engine: Any) -> None:
    """Stop the mode's background decode-ahead worker: frames then depend on nothing but time."""
    scene = engine.mode_scene
    ahead = getattr(scene, "ahead", None)
    if ahead is not None and hasattr(ahead, "stop"):
        ahead.stop()
        scene.ahead = None


def switch_mode(engine: Any, mode: str) -> None:
    if not engine.switch_mode(mode):
        raise RenderError(f"Cannot show the {mode} mode with {engine.ctx.model.meta.name}.")
    deterministic(engine)


def switch_model(engine: Any, model_path: Path, mode: str) -> None:
    if not engine._set_model(Path(model_path)) or not engine._start_mode(mode):
        raise RenderError(f"Cannot show {model_path} in the {mode} mode.")
    deterministic(engine)


def frame_array(surface: Any) -> np.ndarray:
    """A pygame surface as (H, W, 3) uint8 RGB (one conversion; faster than surfarray)."""
    import pygame

    w, h = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGB"), np.uint8).reshape(h, w, 3)


class Progress:
    """A tiny progress bar on stderr: ``[#####.....] 120/300 frames  41.2 fps  4 s left``."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, enabled: bool = True) -> None:
        self.total = max(1, int(total))
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()
        self._last_draw = -math.inf
        self._last_step = -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            if done < self.total and now - self._last_draw < PROGRESS_INTERVAL_S:
                return
            self._last_draw = now
            self.stream.write("\r" + self.text(done, now) + "\033[K")
        else:
            step = done * PROGRESS_LINES // self.total
            if step == self._last_step and done < self.total:
                return
            self._last_step = step
            self.stream.write(self.text(done, now) + "\n")
        self.stream.flush()

    def text(self, done: int, now: float) -> str:
        frac = min(1.0, done / self.total)
        fill = int(round(PROGRESS_WIDTH * frac))
        elapsed = max(1e-9, now - self.start)
        rate = done / elapsed
        left = (self.total - done) / rate if rate > 0 else math.inf
        eta = f"{left:.0f} s left" if math.isfinite(left) else "-- s left"
        return (f"{self.label} [{'#' * fill}{'.' * (PROGRESS_WIDTH - fill)}] "
                f"{done}/{self.total} frames  {rate:.1f} fps  {eta}")

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def repeatable_encoder(recorder: Any) -> None:
    """Make the recorder's H.264 encoder bit-exact from run to run (``DETERMINISTIC_X264``).

    Must run after ``start()`` and before the first ``submit()``: PyAV opens the codec at the
    first frame. (Reaches into VideoRecorder's stream until it takes codec options itself.)
    """
    ctx = getattr(getattr(recorder, "_stream", None), "codec_context", None)
    if ctx is None or recorder.gif or getattr(ctx, "is_open", True):
        return
    ctx.options = {**dict(ctx.options), **DETERMINISTIC_X264}


def render_frames(
    engine: Any,
    out: Path,
    size: tuple[int, int],
    fps: int,
    n_frames: int,
    step: Callable[[int, float], None],
    gif: bool = False,
    progress: bool = True,
    log: bool = False,
    preset: str = OFFLINE_PRESET,
) -> RenderResult:
    """Draw ``n_frames`` with ``step(i, dt)`` (one ``engine.loop_once`` each) and encode each
    at ``i / fps`` with a blocking recorder; always shuts the engine down.

    Frames are captured by a frame listener, so they hold the scene but not the HUD.

    ``log``: also write ``OUT.flight.jsonl`` beside the video.
    """
    from game.recorder import RecorderError, VideoRecorder

    try:
        recorder = VideoRecorder(out, size, fps=fps, gif=gif, blocking=True, crf=OFFLINE_CRF,
                                 preset=preset, queue_frames=RENDER_QUEUE_FRAMES)
    except RecorderError as exc:
        engine.shutdown()
        raise RenderError(str(exc)) from None
    if not recorder.start():
        engine.shutdown()
        raise RenderError(recorder.error or f"Cannot write video to {out}.")
    repeatable_encoder(recorder)
    writer = None
    if log:
        log_path = flightlog.log_path_for(recorder.path)
        try:
            writer = flightlog.FlightLogWriter(log_path, {
                "model": engine.ctx.model.meta.name, "model_path": str(engine.ctx.model.path),
                "latent_dim": engine.ctx.model.meta.latent_dim, "mode": engine.mode_name,
                "size": list(size), "fps": fps, "video": recorder.path.name, "seed": engine.ctx.seed,
            })
        except OSError as exc:
            recorder.close()
            engine.shutdown()
            raise RenderError(f"Cannot write the flight log {log_path}: {exc.strerror or exc}.") from None
    captured: list[np.ndarray] = []

    def capture(surface: Any, _time_s: float) -> None:  # after the scene, before the HUD
        captured.append(frame_array(surface))  # (H, W, 3)

    engine.frame_listeners.append(capture)
    bar = Progress(n_frames, Path(out).name, enabled=progress)
    start = time.perf_counter()
    done = 0
    ok = False
    try:
        for i in range(n_frames):
            captured.clear()
            step(i, 0.0 if i == 0 else 1.0 / fps)
            if not captured:
                raise RenderError(f"Frame {i} was not drawn.")
            t = i / fps
            if writer is not None:
                writer.write(flightlog.engine_line(engine, t))
            if not recorder.submit(captured[-1], t):
                break
            done += 1
            bar.update(done)
        ok = True
    finally:
        bar.close()
        path = recorder.close()
        log_path = writer.close(keep=ok and path is not None) if writer is not None else None
        engine.shutdown()
    wall = time.perf_counter() - start
    if path is None or recorder.error:
        raise RenderError(recorder.error or f"Cannot write video to {out}.")
    return RenderResult(path, done, tuple(size), fps, wall, log_path)


# ----------------------------------------------------------------------------- tours and morphs


def start_tour(scene: Any, kind: str, seed: int) -> None:
    """Put the Odyssey ship on the start of a ``kind`` tour and engage the autopilot.

    Uses the scene's ``start_tour(kind, seed)`` when it has one; otherwise drives the
    OdysseyScene internals (``_ensure_tour``, ``_start_autopilot``) defensively.
    """
    own = getattr(scene, "start_tour", None)
    if callable(own):
        own(kind, seed=seed)
        return
    from game.flight import quat_look_rotation

    try:
        scene.tour_kind = kind
        scene._tour_seed = int(seed)
        scene.tour = None
        tour = scene._ensure_tour()
        path = tour.path
        scene.ship.position = np.asarray(path.point_at(0.0), np.float64).copy()
        scene.ship.velocity = np.zeros(3)
        ahead = 0.02 * path.length
        scene.ship.orientation = quat_look_rotation(path.tangent_at(ahead))
        scene._start_autopilot()
    except AttributeError as exc:
        raise RenderError(f"The Odyssey mode of this build cannot fly tours headless ({exc}).") from None


def render_tour(
    model_path: Path,
    out: Path,
    tour: str = "centroids",
    seconds: float = DEFAULT_SECONDS,
    fps: int = DEFAULT_FPS,
    size: tuple[int, int] = DEFAULT_SIZE,
    tunnel: bool = False,
    grid: bool = False,
    seed: int = DEFAULT_SEED,
    gif: bool | None = None,
    provider: str = "auto",
    progress: bool = True,
    log: bool = True,
    preset: str = OFFLINE_PRESET,
) -> RenderResult:
    """Fly the Odyssey autopilot along a tour for ``seconds`` and encode it to ``out``."""
    from game.tours import TOUR_KINDS

    if tour not in TOUR_KINDS:
        raise RenderError(f"Unknown tour {tour!r}; choose one of {', '.join(TOUR_KINDS)}.")
    out, gif = check_output(out, gif)
    check_size(size)
    n_frames = max(1, round(seconds * fps))
    engine = headless_engine(model_path, "odyssey", size, seed, provider)
    scene = engine.mode_scene
    try:
        scene.tunnel = bool(tunnel)
        scene.grid = bool(grid)
        start_tour(scene, tour, seed)
    except BaseException:
        engine.shutdown()
        raise

    def step(i: int, dt: float) -> None:
        engine.loop_once(dt)

    return render_frames(engine, out, size, fps, n_frames, step, gif=gif, progress=progress,
                         log=log, preset=preset)


def random_face(meta: ModelMeta, seed: int) -> np.ndarray:
    """The Face studio's opening face under ``seed`` (``faces.face_base`` with ``default_rng(seed)``).  # (D,)"""
    from game.faces import face_base

    return face_base(meta, np.random.default_rng(seed))


def render_morph(
    model_path: Path,
    out: Path,
    a_seed: int,
    b_seed: int,
    seconds: float | None = None,
    fps: int = DEFAULT_FPS,
    size: tuple[int, int] = DEFAULT_SIZE,
    gif: bool | None = None,
    provider: str = "auto",
    progress: bool = True,
    log: bool = True,
    preset: str = OFFLINE_PRESET,
) -> RenderResult:
    """Render the Face studio morphing from the random face of ``a_seed`` to that of ``b_seed``."""
    from game import app

    cls, reason = app.load_mode_class("faces")
    if cls is None:
        raise RenderError("Face morph rendering needs the face studio mode, which this build does not have yet.")
    try:
        from game.faces import MORPH_S, FaceState
    except ImportError:
        raise RenderError("Face morph rendering needs the face studio mode, which this build does not have yet.") from None
    out, gif = check_output(out, gif)
    check_size(size)
    seconds = MORPH_S if seconds is None else seconds
    n_frames = max(1, round(seconds * fps))
    engine = headless_engine(model_path, "faces", size, a_seed, provider)
    scene = engine.mode_scene
    try:
        k = len(getattr(scene, "names", []))
        scene.state = FaceState(random_face(scene.meta, a_seed), np.zeros(k))
        scene.save("A")
        scene.state = FaceState(random_face(scene.meta, b_seed), np.zeros(k))
        scene.save("B")
        scene.load("A")
        scene.morph()
        if scene.anim is not None:
            # the last frame is exactly B (simulation time moves in whole FIXED_DT_S steps)
            scene.anim.duration = max(app.FIXED_DT_S, (n_frames - 1) / fps - app.FIXED_DT_S)
        engine.ctx.notices.clear()
    except AttributeError as exc:
        engine.shutdown()
        raise RenderError(f"The face studio of this build cannot render morphs headless ({exc}).") from None
    except BaseException:
        engine.shutdown()
        raise

    def step(i: int, dt: float) -> None:
        engine.loop_once(dt)

    return render_frames(engine, out, size, fps, n_frames, step, gif=gif, progress=progress,
                         log=log, preset=preset)


# ----------------------------------------------------------------------------- command line

DEFAULT_TOUR_MODEL = "mnist-3d"
DEFAULT_MORPH_MODEL = "faces"


def _argtype(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type=`` from a parser that raises RenderError (argparse shows its sentence)."""
    import argparse

    def convert(value: str) -> Any:
        try:
            return parse(value)
        except RenderError as exc:
            raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None

    convert.__name__ = parse.__name__.replace("parse_", "")
    return convert


def add_record_parser(sub: Any) -> Any:
    """Register ``odyssey record`` on an argparse subparsers object."""
    from game.tours import TOUR_KINDS

    p = sub.add_parser(
        "record", help="render an autopilot tour or a face morph to a video, no window",
        description="Render an Odyssey autopilot tour (or a Face studio morph) headless to an "
                    "H.264 MP4 or an animated GIF, deterministically for a given --seed.",
    )
    p.add_argument("--model", metavar="NAME|PATH",
                   help=f"a shipped model name or a .onnx path (default {DEFAULT_TOUR_MODEL}; {DEFAULT_MORPH_MODEL} with --morph)")
    p.add_argument("--tour", choices=TOUR_KINDS, help="the autopilot tour (default centroids)")
    p.add_argument("--morph", type=_argtype(parse_morph), metavar="A_SEED:B_SEED",
                   help="render the Face studio morph between two random faces instead of a tour")
    p.add_argument("--seconds", type=_argtype(parse_seconds), metavar="S",
                   help=f"video length (default {DEFAULT_SECONDS:g}; a morph's own length with --morph)")
    p.add_argument("--tunnel", action="store_true", help="tunnel view on")
    p.add_argument("--grid", action="store_true", help="neighbour grid on")
    p.add_argument("--seed", type=_argtype(parse_seed), default=DEFAULT_SEED, metavar="N",
                   help="seed for the random tour and the scene (default 0)")
    p.add_argument("--no-log", dest="log", action="store_false",
                   help="do not write OUT.flight.jsonl beside the video")
    _add_video_arguments(p, DEFAULT_SIZE, "video size (default 1280x720)",
                         f"frames per second (default {DEFAULT_FPS}, {DEFAULT_GIF_FPS} for a GIF)")
    return p


def add_replay_parser(sub: Any) -> Any:
    """Register ``odyssey replay`` on an argparse subparsers object."""
    p = sub.add_parser(
        "replay", help="re-render a recorded flight log to a video at any size",
        description="Re-render a flight log (NAME.flight.jsonl, written beside every recording) "
                    "headless at any size and frame rate.",
    )
    p.add_argument("log", type=Path, metavar="LOG", help="a .flight.jsonl flight log")
    _add_video_arguments(p, None, "video size (default: as recorded)", "frames per second (default: as recorded)")
    return p


def _add_video_arguments(p: Any, size_default: tuple[int, int] | None, size_help: str, fps_help: str) -> None:
    """OUT, --size, --fps, --gif, --provider and --quiet: what ``record`` and ``replay`` share."""
    p.add_argument("out", type=Path, metavar="OUT", help="the video file: .mp4, .mov, .mkv or .gif")
    p.add_argument("--size", type=_argtype(parse_size), default=size_default, metavar="WxH", help=size_help)
    p.add_argument("--fps", type=_argtype(parse_fps), metavar="F", help=fps_help)
    p.add_argument("--gif", action="store_true", help="an animated GIF (also when OUT ends in .gif)")
    p.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto",
                   help="ONNX Runtime provider (default auto)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _report(result: RenderResult) -> None:
    real_s = result.frames / result.fps
    speed = real_s / result.wall_s if result.wall_s > 0 else math.inf
    log = f" and {result.log_path}" if result.log_path is not None else ""
    print(f"Wrote {result.path}{log}: {result.frames} frames at {result.size[0]}x{result.size[1]}, "
          f"{result.fps} fps, rendered in {result.wall_s:.1f} s ({result.render_fps:.1f} frames/s, "
          f"{speed:.2f}x real time).")


def _run(command: Callable[[], RenderResult]) -> int:
    """Run a render command: one sentence on stderr and an exit status for every failure."""
    from game.modelfile import ModelFileError
    from game.recorder import install_signal_finalizers

    try:
        install_signal_finalizers()
        _report(command())
        return 0
    except (RenderError, flightlog.FlightLogError) as exc:
        print(f"odyssey: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModelFileError as exc:
        print(f"odyssey: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        print(f"odyssey: {getattr(exc, 'strerror', None) or exc} ({getattr(exc, 'filename', '') or 'I/O error'}).",
              file=sys.stderr)
        return EXIT_FAILURE


def cmd_record(args: Any) -> int:
    """``odyssey record``: a tour, or a morph with ``--morph``."""
    def command() -> RenderResult:
        gif = True if args.gif else None
        fps = args.fps
        if fps is None:
            fps = DEFAULT_GIF_FPS if (args.gif or Path(args.out).suffix.lower() == ".gif") else DEFAULT_FPS
        if args.morph is not None:
            if args.tour is not None or args.tunnel or args.grid:
                raise RenderError("--morph renders the Face studio; it takes no --tour, --tunnel or --grid.")
            model = paths.require_model(args.model or DEFAULT_MORPH_MODEL, RenderError)
            a, b = args.morph
            return render_morph(model, args.out, a, b, args.seconds, fps, args.size, gif,
                                args.provider, not args.quiet, args.log)
        model = paths.require_model(args.model or DEFAULT_TOUR_MODEL, RenderError)
        return render_tour(model, args.out, args.tour or "centroids",
                           DEFAULT_SECONDS if args.seconds is None else args.seconds, fps, args.size,
                           args.tunnel, args.grid, args.seed, gif, args.provider, not args.quiet, args.log)

    return _run(command)


def cmd_replay(args: Any) -> int:
    """``odyssey replay LOG OUT``."""
    return _run(lambda: flightlog.replay(args.log, args.out, args.size, args.fps,
                                         True if args.gif else None, args.provider, not args.quiet))
