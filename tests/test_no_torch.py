"""The game never imports torch: import every game module, open a real model, decode, play."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    attempts = []

    class BlockTorch:
        # a meta-path finder that refuses torch, so any attempt fails loudly and is recorded
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                attempts.append(name)
                raise ImportError("torch is blocked in this test")
            return None

    sys.meta_path.insert(0, BlockTorch())

    import numpy as np
    import game
    mine = ["game.app", "game.navigator", "game.cli", "game.overlay", "game.hud", "game.paths",
            "game.decoder", "game.modelfile", "game.providers", "game.input", "game.scene",
            "game.ui", "game.flight", "game.recorder", "game.__main__"]
    for name in mine:
        importlib.import_module(name)
    for info in pkgutil.iter_modules(game.__path__, "game."):
        try:  # modules other sessions are still writing may not import yet; torch is what matters
            importlib.import_module(info.name)
        except Exception as exc:
            print("could not import", info.name, type(exc).__name__, exc)

    from game.decoder import Decoder
    from game.modelfile import open_model

    session, meta = open_model(sys.argv[1], "cpu")
    image = Decoder(session, meta).decode_one(np.zeros(meta.latent_dim, np.float32))
    assert image.shape == (meta.image_shape[1], meta.image_shape[2], 3), image.shape
    assert image.dtype == np.uint8 and image.std() > 0

    from game.cli import main
    rc = main(["play", "--headless", "--frames", "3", "--model", sys.argv[1]])
    assert rc == 0, rc

    assert not attempts, f"torch was imported by the game: {attempts}"
    assert "torch" not in sys.modules
    print("TORCH-FREE OK")
    """
)


def test_game_runs_without_torch(exported_models, tmp_path):
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               ODYSSEY_CAPTURES=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    env.pop("ODYSSEY_CONTROLS", None)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(exported_models["2d"])],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "TORCH-FREE OK" in proc.stdout
