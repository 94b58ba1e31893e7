"""Where things live: the shipped models and assets, user models and captures.

The shipped models and the default controls are package data of ``latent_odyssey``
(``latent_odyssey.pretrained``, ``latent_odyssey.assets``), found with ``importlib.resources``,
so they are found the same way in a checkout, an editable install and an installed wheel.

Environment overrides (all optional):

* ``$ODYSSEY_PRETRAINED``  folder of shipped models (default: the package's ``pretrained``)
* ``$ODYSSEY_CONTROLS``    a user controls file (see ``engine.input.user_controls_path``)
* ``$ODYSSEY_MODELS``      a user folder of extra ``.onnx`` models (cycled with M)
* ``$ODYSSEY_CAPTURES``    where screenshots go (default ``./captures``)

A model is named by a path to its decoder (``.../NAME.onnx``) or by ``NAME``, looked up in
the shipped folder and then the user folder. Encoders (``*.encoder.onnx``) are never listed
as models.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path

DEFAULT_MODEL = "mnist-2d"
ENCODER_SUFFIX = ".encoder.onnx"
PRETRAINED_ENV = "ODYSSEY_PRETRAINED"
MODELS_ENV = "ODYSSEY_MODELS"
CAPTURES_ENV = "ODYSSEY_CAPTURES"


def package_data_dir(package: str) -> Path:
    """The folder of a data package of ``latent_odyssey`` (``"pretrained"``, ``"assets"``), as
    installed: a checkout's top-level folder, or the folder inside site-packages."""
    return Path(str(resources.files(f"latent_odyssey.{package}")))


def default_controls_path() -> Path:
    """The default bindings file shipped with the game (``assets/controls.toml``)."""
    return package_data_dir("assets") / "controls.toml"


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def pretrained_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The folder of shipped models."""
    env = _env(environ)
    return Path(env[PRETRAINED_ENV]).expanduser() if env.get(PRETRAINED_ENV) else package_data_dir("pretrained")


def user_models_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """The user's extra model folder (``$ODYSSEY_MODELS``), or None when unset."""
    env = _env(environ)
    return Path(env[MODELS_ENV]).expanduser() if env.get(MODELS_ENV) else None


def captures_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where screenshots are written (``$ODYSSEY_CAPTURES``, default ``./captures``)."""
    env = _env(environ)
    return Path(env[CAPTURES_ENV]).expanduser() if env.get(CAPTURES_ENV) else Path("captures")


def is_decoder_file(path: Path) -> bool:
    """A ``.onnx`` file that is not an encoder."""
    name = path.name.lower()
    return name.endswith(".onnx") and not name.endswith(ENCODER_SUFFIX)


def model_dirs(environ: Mapping[str, str] | None = None) -> list[Path]:
    """The folders searched for models, shipped first."""
    dirs = [pretrained_dir(environ)]
    user = user_models_dir(environ)
    if user is not None:
        dirs.append(user)
    return dirs


def list_models(environ: Mapping[str, str] | None = None) -> list[Path]:
    """Every decoder file in the model folders, shipped first, each folder sorted by name."""
    found: list[Path] = []
    seen: set[Path] = set()
    for folder in model_dirs(environ):
        try:
            entries = sorted(folder.iterdir(), key=lambda p: p.name.lower())
        except OSError:
            continue
        for path in entries:
            if path.is_file() and is_decoder_file(path):
                key = path.resolve()
                if key not in seen:
                    seen.add(key)
                    found.append(path)
    return found


def model_display_name(path: Path) -> str:
    """``NAME`` for ``.../NAME.onnx``."""
    return path.name[: -len(".onnx")] if path.name.lower().endswith(".onnx") else path.name


def find_model(name_or_path: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """The decoder file for a model name or path, or None when there is no such file.

    A value ending in ``.onnx`` or containing a path separator is a path; anything else is
    first tried as a path (when such a file exists), then as a name in the model folders.
    """
    p = Path(name_or_path).expanduser()
    looks_like_path = p.suffix.lower() == ".onnx" or os.sep in name_or_path or "/" in name_or_path
    if looks_like_path or p.is_file():
        return p if p.exists() else None
    for folder in model_dirs(environ):
        candidate = folder / f"{name_or_path}.onnx"
        if candidate.is_file():
            return candidate
    return None


def require_model(name_or_path: str, error: Callable[[str], Exception]) -> Path:
    """``find_model``, or raise ``error(sentence)`` (``describe_missing_model``) when there is
    no such file."""
    path = find_model(name_or_path)
    if path is None:
        raise error(describe_missing_model(name_or_path))
    return path


def describe_missing_model(name_or_path: str, environ: Mapping[str, str] | None = None) -> str:
    """One sentence saying that a model could not be found and what exists instead."""
    p = Path(name_or_path)
    if p.suffix.lower() == ".onnx" or os.sep in name_or_path or "/" in name_or_path:
        return f"Model file {name_or_path} does not exist."
    where = " or ".join(str(d) for d in model_dirs(environ))
    names = [model_display_name(m) for m in list_models(environ)]
    available = f" (available: {', '.join(names)})" if names else " (no models are installed there)"
    return f"No model named {name_or_path!r} in {where}{available}."
