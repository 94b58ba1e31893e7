"""The assembled game: the engine, the three modes and live recording.

``Game(model_path, mode=..., ...)`` is an :class:`engine.app.Engine` offering
``modes.registry.MODES``, with a :class:`capture.recording.RecordingController` at
``game.recording`` (the ``record`` action, the REC indicator, flight logs, finalizing videos
on shutdown). ``odyssey play`` runs one; tests and benchmarks build one with ``headless=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from latent_odyssey.game.capture.recording import RecordingController
from latent_odyssey.game.engine.app import Engine
from latent_odyssey.game.modes.registry import MODES


class Game(Engine):
    """An Engine with every mode and live recording (see the module docstring)."""

    def __init__(self, model_path: Path | str, mode: str = "navigator", **engine_args: Any) -> None:
        super().__init__(model_path, MODES, mode, **engine_args)
        self.recording = RecordingController(self)
