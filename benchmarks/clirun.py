"""Run a command of ours the way a user would, and judge what the user sees and what is left.

Used by the bad-input battery (``benchmarks/bad_input.py``) and ``tests/test_hardening.py``.

* :func:`run` starts ``odyssey``, ``odyssey-train`` or ``odyssey-export`` with ``argv`` in a
  folder and an environment of its own: by default as ``main(argv)`` in a *forked child* of
  this process (the imports, torch's included, are paid once: :func:`preload`), or as a real
  ``python -m`` subprocess (``fresh=True``, for cases that need a process nobody has touched,
  such as one with no display). The child's stdin is /dev/null; stdout and stderr go to files
  (or stdout to a pipe nobody reads, ``stdout_closed=True``: ``| head -0``). Optional: a file
  size limit (``RLIMIT_FSIZE``: writes fail with EFBIG, like a full quota), private tmpfs
  mounts (``readonly`` sub-folders become read-only file systems, ``full`` ones tiny file
  systems that fill up: ENOSPC; root only, :func:`can_mount`), and a signal sent once
  ``signal_when()`` is true. A forked child mirrors the interpreter's exit: SystemExit's
  code, a traceback and status 1 for an uncaught exception, then the ``atexit`` handlers. It
  runs torch on one thread: OpenMP's thread pool does not survive a fork, so a child of a
  process that has trained (a pytest session) would otherwise hang in its first parallel op;
  and it never garbage-collects what it inherited (``gc.freeze``; the parent collects just
  before the fork), whose destructors would reach for the parent's threads.
* :func:`judge` lists what is wrong with a :class:`Result`: a hang, a crash (killed by a
  signal), a traceback, a wrong exit status, and stderr that is not exactly one sentence
  ``COMMAND: ....`` (progress lines aside) for a refusal, or not silent for a success.
* :func:`snapshot` / :func:`changes`: the sha256 of every file under a folder, before and
  after, as "changed", "removed" and "new" lists.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import importlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COMMANDS = {  # command -> (module with main(argv), module run by ``python -m``)
    "odyssey": ("latent_odyssey.game.cli", "latent_odyssey.game"),
    "odyssey-train": ("latent_odyssey.train.cli", "latent_odyssey.train"),
    "odyssey-export": ("latent_odyssey.export.cli", "latent_odyssey.export"),
}
# Modules the commands import lazily: imported once here, so forked children start at once.
HEAVY_MODULES = {  # torch._dynamo: what the first torch.optim.Adam() imports (about 2 s)
    "odyssey-train": ("latent_odyssey.train.trainer", "latent_odyssey.train.report", "torch._dynamo"),
    "odyssey-export": ("latent_odyssey.export.exporter", "latent_odyssey.export.card",
                       "latent_odyssey.export.attributes", "torch._dynamo"),
}
POLL_S = 0.02  # how often a running child is checked
MAX_SENTENCE_CHARS = 400  # a longer "sentence" is a dump, not a message
# stderr lines that are progress, not messages: record/replay bars, training's epoch lines, tqdm
PROGRESS_RE = re.compile(r"^(\S.* \[[#.]+\] \d+/\d+ frames|epoch +\d+/\d+ |epoch \d+/\d+:)")
SENTENCE_END_RE = re.compile(r"[.!?][\"')\]]*$")
CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_REC, MS_PRIVATE = 1, 0x4000, 1 << 18


@dataclass
class Result:
    """How a run ended: ``status`` as a shell reports it (128 + N when killed by signal N)."""

    command: str
    argv: list[str]
    status: int
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False
    killed_by: int | None = None  # the signal that killed it (a crash), not counting ours
    sent_signal: int | None = None  # the signal we sent, if any


# Commands that run PyTorch always start as a fresh process: a forked child of a process whose
# OpenMP pool has run (a pytest session that trained a model) can hang in that pool, even on
# one thread (seen in CI: the tiny training run of the battery's world killed at its timeout).
TORCH_COMMANDS = frozenset({"odyssey-train", "odyssey-export"})


@dataclass
class Run:
    """What to run and how (see the module docstring)."""

    command: str
    argv: list[str]
    cwd: Path
    env: Mapping[str, str | None] = field(default_factory=dict)  # None deletes a variable
    timeout_s: float = 60.0
    fresh: bool = False
    stdout_closed: bool = False
    fsize_bytes: int | None = None
    readonly: tuple[str, ...] = ()  # sub-folders of cwd mounted read-only (tmpfs)
    full: Mapping[str, int] = field(default_factory=dict)  # sub-folder -> tmpfs size in bytes
    signal_when: tuple[int, Callable[[], bool]] | None = None
    logs: Path | None = None  # where stdout/stderr files go (default: cwd's parent)
    mem_bytes: int | None = None  # RLIMIT_DATA: a run that reads without end fails, not the machine


def preload(commands: tuple[str, ...] = tuple(COMMANDS)) -> list[str]:
    """Import the commands' modules (and their lazy imports) now; returns those that failed."""
    missing = []
    for command in commands:
        for module in (COMMANDS[command][0], *HEAVY_MODULES.get(command, ())):
            try:
                importlib.import_module(module)
            except ImportError:
                missing.append(module)
    return missing


_MOUNT_OK: bool | None = None


def can_mount() -> bool:
    """True when this process may make private tmpfs mounts (root, mount namespaces)."""
    global _MOUNT_OK
    if _MOUNT_OK is None:
        if os.geteuid() != 0 or not sys.platform.startswith("linux"):
            _MOUNT_OK = False
        else:
            pid = os.fork()
            if pid == 0:
                probe = Path(f"/tmp/.clirun-probe-{os.getpid()}")
                try:
                    probe.mkdir()
                    _private_mounts(probe.parent, (probe.name,), {})
                    os._exit(0)
                except BaseException:
                    os._exit(1)
            _MOUNT_OK = os.waitpid(pid, 0)[1] == 0
            Path(f"/tmp/.clirun-probe-{pid}").rmdir()
    return _MOUNT_OK


def _private_mounts(cwd: Path, readonly: tuple[str, ...], full: Mapping[str, int]) -> None:
    """In this (child) process only: tmpfs mounts over sub-folders of ``cwd``."""
    if not readonly and not full:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS) failed")
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "making / private failed")
    mounts = [(name, MS_RDONLY, b"size=64k") for name in readonly]
    mounts += [(name, 0, f"size={size}".encode()) for name, size in full.items()]
    for name, flags, data in mounts:
        target = cwd / name
        target.mkdir(parents=True, exist_ok=True)
        if libc.mount(b"tmpfs", str(target).encode(), b"tmpfs", flags, data) != 0:
            raise OSError(ctypes.get_errno(), f"mounting a tmpfs on {target} failed")


def _child_setup(spec: Run) -> None:
    """What every child does before the command: limits and mounts."""
    if spec.fsize_bytes is not None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (spec.fsize_bytes, spec.fsize_bytes))
    if spec.mem_bytes is not None:
        resource.setrlimit(resource.RLIMIT_DATA, (spec.mem_bytes, spec.mem_bytes))
    _private_mounts(spec.cwd, spec.readonly, spec.full)


def _environment(overrides: Mapping[str, str | None]) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO.parent), env.get("PYTHONPATH")) if p)
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _forked_main(spec: Run, out_fd: int, err_fd: int) -> None:
    """In the forked child: become the command, then exit like the interpreter would."""
    import atexit

    # Everything inherited from the parent is left alone: a garbage collection in the child that
    # finalised the parent's objects (an onnxruntime session, a PyAV codec) would run their
    # destructors against thread pools that do not exist after a fork (seen: SIGSEGV while
    # "Garbage-collecting" in a child of the test session, and hangs).
    gc.freeze()
    status = 1
    try:
        os.setpgid(0, 0)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace",
                          closefd=False)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as the interpreter sets it
        env = _environment(spec.env)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(spec.cwd)
        _child_setup(spec)
        if "torch" in sys.modules:  # OpenMP's pool does not survive a fork (a parent that trained
            sys.modules["torch"].set_num_threads(1)  # would hang the child): one thread, no pool
        main = importlib.import_module(COMMANDS[spec.command][0]).main
        sys.argv = [spec.command, *spec.argv]
        try:
            status = main(list(spec.argv))
        except SystemExit as exc:
            code = exc.code
            if code is None or isinstance(code, int):
                status = code or 0
            else:
                print(code, file=sys.stderr)
                status = 1
        status = 0 if status is None else int(status)
    except BaseException:
        traceback.print_exc()
        status = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
    except BaseException:
        traceback.print_exc()
        status = status or 120
    try:
        sys.stderr.flush()
    finally:
        os._exit(status)


class Running:
    """A started command (:func:`start`); :meth:`wait` returns its :class:`Result`."""

    def __init__(self, spec: Run) -> None:
        self.spec = spec
        logs = spec.logs or spec.cwd.parent
        logs.mkdir(parents=True, exist_ok=True)
        tag = f"{spec.cwd.name}-{os.getpid()}-{time.monotonic_ns()}"
        self.out_path, self.err_path = logs / f"{tag}.stdout", logs / f"{tag}.stderr"
        self.t0 = time.monotonic()
        with open(self.out_path, "wb") as out_f, open(self.err_path, "wb") as err_f:
            out_fd = out_f.fileno()
            if spec.stdout_closed:
                read_end, out_fd = os.pipe()
                os.close(read_end)  # nobody will ever read: writes fail with EPIPE
            if spec.fresh or spec.command in TORCH_COMMANDS:
                proc = subprocess.Popen(
                    [sys.executable, "-m", COMMANDS[spec.command][1], *spec.argv], cwd=spec.cwd,
                    env=_environment(spec.env), stdin=subprocess.DEVNULL, stdout=out_fd,
                    stderr=err_f, preexec_fn=lambda: _child_setup(spec), start_new_session=True,
                )
                self.pid = proc.pid
                proc.returncode = 0  # reaped by _wait, not by Popen
            else:
                sys.stdout.flush()
                sys.stderr.flush()
                gc.collect()  # garbage of earlier work dies here, where its threads still exist
                self.pid = os.fork()
                if self.pid == 0:
                    _forked_main(spec, out_fd, err_f.fileno())
            if spec.stdout_closed:
                os.close(out_fd)

    def wait(self) -> Result:
        status, killed_by, timed_out, sent = _wait(self.pid, self.spec, self.t0)
        seconds = time.monotonic() - self.t0
        stdout = self.out_path.read_text(encoding="utf-8", errors="replace")
        stderr = self.err_path.read_text(encoding="utf-8", errors="replace")
        self.out_path.unlink()
        self.err_path.unlink()
        return Result(self.spec.command, list(self.spec.argv), status, stdout, stderr, seconds,
                      timed_out, killed_by, sent)


def start(spec: Run) -> Running:
    """Start one command as described by ``spec`` (see :class:`Running`)."""
    return Running(spec)


def run(spec: Run) -> Result:
    """Run one command as described by ``spec``; waits for it (killing it after the timeout)."""
    return start(spec).wait()


def _wait(pid: int, spec: Run, t0: float) -> tuple[int, int | None, bool, int | None]:
    """Wait for ``pid``, sending ``spec.signal_when``'s signal once it is ready."""
    pending = spec.signal_when
    sent = None
    timed_out = False
    while True:
        done, wstatus = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if pending is not None and pending[1]():
            os.kill(pid, pending[0])
            sent, pending = pending[0], None
        if time.monotonic() - t0 > spec.timeout_s and not timed_out:
            timed_out = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                os.kill(pid, signal.SIGKILL)
        time.sleep(POLL_S)
    if os.WIFSIGNALED(wstatus):
        signum = os.WTERMSIG(wstatus)
        return 128 + signum, (None if timed_out else signum), timed_out, sent
    return os.WEXITSTATUS(wstatus), None, timed_out, sent


# ----------------------------------------------------------------------------- judging


def message_lines(stderr: str) -> list[str]:
    """The non-empty stderr lines that are not progress (bars, epoch lines)."""
    lines = []
    for raw in stderr.replace("\r", "\n").splitlines():
        line = raw.strip()
        if line and not PROGRESS_RE.match(line):
            lines.append(line)
    return lines


def judge(result: Result, expect: str | int) -> list[str]:
    """What is wrong with ``result``: [] when it is clean.

    ``expect``: ``"ok"`` (status 0, nothing but progress on stderr), ``"refuse"`` (a
    non-zero status below 128 and exactly one sentence), ``"any"`` (either of the two), or an
    exit status (one sentence, that status: 130 for Ctrl-C, 143 for SIGTERM).
    """
    problems: list[str] = []
    if result.timed_out:
        return [f"hung: still running after {result.seconds:.0f} s"]
    if result.killed_by is not None:
        name = signal.Signals(result.killed_by).name
        return [f"crashed: killed by {name}"]
    if "Traceback (most recent call last)" in result.stderr:
        last = [ln for ln in result.stderr.splitlines() if ln.strip()][-1:]
        problems.append(f"traceback ({last[0].strip()[:120] if last else '?'})")
    lines = message_lines(result.stderr)
    if expect == "any":
        expect = "ok" if result.status == 0 else "refuse"
    if expect == "ok":
        if result.status != 0:
            problems.append(f"exit status {result.status}, expected 0")
        if lines and not problems:
            problems.append(f"stderr not silent: {lines[0][:160]!r}")
        return problems
    if expect == "refuse":
        if not 0 < result.status < 128:
            problems.append(f"exit status {result.status}, expected a refusal (1-127)")
    elif result.status != expect:
        problems.append(f"exit status {result.status}, expected {expect}")
    problems += sentence_problems(lines, result.command)
    return problems


def sentence_problems(lines: list[str], command: str) -> list[str]:
    """Problems with a refusal's stderr lines: exactly one ``COMMAND: Sentence.`` is right."""
    if not lines:
        return ["no message on stderr"]
    if len(lines) > 1:
        return [f"{len(lines)} lines on stderr, expected one sentence: {lines[0][:100]!r} ..."]
    line = lines[0]
    problems = []
    if not line.startswith(f"{command}: "):
        problems.append(f"message does not start with '{command}: ': {line[:120]!r}")
    if not SENTENCE_END_RE.search(line):
        problems.append(f"message is not a finished sentence: {line[-80:]!r}")
    if len(line) > MAX_SENTENCE_CHARS:
        problems.append(f"message is {len(line)} characters long")
    if re.search(r"\b[A-Z][A-Za-z]*(Error|Exception)\b(:| \()", line):
        problems.append(f"message quotes an exception type: {line[:160]!r}")
    return problems


# ----------------------------------------------------------------------------- files


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every regular file under ``folder`` (hidden ones too);
    other entries (folders aside) as ``"<fifo>"`` and the like."""
    out: dict[str, str] = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            rel = str(path.relative_to(folder))
            try:
                out[rel] = sha256_file(path) if path.is_file() and not path.is_symlink() else "<special>"
            except OSError:
                out[rel] = "<unreadable>"
        for name in _dirs:
            if name.startswith("."):
                out[str((Path(root) / name).relative_to(folder)) + "/"] = "<hidden folder>"
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> dict[str, list[str]]:
    """{"changed": [...], "removed": [...], "new": [...]} between two snapshots."""
    return {
        "changed": sorted(k for k in before if k in after and after[k] != before[k]),
        "removed": sorted(k for k in before if k not in after),
        "new": sorted(k for k in after if k not in before),
    }
