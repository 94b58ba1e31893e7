"""Render the README's screenshots with the real Engine on SDL's dummy driver.

    python docs/make_screenshots.py [--out docs] [--only navigator|odyssey|odyssey-faces|faces ...]

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
PARTS = ("navigator", "odyssey", "odyssey-faces", "faces")


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
    ap.add_argument("--only", choices=PARTS, action="append", help="make only these pictures (repeatable)")
    args = ap.parse_args()
    out, only = args.out, set(args.only or PARTS)
    models = pretrained_dir()

    if "navigator" in only:
        navigator(models, out)
    if "odyssey" in only:
        odyssey(models, out)
    if "odyssey-faces" in only:
        odyssey_faces(models, out)
    if "faces" in only:
        faces_studio(models, out)


def navigator(models: Path, out: Path) -> None:
    e = Game(models / "mnist-2d.onnx", "navigator", provider="cpu", size=SIZE, headless=True, seed=3)
    tap(e, pygame.K_3, 50)
    tap(e, pygame.K_SPACE)
    tap(e, pygame.K_8, 50)
    tap(e, pygame.K_SPACE)
    tap(e, pygame.K_i, 30)
    hold(e, pygame.K_d, 20)
    shot(e, out / "navigator.png")
    e.shutdown(quit_pygame=True)


def odyssey(models: Path, out: Path) -> None:
    """The field (manual flight), a roll mid-turn, the tunnel on a tour, the grid and radar."""
    e = Game(models / "mnist-3d.onnx", "odyssey", provider="cpu", size=SIZE, headless=True, seed=3)
    scene = e.mode_scene
    scene.freeze()  # every frame decodes what it shows: the pictures depend on the keys alone
    hold(e, pygame.K_w, 50)
    hold(e, pygame.K_d, 12)
    run(e, 30)
    shot(e, out / "odyssey_field.png")
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_e, mod=0, unicode=""))
    run(e, 22)  # mid-roll: about 55 degrees of the turn
    shot(e, out / "odyssey_roll.png")
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_e, mod=0))
    tap(e, pygame.K_y, 40)  # the 3x3 grid of neighbours, with the radar
    shot(e, out / "odyssey_grid_minimap.png")
    tap(e, pygame.K_y, 2)
    tap(e, pygame.K_t, 2)  # the tunnel, on the class tour
    scene.start_tour("centroids", 0)
    run(e, 150)
    shot(e, out / "odyssey_tunnel.png")
    e.shutdown(quit_pygame=True)


def odyssey_faces(models: Path, out: Path) -> None:
    """Faces as round cards in the Odyssey's field."""
    faces = models / "faces.onnx"
    if faces.exists():
        e = Game(faces, "odyssey", provider="cpu", size=SIZE, headless=True, seed=3)
        e.mode_scene.freeze()
        hold(e, pygame.K_w, 40)
        hold(e, pygame.K_a, 10)
        run(e, 30)
        shot(e, out / "odyssey_faces.png")
        e.shutdown(quit_pygame=True)


def faces_studio(models: Path, out: Path) -> None:
    faces = models / "faces.onnx"
    if faces.exists():
        e = Game(faces, "faces", provider="cpu", size=SIZE, headless=True, seed=6)
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
