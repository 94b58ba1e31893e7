"""Turn a player's picture into what the model was trained on (numpy only, torch-free).

Three recipes, picked by the model's ``kind`` (:func:`prepare`):

* ``digits`` (MNIST's own recipe, LeCun et al.): greyscale; the paper's colour is read from the
  border and subtracted, inverting light paper so ink is bright on black; contrast stretched
  and a noise floor removed; cropped to the ink; strokes thinner than MNIST's thickened
  (pen lines in a big photo would vanish when shrunk); resized with area averaging so the
  longer side is ``MNIST_BOX_PX`` (20) keeping the aspect ratio; stroke cores saturated as
  MNIST's are (``STROKE_CORE``); placed in the 28 x 28 field
  so its centre of mass sits at pixel ``MNIST_CENTRE_PX`` (14, 14), as MNIST's does.
* ``fashion`` (Fashion-MNIST's recipe, Xiao et al. 2017): greyscale, background subtracted and
  negated, trimmed to the object, longest side resized to 28, centred by its box.
* ``faces``: the centre square, resized to the model's size in RGB.

Transparent pixels are laid over paper of the colour opposite the ink, so a PNG with black
strokes on a transparent background reads as a drawing. :func:`prepare` raises
:class:`BlankImageError` (one sentence) when there is nothing to encode (a flat image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MNIST_SIZE_PX = 28
MNIST_BOX_PX = 20  # MNIST digits fit a 20 x 20 box ...
MNIST_CENTRE_PX = 14.0  # ... with their centre of mass at pixel (14, 14) of the 28 x 28 field
WORK_BOX_PX = 80  # the cropped ink is normalised at this size (4x the box) before shrinking
MAX_WORK_SIDE_PX = 1024  # bigger pictures are first shrunk to this for finding the ink
BORDER_FRAC = 0.04  # the outer band (fraction of the shorter side) that shows the paper
INK_FLOOR = 0.15  # ink below this fraction of the strongest stroke is paper noise
INK_CUT = 0.2  # ink above this counts for the crop and the stroke width
MIN_CONTRAST = 0.06  # strongest ink (0..1) below this: the picture is blank
# MNIST's median stroke width, as measured by ``stroke_width`` at the work scale (80 px box;
# ``tests/test_encode.py`` re-measures it on the MNIST test set: 9.4 px there)
TARGET_STROKE_PX = 9.4
THIN_STROKE_FRAC = 0.7  # strokes thinner than this fraction of the target are thickened
THICK_STROKE_FRAC = 1.8  # ... thicker than this fraction are thinned to THICK_TO_FRAC
THICK_TO_FRAC = 1.4
STROKE_CORE = 0.8  # after shrinking, ink above this is a stroke's core: saturated to 1, as MNIST's
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as PIL's "L" conversion


class BlankImageError(ValueError):
    """The picture holds nothing to encode (one sentence)."""


@dataclass
class Prepared:
    """A picture made ready for the encoder, and what was done to it."""

    image: np.ndarray  # (C, H, W) float32 in [0, 1], the encoder's input for one image
    inverted: bool  # light paper was inverted (dark ink became bright)
    box: tuple[int, int, int, int]  # (left, top, right, bottom) of the content, source pixels


# ----------------------------------------------------------------------------- resampling


def _weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) resampling weights: area averaging when shrinking, linear when growing."""
    if n_out <= n_in:
        edges = np.arange(n_out + 1) * (n_in / n_out)  # output pixel i covers [e_i, e_i+1)
        left = np.arange(n_in)[None, :]
        overlap = np.minimum(edges[1:, None], left + 1) - np.maximum(edges[:-1, None], left)
        w = np.clip(overlap, 0.0, None)
    else:
        centres = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        centres = np.clip(centres, 0.0, n_in - 1)
        w = np.clip(1.0 - np.abs(centres[:, None] - np.arange(n_in)[None, :]), 0.0, None)
    return w / w.sum(axis=1, keepdims=True)


def resize(img: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    """Resize (H, W) or (H, W, C) float to (out_h, out_w[, C]): area averaging when shrinking
    (whole-number factors first by block means, so big photos stay quick), linear when growing."""
    img = np.asarray(img, np.float64)
    h, w = img.shape[:2]
    fy, fx = max(1, h // max(out_h, 1) // 2), max(1, w // max(out_w, 1) // 2)
    if fy > 1 or fx > 1:  # block means: exact area averaging for the whole-number part
        hh, ww = h // fy * fy, w // fx * fx
        img = img[:hh, :ww].reshape(hh // fy, fy, ww // fx, fx, *img.shape[2:]).mean(axis=(1, 3))
        h, w = img.shape[:2]
    ry, rx = _weights(h, out_h), _weights(w, out_w)  # (out_h, H), (out_w, W)
    if img.ndim == 2:
        return ry @ img @ rx.T
    return np.einsum("ih,hwc,jw->ijc", ry, img, rx)


def shrink_to(img: np.ndarray, max_side: int) -> np.ndarray:
    """``img`` shrunk (area averaging) so its longer side is at most ``max_side``."""
    h, w = img.shape[:2]
    if max(h, w) <= max_side:
        return np.asarray(img, np.float64)
    s = max_side / max(h, w)
    return resize(img, max(1, round(h * s)), max(1, round(w * s)))


# ----------------------------------------------------------------------------- ink


def greyscale(rgba: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 4) RGBA -> (H, W) float in [0, 1]. Transparent pixels become paper of the
    colour opposite the opaque pixels' mean (black strokes on nothing read as a drawing)."""
    rgba = np.asarray(rgba)
    lum = (rgba[..., :3].astype(np.float64) / 255.0) @ LUMA  # (H, W)
    if rgba.shape[-1] < 4:
        return lum
    alpha = rgba[..., 3].astype(np.float64) / 255.0
    if alpha.min() >= 0.999:
        return lum
    opaque = alpha > 0.5
    paper = 1.0 if not opaque.any() or lum[opaque].mean() < 0.5 else 0.0
    return alpha * lum + (1.0 - alpha) * paper


def border_level(grey: np.ndarray) -> float:
    """The paper's level: the median of the outer band of the picture."""
    h, w = grey.shape
    b = max(1, round(BORDER_FRAC * min(h, w)))
    band = np.concatenate([grey[:b].ravel(), grey[-b:].ravel(), grey[:, :b].ravel(), grey[:, -b:].ravel()])
    return float(np.median(band))


def ink_map(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Ink in [0, 1] (bright on black) from a greyscale picture, and whether it was inverted:
    the paper's level is subtracted and the rest scaled to the range left beyond it."""
    paper = border_level(grey)
    inverted = paper > 0.5
    ink = (paper - grey) / max(paper, 1e-6) if inverted else (grey - paper) / max(1.0 - paper, 1e-6)
    return np.clip(ink, 0.0, 1.0), inverted


def _box3(a: np.ndarray) -> np.ndarray:
    """3 x 3 box blur (edges replicated)."""
    p = np.pad(a, 1, mode="edge")
    return sum(p[dy : dy + a.shape[0], dx : dx + a.shape[1]] for dy in range(3) for dx in range(3)) / 9.0


def stretch(ink: np.ndarray) -> np.ndarray:
    """Scale so the strongest stroke (3 x 3 blurred: a lone speck does not count) is 1, then
    drop the paper noise below ``INK_FLOOR``. Raises BlankImageError on a flat picture."""
    top = float(_box3(ink).max()) if min(ink.shape) >= 3 else float(ink.max())
    if top < MIN_CONTRAST:
        raise BlankImageError("The picture is blank: it shows no strokes or object to encode.")
    ink = np.clip(ink / top, 0.0, 1.0)
    return np.clip((ink - INK_FLOOR) / (1.0 - INK_FLOOR), 0.0, 1.0)


def content_box(ink: np.ndarray, cut: float = INK_CUT) -> tuple[int, int, int, int]:
    """(left, top, right, bottom), exclusive, of the pixels with ink above ``cut``."""
    mask = ink > cut
    if not mask.any():
        raise BlankImageError("The picture is blank: it shows no strokes or object to encode.")
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over half the outline length (2A / P)."""
    mask = ink > 0.5
    if not mask.any():
        return 0.0
    p = np.pad(mask, 1)
    inner = p[1:-1, 1:-1] & p[:-2, 1:-1] & p[2:, 1:-1] & p[1:-1, :-2] & p[1:-1, 2:]
    outline = int((mask & ~inner).sum())
    return 2.0 * float(np.clip(ink, 0, 1).sum()) / max(outline, 1)


def _disk(radius: float) -> list[tuple[int, int]]:
    r = int(np.ceil(radius))
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dy * dy + dx * dx <= radius * radius + 1e-9]


def morph(ink: np.ndarray, radius: float, grow: bool) -> np.ndarray:
    """Grey dilation (``grow``) or erosion with a disk of ``radius`` px."""
    r = int(np.ceil(radius))
    if r <= 0:
        return ink
    p = np.pad(ink, r)
    h, w = ink.shape
    out = ink.copy()
    pick = np.maximum if grow else np.minimum
    for dy, dx in _disk(radius):
        out = pick(out, p[r + dy : r + dy + h, r + dx : r + dx + w])
    return out


def even_strokes(ink: np.ndarray, target: float = TARGET_STROKE_PX) -> np.ndarray:
    """Thicken strokes thinner than ``THIN_STROKE_FRAC`` x ``target`` (and thin very thick ones)
    toward MNIST's width, at the work scale."""
    width = stroke_width(ink)
    if 0.0 < width < THIN_STROKE_FRAC * target:
        return morph(ink, (target - width) / 2.0, grow=True)
    if width > THICK_STROKE_FRAC * target:
        thinned = morph(ink, (width - THICK_TO_FRAC * target) / 2.0, grow=False)
        return thinned if (thinned > 0.5).any() else ink
    return ink


# ----------------------------------------------------------------------------- recipes


def place_by_mass(box: np.ndarray, size: int = MNIST_SIZE_PX, centre: float = MNIST_CENTRE_PX) -> np.ndarray:
    """Put ``box`` (h, w) into a (size, size) field, shifted by whole pixels so its centre of
    mass lands as near ``centre`` (row and column) as the field allows."""
    h, w = box.shape
    ys, xs = np.mgrid[0:h, 0:w]
    mass = float(box.sum())
    cy, cx = ((ys * box).sum() / mass, (xs * box).sum() / mass) if mass > 0 else ((h - 1) / 2, (w - 1) / 2)
    top = int(np.clip(round(centre - cy), 0, size - h))
    left = int(np.clip(round(centre - cx), 0, size - w))
    out = np.zeros((size, size))
    out[top : top + h, left : left + w] = box
    return out


def digits_recipe(grey: np.ndarray, size: int = MNIST_SIZE_PX) -> tuple[np.ndarray, bool, tuple[int, int, int, int]]:
    """MNIST's recipe (see the module docstring).  (H, W) -> (size, size), inverted, box"""
    scale = size / MNIST_SIZE_PX
    small = shrink_to(grey, MAX_WORK_SIDE_PX)
    f = grey.shape[0] / small.shape[0]
    ink, inverted = ink_map(small)
    ink = stretch(ink)
    x0, y0, x1, y1 = content_box(ink)
    crop = ink[y0:y1, x0:x1]
    h, w = crop.shape
    s = WORK_BOX_PX / max(h, w)
    work = resize(crop, max(1, round(h * s)), max(1, round(w * s)))
    work = np.clip(work / max(float(work.max()), 1e-6), 0.0, 1.0)  # a shrunk thin line is faint
    margin = int(np.ceil(TARGET_STROKE_PX))  # room for strokes to grow (a "1" may be 1 px wide here)
    work = even_strokes(np.pad(work, margin))
    wx0, wy0, wx1, wy1 = content_box(work, cut=0.0)
    work = work[wy0:wy1, wx0:wx1]
    box_px = max(1, round(MNIST_BOX_PX * scale))
    s2 = box_px / max(work.shape)
    box = resize(work, max(1, round(work.shape[0] * s2)), max(1, round(work.shape[1] * s2)))
    out = place_by_mass(np.clip(box / STROKE_CORE, 0.0, 1.0), size, MNIST_CENTRE_PX * scale)
    source_box = (round(x0 * f), round(y0 * f), round(x1 * f), round(y1 * f))
    return out, inverted, source_box


def fashion_recipe(grey: np.ndarray, size: int = MNIST_SIZE_PX) -> tuple[np.ndarray, bool, tuple[int, int, int, int]]:
    """Fashion-MNIST's recipe (see the module docstring).  (H, W) -> (size, size), inverted, box"""
    small = shrink_to(grey, MAX_WORK_SIDE_PX)
    f = grey.shape[0] / small.shape[0]
    ink, inverted = ink_map(small)
    if float(ink.max()) < MIN_CONTRAST:
        raise BlankImageError("The picture is blank: it shows no strokes or object to encode.")
    x0, y0, x1, y1 = content_box(ink, cut=MIN_CONTRAST)
    crop = ink[y0:y1, x0:x1]
    h, w = crop.shape
    s = size / max(h, w)
    obj = np.clip(resize(crop, max(1, round(h * s)), max(1, round(w * s))), 0.0, 1.0)
    out = np.zeros((size, size))
    top, left = (size - obj.shape[0]) // 2, (size - obj.shape[1]) // 2
    out[top : top + obj.shape[0], left : left + obj.shape[1]] = obj
    return out, inverted, (round(x0 * f), round(y0 * f), round(x1 * f), round(y1 * f))


def faces_recipe(rgba: np.ndarray, size: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The centre square, resized to (size, size, 3) RGB in [0, 1] (transparency over grey)."""
    rgba = np.asarray(rgba)
    rgb = rgba[..., :3].astype(np.float64) / 255.0
    if rgba.shape[-1] == 4:
        a = rgba[..., 3:4].astype(np.float64) / 255.0
        rgb = a * rgb + (1.0 - a) * 0.5
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = rgb[top : top + side, left : left + side]
    return np.clip(resize(square, size, size), 0.0, 1.0), (left, top, left + side, top + side)


def prepare(rgba: np.ndarray, kind: str, image_shape: list[int] | tuple[int, int, int]) -> Prepared:
    """A picture (uint8 (H, W, 4) RGBA, or (H, W, 3), or (H, W) grey) -> the encoder's input
    for a model of ``kind`` ("digits", "fashion", "faces") and ``image_shape`` [C, H, W].
    Raises BlankImageError when there is nothing to encode."""
    arr = np.asarray(rgba)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    c, h, _w = (int(v) for v in image_shape)
    if kind == "faces" or c == 3:
        rgb, box = faces_recipe(arr, h)  # (h, h, 3)
        img = rgb.transpose(2, 0, 1) if c == 3 else (rgb @ LUMA)[None]
        return Prepared(img.astype(np.float32), False, box)
    grey = greyscale(arr)
    recipe = fashion_recipe if kind == "fashion" else digits_recipe
    out, inverted, box = recipe(grey, h)
    return Prepared(out[None].astype(np.float32), inverted, box)
