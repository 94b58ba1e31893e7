"""Live reload: keep a running game on the newest epoch of a training run (``odyssey --live``).

``LiveReload(paths, provider).attach(engine)`` hooks into an :class:`engine.app.Engine`:

* a ``frame_hooks`` entry polls the run's files every frame (``game.model.live.ModelWatcher``:
  ``stat`` only, every ``POLL_S``; a changed model file is opened and validated on a worker
  thread, so no frame waits for onnxruntime);
* a finished load becomes the model on screen with ``Engine.swap_model``: the mode carries on
  (the Navigator glides its map to the new positions, the Odyssey keeps the ship's pose);
* a file that fails validation is skipped with a one-line notice and the old model stays;
* the LIVE badge (``engine.liveview.draw_badge``: epoch k/N, loss, test -ELBO, and
  "training finished" / "training stopped" / "training failed" from ``status.json``) is
  drawn as the first ``frame_listeners`` entry, under the HUD and inside recordings.

Nothing here can stop the game: a run that crashes, is killed or deletes its folder only
changes what the badge says. A model on screen that is not the run's (the player pressed M)
is left alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pygame

from latent_odyssey.game.engine.app import Engine
from latent_odyssey.game.engine.liveview import draw_badge
from latent_odyssey.game.engine.scene import ModelHandle, open_handle
from latent_odyssey.game.model.live import (
    POLL_S,
    LiveInfo,
    LivePaths,
    ModelWatcher,
    live_info,
    signature,
)

JOIN_S = 2.0  # how long shutdown waits for a load under way


class LiveReload:
    """The live-reload controller of one engine (see the module docstring). ``seen``: the
    signature (``game.model.live.signature``) of the model file the engine opened; by
    default the file's now."""

    def __init__(self, paths: LivePaths, provider: str = "auto", seen: tuple[int, int, int] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.paths = paths
        self.clock = clock
        self.watcher: ModelWatcher[ModelHandle] = ModelWatcher(paths, lambda p: open_handle(p, provider))
        self.watcher.mark_seen(seen if seen is not None else signature(paths.model))
        self.engine: Engine | None = None
        self.info: LiveInfo | None = None  # the epoch on screen
        self.state: str | None = None  # the run's effective state (RunStatus.effective), None: no status
        self.swaps = 0  # new epochs put on screen
        self.skipped: list[str] = []  # the sentences of refused files
        self.load_seconds: list[float] = []  # worker time of each load
        self._arrived_t: float | None = None  # ctx.time_s of the latest swap
        self._next_state = -1.0

    def attach(self, engine: Engine) -> LiveReload:
        """Start watching for ``engine`` (its model should be the run's model file)."""
        self.engine = engine
        self.info = live_info(engine.ctx.model.meta)
        engine.frame_hooks.append(self.poll)
        engine.frame_listeners.insert(0, self.draw)
        engine.shutdown_hooks.append(self.close)
        return self

    def on_run_model(self) -> bool:
        """Whether the model on screen is the run's model file."""
        return self.engine is not None and _same(self.engine.ctx.model.path, self.paths.model)

    def poll(self) -> None:
        """Once a frame: look at the files (cheap), swap in a finished load, update the state."""
        now = self.clock()
        done = self.watcher.poll(now)
        if now >= self._next_state:
            self._next_state = now + POLL_S
            status = self.watcher.status
            self.state = status.effective() if status is not None else None
        if done is None or self.engine is None:
            return
        ctx = self.engine.ctx
        if done.value is None:
            self.skipped.append(done.error or "")
            ctx.notify(f"Live: a new model file was skipped, the old one stays ({(done.error or '').rstrip('.')}).", 6.0)
            return
        self.load_seconds.append(done.seconds)
        if not self.on_run_model():
            return  # the player is looking at another model
        self.engine.swap_model(done.value)
        self.info = live_info(done.value.meta)
        self.swaps += 1
        self._arrived_t = ctx.time_s

    def draw(self, surface: pygame.Surface, time_s: float) -> None:
        """The LIVE badge (a frame listener: under the HUD, in recordings)."""
        if self.engine is None:
            return
        since = None if self._arrived_t is None else time_s - self._arrived_t
        draw_badge(surface, self.info, self.state, since, time_s, self.engine.ctx.show_hud)

    def close(self) -> None:
        """Let a load under way finish (briefly) so that no thread outlives the engine's use."""
        self.watcher.wait(JOIN_S)


def _same(a: Path, b: Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return Path(a) == Path(b)
