"""Batched decoding with a small cache keyed by latent position.

One ``decode_batch`` call = one onnxruntime ``run`` for every image a frame needs that is not
already cached, so a still scene costs no decode at all. Images come back ready to blit:
uint8 ``(H, W, 3)`` (grey models are expanded to RGB).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

import numpy as np

from latent_odyssey.game.model.modelfile import DECODER_INPUT, ModelMeta

CACHE_ENTRIES = 512  # decoded images kept (28x28x3 = 2.3 KB, 64x64x3 = 12 KB each)
CACHE_QUANTUM = 1e-4  # latent positions closer than this (per dim) share a cache entry


class Decoder:
    """Decode latents to uint8 RGB images through one onnxruntime session (thread-safe)."""

    def __init__(self, session, meta: ModelMeta, cache_entries: int = CACHE_ENTRIES) -> None:
        self.session = session
        self.meta = meta
        self.cache_entries = cache_entries
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.last_decode_ms = 0.0  # wall time of the latest onnxruntime run
        self.runs = 0  # onnxruntime runs so far
        self.images_decoded = 0

    @staticmethod
    def _key(z: np.ndarray) -> bytes:
        return np.round(np.asarray(z, np.float64) / CACHE_QUANTUM).astype(np.int64).tobytes()

    def run_raw(self, z: np.ndarray) -> np.ndarray:
        """z (N, D) float32 -> images (N, C, H, W) float32 in [0, 1], one run, no cache."""
        t0 = time.perf_counter()
        out = self.session.run(None, {DECODER_INPUT: np.ascontiguousarray(z, dtype=np.float32)})[0]
        self.last_decode_ms = (time.perf_counter() - t0) * 1000.0
        self.runs += 1
        self.images_decoded += len(z)
        return out

    @staticmethod
    def to_rgb8(images: np.ndarray) -> np.ndarray:
        """(N, C, H, W) float in [0, 1] -> (N, H, W, 3) uint8."""
        u8 = (np.clip(images, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        u8 = u8.transpose(0, 2, 3, 1)  # (N, H, W, C)
        if u8.shape[-1] == 1:
            u8 = np.repeat(u8, 3, axis=-1)
        return np.ascontiguousarray(u8)

    def decode_batch(self, zs: np.ndarray) -> list[np.ndarray]:
        """zs (N, D) -> N uint8 (H, W, 3) images; cached ones skip the run, the rest share one."""
        zs = np.asarray(zs, dtype=np.float32).reshape(-1, self.meta.latent_dim)
        keys = [self._key(z) for z in zs]
        out: list[np.ndarray | None] = [None] * len(zs)
        missing: list[int] = []
        with self._lock:
            for i, k in enumerate(keys):
                hit = self._cache.get(k)
                if hit is not None:
                    self._cache.move_to_end(k)
                    out[i] = hit
                else:
                    missing.append(i)
        if missing:
            uniq: dict[bytes, int] = {}
            for i in missing:
                uniq.setdefault(keys[i], i)
            rows = list(uniq.values())
            images = self.to_rgb8(self.run_raw(zs[rows]))
            with self._lock:
                for img, i in zip(images, rows, strict=True):
                    self._cache[keys[i]] = img
                    self._cache.move_to_end(keys[i])
                while len(self._cache) > self.cache_entries:
                    self._cache.popitem(last=False)
                for i in missing:
                    out[i] = self._cache.get(keys[i], images[rows.index(uniq[keys[i]])])
        return out  # type: ignore[return-value]

    def count_missing(self, zs: np.ndarray) -> int:
        """How many of the latents ``zs`` (N, D) a ``decode_batch`` would have to run."""
        zs = np.asarray(zs, dtype=np.float32).reshape(-1, self.meta.latent_dim)
        with self._lock:
            return len({k for k in map(self._key, zs) if k not in self._cache})

    def decode_one(self, z: np.ndarray) -> np.ndarray:
        """z (D,) -> uint8 (H, W, 3)."""
        return self.decode_batch(np.asarray(z)[None])[0]
