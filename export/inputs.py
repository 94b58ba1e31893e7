"""What ``odyssey-export`` reads and where it may write, checked before anything is written.

* ``output_files(prefix)``: the files an export writes for ``--out pretrained/NAME``
  (``NAME.onnx``, ``NAME.encoder.onnx``, ``NAME.pt``, ``NAME.md``, ``NAME.report.png``).
* ``check_out(checkpoint, prefix)``: refuse a prefix that names a folder (``.``, ``run/``, an
  existing folder, an empty name) or whose files would replace the training run's own files
  (``--out run/checkpoint`` would write ``run/checkpoint.pt`` over the checkpoint).
* ``read_metrics(path)``: the ``metrics.json`` beside the checkpoint as a dict (``{}`` when
  there is none); a file that is not a JSON object of metrics is refused in one sentence.

Every refusal is an :class:`ExportInputError` (a ``cliutil.InputError``, exit status 1).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from latent_odyssey.game.cliutil import EXIT_FAILURE, InputError, os_reason, same_file

TRAINING_FILES = ("checkpoint.pt", "config.json", "metrics.json", "report.png")  # odyssey-train's
EXPORT_SUFFIXES = {
    "decoder": ".onnx", "encoder": ".encoder.onnx", "torchscript": ".pt", "card": ".md",
    "report": ".report.png",
}


class ExportInputError(InputError):
    """An export's input or output path cannot be used; the message is one sentence."""

    exit_status = EXIT_FAILURE


def output_files(out_prefix: Path) -> dict[str, Path]:
    """{kind: path} of the files an export writes for ``out_prefix`` (``pretrained/NAME``)."""
    out_prefix = Path(out_prefix)
    return {kind: out_prefix.parent / f"{out_prefix.name}{suffix}" for kind, suffix in EXPORT_SUFFIXES.items()}


def check_out(checkpoint: Path, out_prefix: Path | str, raw: str | None = None) -> None:
    """Refuse an ``--out`` prefix that is a folder or would overwrite the training run."""
    text = str(out_prefix) if raw is None else raw
    prefix = Path(out_prefix)
    if not prefix.name or prefix.name in (".", "..") or text.endswith(("/", os.sep)) or prefix.is_dir():
        folder = text.rstrip("/" + os.sep) or "."
        raise ExportInputError(f"--out {text!r} is a folder; give a file prefix such as {folder}/NAME "
                               f"(the files become NAME.onnx, NAME.pt, NAME.md, ...).")
    checkpoint = Path(checkpoint)
    protected = [checkpoint] + [checkpoint.with_name(name) for name in TRAINING_FILES]
    for path in output_files(prefix).values():
        for src in protected:
            if same_file(path, src):
                raise ExportInputError(f"--out {text} would write {path} over the training run's {src.name}; "
                                       f"choose another prefix, such as pretrained/NAME.")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def read_metrics(path: Path) -> dict:
    """The metrics dict in ``path`` (``{}`` when there is no such file); ExportInputError when
    it is not a file, not UTF-8, not JSON or not a JSON object."""
    path = Path(path)
    if not path.exists():
        return {}
    if not path.is_file():
        raise ExportInputError(f"{path} is not a file; remove it, or put the run's metrics.json there.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ExportInputError(f"{path} is not UTF-8 text; restore the run's metrics.json, or delete it "
                               f"to export without metrics.") from None
    except OSError as exc:
        raise ExportInputError(f"Cannot read {path}: {os_reason(exc)}.") from None
    try:
        metrics = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise ExportInputError(f"{path} is not valid JSON ({reason}{where}); restore the run's metrics.json, "
                               f"or delete it to export without metrics.") from None
    if not isinstance(metrics, dict):
        raise ExportInputError(f"{path} holds a JSON {type(metrics).__name__} instead of an object of metrics; "
                               f"restore the run's metrics.json, or delete it to export without metrics.")
    return metrics
