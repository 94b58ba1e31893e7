"""The console scripts ``odyssey-train`` and ``odyssey-export``, guarded: training and export
need the ``train`` extra (PyTorch, onnx, onnxscript, ...), which a player's install lacks.
Without it they print one sentence naming the install command and exit 1, not a traceback.

This module imports no training dependency itself; the real commands are ``train.cli`` and
``export.cli``, imported only once the extra is known to be there.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

EXTRA_INSTALL = 'pip install "latent-odyssey[train]"'
EXTRA_MODULES = ("torch", "onnx", "onnxscript", "tqdm", "matplotlib")  # import names
EXIT_MISSING_EXTRA = 1


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or a finder that refuses it
        return False


def missing_extra() -> list[str]:
    """The training extra's modules that cannot be found here (empty when all are)."""
    return [name for name in EXTRA_MODULES if not _importable(name)]


def _run(command: str, module: str, argv: list[str] | None) -> int:
    missing = missing_extra()
    if missing:
        print(f"{command}: {command} needs the training extra ({', '.join(missing)} missing); "
              f"install it with {EXTRA_INSTALL}.", file=sys.stderr)
        return EXIT_MISSING_EXTRA
    return importlib.import_module(module).main(argv)


def train_main(argv: list[str] | None = None) -> int:
    """Entry point of ``odyssey-train``."""
    return _run("odyssey-train", "latent_odyssey.train.cli", argv)


def export_main(argv: list[str] | None = None) -> int:
    """Entry point of ``odyssey-export``."""
    return _run("odyssey-export", "latent_odyssey.export.cli", argv)
