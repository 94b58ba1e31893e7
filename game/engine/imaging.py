"""Crisp enlargement of small decoded images: how every mode shows a 28x28 or 64x64 decode big.

A VAE decodes tiny images; blown up 20x with bilinear filtering they look smeared. The
``crisp`` look (the default) upsamples with a Catmull-Rom cubic, then bends the intensity
through a tone curve whose edge is about one *output* pixel wide, whatever the scale: the
trick signed-distance-field fonts use, where a smooth field is thresholded at draw time, so
strokes read like glowing ink. How hard the curve bites depends on the model
(:func:`style_for`): digits get ink strokes, fashion a softer contrast curve that keeps the
fabric's greys, colour faces a light unsharp mask before the cubic (no threshold at all).

Looks (:data:`LOOKS`, cycled by the ``smooth_toggle`` action, N, in every mode):

* ``crisp``    cubic upsample + the style's ink curve / sharpening (default)
* ``nearest``  blocky pixels (see what the decoder really made)
* ``smooth``   plain bilinear (pygame's ``smoothscale``)

Everything here is numpy plus a final pygame surface; results are deterministic. Callers
cache what they make (an image changes only when the decoder hands back a new array).

Contracts: images are uint8 ``(H, W, 3)``; sizes are ``(width, height)`` in pixels; the
returned arrays are uint8 ``(h, w, 3)`` or ``(h, w)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pygame

from latent_odyssey.game.model.modelfile import ModelMeta

LOOKS = ("crisp", "nearest", "smooth")  # the order the smooth_toggle action cycles them in
DEFAULT_LOOK = "crisp"
LOOK_NAMES = {"crisp": "crisp ink", "nearest": "nearest pixels", "smooth": "smooth (bilinear)"}
CUBIC_A = -0.5  # Catmull-Rom
EDGE_OUT_PX = 0.7  # the ink edge's half-width in output pixels
GRADIENT_FLOOR = 0.03  # intensity per source pixel: flatter than this counts as this (no speckle)
LEVEL_PERCENTILE = 99.0  # ink styles stretch the decode so this percentile becomes white ...
LEVEL_FLOOR = 0.35  # ... unless it is darker than this (a dark image stays dark)


@dataclass(frozen=True)
class InkStyle:
    """How ``crisp`` treats one kind of model.

    ``ink``: 0..1, how much of the intensity is replaced by the steep edge around
    ``threshold`` (the rest keeps the cubic's soft value, a faint glow). ``sharpen``: unsharp
    mask amount applied at the source resolution. ``dark_background``: the decodes are light
    strokes on black (digits, fashion), so black can be see-through. ``autolevel``: stretch
    each decode so its brightest percent is white before the curve (digits: a faint stroke
    still becomes ink; fashion keeps its own greys).
    """

    name: str
    ink: float
    threshold: float
    sharpen: float
    dark_background: bool
    autolevel: bool = False  # stretch each decode so its brightest 1 % is white first


INK = InkStyle("ink", ink=0.88, threshold=0.42, sharpen=0.0, dark_background=True, autolevel=True)
SOFT_INK = InkStyle("soft ink", ink=0.3, threshold=0.2, sharpen=0.45, dark_background=True)
PHOTO = InkStyle("photo", ink=0.0, threshold=0.5, sharpen=0.9, dark_background=False)


def style_for(meta: ModelMeta) -> InkStyle:
    """The crisp style of a model: ink strokes for digits, a softer curve for fashion, a
    sharpened cubic for colour images (faces)."""
    channels = int(meta.image_shape[0])
    if channels != 1:
        return PHOTO
    return INK if meta.kind == "digits" else SOFT_INK


def next_look(look: str) -> str:
    """The look after ``look`` in :data:`LOOKS` (an unknown look gives the default)."""
    if look not in LOOKS:
        return DEFAULT_LOOK
    return LOOKS[(LOOKS.index(look) + 1) % len(LOOKS)]


# ---------------------------------------------------------------------------- resampling


@lru_cache(maxsize=256)
def resize_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Catmull-Rom resampling of ``n_in`` samples to ``n_out``, pixel centres aligned, edges
    clamped, as taps: source indices and weights.  # -> idx (n_out, T) int64, w (n_out, T) float32

    ``out[i] = sum_t w[i, t] * x[idx[i, t]]``. Shrinking widens the kernel (a low-pass
    filter), so small sizes do not alias. (Taps, not a dense matrix product: a small BLAS
    matmul can wait ~15 ms on thread hand-offs when onnxruntime's threads are busy.)
    """
    n_in, n_out = int(n_in), int(n_out)
    scale = n_in / n_out
    support = max(1.0, scale)  # kernel stretch when shrinking
    centres = (np.arange(n_out) + 0.5) * scale - 0.5  # (n_out,) source coordinates
    left = np.floor(centres - 2 * support).astype(np.int64) + 1
    taps = int(np.ceil(4 * support)) + 1
    idx = left[:, None] + np.arange(taps)[None, :]  # (n_out, T)
    t = np.abs(idx - centres[:, None]) / support
    a = CUBIC_A
    w = np.where(
        t <= 1.0, (a + 2) * t**3 - (a + 3) * t**2 + 1,
        np.where(t < 2.0, a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a, 0.0),
    )
    w /= w.sum(axis=1, keepdims=True)
    keep = np.any(w != 0.0, axis=0)  # drop tap columns that are zero everywhere
    return np.clip(idx[:, keep], 0, n_in - 1), w[:, keep].astype(np.float32)


def resample(channel: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Cubic resampling of one float image channel to ``size`` (w, h).  # (H, W) -> (h, w) float32"""
    x = np.asarray(channel, np.float32)
    iy, wy = resize_taps(x.shape[0], int(size[1]))  # (h, T)
    ix, wx = resize_taps(x.shape[1], int(size[0]))  # (w, T)
    rows = np.zeros((x.shape[0], ix.shape[0]), np.float32)  # (H, w): the small pass first
    for t in range(ix.shape[1]):
        rows += x[:, ix[:, t]] * wx[None, :, t]
    out = np.zeros((iy.shape[0], ix.shape[0]), np.float32)  # (h, w): whole-row gathers
    for t in range(iy.shape[1]):
        out += rows[iy[:, t]] * wy[:, t, None]
    return out


def unsharp(x: np.ndarray, amount: float) -> np.ndarray:
    """``x + amount (x - blur3(x))`` at the source resolution (edges replicated).  # (H, W[, C])"""
    if amount <= 0.0:
        return x
    p = np.pad(x, [(1, 1), (1, 1)] + [(0, 0)] * (x.ndim - 2), mode="edge")
    blur = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] + 4 * p[1:-1, 1:-1]) / 8.0
    return x + amount * (x - blur)


# ---------------------------------------------------------------------------- the ink curve


def is_grey(img: np.ndarray) -> bool:
    """Whether an (H, W, 3) image is grey (its three channels equal)."""
    return bool(np.array_equal(img[..., 0], img[..., 1]) and np.array_equal(img[..., 0], img[..., 2]))


def _to_u8(x: np.ndarray) -> np.ndarray:
    """Floats in [0, 1] to uint8, in place where it can.  # (h, w) -> (h, w) uint8"""
    x *= 255.0
    x += 0.5
    np.clip(x, 0.0, 255.0, out=x)
    return x.astype(np.uint8)


def ink_intensity(img: np.ndarray, size: tuple[int, int], style: InkStyle) -> np.ndarray:
    """The crisp grey level of a decoded image enlarged to ``size`` (w, h).  # (H, W, 3) -> (h, w) uint8

    The cubic upsample is a smooth field; its level ``style.threshold`` is the stroke's edge.
    As signed-distance fonts do with screen-space derivatives, the distance to that edge in
    *output* pixels is the field's offset from the threshold over its gradient (the decode's
    gradient, enlarged alongside), and the edge is ramped over ``2 EDGE_OUT_PX`` pixels of
    it: about one pixel wide however blurry the decode and however large the enlargement.
    """
    grey = np.asarray(img[..., 0], np.float32) / 255.0  # (H, W)
    if style.autolevel:  # a faint decode's strokes still cross the ink threshold
        flat = grey.reshape(-1)
        k = min(flat.size - 1, int(round(flat.size * LEVEL_PERCENTILE / 100.0)))
        top = float(np.partition(flat, k)[k])
        grey = grey * (1.0 / min(1.0, max(LEVEL_FLOOR, top)))
    grey = unsharp(grey, style.sharpen)
    up = resample(grey, size)  # (h, w)
    if style.ink <= 0:
        return _to_u8(up)
    p = np.pad(grey, 1, mode="edge")
    gx = (p[1:-1, 2:] - p[1:-1, :-2]) * 0.5  # (H, W) central differences, per source pixel
    gy = (p[2:, 1:-1] - p[:-2, 1:-1]) * 0.5
    slope = resample(np.sqrt(gx * gx + gy * gy), size)  # (h, w) per source pixel
    factor = size[1] / img.shape[0]  # output pixels per source pixel
    np.maximum(slope, GRADIENT_FLOOR, out=slope)
    t = up - style.threshold  # (h, w), then the ramp across the edge, in place
    t *= factor / (2.0 * EDGE_OUT_PX)
    t /= slope
    t += 0.5
    np.clip(t, 0.0, 1.0, out=t)
    edge = t * t
    t *= -2.0
    t += 3.0
    edge *= t  # smoothstep: t² (3 - 2t)
    edge *= style.ink
    up *= 1.0 - style.ink
    up += edge
    return _to_u8(up)


GREY_PALETTE = [(i, i, i) for i in range(256)]
COLOUR_CUBIC_FACTOR = 2  # colour images: cubic up to this many times the source, bilinear beyond


def crisp(img: np.ndarray, size: tuple[int, int], style: InkStyle) -> pygame.Surface:
    """The ``crisp`` look of a decoded image (H, W, 3) uint8 at ``size`` (w, h), as a Surface.

    Grey images (digits, fashion): cubic to the full size, then the ink curve, as an 8-bit
    grey surface (cheap to make and to blit). Colour images: unsharp mask, cubic to at most
    ``COLOUR_CUBIC_FACTOR`` x, then bilinear the rest of the way (the cubic has already made
    the edges; a big cubic in numpy would cost several ms).
    """
    img = np.asarray(img)
    if is_grey(img):
        return grey_surface(ink_intensity(img, size, style))
    h, w = img.shape[:2]
    mid = (min(int(size[0]), COLOUR_CUBIC_FACTOR * w), min(int(size[1]), COLOUR_CUBIC_FACTOR * h))
    x = unsharp(img.astype(np.float32) / 255.0, style.sharpen)  # (H, W, 3)
    up = np.stack([resample(x[:, :, c], mid) for c in range(3)], axis=2)  # (h', w', 3)
    surf = rgb_surface(np.clip(up * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8))
    return surf if mid == tuple(size) else pygame.transform.smoothscale(surf, tuple(size))


def grey_surface(grey8: np.ndarray) -> pygame.Surface:
    """uint8 (h, w) grey levels -> a new 8-bit grey pygame Surface (w, h) (``crisp``'s output
    for grey images; ``ink_intensity`` can run on another thread, this on the one drawing)."""
    g = np.ascontiguousarray(grey8)
    surf = pygame.image.frombuffer(g.tobytes(), (g.shape[1], g.shape[0]), "P")
    surf.set_palette(GREY_PALETTE)
    return surf


def rgb_surface(rgb8: np.ndarray) -> pygame.Surface:
    """uint8 (h, w, 3) -> a new pygame Surface (w, h) that owns its pixels."""
    arr = np.ascontiguousarray(rgb8)
    return pygame.image.frombuffer(arr.tobytes(), (arr.shape[1], arr.shape[0]), "RGB")


def enlarged(img: np.ndarray, size: tuple[int, int], look: str, style: InkStyle | None = None) -> pygame.Surface:
    """A decoded image (H, W, 3) uint8 shown at ``size`` (w, h) in ``look``, as a Surface
    (8-bit for grey crisp images: blit it, or ``convert()`` it for blending). ``style``
    None: PHOTO for colour images, SOFT_INK for grey ones (prefer ``style_for(meta)``)."""
    size = (max(1, int(size[0])), max(1, int(size[1])))
    if style is None:
        style = SOFT_INK if is_grey(img) else PHOTO
    if look == "crisp" and (size[0] > img.shape[1] or size[1] > img.shape[0]):
        return crisp(img, size, style)
    src = rgb_surface(img)
    if src.get_size() == size:
        return src
    if look == "nearest":
        return pygame.transform.scale(src, size)
    return pygame.transform.smoothscale(src, size)
