"""The ``odyssey web NAME|PATH DIR`` command (and the ``--ort-url``/``--ort-dir`` options that
``odyssey-export --web`` shares): write the model's web page, optionally serve it.

    odyssey web mnist-2d site/                  # onnxruntime-web from the pinned CDN URL
    odyssey web faces site/ --ort-dir node_modules/onnxruntime-web/dist   # offline copy
    odyssey web mnist-2d site/ --serve          # then open http://127.0.0.1:8000/

Exit statuses: 0 written (or served until Ctrl-C), 2 a bad command line or folder, 1 a bad
model file. Every failure is one sentence on stderr.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from latent_odyssey.game import paths
from latent_odyssey.game.cliutil import EXIT_FAILURE, EXIT_USAGE, int_at_least
from latent_odyssey.game.model.modelfile import ModelFileError
from latent_odyssey.game.web.serve import DEFAULT_HOST, DEFAULT_PORT, make_server, url_of
from latent_odyssey.game.web.site import (
    DEFAULT_ORT_URL,
    ORT_WEB_VERSION,
    OrtSource,
    SiteResult,
    WebError,
    ort_source,
    write_site,
)

port_int = int_at_least(0, "port")


def add_ort_arguments(p: argparse.ArgumentParser) -> None:
    """``--ort-url URL`` and ``--ort-dir DIST`` (shared with ``odyssey-export --web``)."""
    p.add_argument("--ort-url", metavar="URL",
                   help=f"folder URL of onnxruntime-web's files (default {DEFAULT_ORT_URL})")
    p.add_argument("--ort-dir", type=Path, metavar="DIST",
                   help=f"copy onnxruntime-web from this folder for offline use: the dist folder of the npm "
                        f"package (npm install onnxruntime-web@{ORT_WEB_VERSION})")


def source_from_args(args: Any) -> OrtSource:
    """The OrtSource of parsed ``--ort-url``/``--ort-dir``; raises WebError."""
    return ort_source(args.ort_url, args.ort_dir)


def add_web_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``odyssey web`` on an argparse subparsers object."""
    p = sub.add_parser(
        "web", help="write a web page that plays a model in the browser",
        description="Write a static folder that plays a model in a web browser with onnxruntime-web: "
                    "the latent map coloured by class, decoding where you click, centroids, linear and "
                    "spherical strips, face sliders. Serve it with --serve or any static web server.",
    )
    p.add_argument("model", metavar="NAME|PATH", help="a shipped model name (mnist-2d) or a path to a .onnx decoder")
    p.add_argument("out", type=Path, metavar="DIR", help="the folder to write (new, empty, or one odyssey web wrote)")
    add_ort_arguments(p)
    p.add_argument("--serve", action="store_true", help="serve the folder on 127.0.0.1 until Ctrl-C")
    p.add_argument("--port", type=port_int, default=DEFAULT_PORT, help=f"port for --serve (default {DEFAULT_PORT}; 0: any)")
    return p


def describe(res: SiteResult) -> str:
    """One line about a written page."""
    return (f"wrote {res.folder} ({len(res.files)} files, {res.size_bytes / 1e6:.1f} MB) for {res.meta.name}; "
            f"onnxruntime-web from {res.ort_url}")


def serve(folder: Path, port: int) -> int:
    """Serve ``folder`` on 127.0.0.1 until Ctrl-C; returns the exit status."""
    try:
        server = make_server(folder, DEFAULT_HOST, port)
    except OSError as exc:
        print(f"odyssey: cannot serve on {DEFAULT_HOST}:{port}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_USAGE
    print(f"serving {folder} at {url_of(server)} (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def cmd_web(args: Any) -> int:
    """``odyssey web``: write the page, then serve it with ``--serve``."""
    try:
        model = paths.require_model(args.model, WebError)
        res = write_site(model, args.out, source_from_args(args))
    except WebError as exc:
        print(f"odyssey: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModelFileError as exc:
        print(f"odyssey: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    print(describe(res))
    if args.serve:
        return serve(res.folder, args.port)
    print(f"serve it with python3 -m http.server -d {res.folder} (or add --serve); browsers do not run it from file://")
    return 0
