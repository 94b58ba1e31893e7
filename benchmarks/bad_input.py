"""The bad-input battery: every command fed what a new user, or a careless script, would feed it.

    python -m benchmarks.bad_input [--only TEXT] [--family TEXT] [--fuzz N] [--seed S]
                                   [--list] [--verbose] [--json PATH] [--keep DIR]

Runs ``odyssey play/info/record/replay``, ``odyssey-train`` and ``odyssey-export`` on bad
command-line values, bad and hostile files (flight logs, controls files, model files, data
sets, checkpoints, metrics), outputs that are the command's own inputs, full and read-only
disks, a closed stdout, signals mid-write and two writers at once, each as a real command
(``benchmarks.clirun``: ``main(argv)`` in a forked child, or a fresh process), in a folder of
its own, and prints ``N/M handled cleanly`` and what was not.

A case is handled cleanly when (``clirun.judge`` plus the file checks here):

* the exit status is right: non-zero (1-127) for bad input, 0 for good input, 128 + N for
  signal N; it did not hang (its time limit) or crash (killed by a signal);
* stderr holds exactly one sentence ``COMMAND: ....`` and no traceback (progress aside);
* every file that was there before (the case's inputs, earlier outputs, and the shared
  models, data and checkpoint) has the same sha256 afterwards;
* a refused command left nothing new behind (no ``config.json``, no ``.partial`` file, no
  staging folder), unless the case keeps something on purpose (a signal keeps what was
  recorded);
* the case's own check, where it has one (the message names the real cause; SIGTERM during
  ``record`` keeps a playable video *and* its flight log).

``--fuzz N`` adds N random mutations of a valid flight log (replayed) and N of a valid
controls file (played), from ``benchmarks.mutate``; each must be a clean run or one sentence.
Cases that need root (read-only and full file systems, private mounts) or PyTorch are
skipped, and counted as skipped, where those are missing.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks import clirun, mutate
from latent_odyssey.game import paths
from latent_odyssey.train.data import idx_bytes

SHIPPED = ("mnist-2d", "mnist-3d", "faces")
TINY_VIDEO = ["--size", "64x48", "--fps", "10", "--quiet"]
PLAY = ["play", "--headless", "--frames", "2", "--size", "320x200"]
RECORD = ["record", "v.mp4", "--seconds", "0.5", *TINY_VIDEO]
REPLAY = ["replay", "bad.flight.jsonl", "out.mp4", "--quiet"]
TRAIN = ["mnist-2d", "--epochs", "1", "--limit", "64", "--batch-size", "32", "--iw-k", "0",
         "--no-progress", "--data-dir", "data", "--out", "run"]
EXPORT = ["run/checkpoint.pt", "--out", "out/tiny", "--data-dir", "{idx}"]
TRAIN_FILES = ("checkpoint.pt", "config.json", "metrics.json", "report.png")
IDX_TRAIN, IDX_TEST = 64, 32  # images in the tiny data set
DEFAULT_TIMEOUT_S = 60.0
HANG_TIMEOUT_S = 15.0  # for cases that used to hang
MEMORY_LIMIT_BYTES = 3 << 30  # RLIMIT_DATA for cases that could read without end


# ----------------------------------------------------------------------------- the shared world


@dataclass
class World:
    """Files every case may read but none may change: models, data, a checkpoint, a log."""

    root: Path
    models: Path
    idx: Path
    noconfig: Path
    cache: Path
    run: Path | None = None  # a finished tiny training run (None without torch)
    log: Path | None = None  # a valid Odyssey tour flight log, and its video
    faces_log: Path | None = None

    @property
    def places(self) -> dict[str, str]:
        """Placeholders for case arguments: ``{m3}``, ``{idx}``, ``{ckpt}``, ..."""
        out = {"m2": self.models / "mnist-2d.onnx", "m3": self.models / "mnist-3d.onnx",
               "faces": self.models / "faces.onnx", "idx": self.idx, "models": self.models}
        if self.run is not None:
            out["ckpt"] = self.run / "checkpoint.pt"
        return {k: str(v) for k, v in out.items()}

    def env(self, case_dir: Path) -> dict[str, str | None]:
        """The environment of every case: only the world's models, nothing of the user's."""
        return {
            paths.PRETRAINED_ENV: str(self.models), paths.MODELS_ENV: None,
            "ODYSSEY_CONTROLS": None, paths.CAPTURES_ENV: str(case_dir / "captures"),
            "XDG_CONFIG_HOME": str(self.noconfig), "XDG_CACHE_HOME": str(self.cache),
            "ODYSSEY_DATA": None, "ODYSSEY_OFFLINE": "1", "OMP_NUM_THREADS": "1",
        }

    def snapshot(self) -> dict[str, str]:
        """{``world:PATH``: sha256} of every world file (the cache folder aside)."""
        return {f"world:{k}": v for k, v in clirun.snapshot(self.root).items()
                if not k.startswith(f"{self.cache.name}/")}

    def signature(self) -> dict[str, tuple]:
        """(size, mtime, inode) of every world file (the cache folder aside, where onnxruntime
        and matplotlib keep their own files): a cheap change detector."""
        out = {}
        for root, dirs, files in os.walk(self.root):
            if Path(root) == self.root:
                dirs[:] = [d for d in dirs if Path(root, d) != self.cache]  # third-party caches
            for name in files:
                st = os.stat(Path(root) / name)
                out[str(Path(root) / name)] = (st.st_size, st.st_mtime_ns, st.st_ino)
        return out


def write_idx(folder: Path, n_train: int = IDX_TRAIN, n_test: int = IDX_TEST, side: int = 28,
              classes: int = 10, seed: int = 0) -> Path:
    """A tiny MNIST-style IDX set (uncompressed) of random images and labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, side, side), dtype=np.uint8)
        labels = rng.integers(0, classes, n, dtype=np.uint8)
        (folder / f"{split}-images-idx3-ubyte").write_bytes(idx_bytes(images))
        (folder / f"{split}-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    return folder


def build_world(root: Path, torch: bool = True, faces: bool = True) -> World:
    """Copy the shipped models, write tiny data, train a tiny run (``torch``), record a tour
    and (``faces``) a face morph."""
    world = World(root, root / "models", write_idx(root / "idx"), root / "noconfig", root / "cache")
    world.models.mkdir(parents=True, exist_ok=True)
    world.noconfig.mkdir(exist_ok=True)
    world.cache.mkdir(exist_ok=True)
    for name in SHIPPED if faces else SHIPPED[:2]:
        for suffix in (".onnx", paths.ENCODER_SUFFIX):
            src = paths.package_data_dir("pretrained") / f"{name}{suffix}"
            if src.is_file():
                shutil.copyfile(src, world.models / f"{name}{suffix}")
    made = root / "made"
    made.mkdir(exist_ok=True)

    def make(command: str, argv: list[str], what: str) -> None:
        result = clirun.run(clirun.Run(command, argv, made, world.env(made), timeout_s=300,
                                       logs=root / "logs"))
        if result.status != 0:
            raise RuntimeError(f"making the {what} failed ({result.status}): {result.stderr[-2000:]}")

    make("odyssey", ["record", "tour.mp4", "--seconds", "0.5", *TINY_VIDEO], "tour recording")
    world.log = made / "tour.flight.jsonl"
    if faces and (world.models / "faces.onnx").is_file():
        make("odyssey", ["record", "morph.mp4", "--morph", "1:2", "--seconds", "0.3", *TINY_VIDEO],
             "face morph recording")
        world.faces_log = made / "morph.flight.jsonl"
    if torch:
        make("odyssey-train", [*TRAIN[:-4], "--data-dir", str(world.idx), "--out", "run"], "tiny run")
        world.run = made / "run"
    return world


# ----------------------------------------------------------------------------- cases


@dataclass
class Case:
    """One command line and the world it meets (see the module docstring for "clean")."""

    name: str
    family: str
    command: str
    argv: list[str]
    setup: Callable[[Path, World], None] | None = None
    expect: str | int = "refuse"  # "refuse", "ok", "any" or an exit status
    env: dict[str, str | None] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    fresh: bool = False
    stdout_closed: bool = False
    fsize_bytes: int | None = None
    mem_bytes: int | None = None
    readonly: tuple[str, ...] = ()
    full: dict[str, int] = field(default_factory=dict)
    signal_when: tuple[int, Callable[[Path], bool]] | None = None
    keep: tuple[str, ...] = ()  # globs of new files a refusal may leave (kept recordings)
    may_change: tuple[str, ...] = ()  # globs of earlier files a success may rewrite (--resume)
    check: Callable[[Path, clirun.Result], list[str]] | None = None
    needs: tuple[str, ...] = ()  # "torch", "mount", "faces"
    alongside: Callable[[Path], bool] | None = None  # run a first copy; start this one when ready

    def spec(self, case_dir: Path, world: World, logs: Path) -> clirun.Run:
        places = world.places
        argv = [a.format(**places) if "{" in a else a for a in self.argv]
        env = {**world.env(case_dir), **{k: (v.format(**places) if v else v) for k, v in self.env.items()}}
        when = None
        if self.signal_when is not None:
            signum, ready = self.signal_when
            when = (signum, lambda: ready(case_dir))
        return clirun.Run(self.command, argv, case_dir, env, self.timeout_s, self.fresh,
                          self.stdout_closed, self.fsize_bytes, self.readonly, self.full, when,
                          logs, self.mem_bytes)


@dataclass
class Outcome:
    """A case's run: the result, what is wrong with it, and the sha256 of every file in the
    case's folder before and after (``clirun.snapshot``)."""

    case: Case
    result: clirun.Result | None
    problems: list[str]
    skipped: str | None = None
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None

    @property
    def clean(self) -> bool:
        return self.skipped is None and not self.problems


# ------------------------------------------------------------- setup helpers (files in the case)


def write(name: str, data: str | bytes) -> Callable[[Path, World], None]:
    def setup(d: Path, _w: World) -> None:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data.encode() if isinstance(data, str) else data)
    return setup


def copy_model(name: str, as_name: str) -> Callable[[Path, World], None]:
    def setup(d: Path, w: World) -> None:
        shutil.copyfile(w.models / f"{name}.onnx", d / as_name)
    return setup


def mkdir(name: str) -> Callable[[Path, World], None]:
    def setup(d: Path, _w: World) -> None:
        (d / name).mkdir(parents=True, exist_ok=True)
    return setup


def fifo(name: str) -> Callable[[Path, World], None]:
    def setup(d: Path, _w: World) -> None:
        os.mkfifo(d / name)
    return setup


def both(*setups: Callable[[Path, World], None]) -> Callable[[Path, World], None]:
    def setup(d: Path, w: World) -> None:
        for s in setups:
            s(d, w)
    return setup


def model_bytes(edit: Callable[[bytes], bytes], as_name: str, name: str = "mnist-2d") -> Callable[[Path, World], None]:
    def setup(d: Path, w: World) -> None:
        (d / as_name).write_bytes(edit((w.models / f"{name}.onnx").read_bytes()))
    return setup


def ir_too_new(data: bytes) -> bytes:
    """The shipped file with its ONNX IR version (field 1, first bytes) raised from 10 to 99."""
    assert data[:2] == b"\x08\x0a", "the shipped model no longer starts with ir_version 10"
    return b"\x08\x63" + data[2:]


def read_log(path: Path) -> tuple[dict, list[dict]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows[0], rows[1:]


def log_text(header: dict, lines: list[dict]) -> str:
    return "".join(json.dumps(row) + "\n" for row in [header, *lines])


def log_case(edit: Callable[[dict, list[dict]], str | tuple[dict, list[dict]] | None],
             name: str = "bad.flight.jsonl", faces: bool = False) -> Callable[[Path, World], None]:
    """Write ``name``: the world's valid log after ``edit(header, lines)`` (in place, or
    returning new rows or the whole text)."""
    def setup(d: Path, w: World) -> None:
        header, lines = read_log(w.faces_log if faces else w.log)
        header, lines = copy.deepcopy(header), copy.deepcopy(lines)
        got = edit(header, lines)
        if isinstance(got, str):
            text = got
        else:
            if isinstance(got, tuple):
                header, lines = got
            text = log_text(header, lines)
        (d / name).write_text(text, encoding="utf-8", errors="surrogateescape")
    return setup


def set_line(i: int, key: str, value) -> Callable[[dict, list[dict]], None]:
    def edit(_h: dict, lines: list[dict]) -> None:
        lines[i][key] = value
    return edit


def set_state(i: int, key: str, value) -> Callable[[dict, list[dict]], None]:
    def edit(_h: dict, lines: list[dict]) -> None:
        lines[i]["state"][key] = value
    return edit


def set_header(key: str, value) -> Callable[[dict, list[dict]], None]:
    def edit(h: dict, _lines: list[dict]) -> None:
        h[key] = value
    return edit


def raw_log(transform: Callable[[str], str]) -> Callable[[dict, list[dict]], str]:
    def edit(h: dict, lines: list[dict]) -> str:
        return transform(log_text(h, lines))
    return edit


def stretch(factor: float) -> Callable[[dict, list[dict]], None]:
    def edit(_h: dict, lines: list[dict]) -> None:
        for line in lines:
            line["t"] = line["t"] * factor
    return edit


def many_lines(n: int) -> Callable[[dict, list[dict]], str]:
    def edit(h: dict, lines: list[dict]) -> str:
        one = json.dumps({"t": 0.0, "model": lines[0]["model"], "mode": lines[0]["mode"]}) + "\n"
        return json.dumps(h) + "\n" + one * n
    return edit


def copy_run(d: Path, w: World) -> None:
    shutil.copytree(w.run, d / "run")


def data_dir(**kw) -> Callable[[Path, World], None]:
    def setup(d: Path, _w: World) -> None:
        write_idx(d / "data", **kw)
    return setup


def idx_file(name: str, data: bytes) -> Callable[[Path, World], None]:
    """The tiny data set in ``data/`` with one file replaced (``NAME.gz`` replaces ``NAME``)."""
    def setup(d: Path, w: World) -> None:
        shutil.copytree(w.idx, d / "data")
        (d / "data" / name.removesuffix(".gz")).unlink(missing_ok=True)
        (d / "data" / name).write_bytes(data)
    return setup


def ckpt_edit(edit: Callable[[dict], object], replace: bool = False) -> Callable[[Path, World], None]:
    """A copy of the world's run whose checkpoint went through ``edit`` (in place; with
    ``replace`` the object it returns is saved instead)."""
    def setup(d: Path, w: World) -> None:
        import torch

        copy_run(d, w)
        path = d / "run" / "checkpoint.pt"
        state = torch.load(path, weights_only=True)
        got = edit(state)
        torch.save(got if replace else state, path)
    return setup


def ckpt_raw(data: bytes) -> Callable[[Path, World], None]:
    def setup(d: Path, w: World) -> None:
        copy_run(d, w)
        (d / "run" / "checkpoint.pt").write_bytes(data)
    return setup


def pickled_object(_state: dict) -> object:
    """A checkpoint holding a Python object a weights-only load refuses."""
    return {"format": 1, "model": {}, "config": argparse.Namespace(preset="mnist-2d")}


def file_exists(pattern: str) -> Callable[[Path], bool]:
    def ready(d: Path) -> bool:
        return any(p.stat().st_size > 0 for p in d.rglob(pattern) if p.is_file())
    return ready


def hidden_folder_in(folder: str) -> Callable[[Path], bool]:
    def ready(d: Path) -> bool:
        f = d / folder
        return f.is_dir() and any(p.name.startswith(".") and p.is_dir() for p in f.iterdir())
    return ready


# ---------------------------------------------------------------------- checks (beyond judge)


def says(*words: str, absent: tuple[str, ...] = ()) -> Callable[[Path, clirun.Result], list[str]]:
    """The message names the real cause: it contains every word (case-insensitive) and none of
    ``absent``."""
    def check(_d: Path, r: clirun.Result) -> list[str]:
        text = r.stderr.lower()
        out = [f"message does not mention {w!r}" for w in words if w.lower() not in text]
        out += [f"message wrongly says {w!r}" for w in absent if w.lower() in text]
        return out
    return check


def no_files(*names: str) -> Callable[[Path, clirun.Result], list[str]]:
    def check(d: Path, _r: clirun.Result) -> list[str]:
        return [f"left {n} behind" for n in names if list(d.glob(n))]
    return check


def recording_kept(video: str = "v.mp4", log: bool = True) -> Callable[[Path, clirun.Result], list[str]]:
    """The video decodes and, with ``log``, its flight log reads and matches it (+-1 frame)."""
    def check(d: Path, _r: clirun.Result) -> list[str]:
        from latent_odyssey.game.capture.flightlog import (
            FlightLogError,
            log_path_for,
            read_flight_log,
        )

        out = []
        frames = video_frames(d / video)
        if frames is None:
            return [f"{video} was not kept (or does not decode)"]
        if log:
            try:
                lines = len(read_flight_log(log_path_for(d / video)).lines)
            except FlightLogError as exc:
                return [f"the flight log was not kept: {exc}"]
            if abs(lines - frames) > 1:
                out.append(f"the video has {frames} frames but its flight log {lines} lines")
        partials = [p.name for p in d.rglob("*partial*")]
        if partials:
            out.append(f"left {partials} behind")
        return out
    return check


def video_frames(path: Path) -> int | None:
    """Frames in a video file, or None when it is missing or does not decode."""
    import av

    if not path.is_file():
        return None
    try:
        with av.open(str(path)) as container:
            return sum(1 for _ in container.decode(video=0))
    except Exception:
        return None


def combine(*checks: Callable[[Path, clirun.Result], list[str]]) -> Callable[[Path, clirun.Result], list[str]]:
    def check(d: Path, r: clirun.Result) -> list[str]:
        return [p for c in checks for p in c(d, r)]
    return check


# ----------------------------------------------------------------------------- the battery


def cases() -> list[Case]:
    """Every case of the battery, family by family."""
    out: list[Case] = []

    def add(family: str, command: str, name: str, argv: list[str], **kw) -> None:
        out.append(Case(name, family, command, argv, **kw))

    # ---- odyssey play: the window, sizes, values
    fam = "play: display, size and values"
    no_display = {"SDL_VIDEODRIVER": None, "DISPLAY": None, "WAYLAND_DISPLAY": None}
    add(fam, "odyssey", "play with no display, --frames 3", ["play", "--frames", "3"],
        env=no_display, fresh=True, check=says("display", "--headless"), timeout_s=HANG_TIMEOUT_S)
    add(fam, "odyssey", "play with no display, no --frames (used to run forever)", ["play"],
        env=no_display, fresh=True, check=says("--headless"), timeout_s=HANG_TIMEOUT_S)
    add(fam, "odyssey", "plain odyssey with no display", [], env=no_display, fresh=True,
        timeout_s=HANG_TIMEOUT_S)
    for size, why in (("16384x16384", "used to segfault"), ("8193x600", "side over the limit"),
                      ("8192x8192", "pixel count over the limit"), ("0x0", "zero"),
                      ("100x50", "below the minimum"), ("big", "not WxH"), ("1e3x500", "not whole"),
                      ("99999999x1", "too many digits"), ("-5x-5", "negative")):
        add(fam, "odyssey", f"play --size {size} ({why})", [*PLAY[:4], "--size", size],
            timeout_s=30)
    for flag, value in (("--frames", "0"), ("--frames", "-3"), ("--frames", "1.5"),
                        ("--seed", "-1"), ("--seed", "99999999999999999999999"), ("--seed", "abc"),
                        ("--mode", "bogus"), ("--provider", "tpu")):
        add(fam, "odyssey", f"play {flag} {value}", [*PLAY, flag, value])
    add(fam, "odyssey", "play --headless without --frames", ["play", "--headless"])
    add(fam, "odyssey", "play --bogus-flag", [*PLAY, "--bogus-flag"])
    add(fam, "odyssey", "play valid (control case)", PLAY, expect="ok")

    fam = "play: screenshots"
    add(fam, "odyssey", "--screenshot x.jpg", [*PLAY, "--screenshot", "x.jpg"])
    add(fam, "odyssey", "--screenshot a folder", [*PLAY, "--screenshot", "shots.png"],
        setup=mkdir("shots.png"))
    add(fam, "odyssey", "--screenshot under a file", [*PLAY, "--screenshot", "afile/s.png"],
        setup=write("afile", "x"))
    add(fam, "odyssey", "--screenshot on a read-only file system", [*PLAY, "--screenshot", "ro/s.png"],
        readonly=("ro",), needs=("mount",), check=says("read-only", absent=("permission denied",)))
    add(fam, "odyssey", "--screenshot on a full disk", [*PLAY, "--screenshot", "full/s.png"],
        full={"full": 4096}, needs=("mount",), check=says("space"))
    add(fam, "odyssey", "--screenshot over the model file being played",
        [*PLAY, "--model", "m.png", "--screenshot", "m.png"], setup=copy_model("mnist-2d", "m.png"))
    add(fam, "odyssey", "--screenshot valid (control case)", [*PLAY, "--screenshot", "s.png"],
        expect="ok")

    fam = "model files"
    model_files = [
        ("missing", "missing.onnx", None, ()),
        ("a folder", "mdir.onnx", mkdir("mdir.onnx"), ()),
        ("empty", "empty.onnx", write("empty.onnx", b""), ()),
        ("random bytes", "garbage.onnx", write("garbage.onnx", np.random.default_rng(1).bytes(5000)), ()),
        ("truncated", "half.onnx", model_bytes(lambda b: b[: len(b) // 2], "half.onnx"), ()),
        ("IR version too new", "new.onnx", model_bytes(ir_too_new, "new.onnx"), ("IR version",)),
        ("an encoder", "{models}/mnist-2d.encoder.onnx", None, ()),
        ("a text file", "notes.onnx", write("notes.onnx", "hello\n"), ()),
        ("a FIFO", "pipe.onnx", fifo("pipe.onnx"), ()),
        ("a flight log", "log.onnx", log_case(lambda h, lines: None, "log.onnx"), ()),
    ]
    for what, path, setup, words in model_files:
        add(fam, "odyssey", f"play --model {what}", [*PLAY, "--model", path], setup=setup,
            check=says(*words) if words else None, timeout_s=30)
        add(fam, "odyssey", f"info {what}", ["info", path], setup=setup,
            check=says(*words) if words else None, timeout_s=30)
    add(fam, "odyssey", "record --model IR version too new", [*RECORD, "--model", "new.onnx"],
        setup=model_bytes(ir_too_new, "new.onnx", "mnist-3d"), check=says("IR version"))
    add(fam, "odyssey", "info with no model", ["info"])
    add(fam, "odyssey", "info | head -0 (closed stdout)", ["info", "mnist-2d"], stdout_closed=True,
        fresh=True, expect="ok")

    # ---- controls files, in every command that loads them
    fam = "controls files"
    deep = "[settings]\ndeadzone = " + "[" * 5000 + "]" * 5000 + "\n"
    nested = "[settings]\ndeadzone = " + "[" * 20 + "0.1" + "]" * 20 + "\n"
    controls = [
        ("missing", None, None),
        ("a folder", mkdir("c.toml"), None),
        ("a FIFO (used to hang)", fifo("c.toml"), None),
        ("a character device", None, "/dev/zero"),
        ("over the size limit", write("c.toml", "# padding\n" * 40000), None),
        ("nested 5000 deep (RecursionError)", write("c.toml", deep), None),
        ("nested 20 deep", write("c.toml", nested), None),
        ("not TOML", write("c.toml", "this is = = not toml\n"), None),
        ("binary garbage", write("c.toml", np.random.default_rng(2).bytes(3000)), None),
        ("UTF-16", write("c.toml", "[actions.quit]\nkeys = [\"q\"]\n".encode("utf-16")), None),
        ("unknown key name", write("c.toml", "[actions.quit]\nkeys = [\"nokey\"]\n"), None),
        ("deadzone 5", write("c.toml", "[settings]\ndeadzone = 5\n"), None),
        ("deadzone nan", write("c.toml", "[settings]\ndeadzone = nan\n"), None),
        ("deadzone a string", write("c.toml", "[settings]\ndeadzone = \"x\"\n"), None),
        ("unknown action", write("c.toml", "[actions.fly_away]\nkeys = [\"q\"]\n"), None),
        ("keys = 5", write("c.toml", "[actions.quit]\nkeys = 5\n"), None),
        ("a table where keys go", write("c.toml", "[actions.quit.keys]\na = 1\n"), None),
    ]
    for what, setup, where in controls:
        env = {"ODYSSEY_CONTROLS": where or "c.toml"}
        limits = {"mem_bytes": MEMORY_LIMIT_BYTES, "timeout_s": HANG_TIMEOUT_S}
        add(fam, "odyssey", f"play, controls {what}", PLAY, setup=setup, env=env, **limits)
        if what in ("not TOML", "nested 5000 deep (RecursionError)", "a FIFO (used to hang)", "missing"):
            add(fam, "odyssey", f"record, controls {what}", RECORD, setup=setup, env=env, **limits)
            add(fam, "odyssey", f"replay, controls {what}", REPLAY,
                setup=both(setup or (lambda d, w: None), log_case(lambda h, lines: None)), env=env,
                **limits)
    add(fam, "odyssey", "play, controls valid override (control case)", PLAY, expect="ok",
        setup=write("c.toml", "[actions.quit]\nkeys = [\"q\"]\n"), env={"ODYSSEY_CONTROLS": "c.toml"})
    add(fam, "odyssey", "play, controls empty file (control case)", PLAY, expect="ok",
        setup=write("c.toml", ""), env={"ODYSSEY_CONTROLS": "c.toml"})
    add(fam, "odyssey", "play, controls with a UTF-8 BOM", PLAY, expect="any",
        setup=write("c.toml", "\ufeff[actions.quit]\nkeys = [\"q\"]\n"), env={"ODYSSEY_CONTROLS": "c.toml"})

    # ---- odyssey record: values, outputs, signals, disks
    fam = "record: values"
    for flag, value in (("--size", "16384x16384"), ("--size", "8192x8192"), ("--size", "10x10"),
                        ("--fps", "0"), ("--fps", "241"), ("--fps", "x"), ("--seconds", "0"),
                        ("--seconds", "-1"), ("--seconds", "nan"), ("--seconds", "inf"),
                        ("--seconds", "1e9"), ("--seconds", "3601"), ("--seed", "-1"),
                        ("--seed", "1000000000000000000000000000000"), ("--morph", "1-2"),
                        ("--tour", "bogus"), ("--model", "missing"), ("--model", "mnist-2d")):
        add(fam, "odyssey", f"record {flag} {value}", [*RECORD, flag, value])
    add(fam, "odyssey", "record --morph with --tour", [*RECORD, "--morph", "1:2", "--tour", "dense"])
    add(fam, "odyssey", "record --morph 99999999999999999999:1 (absurd seed)",
        [*RECORD, "--morph", "99999999999999999999:1"])
    add(fam, "odyssey", "record valid (control case)", RECORD, expect="ok",
        check=recording_kept())

    fam = "record: outputs"
    add(fam, "odyssey", "record into a folder", ["record", "vids", *RECORD[2:]], setup=mkdir("vids"))
    add(fam, "odyssey", "record to x.txt", ["record", "x.txt", *RECORD[2:]])
    add(fam, "odyssey", "record --gif to x.mp4", [*RECORD, "--gif"])
    add(fam, "odyssey", "record under a file", ["record", "afile/v.mp4", *RECORD[2:]],
        setup=write("afile", "x"))
    add(fam, "odyssey", "record over its own model", [*RECORD, "--model", "v.mp4"],
        setup=copy_model("mnist-3d", "v.mp4"))
    add(fam, "odyssey", "record whose flight log would replace its model",
        [*RECORD, "--model", "v.flight.jsonl"], setup=copy_model("mnist-3d", "v.flight.jsonl"))
    add(fam, "odyssey", "record on a read-only file system", ["record", "ro/v.mp4", *RECORD[2:]],
        readonly=("ro",), needs=("mount",), check=says("read-only", absent=("permission denied",)))
    add(fam, "odyssey", "record on a full disk", ["record", "full/v.mp4", *RECORD[2:], "--seconds", "3"],
        full={"full": 16384}, needs=("mount",), check=says("space"))
    add(fam, "odyssey", "record past a file size limit", [*RECORD, "--seconds", "3"],
        fsize_bytes=12000, check=no_files("*partial*"))
    add(fam, "odyssey", "record past a file size limit over an earlier recording",
        [*RECORD, "--seconds", "3"], fsize_bytes=12000,
        setup=lambda d, w: (shutil.copyfile(w.log.with_name("tour.mp4"), d / "v.mp4"),
                            shutil.copyfile(w.log, d / "v.flight.jsonl")))
    add(fam, "odyssey", "record | head -0 (closed stdout)", RECORD, stdout_closed=True, fresh=True,
        expect="ok", check=recording_kept())

    fam = "record: signals and two writers"
    long_record = [*RECORD, "--seconds", "30"]
    for signum, status in ((signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129)):
        add(fam, "odyssey", f"{signal.Signals(signum).name} during record", long_record,
            signal_when=(signum, file_exists("*partial*")), expect=status, keep=("v.mp4", "v.flight.jsonl"),
            check=recording_kept())
    add(fam, "odyssey", "two records of one file at once", [*RECORD, "--seconds", "8"],
        alongside=file_exists("*partial*"), keep=("v.mp4", "v.flight.jsonl"),
        check=combine(recording_kept(), says("another")))
    add(fam, "odyssey", "SIGTERM during replay", ["replay", "long.flight.jsonl", "out.mp4", "--quiet"],
        setup=log_case(stretch(60.0), "long.flight.jsonl"), expect=143, keep=("out.mp4",),
        signal_when=(signal.SIGTERM, file_exists("*partial*")),
        check=recording_kept("out.mp4", log=False))

    # ---- odyssey replay: flight logs
    fam = "flight logs"
    nan_t = raw_log(lambda text: text.replace('"t": 0.1,', '"t": NaN,', 1))
    logs: list[tuple[str, Callable, tuple[str, ...]]] = [
        ("empty", lambda h, lines: "", ()),
        ("random bytes", lambda h, lines: np.random.default_rng(3).bytes(2000).decode("latin-1"), ()),
        ("not JSON", lambda h, lines: "hello\nworld\n", ()),
        ("a JSON array line", lambda h, lines: "[1, 2, 3]\n", ()),
        ("header without format", lambda h, lines: (dict(h, format="other"), lines), ()),
        ("version \"1\"", set_header("version", "1"), ()),
        ("version 2", set_header("version", 2), ()),
        ("version true", set_header("version", True), ()),
        ("header only", lambda h, lines: (h, []), ()),
        ("t NaN", nan_t, ()),
        ("t 1e308", set_line(1, "t", 1e308), ()),
        ("last t 1e7 s (used to replay for 33 h)", set_line(-1, "t", 1e7), ("3600",)),
        ("t a string", set_line(1, "t", "0.1"), ()),
        ("t negative", set_line(0, "t", -1.0), ()),
        ("t going back", set_line(2, "t", 0.0), ()),
        ("z of the wrong size", set_line(1, "z", [0.1, 0.2]), ("3",)),
        ("z of strings", set_line(1, "z", ["a", "b", "c"]), ()),
        ("z 1e308", set_line(1, "z", [1e308, 0.0, 0.0]), ()),
        ("z NaN", raw_log(lambda text: text.replace('"z": [', '"z": [NaN, ', 1)), ()),
        ("model not installed", set_line(0, "model", "nope"), ()),
        ("model a number", set_line(0, "model", 123), ()),
        ("mode bogus", set_line(0, "mode", "bogus"), ()),
        ("mode bogus mid-log", set_line(3, "mode", "bogus"), ()),
        ("state a list", set_line(1, "state", [1, 2]), ()),
        ("state position 1e308", set_state(1, "position", [1e308, 0.0, 0.0]), ()),
        ("state orientation of strings", set_state(1, "orientation", ["a", "b", "c", "d"]), ()),
        ("state layer_count a string", set_state(1, "layer_count", "many"), ("layer_count",)),
        ("state tunnel a number", set_state(1, "tunnel", 1), ("tunnel",)),
        ("state spacing -1e300", set_state(1, "spacing", -1e300), ()),
        ("state huge integer", set_state(1, "tour_seed", 10 ** 40), ()),
        ("size [NaN, 48]", raw_log(lambda text: text.replace('"size": [64, 48]', '"size": [NaN, 48]', 1)), ()),
        ("size [\"a\", 48]", set_header("size", ["a", 48]), ()),
        ("size [1e308, 48]", set_header("size", [1e308, 48]), ()),
        ("size [16384, 16384]", set_header("size", [16384, 16384]), ()),
        ("size [64]", set_header("size", [64]), ()),
        ("fps \"30\"", set_header("fps", "30"), ()),
        ("fps 0", set_header("fps", 0), ()),
        ("fps 1e9", set_header("fps", 1e9), ()),
        ("seed -5", set_header("seed", -5), ()),
        ("seed \"x\"", set_header("seed", "x"), ()),
        ("seed 1e300", set_header("seed", 1e300), ()),
        ("latent_dim 5 in the header", set_header("latent_dim", 5), ()),
        ("model_path to a broken mnist-3d.onnx", set_line(0, "model_path", "broken/mnist-3d.onnx"), ()),
        ("a 2 MB line", set_state(1, "junk", "x" * 2_000_000), ()),
        ("nested 100000 deep", raw_log(lambda t: t + "[" * 100000 + "]" * 100000 + "\n"), ()),
        ("state nested 50 deep", set_state(1, "deep", json.loads("[" * 50 + "]" * 50)), ()),
        ("invalid UTF-8", raw_log(lambda t: t.replace("odyssey", "odyss\udcffey", 1)), ()),
        ("900,000 lines (over the line limit)", many_lines(900_000), ("lines",)),
    ]
    for what, edit, words in logs:
        setup = log_case(edit)
        if "broken" in what:
            setup = both(setup, write("broken/mnist-3d.onnx", b"not a model"))
        add(fam, "odyssey", f"replay, log {what}", REPLAY, setup=setup,
            check=says(*words) if words else None, timeout_s=HANG_TIMEOUT_S * 2)
    add(fam, "odyssey", "replay, log missing", REPLAY)
    add(fam, "odyssey", "replay, log a folder", REPLAY, setup=mkdir("bad.flight.jsonl"))
    add(fam, "odyssey", "replay, log a FIFO", REPLAY, setup=fifo("bad.flight.jsonl"),
        timeout_s=HANG_TIMEOUT_S)
    add(fam, "odyssey", "replay, CRLF line ends (control case)", REPLAY, expect="ok",
        setup=log_case(raw_log(lambda t: t.replace("\n", "\r\n"))))
    add(fam, "odyssey", "replay, a UTF-8 BOM", REPLAY, expect="any",
        setup=log_case(raw_log(lambda t: "\ufeff" + t)))
    add(fam, "odyssey", "replay valid (control case)", REPLAY, expect="ok",
        setup=log_case(lambda h, lines: None))
    add(fam, "odyssey", "replay valid faces morph (control case)", REPLAY, expect="ok",
        setup=log_case(lambda h, lines: None, faces=True), needs=("faces",))
    add(fam, "odyssey", "replay, faces log with base of the wrong size", REPLAY,
        setup=log_case(set_state(1, "base", [0.5, 0.5]), faces=True), needs=("faces",), expect="any")

    fam = "replay: outputs"
    add(fam, "odyssey", "replay a.mp4 a.mp4 (log named .mp4)", ["replay", "a.mp4", "a.mp4", "--quiet"],
        setup=log_case(lambda h, lines: None, "a.mp4"))
    add(fam, "odyssey", "replay into a folder", ["replay", "bad.flight.jsonl", "vids", "--quiet"],
        setup=both(log_case(lambda h, lines: None), mkdir("vids")))
    add(fam, "odyssey", "replay to out.txt", ["replay", "bad.flight.jsonl", "out.txt", "--quiet"],
        setup=log_case(lambda h, lines: None))
    add(fam, "odyssey", "replay on a read-only file system",
        ["replay", "bad.flight.jsonl", "ro/out.mp4", "--quiet"], setup=log_case(lambda h, lines: None),
        readonly=("ro",), needs=("mount",), check=says("read-only", absent=("permission denied",)))
    add(fam, "odyssey", "replay past a file size limit over an earlier video", [*REPLAY, "--fps", "60"],
        setup=both(log_case(stretch(10.0)), lambda d, w: shutil.copyfile(w.log.with_name("tour.mp4"), d / "out.mp4")),
        fsize_bytes=12000)
    add(fam, "odyssey", "replay --size 16384x16384", [*REPLAY, "--size", "16384x16384"],
        setup=log_case(lambda h, lines: None))
    add(fam, "odyssey", "replay | head -0 (closed stdout)", REPLAY, stdout_closed=True, fresh=True,
        expect="ok", setup=log_case(lambda h, lines: None), check=recording_kept("out.mp4", log=False))

    # ---- odyssey-train
    fam = "train: values"
    for flag, value in (("--epochs", "0"), ("--epochs", "x"), ("--batch-size", "0"), ("--lr", "-1"),
                        ("--lr", "nan"), ("--lr", "inf"), ("--beta-max", "nan"),
                        ("--warmup-epochs", "inf"), ("--limit", "0"), ("--limit", "1"),
                        ("--limit", "4"), ("--iw-k", "-1"), ("--iw-k", "1000000000000"),
                        ("--iw-k", "x"), ("--seed", "-1"),
                        ("--seed", "1000000000000000000000000000000"), ("--seed", "x"),
                        ("--device", "tpu"), ("--loss", "l1")):
        add(fam, "odyssey-train", f"train {flag} {value}", [*TRAIN, flag, value],
            setup=data_dir(), needs=("torch",), check=no_files("run/config.json"))
    add(fam, "odyssey-train", "train an unknown preset", ["mnist-9d", *TRAIN[1:]], needs=("torch",))
    add(fam, "odyssey-train", "train valid (control case)", TRAIN, setup=data_dir(), expect="ok",
        needs=("torch",))
    add(fam, "odyssey-train", "train | head -0 (closed stdout)", TRAIN, setup=data_dir(),
        expect="ok", stdout_closed=True, fresh=True, needs=("torch",))

    fam = "train: data sets"
    rng = np.random.default_rng(4)
    u8 = lambda *shape: rng.integers(0, 256, shape, dtype=np.uint8)  # noqa: E731
    datasets = [
        ("missing folder", None, ()),
        ("a file", write("data", "x"), ()),
        ("an empty folder (offline)", mkdir("data"), ("data",)),
        ("32x32 images", data_dir(side=32), ("28",)),
        ("zero train images", data_dir(n_train=0), ("train",)),
        ("zero test images", data_dir(n_test=0), ("test",)),
        ("labels out of range", data_dir(classes=50), ("label",)),
        ("labels 255", idx_file("train-labels-idx1-ubyte", idx_bytes(np.full(IDX_TRAIN, 255, np.uint8))), ()),
        ("label count differs", idx_file("train-labels-idx1-ubyte", idx_bytes(np.zeros(IDX_TRAIN - 1, np.uint8))), ()),
        ("1-D images", idx_file("train-images-idx3-ubyte", idx_bytes(u8(IDX_TRAIN))), ()),
        ("RGB images", idx_file("train-images-idx3-ubyte", idx_bytes(u8(IDX_TRAIN, 28, 28, 3))), ()),
        ("corrupt gzip", idx_file("train-images-idx3-ubyte.gz", b"\x1f\x8bgarbage"), ()),
        ("truncated IDX", idx_file("train-images-idx3-ubyte", idx_bytes(u8(IDX_TRAIN, 28, 28))[:-100]), ()),
        ("wrong magic", idx_file("train-images-idx3-ubyte", b"\x12\x34" + idx_bytes(u8(IDX_TRAIN, 28, 28))[2:]), ()),
        ("float32 IDX images", idx_file("train-images-idx3-ubyte",
                                        bytes([0, 0, 0x0D, 3]) + b"".join(int(v).to_bytes(4, "big") for v in (IDX_TRAIN, 28, 28))
                                        + np.full((IDX_TRAIN, 28, 28), 0.5, ">f4").tobytes()), ()),
        ("huge header dims", idx_file("train-images-idx3-ubyte",
                                      bytes([0, 0, 8, 3]) + (2 ** 32 - 1).to_bytes(4, "big") * 3), ()),
    ]
    for what, setup, words in datasets:
        add(fam, "odyssey-train", f"train, data {what}", TRAIN, setup=setup, needs=("torch",),
            check=combine(says(*words, absent=("pass --data-dir",) if setup else ()),
                          no_files("run/config.json")))
    add(fam, "odyssey-train", "faces --data-dir an empty folder",
        ["faces", "--epochs", "1", "--limit", "8", "--iw-k", "0", "--no-progress", "--data-dir", "f", "--out", "run"],
        setup=mkdir("f"), needs=("torch",), check=no_files("run/config.json"))
    add(fam, "odyssey-train", "faces --data-dir missing",
        ["faces", "--epochs", "1", "--limit", "8", "--no-progress", "--data-dir", "f", "--out", "run"],
        needs=("torch",), check=no_files("run/config.json"))
    add(fam, "odyssey-train", "faces --data-dir with a broken image",
        ["faces", "--epochs", "1", "--limit", "8", "--no-progress", "--data-dir", "f", "--out", "run"],
        setup=write("f/a.png", b"not a png"), needs=("torch",), check=no_files("run/config.json"))
    add(fam, "odyssey-train", "faces --data-dir with a broken attribute file",
        ["faces", "--epochs", "1", "--limit", "8", "--no-progress", "--data-dir", "f", "--out", "run"],
        setup=both(write("f/list_attr_celeba.txt", "1\nnothing here\n"), faces_image("f/a.png")),
        needs=("torch",), check=no_files("run/config.json"))

    fam = "train: outputs and disks"
    add(fam, "odyssey-train", "train --out is a file", [*TRAIN[:-1], "afile"],
        setup=both(data_dir(), write("afile", "x")), needs=("torch",))
    add(fam, "odyssey-train", "train --out on a read-only file system", [*TRAIN[:-1], "ro/run"],
        setup=data_dir(), readonly=("ro",), needs=("torch", "mount"),
        check=says("read-only", absent=("permission denied",)))
    add(fam, "odyssey-train", "train --out on a full disk", [*TRAIN[:-1], "full/run"],
        setup=data_dir(), full={"full": 300_000}, needs=("torch", "mount"), check=says("space"))
    add(fam, "odyssey-train", "train past a file size limit (torch.save fails)", TRAIN,
        setup=data_dir(), fsize_bytes=400_000, needs=("torch",),
        check=no_files("run/config.json", "run/*.tmp", "run/.*"))
    add(fam, "odyssey-train", "train over an earlier run without --resume", TRAIN,
        setup=both(data_dir(), copy_run), needs=("torch",), check=says("--resume"))

    fam = "train: checkpoints"
    ck = [
        ("no checkpoint", data_dir(), ()),
        ("random bytes", ckpt_raw(np.random.default_rng(5).bytes(3000)), ("not a",)),
        ("a Python object (weights-only refusal)", ckpt_edit(pickled_object, replace=True), ("weights",)),
        ("format \"1\"", ckpt_edit(lambda s: s.update(format="1")), ()),
        ("format 99", ckpt_edit(lambda s: s.update(format=99)), ()),
        ("no model key", ckpt_edit(lambda s: s.pop("model")), ()),
        ("no optimizer key", ckpt_edit(lambda s: s.pop("optimizer")), ()),
        ("no rng key", ckpt_edit(lambda s: s.pop("rng")), ()),
        ("rng of the wrong type", ckpt_edit(lambda s: s.update(rng=[1, 2, 3])), ()),
        ("epoch a string", ckpt_edit(lambda s: s.update(epoch="x")), ()),
        ("epoch -3", ckpt_edit(lambda s: s.update(epoch=-3)), ()),
        ("history not a list", ckpt_edit(lambda s: s.update(history=5)), ()),
        ("config not a dict", ckpt_edit(lambda s: s.update(config="mnist-2d")), ()),
        ("config model missing", ckpt_edit(lambda s: s["config"].pop("model")), ()),
        ("another preset", ckpt_edit(lambda s: s["config"].update(preset="mnist-3d")), ("mnist-3d",)),
        ("weights of the wrong shapes", ckpt_edit(wrong_shapes), ()),
        ("optimizer of another model", ckpt_edit(lambda s: s["optimizer"].update(param_groups=[])), ()),
    ]
    for what, setup, words in ck:
        add(fam, "odyssey-train", f"train --resume, checkpoint {what}", [*TRAIN, "--resume", "--data-dir", "{idx}"],
            setup=setup, needs=("torch",), check=says(*words) if words else None)
    add(fam, "odyssey-train", "train --resume (control case)", [*TRAIN, "--resume", "--epochs", "2", "--data-dir", "{idx}"],
        setup=copy_run, needs=("torch",), expect="ok", may_change=("run/*",))

    # ---- odyssey-export
    fam = "export"
    export_cases = [
        ("checkpoint missing", ["nope.pt", "--out", "out/tiny"], None, ()),
        ("checkpoint a folder", ["run", "--out", "out/tiny"], copy_run, ()),
        ("checkpoint random bytes", EXPORT, ckpt_raw(np.random.default_rng(6).bytes(3000)), ("not a",)),
        ("checkpoint a Python object", EXPORT, ckpt_edit(pickled_object, replace=True), ("weights",)),
        ("checkpoint config not a dict", EXPORT, ckpt_edit(lambda s: s.update(config=7)), ()),
        ("checkpoint weights of the wrong shapes", EXPORT, ckpt_edit(wrong_shapes), ()),
        ("--out the checkpoint's own name", ["run/checkpoint.pt", "--out", "run/checkpoint", "--data-dir", "{idx}"], copy_run, ("checkpoint",)),
        ("--out the run folder", ["run/checkpoint.pt", "--out", "run", "--data-dir", "{idx}"], copy_run, ()),
        ("--out .", ["run/checkpoint.pt", "--out", ".", "--data-dir", "{idx}"], copy_run, ()),
        ("--out run/", ["run/checkpoint.pt", "--out", "run/", "--data-dir", "{idx}"], copy_run, ()),
        ("--out empty", ["run/checkpoint.pt", "--out", "", "--data-dir", "{idx}"], copy_run, ()),
        ("--out under a file", ["run/checkpoint.pt", "--out", "afile/tiny", "--data-dir", "{idx}"],
         both(copy_run, write("afile", "x")), ()),
        ("corrupt metrics.json", EXPORT, both(copy_run, write("run/metrics.json", "{not json")), ("metrics.json",)),
        ("metrics.json a list", EXPORT, both(copy_run, write("run/metrics.json", "[1, 2]")), ("metrics.json",)),
        ("metrics.json not UTF-8", EXPORT, both(copy_run, write("run/metrics.json", b"\xff\xfe{}")), ("metrics.json",)),
        ("metrics.json a folder", EXPORT, both(copy_run, lambda d, w: ((d / "run/metrics.json").unlink(), (d / "run/metrics.json").mkdir())), ("metrics.json",)),
        ("--data-dir missing", ["run/checkpoint.pt", "--out", "out/tiny", "--data-dir", "nodata"], copy_run, ()),
        ("--data-dir with 32x32 images", ["run/checkpoint.pt", "--out", "out/tiny", "--data-dir", "data"],
         both(copy_run, data_dir(side=32)), ("28",)),
        ("--data-dir with zero train images", ["run/checkpoint.pt", "--out", "out/tiny", "--data-dir", "data"],
         both(copy_run, data_dir(n_train=0)), ()),
    ]
    for what, argv, setup, words in export_cases:
        add(fam, "odyssey-export", f"export, {what}", argv, setup=setup, needs=("torch",),
            check=says(*words) if words else None)
    add(fam, "odyssey-export", "export on a read-only file system", [*EXPORT[:1], "--out", "ro/tiny", *EXPORT[3:]],
        setup=copy_run, readonly=("ro",), needs=("torch", "mount"),
        check=says("read-only", absent=("permission denied",)))
    add(fam, "odyssey-export", "export past a file size limit", EXPORT, setup=copy_run,
        fsize_bytes=1_500_000, needs=("torch",), check=no_files("out/.*", "out/*"), timeout_s=120)
    add(fam, "odyssey-export", "SIGTERM during export (staging folder)", EXPORT, setup=copy_run,
        signal_when=(signal.SIGTERM, hidden_folder_in("out")), expect=143, needs=("torch",),
        check=no_files("out/.*", "out/*"), timeout_s=120)
    add(fam, "odyssey-export", "export valid (control case)", EXPORT, setup=copy_run, expect="ok",
        needs=("torch",), timeout_s=120)
    return out


def wrong_shapes(state: dict) -> None:
    import torch

    key = next(k for k, v in state["model"].items() if getattr(v, "ndim", 0) >= 2)
    state["model"][key] = torch.zeros(3, 3)


def faces_image(name: str) -> Callable[[Path, World], None]:
    def setup(d: Path, _w: World) -> None:
        import pygame

        surf = pygame.Surface((64, 64))
        surf.fill((200, 150, 120))
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(surf, str(d / name))
    return setup


def fuzz_cases(n: int, seed: int) -> list[Case]:
    """``n`` mutated flight logs (replayed) and ``n`` mutated controls files (played)."""
    out = []
    controls_text = paths.default_controls_path().read_text(encoding="utf-8")
    for i in range(n):
        log_seed, ctl_seed = seed * 100_003 + i, seed * 100_019 + i

        def log_edit(h: dict, lines: list[dict], s: int = log_seed) -> str:
            return mutate.mutate_jsonl(log_text(h, lines), np.random.default_rng(s))

        out.append(Case(f"fuzz flight log #{i} (seed {log_seed})", "fuzz: flight logs", "odyssey",
                        REPLAY, setup=log_case(log_edit), expect="any", timeout_s=HANG_TIMEOUT_S * 2,
                        mem_bytes=MEMORY_LIMIT_BYTES))
        text = mutate.mutate_toml(controls_text, np.random.default_rng(ctl_seed))
        out.append(Case(f"fuzz controls #{i} (seed {ctl_seed})", "fuzz: controls files", "odyssey",
                        PLAY, setup=write("c.toml", text.encode("utf-8", "surrogateescape")),
                        env={"ODYSSEY_CONTROLS": "c.toml"}, expect="any", timeout_s=HANG_TIMEOUT_S,
                        mem_bytes=MEMORY_LIMIT_BYTES))
    return out


# ----------------------------------------------------------------------------- running


def run_case(case: Case, world: World, work: Path, index: int, hash_world: bool = False) -> Outcome:
    """Set the case up in a folder of its own, run it, judge it. ``hash_world``: the
    before/after snapshots also hold the sha256 of the shared world's files (``world:PATH``),
    not only the cheap change check every case gets."""
    if "torch" in case.needs and world.run is None:
        return Outcome(case, None, [], skipped="PyTorch is not installed")
    if "mount" in case.needs and not clirun.can_mount():
        return Outcome(case, None, [], skipped="private mounts need root")
    if "faces" in case.needs and world.faces_log is None:
        return Outcome(case, None, [], skipped="no faces model")
    case_dir = work / f"case{index:03d}"
    case_dir.mkdir(parents=True)
    if case.setup is not None:
        case.setup(case_dir, world)
    before = clirun.snapshot(case_dir) | (world.snapshot() if hash_world else {})
    world_before = world.signature()
    problems = []
    spec = case.spec(case_dir, world, work / "logs")
    if case.alongside is not None:  # two writers of one output: the first must succeed
        first = clirun.start(spec)
        deadline = time.monotonic() + case.timeout_s
        while not case.alongside(case_dir) and time.monotonic() < deadline:
            time.sleep(clirun.POLL_S)
        result = clirun.run(spec)
        problems += [f"first writer: {p}" for p in clirun.judge(first.wait(), "ok")]
    else:
        result = clirun.run(spec)
    problems += clirun.judge(result, case.expect)
    after = clirun.snapshot(case_dir) | (world.snapshot() if hash_world else {})
    diff = clirun.changes(before, after)
    problems += [f"changed {p}" for p in diff["changed"]
                 if not (result.status == 0 and any(Path(p).match(k) for k in case.may_change))]
    problems += [f"removed {p}" for p in diff["removed"]]
    refused = result.status != 0
    if refused:
        left = [p for p in diff["new"] if not any(Path(p).match(k) for k in case.keep)]
        left = [p for p in left if not p.startswith("captures/")]
        if left:
            problems.append(f"left behind {', '.join(left[:4])}")
    world_after = world.signature()
    touched = sorted(k for k in set(world_before) | set(world_after) if world_before.get(k) != world_after.get(k))
    problems += [f"changed the shared file {t}" for t in touched]
    if case.check is not None and not result.timed_out and result.killed_by is None:
        problems += case.check(case_dir, result)
    return Outcome(case, result, problems, before=before, after=after, folder=case_dir)


def run_battery(selected: list[Case], world: World, work: Path, verbose: bool = False,
                stream=sys.stdout) -> list[Outcome]:
    outcomes = []
    for i, case in enumerate(selected):
        outcome = run_case(case, world, work, i)
        outcomes.append(outcome)
        if verbose:
            mark = "skip" if outcome.skipped else ("ok  " if outcome.clean else "FAIL")
            secs = f"{outcome.result.seconds:5.1f} s" if outcome.result else "      "
            detail = outcome.skipped or "; ".join(outcome.problems)
            msg = ""
            if outcome.result is not None:
                lines = clirun.message_lines(outcome.result.stderr)
                msg = f"  | {lines[-1][:150]}" if lines else ""
            print(f"{mark} {secs}  [{case.family}] {case.name}{('  -> ' + detail) if detail else ''}{msg}",
                  file=stream, flush=True)
    return outcomes


def summary(outcomes: list[Outcome]) -> dict:
    ran = [o for o in outcomes if o.skipped is None]
    clean = [o for o in ran if o.clean]
    families: dict[str, list[int]] = {}
    for o in ran:
        f = families.setdefault(o.case.family, [0, 0, 0])
        f[0] += o.clean
        f[1] += 1
        f[2] += o.result.status == 0
    return {
        "clean": len(clean), "ran": len(ran), "skipped": len(outcomes) - len(ran),
        "families": {k: {"clean": v[0], "ran": v[1], "exit_0": v[2]} for k, v in families.items()},
        "failures": [{"family": o.case.family, "case": o.case.name, "problems": o.problems,
                      "stderr": (o.result.stderr[-600:] if o.result else "")}
                     for o in ran if not o.clean],
        "skips": [{"case": o.case.name, "why": o.skipped} for o in outcomes if o.skipped],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bad_input", description=__doc__.splitlines()[0])
    p.add_argument("--only", help="run the cases whose name contains TEXT")
    p.add_argument("--family", help="run the families whose name contains TEXT")
    p.add_argument("--fuzz", type=int, default=0, metavar="N", help="add N flight-log and N controls mutations")
    p.add_argument("--seed", type=int, default=1, help="fuzz seed (default 1)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    p.add_argument("--verbose", action="store_true", help="one line per case")
    p.add_argument("--json", type=Path, help="write the summary here")
    p.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = p.parse_args(argv)
    selected = cases() + fuzz_cases(args.fuzz, args.seed)
    if args.only:
        selected = [c for c in selected if args.only.lower() in c.name.lower()]
    if args.family:
        selected = [c for c in selected if args.family.lower() in c.family.lower()]
    if args.list:
        for c in selected:
            print(f"[{c.family}] {c.name}: {c.command} {' '.join(c.argv)}")
        print(f"{len(selected)} cases")
        return 0
    missing = clirun.preload()
    torch_ok = not any(m.startswith("latent_odyssey.train") or m.startswith("latent_odyssey.export") for m in missing)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bad-input-"))
    t0 = time.monotonic()
    try:
        world = build_world(root / "world", torch=torch_ok)
        outcomes = run_battery(selected, world, root / "cases", verbose=args.verbose)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    s = summary(outcomes)
    s["seconds"] = round(time.monotonic() - t0, 1)
    for name, f in s["families"].items():
        print(f"  {f['clean']:3d}/{f['ran']:<3d} {name}  ({f['exit_0']} ran to the end, {f['ran'] - f['exit_0']} refused)")
    if s["failures"]:
        print("not handled cleanly:")
        for f in s["failures"]:
            print(f"  [{f['family']}] {f['case']}: {'; '.join(f['problems'])}")
    if s["skips"]:
        print(f"skipped {s['skipped']}: " + "; ".join(sorted({k['why'] for k in s['skips']})))
    print(f"{s['clean']}/{s['ran']} handled cleanly ({s['seconds']:.0f} s)")
    if args.json:
        from latent_odyssey.game import atomic

        atomic.write_json(args.json, s)
    return 0 if s["clean"] == s["ran"] else 1


if __name__ == "__main__":
    sys.exit(main())
