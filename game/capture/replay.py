"""Replay: re-render a flight log at any size and frame rate.

``odyssey replay LOG OUT.mp4 [--size WxH] [--fps F]`` opens a headless engine on the logged
model and mode, and for each output frame ``i`` restores the state at ``t = i / F``
(interpolated between the two log lines around it, ``flightlog.FlightLog.state_at``) through
the mode's protocol ``restore`` and draws it without advancing the simulation, encoding with
a blocking recorder so that no frame is dropped.
"""

from __future__ import annotations

import math
from pathlib import Path

from latent_odyssey.game import paths
from latent_odyssey.game.capture import render
from latent_odyssey.game.capture.flightlog import (
    FlightLog,
    FlightLogError,
    read_flight_log,
    restore_scene,
)
from latent_odyssey.game.engine.scene import state_array


def resolve_log_model(log: FlightLog, line: dict) -> Path:
    """The decoder file a log line names: its logged path, else by name in the model folders."""
    for candidate in (line.get("model_path"), log.header.get("model_path")):
        if isinstance(candidate, str) and candidate:
            p = Path(candidate)
            if p.is_file() and paths.model_display_name(p) == line["model"]:
                return p
    found = paths.find_model(line["model"])
    if found is None:
        sibling = log.path.parent / f"{line['model']}.onnx"
        if sibling.is_file():
            return sibling
        raise FlightLogError(
            f"The model {line['model']!r} this flight was recorded with is not installed; "
            f"put {line['model']}.onnx in {paths.pretrained_dir()} or $ODYSSEY_MODELS."
        )
    return found


def replay(
    log_path: Path,
    out: Path,
    size: tuple[int, int] | None = None,
    fps: int | None = None,
    gif: bool | None = None,
    provider: str = "auto",
    progress: bool = True,
) -> render.RenderResult:
    """Re-render a flight log to ``out``; returns a :class:`render.RenderResult`.

    Raises FlightLogError / RenderError (one sentence) for bad input.
    """
    log = read_flight_log(log_path)
    if size is None:
        logged = state_array(log.header, "size", 2)
        if logged is None or not all(v >= 1 for v in logged):
            raise FlightLogError(f"Flight log {log.path} has no valid size; pass --size WxH.")
        size = (int(logged[0]), int(logged[1]))
    if fps is None:
        logged_fps = log.header.get("fps")
        fps = int(logged_fps) if isinstance(logged_fps, (int, float)) and 1 <= logged_fps <= 240 else 30
    out, gif = render.check_output(Path(out), gif)
    render.check_size(size)
    first = log.lines[0]
    model_path = resolve_log_model(log, first)
    seed = log.header.get("seed") if isinstance(log.header.get("seed"), int) else None
    n_frames = int(math.floor(log.duration * fps + 1e-6)) + 1
    engine = render.headless_engine(model_path, first["mode"], size, seed, provider)
    current = (first["model"], first["mode"])

    def frame(i: int, dt: float) -> None:
        nonlocal current
        line = log.state_at(i / fps)
        if (line["model"], line["mode"]) != current:
            if line["model"] != current[0]:
                render.switch_model(engine, resolve_log_model(log, line), line["mode"])
            else:
                render.switch_mode(engine, line["mode"])
            current = (line["model"], line["mode"])
            dt = 0.0
        scene = engine.mode_scene
        if scene is not None:
            restore_scene(scene, line.get("state") or {}, line.get("z"), dt)
        engine.loop_once(0.0)  # draw the restored state; the simulation does not move

    return render.render_frames(engine, out, size, fps, n_frames, frame, gif=gif, progress=progress)
