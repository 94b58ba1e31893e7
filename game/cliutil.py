"""Command-line helpers shared by ``odyssey``, ``odyssey-train`` and ``odyssey-export``.

* ``OneSentenceParser``: argparse that reports a mistake as one sentence on stderr and exits 2
  (no usage dump, no traceback); subclass it to set ``command`` and ``help_hint``.
* ``int_at_least(minimum, ...)``: argparse ``type=`` for whole numbers; ``positive_int``,
  ``seed_int`` and ``non_negative_float`` are ready-made ones.
* ``split_size("1280x720")`` -> (1280, 720) or None: the WIDTHxHEIGHT syntax every ``--size`` uses.
* ``ensure_writable(path, error)``: create an output file's folder, or say in one sentence why not
  (a read-only file system is called that, not "permission denied").
* ``InputError``: the one base class of every "bad input" error (a value, a model file, a
  checkpoint, a flight log, a controls file, a data set): ``str(exc)`` is one sentence and
  ``exit_status`` the status the command exits with. ``run_cli(command, body)`` runs a command's
  body and turns InputError, ``Stopped`` (SIGTERM / SIGHUP, see ``stop_on_signals``), Ctrl-C, a
  closed stdout (``| head``), any other OSError and MemoryError into one sentence on stderr and
  an exit status: no traceback reaches the user.
* ``check_size(size, minimum, what, error)``: the stated window and video size limits
  (``MAX_SIDE_PX`` per side, ``MAX_PIXELS`` in all); ``MAX_SEED`` bounds every seed.
* ``refuse_clobber(outputs, inputs, error)``: an output that is one of the command's inputs is
  refused (``odyssey replay a.mp4 a.mp4``), so no command overwrites what it reads.

Torch-free (the game uses it; ``train`` and ``export`` import it from here).
"""

from __future__ import annotations

import argparse
import errno
import math
import os
import re
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

EXIT_USAGE = 2  # exit status for a bad command line
EXIT_FAILURE = 1  # exit status for a model or runtime problem
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)
SIZE_RE = re.compile(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*")  # "1280x720", "1280 X 720", "1280×720"
MAX_SIDE_PX = 8192  # longest side of a window or a video, pixels
MAX_PIXELS = 8192 * 4352  # pixels in a window or video frame: H.264's largest frame (level 6.2)
MAX_SEED = 2**32 - 1  # largest seed any command takes
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class InputError(Exception):
    """Bad input (a command-line value or a file the user gave): ``str(exc)`` is one sentence.

    Subclasses name the input kind (``FlightLogError``, ``ControlsError``, ``ModelFileError``,
    ``CheckpointError``, ``DataError``, ...); ``exit_status`` is what the command exits with."""

    exit_status = EXIT_USAGE


class Stopped(SystemExit):
    """A stop request by signal (SIGTERM, SIGHUP; SIGINT is KeyboardInterrupt): exits with
    128 + the signal's number. ``message`` says what happened to the outputs (one sentence)."""

    def __init__(self, signum: int, message: str | None = None) -> None:
        super().__init__(128 + signum)
        self.signum = signum
        self.message = message or f"Stopped by {signal_name(signum)}."


def signal_name(signum: int) -> str:
    """``15`` -> ``"SIGTERM"``."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def stop_on_signals(before: Callable[[], object] | None = None,
                    signums: Iterable[int] = STOP_SIGNALS) -> None:
    """On SIGTERM / SIGHUP run ``before()`` (finalize what is open), then raise
    :class:`Stopped` in the main thread, so ``with`` blocks and ``finally`` clauses clean up
    (temporary files, staging folders) as they do for an exception. Main thread only."""

    def handler(signum: int, _frame: object) -> None:
        if before is not None:
            before()
        raise Stopped(signum)

    for signum in signums:
        signal.signal(signum, handler)


OS_REASONS = {  # errno -> words, where the system's own (strerror) would puzzle a user
    errno.EEXIST: "a file of that name is in the way",
}


def os_reason(exc: BaseException) -> str:
    """The human reason of an OSError (errno-aware), without a final period."""
    code = getattr(exc, "errno", None)
    if code in OS_REASONS:
        return OS_REASONS[code]
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return one_line(str(reason)).rstrip(".")


def describe_os_error(exc: OSError, action: str = "use") -> str:
    """One sentence for an OSError: ``Cannot write /x/y: the disk is full (...).``"""
    name = getattr(exc, "filename", None)
    where = f" {name}" if name else ""
    return f"Cannot {action}{where}: {os_reason(exc)}."


QUOTE_CHARS = 40  # longest user value quoted whole in a sentence
QUOTED_RE = re.compile("|".join(rf"{a}[^{a}{b}\n]{{{QUOTE_CHARS},}}{b}" for a, b in (("'", "'"), ('"', '"'), (r"\[", r"\]"))))


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)``, cut to about ``limit`` characters (a hostile file's 5,000-character
    "name" must not become a 5,000-character sentence)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "..." + text[-1]


def clip_quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` with every quoted value or ``[section]`` longer than ``limit`` cut short."""
    return QUOTED_RE.sub(lambda m: m.group(0)[: limit - 4] + "..." + m.group(0)[-1], text)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


def say(command: str, message: str) -> None:
    """Print ``COMMAND: Message.`` on stderr: one line, a finished sentence; never raises."""
    text = one_line(message)
    if text and text[-1] not in ".!?)\"'":
        text += "."
    try:
        sys.stderr.write(f"{command}: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's exit flush is quiet."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def run_cli(command: str, body: Callable[[], int]) -> int:
    """Run a command's ``body`` and return its exit status; every failure a user can cause
    becomes one sentence on stderr (see the module docstring), never a traceback."""
    try:
        status = body()
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return status
    except InputError as exc:
        say(command, str(exc))
        return exc.exit_status
    except Stopped as exc:
        say(command, exc.message)
        return int(exc.code)
    except KeyboardInterrupt:
        say(command, "interrupted.")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (odyssey info | head -1): end quietly
        _quiet_stdout()
        return 0
    except OSError as exc:
        say(command, describe_os_error(exc))
        return EXIT_FAILURE
    except MemoryError:
        say(command, "Ran out of memory; try a smaller size or limit.")
        return EXIT_FAILURE


class OneSentenceParser(argparse.ArgumentParser):
    """argparse that reports mistakes as one sentence on stderr: ``COMMAND: Sentence.``
    (with `` (see COMMAND --help)`` when ``help_hint``), then exits with ``EXIT_USAGE``."""

    command = "odyssey"  # the name before the colon (also for subcommands' parsers)
    help_hint = True

    def error(self, message: str) -> None:  # type: ignore[override]
        text = message.strip().rstrip(".")
        text = text[:1].upper() + text[1:]
        hint = f" (see {self.command} --help)" if self.help_hint else ""
        sys.stderr.write(f"{self.command}: {text}{hint}.\n")
        raise SystemExit(EXIT_USAGE)


def int_at_least(minimum: int, what: str = "", too_small: str | None = None,
                 maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number >= ``minimum`` (and <= ``maximum`` when given).
    ``what`` names the value in the sentence (``"seed"``); ``too_small`` says what is wrong
    below the minimum (default ``"must be at least MINIMUM"``)."""
    prefix = f"{what} " if what else ""
    below = too_small or f"must be at least {minimum}"

    def convert(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{prefix}{value!r} is not a whole number") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{prefix}{value!r} {below}")
        if maximum is not None and n > maximum:
            raise argparse.ArgumentTypeError(f"{prefix}{value!r} must be at most {maximum}")
        return n

    return convert


positive_int = int_at_least(1)
seed_int = int_at_least(0, "seed", f"must be from 0 to {MAX_SEED}", maximum=MAX_SEED)


def check_seed(seed: object, error: Callable[[str], Exception], what: str = "Seed") -> int:
    """``seed`` as a whole number from 0 to ``MAX_SEED``, else ``error(sentence)``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise error(f"{what} {seed!r} must be a whole number from 0 to {MAX_SEED}.")
    return seed


def check_size(size: tuple[int, int], minimum: tuple[int, int], what: str,
               error: Callable[[str], Exception], shown: str | None = None) -> tuple[int, int]:
    """``size`` (W, H) within the stated limits: at least ``minimum``, at most ``MAX_SIDE_PX``
    per side and ``MAX_PIXELS`` in all (larger frames crash SDL or cannot be encoded), else
    ``error(sentence)`` naming the limit. ``what``: ``"Window size"``, ``"Video size"``;
    ``shown``: the size as the user typed it (default ``WxH``)."""
    w, h = size
    shown = shown or f"{w}x{h}"
    if w < minimum[0] or h < minimum[1]:
        raise error(f"{what} {shown} is too small; the smallest is {minimum[0]}x{minimum[1]}.")
    if w > MAX_SIDE_PX or h > MAX_SIDE_PX or w * h > MAX_PIXELS:
        raise error(f"{what} {shown} is too large; the limit is {MAX_SIDE_PX} pixels per side and "
                    f"{MAX_PIXELS / 1e6:.1f} million pixels in all (8192x4352).")
    return w, h


def non_negative_float(value: str) -> float:
    """An argparse ``type=``: a finite number >= 0."""
    try:
        v = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not (math.isfinite(v) and v >= 0):
        raise argparse.ArgumentTypeError(f"{value} must be a finite number >= 0")
    return v


def split_size(value: str) -> tuple[int, int] | None:
    """``"1280x720"`` -> (1280, 720); None when ``value`` is not WIDTHxHEIGHT (ranges are the
    caller's to check)."""
    m = SIZE_RE.fullmatch(str(value))
    return (int(m.group(1)), int(m.group(2))) if m else None


def size_at_least(minimum: tuple[int, int]) -> Callable[[str], tuple[int, int]]:
    """An argparse type for ``WIDTHxHEIGHT`` sizes of at least ``minimum`` (one-sentence errors)."""

    def convert(value: str) -> tuple[int, int]:
        size = split_size(value)
        if size is None:
            raise argparse.ArgumentTypeError(f"{value!r} is not WIDTHxHEIGHT")
        if size[0] < minimum[0] or size[1] < minimum[1]:
            raise argparse.ArgumentTypeError(f"{value!r} must be at least {minimum[0]}x{minimum[1]}")
        return size

    convert.__name__ = "size"
    return convert


def ensure_writable(path: Path, error: Callable[[str], Exception], what: str = "") -> Path:
    """Create the folder of the output file ``path``; raise ``error(sentence)`` when it cannot
    be made or the file cannot be written. ``what`` names the file in the sentences (``"the
    screenshot"``; default its name)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(f"Cannot create the folder {folder} for {what or path.name}: {os_reason(exc)}.") from None
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        reason = "the file system is read-only" if read_only(folder) else "permission denied"
        raise error(f"Cannot write {what + ' ' if what else ''}{path}: {reason}.")
    return path


def read_only(folder: Path) -> bool:
    """True when ``folder`` lies on a file system mounted read-only."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file (an existing one by inode, else by the
    resolved path)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def refuse_clobber(outputs: Iterable[Path], inputs: Iterable[Path | None],
                   error: Callable[[str], Exception]) -> None:
    """Raise ``error(sentence)`` when an output path is one of the command's inputs: writing
    it would destroy what the command reads (``odyssey replay a.mp4 a.mp4``)."""
    ins = [Path(p) for p in inputs if p is not None]
    for out in outputs:
        for src in ins:
            if same_file(Path(out), src):
                raise error(f"The output {out} is the input {src}; writing it would destroy the "
                            f"input, so choose another output name.")
