"""Checkpoints: written atomically, read with ``torch.load(weights_only=True)``, validated.

Layout (a plain dict of tensors and JSON-able values)::

    format: int                 CHECKPOINT_FORMAT
    config: dict                TrainConfig.to_dict() (holds the ModelConfig)
    model: state_dict
    optimizer: state_dict
    epoch: int                  epochs completed
    history: list[dict]         per-epoch losses
    rng: ByteTensor             torch CPU RNG state after the last completed epoch

``load`` checks every field's type and the config (a checkpoint that loads but has one bad
field is refused with one sentence naming the field); ``restore`` puts a loaded checkpoint
into a model and optimizer, refusing weights or optimizer state that do not fit them.
``save_atomic`` reports a failed write (a full disk, a file size limit) as one sentence with
the operating system's reason, which ``torch.save`` itself hides behind an internal error.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from latent_odyssey.game.atomic import atomic_file
from latent_odyssey.game.cliutil import EXIT_FAILURE, InputError, one_line, os_reason
from latent_odyssey.train.config import TrainConfig

CHECKPOINT_FORMAT = 1
FIELDS: dict[str, tuple[type, str]] = {  # key -> (type, what it must be, in words)
    "format": (int, "a whole number"),
    "config": (dict, "a dictionary"),
    "model": (dict, "a dictionary of tensors"),
    "optimizer": (dict, "a dictionary"),
    "epoch": (int, "a whole number"),
    "history": (list, "a list"),
    "rng": (torch.Tensor, "a byte tensor"),
}
REASON_CHARS = 120  # longest library message quoted in a sentence


class CheckpointError(InputError, ValueError):
    """A checkpoint is unreadable, foreign, from another format, or cannot be written
    (one-sentence message)."""

    exit_status = EXIT_FAILURE


def _short(text: str) -> str:
    """The first line of a library message, cut at a word boundary to ``REASON_CHARS``."""
    line = one_line(str(text).strip().splitlines()[0] if str(text).strip() else "")
    if len(line) > REASON_CHARS:
        line = line[:REASON_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + " ..."
    return line.rstrip(".")


def save_atomic(obj: dict[str, Any], path: Path) -> None:
    """torch.save to a temp file in the same folder, fsync, then rename over ``path``;
    CheckpointError (with the system's reason) when it cannot be written."""
    try:
        with atomic_file(path, "wb", suffix=".tmp") as fh:
            torch.save(obj, fh)
    except (OSError, RuntimeError) as exc:
        cause = exc if isinstance(exc, OSError) else exc.__context__
        reason = os_reason(cause) if isinstance(cause, OSError) else _short(str(exc))
        raise CheckpointError(f"Cannot write the checkpoint {path}: {reason}.") from None


def load(path: Path, expect_preset: str | None = None) -> dict[str, Any]:
    """Load and validate a checkpoint; raises CheckpointError with one sentence."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file.")
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}.")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(_unpickling_reason(path, str(exc))) from None
    except OSError as exc:
        raise CheckpointError(f"Cannot read the checkpoint {path}: {os_reason(exc)}.") from None
    except Exception as exc:  # torch raises many kinds for a broken zip/pickle
        text = str(exc)
        if "zip archive" in text or "invalid load key" in text or isinstance(exc, EOFError):
            raise CheckpointError(f"{path} is not a readable checkpoint (truncated, or not the zip archive "
                                  f"torch.save writes).") from None
        raise CheckpointError(f"{path} is not a readable checkpoint ({_short(text)}).") from None
    if not isinstance(ckpt, dict) or "format" not in ckpt or "model" not in ckpt:
        raise CheckpointError(f"{path} is not a Latent Odyssey checkpoint.")
    validate(ckpt, path)
    preset = ckpt["config"].get("preset")
    if expect_preset is not None and preset != expect_preset:
        raise CheckpointError(
            f"{path} was trained with preset {preset!r}, not {expect_preset!r}."
        )
    return ckpt


def _unpickling_reason(path: Path, text: str) -> str:
    """One sentence for torch's weights-only refusal: a Python object it will not run, or bytes
    that are no pickle at all (torch says both at length, with the cause last)."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", text)
    if found:
        return (f"{path} holds a Python object ({found.group(1)}) besides tensors, which a weights-only "
                f"load refuses to unpickle (it could run code); it was not written by odyssey-train.")
    if "Unsupported operand" in text or "weights only load failed" not in text.lower():
        return f"{path} is not a readable checkpoint (its bytes are not a pickle torch.save writes)."
    cause = text.split("WeightsUnpickler error:", 1)[-1]
    return f"{path} holds something a weights-only load refuses ({_short(cause)})."


def validate(ckpt: dict[str, Any], path: Path) -> None:
    """Every field of a loaded checkpoint has the right type and range; CheckpointError else."""
    for key, (kind, words) in FIELDS.items():
        if key not in ckpt:
            raise CheckpointError(f"{path} lacks the field {key!r}; it is not a complete odyssey-train checkpoint.")
        value = ckpt[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(f"{path} has {key!r} of type {type(value).__name__}; it must be {words}.")
    if ckpt["format"] > CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} has checkpoint format {ckpt['format']}, newer than this version reads "
            f"({CHECKPOINT_FORMAT}); upgrade latent-odyssey."
        )
    if ckpt["format"] < 1:
        raise CheckpointError(f"{path} has checkpoint format {ckpt['format']}; formats start at 1.")
    if ckpt["epoch"] < 0:
        raise CheckpointError(f"{path} says {ckpt['epoch']} epochs were completed; it must be 0 or more.")
    if ckpt["rng"].dtype != torch.uint8:
        raise CheckpointError(f"{path} has an 'rng' of {ckpt['rng'].dtype}; it must be a byte tensor.")
    if not all(isinstance(v, torch.Tensor) for v in ckpt["model"].values()):
        raise CheckpointError(f"{path} has model weights that are not all tensors.")
    try:
        TrainConfig.from_dict(ckpt["config"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = f"it has no {exc.args[0]!r} field" if isinstance(exc, KeyError) else _short(str(exc))
        raise CheckpointError(f"{path} holds a training config this version cannot read ({reason}).") from None


def restore(state: dict[str, Any], model: torch.nn.Module, opt: torch.optim.Optimizer, path: Path) -> None:
    """Put a loaded checkpoint's weights, optimizer state and RNG state in place;
    CheckpointError when they do not fit ``model`` and ``opt``."""
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:  # "Error(s) in loading state_dict ...:" then one line per problem
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        raise CheckpointError(f"{path} holds weights that do not fit the model "
                              f"({_short(lines[1] if len(lines) > 1 else str(exc))}).") from None
    try:
        opt.load_state_dict(state["optimizer"])
    except (ValueError, KeyError, TypeError, RuntimeError, IndexError) as exc:
        raise CheckpointError(f"{path} holds an optimizer state that does not fit the model "
                              f"({_short(str(exc)) or 'a field is missing'}).") from None
    try:
        torch.set_rng_state(state["rng"])
    except (RuntimeError, TypeError) as exc:
        raise CheckpointError(f"{path} holds a random number generator state this PyTorch cannot use "
                              f"({_short(str(exc))}).") from None
