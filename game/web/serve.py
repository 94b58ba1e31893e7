"""A small static web server for a page written by ``odyssey web`` (``--serve``, and the tests).

Browsers refuse to run the page from ``file://`` (no ``fetch`` of the model, no WebAssembly
module imports), so it has to be served. Python's ``http.server`` does that; this wraps it with
the MIME types the page needs on every Python version (``.mjs`` and ``.wasm`` as JavaScript and
WebAssembly), ``Cache-Control: no-cache`` (a re-written page is never stale), and no request log.
Serve on 127.0.0.1 unless you mean to share the page.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MIME_TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json", ".wasm": "application/wasm", ".onnx": "application/octet-stream",
    ".png": "image/png",
}


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


def make_server(folder: Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
    """A server for ``folder`` bound to ``host:port`` (port 0: any free port; read
    ``server.server_address``). Call ``serve_forever()`` (on a thread, for tests) and
    ``shutdown()`` + ``server_close()`` to stop. Raises OSError when the port is taken."""
    handler = functools.partial(_Handler, directory=str(folder))
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    """``http://HOST:PORT/`` of a running server."""
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
