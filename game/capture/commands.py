"""The ``odyssey record`` and ``odyssey replay`` commands (argument parsing, reporting) on top
of ``capture.render`` and ``capture.replay``; exit statuses come from the errors' classes
through ``cliutil.run_cli``."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latent_odyssey.game import paths
from latent_odyssey.game.capture.encoder import install_signal_finalizers
from latent_odyssey.game.capture.render import (
    DEFAULT_FPS,
    DEFAULT_GIF_FPS,
    DEFAULT_SECONDS,
    DEFAULT_SEED,
    DEFAULT_SIZE,
    RenderError,
    RenderResult,
    parse_fps,
    parse_morph,
    parse_seconds,
    parse_seed,
    parse_size,
    render_morph,
    render_tour,
)
from latent_odyssey.game.capture.replay import replay
from latent_odyssey.game.modes.odyssey.tours import TOUR_KINDS

DEFAULT_TOUR_MODEL = "mnist-3d"
DEFAULT_MORPH_MODEL = "faces"


def _argtype(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type=`` from a parser that raises RenderError (argparse shows its sentence)."""
    def convert(value: str) -> Any:
        try:
            return parse(value)
        except RenderError as exc:
            raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None

    convert.__name__ = parse.__name__.replace("parse_", "")
    return convert


def add_record_parser(sub: Any) -> Any:
    """Register ``odyssey record`` on an argparse subparsers object."""
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
    """Run a render command and report it. Failures propagate as one-sentence errors
    (``cliutil.InputError``: RenderError, FlightLogError, ModelFileError, ControlsError;
    ``cliutil.Stopped`` for SIGTERM / SIGHUP / Ctrl-C, with what was kept), which the
    ``odyssey`` command's ``cliutil.run_cli`` prints with their exit status."""
    install_signal_finalizers()
    _report(command())
    return 0


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
    return _run(lambda: replay(args.log, args.out, args.size, args.fps,
                                         True if args.gif else None, args.provider, not args.quiet))
