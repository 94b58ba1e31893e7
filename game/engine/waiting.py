"""The waiting screen of ``odyssey --live RUN``: a window that waits for the run's first model.

The game may start before training does. :class:`WaitingScreen` opens the window and shows
"Waiting for the first epoch of RUN…" with what ``status.json`` says (no run yet, epoch 1 of
N under way, the run stopped or failed), polling the files like the live reload does (a
``game.model.live.ModelWatcher``: ``stat`` only on the frame thread, the model validated on a
worker). ``run()`` returns True as soon as a valid model file is there (``signature`` is
then the file's, for the live reload to start from), False when the player quits (the
``quit`` action, Esc, or closing the window). A file that fails validation is named on the
screen in one sentence and the wait goes on.

Controls: ``quit`` (Esc) leaves.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pygame

from latent_odyssey.game.engine.app import save_png
from latent_odyssey.game.engine.input import InputState, load_controls
from latent_odyssey.game.engine.liveview import draw_waiting
from latent_odyssey.game.model.live import RESUMING, LivePaths, ModelWatcher, RunStatus
from latent_odyssey.game.model.modelfile import ModelMeta, open_model

WAIT_FPS = 30  # the waiting screen redraws this often
WINDOW_TITLE = "Latent Odyssey - waiting for"


def status_words(status: RunStatus | None, state: str | None, paths: LivePaths, now: float) -> tuple[str, str]:
    """(what the run is doing, what the player can do) in words, for the waiting screen."""
    run = paths.run_name
    if status is None:
        return (f"No training has started in {paths.run} yet.",
                f"Start one: odyssey-train PRESET --live --out {paths.run}")
    ago = max(0, int(now - status.time))
    if state == "stopped":
        return (f"The training process ({status.pid}) is gone: {run} stopped after {status.epoch} "
                f"of {status.epochs} epochs.", "Continue it with odyssey-train ... --resume --live.")
    if state == "failed":
        return f"Training failed after {status.epoch} of {status.epochs} epochs: {status.message}", ""
    if state == "finished":
        return f"Training finished ({status.epochs} epochs), but it left no model file here.", ""
    if status.epoch > 0:
        return f"Epoch {status.epoch} of {status.epochs} is done: opening its model.", ""
    if status.message == RESUMING:  # its epoch count and total are the checkpoint's, unknown here
        return (f"Training resumes from its checkpoint (process {status.pid}): its next epoch is under way "
                f"(started {ago} s ago).", "")
    return (f"Training runs (process {status.pid}): epoch 1 of {status.epochs} is under way "
            f"(started {ago} s ago).", "")


class WaitingScreen:
    """The window before the first model file (see the module docstring)."""

    def __init__(self, paths: LivePaths, provider: str = "auto", size: tuple[int, int] = (1280, 720),
                 fullscreen: bool = False, headless: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
        self.paths = paths
        self.clock = clock
        self.headless = headless
        self.watcher: ModelWatcher[ModelMeta] = ModelWatcher(paths, lambda p: open_model(p, provider)[1])
        self.signature: tuple[int, int, int] | None = None  # of the model file found valid
        self.problem: str | None = None  # the last refused file, in one sentence
        self.running = True
        self.frames = 0
        self._t0 = clock()
        pygame.display.init()
        pygame.font.init()
        flags = pygame.FULLSCREEN if fullscreen else pygame.RESIZABLE
        self.surface = pygame.display.set_mode((0, 0) if fullscreen else size, flags)
        pygame.display.set_caption(f"{WINDOW_TITLE} {paths.run_name}")
        self.input = InputState(load_controls())
        self._tick = pygame.time.Clock()

    @property
    def ready(self) -> bool:
        return self.signature is not None

    def loop_once(self) -> None:
        """One frame: events, a look at the files, the drawing."""
        self.input.begin_frame()
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.running = False
            self.input.process_event(event)
        if self.input.pressed("quit"):
            self.running = False
        done = self.watcher.poll(self.clock())
        if done is not None:
            if done.value is not None:
                self.signature = done.signature
            else:
                self.problem = f"The model file was refused: {done.error}"
        self.draw(pygame.display.get_surface() or self.surface)
        pygame.display.flip()
        self.frames += 1

    def draw(self, surface: pygame.Surface) -> None:
        status = self.watcher.status
        state = status.effective() if status is not None else None
        line, hint = status_words(status, state, self.paths, time.time())
        draw_waiting(surface, self.paths.run_name, line, hint, self.problem, self.clock() - self._t0)

    def run(self, frames: int | None = None, screenshot: Path | None = None) -> bool:
        """Wait (at ``WAIT_FPS``, on the real clock even headless: it waits for files) until the
        model is ready (True) or the player quits or ``frames`` frames have passed (False);
        ``screenshot``: save the last waiting frame there when it ends without a model."""
        while self.running and not self.ready and (frames is None or self.frames < frames):
            self.loop_once()
            self._tick.tick(WAIT_FPS)
        if not self.ready and screenshot is not None and self.frames:
            save_png(self.surface, screenshot)
        return self.ready

    def close(self) -> None:
        """Let a load under way finish (briefly)."""
        self.watcher.wait(2.0)
