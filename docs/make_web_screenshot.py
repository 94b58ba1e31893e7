"""Render the README's picture of the web page: ``odyssey web mnist-2d`` in headless Chromium.

    python docs/make_web_screenshot.py [--out docs/web_mnist-2d.png]

Writes the page for the shipped mnist-2d with onnxruntime-web copied from build/npm (run
``bash .ci/browser-deps`` first), serves it on 127.0.0.1, opens it at 1280x800, presses the
class-3 centroid button, and saves the viewport. Needs Chromium (``tests/chromium_cdp.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from chromium_cdp import ORT_WEB_DIST, Browser  # noqa: E402

from latent_odyssey.game.atomic import write_bytes  # noqa: E402
from latent_odyssey.game.web.serve import make_server, url_of  # noqa: E402
from latent_odyssey.game.web.site import ort_source, write_site  # noqa: E402

SIZE = (1280, 800)  # CSS px
SHOWN_CLASS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "web_mnist-2d.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        site = write_site(REPO / "pretrained" / "mnist-2d.onnx", Path(tmp) / "site", ort_source(dist=ORT_WEB_DIST))
        server = make_server(site.folder, port=0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with Browser.launch(size=SIZE) as page:
                page.goto(url_of(server))
                page.wait_for("document.body && document.body.dataset.state === 'ready'")
                page.click(*page.center_of(f'#centroids button[data-class="{SHOWN_CLASS}"]'))
                page.wait_for(f"odyssey.state.idle && JSON.stringify(odyssey.state.z) === "
                              f"JSON.stringify(odyssey.meta.centroids[{SHOWN_CLASS}])")
                png = page.screenshot()
        finally:
            server.shutdown()
            server.server_close()
    write_bytes(args.out, png)
    print(f"wrote {args.out} ({len(png) / 1e3:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
