"""README "Use the models elsewhere": every snippet, read from README.md and run as written.

Each snippet follows an ``<!-- elsewhere: KIND -->`` marker. The Python and TorchScript ones
run from the repository root; the Node one runs in a folder ``odyssey web`` wrote (it holds the
model and ``onnxmeta.js``), with onnxruntime-node from build/npm (installed by ``.ci/run`` with
``ONNXRUNTIME_NODE_INSTALL=skip``, as the README says); the browser commands run with the
serving port set to 0 (any free port) and the README's ``node_modules/...`` path pointed at
build/npm. All three decoders must print the same pixel.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from chromium_cdp import NPM_MODULES, ORT_WEB_DIST, ctrl_c_stops, need, served_url

REPO = Path(__file__).resolve().parents[1]
README_DIST = "node_modules/onnxruntime-web/dist"  # the path the README's offline example names
PIXEL_ATOL = 1e-4


def snippet(kind: str) -> str:
    """The fenced code block after ``<!-- elsewhere: KIND -->`` in README.md."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"<!-- elsewhere: {kind} -->\n```\w*\n(.*?)```", text, flags=re.S)
    assert m, f"README.md has no '{kind}' snippet"
    return m.group(1)


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1", PYGAME_HIDE_SUPPORT_PROMPT="1")


def _centre_pixel_of_class_3() -> float:
    sess = ort.InferenceSession(str(REPO / "pretrained" / "mnist-2d.onnx"), providers=["CPUExecutionProvider"])
    meta = json.loads(sess.get_modelmeta().custom_metadata_map["latent_odyssey"])
    image = sess.run(None, {"z": np.asarray([meta["centroids"][3]], np.float32)})[0]
    return float(image[0, 0, 14, 14])


def _run_python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120, env=_env())
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_python_onnxruntime_snippet_runs():
    out = _run_python(snippet("python"))
    assert out.startswith("3 (1, 1, 28, 28) [[")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_torchscript_snippet_runs_and_agrees():
    pytest.importorskip("torch")
    out = _run_python(snippet("torchscript"))
    assert out.startswith("3 (1, 1, 28, 28) [[")
    # the same encoder output as the onnxruntime snippet, to the printed two decimals
    assert out.split(" ", 5)[-1] == _run_python(snippet("python")).split(" ", 5)[-1]


def _odyssey(args: list[str], cwd: Path, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "latent_odyssey.game", *args], cwd=cwd, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def test_the_node_snippet_runs_in_an_odyssey_web_folder(tmp_path):
    need("node", "onnxruntime-node")
    proc = _odyssey(["web", "mnist-2d", "site/"], tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    site = tmp_path / "site"
    (site / "decode.js").write_text(snippet("node"))
    env = dict(os.environ, NODE_PATH=str(NPM_MODULES))
    done = subprocess.run(["node", "decode.js"], cwd=site, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    m = re.fullmatch(r"3 \[ 1, 1, 28, 28 \] (\d\.\d{4})\n", done.stdout)
    assert m, done.stdout
    assert abs(float(m.group(1)) - _centre_pixel_of_class_3()) <= PIXEL_ATOL + 5e-5  # printed to 4 decimals


def test_the_browser_commands_write_and_serve_the_page(tmp_path):
    need("onnxruntime-web")
    lines = [ln.split("#")[0].strip() for ln in snippet("web").splitlines() if ln.strip()]
    assert len(lines) == 2 and all(ln.startswith("odyssey web ") for ln in lines)
    # line 1 serves: on any free port, fetch the page, then Ctrl-C
    serve = _odyssey([*shlex.split(lines[0])[1:], "--port", "0"], tmp_path, preexec_fn=ctrl_c_stops)
    try:
        url = served_url(serve)
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert b"Latent Odyssey" in resp.read()
        with urllib.request.urlopen(url + "mnist-2d.onnx", timeout=10) as resp:
            assert resp.read() == (REPO / "pretrained" / "mnist-2d.onnx").read_bytes()
    finally:
        serve.send_signal(signal.SIGINT)
        _, err = serve.communicate(timeout=20)
    assert serve.returncode == 0, err
    # line 2: the offline copy, with the README's node_modules path pointing at build/npm's
    args = [str(ORT_WEB_DIST) if a == README_DIST else a for a in shlex.split(lines[1])[1:]]
    proc = _odyssey(args, tmp_path)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert (tmp_path / "faces-site" / "faces.onnx").is_file()
    assert (tmp_path / "faces-site" / "ort" / "ort-wasm-simd-threaded.wasm").is_file()
