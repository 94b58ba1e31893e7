"""The Latent Odyssey model file: one self-describing ONNX decoder (format defined here only).

Contract
--------
* Decoder ``NAME.onnx``: input ``z`` float32 ``[N, D]`` (dynamic N) -> output ``image`` float32
  ``[N, C, H, W]`` in [0, 1]. Weights inside the file (no external data).
* Encoder ``NAME.encoder.onnx``: input ``image`` ``[N, C, H, W]`` in [0, 1] -> ``mu``,
  ``logvar`` ``[N, D]``.
* Metadata: ONNX ``metadata_props`` of the decoder hold one key, :data:`METADATA_KEY`, whose
  value is a JSON object (:class:`ModelMeta`), read back with
  ``session.get_modelmeta().custom_metadata_map[METADATA_KEY]``:

  ======================  ===================================================================
  format_version          int, :data:`FORMAT_VERSION`
  name                    str, e.g. "mnist-2d"
  kind                    "digits" | "fashion" | "faces"
  latent_dim              int D
  image_shape             [C, H, W]
  value_range             [0.0, 1.0]
  dataset                 str, and ``class_names`` list[str] (may be empty)
  centroids               [K][D] mean μ per class (K = len(class_names))
  sample_z, sample_labels [M][D] encoded training points and their int labels (-1 = none)
  latent_lo, latent_hi    [D] per-dimension percentiles of μ (``latent_percentiles``)
  latent_mean, latent_std [D] of the encoded training μ
  attributes              {name: [D] unit direction} (faces; may be empty)
  attribute_fields        optional: {name: face-dependent edit} for attributes that have a
                          direction (``game/model/editfield.py``); ``{}`` when the file has none
  metrics                 dict of test metrics; ``training`` dict of settings
  encoder_file            str, the encoder's file name beside the decoder (may be "")
  density                 optional: the density fitted to the encoded training set
                          (``game/model/density.py``: a Gaussian mixture in the principal
                          subspace of μ); ``{}`` when the file has none
  ======================  ===================================================================

Reading validates everything and raises :class:`ModelFileError` with one sentence naming the
file and the problem. This module never imports torch.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from latent_odyssey.game.cliutil import EXIT_FAILURE, InputError
from latent_odyssey.game.model.density import Density, check_density
from latent_odyssey.game.model.editfield import EditField, check_edit_fields
from latent_odyssey.game.model.providers import make_session

METADATA_KEY = "latent_odyssey"
FORMAT_VERSION = 1
KINDS = ("digits", "fashion", "faces")
DECODER_INPUT = "z"
DECODER_OUTPUT = "image"
ENCODER_INPUT = "image"
ENCODER_OUTPUTS = ("mu", "logvar")


class ModelFileError(InputError, ValueError):
    """A model file is missing, unreadable, foreign or inconsistent (one-sentence message)."""

    exit_status = EXIT_FAILURE


@dataclass
class ModelMeta:
    """Everything the game needs beside the weights (see the module docstring)."""

    name: str
    kind: str
    latent_dim: int
    image_shape: list[int]
    dataset: str
    class_names: list[str]
    centroids: list[list[float]]
    sample_z: list[list[float]]
    sample_labels: list[int]
    latent_lo: list[float]
    latent_hi: list[float]
    latent_mean: list[float]
    latent_std: list[float]
    latent_percentiles: list[float] = field(default_factory=lambda: [1.0, 99.0])
    value_range: list[float] = field(default_factory=lambda: [0.0, 1.0])
    attributes: dict[str, list[float]] = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    encoder_file: str = ""
    density: dict = field(default_factory=dict)
    attribute_fields: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    # ----- convenient numpy views (not serialised) -----
    @property
    def channels(self) -> int:
        return self.image_shape[0]

    def centroid_array(self) -> np.ndarray:
        """(K, D) float32."""
        return np.asarray(self.centroids, dtype=np.float32).reshape(-1, self.latent_dim)

    def sample_array(self) -> tuple[np.ndarray, np.ndarray]:
        """(M, D) float32 points and (M,) int labels."""
        z = np.asarray(self.sample_z, dtype=np.float32).reshape(-1, self.latent_dim)
        return z, np.asarray(self.sample_labels, dtype=np.int64)

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension (lo, hi) float32 arrays of the populated region."""
        return np.asarray(self.latent_lo, np.float32), np.asarray(self.latent_hi, np.float32)

    def attribute_array(self, name: str) -> np.ndarray:
        return np.asarray(self.attributes[name], dtype=np.float32)

    def edit_field(self, name: str) -> EditField | None:
        """The face-dependent edit of attribute ``name``, or None when the file has none."""
        raw = self.attribute_fields.get(name)
        return EditField.from_dict(raw) if raw else None

    def fitted_density(self) -> Density | None:
        """The density fitted to the encoded training set, or None when the file has none."""
        return Density.from_dict(self.density) if self.density else None

    def to_json(self) -> str:
        """The metadata JSON (``density`` and ``attribute_fields`` only when the model has them,
        as files before them)."""
        raw = asdict(self)
        for optional in ("density", "attribute_fields"):
            if not raw[optional]:
                del raw[optional]
        return json.dumps(raw, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, source: str = "model") -> ModelMeta:
        """Parse and validate; raises ModelFileError naming ``source``."""
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelFileError(f"{source} has malformed metadata JSON ({exc.msg} at char {exc.pos}).") from None
        if not isinstance(raw, dict):
            raise ModelFileError(f"{source} has metadata that is not a JSON object.")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise ModelFileError(
                f"{source} uses model format version {version!r}, but this version of Latent "
                f"Odyssey reads version {FORMAT_VERSION}; re-export it with odyssey-export."
            )
        names = {f.name for f in fields(cls)}
        missing = [f.name for f in fields(cls) if f.name not in raw and f.default is f.default_factory]
        required = [n for n in missing if n in _REQUIRED]
        if required:
            raise ModelFileError(f"{source} metadata lacks the field(s) {', '.join(required)}.")
        meta = cls(**{k: v for k, v in raw.items() if k in names})
        meta.validate(source)
        return meta

    def validate(self, source: str = "model") -> None:
        """Check types, shapes and finiteness of every field."""
        def bad(what: str) -> ModelFileError:
            return ModelFileError(f"{source} metadata is inconsistent: {what}.")

        for name in ("name", "kind", "dataset", "encoder_file"):
            if not isinstance(getattr(self, name), str):
                raise bad(f"{name} is not a string")
        if not isinstance(self.class_names, list) or not all(isinstance(c, str) for c in self.class_names):
            raise bad("class_names is not a list of strings")
        for name in ("attributes", "metrics", "training", "density", "attribute_fields"):
            if not isinstance(getattr(self, name), dict):
                raise bad(f"{name} is not a JSON object")
        if self.encoder_file and (
            Path(self.encoder_file).name != self.encoder_file or self.encoder_file in (".", "..")
            or "\\" in self.encoder_file
        ):
            raise bad(f"encoder_file {self.encoder_file!r} is not a bare file name")
        if self.kind not in KINDS:
            raise bad(f"kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if isinstance(self.latent_dim, bool) or not isinstance(self.latent_dim, int) or self.latent_dim < 1:
            raise bad(f"latent_dim {self.latent_dim!r} is not a positive integer")
        if (
            not isinstance(self.image_shape, list) or len(self.image_shape) != 3
            or not all(isinstance(v, int) and v > 0 for v in self.image_shape)
            or self.image_shape[0] not in (1, 3)
        ):
            raise bad(f"image_shape {self.image_shape!r} is not [C, H, W] with C of 1 or 3")
        d = self.latent_dim
        _check_matrix(self.centroids, len(self.class_names), d, "centroids", bad)
        _check_matrix(self.sample_z, None, d, "sample_z", bad)
        if not isinstance(self.sample_labels, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in self.sample_labels
        ):
            raise bad("sample_labels is not a list of integers")
        if len(self.sample_labels) != len(self.sample_z):
            raise bad("sample_labels and sample_z differ in length")
        for name in ("value_range", "latent_percentiles"):
            _check_matrix([getattr(self, name)], 1, 2, name, bad)
        for name in ("latent_lo", "latent_hi", "latent_mean", "latent_std"):
            _check_matrix([getattr(self, name)], 1, d, name, bad)
        if any(lo >= hi for lo, hi in zip(self.latent_lo, self.latent_hi, strict=True)):
            raise bad("latent_lo is not below latent_hi in every dimension")
        for attr, vec in self.attributes.items():
            _check_matrix([vec], 1, d, f"attribute {attr}", bad)
            norm = math.sqrt(sum(v * v for v in vec))
            if abs(norm - 1.0) > 1e-3:
                raise bad(f"attribute direction {attr} is not a unit vector (norm {norm:.4f})")
        if self.density:
            problem = check_density(self.density, d)
            if problem:
                raise bad(problem)
        if self.attribute_fields:
            problem = check_edit_fields(self.attribute_fields, d, self.attributes)
            if problem:
                raise bad(problem)


_REQUIRED = {
    "name", "kind", "latent_dim", "image_shape", "dataset", "class_names", "centroids",
    "sample_z", "sample_labels", "latent_lo", "latent_hi", "latent_mean", "latent_std",
}


def _check_matrix(rows, n_rows, n_cols: int, what: str, bad) -> None:
    if not isinstance(rows, list) or (n_rows is not None and len(rows) != n_rows):
        raise bad(f"{what} should have {n_rows} rows")
    for row in rows:
        if not isinstance(row, list) or len(row) != n_cols:
            raise bad(f"{what} rows should have {n_cols} values")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in row):
            raise bad(f"{what} holds a non-finite or non-numeric value")


def read_metadata_from_session(sess, source: str) -> ModelMeta:
    """The validated ModelMeta of an onnxruntime session opened on a decoder file."""
    props = sess.get_modelmeta().custom_metadata_map
    if METADATA_KEY not in props:
        raise ModelFileError(
            f"{source} is an ONNX file without Latent Odyssey metadata (not made by odyssey-export?)."
        )
    meta = ModelMeta.from_json(props[METADATA_KEY], source)
    check_decoder_signature(sess, meta, source)
    return meta


def check_decoder_signature(sess, meta: ModelMeta, source: str) -> None:
    """The graph's input/output names and shapes must match the metadata."""
    inputs, outputs = sess.get_inputs(), sess.get_outputs()
    if len(inputs) != 1 or inputs[0].name != DECODER_INPUT:
        got = ", ".join(i.name for i in inputs)
        raise ModelFileError(f"{source} is not a decoder: it takes ({got}) instead of one input '{DECODER_INPUT}'.")
    shape = inputs[0].shape
    if len(shape) != 2 or shape[1] != meta.latent_dim:
        raise ModelFileError(
            f"{source} takes z of shape {shape}, but its metadata says latent_dim {meta.latent_dim}."
        )
    if inputs[0].type != "tensor(float)":
        raise ModelFileError(f"{source} takes {inputs[0].type} instead of float32 latents.")
    if len(outputs) < 1 or len(outputs[0].shape) != 4:
        raise ModelFileError(f"{source} does not output images of shape [N, C, H, W].")
    out_shape = outputs[0].shape[1:]
    if all(isinstance(v, int) for v in out_shape) and list(out_shape) != meta.image_shape:
        raise ModelFileError(
            f"{source} outputs images of shape {out_shape}, but its metadata says {meta.image_shape}."
        )


def check_encoder_signature(sess, meta: ModelMeta, source: str) -> None:
    inputs, outputs = sess.get_inputs(), sess.get_outputs()
    names = tuple(o.name for o in outputs)
    if (
        len(inputs) != 1 or inputs[0].name != ENCODER_INPUT or len(inputs[0].shape) != 4
        or names[:2] != ENCODER_OUTPUTS
    ):
        raise ModelFileError(f"{source} is not an encoder (expects image [N, C, H, W] -> mu, logvar).")
    in_shape = inputs[0].shape[1:]
    if all(isinstance(v, int) for v in in_shape) and list(in_shape) != meta.image_shape:
        raise ModelFileError(
            f"{source} encodes images of shape {in_shape}, but the decoder makes {meta.image_shape}."
        )
    if outputs[0].shape[-1] != meta.latent_dim:
        raise ModelFileError(f"{source} encodes to {outputs[0].shape[-1]} dims, not {meta.latent_dim}.")


REASON_CHARS = 160  # longest runtime error text quoted in a ModelFileError


def _reason(exc: Exception) -> str:
    """The first line of an onnxruntime error, without its status-code prefix, shortened."""
    text = str(exc).strip()
    if not text:
        return type(exc).__name__
    line = re.sub(r"^\[ONNXRuntimeError\] : \d+ : ", "", text.splitlines()[0]).rstrip(". ")
    # the cause comes last: drop "Load model from PATH failed:" and the C++ source location
    line = re.sub(r"Load model from .*? failed:\s*", "", line)
    line = re.sub(r"\S+\.(?:cc|cpp|h):\d+\s+(?:[\w:~<>]+\([^()]*\)\s*)?", "", line).strip()
    if len(line) > REASON_CHARS:
        line = line[: REASON_CHARS - 3].rsplit(" ", 1)[0] + "..."
    return line


def _quiet_run():
    """RunOptions that keep onnxruntime from logging a failed probe run to stderr."""
    import onnxruntime as ort

    opts = ort.RunOptions()
    opts.log_severity_level = 4  # fatal only: the ModelFileError speaks instead
    return opts


def resolve_model_path(name_or_path: str, models_dir: Path) -> Path:
    """A shipped model name (``mnist-2d``) or a path to a ``.onnx`` file -> the decoder path."""
    p = Path(name_or_path)
    if p.suffix == ".onnx" or p.is_file():
        return p
    shipped = models_dir / f"{name_or_path}.onnx"
    if p.exists() and not shipped.exists():
        return p  # e.g. a folder: open_model says what is wrong with it
    return shipped  # a name wins over a same-named folder in the working directory


def open_model(path: Path, provider: str = "auto"):
    """Open and validate a decoder file: returns (session, ModelMeta).

    Every failure raises ModelFileError with one sentence naming the file.
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"Model file {path} does not exist.")
    if path.is_dir():
        raise ModelFileError(f"Model path {path} is a folder, not an .onnx file.")
    if not path.is_file():
        raise ModelFileError(f"Model file {path} is not a regular file (a pipe or a device).")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ModelFileError(f"Model file {path} cannot be read ({exc.strerror}).") from None
    if size == 0:
        raise ModelFileError(f"Model file {path} is empty.")
    try:
        sess = make_session(path, provider)
    except Exception as exc:  # onnxruntime raises its own exception types for broken files
        reason = _reason(exc)
        raise ModelFileError(f"Model file {path} is not a readable ONNX model ({reason}).") from None
    meta = read_metadata_from_session(sess, str(path))
    try:
        probe = sess.run(None, {DECODER_INPUT: np.zeros((1, meta.latent_dim), np.float32)}, _quiet_run())[0]
    except Exception as exc:  # a graph that loads but cannot run (e.g. an impossible Reshape)
        reason = _reason(exc)
        raise ModelFileError(f"Model file {path} fails to decode a latent ({reason}).") from None
    if not np.all(np.isfinite(probe)):
        raise ModelFileError(f"Model file {path} decodes to non-finite values (NaN or Inf weights).")
    if list(probe.shape[1:]) != meta.image_shape:
        raise ModelFileError(
            f"Model file {path} decodes to shape {list(probe.shape[1:])}, not {meta.image_shape}."
        )
    return sess, meta


def open_encoder(decoder_path: Path, meta: ModelMeta, provider: str = "auto"):
    """Open the encoder named in the metadata (beside the decoder), or return None if absent."""
    if not meta.encoder_file:
        return None
    path = Path(decoder_path).with_name(meta.encoder_file)
    if not path.is_file():
        return None
    try:
        sess = make_session(path, provider)
    except Exception as exc:
        reason = _reason(exc)
        raise ModelFileError(f"Encoder file {path} is not a readable ONNX model ({reason}).") from None
    check_encoder_signature(sess, meta, str(path))
    return sess
