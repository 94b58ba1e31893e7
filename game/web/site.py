"""Write the static web page that plays a model in a browser (``odyssey web``, ``--web``).

The folder, runnable from any static web server with no build step::

    index.html  style.css  app.js    the page (from this package's ``static/``)
    onnxmeta.js                      reads the model's metadata from the .onnx bytes (no deps)
    config.js                        which model file and where onnxruntime-web comes from,
                                     plus the game's colours and slider constants
    NAME.onnx                        a copy of the decoder (the page reads its metadata itself)
    ort/                             onnxruntime-web's wasm build, only with ``--ort-dir``
    odyssey-web.json                 what wrote the folder (lets a later run replace it)

onnxruntime-web comes from :data:`DEFAULT_ORT_URL` (pinned to :data:`ORT_WEB_VERSION`), from
another URL (``--ort-url``), or from a local copy of the npm package's ``dist`` folder
(``--ort-dir``), for offline use. The folder appears atomically: it is staged beside the
target and renamed into place; an existing folder is replaced only if it is empty or was
written by this command. Every failure is a :class:`WebError` with one sentence.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from latent_odyssey import __version__
from latent_odyssey.game import paths
from latent_odyssey.game.engine import ui
from latent_odyssey.game.model.modelfile import ModelMeta, open_model
from latent_odyssey.game.modes.faces.state import SLIDER_MAX, SLIDER_MIN, STRIP_FRAMES

ORT_WEB_VERSION = "1.31.1"  # the onnxruntime-web release the page is tested with
DEFAULT_ORT_URL = f"https://cdn.jsdelivr.net/npm/onnxruntime-web@{ORT_WEB_VERSION}/dist/"
ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
ORT_LOCAL_DIR = "ort"  # where --ort-dir copies ORT_FILES inside the site
STATIC_FILES = ("index.html", "style.css", "app.js", "onnxmeta.js")
CONFIG_FILE = "config.js"
MANIFEST_FILE = "odyssey-web.json"
URL_RE = re.compile(r"(https?://[^\s\"'<>]+|[A-Za-z0-9_./-]+)")  # absolute http(s) or a relative path


class WebError(ValueError):
    """The page cannot be written (one-sentence message)."""


@dataclass(frozen=True)
class OrtSource:
    """Where the page loads onnxruntime-web from: ``url`` (a folder URL ending in ``/``), or
    the local ``dist`` folder whose :data:`ORT_FILES` are copied into the site."""

    url: str = DEFAULT_ORT_URL
    dist: Path | None = None

    @property
    def page_url(self) -> str:
        """The folder URL the page uses (relative for a local copy)."""
        return f"{ORT_LOCAL_DIR}/" if self.dist is not None else self.url


def ort_source(url: str | None = None, dist: Path | None = None) -> OrtSource:
    """Validate ``--ort-url`` / ``--ort-dir`` (at most one) into an OrtSource."""
    if url is not None and dist is not None:
        raise WebError("Give --ort-url or --ort-dir, not both.")
    if dist is not None:
        dist = Path(dist).expanduser()
        if not dist.is_dir():
            raise WebError(f"--ort-dir {dist} is not a folder (give the dist folder of the npm package onnxruntime-web).")
        missing = [f for f in ORT_FILES if not (dist / f).is_file()]
        if missing:
            raise WebError(
                f"--ort-dir {dist} lacks {', '.join(missing)}; give the dist folder of the npm package "
                f"onnxruntime-web (npm install onnxruntime-web@{ORT_WEB_VERSION})."
            )
        return OrtSource(dist=dist)
    if url is None:
        return OrtSource()
    if not URL_RE.fullmatch(url) or url.startswith("//"):
        raise WebError(f"--ort-url {url!r} is not an http(s) URL or a relative path.")
    return OrtSource(url=url if url.endswith("/") else url + "/")


@dataclass
class SiteResult:
    """What ``write_site`` wrote."""

    folder: Path
    files: list[str]  # relative paths inside ``folder``
    ort_url: str
    meta: ModelMeta

    @property
    def size_bytes(self) -> int:
        return sum((self.folder / f).stat().st_size for f in self.files)


def static_dir() -> Path:
    """The page's static files, as installed (package data of ``latent_odyssey.game.web``)."""
    return paths.package_data_dir("game.web") / "static"


def page_config(model_file: str, ort_url: str) -> dict:
    """The object ``config.js`` assigns to ``window.ODYSSEY_CONFIG``."""
    return {
        "model": model_file,
        "ortUrl": ort_url,
        "ortVersion": ORT_WEB_VERSION,
        "generator": f"latent-odyssey {__version__}",
        "colours": {
            "classes": [list(c) for c in ui.CLASS_COLOURS], "unlabelled": list(ui.DIM),
            "background": list(ui.BG), "panel": list(ui.PANEL), "panelEdge": list(ui.PANEL_EDGE),
            "text": list(ui.FG), "dim": list(ui.DIM), "accent": list(ui.ACCENT),
            "linear": list(ui.LINEAR_COLOUR), "spherical": list(ui.SLERP_COLOUR),
        },
        "stripFrames": STRIP_FRAMES,
        "sliderRange": [SLIDER_MIN, SLIDER_MAX],
    }


def _stage(folder: Path, model: Path, source: OrtSource) -> list[str]:
    """Write every file of the site into the empty ``folder``; returns their relative paths."""
    written: list[str] = []
    for name in STATIC_FILES:
        shutil.copyfile(static_dir() / name, folder / name)
        written.append(name)
    shutil.copyfile(model, folder / model.name)
    written.append(model.name)
    if source.dist is not None:
        (folder / ORT_LOCAL_DIR).mkdir()
        for name in ORT_FILES:
            shutil.copyfile(source.dist / name, folder / ORT_LOCAL_DIR / name)
            written.append(f"{ORT_LOCAL_DIR}/{name}")
    config = json.dumps(page_config(model.name, source.page_url), indent=1)
    (folder / CONFIG_FILE).write_text(
        "// Written by odyssey web. ortUrl: the folder onnxruntime-web's wasm build is loaded from.\n"
        f"window.ODYSSEY_CONFIG = {config};\n", encoding="utf-8",
    )
    written.append(CONFIG_FILE)
    manifest = {"generator": f"latent-odyssey {__version__}", "model": model.name,
                "ort_url": source.page_url, "files": sorted(written)}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return sorted([*written, MANIFEST_FILE])


def _move_into_place(staged: Path, out: Path) -> None:
    """Rename ``staged`` to ``out``, replacing an empty folder or one this command wrote."""
    if not out.exists():
        os.rename(staged, out)
        return
    if not out.is_dir():
        raise WebError(f"{out} is a file; give a folder for the web page.")
    if any(out.iterdir()) and not (out / MANIFEST_FILE).is_file():
        raise WebError(f"{out} already holds other files; give a new or empty folder (or one odyssey web wrote).")
    old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
    os.rename(out, old)
    try:
        os.rename(staged, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_site(model: Path, out: Path, source: OrtSource | None = None) -> SiteResult:
    """Write the web page for the decoder ``model`` into the folder ``out`` (atomically).

    Raises ModelFileError for a bad model file and WebError for anything else."""
    source = source or OrtSource()
    _session, meta = open_model(Path(model), "cpu")  # validated, and it decodes
    out = Path(out).expanduser().resolve()
    if out == Path(out.anchor):
        raise WebError(f"{out} is a file system root; give a folder for the web page.")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial"))
    except OSError as exc:
        raise WebError(f"Cannot write the web page into {out}: {exc.strerror or exc}.") from None
    try:
        files = _stage(staged, Path(model), source)
        _move_into_place(staged, out)
    except OSError as exc:
        raise WebError(f"Cannot write the web page into {out}: {exc.strerror or exc}.") from None
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
    return SiteResult(folder=out, files=files, ort_url=source.page_url, meta=meta)
