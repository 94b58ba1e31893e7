"""Shared fixtures: small IDX data sets written on the fly, and models.

* ``exported_models`` / ``exported_face_model``: copies of the shipped ONNX files (decoders
  and encoders), for the game's tests, which need no torch.
* ``trained_models`` / ``trained_face_model``: tiny models trained for one epoch on tiny data
  and exported through ``odyssey-export``'s code path (torch), for the training and export
  tests.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

REPO = Path(__file__).resolve().parents[1]


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (magic 0x0000 08 ndim, big-endian dims)."""
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + np.ascontiguousarray(arr, dtype=np.uint8).tobytes()


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) uint8 images where class k is a bright bar at row 2 + 2k, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = (rng.random((n, 28, 28)) * 40).astype(np.uint8)
    for i, k in enumerate(labels):
        r = 2 + 2 * int(k)
        images[i, r : r + 4, 4:24] = 230
    return images, labels


def write_idx_set(folder: Path, n_train: int = 600, n_test: int = 200, gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        images, labels = synthetic_digits(n, seed)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            raw = idx_bytes(arr)
            name = f"{split}-{kind}-ubyte"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(raw))
            else:
                (folder / name).write_bytes(raw)
    return folder


def _sources_key() -> str:
    """Hash of the code that makes the tiny models: a change rebuilds them."""
    import hashlib

    h = hashlib.sha256()
    files = sorted([*REPO.glob("train/*.py"), *REPO.glob("export/*.py"), REPO / "game/model/modelfile.py",
                    Path(__file__)])
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def cached_models(name: str, build) -> Path:
    """Build tiny models once per code version into .pytest_cache (CI builds them once;
    repeated local runs reuse them). ``build(folder)`` writes the models into ``folder``."""
    import shutil
    import tempfile

    root = REPO / ".pytest_cache" / "odyssey-models" / _sources_key()
    final = root / name
    if (final / "DONE").is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{name}."))
    build(tmp)
    (tmp / "DONE").write_text("ok\n")
    try:
        tmp.rename(final)
    except OSError:  # another process finished first
        shutil.rmtree(tmp, ignore_errors=True)
    return final


@pytest.fixture(scope="session")
def idx_dir(tmp_path_factory) -> Path:
    return write_idx_set(tmp_path_factory.mktemp("idx"))


def _shipped_copy(folder: Path, name: str) -> Path:
    """Copy the shipped ``NAME.onnx`` and ``NAME.encoder.onnx`` into ``folder``; the decoder path."""
    import shutil

    from latent_odyssey.game import paths

    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".onnx", paths.ENCODER_SUFFIX):
        shutil.copyfile(paths.package_data_dir("pretrained") / f"{name}{suffix}", folder / f"{name}{suffix}")
    return folder / f"{name}.onnx"


@pytest.fixture(scope="session")
def exported_models(tmp_path_factory) -> dict[str, Path]:
    """{"2d": decoder path, "3d": decoder path}: copies of the shipped mnist-2d and mnist-3d
    (one folder, decoders and encoders), for the game's tests (no torch)."""
    folder = tmp_path_factory.mktemp("shipped-digits")
    return {"2d": _shipped_copy(folder, "mnist-2d"), "3d": _shipped_copy(folder, "mnist-3d")}


@pytest.fixture(scope="session")
def exported_face_model(tmp_path_factory) -> Path:
    """A copy of the shipped faces decoder (and encoder), for the game's tests (no torch)."""
    return _shipped_copy(tmp_path_factory.mktemp("shipped-faces"), "faces")


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, idx_dir) -> dict[str, Path]:
    """{"2d": decoder path, "3d": decoder path} of tiny trained+exported models (torch)."""
    import dataclasses

    from latent_odyssey.export.exporter import export_checkpoint
    from latent_odyssey.train.config import PRESETS
    from latent_odyssey.train.trainer import train

    def build(out: Path) -> None:
        for key, preset in (("2d", "mnist-2d"), ("3d", "mnist-3d")):
            cfg = dataclasses.replace(PRESETS[preset], epochs=1, limit=300, batch_size=64, iw_k=0)
            run = out / f"run-{key}"
            train(cfg, run, data_dir=idx_dir, progress=False, report=False)
            export_checkpoint(run / "checkpoint.pt", out / f"tiny-{key}", data_dir=idx_dir)

    out = cached_models("digits", build)
    return {key: out / f"tiny-{key}.onnx" for key in ("2d", "3d")}


@pytest.fixture(scope="session")
def trained_face_model(tmp_path_factory) -> Path:
    """Decoder path of a tiny faces model (96 synthetic faces, one epoch) with attribute
    directions from ``export.attributes.directions_for_export`` (a quick edit test)."""
    import dataclasses
    import functools

    from latent_odyssey.export.attributes import directions_for_export
    from latent_odyssey.export.exporter import export_checkpoint
    from latent_odyssey.train.config import PRESETS
    from latent_odyssey.train.trainer import train

    def build(out: Path) -> None:
        cfg = dataclasses.replace(PRESETS["faces"], epochs=1, limit=96, faces_test=64, batch_size=32, iw_k=0)
        train(cfg, out / "run", progress=False, report=False)
        attributes_fn = functools.partial(directions_for_export, edit_faces=16, judge_train=96, judge_epochs=1,
                                          pairs=16, decoded_steps=3)
        export_checkpoint(out / "run" / "checkpoint.pt", out / "tiny-faces", attributes_fn=attributes_fn)

    return cached_models("faces", build) / "tiny-faces.onnx"


@pytest.fixture(scope="session")
def density_face_model(tmp_path_factory) -> Path:
    """A copy of the shipped faces model whose ``density`` is fitted to its own stored encoded
    faces (``sample_z``; no torch), so density tests do not depend on how the shipped file was made."""
    from latent_odyssey.export.density import write_metadata
    from latent_odyssey.game.model.density import fit_density
    from latent_odyssey.game.model.modelfile import open_model

    path = _shipped_copy(tmp_path_factory.mktemp("density-faces"), "faces")
    _, meta = open_model(path, "cpu")
    meta.density = fit_density(meta.sample_array()[0]).to_dict()
    write_metadata(path, meta)
    return path


# ----------------------------------------------------------------------------- game tests


@pytest.fixture
def isolated(tmp_path, monkeypatch) -> Path:
    """No shipped or user models, captures and config in tmp: every test sees the same world.
    Returns ``tmp_path``. A module that wants it for every test:
    ``pytestmark = pytest.mark.usefixtures("isolated")``."""
    empty = tmp_path / "pretrained"
    empty.mkdir()
    monkeypatch.setenv("ODYSSEY_PRETRAINED", str(empty))
    monkeypatch.delenv("ODYSSEY_MODELS", raising=False)
    monkeypatch.delenv("ODYSSEY_CONTROLS", raising=False)
    monkeypatch.setenv("ODYSSEY_CAPTURES", str(tmp_path / "captures"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


@pytest.fixture(scope="module")
def headless_pygame():
    """pygame's display (SDL dummy driver) and fonts for one test module, quit afterwards.
    Use with ``pytestmark = pytest.mark.usefixtures("headless_pygame")``."""
    import pygame

    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    pygame.display.init()
    pygame.font.init()
    yield
    pygame.display.quit()


@pytest.fixture
def start_engine():
    """``start_engine(path, seed=..., size=(1280, 720), **engine_kwargs)``: a headless
    ``game.play.Game`` that has run one 1/60 s frame. Every engine it started is shut down
    after the test (``Engine.shutdown`` is idempotent, so a test may also shut one down)."""
    from latent_odyssey.game.play import Game

    engines = []

    def start(path, *, seed: int | None, size: tuple[int, int] = (1280, 720), **kwargs) -> Game:
        eng = Game(path, headless=True, size=size, seed=seed, **kwargs)
        engines.append(eng)
        eng.loop_once(1 / 60)
        return eng

    yield start
    for eng in reversed(engines):
        eng.shutdown()
