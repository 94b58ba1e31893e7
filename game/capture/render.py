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
* Outputs: an output that is one of the inputs (the model, the controls file, a replayed log)
  is refused before anything is written; while a render writes ``OUT`` it holds
  ``outlock.OutputLock(OUT)``, so a second render of the same ``OUT`` is refused at once. A
  failed render leaves no file behind and an earlier ``OUT`` (and its flight log) untouched;
  Ctrl-C, SIGTERM and SIGHUP keep the frames rendered so far, the video *and* its flight log,
  and raise ``cliutil.Stopped`` whose sentence says what was kept.
* A progress bar (frames done / total, frames per second, time left) goes to stderr.
"""

from __future__ import annotations

import math
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pygame

from latent_odyssey.game import cliutil
from latent_odyssey.game.capture import flightlog
from latent_odyssey.game.capture.encoder import RecorderError, VideoRecorder, frame_array
from latent_odyssey.game.capture.outlock import OutputLock
from latent_odyssey.game.cliutil import (
    MAX_SEED,
    Stopped,
    ensure_writable,
    refuse_clobber,
    signal_name,
    split_size,
)
from latent_odyssey.game.engine.app import FIXED_DT_S, Engine, EngineError, mode_reason
from latent_odyssey.game.engine.clock import FixedStep
from latent_odyssey.game.engine.input import user_controls_path
from latent_odyssey.game.model.modelfile import ModelMeta, open_model
from latent_odyssey.game.modes.faces.scene import MORPH_S
from latent_odyssey.game.modes.faces.state import FaceState, face_base
from latent_odyssey.game.modes.odyssey.tours import TOUR_KINDS
from latent_odyssey.game.modes.registry import MODES

DEFAULT_SECONDS = 10.0
DEFAULT_FPS = 30  # video frames per second (MP4)
DEFAULT_GIF_FPS = 25  # GIF delays are whole centiseconds: 25 fps is exact
DEFAULT_SIZE = (1280, 720)
DEFAULT_SEED = 0
MIN_SIDE_PX = 16
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


class RenderError(cliutil.InputError, ValueError):
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
    """The video size limits (``cliutil.check_size``: per side and in all); RenderError."""
    cliutil.check_size(size, (MIN_SIDE_PX, MIN_SIDE_PX), "Video size", RenderError)


def _parse_number(value: str, convert: Callable[[str], Any], in_range: Callable[[Any], bool],
                  not_a_number: str, out_of_range: str) -> Any:
    """``convert(value)`` when it parses and is ``in_range``, else RenderError with the
    sentence ``not_a_number`` / ``out_of_range`` (``{value}``: the number as parsed, ``{raw}``:
    as given; ``not_a_number`` gets ``{value}`` as given, quoted)."""
    try:
        number = convert(str(value).strip())
    except ValueError:
        raise RenderError(not_a_number.format(value=repr(value))) from None
    if not in_range(number):
        raise RenderError(out_of_range.format(value=number, raw=value))
    return number


def parse_fps(value: str) -> int:
    return _parse_number(value, int, lambda fps: 1 <= fps <= MAX_FPS,
                         "Frame rate {value} is not a whole number of frames per second.",
                         f"Frame rate {{value}} must be from 1 to {MAX_FPS} frames per second.")


def parse_seconds(value: str) -> float:
    return _parse_number(value, float, lambda s: math.isfinite(s) and 0.0 < s <= MAX_SECONDS,
                         "Duration {value} is not a number of seconds.",
                         f"Duration {{raw}} must be more than 0 and at most {MAX_SECONDS:g} seconds.")


def parse_seed(value: str) -> int:
    return _parse_number(value, int, lambda seed: 0 <= seed <= MAX_SEED,
                         "Seed {value} is not a whole number.",
                         f"Seed {{value}} must be from 0 to {MAX_SEED}.")


def parse_morph(value: str) -> tuple[int, int]:
    """``"3:17"`` -> (3, 17): the seeds of the two random faces."""
    m = re.fullmatch(r"\s*(\d{1,18})\s*:\s*(\d{1,18})\s*", str(value))
    if not m:
        raise RenderError(f"Morph {value!r} is not A_SEED:B_SEED, e.g. 3:17.")
    a, b = int(m.group(1)), int(m.group(2))
    if max(a, b) > MAX_SEED:
        raise RenderError(f"Morph seeds {value!r} must be from 0 to {MAX_SEED}.")
    return a, b


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


def check_not_inputs(out: Path, inputs: list[Path], log: bool) -> None:
    """Refuse an output (the video, or its flight log with ``log``) that is one of the
    command's inputs: ``inputs``, the models' encoders and the user's controls file."""
    outputs = [Path(out)] + ([flightlog.log_path_for(out)] if log else [])
    every = list(inputs) + [Path(p).with_name(Path(p).stem + ".encoder.onnx") for p in inputs]
    refuse_clobber(outputs, every + [user_controls_path()[0]], RenderError)


# ----------------------------------------------------------------------------- engine and frames


def headless_engine(model_path: Path, mode: str, size: tuple[int, int], seed: int | None,
                    provider: str = "auto") -> Any:
    """A windowless Engine in ``mode`` whose drawing surface is exactly ``size``.

    Raises RenderError when the model cannot be shown in that mode.
    """
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    cls = MODES.get(mode)
    if cls is None:
        raise RenderError(f"There is no mode called {mode!r}.")
    _session, meta = open_model(Path(model_path), "cpu")
    reason = mode_reason(cls, meta)
    if reason:
        reason = reason.rstrip(".").split("; press M")[0]
        raise RenderError(f"{reason}.")
    try:
        engine = Engine(model_path, MODES, mode=mode, provider=provider, size=size, headless=True, seed=seed)
    except EngineError as exc:
        raise RenderError(str(exc)) from None
    if engine.mode_name != mode:
        notices = [text for text, _ in engine.ctx.notices]
        engine.shutdown()
        raise RenderError(notices[-1] if notices else f"The {mode} mode could not start.")
    if engine.surface.get_size() != tuple(size):  # below the window minimum: the dummy driver obliges
        engine.surface = pygame.display.set_mode(size)
    engine.fixed = FixedStep(FIXED_DT_S, max_steps=NO_STEP_LIMIT)
    deterministic(engine)
    return engine


def deterministic(engine: Engine) -> None:
    """Stop the mode's background work (``freeze``): frames then depend on nothing but time."""
    if engine.mode_scene is not None:
        engine.mode_scene.freeze()


def switch_mode(engine: Any, mode: str) -> None:
    if not engine.switch_mode(mode):
        raise RenderError(f"Cannot show the {mode} mode with {engine.ctx.model.meta.name}.")
    deterministic(engine)


def switch_model(engine: Any, model_path: Path, mode: str) -> None:
    if not engine._set_model(Path(model_path)) or not engine._start_mode(mode):
        raise RenderError(f"Cannot show {model_path} in the {mode} mode.")
    deterministic(engine)


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
            self._write("\r" + self.text(done, now) + "\033[K")
        else:
            step = done * PROGRESS_LINES // self.total
            if step == self._last_step and done < self.total:
                return
            self._last_step = step
            self._write(self.text(done, now) + "\n")

    def _write(self, text: str) -> None:
        """Write and flush; a closed stderr (``2>&1 | head``) turns the bar off, not the render."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False

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
            self._write("\n")


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
    try:
        lock = OutputLock(out, RenderError).__enter__()  # another render of OUT: refused here
    except BaseException:
        engine.shutdown()
        raise
    try:
        return _render_locked(engine, out, size, fps, n_frames, step, gif, progress, log, preset)
    finally:
        lock.__exit__(None, None, None)


def _render_locked(engine: Any, out: Path, size: tuple[int, int], fps: int, n_frames: int,
                   step: Callable[[int, float], None], gif: bool, progress: bool, log: bool,
                   preset: str) -> RenderResult:
    """``render_frames`` once the output is locked (see there and the module docstring)."""
    try:
        recorder = VideoRecorder(out, size, fps=fps, gif=gif, blocking=True, crf=OFFLINE_CRF,
                                 preset=preset, queue_frames=RENDER_QUEUE_FRAMES, keep_on_error=False)
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
            recorder.abort()
            engine.shutdown()
            raise RenderError(f"Cannot write the flight log {log_path}: {exc.strerror or exc}.") from None
    captured: list[np.ndarray] = []

    def capture(surface: Any, _time_s: float) -> None:  # after the scene, before the HUD
        captured.append(frame_array(surface))  # (H, W, 3)

    engine.frame_listeners.append(capture)
    bar = Progress(n_frames, Path(out).name, enabled=progress)
    start = time.perf_counter()
    done = 0
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
    except (KeyboardInterrupt, Stopped) as exc:  # keep what was rendered: video and flight log
        bar.close()
        path = recorder.close()
        kept_log = writer.close(keep=path is not None) if writer is not None else None
        engine.shutdown()
        signum = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        raise Stopped(signum, stopped_message(signum, path, kept_log, recorder.frames_written)) from None
    except BaseException:
        bar.close()
        recorder.abort()
        if writer is not None:
            writer.close(keep=False)
        engine.shutdown()
        raise
    bar.close()
    engine.shutdown()
    if writer is not None and writer.error:  # a video without its flight log is a failed render
        recorder.abort()
        writer.close(keep=False)
        raise RenderError(writer.error)
    path = recorder.close()
    wall = time.perf_counter() - start
    if path is None or recorder.error:
        if writer is not None:
            writer.close(keep=False)
        raise RenderError(recorder.error or f"Cannot write video to {out}.")
    log_path = writer.close(keep=True) if writer is not None else None
    if writer is not None and writer.error:
        raise RenderError(f"{writer.error.rstrip('.')}; the video {path} was written without it.")
    return RenderResult(path, done, tuple(size), fps, wall, log_path)


def stopped_message(signum: int, video: Path | None, log: Path | None, frames: int) -> str:
    """One sentence: what a stopped render kept."""
    what = "Interrupted" if signum == signal.SIGINT else f"Stopped by {signal_name(signum)}"
    if video is None:
        return f"{what}; nothing was written."
    also = f" and its flight log {log}" if log is not None else ""
    return f"{what}; kept the {frames} frames rendered so far in {video}{also}."


# ----------------------------------------------------------------------------- tours and morphs


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
    if tour not in TOUR_KINDS:
        raise RenderError(f"Unknown tour {tour!r}; choose one of {', '.join(TOUR_KINDS)}.")
    out, gif = check_output(out, gif)
    check_size(size)
    check_not_inputs(out, [Path(model_path)], log)
    n_frames = max(1, round(seconds * fps))

    def setup(engine: Engine) -> None:
        scene = engine.mode_scene
        scene.tunnel = bool(tunnel)
        scene.grid = bool(grid)
        scene.start_tour(tour, seed=seed)

    return _render_simulated(model_path, "odyssey", seed, provider, setup, out, size, fps, n_frames,
                             gif, progress, log, preset)


def random_face(meta: ModelMeta, seed: int) -> np.ndarray:
    """The Face studio's opening face under ``seed`` (``faces.face_base`` with ``default_rng(seed)``).  # (D,)"""
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
    out, gif = check_output(out, gif)
    check_size(size)
    check_not_inputs(out, [Path(model_path)], log)
    seconds = MORPH_S if seconds is None else seconds
    n_frames = max(1, round(seconds * fps))

    def setup(engine: Engine) -> None:
        scene = engine.mode_scene
        k = scene.n_attrs
        scene.state = FaceState(random_face(scene.meta, a_seed), np.zeros(k))
        scene.save("A")
        scene.state = FaceState(random_face(scene.meta, b_seed), np.zeros(k))
        scene.save("B")
        scene.load("A")
        scene.morph()
        if scene.anim is not None:
            # the last frame is exactly B (simulation time moves in whole FIXED_DT_S steps)
            scene.anim.duration = max(FIXED_DT_S, (n_frames - 1) / fps - FIXED_DT_S)
        engine.ctx.notices.clear()

    return _render_simulated(model_path, "faces", a_seed, provider, setup, out, size, fps, n_frames,
                             gif, progress, log, preset)


def _render_simulated(model_path: Path, mode: str, seed: int, provider: str,
                      setup: Callable[[Engine], None], out: Path, size: tuple[int, int], fps: int,
                      n_frames: int, gif: bool, progress: bool, log: bool, preset: str) -> RenderResult:
    """A headless engine in ``mode``, put in its starting state by ``setup(engine)`` (the engine
    is shut down if that fails), then simulated for ``n_frames`` frames and encoded."""
    engine = headless_engine(model_path, mode, size, seed, provider)
    try:
        setup(engine)
    except BaseException:
        engine.shutdown()
        raise

    def step(i: int, dt: float) -> None:
        engine.loop_once(dt)

    return render_frames(engine, out, size, fps, n_frames, step, gif=gif, progress=progress,
                         log=log, preset=preset)
