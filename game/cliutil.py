"""Command-line helpers shared by ``odyssey``, ``odyssey-train`` and ``odyssey-export``.

* ``OneSentenceParser``: argparse that reports a mistake as one sentence on stderr and exits 2
  (no usage dump, no traceback); subclass it to set ``command`` and ``help_hint``.
* ``int_at_least(minimum, ...)``: argparse ``type=`` for whole numbers; ``positive_int``,
  ``seed_int`` and ``non_negative_float`` are ready-made ones.
* ``split_size("1280x720")`` -> (1280, 720) or None: the WIDTHxHEIGHT syntax every ``--size`` uses.
* ``ensure_writable(path, error)``: create an output file's folder, or say in one sentence why not.

Torch-free (the game uses it; ``train`` and ``export`` import it from here).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

EXIT_USAGE = 2  # exit status for a bad command line
EXIT_FAILURE = 1  # exit status for a model or runtime problem
SIZE_RE = re.compile(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*")  # "1280x720", "1280 X 720", "1280×720"


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


def int_at_least(minimum: int, what: str = "", too_small: str | None = None) -> Callable[[str], int]:
    """An argparse ``type=``: a whole number >= ``minimum``. ``what`` names the value in the
    sentence (``"seed"``); ``too_small`` says what is wrong below the minimum (default
    ``"must be at least MINIMUM"``)."""
    prefix = f"{what} " if what else ""
    below = too_small or f"must be at least {minimum}"

    def convert(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{prefix}{value!r} is not a whole number") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{prefix}{value!r} {below}")
        return n

    return convert


positive_int = int_at_least(1)
seed_int = int_at_least(0, "seed", "must not be negative")


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
        raise error(f"Cannot create the folder {folder} for {what or path.name} ({exc.strerror or exc}).") from None
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise error(f"Cannot write {what + ' ' if what else ''}{path}: permission denied.")
    return path
