"""Atomic file writes: readers see the old file or the whole new one, never half of one.

The data goes to a hidden temporary file in the target's folder (``.NAME.XXXXXXXX{suffix}``;
the folder is created), is flushed and fsync-ed, then ``os.replace``-d over the target. On
any exception (Ctrl-C included) the temporary file is removed and the target is untouched.
The file gets the permissions a plain ``open(path, "w")`` would give it (0666 less umask).

* ``atomic_path(path, suffix)``: a context manager yielding the temporary path, for writers
  that want a file name (``pygame.image.save``, ``PIL.Image.save``, ``savefig``); the suffix
  keeps the extension they read the format from.
* ``atomic_file(path, mode)``: a context manager yielding the open temporary file.
* ``write_bytes``, ``write_text``, ``write_json``: the whole file in one call.

Torch-free (the game uses it; ``train``, ``export`` and the benchmarks import it from here).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

TEMP_SUFFIX = ".partial"  # default ending of temporary files


def _create_temp(path: Path, suffix: str) -> Path:
    """A new, empty, uniquely named hidden file beside ``path``."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{suffix}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside {path}")


@contextmanager
def atomic_path(path: Path | str, suffix: str = TEMP_SUFFIX) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends normally, fsync it and
    rename it over ``path``; on an exception remove it (``path`` is untouched)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _create_temp(path, suffix)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDWR)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_file(path: Path | str, mode: str = "wb", suffix: str = TEMP_SUFFIX,
                encoding: str | None = None) -> Iterator[IO[Any]]:
    """Yield the temporary file beside ``path``, open for writing (``mode`` "wb" or "w");
    see ``atomic_path`` for what happens when the block ends."""
    with atomic_path(path, suffix) as tmp, open(tmp, mode, encoding=encoding) as fh:
        yield fh


def write_bytes(path: Path | str, data: bytes, suffix: str = TEMP_SUFFIX) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_file(path, "wb", suffix) as fh:
        fh.write(data)
    return Path(path)


def write_text(path: Path | str, text: str, suffix: str = TEMP_SUFFIX) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_file(path, "w", suffix, encoding="utf-8") as fh:
        fh.write(text)
    return Path(path)


def write_json(path: Path | str, obj: Any, indent: int = 2, suffix: str = TEMP_SUFFIX) -> Path:
    """Write ``obj`` as indented JSON plus a newline to ``path`` atomically; returns ``path``."""
    return write_text(path, json.dumps(obj, indent=indent) + "\n", suffix)
