"""One writer per output file: ``with OutputLock(path, error):`` around everything that writes
``path`` (and the files named after it, such as its flight log).

A second process that wants the same output while the first holds it gets ``error(sentence)``
at once (naming the process id), instead of both writing and renaming over each other. The
lock is an advisory ``flock`` on a hidden ``.NAME.lock`` file beside the output, so it is let go
when the holder exits in any way (even SIGKILL: the next writer takes it over); the file is
removed on a clean exit. Where ``fcntl`` does not exist (Windows) the lock does nothing and the
unique temporary names (``encoder.partial_name``) still keep two writers from mixing files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from latent_odyssey.game.cliutil import os_reason

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


class OutputLock:
    """An exclusive, non-blocking lock on the output ``path`` (see the module docstring)."""

    def __init__(self, path: Path, error: Callable[[str], Exception]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(f".{self.path.name}.lock")
        self.error = error
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        if fcntl is None:
            return self
        for _attempt in range(3):  # the holder may remove the file between our open and lock
            try:
                fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError as exc:
                raise self.error(f"Cannot write {self.path}: {os_reason(exc)}.") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_pid(fd)
                os.close(fd)
                who = f" (process {holder})" if holder else ""
                raise self.error(f"Another odyssey command{who} is writing {self.path} now; wait for it "
                                 f"to finish or choose another name.") from None
            if _same_file(fd, self.lock_path):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                return self
            os.close(fd)
        raise self.error(f"Cannot lock {self.path} for writing; try again.")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _same_file(fd, self.lock_path):
                self.lock_path.unlink()
        except OSError:
            pass
        os.close(fd)  # lets go of the flock


def _same_file(fd: int, path: Path) -> bool:
    try:
        a, b = os.fstat(fd), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""
