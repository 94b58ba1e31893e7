"""The ``odyssey`` command: play the explorer, or describe a model file.

Usage::

    odyssey --version
    odyssey [play] [--model NAME|PATH | --live RUN] [--mode navigator|odyssey|faces]
                   [--provider auto|cpu|cuda] [--size WxH] [--fullscreen]
                   [--headless] [--frames N] [--screenshot PATH] [--seed S] [--image FILE]
                   [--mute]
    odyssey info MODEL
    odyssey encode FILE... [--model NAME|PATH] [--json]
    odyssey record OUT.mp4 [--model M] [--tour centroids|dense|random] [--seconds S] [--fps F]
                   [--size WxH] [--tunnel] [--grid] [--seed N] [--gif] [--morph A_SEED:B_SEED]
    odyssey replay LOG OUT.mp4 [--size WxH] [--fps F]
    odyssey web MODEL DIR [--ort-url URL | --ort-dir DIST] [--serve] [--port N]

Plain ``odyssey`` plays the shipped ``mnist-2d`` model (``mnist-3d`` for ``--mode odyssey``,
``faces`` for ``--mode faces``, when shipped). ``--frames N --screenshot PATH`` runs N frames
and saves the last one as a PNG; with ``--headless`` it renders on SDL's dummy driver with a
fixed 1/60 s per frame, so the result is deterministic. Every bad input prints one sentence
to stderr and exits with status 2 (1 for a model or runtime problem); Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from latent_odyssey import __version__  # noqa: E402
from latent_odyssey.game import encodecmd, paths  # noqa: E402
from latent_odyssey.game.capture import commands  # noqa: E402
from latent_odyssey.game.capture.encoder import install_signal_finalizers  # noqa: E402
from latent_odyssey.game.cliutil import (  # noqa: E402
    InputError,
    OneSentenceParser,
    check_size,
    ensure_writable,
    one_line,
    os_reason,
    positive_int,
    refuse_clobber,
    run_cli,
    seed_int,
    split_size,
)
from latent_odyssey.game.engine.app import MIN_SIZE, EngineError  # noqa: E402
from latent_odyssey.game.engine.live import LiveReload  # noqa: E402
from latent_odyssey.game.engine.waiting import WaitingScreen  # noqa: E402
from latent_odyssey.game.model.imagefile import ImageFileError, read_image  # noqa: E402
from latent_odyssey.game.model.live import live_paths  # noqa: E402
from latent_odyssey.game.model.modelfile import ModelMeta, open_model  # noqa: E402
from latent_odyssey.game.modes.registry import MODES  # noqa: E402
from latent_odyssey.game.play import Game  # noqa: E402
from latent_odyssey.game.web import commands as web_commands  # noqa: E402

DEFAULT_MODELS = {"navigator": "mnist-2d", "odyssey": "mnist-3d", "faces": "faces"}
INVISIBLE_DRIVERS = ("offscreen", "dummy")  # SDL video drivers that show nothing on screen


class UsageError(InputError):
    """A bad command-line value; the message is one sentence."""


def parse_size(value: str) -> tuple[int, int]:
    """``"1280x720"`` -> (1280, 720); raises argparse.ArgumentTypeError with one sentence."""
    size = split_size(value)
    if size is None:
        raise argparse.ArgumentTypeError(f"window size {value!r} is not WIDTHxHEIGHT, e.g. 1280x720")
    return check_size(size, MIN_SIZE, "window size", lambda text: argparse.ArgumentTypeError(text.rstrip(".")),
                      repr(value))


def no_display(environ: dict[str, str] | None = None) -> bool:
    """True when a window could not be seen: on Linux and the BSDs, no X11 or Wayland display
    is named and no SDL video driver was chosen (SDL would fall back to its invisible
    offscreen driver and the game would run unseen)."""
    env = os.environ if environ is None else environ
    if env.get("SDL_VIDEODRIVER"):
        return False
    unix_desktop = sys.platform.startswith("linux") or "bsd" in sys.platform
    return unix_desktop and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


NO_DISPLAY = ("There is no display to open a window on (no DISPLAY or WAYLAND_DISPLAY is set); "
              "run with --headless --frames N to render without one.")


def build_parser() -> OneSentenceParser:
    parser = OneSentenceParser(
        prog="odyssey",
        description="Fly through the latent space of Variational Autoencoders.",
        epilog="Plain 'odyssey' is 'odyssey play'. Press F1 in the game for the controls.",
    )
    parser.add_argument("--version", action="version", version=f"odyssey {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="{play,info,record,replay,encode,web}")
    play = sub.add_parser("play", help="play the explorer (the default)", description="Play the explorer.")
    play.add_argument("--model", metavar="NAME|PATH", help="a shipped model name (mnist-2d) or a path to a .onnx decoder")
    play.add_argument("--mode", choices=tuple(MODES), default="navigator", help="the mode to start in (default navigator)")
    play.add_argument("--provider", choices=("auto", "cpu", "cuda"), default="auto", help="ONNX Runtime provider (default auto)")
    play.add_argument("--size", type=parse_size, default=(1280, 720), metavar="WxH", help="window size (default 1280x720)")
    play.add_argument("--fullscreen", action="store_true", help="start in fullscreen (F11 toggles)")
    play.add_argument("--headless", action="store_true", help="no window: SDL dummy driver, fixed 1/60 s per frame (needs --frames)")
    play.add_argument("--frames", type=positive_int, metavar="N", help="stop after N frames")
    play.add_argument("--screenshot", type=Path, metavar="PATH", help="save the last frame as a PNG")
    play.add_argument("--seed", type=seed_int, metavar="S", help="seed for random jumps (default: fresh each run)")
    play.add_argument("--mute", action="store_true", help="no sound (F8 toggles it in the game)")
    play.add_argument("--image", type=Path, metavar="FILE", help="encode this picture and show it (as a dropped file)")
    play.add_argument("--live", type=Path, metavar="RUN",
                      help="play a training run's newest epoch (odyssey-train ... --live --out RUN): the run "
                           "folder, its live/ folder or live/model.onnx; waits for the first epoch")
    info = sub.add_parser("info", help="describe a model file", description="Print a model's metadata.")
    info.add_argument("model", metavar="MODEL", help="a shipped model name or a path to a .onnx decoder")
    commands.add_record_parser(sub)
    commands.add_replay_parser(sub)
    encodecmd.add_encode_parser(sub)
    web_commands.add_web_parser(sub)
    return parser


def check_screenshot_path(path: Path) -> Path:
    """The screenshot path, its folder created; raises UsageError if it cannot be written."""
    if path.suffix.lower() != ".png":
        raise UsageError(f"Screenshot path {path} must end in .png.")
    if path.is_dir():
        raise UsageError(f"Screenshot path {path} is a folder; give a file name ending in .png.")
    return ensure_writable(path, UsageError, "the screenshot")


def cmd_play(args: argparse.Namespace) -> int:
    if args.headless and args.frames is None:
        raise UsageError("--headless needs --frames N, since there is no window to close.")
    live = live_paths(args.live) if args.live is not None else None
    if live is not None:
        if args.model is not None:
            raise UsageError("--live and --model both say which model to play; give one of them.")
        if args.live.exists() and not args.live.is_dir() and args.live.suffix != ".onnx":
            raise UsageError(f"--live {args.live} is a file but not an .onnx model; give the run folder.")
        path = live.model
    elif args.model is None:
        name = DEFAULT_MODELS[args.mode]
        path = paths.find_model(name) or paths.find_model(paths.DEFAULT_MODEL)
        if path is None:
            raise UsageError(
                f"The shipped model {name} is missing from {paths.pretrained_dir()}; "
                f"pass --model PATH to a .onnx decoder."
            )
    else:
        path = paths.require_model(args.model, UsageError)
    screenshot = check_screenshot_path(args.screenshot) if args.screenshot is not None else None
    if screenshot is not None:
        refuse_clobber([screenshot], [path], UsageError)
    if not args.headless and no_display():
        raise UsageError(NO_DISPLAY)
    if args.image is not None:
        try:
            read_image(args.image)  # a bad file is one sentence before any window opens
        except ImageFileError as exc:
            raise UsageError(str(exc)) from None

    frames, seen = args.frames, None
    if live is not None:  # the game may start before training: wait for the first epoch's model
        try:
            waiting = WaitingScreen(live, args.provider, args.size, args.fullscreen, args.headless)
        except pygame.error as exc:
            raise UsageError(f"Cannot open a window ({exc}); try --headless --frames N.") from None
        ready = waiting.run(frames, screenshot)
        waiting.close()
        if not ready:
            return 0
        seen = waiting.signature
        frames = None if frames is None else max(1, frames - waiting.frames)
    try:
        engine = Game(
            path, mode=args.mode, provider=args.provider, size=args.size,
            fullscreen=args.fullscreen, headless=args.headless, seed=args.seed, mute=args.mute,
        )
    except EngineError as exc:
        raise UsageError(str(exc)) from None
    except pygame.error as exc:
        raise UsageError(f"Cannot open a window ({exc}); try --headless --frames N.") from None
    if not args.headless and not os.environ.get("SDL_VIDEODRIVER") and pygame.display.get_driver() in INVISIBLE_DRIVERS:
        engine.shutdown()  # SDL found no display and fell back to a driver that shows nothing
        raise UsageError(NO_DISPLAY)
    install_signal_finalizers()  # SIGTERM / SIGHUP still leave playable recordings
    if live is not None:
        LiveReload(live, args.provider, seen=seen).attach(engine)
    if args.image is not None:
        engine.open_image(args.image)
    try:
        engine.run(frames=frames, screenshot=screenshot)
    except (OSError, pygame.error) as exc:
        raise UsageError(f"Cannot write the screenshot {screenshot}: {screenshot_reason(exc)}.") from None
    return 0


def screenshot_reason(exc: BaseException) -> str:
    """Why a screenshot could not be written, in words."""
    return os_reason(exc) if isinstance(exc, OSError) else one_line(str(exc)).rstrip(".")


def _fmt(v: float) -> str:
    return f"{v:+.3f}"


def describe(meta: ModelMeta, path: Path) -> str:
    """The model's metadata as readable text."""
    lines: list[str] = []
    add = lines.append
    size = path.stat().st_size if path.exists() else 0
    c, h, w = meta.image_shape
    add(f"{meta.name}  ({meta.kind}, dataset {meta.dataset})")
    add(f"  file            {path}  ({size / 1e6:.1f} MB, format version {meta.format_version})")
    add(f"  latent dim      {meta.latent_dim}")
    add(f"  image shape     {c} x {h} x {w} (C x H x W), values in [{meta.value_range[0]:g}, {meta.value_range[1]:g}]")
    classes = ", ".join(meta.class_names) if meta.class_names else "none"
    add(f"  classes ({len(meta.class_names)})    {classes}")
    encoder = "none"
    if meta.encoder_file:
        there = path.with_name(meta.encoder_file).is_file()
        encoder = f"{meta.encoder_file} ({'present' if there else 'missing'})"
    add(f"  encoder file    {encoder}")
    add(f"  attributes      {', '.join(meta.attributes) if meta.attributes else 'none'}")
    add(f"  sample points   {len(meta.sample_z)} encoded training points")
    density = meta.fitted_density()
    add(f"  density         {density.describe() + ' (random faces and warps; Face Studio: O, [ ])' if density else 'none (random latents from N(0, I))'}")
    add("")
    dims = list(range(meta.latent_dim))
    shown = dims[:8]
    more = f"  (+{meta.latent_dim - len(shown)} more dims)" if len(dims) > len(shown) else ""
    header = "  " + " " * 16 + "".join(f"{'z' + str(d):>9}" for d in shown)
    add("  latent bounds" + (f" (percentiles {meta.latent_percentiles[0]:g}-{meta.latent_percentiles[1]:g})") + more)
    add(header)
    for label, values in (("lo", meta.latent_lo), ("hi", meta.latent_hi), ("mean", meta.latent_mean), ("std", meta.latent_std)):
        add(f"  {label:<16}" + "".join(f"{_fmt(values[d]):>9}" for d in shown))
    if meta.class_names:
        add("")
        add("  centroids")
        add(header)
        for name, cen in zip(meta.class_names, meta.centroids, strict=True):
            add(f"  {name[:16]:<16}" + "".join(f"{_fmt(cen[d]):>9}" for d in shown))
    if meta.metrics:
        add("")
        add("  metrics")
        for key, value in meta.metrics.items():
            add(f"    {key:<26} {_value(value)}")
    if meta.training:
        add("")
        add("  training")
        for key, value in meta.training.items():
            add(f"    {key:<26} {_value(value)}")
    return "\n".join(lines)


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_value(v)}" for k, v in value.items())
    return str(value)


def cmd_info(args: argparse.Namespace) -> int:
    path = paths.require_model(args.model, UsageError)
    _session, meta = open_model(path, "cpu")
    print(describe(meta, path))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``odyssey`` console script; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in ("play", "info", "record", "replay", "encode", "web", "-h", "--help", "--version")):
        argv = ["play", *argv]
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error already reported (2)
        return int(exc.code or 0)
    return run_cli("odyssey", lambda: run_command(args))


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed subcommand; ``run_cli`` turns its failures (InputError, signals, a
    closed stdout, OSError) into one sentence and an exit status."""
    if args.command == "web":
        return web_commands.cmd_web(args)
    if args.command == "encode":
        return encodecmd.cmd_encode(args)
    if args.command in ("record", "replay"):
        return commands.cmd_record(args) if args.command == "record" else commands.cmd_replay(args)
    return cmd_info(args) if args.command == "info" else cmd_play(args)


if __name__ == "__main__":
    sys.exit(main())
