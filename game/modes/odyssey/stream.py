"""Streaming the field: a store of decoded field images and a worker that fills it ahead.

:class:`FieldStore` keeps the decoded images of the field's lattice points by key (their
integer lattice index), so each point is decoded once while it stays near the ship; it
forgets the least recently shown ones past ``capacity``. :class:`FieldStream` is a daemon
thread that decodes what the scene asks for (the frontier ahead of the ship, nearest
first) in small batches through the model's decoder (onnxruntime releases the GIL, so the
frame loop keeps drawing), optionally turns each image into a drawing payload there too
(``prepare(image, extra)``: numpy work such as a billboard sprite's pixels, which releases
the GIL in its array loops), and hands the results back; the frame collects them with
``drain()``. A new ``request`` replaces the pending one. ``prepare_later`` queues numpy work on
an image already decoded (the crisp large sprite of a billboard about to be seen big, the
crisp pixels of a new tunnel layer); the worker does up to JOBS_PER_CHUNK of them before each
chunk of decodes and after the last (then it looks for a new request, and else goes on with
the jobs), and ``take_prepared()`` hands the results back. ``stop()`` joins the thread.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np

from latent_odyssey.game.model.ahead import DecodeAhead

STREAM_CHUNK = 8  # images per decode in the worker (small, so a new request is picked up soon)
JOBS_KEPT = 32  # prepare_later jobs waiting at most (the oldest are dropped)
JOBS_PER_CHUNK = 4  # jobs done before each chunk of decodes (then the decodes go on: a stream of
# jobs, e.g. a moving grid's crisp cells, never holds back the field's frontier)
STORE_BYTES = 48 * 1024 * 1024  # decoded field images kept (28x28 RGB: ~20k, 64x64: ~4k)


class FieldStore:
    """Decoded images (H, W, 3) uint8 by key, least recently used dropped past ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(16, int(capacity))
        self._images: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self.serial = 0  # bumped by clear(): results of an older serial are ignored

    def __len__(self) -> int:
        return len(self._images)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._images

    def get(self, key: Hashable) -> np.ndarray | None:
        """The image of ``key`` (marked as recently used), or None."""
        img = self._images.get(key)
        if img is not None:
            self._images.move_to_end(key)
        return img

    def put(self, key: Hashable, image: np.ndarray) -> None:
        self._images[key] = image
        self._images.move_to_end(key)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (a new lattice: new spacing or subspace)."""
        self._images.clear()
        self.serial += 1


def store_capacity(image_shape: Sequence[int]) -> int:
    """How many decoded images of ``image_shape`` (C, H, W) fit in ``STORE_BYTES``."""
    _c, h, w = (int(v) for v in image_shape)
    return max(256, STORE_BYTES // max(1, h * w * 3))


class FieldStream(DecodeAhead):
    """A daemon thread decoding requested field points (see the module docstring); the
    thread, ``wait_idle`` and ``stop`` are :class:`DecodeAhead`'s."""

    def __init__(self, decoder, chunk: int = STREAM_CHUNK,
                 prepare: Callable[[np.ndarray, Any], Any] | None = None) -> None:
        self.prepare = prepare
        self.images_decoded = 0  # by this worker, so far
        self.requests = 0
        self._done: list[tuple[int, Hashable, np.ndarray, Any]] = []
        self._jobs: list[tuple[int, Hashable, np.ndarray, Any]] = []  # prepare_later, oldest first
        self._prepared: list[tuple[int, Hashable, Any]] = []  # ... and their results
        self._tail = False  # the running request no longer looks at the jobs
        super().__init__(decoder, chunk)

    def request(self, serial: int, keys: list, zs: np.ndarray, extras: list | None = None) -> None:
        """Decode ``zs`` (N, D) for ``keys`` soon, in order (replaces the previous request).
        ``serial`` is the store's serial: results from an older one are dropped by ``drain``.
        ``extras[i]`` goes to ``prepare`` with image i."""
        extras = list(extras) if extras is not None else [None] * len(keys)
        with self._cond:
            self._pending = (serial, list(keys), np.array(zs, np.float32, copy=True), extras)
            self.requests += 1
            self._cond.notify()

    def prepare_later(self, serial: int, key: Hashable, image: np.ndarray, extra: Any) -> None:
        """Run ``prepare(image, extra)`` on the worker soon; ``take_prepared`` hands back
        (serial, key, payload). Does not replace the pending request."""
        with self._cond:
            self._jobs.append((serial, key, image, extra))
            del self._jobs[:-JOBS_KEPT]
            if self._pending is None and (not self._busy or self._tail):  # wake the worker
                self._pending = (serial, [], np.zeros((0, 0), np.float32), [])
            self._cond.notify()

    def drain(self, store: FieldStore, payloads: dict | None = None) -> int:
        """Move the finished images into ``store`` and their payloads into ``payloads``
        (results for an old serial are dropped); returns how many arrived."""
        with self._cond:
            done, self._done = self._done, []
        n = 0
        for serial, key, img, payload in done:
            if serial == store.serial:
                store.put(key, img)
                if payloads is not None and payload is not None:
                    payloads[key] = payload
                n += 1
        return n

    def take_prepared(self) -> list[tuple[int, Hashable, Any]]:
        """The finished ``prepare_later`` jobs: (serial, key, payload), oldest first."""
        with self._cond:
            done, self._prepared = self._prepared, []
        return done

    def _run_jobs(self, limit: int | None = None) -> None:
        """Do the queued ``prepare_later`` jobs, oldest first (at most ``limit`` of them)."""
        done = 0
        while self.prepare is not None and (limit is None or done < limit):
            done += 1
            with self._cond:
                if not self._jobs or self._stop:
                    return
                serial, key, image, extra = self._jobs.pop(0)
            payload = self.prepare(image, extra)
            with self._cond:
                self._prepared.append((serial, key, payload))

    def _run(self, work: tuple[int, list, np.ndarray, list]) -> None:
        """Decode a request in chunks (and prepare each image), ending early when superseded;
        queued ``prepare_later`` jobs go first, before each chunk."""
        serial, keys, zs, extras = work
        with self._cond:
            self._tail = False
        self._run_jobs(JOBS_PER_CHUNK)
        for i in range(0, len(keys), self.chunk):
            if i > 0 and self._superseded():  # (the first chunk, nearest first, is always done:
                break  # requests renewed every frame while jobs come must not starve the decodes)
            self._run_jobs(JOBS_PER_CHUNK)
            images = self.decoder.to_rgb8(self.decoder.run_raw(zs[i : i + self.chunk]))
            payloads = [self.prepare(img, x) if self.prepare is not None else None
                        for img, x in zip(images, extras[i : i + self.chunk], strict=True)]
            with self._cond:
                self._done.extend((serial, k, img, pl) for k, img, pl
                                  in zip(keys[i : i + self.chunk], images, payloads, strict=True))
                self.images_decoded += len(images)
        self._run_jobs(JOBS_PER_CHUNK)  # (bounded: jobs queued as fast as they are done must not
        # keep a new request waiting; the rest are done on the next round)
        with self._cond:  # jobs queued from now on wake the worker again
            self._tail = True
            if self._jobs and self._pending is None and not self._stop:
                self._pending = (serial, [], np.zeros((0, 0), np.float32), [])
