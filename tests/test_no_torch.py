"""The game never imports torch: in a process where importing torch raises, import every module
of ``latent_odyssey.game`` (no exception swallowed), decode, and play every mode on the shipped
models. Without the training extra, ``odyssey-train``/``odyssey-export`` say what to install."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

BLOCK_TORCH = textwrap.dedent(
    """
    import sys

    attempts = []

    class BlockTorch:
        # a meta-path finder that refuses torch, so any attempt fails loudly and is recorded
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                attempts.append(name)
                raise ImportError("torch is blocked in this test")
            return None

    sys.meta_path.insert(0, BlockTorch())
    """
)

GAME = BLOCK_TORCH + textwrap.dedent(
    """
    import importlib, pkgutil

    import numpy as np
    import latent_odyssey.game as game

    names = [info.name for info in pkgutil.walk_packages(game.__path__, "latent_odyssey.game.")]
    for name in names:
        importlib.import_module(name)  # any exception fails the test
    print("imported", len(names), "modules")

    from latent_odyssey.game.model.decoder import Decoder
    from latent_odyssey.game.model.modelfile import open_model

    session, meta = open_model(sys.argv[1], "cpu")
    image = Decoder(session, meta).decode_one(np.zeros(meta.latent_dim, np.float32))
    assert image.shape == (meta.image_shape[1], meta.image_shape[2], 3), image.shape
    assert image.dtype == np.uint8 and image.std() > 0

    from latent_odyssey.game.cli import main
    for mode in ("navigator", "odyssey", "faces"):
        rc = main(["play", "--headless", "--frames", "3", "--mode", mode])
        assert rc == 0, (mode, rc)

    assert not attempts, f"torch was imported by the game: {attempts}"
    assert "torch" not in sys.modules
    print("TORCH-FREE OK")
    """
)


def _run(script: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy",
               ODYSSEY_CAPTURES=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path))
    for name in ("ODYSSEY_CONTROLS", "ODYSSEY_PRETRAINED", "ODYSSEY_MODELS"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-c", script, *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180)


def test_every_game_module_imports_and_every_mode_plays_without_torch(tmp_path):
    from latent_odyssey.game import paths

    proc = _run(GAME, str(paths.pretrained_dir() / "mnist-2d.onnx"), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "TORCH-FREE OK" in proc.stdout
    count = int(proc.stdout.split("imported ")[1].split()[0])
    assert count >= 30  # every room's modules, not just a few


@pytest.mark.parametrize("command, entry", [("odyssey-train", "train_main"), ("odyssey-export", "export_main")])
def test_training_commands_without_the_extra_name_the_install(tmp_path, command, entry):
    script = BLOCK_TORCH + textwrap.dedent(
        f"""
        from latent_odyssey.train.extra import {entry}
        sys.exit({entry}(["--help"]))
        """
    )
    proc = _run(script, tmp_path=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == (
        f"{command}: {command} needs the training extra (torch missing); "
        'install it with pip install "latent-odyssey[train]".'
    )
