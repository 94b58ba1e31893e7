"""Frame-time scenes of the benchmark suite: ``Engine.loop_once(dt)`` as the game runs it.

Each scene starts a fresh headless :class:`game.play.Game` (SDL dummy driver, default
1280x720, seed 0) in its mode, sets the scene up (through the scene's own state and
methods, or real key events posted to pygame's queue, as a player would), then times
``warmup + frames`` calls of ``loop_once(FRAME_DT_S)``: events, input, global actions,
``handle``, two fixed 1/120 s ``update`` steps, ``draw``, frame listeners, HUD and the
(dummy) ``flip``, with no sleep. Everything the shipped game does runs: the decoder cache,
the Odyssey's decode-ahead worker thread, the HUD. Samples are wall times (ms) of the
measured frames; ``cpu_median_ms`` is the frame thread's own CPU time (``time.thread_time``),
which is what a frame costs when nothing else competes for the cores.

Scenes (:data:`SCENES`)
-----------------------
* ``navigator_moving``     Navigator, ``move_x`` held (D), reversing (A) every 90 frames.
* ``odyssey_field``        Odyssey's default view, the field of images + HUD: manual flight,
                           thrust held (W) with yaw right (D), none, yaw left (A), roll right
                           (E) for 45 frames each, so the ship moves, turns and rolls (the
                           billboards turn with it); grid off; the field's worker streams the
                           frontier.
* ``odyssey_field_tunnel_grid``  the same flight with the 3x3 grid on, the view switching
                           field -> tunnel (8 layers) -> field every 120 frames (T), so both
                           views, the switches and the grid are in the numbers.
* ``odyssey_flight``       Odyssey, manual flight: thrust held (W), yaw right / none / left /
                           none for 45 frames each; tunnel on (8 layers), grid off.
* ``odyssey_tunnel_grid``  Odyssey, autopilot on the centroid tour (``start_tour``), tunnel
                           8 layers + the 3x3 grid + HUD: 17 images a frame.
* ``autopilot_tour``       Odyssey, autopilot on the centroid tour, tunnel 8 layers, no grid.
* ``face_studio_grid``     Face Studio with the attribute grid on, the slider key held (D) so
                           every frame is a slider change (slider 0 sweeps -3 -> +3; at the end
                           it jumps back and slider 1 moves a little, so no face repeats).

``record=True`` (the ``*_rec`` entries) starts the in-game recorder first
(``engine.recording.start()`` into a temporary folder: a 30 FPS H.264 video on the
recorder's worker thread plus the flight log), exactly what F9 does.

``measure(name, model_path, ...) -> dict`` runs one scene; a mode that cannot show the model
raises :class:`SceneSkipped` with the game's own reason.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import stats

FRAME_DT_S = 1.0 / 60.0  # simulated time per frame (the engine steps 2 x 1/120 s)
SIZE = (1280, 720)
SEED = 0
SWING_FRAMES = 90  # navigator: frames between direction reversals
YAW_PHASE_FRAMES = 45  # odyssey_flight / _field: frames per yaw phase (right, none, left, none / roll)
VIEW_SWITCH_FRAMES = 120  # odyssey_field_tunnel_grid: frames between field / tunnel switches
TOUR = "centroids"
TUNNEL_LAYERS = 8
FACE_NUDGE = 0.0137  # face_studio_grid: slider 1 moves this much at each sweep's end


class SceneSkipped(RuntimeError):
    """The scene cannot run with this model (one sentence)."""


@dataclass(frozen=True)
class SceneSpec:
    mode: str
    setup: Callable[[Any], None]  # (engine) -> None, after the engine started
    keys: Callable[[int], set[str]]  # frame index -> names of the keys held during that frame
    each_frame: Callable[[Any, int], None] | None = None  # (engine, i) before the frame


def _no_setup(engine: Any) -> None:
    return None


def _navigator_keys(i: int) -> set[str]:
    return {"d" if (i // SWING_FRAMES) % 2 == 0 else "a"}


def _flight_keys(i: int) -> set[str]:
    phase = (i // YAW_PHASE_FRAMES) % 4
    return {"w", "d"} if phase == 0 else {"w", "a"} if phase == 2 else {"w"}


def _field_keys(i: int) -> set[str]:
    phase = (i // YAW_PHASE_FRAMES) % 4
    return [{"w", "d"}, {"w"}, {"w", "a"}, {"w", "e"}][phase]


def _switching_keys(i: int) -> set[str]:
    keys = _field_keys(i)
    return keys | {"t"} if i % VIEW_SWITCH_FRAMES == VIEW_SWITCH_FRAMES - 1 else keys


def _field(engine: Any, grid: bool) -> None:
    scene = engine.mode_scene
    scene.tunnel = False
    scene.layer_count = TUNNEL_LAYERS
    scene.grid = grid
    engine.ctx.show_hud = True


def _odyssey(engine: Any, grid: bool, tour: bool) -> None:
    scene = engine.mode_scene
    scene.tunnel = True
    scene.layer_count = TUNNEL_LAYERS
    scene.grid = grid
    engine.ctx.show_hud = True
    if tour:
        scene.start_tour(TOUR, seed=SEED)


def _face_setup(engine: Any) -> None:
    from latent_odyssey.game.modes.faces.scene import SLIDER_MIN

    scene = engine.mode_scene
    if scene.n_attrs == 0:
        raise SceneSkipped(f"{engine.ctx.model.meta.name} has no attribute directions")
    scene.show_grid = True
    scene.selected = 0
    scene.set_slider(0, SLIDER_MIN)


def _face_frame(engine: Any, i: int) -> None:
    from latent_odyssey.game.modes.faces.scene import SLIDER_MAX, SLIDER_MIN

    scene = engine.mode_scene
    if scene.state.sliders[0] >= SLIDER_MAX - 1e-9:  # end of a sweep: start again, elsewhere
        scene.set_slider(0, SLIDER_MIN)
        if scene.n_attrs > 1:
            scene.set_slider(1, scene.state.sliders[1] + FACE_NUDGE)


SCENES: dict[str, SceneSpec] = {
    "navigator_moving": SceneSpec("navigator", _no_setup, _navigator_keys),
    "odyssey_field": SceneSpec("odyssey", lambda e: _field(e, grid=False), _field_keys),
    "odyssey_field_tunnel_grid": SceneSpec("odyssey", lambda e: _field(e, grid=True), _switching_keys),
    "odyssey_flight": SceneSpec("odyssey", lambda e: _odyssey(e, grid=False, tour=False), _flight_keys),
    "odyssey_tunnel_grid": SceneSpec("odyssey", lambda e: _odyssey(e, grid=True, tour=True), lambda i: set()),
    "autopilot_tour": SceneSpec("odyssey", lambda e: _odyssey(e, grid=False, tour=True), lambda i: set()),
    "face_studio_grid": SceneSpec("faces", _face_setup, lambda i: {"d"}, _face_frame),
}


def _post_keys(held: set[str], want: set[str]) -> None:
    """Post KEYUP/KEYDOWN events turning the keys ``held`` into ``want``."""
    import pygame

    for name in sorted(held - want):
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=getattr(pygame, f"K_{name}"), mod=0))
    for name in sorted(want - held):
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=getattr(pygame, f"K_{name}"), mod=0))


def _start_engine(name: str, model_path: Path, size: tuple[int, int]) -> Any:
    from latent_odyssey.game.engine.app import EngineError
    from latent_odyssey.game.play import Game

    mode = SCENES[name].mode
    try:
        engine = Game(model_path, mode=mode, headless=True, size=size, seed=SEED)
    except EngineError as exc:
        raise SceneSkipped(str(exc)) from None
    if engine.mode_name != mode:
        notices = [text for text, _ in engine.ctx.notices]
        engine.shutdown()
        raise SceneSkipped(notices[-1] if notices else f"the {mode} mode could not start")
    return engine


def measure(name: str, model_path: Path | str, frames: int, warmup: int,
            size: tuple[int, int] = SIZE, record: bool = False) -> dict[str, Any]:
    """Frame-time statistics (ms) of scene ``name`` (see the module docstring)."""
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    spec = SCENES[name]
    model_path = Path(model_path)
    engine = _start_engine(name, model_path, size)
    tmp = tempfile.TemporaryDirectory(prefix="odyssey-bench-rec-")
    try:
        spec.setup(engine)
        take = None
        if record:
            engine.recording.folder = Path(tmp.name)
            if not engine.recording.start():
                raise SceneSkipped(f"recording cannot start: {engine.recording.last_error}")
            take = engine.recording.take
        decoder = engine.ctx.model.decoder
        held: set[str] = set()
        times: list[float] = []
        cpu: list[float] = []
        runs0 = images0 = 0
        for i in range(warmup + frames):
            want = spec.keys(i)
            if want != held:
                _post_keys(held, want)
                held = want
            if spec.each_frame is not None:
                spec.each_frame(engine, i)
            if i == warmup:
                runs0, images0 = decoder.runs, decoder.images_decoded
            t0, c0 = time.perf_counter(), time.thread_time()
            engine.loop_once(FRAME_DT_S)
            t1, c1 = time.perf_counter(), time.thread_time()
            if i >= warmup:
                times.append((t1 - t0) * 1000.0)
                cpu.append((c1 - c0) * 1000.0)
        out: dict[str, Any] = stats(times)
        out["cpu_median_ms"] = round(float(np.median(cpu)), 3)
        # onnxruntime runs and images decoded per measured frame, all threads (the
        # Odyssey's decode-ahead worker shares the decoder)
        out["decode_runs_per_frame"] = round((decoder.runs - runs0) / frames, 3)
        out["images_decoded_per_frame"] = round((decoder.images_decoded - images0) / frames, 3)
        out["model"] = engine.ctx.model.meta.name
        out["mode"] = spec.mode
        out["size"] = f"{size[0]}x{size[1]}"
        out["recording"] = record
        if name.startswith("odyssey") or name == "autopilot_tour":
            out["images_per_frame"] = engine.mode_scene.last_batch_size
        if take is not None:
            engine.recording.stop(wait=True)
            out["video_frames"] = take.frames
            out["video_dropped"] = int(getattr(take.recorder, "dropped", 0))
            if engine.recording.last_error:
                out["recording_error"] = engine.recording.last_error
        return out
    finally:
        engine.shutdown()
        tmp.cleanup()
