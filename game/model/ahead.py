"""Decode ahead: a daemon thread that decodes latents the game will need soon into the
decoder's cache (the tour ahead, the tunnel layers, grid cells), so they are cached when the
ship arrives. onnxruntime releases the GIL while it runs, so the frame loop keeps drawing
meanwhile. A new ``submit`` replaces the request being worked on.
"""

from __future__ import annotations

import threading

import numpy as np

AHEAD_CHUNK = 8  # images per decode in the worker (small, so a new request is picked up soon)


class DecodeAhead:
    """A daemon thread that decodes requested latents into the decoder's cache.

    ``submit(zs)`` (N, D) replaces whatever was pending (the newest plan wins; rows are
    decoded in order, so put the soonest first). ``stop()`` ends the thread and joins it.
    """

    def __init__(self, decoder, chunk: int = AHEAD_CHUNK) -> None:
        self.decoder = decoder
        self.chunk = int(chunk)
        self.images_requested = 0  # rows handed to decode_batch so far
        self.batches = 0  # decode_batch calls so far
        self._pending: np.ndarray | None = None
        self._cond = threading.Condition()
        self._stop = False
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="odyssey-decode-ahead", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, zs: np.ndarray) -> None:
        """Ask for ``zs`` (N, D) to be decoded soon (replaces the previous request)."""
        with self._cond:
            self._pending = np.array(zs, dtype=np.float32, copy=True)
            self._cond.notify()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is pending or running (for tests and benchmarks)."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._pending is None and not self._busy, timeout=timeout
            )

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread (the current chunk finishes first) and join it."""
        with self._cond:
            self._stop = True
            self._pending = None
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stop or self._pending is not None)
                if self._stop:
                    self._busy = False
                    self._cond.notify_all()
                    return
                work, self._pending = self._pending, None
                self._busy = True
            self._run(work)
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _superseded(self) -> bool:
        """True when stop() or a newer request arrived (the work in hand should end)."""
        with self._cond:
            return self._stop or self._pending is not None

    def _run(self, work: np.ndarray) -> None:
        """Decode ``work`` (N, D) in chunks into the decoder's cache, ending early when
        superseded (a subclass may hand other work to ``_pending`` and run it here)."""
        for i in range(0, len(work), self.chunk):
            if self._superseded():
                break
            part = work[i : i + self.chunk]
            self.decoder.decode_batch(part)
            self.batches += 1
            self.images_requested += len(part)
