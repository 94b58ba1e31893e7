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
    check_state_types,
    read_flight_log,
    restore_scene,
)
from latent_odyssey.game.cliutil import one_line, quote
from latent_odyssey.game.model.modelfile import open_model

DEFAULT_REPLAY_FPS = 30  # when the log names no frame rate
# what a mode's restore() or a frame drawn from a hostile (but well-typed) state may raise
STATE_ERRORS = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
                ZeroDivisionError)
REASON_CHARS = 100  # longest exception text quoted in a sentence


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
            f"The model {quote(line['model'])} this flight was recorded with is not installed; "
            f"put {quote(line['model'])[1:-1]}.onnx in {paths.pretrained_dir()} or $ODYSSEY_MODELS."
        )
    return found


def log_models(log: FlightLog) -> dict[str, Path]:
    """{model name: decoder file} for every model the log shows; checks that every latent
    ``z`` has as many numbers as its model has dimensions (and the header's ``latent_dim``)."""
    found: dict[str, Path] = {}
    dims: dict[str, int] = {}
    for line, n in zip(log.lines, log.numbers, strict=True):
        name = line["model"]
        if name not in found:
            found[name] = resolve_log_model(log, line)
            dims[name] = open_model(found[name], "cpu")[1].latent_dim
        z = line.get("z")
        if z is not None and len(z) != dims[name]:
            raise FlightLogError(f"Line {n} of {log.path} has a latent of {len(z)} numbers, but the model "
                                 f"{name} has {dims[name]} dimensions.")
    head_dim, head_model = log.header.get("latent_dim"), log.header.get("model")
    if head_dim is not None and head_model in dims and head_dim != dims[head_model]:
        raise FlightLogError(f"The header of {log.path} says latent_dim {head_dim}, but the model "
                             f"{head_model} has {dims[head_model]} dimensions.")
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

    Raises FlightLogError / RenderError / ModelFileError (one sentence) for bad input; an
    ``out`` that is the log itself or one of its models is refused before anything is written.
    """
    log = read_flight_log(log_path)
    if size is None:
        logged = log.header.get("size")  # validated by read_flight_log
        if logged is None:
            raise FlightLogError(f"Flight log {log.path} has no video size; pass --size WxH.")
        size = (int(logged[0]), int(logged[1]))
    if fps is None:
        fps = int(log.header.get("fps") or DEFAULT_REPLAY_FPS)
    out, gif = render.check_output(Path(out), gif)
    render.check_size(size)
    models = log_models(log)
    render.check_not_inputs(out, [log.path, *models.values()], log=False)
    first = log.lines[0]
    seed = log.header.get("seed")
    n_frames = int(math.floor(log.duration * fps + 1e-6)) + 1
    engine = render.headless_engine(models[first["model"]], first["mode"], size, seed, provider)
    current = (first["model"], first["mode"])
    checked: set[tuple[str, str]] = set()

    def frame(i: int, dt: float) -> None:
        nonlocal current
        t = i / fps
        line = log.state_at(t)
        if (line["model"], line["mode"]) != current:
            if line["model"] != current[0]:
                render.switch_model(engine, models[line["model"]], line["mode"])
            else:
                render.switch_mode(engine, line["mode"])
            current = (line["model"], line["mode"])
            dt = 0.0
        if current not in checked and engine.mode_scene is not None:  # the scene's own types
            check_state_types(log, *current, engine.mode_scene.snapshot())
            checked.add(current)
        try:
            scene = engine.mode_scene
            if scene is not None:
                restore_scene(scene, line.get("state") or {}, line.get("z"), dt)
            engine.loop_once(0.0)  # draw the restored state; the simulation does not move
        except STATE_ERRORS as exc:
            reason = one_line(str(exc))[:REASON_CHARS] or "it does not fit the mode"
            raise FlightLogError(f"Line {log.line_number(t)} of {log.path} holds a {line['mode']} state "
                                 f"that cannot be shown ({reason}).") from None

    return render.render_frames(engine, out, size, fps, n_frames, frame, gif=gif, progress=progress)
