"""Make the styled digit files in tests/data/digits/ from real MNIST test digits (numpy + pygame).

Five styles of the same digit, each a file a player might drop on the game:

* ``wob``       white on black, 3x, smooth                                   (grey PNG)
* ``photo``     dark ink on lit paper: gradient, noise, warm tint, 4x, a little off-centre (JPEG)
* ``thick``     a felt-tip marker: strokes dilated, black on white, 3x      (grey PNG)
* ``thin``      a fine pen: strokes eroded to about a third of MNIST's, blue on white, 8x (PNG)
* ``corner``    small, in the top-left of a wide canvas, black strokes on transparency (RGBA PNG)

Selection (honest): for each class k, the first test digit of class k whose *raw 28 x 28 MNIST
image* encodes nearest the centroid of k with both shipped digit models (mnist-2d and
mnist-3d). The styled files are never looked at when choosing, so the test that they too
encode nearest their class checks the preprocessing, not the choice.

    python tests/data/make_digit_files.py                 # write the 50 files
    python tests/data/make_digit_files.py --measure 1000  # rates on the first 1000 test digits, unselected
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np  # noqa: E402
import pygame  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MNIST = REPO.parent / "shared" / "data" / "mnist"
OUT = HERE / "digits"
STYLES = ("wob", "photo", "thick", "thin", "corner")
SUFFIX = {"photo": ".jpg"}


def load_mnist_test(folder: Path = MNIST) -> tuple[np.ndarray, np.ndarray]:
    """(10000, 28, 28) uint8 images and (10000,) labels of the MNIST test set."""
    x = np.frombuffer(gzip.open(folder / "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    y = np.frombuffer(gzip.open(folder / "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    return x.reshape(-1, 28, 28), y


def upscale(img: np.ndarray, f: int) -> np.ndarray:
    """Smooth (bilinear) f-times upscale of a (28, 28) image in [0, 1]."""
    n = img.shape[0] * f
    c = np.clip((np.arange(n) + 0.5) / f - 0.5, 0, img.shape[0] - 1)
    i0 = np.floor(c).astype(int)
    i1 = np.minimum(i0 + 1, img.shape[0] - 1)
    t = c - i0
    rows = img[i0] * (1 - t)[:, None] + img[i1] * t[:, None]
    return rows[:, i0] * (1 - t)[None] + rows[:, i1] * t[None]


def morph(a: np.ndarray, r: int, grow: bool) -> np.ndarray:
    p = np.pad(a, r)
    out = a.copy()
    pick = np.maximum if grow else np.minimum
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx <= r * r:
                out = pick(out, p[r + dy : r + dy + a.shape[0], r + dx : r + dx + a.shape[1]])
    return out


def rgb8(grey: np.ndarray, ink=(0, 0, 0), paper=(255, 255, 255)) -> np.ndarray:
    """Ink amount (H, W) in [0, 1] -> uint8 (H, W, 3) of ``ink`` on ``paper``."""
    a = np.clip(grey, 0, 1)[..., None]
    return (np.array(paper) * (1 - a) + np.array(ink) * a + 0.5).astype(np.uint8)


def style(img: np.ndarray, name: str, seed: int) -> np.ndarray:
    """A (28, 28) uint8 MNIST digit -> uint8 (H, W, 3 or 4) picture in style ``name``."""
    d = img.astype(np.float64) / 255.0
    rng = np.random.default_rng(seed)
    if name == "wob":
        return rgb8(upscale(d, 3), ink=(255, 255, 255), paper=(0, 0, 0))
    if name == "photo":
        ink = upscale(d, 4)  # 112 x 112
        h, w = 136, 168
        yy, xx = np.mgrid[0:h, 0:w]
        light = 0.74 + 0.16 * (xx / w) + 0.05 * (yy / h)  # lit from the right
        canvas = np.zeros((h, w))
        top, left = 8 + int(rng.integers(0, 16)), 20 + int(rng.integers(0, 36))
        canvas[top : top + 112, left : left + 112] = ink
        grey = light * (1 - 0.8 * canvas) + rng.normal(0, 0.025, (h, w))
        tint = np.array([1.0, 0.96, 0.88])  # warm paper
        return (np.clip(grey[..., None] * tint, 0, 1) * 255 + 0.5).astype(np.uint8)
    if name == "thick":
        return rgb8(morph(upscale(d, 3), 3, grow=True))
    if name == "thin":
        big = upscale(d, 8)
        core = morph((big > 0.45).astype(np.float64), 6, grow=False)
        return rgb8(core, ink=(30, 50, 160))
    if name == "corner":
        small = upscale(d, 2)  # 56 x 56
        h, w = 150, 220
        alpha = np.zeros((h, w))
        top, left = 4 + int(rng.integers(0, 10)), 6 + int(rng.integers(0, 14))
        alpha[top : top + 56, left : left + 56] = small
        out = np.zeros((h, w, 4), np.uint8)
        out[..., 3] = (alpha * 255 + 0.5).astype(np.uint8)
        return out
    raise ValueError(f"unknown style {name!r}")


def encode_file_bytes(pixels: np.ndarray, suffix: str) -> bytes:
    """The picture as the bytes of a PNG or JPEG file (pygame's writers)."""
    h, w, c = pixels.shape
    fmt = "RGBA" if c == 4 else "RGB"
    surface = pygame.image.frombuffer(np.ascontiguousarray(pixels).tobytes(), (w, h), fmt)
    if c == 3 and np.all(pixels[..., 0] == pixels[..., 1]) and np.all(pixels[..., 1] == pixels[..., 2]):
        pal = pygame.Surface((w, h), depth=8)  # greyscale: an 8-bit palette PNG, a third of the size
        pal.set_palette([(i, i, i) for i in range(256)])
        pygame.surfarray.pixels2d(pal)[:] = pixels[..., 0].T
        surface = pal
    buf = io.BytesIO()
    pygame.image.save(surface, buf, f"x{suffix}")
    return buf.getvalue()


def select(x: np.ndarray, y: np.ndarray) -> list[int]:
    """For each class, the first test index whose raw image encodes nearest its class centroid
    with both mnist-2d and mnist-3d."""
    from latent_odyssey.game.model.modelfile import open_encoder, open_model
    from latent_odyssey.game.model.posterior import encode_images

    ok = np.ones(len(x), bool)
    for name in ("mnist-2d", "mnist-3d"):
        path = REPO / "pretrained" / f"{name}.onnx"
        _, meta = open_model(path, "cpu")
        mu, _ = encode_images(open_encoder(path, meta, "cpu"), x[:, None] / 255.0)
        cen = meta.centroid_array()
        ok &= np.linalg.norm(mu[:, None] - cen[None], axis=2).argmin(1) == y
    return [int(np.flatnonzero((y == k) & ok)[0]) for k in range(10)]


def measure(x: np.ndarray, y: np.ndarray, n: int) -> None:
    """Nearest-centroid rates of the first n test digits (no selection): raw and each style."""
    from latent_odyssey.game.model.imagefile import ImageInfo, decode, sniff
    from latent_odyssey.game.model.modelfile import open_encoder, open_model
    from latent_odyssey.game.model.posterior import encode_images, encode_picture

    for name in ("mnist-2d", "mnist-3d"):
        path = REPO / "pretrained" / f"{name}.onnx"
        _, meta = open_model(path, "cpu")
        enc = open_encoder(path, meta, "cpu")
        cen = meta.centroid_array()
        mu, _ = encode_images(enc, x[:n, None] / 255.0)  # the 28 x 28 images as they are
        rates = {"raw": float(np.mean(np.linalg.norm(mu[:, None] - cen[None], axis=2).argmin(1) == y[:n]))}
        for st in ("prepared", *STYLES):  # prepared: the raw image through preprocess.prepare
            hits = 0
            for i in range(n):
                if st == "prepared":
                    pic = x[i]
                else:
                    data = encode_file_bytes(style(x[i], st, i), SUFFIX.get(st, ".png"))
                    info: ImageInfo = sniff(data)
                    pic = decode(data, info, "x")
                k = encode_picture(enc, meta, pic).nearest_class(cen)[0]
                hits += k == y[i]
            rates[st] = hits / n
        print(name, "  ".join(f"{k} {v:.3f}" for k, v in rates.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", type=int, metavar="N", help="print rates on the first N test digits instead")
    args = parser.parse_args()
    x, y = load_mnist_test()
    if args.measure:
        measure(x, y, args.measure)
        return
    OUT.mkdir(parents=True, exist_ok=True)
    chosen = select(x, y)
    for k, i in enumerate(chosen):
        for st in STYLES:
            suffix = SUFFIX.get(st, ".png")
            (OUT / f"{k}_{st}{suffix}").write_bytes(encode_file_bytes(style(x[i], st, i), suffix))
    print("MNIST test indices used:", chosen)


if __name__ == "__main__":
    main()
