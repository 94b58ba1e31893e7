"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``.

Layout (a plain dict of tensors and JSON-able values)::

    format: int                 CHECKPOINT_FORMAT
    config: dict                TrainConfig.to_dict() (holds the ModelConfig)
    model: state_dict
    optimizer: state_dict
    epoch: int                  epochs completed
    history: list[dict]         per-epoch losses
    rng: ByteTensor             torch CPU RNG state after the last completed epoch
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from latent_odyssey.game.atomic import atomic_file

CHECKPOINT_FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint is unreadable, foreign, or from another format (one-sentence message)."""


def save_atomic(obj: dict[str, Any], path: Path) -> None:
    """torch.save to a temp file in the same folder, fsync, then rename over ``path``."""
    with atomic_file(path, "wb", suffix=".tmp") as fh:
        torch.save(obj, fh)


def load(path: Path, expect_preset: str | None = None) -> dict[str, Any]:
    """Load and validate a checkpoint; raises CheckpointError with one sentence."""
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a broken zip/pickle
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path} is not a readable checkpoint ({first[:120]}).") from None
    if not isinstance(ckpt, dict) or "format" not in ckpt or "model" not in ckpt:
        raise CheckpointError(f"{path} is not a Latent Odyssey checkpoint.")
    if ckpt["format"] > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} has checkpoint format {ckpt['format']}, newer than this version reads "
            f"({CHECKPOINT_FORMAT}); upgrade latent-odyssey."
        )
    preset = ckpt.get("config", {}).get("preset")
    if expect_preset is not None and preset != expect_preset:
        raise CheckpointError(
            f"{path} was trained with preset {preset!r}, not {expect_preset!r}."
        )
    return ckpt
