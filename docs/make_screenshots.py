"""Render the README's screenshots with the real Engine on SDL's dummy driver.

    python docs/make_screenshots.py [--out docs]

Each picture is a fixed number of frames at 1/60 s driven by posted key events, so the
pictures are reproducible. Needs the shipped models in pretrained/.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pygame  # noqa: E402

from latent_odyssey.game.paths import pretrained_dir  # noqa: E402
from latent_odyssey.game.play import Game  # noqa: E402

SIZE = (1280, 720)
DT = 1 / 60


def tap(engine: Game, key: int, frames: int = 2) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
    engine.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))
    for _ in range(frames):
        engine.loop_once(DT)


def hold(engine: Game, key: int, frames: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode=""))
    for _ in range(frames):
        engine.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))
    engine.loop_once(DT)


def run(engine: Game, frames: int) -> None:
    for _ in range(frames):
        engine.loop_once(DT)


def shot(engine: Game, path: Path) -> None:
    engine.save_frame(path)
    print("wrote", path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    out = ap.parse_args().out
    models = pretrained_dir()

    e = Game(models / "mnist-2d.onnx", "navigator", "cpu", SIZE, headless=True, seed=3)
    tap(e, pygame.K_3, 50)
    tap(e, pygame.K_SPACE)
    tap(e, pygame.K_8, 50)
    tap(e, pygame.K_SPACE)
    tap(e, pygame.K_i, 30)
    hold(e, pygame.K_d, 20)
    shot(e, out / "navigator.png")
    e.shutdown(quit_pygame=True)

    e = Game(models / "mnist-3d.onnx", "odyssey", "cpu", SIZE, headless=True, seed=3)
    scene = e.mode_scene
    scene.tunnel = False
    hold(e, pygame.K_w, 40)
    hold(e, pygame.K_q, 15)
    shot(e, out / "odyssey_flight.png")
    scene.tunnel = True
    scene.start_tour("centroids", 0)
    run(e, 150)
    shot(e, out / "odyssey_tunnel.png")
    scene.grid = True
    run(e, 60)
    shot(e, out / "odyssey_grid_minimap.png")
    tap(e, pygame.K_j, 20)  # warp to a random point, mid-flight
    shot(e, out / "odyssey_warp.png")
    e.shutdown(quit_pygame=True)

    e = Game(models / "fashion-3d.onnx", "odyssey", "cpu", SIZE, headless=True, seed=5)
    e.mode_scene.start_tour("dense", 1)
    run(e, 200)
    shot(e, out / "odyssey_fashion.png")
    e.shutdown(quit_pygame=True)

    faces = models / "faces.onnx"
    if faces.exists():
        e = Game(faces, "faces", "cpu", SIZE, headless=True, seed=11)
        run(e, 30)
        studio = e.mode_scene
        studio.set_slider(1, 1.0)  # a little older
        run(e, 30)
        shot(e, out / "faces_studio.png")
        tap(e, pygame.K_y, 20)
        shot(e, out / "faces_grid.png")
        tap(e, pygame.K_y, 5)
        tap(e, pygame.K_1, 5)
        tap(e, pygame.K_r, 40)
        tap(e, pygame.K_2, 5)
        tap(e, pygame.K_g, 60)
        shot(e, out / "faces_morph.png")
        e.shutdown(quit_pygame=True)


if __name__ == "__main__":
    main()
