"""Synthetic faces: a batched numpy renderer of small RGB faces with known attributes.

Every face is a stack of signed-distance shapes (background, shoulders, hair, neck, ears,
face, beard, nose, mouth, eyes, brows, glasses) evaluated on a supersampled pixel grid for a
whole batch at once, alpha-composited back to front, then box-downsampled (anti-aliasing).
A face is a pure function of its seed stream, so ``render_faces(n, seed)`` is bit-for-bit
reproducible, and face ``i`` does not depend on ``n`` (``render_faces(10, s)`` equals the first
ten of ``render_faces(1000, s)``).

Attributes (columns of the ``attrs`` array, in ``ATTRIBUTES`` order):

* ``smile``   in [-1, 1]: -1 a frown (mouth corners down, sad brows), 0 neutral,
  +1 a grin (corners up, open mouth with teeth, squinting eyes, cheek lines). Uniform.
* ``age``     in [0, 1]: 0 young (smooth skin, full colour hair), 1 old (forehead lines,
  nasolabial folds, crow's feet, under-eye bags, grey/white hair, receding hairline on some
  men, duller skin, thinner lips). Uniform.
* ``gender``  in [0, 1]: presentation, 0 feminine (long hair likely, narrow tapered jaw,
  thin arched brows, eyeliner, fuller lips, lipstick on some), 1 masculine (short hair
  likely, wider square jaw, heavy straight brows, wider neck, facial hair on many:
  stubble, moustache, goatee or full beard). Half the faces in [0, 0.38], half in [0.62, 1].
* ``glasses`` in {0, 1}: 1 wears glasses (round, rectangular, browline or large oval
  frames in a few colours). 35 % on.

Nuisance variation (not labelled): skin tone, hair colour, hair volume, fringe, hair
length, eye colour, gaze, face width/length, eye/nose/mouth size and spacing, background and
shirt colour, lighting direction and strength, shift (about +-2 px), scale (+-8 %) and tilt
(+-8 degrees).

A user's folder of aligned face photos (CelebA style) can stand in for the renderer:
``load_face_folder`` returns the same ``(images, attrs)`` structure.

Speed: faces are rendered in chunks of ``CHUNK`` on ``THREADS`` threads (numpy releases
the GIL); faces are grouped so chunks can skip layers nobody in them needs (long hair,
beards, glasses). About 1.8 ms of CPU per 64 x 64 face at 2x supersampling.

Run ``python -m latent_odyssey.train.faces --n 64 --out docs/faces_grid.png`` for a preview grid,
``--sweep`` for rows that sweep one attribute each, ``--bench 20000`` to time the renderer.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from latent_odyssey.game.atomic import atomic_path
from latent_odyssey.train.data import DataError

ATTRIBUTES = ("smile", "age", "gender", "glasses")
IMAGE_SIZE = 64  # pixels, default output side
SUPERSAMPLE = 2  # render at SUPERSAMPLE * size, then box-downsample
CHUNK = 16  # faces per render batch: small arrays stay in cache (~1 MiB each at 128 px)
THREADS = min(4, os.cpu_count() or 1)  # render threads (numpy releases the GIL)
MALLOC_TRIM_BYTES = 128 << 20  # glibc: keep up to 128 MiB of freed heap for reuse
MALLOC_MMAP_BYTES = 32 << 20  # glibc: serve blocks below 32 MiB from the heap
GLASSES_RATE = 0.35  # fraction of faces with glasses
N_UNIFORMS = 48  # uniforms drawn per face (the face's whole random stream)
# The uniforms whose cues a face at the attribute's low end does not show (``_face_params``):
# the grey's amount and tone and the balding draw of a young face, the hair-length, fringe,
# balding and beard draws of a feminine one, the frame style and colour of a face without
# glasses. A smile's cues are all drawn from the smile itself.
HIDDEN_AT_LOW = {"smile": (), "age": (16, 17, 42), "gender": (37, 40, 42, 43, 44), "glasses": (45, 46)}

# Face-local frame: origin at the face centre, u to the image right, v down; the face
# ellipse has half-width FACE_A and half-height FACE_B. One local unit is FACE_SCALE image
# half-widths (the image spans [-1, 1]), so 1 unit ~ 43 px at 64 x 64.
FACE_SCALE = 1.35
FACE_CENTRE_Y = 0.07  # image units, face centre below the image centre (room for hair)
FACE_A = 0.36
FACE_B = 0.47
EYE_X = 0.145  # eye centres at (+-EYE_X, EYE_Y)
EYE_Y = -0.035
EYE_W = 0.066  # eye half-width
EYE_H = 0.032  # eye half-height (open, neutral)
NOSE_Y = 0.135
MOUTH_Y = 0.265
MOUTH_W = 0.115  # mouth half-width at neutral
MAX_SHIFT = 0.07  # image units (~2.2 px at 64)
MAX_TILT = np.deg2rad(8.0)  # radians
SCALE_JITTER = 0.08  # relative

SKIN_TONES = np.array(
    [
        (1.00, 0.87, 0.77),
        (0.96, 0.78, 0.64),
        (0.87, 0.65, 0.49),
        (0.72, 0.50, 0.35),
        (0.55, 0.36, 0.24),
        (0.37, 0.24, 0.16),
    ],
    dtype=np.float32,
)
HAIR_COLOURS = np.array(
    [
        (0.06, 0.05, 0.05),  # black
        (0.08, 0.06, 0.05),  # black
        (0.20, 0.13, 0.08),  # dark brown
        (0.22, 0.14, 0.09),  # dark brown
        (0.38, 0.24, 0.13),  # brown
        (0.58, 0.42, 0.25),  # light brown
        (0.86, 0.72, 0.45),  # blonde
        (0.55, 0.22, 0.10),  # auburn
        (0.78, 0.40, 0.16),  # ginger
    ],
    dtype=np.float32,
)
EYE_COLOURS = np.array(
    [
        (0.33, 0.19, 0.09),  # brown
        (0.17, 0.10, 0.06),  # dark brown
        (0.25, 0.45, 0.75),  # blue
        (0.28, 0.52, 0.33),  # green
        (0.50, 0.40, 0.18),  # hazel
        (0.48, 0.54, 0.60),  # grey
    ],
    dtype=np.float32,
)
FRAME_COLOURS = np.array(
    [
        (0.04, 0.04, 0.05),  # black
        (0.05, 0.05, 0.06),  # black
        (0.20, 0.11, 0.06),  # dark brown
        (0.33, 0.18, 0.08),  # tortoise
        (0.08, 0.10, 0.30),  # navy
        (0.38, 0.06, 0.10),  # burgundy
        (0.26, 0.26, 0.29),  # gunmetal
    ],
    dtype=np.float32,
)
LIPSTICK = np.array((0.72, 0.14, 0.22), dtype=np.float32)
TEETH = np.array((0.96, 0.94, 0.88), dtype=np.float32)
MOUTH_INSIDE = np.array((0.30, 0.05, 0.07), dtype=np.float32)
SCLERA = np.array((0.97, 0.96, 0.94), dtype=np.float32)
LID = np.array((0.10, 0.06, 0.05), dtype=np.float32)


class FacesDataError(DataError):
    """A face image folder that cannot be used (missing, empty, unreadable)."""


# --------------------------------------------------------------------------------------
# parameters: one row of N_UNIFORMS uniforms per face, mapped to attributes and nuisances


def _sample_uniforms(n: int, seed: int) -> np.ndarray:
    """(n, N_UNIFORMS) float64 in [0, 1); row i depends only on (seed, i)."""
    rng = np.random.default_rng(seed)
    return rng.random((n, N_UNIFORMS))


def _attrs_from_uniforms(r: np.ndarray) -> np.ndarray:
    """(N, 4) float32 attributes from the first uniforms of each row."""
    smile = r[:, 0] * 2.0 - 1.0
    age = r[:, 1]
    g = r[:, 3] * 0.38
    gender = np.where(r[:, 2] < 0.5, g, 1.0 - g)
    glasses = (r[:, 4] < GLASSES_RATE).astype(np.float64)
    return np.stack([smile, age, gender, glasses], axis=1).astype(np.float32)


def _pick(palette: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Palette rows (N, 3) chosen by uniforms r (N,)."""
    return palette[np.minimum((r * len(palette)).astype(np.int64), len(palette) - 1)]


def _hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Vectorised HSV -> RGB, all (N,) in [0, 1]; returns (N, 3)."""
    k = np.stack([5.0, 3.0, 1.0])[None, :]  # (1, 3)
    t = (k + h[:, None] * 6.0) % 6.0
    return v[:, None] - v[:, None] * s[:, None] * np.clip(np.minimum(t, 4.0 - t), 0.0, 1.0)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _face_params(r: np.ndarray, attrs: np.ndarray) -> dict[str, np.ndarray]:
    """Map uniforms (N, N_UNIFORMS) and attributes (N, 4) to drawing parameters.

    Attribute-driven cues (hair length odds, beard, balding, greying) are derived here from
    the attributes and the face's own uniforms, so forcing an attribute changes only its cues.
    """
    smile, age, g, glasses = (attrs[:, i].astype(np.float64) for i in range(4))
    p: dict[str, np.ndarray] = {}
    p["smile"], p["age"], p["g"], p["glasses"] = smile, age, g, glasses
    # pose
    p["tx"] = (r[:, 5] * 2 - 1) * MAX_SHIFT
    p["ty"] = FACE_CENTRE_Y + (r[:, 6] * 2 - 1) * MAX_SHIFT
    p["scale"] = FACE_SCALE * (1.0 + (r[:, 7] * 2 - 1) * SCALE_JITTER)
    p["tilt"] = (r[:, 8] * 2 - 1) * MAX_TILT
    # lighting: direction in the image plane, strength, overall brightness
    p["light_ang"] = r[:, 9] * 2 * np.pi
    p["light_str"] = 0.06 + 0.16 * r[:, 10]
    p["bright"] = 0.88 + 0.2 * r[:, 11]
    # colours
    t = r[:, 12] * (len(SKIN_TONES) - 1)
    i0 = np.minimum(t.astype(np.int64), len(SKIN_TONES) - 2)
    f = (t - i0)[:, None]
    skin = SKIN_TONES[i0] * (1 - f) + SKIN_TONES[i0 + 1] * f
    skin = skin * (1 + (r[:, 13:14] - 0.5) * np.array([[0.06, -0.02, -0.06]]))
    aged = 0.18 * age[:, None]
    skin = skin * (1 - aged) + skin.mean(1, keepdims=True) * 0.95 * aged  # duller with age
    p["skin"] = skin
    hair = _pick(HAIR_COLOURS, r[:, 14]) * (0.85 + 0.3 * r[:, 15:16])
    grey = np.clip((age - 0.4) / 0.55, 0, 1) ** 1.1 * (0.8 + 0.2 * r[:, 16])
    grey_tone = 0.62 + 0.28 * r[:, 17:18]
    p["hair"] = (
        hair * (1 - grey[:, None]) + grey_tone * np.array([[1.0, 1.0, 1.03]]) * grey[:, None]
    )
    brow = hair * 0.7 * (1 - 0.6 * grey[:, None]) + 0.55 * 0.6 * grey[:, None]
    p["brow"] = np.minimum(brow, 0.45)  # brows darker than blonde/grey hair
    p["eye"] = _pick(EYE_COLOURS, r[:, 18])
    p["bg"] = _hsv_to_rgb(r[:, 19], 0.1 + 0.38 * r[:, 20], 0.45 + 0.5 * r[:, 21])
    p["bg_grad"] = (r[:, 22] * 2 - 1) * 0.25
    p["shirt"] = _hsv_to_rgb(r[:, 23], 0.15 + 0.65 * r[:, 24], 0.18 + 0.65 * r[:, 25])
    # face geometry
    p["face_a"] = FACE_A * (0.93 + 0.12 * r[:, 26]) + 0.025 * g
    p["face_b"] = FACE_B * (0.95 + 0.08 * r[:, 27])
    p["taper"] = (0.30 - 0.18 * g) * (0.8 + 0.4 * r[:, 28])  # chin narrowing
    p["square"] = np.clip(g * 1.1 - 0.1, 0, 1) * (0.5 + 0.5 * r[:, 29])  # jaw squareness
    p["eye_sep"] = 0.95 + 0.1 * r[:, 30]
    p["eye_size"] = (0.9 + 0.2 * r[:, 31]) * (1.06 - 0.1 * g)
    p["gaze_x"] = (r[:, 32] * 2 - 1) * 0.012
    p["mouth_w"] = MOUTH_W * (0.9 + 0.2 * r[:, 33])
    p["lips"] = (1.0 - 0.45 * g) * (1.0 - 0.35 * age)  # lip fullness
    p["lipstick"] = ((r[:, 34] < 0.55) * (1 - _smoothstep(0.25, 0.5, g))) * 0.6
    p["nose"] = 0.85 + 0.3 * r[:, 35] + 0.1 * g
    p["brow_thick"] = (0.009 + 0.017 * g) * (0.85 + 0.3 * r[:, 36])
    p["liner"] = 1 - _smoothstep(0.3, 0.6, g)  # eyeliner/lashes weight
    # hair
    p_long = 0.04 + 0.92 * (1 - _smoothstep(0.3, 0.7, g))
    p["long"] = (r[:, 37] < p_long).astype(np.float64)
    p["hair_len"] = 0.45 + 0.6 * r[:, 38]  # long-hair bottom (local v)
    p["vol"] = np.where(p["long"] > 0, 0.03 + 0.07 * r[:, 39], 0.005 + 0.04 * r[:, 39])
    p["fringe"] = (r[:, 40] < np.where(p["long"] > 0, 0.45, 0.15)).astype(np.float64)
    p["part"] = (r[:, 41] * 2 - 1) * 0.12
    bald = (g > 0.55) & (r[:, 42] < 0.55)
    p["bald"] = bald * np.clip((age - 0.45) * 2.4, 0, 1)
    # facial hair: 0 none, 1 stubble, 2 moustache, 3 goatee (+moustache), 4 full beard
    has = r[:, 43] < 0.7
    kind = 1 + np.minimum((r[:, 44] * 4).astype(np.int64), 3)
    p["beard_kind"] = np.where(has, kind, 0).astype(np.float64)
    p["beard_amt"] = _smoothstep(0.55, 0.75, g)
    # glasses style 0 round, 1 rectangle, 2 browline, 3 large oval
    p["glasses_style"] = np.minimum((r[:, 45] * 4).astype(np.int64), 3).astype(np.float64)
    p["frame"] = _pick(FRAME_COLOURS, r[:, 46])
    p["blush"] = 0.1 + 0.12 * r[:, 47] * (1 - g)
    return p


# --------------------------------------------------------------------------------------
# the batch canvas: supersampled image, face-local coordinates, windows, compositing


class _Canvas:
    """A (B, 3, R, R) float32 image plus per-face local coordinates (u, v) at each pixel."""

    def __init__(self, p: dict[str, np.ndarray], res: int) -> None:
        b = len(p["tx"])
        self.res = res
        self.tx, self.ty, self.sc = p["tx"], p["ty"], p["scale"]
        self.cos, self.sin = np.cos(p["tilt"]), np.sin(p["tilt"])
        grid = ((np.arange(res, dtype=np.float32) + 0.5) / res * 2 - 1).astype(np.float32)
        self.grid = grid
        f32 = np.float32
        tx = self.tx.astype(f32)[:, None, None]
        ty = self.ty.astype(f32)[:, None, None]
        c = (self.cos / self.sc).astype(f32)[:, None, None]
        s = (self.sin / self.sc).astype(f32)[:, None, None]
        x = grid[None, None, :] - tx  # (B, 1, R)
        y = grid[None, :, None] - ty  # (B, R, 1)
        self.u = x * c + y * s  # (B, R, R)
        self.v = y * c - x * s  # (B, R, R)
        self.ipw = (res * self.sc / 2.0).astype(f32)[:, None, None]  # 1 / pixel width (local)
        self.img = np.empty((b, 3, res, res), dtype=f32)
        self.strands, self.crown, self.noise = _textures(res)

    def window(self, u0: float, u1: float, v0: float, v1: float) -> tuple[slice, slice]:
        """Pixel slices (rows, cols) covering the local box [u0,u1]x[v0,v1] of every face."""
        us = np.array([u0, u1, u0, u1])[None, :]
        vs = np.array([v0, v0, v1, v1])[None, :]
        c, s, sc = self.cos[:, None], self.sin[:, None], self.sc[:, None]
        x = self.tx[:, None] + sc * (us * c - vs * s)
        y = self.ty[:, None] + sc * (us * s + vs * c)
        px = (x + 1) * 0.5 * self.res - 0.5
        py = (y + 1) * 0.5 * self.res - 0.5
        r = self.res
        c0, c1 = max(0, int(np.floor(px.min())) - 2), min(r, int(np.ceil(px.max())) + 3)
        r0, r1 = max(0, int(np.floor(py.min())) - 2), min(r, int(np.ceil(py.max())) + 3)
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))

    def local(self, win: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
        rs, cs = win
        return self.u[:, rs, cs], self.v[:, rs, cs]

    def cover(self, d: np.ndarray) -> np.ndarray:
        """Coverage in [0, 1] of a signed distance field d (local units), 1-subpixel ramp."""
        a = 0.5 - d * self.ipw
        return np.clip(a, 0.0, 1.0, out=a)

    def paint(self, win: tuple[slice, slice], alpha: np.ndarray, colour: np.ndarray) -> None:
        """Composite colour (B, 3) or (B, 3, h, w) over the window with alpha (B, h, w)."""
        rs, cs = win
        sub = self.img[:, :, rs, cs]  # (B, 3, h, w) view
        if colour.ndim == 2:
            colour = colour[:, :, None, None]
        tmp = colour - sub
        tmp *= alpha[:, None]
        sub += tmp


def _col(c: np.ndarray) -> np.ndarray:
    """(B, 3) float64 -> (B, 3) float32."""
    return np.asarray(c, dtype=np.float32)


def _s(x: np.ndarray) -> np.ndarray:
    """(B,) per-face scalar -> (B, 1, 1) float32 for broadcasting over pixels."""
    return np.asarray(x, dtype=np.float32)[:, None, None]


def _ellipse(u: np.ndarray, v: np.ndarray, a, b) -> np.ndarray:
    """Approximate signed distance to an axis-aligned ellipse with half-axes a, b."""
    k = np.sqrt((u / a) ** 2 + (v / b) ** 2)
    m = np.minimum(a, b)
    return (k - 1.0) * (float(m) if np.ndim(m) == 0 else m)


def _circle(u: np.ndarray, v: np.ndarray, r) -> np.ndarray:
    return np.sqrt(u * u + v * v) - r


def _box(u: np.ndarray, v: np.ndarray, hw, hh, rad) -> np.ndarray:
    """Signed distance to a rounded box with half sizes hw, hh and corner radius rad."""
    qx = np.abs(u) - hw + rad
    qy = np.abs(v) - hh + rad
    out = np.sqrt(np.maximum(qx, 0) ** 2 + np.maximum(qy, 0) ** 2)
    return out + np.minimum(np.maximum(qx, qy), 0) - rad


def _segment(u: np.ndarray, v: np.ndarray, u0, v0, u1, v1) -> np.ndarray:
    """Distance to the segment (u0, v0)-(u1, v1)."""
    du, dv = u1 - u0, v1 - v0
    pu, pv = u - u0, v - v0
    h = np.clip((pu * du + pv * dv) / (du * du + dv * dv), 0.0, 1.0)
    return np.sqrt((pu - h * du) ** 2 + (pv - h * dv) ** 2)


@functools.lru_cache(maxsize=8)
def _textures(res: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fixed image-space textures (res, res) float32: falling strands ~1, strands radiating
    from the crown ~1, and noise in [0, 1).

    Precomputed once per resolution (the same for every face and seed), so texturing costs
    one multiply; faces still differ because hair and beards sit at different places.
    """
    rng = np.random.default_rng(20240601)
    y, x = np.mgrid[0:res, 0:res].astype(np.float64) / res * 2 - 1  # (R, R) in [-1, 1)
    jitter = np.convolve(rng.standard_normal(4096), np.ones(5) / 5, mode="same")

    def strands(phase: np.ndarray) -> np.ndarray:
        wobble = np.interp(phase.ravel() % 64, np.linspace(0, 64, 4096), jitter)
        return 1.0 + 0.08 * np.sin(phase * 2 * np.pi) + 0.06 * wobble.reshape(phase.shape)

    falling = strands(x * 19.0 + 0.5 * np.sin(y * 4.5 + x * 1.5) + 0.2 * np.sin(y * 11.0))
    crown = strands(np.arctan2(x, y - 0.25) * 24.0 + 0.3 * np.sin(y * 7.0))
    noise = rng.random((res, res))
    return falling.astype(np.float32), crown.astype(np.float32), noise.astype(np.float32)


# --------------------------------------------------------------------------------------
# layers, back to front


def _draw_background(cv: _Canvas, p: dict) -> None:
    bg = _col(p["bg"])[:, :, None, None]  # (B, 3, 1, 1)
    grad = 1.0 - _s(p["bg_grad"])[:, :, :, None] * cv.grid[None, None, :, None]  # (B,1,R,1)
    cv.img[...] = bg * grad


def _draw_body(cv: _Canvas, p: dict) -> None:
    g = _s(p["g"])
    light = _s(np.cos(p["light_ang"]) * p["light_str"])
    # shoulders / shirt
    win = cv.window(-1.2, 1.2, 0.5, 1.6)
    u, v = cv.local(win)
    d = _ellipse(u, v - 1.02, 0.68 + 0.14 * g, 0.46)
    shade = (1.0 + light * u * 1.2 - 0.3 * np.clip(v - 0.75, 0, 1))[:, None]
    cv.paint(win, cv.cover(d), _col(p["shirt"])[:, :, None, None] * shade)
    # long hair behind the head (feminine presentation mostly)
    if p["long"].any():
        a, vol, ln = _s(p["face_a"]), _s(p["vol"]), _s(p["hair_len"])
        win = cv.window(-0.75, 0.75, -0.8, 1.15)
        u, v = cv.local(win)
        b = _s(p["face_b"])
        hw = a + 0.06 + vol + 0.1 * np.clip(v, 0, 1)
        bottom = ln - 0.08 * (u / hw) ** 2
        d = np.maximum(np.maximum(np.abs(u) - hw, v - bottom), -0.05 - v)
        top = _ellipse(u, v + 0.05, a + 0.06 + vol, b + 0.05 + 1.3 * vol)
        d = np.minimum(d, np.maximum(top, v + 0.05))
        alpha = cv.cover(d) * _s(p["long"])
        tex = (cv.strands[win][None] * 0.88 + light * u * 1.5)[:, None]  # (B, 1, h, w)
        cv.paint(win, alpha, _col(p["hair"])[:, :, None, None] * tex)
    # neck with a shadow under the jaw
    win = cv.window(-0.3, 0.3, 0.05, 1.1)
    u, v = cv.local(win)
    nw = 0.12 + 0.04 * g
    d = np.maximum(np.abs(u) - nw, v - (0.95 - 0.9 * u * u))
    d = np.maximum(d, 0.1 - v)
    shade = 0.72 + 0.16 * np.clip((v - 0.45) / 0.3, 0, 1) + light * u
    cv.paint(win, cv.cover(d), _col(p["skin"])[:, :, None, None] * shade[:, None])


def _face_distance(u: np.ndarray, v: np.ndarray, p: dict) -> tuple[np.ndarray, np.ndarray]:
    """Signed distance to the face outline, and its normalised radius k (1 on the edge)."""
    a, b = _s(p["face_a"]), _s(p["face_b"])
    low = np.clip(v / b, 0, 1)
    av = a * (1.0 - _s(p["taper"]) * low * low)  # width narrows toward the chin
    x, y = u / av, v / b
    x2, y2 = x * x, y * y
    k_round = np.sqrt(x2 + y2)
    k_square = np.sqrt(np.sqrt(x2 * x2 + y2 * y2))  # superellipse, p = 4
    w = _s(p["square"]) * (v > 0)
    k = k_round + w * (k_square - k_round)
    return (k - 1.0) * av, k


def _draw_head(cv: _Canvas, p: dict) -> None:
    skin = _col(p["skin"])[:, :, None, None]
    light = _s(np.cos(p["light_ang"]) * p["light_str"])
    # ears
    a = _s(p["face_a"])
    win = cv.window(-0.55, 0.55, -0.15, 0.2)
    u, v = cv.local(win)
    du = np.abs(u) - (a - 0.015)
    d = _ellipse(du, v - 0.02, 0.05, 0.085)
    inner = np.clip(1 - _ellipse(du - 0.01, v - 0.025, 0.025, 0.05) * 40, 0, 1)
    cv.paint(win, cv.cover(d), skin * (0.9 - 0.15 * inner + light * u)[:, None])
    # face
    win = cv.window(-0.5, 0.5, -0.6, 0.6)
    u, v = cv.local(win)
    d, k = _face_distance(u, v, p)
    edge = np.clip((k - 0.55) / 0.45, 0, 1)
    shade = 1.0 + light * u * 2.2 - 0.2 * edge * edge
    cv.paint(win, cv.cover(d), skin * shade[:, None])
    # cheeks: blush, raised by smiling
    win = cv.window(-0.35, 0.35, 0.0, 0.3)
    u, v = cv.local(win)
    sm = np.clip(_s(p["smile"]), 0, 1)
    dc = _circle(np.abs(u) - 0.19, v - (0.15 - 0.03 * sm), 0.085)
    alpha = np.clip(-dc / 0.085, 0, 1) * (_s(p["blush"]) + 0.12 * sm)
    cv.paint(win, alpha, np.array([[0.9, 0.35, 0.35]], dtype=np.float32))


def _draw_age(cv: _Canvas, p: dict) -> None:
    """Wrinkles: forehead lines, nasolabial folds, crow's feet, under-eye bags, marionette."""
    aw = _s(np.clip((p["age"] - 0.35) / 0.55, 0, 1))
    sm = _s(np.clip(p["smile"], 0, 1))
    line = _col(p["skin"])[:, :, None, None] * 0.62
    th = 0.0095
    # forehead
    win = cv.window(-0.22, 0.22, -0.4, -0.15)
    u, v = cv.local(win)
    vv = v - 0.8 * u * u
    f = (vv + 0.34) / 0.05
    d = np.abs(f - np.floor(f) - 0.5) * 0.05 - th
    d = np.maximum(d, np.maximum(np.abs(u) - 0.17, np.abs(vv + 0.29) - 0.055))
    cv.paint(win, cv.cover(d) * aw * 0.75, line)
    # nasolabial folds (deepened by a smile) and marionette lines
    mw = _s(p["mouth_w"])
    win = cv.window(-0.36, 0.36, 0.05, 0.42)
    u, v = cv.local(win)
    au = np.abs(u)
    fold = np.abs(au - (0.075 + 0.5 * (v - 0.08) + 0.35 * sm * (v - 0.08) ** 2 * 8)) - th
    fold = np.maximum(fold, np.abs(v - 0.18) - 0.1)
    cv.paint(win, cv.cover(fold) * np.clip(aw * 0.8 + 0.45 * sm, 0, 1), line)
    mar = _segment(au, v, mw + 0.012, MOUTH_Y + 0.035, mw + 0.03, MOUTH_Y + 0.11) - th
    cv.paint(win, cv.cover(mar) * aw * 0.7, line)
    # crow's feet and under-eye bags
    ex = EYE_X * _s(p["eye_sep"])
    ew = EYE_W * _s(p["eye_size"])
    win = cv.window(-0.35, 0.35, -0.12, 0.1)
    u, v = cv.local(win)
    du = np.abs(u) - (ex + ew + 0.012)
    dv = v - EYE_Y
    crow = np.minimum(
        _segment(du, dv, 0, 0, 0.045, -0.022), _segment(du, dv, 0, 0.006, 0.045, 0.028)
    )
    cv.paint(win, cv.cover(crow - th) * np.clip(aw + 0.5 * sm * aw, 0, 1) * 0.8, line)
    de = np.abs(u) - ex
    bag = np.abs(v - (EYE_Y + 0.058 - 2.0 * de * de)) - th
    bag = np.maximum(bag, np.abs(de) - 0.055)
    cv.paint(win, cv.cover(bag) * aw * 0.6, line)


def _draw_beard(cv: _Canvas, p: dict, after_mouth: bool) -> None:
    """Facial hair: stubble, full beard, goatee before the mouth; moustaches after it."""
    kind = p["beard_kind"]
    amt = p["beard_amt"]
    hair = _col(p["hair"])[:, :, None, None] * 0.75
    if not after_mouth:
        if not (((kind == 1) | (kind == 3) | (kind == 4)) & (amt > 0)).any():
            return
        win = cv.window(-0.5, 0.5, -0.1, 0.65)
        u, v = cv.local(win)
        a = _s(p["face_a"])
        full = _s(kind == 4)
        dface, _ = _face_distance(u, v, p)
        top = (MOUTH_Y - 0.075) - (MOUTH_Y - 0.075 - 0.09) * (u / a) ** 2
        d_full = np.maximum(dface - 0.03 * full * np.clip(v / 0.3, 0, 1), top - v)
        tex = cv.noise[win][None]
        stub = _s(kind == 1)
        alpha = cv.cover(d_full) * (full * (0.8 + 0.2 * tex) + stub * (0.25 + 0.35 * tex))
        # goatee: chin patch below the lower lip
        gt = _s(kind == 3)
        d_g = np.maximum(_ellipse(u, v - (MOUTH_Y + 0.14), 0.085, 0.1), MOUTH_Y + 0.05 - v)
        d_g = np.maximum(d_g, dface - 0.015)
        alpha = np.maximum(alpha, cv.cover(d_g) * gt * (0.8 + 0.2 * tex))
        cv.paint(win, alpha * _s(amt), hair)
    else:
        has = _s((kind == 2) | (kind == 3) | (kind == 4))
        if not (has * _s(amt)).any():
            return
        win = cv.window(-0.25, 0.25, MOUTH_Y - 0.15, MOUTH_Y + 0.12)
        u, v = cv.local(win)
        mw = _s(p["mouth_w"])
        lift = 0.07 * _s(p["smile"])
        t = np.clip(u / (mw + 0.02), -1, 1)
        yc = MOUTH_Y + lift * (0.35 - t * t)
        top = yc - 0.075 + 0.025 * t * t
        bot = yc - 0.012 + 0.045 * t * t  # droops past the corners
        d = np.maximum(np.maximum(top - v, v - bot), np.abs(u) - (mw + 0.025))
        tex = cv.noise[win][None]
        cv.paint(win, cv.cover(d) * has * _s(amt) * (0.8 + 0.2 * tex), hair)


def _draw_nose(cv: _Canvas, p: dict) -> None:
    skin = _col(p["skin"])[:, :, None, None]
    ns = _s(p["nose"])
    side = _s(np.where(np.cos(p["light_ang"]) > 0, -1.0, 1.0))  # shadow side
    win = cv.window(-0.12, 0.12, -0.06, NOSE_Y + 0.06)
    u, v = cv.local(win)
    # side shadow of the nose bridge
    d = _segment(u * side, v, 0.028 * ns, 0.0, 0.042 * ns, NOSE_Y - 0.02) - 0.009
    cv.paint(win, cv.cover(d) * 0.3, skin * 0.6)
    # tip shadow arc and nostrils
    d = np.abs(v - (NOSE_Y + 0.012 + 6.0 * u * u / ns)) - 0.007
    d = np.maximum(d, np.abs(u) - 0.045 * ns)
    cv.paint(win, cv.cover(d) * 0.35, skin * 0.55)
    d = _ellipse(np.abs(u) - 0.026 * ns, v - NOSE_Y, 0.013 * ns, 0.008)
    cv.paint(win, cv.cover(d) * 0.85, skin * 0.45)
    d = _circle(u, v - (NOSE_Y - 0.03), 0.018)
    cv.paint(win, np.clip(-d / 0.018, 0, 1) * 0.25, np.ones((1, 3), np.float32))


def _draw_mouth(cv: _Canvas, p: dict) -> None:
    """Lips on a parabola: smile > 0 lifts the corners and opens the mouth on teeth."""
    smile = _s(p["smile"])
    win = cv.window(-0.22, 0.22, MOUTH_Y - 0.12, MOUTH_Y + 0.12)
    u, v = cv.local(win)
    w = _s(p["mouth_w"]) * (1 + 0.22 * np.clip(smile, 0, 1) - 0.08 * np.clip(-smile, 0, 1))
    t = np.clip(u / w, -1, 1)
    t2 = t * t
    lift = 0.07 * smile  # corner height above the middle (local units)
    yc = MOUTH_Y + lift * (0.35 - t2)
    openness = 0.065 * np.clip((smile - 0.2) / 0.8, 0, 1)
    o = openness * (1 - t2)
    yu, yl = yc - 0.25 * o, yc + 0.75 * o
    bulge = np.sqrt(1 - t2)
    lips = _s(p["lips"])
    tu = (0.010 + 0.012 * lips) * bulge
    tl = (0.014 + 0.018 * lips) * bulge
    dx = np.abs(u) - w
    skin = _col(p["skin"])
    lip = skin * np.array([[0.82, 0.55, 0.55]]) + np.array([[0.08, 0.0, 0.02]])
    lip = lip * (1 - p["lipstick"][:, None]) + LIPSTICK[None] * p["lipstick"][:, None]
    lip = _col(lip)
    d_lips = np.maximum(np.maximum(yu - tu - v, v - (yl + tl)), dx)
    cv.paint(win, cv.cover(d_lips), lip)
    lower = np.maximum(np.maximum(yl + 0.3 * tl - v, v - (yl + tl * 0.8)), dx + 0.02)
    cv.paint(win, cv.cover(lower) * 0.25, np.ones((1, 3), np.float32))  # lower lip sheen
    is_open = np.clip(openness / 0.005, 0, 1)  # (B, 1, 1); closed mouths get no cavity
    if is_open.any():
        d_cav = np.maximum(np.maximum(yu - v, v - yl), dx)
        cv.paint(win, cv.cover(d_cav) * is_open, MOUTH_INSIDE[None])
        d_teeth = np.maximum(np.maximum(yu - v, v - (yu + 0.55 * (yl - yu))), dx + 0.008)
        cv.paint(win, cv.cover(d_teeth) * is_open, TEETH[None])
    # the line between the lips (fades as the mouth opens) and the corner creases
    closed = 1 - np.clip(openness / 0.02, 0, 1)
    d_line = np.maximum(np.abs(v - yc) - 0.0075, np.abs(u) - w * 1.03)
    dark = _col(skin * 0.35)
    cv.paint(win, cv.cover(d_line) * (0.35 + 0.6 * closed), dark)
    cu = w * 1.0
    cvv = MOUTH_Y + lift * (0.35 - 1.0)
    sgn = np.sign(smile)
    mag = np.abs(smile)
    d_c = _segment(np.abs(u), v, cu, cvv, cu + 0.028, cvv - 0.03 * sgn * mag) - 0.007
    cv.paint(win, cv.cover(d_c) * np.clip(mag * 1.2, 0, 0.8), dark)


def _draw_eyes(cv: _Canvas, p: dict) -> None:
    smile = _s(p["smile"])
    ex = EYE_X * _s(p["eye_sep"])
    es = _s(p["eye_size"])
    ew = EYE_W * es
    sq = np.clip(smile, 0, 1)
    eh = EYE_H * es * (1 - 0.15 * _s(p["age"]))
    eh_low = eh * (1 - 0.45 * sq)  # cheeks push the lower lid up in a smile
    win = cv.window(-0.3, 0.3, EYE_Y - 0.09, EYE_Y + 0.07)
    u, v = cv.local(win)
    du = u - np.sign(u) * ex
    dv = v - EYE_Y
    skin = _col(p["skin"])[:, :, None, None]
    # socket shadow
    d = _ellipse(du, dv + 0.012, ew * 1.35, eh * 1.9)
    cv.paint(win, np.clip(-d / 0.03, 0, 1) * 0.25, skin * 0.7)
    hh = np.where(dv < 0, eh, eh_low)
    k = np.sqrt((du / ew) ** 2 + (dv / hh) ** 2)
    d_eye = (k - 1) * hh
    cv.paint(win, cv.cover(d_eye), SCLERA[None].repeat(len(p["smile"]), 0))
    ri = 0.027 * es
    iu = du - _s(p["gaze_x"])
    d_iris = np.maximum(_circle(iu, dv + 0.003, ri), d_eye)
    cv.paint(win, cv.cover(d_iris), _col(p["eye"]))
    d_pupil = np.maximum(_circle(iu, dv + 0.003, ri * 0.45), d_eye)
    cv.paint(win, cv.cover(d_pupil), np.zeros((1, 3), np.float32))
    d_hl = _circle(iu + 0.009, dv + 0.012, 0.0065)
    cv.paint(win, cv.cover(d_hl) * 0.85, np.ones((1, 3), np.float32))
    # upper lid (with liner/lashes) and a faint lower lid
    liner = _s(p["liner"])
    lid_t = 0.006 + 0.007 * liner
    d_lid = np.maximum(np.abs(d_eye) - lid_t, dv + 0.25 * eh)
    wing = _segment(np.abs(du), dv, ew * 0.95, -0.25 * eh, ew + 0.018, -eh * 0.9) - lid_t * 0.8
    d_lid = np.minimum(d_lid, wing + 1.0 * (1 - liner))
    cv.paint(win, cv.cover(d_lid) * 0.92, LID[None].repeat(len(p["smile"]), 0))
    d_low = np.maximum(np.abs(d_eye) - 0.005, -dv)
    cv.paint(win, cv.cover(d_low) * (0.25 + 0.4 * sq), skin * 0.55)


def _draw_brows(cv: _Canvas, p: dict) -> None:
    g = _s(p["g"])
    smile = _s(p["smile"])
    ex = EYE_X * _s(p["eye_sep"])
    bw = 0.078
    win = cv.window(-0.3, 0.3, EYE_Y - 0.17, EYE_Y - 0.03)
    u, v = cv.local(win)
    t = (np.abs(u) - ex) / bw  # -1 inner end, +1 outer end
    by = EYE_Y - 0.082 + 0.012 * g - 0.01 * np.clip(smile, 0, 1)
    arch = 0.008 + 0.02 * (1 - g)
    tilt = 0.024 * np.clip(-smile, 0, 1) - 0.006 * g  # sad brows: inner ends raised
    vb = by - arch * (1 - t * t) + tilt * t
    th = _s(p["brow_thick"]) * (1.15 - 0.3 * np.clip(t, -1, 1))
    d = np.maximum(np.abs(v - vb) - th, np.abs(t) * bw - bw)
    cv.paint(win, cv.cover(d) * 0.95, _col(p["brow"]))


def _draw_hair(cv: _Canvas, p: dict) -> None:
    """Hair in front: the cap over the skull, fringe, side locks for long hair."""
    a, b = _s(p["face_a"]), _s(p["face_b"])
    vol = _s(p["vol"]) * (1 - _s(p["bald"]))
    long = _s(p["long"])
    bald = _s(p["bald"])
    fringe = _s(p["fringe"])
    win = cv.window(-0.75, 0.75, -0.75, 0.6)
    u, v = cv.local(win)
    d_out = _ellipse(u, v + 0.06 + 0.02 * vol, a + 0.04 + vol, b + 0.03 + 1.3 * vol)
    part = _s(p["part"])
    hl_plain = -0.25 + 0.9 * (u - part) ** 2 - 0.15 * bald * (1.0 - 6.0 * u * u)
    hl_plain = hl_plain - 0.2 * bald
    zig = u * 11.0
    hl_fringe = -0.165 + 0.45 * u * u + 0.03 * np.abs(zig - np.floor(zig) - 0.5)
    hl = hl_plain + fringe * (hl_fringe - hl_plain)
    a_side = a - 0.025 - 0.04 * long
    d_win = np.maximum(hl - v, np.abs(u) - a_side)  # the visible face, inside is < 0
    side_bottom = -0.02 + 0.05 * _s(p["g"]) + long * (0.25 + 0.1 * _s(p["hair_len"]) - 0.02)
    cut = v - side_bottom + 0.8 * np.maximum(np.abs(u) - a_side, 0)  # rounded lower ends
    d = np.maximum(np.maximum(d_out, -d_win), cut)
    # long hair: locks down both sides framing the face
    hw = a + 0.06 + vol + 0.09 * np.clip(v, 0, 1)
    d_lock = np.maximum(np.maximum(np.abs(u) - hw, -d_win), v - side_bottom)
    d_lock = np.maximum(d_lock, -0.3 - v) + (1 - long)
    d = np.minimum(d, d_lock)
    light = _s(np.cos(p["light_ang"]) * p["light_str"])
    crown, falling = cv.crown[win][None], cv.strands[win][None]
    tex = crown + np.clip((v + 0.3) / 0.2, 0, 1) * (falling - crown)
    tex *= 0.88
    sheen = 0.22 * np.clip(1 - np.abs(v + 0.42 + 0.5 * u * u) / 0.05, 0, 1)
    shade = tex + sheen + light * u * 1.5
    cv.paint(win, cv.cover(d), _col(p["hair"])[:, :, None, None] * shade[:, None])


def _draw_glasses(cv: _Canvas, p: dict) -> None:
    on = _s(p["glasses"])
    if not (on > 0).any():
        return
    style = _s(p["glasses_style"])
    a = _s(p["face_a"])
    ex = EYE_X * _s(p["eye_sep"])
    win = cv.window(-0.48, 0.48, EYE_Y - 0.12, EYE_Y + 0.11)
    u, v = cv.local(win)
    du = np.abs(u) - ex
    dv = v - (EYE_Y + 0.004)
    lens_round = _circle(du, dv, 0.075)
    lens_rect = _box(du, dv, 0.09, 0.058, 0.018)
    lens_brow = _box(du, dv, 0.088, 0.06, 0.028)
    lens_oval = _ellipse(du, dv, 0.097, 0.072)
    lens = np.where(style == 0, lens_round, lens_rect)
    lens = np.where(style == 2, lens_brow, lens)
    lens = np.where(style == 3, lens_oval, lens)
    th = np.where(style == 0, 0.011, np.where(style == 1, 0.017, 0.014)).astype(np.float32)
    th = th + (style == 2) * (dv < -0.015) * np.float32(0.014)  # thick browline top
    lw = np.where(style == 0, 0.075, np.where(style == 3, 0.097, 0.09)).astype(np.float32)
    frame = np.abs(lens) - th
    bridge = np.maximum(
        np.abs(v - (EYE_Y - 0.012 + 1.5 * u * u)) - 0.009, np.abs(u) - (ex - lw + 0.01)
    )
    temple = np.maximum(np.abs(v - (EYE_Y - 0.02)) - 0.009, (ex + lw - 0.01) - np.abs(u))
    temple = np.maximum(temple, np.abs(u) - (a + 0.02))
    frame = np.minimum(np.minimum(frame, bridge), temple)
    # lens tint and a diagonal glint
    tint = cv.cover(lens) * on
    cv.paint(win, tint * 0.1, np.array([[0.85, 0.92, 1.0]], dtype=np.float32))
    glint = np.clip(1 - np.abs(du + dv * 1.2 + 0.02) / 0.012, 0, 1)
    cv.paint(win, tint * glint * 0.35, np.ones((1, 3), np.float32))
    cv.paint(win, cv.cover(frame) * on, _col(p["frame"]))


def _render_chunk(p: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Render one batch of faces: parameters (B,) -> uint8 (B, size, size, 3)."""
    res = size * SUPERSAMPLE
    cv = _Canvas(p, res)
    _draw_background(cv, p)
    _draw_body(cv, p)
    _draw_head(cv, p)
    _draw_age(cv, p)
    _draw_beard(cv, p, after_mouth=False)
    _draw_nose(cv, p)
    _draw_mouth(cv, p)
    _draw_beard(cv, p, after_mouth=True)
    _draw_eyes(cv, p)
    _draw_brows(cv, p)
    _draw_hair(cv, p)
    _draw_glasses(cv, p)
    b = cv.img.shape[0]
    img = cv.img.reshape(b, 3, size, SUPERSAMPLE, size, SUPERSAMPLE).mean(axis=(3, 5))
    # global light: a gentle brightness ramp across the image
    grid = ((np.arange(size, dtype=np.float32) + 0.5) / size * 2 - 1).astype(np.float32)
    lx = _s(np.cos(p["light_ang"]) * p["light_str"] * 0.5)
    ly = _s(np.sin(p["light_ang"]) * p["light_str"] * 0.5)
    ramp = _s(p["bright"]) * (1 + lx * grid[None, None, :] + ly * grid[None, :, None])
    img *= ramp[:, None]
    out = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)  # (B, 3, S, S)
    return out.transpose(0, 2, 3, 1)


def render_faces(
    n: int, seed: int = 0, size: int = IMAGE_SIZE, attrs: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` synthetic faces.

    Returns ``images`` uint8 (n, size, size, 3) and ``attrs`` float32 (n, 4) with columns
    ``ATTRIBUTES`` = (smile in [-1, 1] frown..grin, age in [0, 1] young..old, gender in
    [0, 1] feminine..masculine presentation, glasses in {0, 1}). Deterministic: the same
    ``(seed, i)`` always gives the same face ``i``, whatever ``n``.

    ``attrs`` (n, 4), optional, overrides the sampled attributes; NaN entries keep the
    sampled value. Nuisance variation (pose, colours, face shape, hair style) still comes
    from the seed, so two calls with one seed and different ``attrs`` differ only in the
    attributes' own cues. Rendering runs in chunks of ``CHUNK`` faces, so memory stays
    bounded for large ``n``.
    """
    if n < 0 or size < 8:
        raise ValueError(f"render_faces needs n >= 0 and size >= 8 (got n={n}, size={size}).")
    r, labels = face_uniforms(n, seed)
    labels = _check_attrs(labels, attrs)
    return render_uniforms(r, labels, size), labels


def face_uniforms(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Faces ``0..n-1`` of ``seed`` as the renderer draws them: their uniforms (n, N_UNIFORMS)
    float64 (the face's whole random stream) and sampled attributes (n, 4) float32."""
    r = _sample_uniforms(n, seed)
    return r, _attrs_from_uniforms(r)


def render_uniforms(r: np.ndarray, attrs: np.ndarray, size: int = IMAGE_SIZE) -> np.ndarray:
    """Faces of uniforms ``r`` (n, N_UNIFORMS) with attributes ``attrs`` (n, 4) (in range, no
    NaN) -> uint8 (n, size, size, 3). A face's pixels depend only on its own row."""
    n = len(r)
    images = np.empty((n, size, size, 3), dtype=np.uint8)
    if n == 0:
        return images
    _keep_freed_memory()
    p = _face_params(r, attrs)
    # Group faces that need the same optional layers (long hair, beard, glasses) into the
    # same chunks so whole layers can be skipped; a face's pixels do not depend on its chunk.
    beard = (p["beard_kind"] > 0) & (p["beard_amt"] > 0)
    key = 4 * (p["long"] > 0) + 2 * beard + (p["glasses"] > 0)
    order = np.argsort(key, kind="stable")
    chunks = [order[i : i + CHUNK] for i in range(0, n, CHUNK)]

    def work(idx: np.ndarray) -> np.ndarray:
        return _render_chunk({k: v[idx] for k, v in p.items()}, size)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:  # numpy releases the GIL
        for idx, out in zip(chunks, pool.map(work, chunks), strict=True):
            images[idx] = out
    return images


def _check_attrs(labels: np.ndarray, attrs: np.ndarray | None) -> np.ndarray:
    """Sampled labels (n, 4) with the non-NaN entries of ``attrs`` forced in."""
    if attrs is None:
        return labels
    n = len(labels)
    forced = np.asarray(attrs, dtype=np.float32)
    if forced.shape != (n, len(ATTRIBUTES)):
        raise ValueError(f"attrs must have shape ({n}, {len(ATTRIBUTES)}), got {forced.shape}.")
    lo = np.array([-1, 0, 0, 0], np.float32)
    ok = np.isnan(forced) | ((forced >= lo) & (forced <= 1))
    if not ok.all():
        raise ValueError("attrs out of range: smile in [-1, 1], age/gender/glasses in [0, 1].")
    return np.where(np.isnan(forced), labels, forced).astype(np.float32)


def _keep_freed_memory() -> None:
    """Ask glibc malloc to keep freed chunk-sized buffers instead of returning them to the OS.

    The renderer allocates and frees many (CHUNK, R, R) temporaries; with glibc's defaults
    each one is a fresh mmap and page-faults on first touch, which costs about a third of
    the run time. Raising the trim and mmap thresholds lets malloc reuse them. No-op where
    glibc is not the allocator.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, MALLOC_TRIM_BYTES)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, MALLOC_MMAP_BYTES)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


def face_landmarks(
    n: int, seed: int = 0, size: int = IMAGE_SIZE, attrs: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Pixel positions of the faces that ``render_faces(n, seed, size, attrs)`` draws.

    Returns {name: (n, 2) float32 (x, y)} in pixel units (pixel (row i, col j) spans
    [j, j+1) x [i, i+1)) for "left_eye" and "right_eye" (image left/right), "nose",
    "mouth" (centre of the neutral mouth line), "mouth_left" and "mouth_right" (neutral
    corners), "chin" and "crown" (top of the head, in the hair). Useful to crop feature
    regions and to test attribute cues.
    """
    r, labels = face_uniforms(n, seed)
    p = _face_params(r, _check_attrs(labels, attrs))
    points = {
        "left_eye": (-EYE_X * p["eye_sep"], EYE_Y),
        "right_eye": (EYE_X * p["eye_sep"], EYE_Y),
        "nose": (0.0, NOSE_Y),
        "mouth": (0.0, MOUTH_Y),
        "mouth_left": (-p["mouth_w"], MOUTH_Y),
        "mouth_right": (p["mouth_w"], MOUTH_Y),
        "chin": (0.0, p["face_b"]),
        "crown": (0.0, -0.42),
    }
    return {k: local_to_pixels(p, u, v, size) for k, (u, v) in points.items()}


def local_to_pixels(p: dict[str, np.ndarray], u, v, size: int = IMAGE_SIZE) -> np.ndarray:
    """Face-local points (u, v), scalars or (n,), -> (n, 2) float32 pixel (x, y)."""
    c, s, sc = np.cos(p["tilt"]), np.sin(p["tilt"]), p["scale"]
    x = p["tx"] + sc * (u * c - v * s)
    y = p["ty"] + sc * (u * s + v * c)
    return np.stack([(x + 1) * 0.5 * size, (y + 1) * 0.5 * size], axis=1).astype(np.float32)


def faces_dataset(n_train: int, n_test: int, seed: int = 0) -> dict:
    """Train/test splits of synthetic faces for the VAE.

    Returns ``{"train": (images, attrs), "test": (images, attrs)}`` with images float32
    (N, 3, 64, 64) in [0, 1] and attrs float32 (N, 4) (see ``render_faces``). The train
    split uses seed ``2 * seed`` and the test split ``2 * seed + 1``: disjoint streams.
    """
    out = {}
    for name, n, s in (("train", n_train, 2 * seed), ("test", n_test, 2 * seed + 1)):
        images, attrs = render_faces(n, seed=s)
        x = np.empty((n, 3, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)  # (N, 3, H, W)
        for start in range(0, n, 4096):
            part = images[start : start + 4096].transpose(0, 3, 1, 2)
            np.multiply(part, np.float32(1 / 255), out=x[start : start + 4096])
        out[name] = (x, attrs)
    return out


# --------------------------------------------------------------------------------------
# a user's own folder of aligned face photos

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
CELEBA_ATTR_FILE = "list_attr_celeba.txt"
CELEBA_COLUMNS = ("Smiling", "Young", "Male", "Eyeglasses")


def _read_celeba_attrs(path: Path) -> dict[str, np.ndarray]:
    """Parse list_attr_celeba.txt into {file name: (4,) float32 in ATTRIBUTES convention}.

    CelebA marks each attribute +1 / -1. Mapping: Smiling +1 -> smile 1, -1 -> 0 (neutral,
    CelebA has no frown label); Young +1 -> age 0, -1 -> 1; Male +1 -> gender 1, -1 -> 0;
    Eyeglasses +1 -> glasses 1, -1 -> 0.
    """
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    rows = [ln.split() for ln in lines if ln.strip()]
    if rows and len(rows[0]) == 1 and rows[0][0].isdigit():
        rows = rows[1:]  # the count line
    if not rows:
        raise FacesDataError(f"{path} has no attribute header line.")
    header = rows[0]
    missing = [c for c in CELEBA_COLUMNS if c not in header]
    if missing:
        raise FacesDataError(f"{path} lacks the attribute columns {', '.join(missing)}.")
    idx = [header.index(c) for c in CELEBA_COLUMNS]
    table: dict[str, np.ndarray] = {}
    for row in rows[1:]:
        if len(row) != len(header) + 1:
            continue
        try:
            vals = [float(row[1 + i]) > 0 for i in idx]
        except ValueError:
            continue
        smiling, young, male, glasses = vals
        table[row[0]] = np.array(
            [float(smiling), 0.0 if young else 1.0, float(male), float(glasses)], np.float32
        )
    return table


def _load_image(path: Path, size: int) -> np.ndarray:
    """Centre-crop to a square and resize to (size, size, 3) uint8 with Pillow."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            im = im.crop((left, top, left + side, top + side))
            im = im.resize((size, size), Image.Resampling.LANCZOS)
            return np.asarray(im, dtype=np.uint8)
    except (OSError, ValueError) as e:
        raise FacesDataError(f"Could not read the image {path} ({e}).") from e


def load_face_folder(
    path: str | Path, size: int = IMAGE_SIZE, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Load a folder of aligned face photos (CelebA style) in place of the renderer.

    Images (jpg/png/bmp/webp, sorted by name, at most ``limit``) are centre-cropped to a
    square and resized to ``size`` with Pillow. Returns ``images`` uint8 (N, size, size, 3)
    and ``attrs`` float32 (N, 4) in the ``ATTRIBUTES`` convention, read from
    ``list_attr_celeba.txt`` in the folder or its parent (Smiling, Young, Male, Eyeglasses;
    see ``_read_celeba_attrs``); without that file, or for images it does not list, attrs
    are NaN. Raises ``FacesDataError`` for a missing or image-less folder.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FacesDataError(f"The face image folder {folder} does not exist.")
    files = sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FacesDataError(f"The face image folder {folder} has no .jpg/.png images in it.")
    if limit is not None:
        files = files[:limit]
    table: dict[str, np.ndarray] = {}
    for cand in (folder / CELEBA_ATTR_FILE, folder.parent / CELEBA_ATTR_FILE):
        if cand.is_file():
            table = _read_celeba_attrs(cand)
            break
    images = np.empty((len(files), size, size, 3), dtype=np.uint8)
    attrs = np.full((len(files), len(ATTRIBUTES)), np.nan, dtype=np.float32)
    for i, f in enumerate(files):
        images[i] = _load_image(f, size)
        if f.name in table:
            attrs[i] = table[f.name]
    return images, attrs


# --------------------------------------------------------------------------------------
# preview grids and a timing run


def sweep_attrs(cols: int = 8, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Attributes (len(ATTRIBUTES) * 2 * cols, 4) for a diagnostic grid and row captions.

    Two rows per attribute (one feminine and one masculine base face for smile/age/glasses,
    two base faces for gender): the attribute sweeps its range left to right while the
    others stay fixed (smile 0, age 0.2, glasses 0, gender 0.15 / 0.85).
    """
    rows, captions = [], []
    for j, name in enumerate(ATTRIBUTES):
        for base_g in (0.15, 0.85):
            a = np.tile(np.array([0.0, 0.2, base_g, 0.0], np.float32), (cols, 1))
            lo, hi = (-1.0, 1.0) if name == "smile" else (0.0, 1.0)
            a[:, j] = np.linspace(lo, hi, cols)
            if name == "glasses":
                a[:, j] = np.arange(cols) % 2
            rows.append(a)
            cap = f"{name} {lo:g} -> {hi:g}" if name != "glasses" else "glasses off/on"
            captions.append(cap if name == "gender" else f"{cap} (gender {base_g:g})")
    return np.concatenate(rows), captions


def _grid_image(images: np.ndarray, cols: int, zoom: int, captions: list[str] | None):
    """Tile (N, S, S, 3) uint8 into a Pillow image, nearest-upscaled by ``zoom``."""
    from PIL import Image, ImageDraw

    n, s = images.shape[0], images.shape[1]
    rows = (n + cols - 1) // cols
    pad = 2
    cap_w = 150 if captions else 0
    tile = s * zoom + pad
    canvas = Image.new("RGB", (cols * tile + pad + cap_w, rows * tile + pad), (24, 24, 28))
    draw = ImageDraw.Draw(canvas)
    for i in range(n):
        im = Image.fromarray(images[i]).resize((s * zoom, s * zoom), Image.Resampling.NEAREST)
        canvas.paste(im, (pad + (i % cols) * tile, pad + (i // cols) * tile))
    for r, text in enumerate(captions or []):
        draw.text(
            (cols * tile + pad + 4, pad + r * tile + tile // 2 - 6), text, fill=(230, 230, 230)
        )
    return canvas


def _save_atomic(image, out: Path) -> None:
    with atomic_path(out, suffix=".png") as tmp:
        image.save(tmp, format="PNG")


def main(argv: list[str] | None = None) -> int:
    """Write a preview grid of faces (or an attribute sweep), or time the renderer."""
    ap = argparse.ArgumentParser(prog="python -m latent_odyssey.train.faces", description=main.__doc__)
    ap.add_argument("--n", type=int, default=64, help="faces in the preview grid")
    ap.add_argument("--cols", type=int, default=8, help="grid columns")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--zoom", type=int, default=3, help="nearest-neighbour upscale factor")
    ap.add_argument("--out", type=Path, default=Path("docs/faces_grid.png"))
    ap.add_argument("--sweep", action="store_true", help="rows sweep one attribute each")
    ap.add_argument("--bench", type=int, default=0, help="time rendering this many faces")
    args = ap.parse_args(argv)
    if args.n < 1 or args.cols < 1 or args.zoom < 1 or args.bench < 0:
        print("error: --n, --cols and --zoom must be positive and --bench >= 0.", file=sys.stderr)
        return 2
    if args.bench:
        t0, c0 = time.perf_counter(), time.process_time()
        render_faces(args.bench, seed=args.seed)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"rendered {args.bench} faces in {dt:.1f} s ({args.bench / dt:.0f} faces/s; "
            f"{THREADS} threads, {cpu:.1f} s CPU)"
        )
        return 0
    captions = None
    if args.sweep:
        forced, captions = sweep_attrs(args.cols, args.seed)
        rows = [
            _render_row(forced[i : i + args.cols], args.seed + i // args.cols)
            for i in range(0, len(forced), args.cols)
        ]
        images = np.concatenate(rows)
    else:
        images, attrs = render_faces(args.n, seed=args.seed)
    try:
        _save_atomic(_grid_image(images, args.cols, args.zoom, captions), args.out)
    except OSError as e:
        print(f"error: could not write {args.out} ({e.strerror}).", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(images)} faces)")
    return 0


def _render_row(forced: np.ndarray, seed: int) -> np.ndarray:
    """Render one sweep row: the same face (uniform stream) under each forced attribute row."""
    r = np.repeat(_sample_uniforms(1, seed), len(forced), axis=0)
    p = _face_params(r, forced.astype(np.float32))
    return _render_chunk(p, IMAGE_SIZE)


if __name__ == "__main__":
    sys.exit(main())
