"""Render the README's "Look inside the VAE" pictures with the real Engine on SDL's dummy driver.

    python docs/make_vae_screenshots.py [--out docs]

A digit drawn on the Navigator's pad with its posterior and samples, the prior-vs-data
overlay at a hole of the latent space, and the Learn panel. Frames are 1/60 s, input is
posted events (the drawing is a mouse drag), so the pictures are reproducible.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pygame  # noqa: E402
from make_screenshots import DT, SIZE, run, shot, tap  # noqa: E402  (sets the dummy video driver)

from latent_odyssey.game.paths import pretrained_dir  # noqa: E402
from latent_odyssey.game.play import Game  # noqa: E402


def three(rect: pygame.Rect) -> list[tuple[int, int]]:
    """A hand-drawn "3" inside the pad's rectangle: two arcs, as one stroke."""
    def arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int = 14) -> list[tuple[int, int]]:
        return [(round(cx + r * math.cos(math.radians(a))), round(cy + r * math.sin(math.radians(a))))
                for a in (a0 + (a1 - a0) * i / (n - 1) for i in range(n))]

    s = rect.width / 360
    cx, top, bottom = rect.centerx - 2 * s, rect.top + 105 * s, rect.top + 245 * s
    return arc(cx, top, 70 * s, 200, 450) + arc(cx, bottom, 78 * s, -90, 160)


def drag(engine: Game, points: list[tuple[int, int]]) -> None:
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=points[0], rel=(0, 0), buttons=(0, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=points[0], button=1))
    engine.loop_once(DT)
    for p in points[1:]:
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=p, rel=(0, 0), buttons=(1, 0, 0)))
        engine.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=points[-1], button=1))
    engine.loop_once(DT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    out = ap.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    models = pretrained_dir()

    e = Game(models / "mnist-2d.onnx", mode="navigator", provider="cpu", size=SIZE, headless=True, seed=3, mute=True)
    tap(e, pygame.K_e)
    drag(e, three(e.mode_scene.layout.image))
    tap(e, pygame.K_z, 40)  # new ε: the samples fly out of μ
    e.ctx.notices.clear()
    run(e, 2)
    shot(e, out / "vae_drawn_digit.png")

    tap(e, pygame.K_e)  # close the pad, then experiment 4 of the Learn panel: a hole
    tap(e, pygame.K_F5)
    tap(e, pygame.K_4, 70)
    e.ctx.notices.clear()
    run(e, 2)
    shot(e, out / "vae_prior.png")

    tap(e, pygame.K_F5, 5)
    shot(e, out / "vae_learn.png")
    e.shutdown(quit_pygame=True)


if __name__ == "__main__":
    main()
