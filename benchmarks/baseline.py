"""The baseline: the seed's way of drawing the Odyssey tunnel + grid frame.

    python -m benchmarks.baseline [--model PATH] [--frames 300] [--size 1280x720]

The seed decoded one image per PyTorch eager call and showed it through PIL. Per frame this
renders the same content as ``scenes.odyssey_tunnel_grid`` (8 tunnel layers + the 3x3 grid =
``IMAGES_PER_FRAME`` images, plus a text HUD) that way, with no cache and no batching:

1. for each of the 17 latents: ``decoder(z[None])`` on the eager PyTorch decoder (the same
   weights as the ONNX file: ``benchmarks.decode_latency.load_torch_decoders``) under
   ``torch.inference_mode()``;
2. ``(1, C, H, W)`` float -> uint8 ``(H, W[, 3])`` -> ``PIL.Image.fromarray`` ->
   ``Image.resize`` to its on-screen size (bilinear) -> ``pygame.image.frombuffer``;
3. blit: layers far to near, centred, at the tunnel's projected size
   ``focal * LAYER_SIZE / depth`` (clamped to the window height; per-channel max blending
   as the game does for dark models), grid cells of ``GRID_CELL`` px bottom right, an FPS
   line rendered with ``pygame.font`` every frame, ``display.flip()``.

The latents follow a straight flight through the model's populated region (the top-3
variance dims, the rest at their mean; back and forth between the bounds at the autopilot's
speed), layers at whole multiples of the game's default spacing ahead of the ship, grid
cells one spacing apart; every frame's latents are new, which costs the seed nothing extra
since it caches nothing. Frame time: wall time of steps 1-3 per frame after ``warmup``.

``run(model_path, frames, size, warmup) -> dict``; needs torch and Pillow (the ``train``
extra) and ``NAME.pt`` beside ``NAME.onnx``, else :class:`BaselineError`.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import stats

LAYERS = 8  # the game's default tunnel depth
GRID_IMAGES = 9
IMAGES_PER_FRAME = LAYERS + GRID_IMAGES
FRAME_DT_S = 1.0 / 60.0  # simulated time per frame
WARMUP_FRAMES = 60
SPACING_FRACTION = 0.06  # game.odyssey: layer spacing / mean extent of the bounds
SPEED_FRACTION = 0.22  # game.odyssey: autopilot speed, extents per second
LAYER_SIZE = 0.8  # game.tunnel: a layer is this many spacings wide
FOV_Y_DEG = 60.0  # game.tunnel: the camera's vertical field of view
GRID_CELL = 76  # game.odyssey: grid cell size in px
MARGIN = 16
BG = (12, 14, 24)
FG = (225, 230, 245)


class BaselineError(RuntimeError):
    """The baseline cannot run here (one sentence)."""


def _flight(meta: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, np.ndarray, np.ndarray]:
    """(base latent (D,), direction, right, up (D,) unit vectors, spacing, lo, hi) of the flight."""
    lo, hi = (b.astype(np.float64) for b in meta.bounds())
    d = meta.latent_dim
    dims = np.argsort(-np.asarray(meta.latent_std, np.float64), kind="stable")[: min(3, d)]
    base = np.asarray(meta.latent_mean, np.float64).copy()
    axes = np.zeros((3, d))
    for i, k in enumerate(dims):
        axes[i, k] = 1.0
    direction = axes.sum(0) / np.linalg.norm(axes.sum(0))  # diagonal of the subspace
    right = axes[0] - axes[1] if len(dims) > 1 else axes[0]
    right /= np.linalg.norm(right)
    up = np.cross(direction[dims], right[dims]) if len(dims) == 3 else axes[0]
    up_full = np.zeros(d)
    if len(dims) == 3:
        up_full[dims] = up / max(np.linalg.norm(up), 1e-12)
    else:
        up_full = axes[0]
    extent = float(np.mean((hi - lo)[dims]))
    return base, direction, right, up_full, SPACING_FRACTION * extent, lo, hi


def frame_latents(flight: tuple, t: float) -> tuple[np.ndarray, np.ndarray]:
    """The 17 latents of the frame at time ``t`` on ``flight`` (``_flight(meta)``): (the 8
    layers then the 9 grid cells (17, D), the layers' depths in spacings (8,))."""
    base, direction, right, up, spacing, lo, hi = flight
    span = float(np.linalg.norm((hi - lo) * direction)) or 1.0
    speed = SPEED_FRACTION * span
    s = (t * speed) % (2.0 * span)
    s = s if s <= span else 2.0 * span - s  # back and forth along the diagonal
    pos = base + (s - 0.5 * span) * direction
    frac = (s / spacing) % 1.0
    depths = np.arange(1, LAYERS + 1) - frac  # (8,) in spacings, nearest first
    layers = pos[None] + (depths * spacing)[:, None] * direction[None]  # (8, D)
    offsets = [(i, j) for j in (1, 0, -1) for i in (-1, 0, 1)]
    grid = np.stack([pos + spacing * (i * right + j * up) for i, j in offsets])  # (9, D)
    return np.concatenate([layers, grid]).astype(np.float32), depths


class SeedRenderer:
    """One frame the seed's way (see the module docstring)."""

    def __init__(self, eager: Any, meta: Any, screen: Any) -> None:
        import pygame
        from PIL import Image

        self.Image = Image
        self.eager = eager
        self.meta = meta
        self.flight = _flight(meta)
        self.screen = screen
        self.font = pygame.font.Font(None, 22)
        self.focal = 0.5 * screen.get_height() / math.tan(math.radians(FOV_Y_DEG) / 2.0)
        self.decode_ms: list[float] = []

    def image(self, z: np.ndarray, size: int) -> Any:
        """One latent -> one eager call -> PIL -> resized -> pygame surface."""
        import pygame
        import torch

        t0 = time.perf_counter()
        with torch.inference_mode():
            out = self.eager(torch.from_numpy(z[None]))  # (1, C, H, W) in [0, 1]
        self.decode_ms.append((time.perf_counter() - t0) * 1000.0)
        arr = (out[0].numpy().transpose(1, 2, 0) * 255.0).clip(0, 255).astype(np.uint8)  # (H, W, C)
        img = self.Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
        img = img.resize((size, size), self.Image.BILINEAR).convert("RGB")
        return pygame.image.frombuffer(img.tobytes(), img.size, "RGB")

    def draw(self, t: float, frame_ms: float) -> None:
        import pygame

        screen = self.screen
        w, h = screen.get_size()
        zs, depths = frame_latents(self.flight, t)
        screen.fill(BG)
        for k in reversed(range(LAYERS)):  # far to near
            size = int(min(h, max(4, self.focal * LAYER_SIZE / depths[k])))
            surf = self.image(zs[k], size)
            screen.blit(surf, surf.get_rect(center=(w // 2, h // 2)), special_flags=pygame.BLEND_RGB_MAX)
        x0, y0 = w - MARGIN - 3 * GRID_CELL, h - MARGIN - 3 * GRID_CELL
        for i in range(GRID_IMAGES):
            surf = self.image(zs[LAYERS + i], GRID_CELL)
            screen.blit(surf, (x0 + (i % 3) * GRID_CELL, y0 + (i // 3) * GRID_CELL))
        fps = 1000.0 / frame_ms if frame_ms > 0 else 0.0
        screen.blit(self.font.render(f"FPS {fps:5.1f}   frame {frame_ms:5.1f} ms", True, FG), (MARGIN, MARGIN))
        pygame.display.flip()


def run(model_path: Path | str, frames: int = 300, size: tuple[int, int] = (1280, 720),
        warmup: int = WARMUP_FRAMES) -> dict[str, Any]:
    """Frame-time statistics (ms) of the seed-style tunnel + grid frame."""
    from benchmarks.decode_latency import DecodeBenchError, load_torch_decoders
    from latent_odyssey.game.model.modelfile import open_model

    try:
        import PIL  # noqa: F401
        import torch  # noqa: F401
    except ImportError as exc:
        raise BaselineError(f"the baseline needs torch and Pillow ({exc.name} is missing)") from None
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    path = Path(model_path)
    _, meta = open_model(path, "cpu")
    try:
        eager, _ts = load_torch_decoders(path, meta)
    except DecodeBenchError as exc:
        raise BaselineError(str(exc)) from None
    pygame.display.init()
    pygame.font.init()
    try:
        screen = pygame.display.set_mode(size)
        renderer = SeedRenderer(eager, meta, screen)
        times: list[float] = []
        cpu: list[float] = []
        last_ms = 0.0
        for i in range(warmup + frames):
            renderer.decode_ms.clear()
            t0, c0 = time.perf_counter(), time.thread_time()
            renderer.draw(i * FRAME_DT_S, last_ms)
            last_ms = (time.perf_counter() - t0) * 1000.0
            if i >= warmup:
                times.append(last_ms)
                cpu.append((time.thread_time() - c0) * 1000.0)
        out = stats(times)
        out.update({
            "cpu_median_ms": round(float(np.median(cpu)), 3),
            "decode_ms_per_frame": round(float(sum(renderer.decode_ms)), 3),  # the last frame's
            "images_per_frame": IMAGES_PER_FRAME,
            "model": str(path),
            "size": f"{size[0]}x{size[1]}",
            "method": "PyTorch eager, one image per call, PIL fromarray + resize per image, no cache",
        })
        return out
    finally:
        pygame.display.quit()


def main(argv: list[str] | None = None) -> int:
    from latent_odyssey.game.cli import parse_size

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=Path(__file__).resolve().parents[1] / "pretrained" / "mnist-3d.onnx")
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", type=parse_size, default=(1280, 720))
    args = ap.parse_args(argv)
    if not args.model.is_file():
        print(f"baseline: no model at {args.model}; pass --model PATH to a decoder with a .pt beside it.",
              file=sys.stderr)
        return 2
    try:
        r = run(args.model, args.frames, args.size)
    except BaselineError as exc:
        print(f"baseline: {exc}.", file=sys.stderr)
        return 2
    print(f"seed-style tunnel + grid ({r['images_per_frame']} images/frame), {r['size']}: "
          f"median {r['median_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  mean {r['mean_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
