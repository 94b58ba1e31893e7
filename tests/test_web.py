"""The web page (``odyssey web``, ``odyssey-export --web``) in a real browser, and its writer.

Browser tests write the page for a copy of a shipped model with onnxruntime-web copied in
(``--ort-dir``, the npm package's dist folder in build/npm), serve it on 127.0.0.1, open it in
headless Chromium over the DevTools protocol (``chromium_cdp``), press real mouse buttons, and
check from the page itself: the metadata it parsed from the .onnx bytes equals Python's, the
images it decoded with onnxruntime-web (wasm) equal Python onnxruntime's within 1e-4, and the
screenshot shows the map in the class colours. ``.ci/run`` installs Chromium and the npm
packages; elsewhere these tests skip without them (``chromium_cdp.need``).
"""

from __future__ import annotations

import io
import json
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from chromium_cdp import ORT_WEB_DIST, Browser, ctrl_c_stops, need, served_url

from latent_odyssey.game.engine import ui
from latent_odyssey.game.model import morph
from latent_odyssey.game.model.modelfile import METADATA_KEY, ModelMeta
from latent_odyssey.game.modes.faces.state import slider_directions
from latent_odyssey.game.web.serve import make_server, url_of
from latent_odyssey.game.web.site import (
    CONFIG_FILE,
    DEFAULT_ORT_URL,
    MANIFEST_FILE,
    ORT_FILES,
    ORT_WEB_VERSION,
    STATIC_FILES,
    ort_source,
    write_site,
)

REPO = Path(__file__).resolve().parents[1]
PIXEL_ATOL = 1e-4  # onnxruntime-web (wasm) vs Python onnxruntime, per pixel
SIZE = (1280, 800)  # browser viewport, CSS px
COLOUR_TOL = 40.0  # RGB distance within which a screenshot pixel counts as a class colour
MIN_CLASS_PIXELS = 40  # pixels of each class colour the map must show


# ----------------------------------------------------------------------------- helpers


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _python_meta(path: Path) -> tuple[dict, dict]:
    """(metadata_props, the parsed Latent Odyssey JSON) as Python onnxruntime reads them."""
    props = dict(_session(path).get_modelmeta().custom_metadata_map)
    return props, json.loads(props[METADATA_KEY])


def _decode(path: Path, z) -> np.ndarray:
    z = np.asarray(z, np.float32).reshape(1, -1)  # (1, D)
    return _session(path).run(None, {"z": z})[0][0]  # (C, H, W)


@contextmanager
def _served(folder: Path):
    server = make_server(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url_of(server)
    finally:
        server.shutdown()
        server.server_close()


def _open(browser: Browser, url: str) -> str:
    """Navigate and wait for the page to finish starting; returns "ready" or "error"."""
    browser.goto(url)
    return browser.wait_for("document.body && document.body.dataset.state !== 'loading' && document.body.dataset.state")


def _wait_idle(browser: Browser, condition: str = "true") -> None:
    browser.wait_for(f"odyssey.state.idle && ({condition})")


def _page_image(browser: Browser) -> np.ndarray:
    return np.asarray(browser.evaluate("Array.from(odyssey.state.image)"), np.float32)


def _click_centroid(browser: Browser, k: int) -> None:
    browser.click(*browser.center_of(f'#centroids button[data-class="{k}"]'))
    _wait_idle(browser, f"JSON.stringify(odyssey.state.z) === JSON.stringify(odyssey.meta.centroids[{k}])")


def _map_pixel(browser: Browser, z: list[float]) -> tuple[float, float]:
    """The CSS-pixel position (viewport) at which the map draws latent ``z``."""
    x, y = browser.evaluate(f"odyssey.state.view.toPixel(odyssey.project({json.dumps(z)}))")
    rect = browser.rect_of("#map")
    size = browser.evaluate("[document.getElementById('map').width, document.getElementById('map').height]")
    return rect["x"] + x * rect["width"] / size[0], rect["y"] + y * rect["height"] / size[1]


def _screenshot_rgb(browser: Browser, selector: str) -> np.ndarray:
    """The screenshot cropped to the element, (H, W, 3) uint8, decoded with pygame."""
    import pygame

    surf = pygame.image.load(io.BytesIO(browser.screenshot()), "shot.png")
    rgb = pygame.surfarray.array3d(surf).transpose(1, 0, 2)  # (H, W, 3)
    r = browser.rect_of(selector)
    return rgb[int(r["y"]): int(r["y"] + r["height"]), int(r["x"]): int(r["x"] + r["width"])]


def _class_pixel_counts(rgb: np.ndarray, n_classes: int) -> list[int]:
    """How many pixels lie within COLOUR_TOL of each class colour (nearest colour wins)."""
    palette = np.asarray([ui.class_colour(k) for k in range(n_classes)], np.float32)  # (K, 3)
    px = rgb.reshape(-1, 3).astype(np.float32)  # (P, 3)
    dist = np.linalg.norm(px[:, None, :] - palette[None], axis=2)  # (P, K)
    nearest = dist.argmin(1)
    close = dist.min(1) < COLOUR_TOL
    return [int(np.sum(close & (nearest == k))) for k in range(n_classes)]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    need("chromium", "onnxruntime-web")
    with Browser.launch(size=SIZE) as b:
        yield b


@pytest.fixture(scope="module")
def page_2d(browser, exported_models, tmp_path_factory):
    """The mnist-2d page, loaded: (browser, decoder path)."""
    site = write_site(exported_models["2d"], tmp_path_factory.mktemp("web") / "site", ort_source(dist=ORT_WEB_DIST))
    with _served(site.folder) as url:
        assert _open(browser, url) == "ready", browser.evaluate("document.getElementById('status').textContent")
        yield browser, exported_models["2d"]


# ----------------------------------------------------------------------------- mnist-2d in the browser


def test_the_page_reads_the_metadata_from_the_onnx_bytes_like_python(page_2d):
    browser, dec = page_2d
    props, meta = _python_meta(dec)
    assert browser.evaluate("odyssey.props") == props  # every metadata_props entry, byte for byte
    assert browser.evaluate("odyssey.meta") == meta
    assert browser.evaluate("document.getElementById('model-name').textContent") == meta["name"]
    assert browser.exceptions() == []


@pytest.mark.parametrize("k", [3, 7])
def test_a_centroid_button_decodes_like_python_onnxruntime(page_2d, k):
    browser, dec = page_2d
    _click_centroid(browser, k)
    _, meta = _python_meta(dec)
    want = _decode(dec, meta["centroids"][k])  # (1, 28, 28)
    got = _page_image(browser).reshape(want.shape)
    assert np.abs(got - want).max() <= PIXEL_ATOL
    assert browser.evaluate("document.getElementById('where').textContent") == f"nearest centroid: {meta['class_names'][k]}"
    # what the view canvas shows: each source pixel's block centre holds round(255 * value)
    c, h, w = want.shape
    shown = np.asarray(browser.evaluate(f"""(() => {{
        const cv = document.getElementById('view'), d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        const out = [];
        for (let y = 0; y < {h}; y++) for (let x = 0; x < {w}; x++) {{
            const px = Math.floor((x + 0.5) * cv.width / {w}), py = Math.floor((y + 0.5) * cv.height / {h});
            out.push(d[4 * (py * cv.width + px)]);
        }}
        return out; }})()"""), np.float32).reshape(h, w)
    assert np.abs(shown - np.round(255 * want[0])).max() <= 1


def test_clicking_and_dragging_on_the_map_decodes_the_point_under_the_mouse(page_2d):
    browser, dec = page_2d
    _, meta = _python_meta(dec)
    px_per_unit = browser.evaluate("document.getElementById('map').width / odyssey.state.view.span")
    x, y = _map_pixel(browser, meta["centroids"][5])
    browser.click(x, y)
    _wait_idle(browser, "odyssey.state.decodes > 0")
    z = browser.evaluate("odyssey.state.z")
    assert np.abs(np.subtract(z, meta["centroids"][5])).max() <= 1.5 / px_per_unit  # within a pixel or so
    assert np.abs(_page_image(browser) - _decode(dec, z).ravel()).max() <= PIXEL_ATOL
    before = browser.evaluate("odyssey.state.decodes")
    path = [_map_pixel(browser, list(morph.lerp(meta["centroids"][0], meta["centroids"][1], [t])[0]))
            for t in np.linspace(0, 1, 12)]
    browser.drag(path)
    _wait_idle(browser)
    z = browser.evaluate("odyssey.state.z")
    assert np.abs(np.subtract(z, meta["centroids"][1])).max() <= 1.5 / px_per_unit
    assert browser.evaluate("odyssey.state.decodes") > before + 1  # decoded along the way, not only at the end
    assert np.abs(_page_image(browser) - _decode(dec, z).ravel()).max() <= PIXEL_ATOL


def test_arrow_keys_move_the_point_on_the_focused_map(page_2d):
    browser, _ = page_2d
    _click_centroid(browser, 6)
    start = np.asarray(browser.evaluate("odyssey.state.z"))
    browser.evaluate("document.getElementById('map').focus()")
    browser.press("ArrowRight")
    browser.press("ArrowUp", shift=True)
    _wait_idle(browser, f"odyssey.state.z[1] !== {float(start[1])!r}")
    span = browser.evaluate("odyssey.state.view.span")
    np.testing.assert_allclose(browser.evaluate("odyssey.state.z"), start + [0.01 * span, 0.05 * span], atol=1e-9)


def test_the_strips_are_the_games_lerp_and_slerp(page_2d):
    browser, dec = page_2d
    _, meta = _python_meta(dec)
    _click_centroid(browser, 2)
    browser.click(*browser.center_of("#set-a"))
    _click_centroid(browser, 8)
    browser.click(*browser.center_of("#set-b"))
    a, b = meta["centroids"][2], meta["centroids"][8]
    _wait_idle(browser, f"odyssey.state.strip && JSON.stringify(odyssey.state.strip.linear.at(-1)) === '{json.dumps(b, separators=(',', ':'))}'")
    strip = browser.evaluate("odyssey.state.strip")
    t = np.asarray(strip["t"])
    np.testing.assert_allclose(strip["linear"], morph.lerp(a, b, t), atol=1e-9)
    np.testing.assert_allclose(strip["spherical"], morph.slerp(a, b, t), atol=1e-9)
    assert browser.evaluate("document.querySelectorAll('#strip-linear canvas, #strip-spherical canvas').length") == 2 * len(t)
    # clicking a strip frame goes there
    browser.click(*browser.center_of("#strip-spherical canvas:nth-child(4)"))
    _wait_idle(browser)
    np.testing.assert_allclose(browser.evaluate("odyssey.state.z"), morph.slerp(a, b, t[3:4])[0], atol=1e-9)


def test_the_map_is_drawn_in_the_class_colours(page_2d):
    browser, dec = page_2d
    _, meta = _python_meta(dec)
    counts = _class_pixel_counts(_screenshot_rgb(browser, "#map"), len(meta["class_names"]))
    assert min(counts) >= MIN_CLASS_PIXELS, counts
    legend = browser.evaluate("Array.from(document.querySelectorAll('#centroids button')).map(b => b.textContent)")
    assert legend == meta["class_names"]
    assert browser.exceptions() == []


# ----------------------------------------------------------------------------- other models


def test_a_3d_model_is_shown_on_its_principal_plane(browser, exported_models, tmp_path):
    dec = exported_models["3d"]
    site = write_site(dec, tmp_path / "site", ort_source(dist=ORT_WEB_DIST))
    with _served(site.folder) as url:
        assert _open(browser, url) == "ready"
        _, meta = _python_meta(dec)
        assert "projection" in browser.evaluate("document.getElementById('map-title').textContent")
        axes = np.asarray(browser.evaluate("odyssey.state.basis.axes"))  # (2, 3)
        np.testing.assert_allclose(axes @ axes.T, np.eye(2), atol=1e-6)  # an orthonormal plane
        # the plane is the samples' top-2 principal plane: numpy's eigenvectors span it too
        x = np.asarray(meta["sample_z"]) - np.asarray(meta["latent_mean"])
        top = np.linalg.eigh(x.T @ x / len(x))[1][:, -2:].T  # (2, 3)
        np.testing.assert_allclose(np.abs(np.linalg.det(axes @ top.T)), 1.0, atol=1e-4)
        _click_centroid(browser, 4)
        assert np.abs(_page_image(browser) - _decode(dec, meta["centroids"][4]).ravel()).max() <= PIXEL_ATOL
        assert min(_class_pixel_counts(_screenshot_rgb(browser, "#map"), 10)) >= MIN_CLASS_PIXELS
        assert browser.exceptions() == []


def test_a_face_model_has_the_face_studios_sliders(browser, exported_face_model, tmp_path):
    dec = exported_face_model
    site = write_site(dec, tmp_path / "site", ort_source(dist=ORT_WEB_DIST))
    with _served(site.folder) as url:
        assert _open(browser, url) == "ready"
        meta = ModelMeta.from_json(_python_meta(dec)[0][METADATA_KEY])
        names = list(meta.attributes)
        labels = browser.evaluate("Array.from(document.querySelectorAll('#sliders .slider span')).map(s => s.textContent)")
        assert labels == names and browser.evaluate("document.getElementById('centroid-card').hidden")
        # drag the 'smile' slider's thumb three quarters of the way right, as a user would
        r = browser.rect_of("#sliders .slider:nth-child(1) input")
        mid_y = r["y"] + r["height"] / 2
        browser.drag([(r["x"] + r["width"] / 2, mid_y), (r["x"] + 0.75 * r["width"], mid_y)])
        _wait_idle(browser, "odyssey.state.sliders[0] > 0.5")
        sliders = np.asarray(browser.evaluate("odyssey.state.sliders"))
        base = np.asarray(browser.evaluate("odyssey.state.base"))
        want_z = base + sliders @ slider_directions(meta, names)  # the face studio's own maths
        z = np.asarray(browser.evaluate("odyssey.state.z"))
        np.testing.assert_allclose(z, want_z, atol=1e-6)
        assert np.abs(_page_image(browser) - _decode(dec, z).ravel()).max() <= PIXEL_ATOL
        assert browser.exceptions() == []


def test_without_onnxruntime_the_page_says_how_to_fix_it(browser, exported_models, tmp_path):
    site = write_site(exported_models["2d"], tmp_path / "site", ort_source(url="http://127.0.0.1:9/nothing/"))
    with _served(site.folder) as url:
        assert _open(browser, url) == "error"
        status = browser.evaluate("document.getElementById('status').textContent")
        assert "http://127.0.0.1:9/nothing/ort.wasm.min.js" in status and "--ort-dir" in status


# ----------------------------------------------------------------------------- the writer and commands


def odyssey_main(argv: list[str]) -> int:
    from latent_odyssey.game.cli import main

    return main(argv)


def test_odyssey_web_writes_a_page_for_the_pinned_cdn_and_replaces_its_own(exported_models, tmp_path, capsys):
    out = tmp_path / "site"
    assert odyssey_main(["web", str(exported_models["2d"]), str(out)]) == 0
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == sorted([*STATIC_FILES, CONFIG_FILE, MANIFEST_FILE, "mnist-2d.onnx"])
    assert (out / "mnist-2d.onnx").read_bytes() == exported_models["2d"].read_bytes()
    config = json.loads(re.search(r"ODYSSEY_CONFIG = (\{.*\});", (out / CONFIG_FILE).read_text(), re.S).group(1))
    assert config["ortUrl"] == DEFAULT_ORT_URL and f"onnxruntime-web@{ORT_WEB_VERSION}/" in DEFAULT_ORT_URL
    assert config["model"] == "mnist-2d.onnx" and config["colours"]["classes"][0] == list(ui.class_colour(0))
    assert "wrote" in capsys.readouterr().out
    # a second run (another model, a local onnxruntime) replaces the folder it wrote, atomically
    need("onnxruntime-web")
    assert odyssey_main(["web", str(exported_models["3d"]), str(out), "--ort-dir", str(ORT_WEB_DIST)]) == 0
    assert not (out / "mnist-2d.onnx").exists() and (out / "mnist-3d.onnx").is_file()
    for name in ORT_FILES:
        assert (out / "ort" / name).read_bytes() == (ORT_WEB_DIST / name).read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no staging or old folders left


@pytest.mark.parametrize("case", ["foreign folder", "a file", "missing dist", "both sources", "bad url",
                                  "encoder", "no such model"])
def test_odyssey_web_bad_input_is_one_sentence(case, exported_models, tmp_path, capsys):
    dec = exported_models["2d"]
    out = tmp_path / "out"
    args = [str(dec), str(out)]
    status = 2
    if case == "foreign folder":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif case == "a file":
        out.write_text("a file")
    elif case == "missing dist":
        args += ["--ort-dir", str(tmp_path / "dist")]
    elif case == "both sources":
        args += ["--ort-dir", str(tmp_path), "--ort-url", "https://example.org/ort/"]
    elif case == "bad url":
        args += ["--ort-url", "javascript:alert(1)"]
    elif case == "encoder":
        args[0] = str(dec.with_name("mnist-2d.encoder.onnx"))
        status = 1
    elif case == "no such model":
        args[0] = "no-such-model"
    assert odyssey_main(["web", *args]) == status
    err = capsys.readouterr().err
    assert err.startswith("odyssey: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    if case == "foreign folder":
        assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["out"])  # nothing staged left behind


def test_odyssey_web_serve_serves_the_page_with_the_right_types(exported_models, tmp_path):
    need("onnxruntime-web")
    out = tmp_path / "site"
    proc = subprocess.Popen(
        [sys.executable, "-m", "latent_odyssey.game", "web", str(exported_models["2d"]), str(out),
         "--ort-dir", str(ORT_WEB_DIST), "--serve", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, preexec_fn=ctrl_c_stops,
    )
    try:
        url = served_url(proc)
        types = {}
        for path in ("", "app.js", "ort/ort-wasm-simd-threaded.mjs", "ort/ort-wasm-simd-threaded.wasm", "mnist-2d.onnx"):
            with urllib.request.urlopen(url + path, timeout=10) as resp:
                types[path] = resp.headers["Content-Type"].split(";")[0]
                if path == "mnist-2d.onnx":
                    assert resp.read() == exported_models["2d"].read_bytes()
        assert types == {"": "text/html", "app.js": "text/javascript", "ort/ort-wasm-simd-threaded.mjs": "text/javascript",
                         "ort/ort-wasm-simd-threaded.wasm": "application/wasm", "mnist-2d.onnx": "application/octet-stream"}
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_odyssey_export_web_writes_the_page_of_the_exported_model(trained_models, idx_dir, tmp_path):
    from latent_odyssey.export.cli import main as export_main

    checkpoint = trained_models["2d"].parent / "run-2d" / "checkpoint.pt"
    site = tmp_path / "site"
    args = [str(checkpoint), "--out", str(tmp_path / "m" / "tiny"), "--data-dir", str(idx_dir), "--web", str(site)]
    assert export_main(args) == 0
    assert (site / "tiny.onnx").read_bytes() == (tmp_path / "m" / "tiny.onnx").read_bytes()
    assert (site / "index.html").is_file() and (site / MANIFEST_FILE).is_file()


def test_odyssey_export_checks_the_ort_dir_before_exporting(trained_models, tmp_path, capsys):
    from latent_odyssey.export.cli import main as export_main

    checkpoint = trained_models["2d"].parent / "run-2d" / "checkpoint.pt"
    code = export_main([str(checkpoint), "--out", str(tmp_path / "m" / "tiny"), "--web", str(tmp_path / "site"),
                        "--ort-dir", str(tmp_path / "nowhere")])
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "m").exists() and not (tmp_path / "site").exists()  # nothing exported


# ----------------------------------------------------------------------------- onnxmeta.js in node


NODE_READ = """
const fs = require("fs");
const { readMetadataProps } = require(process.argv[2]);
const out = {};
for (const path of process.argv.slice(3)) {
  try { out[path] = readMetadataProps(fs.readFileSync(path)); } catch (e) { out[path] = "Error: " + e.message; }
}
process.stdout.write(JSON.stringify(out));
"""


def test_onnxmeta_js_reads_every_shipped_model_and_rejects_broken_bytes(exported_models, exported_face_model, tmp_path):
    need("node")
    from latent_odyssey.game.web.site import static_dir

    files = [exported_models["2d"], exported_models["3d"], exported_face_model,
             exported_face_model.with_name("faces.encoder.onnx")]
    raw = exported_models["2d"].read_bytes()
    (tmp_path / "truncated.onnx").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "text.onnx").write_bytes(b"this is not a model\n" * 10)
    script = tmp_path / "read.js"
    script.write_text(NODE_READ)
    proc = subprocess.run(["node", str(script), str(static_dir() / "onnxmeta.js"), *map(str, files),
                           str(tmp_path / "truncated.onnx"), str(tmp_path / "text.onnx")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    for f in files:
        assert got[str(f)] == dict(_session(f).get_modelmeta().custom_metadata_map), f.name
    assert got[str(tmp_path / "truncated.onnx")].startswith("Error: onnxmeta: ")
    assert got[str(tmp_path / "text.onnx")].startswith("Error: onnxmeta: ")
