"""Input for headless engine tests: frames, key taps, mouse drags and dropped files, each
stepping the engine by 1/60 s per frame (shared by the pad, posterior and Learn tests)."""

from __future__ import annotations

from pathlib import Path

import pygame

DT = 1 / 60  # s per frame


def frames(eng, n: int) -> None:
    """Run ``n`` frames."""
    for _ in range(n):
        eng.loop_once(DT)


def tap(eng, key: int) -> None:
    """Press and release ``key`` (a frame each)."""
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))
    eng.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))
    eng.loop_once(DT)


def drag(eng, points: list[tuple[int, int]], button: int = 1) -> None:
    """Press ``button`` at the first point, move through the others (a frame each), release."""
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=points[0], rel=(0, 0), buttons=(0, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=points[0], button=button))
    eng.loop_once(DT)
    for p in points[1:]:
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=p, rel=(0, 0), buttons=(1, 0, 0)))
        eng.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=points[-1], button=button))
    eng.loop_once(DT)


def drop(eng, path: Path) -> None:
    """Drop a file on the window (SDL's DROPFILE) and run a frame."""
    pygame.event.post(pygame.event.Event(pygame.DROPFILE, file=str(path)))
    eng.loop_once(DT)
