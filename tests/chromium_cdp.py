"""Drive headless Chromium over the DevTools protocol with the standard library only.

``--remote-debugging-pipe`` makes Chromium read protocol commands (JSON, each ended by a NUL
byte) from file descriptor 3 and write replies and events to descriptor 4; a shell maps those to
the pipes of ``subprocess``. One page target is attached in flat mode, so every command goes to
it with its ``sessionId``. Used by ``tests/test_web.py`` and ``docs/make_web_screenshot.py``;
``need(...)`` skips a test when Chromium, node or the npm packages are missing.

    with Browser.launch(size=(1280, 800)) as page:
        page.goto("http://127.0.0.1:8000/")
        page.wait_for("document.body.dataset.state === 'ready'")
        page.evaluate("1 + 1")            # -> 2 (promises are awaited)
        page.click(100, 200)
        png = page.screenshot()
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--remote-debugging-pipe",
)
REPLY_TIMEOUT_S = 60.0
KEY_CODES = {"ArrowLeft": 37, "ArrowUp": 38, "ArrowRight": 39, "ArrowDown": 40, "Enter": 13, "Escape": 27}
REPO = Path(__file__).resolve().parents[1]
NPM_MODULES = REPO / "build" / "npm" / "node_modules"  # .ci/run installs the npm packages here
ORT_WEB_DIST = NPM_MODULES / "onnxruntime-web" / "dist"
REQUIRE_ENV = "ODYSSEY_REQUIRE_BROWSER"  # "1" (set by .ci/run): a missing tool fails the test


def need(*tools: str) -> None:
    """Skip the calling test unless ``tools`` are here ("chromium", "node", "onnxruntime-web",
    "onnxruntime-node"); with $ODYSSEY_REQUIRE_BROWSER=1 fail instead, so CI cannot skip."""
    import pytest

    present = {
        "chromium": lambda: find_chromium() is not None,
        "node": lambda: shutil.which("node") is not None,
        "onnxruntime-web": lambda: ORT_WEB_DIST.is_dir(),
        "onnxruntime-node": lambda: (NPM_MODULES / "onnxruntime-node").is_dir(),
    }
    missing = [t for t in tools if not present[t]()]
    if not missing:
        return
    why = (f"needs {', '.join(missing)} (apt-get install chromium nodejs npm; npm packages go to "
           f"{NPM_MODULES.parent}: see .ci/run)")
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(why)
    pytest.skip(why)


class CDPError(RuntimeError):
    """A protocol error, a JavaScript exception, or a timeout."""


def find_chromium() -> str | None:
    """The Chromium executable ($CHROMIUM, then the usual names on PATH), or None."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def ctrl_c_stops() -> None:
    """``preexec_fn`` of a server the test stops with SIGINT: the signal back to its default, so
    that Python turns it into KeyboardInterrupt even when this run inherited it ignored (a shell
    starts background jobs, ``cmd &``, with SIGINT ignored, and children keep that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def served_url(proc: subprocess.Popen) -> str:
    """The URL that ``odyssey web ... --serve`` prints ("serving DIR at URL (Ctrl-C stops)"),
    read from its text stdout; AssertionError with its stderr when it ends without serving."""
    for line in proc.stdout:
        m = re.search(r" at (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return m.group(1)
    proc.wait(timeout=10)
    raise AssertionError(f"odyssey web --serve ended ({proc.returncode}) before serving: {proc.stderr.read()}")


class Browser:
    """One headless Chromium with one page; a context manager that closes both."""

    def __init__(self, proc: subprocess.Popen, profile: str) -> None:
        self.proc = proc
        self.profile = profile
        self.ids = itertools.count(1)
        self.replies: dict[int, queue.Queue] = {}
        self.events: list[dict] = []  # every event received, in order
        self.lock = threading.Lock()
        self.session: str | None = None
        threading.Thread(target=self._read, daemon=True).start()

    @classmethod
    def launch(cls, size: tuple[int, int] = (1280, 800), executable: str | None = None) -> Browser:
        exe = executable or find_chromium()
        if exe is None:
            raise CDPError("no Chromium found (install the chromium package or set $CHROMIUM)")
        profile = tempfile.mkdtemp(prefix="odyssey-chromium-")
        args = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", "about:blank"]
        # fd 3 <- our stdin pipe (commands), fd 4 -> our stdout pipe (replies); Chromium's own
        # output goes nowhere
        shell = 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null 2>/dev/null'
        proc = subprocess.Popen(["sh", "-c", shell, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        browser = cls(proc, profile)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"}, browser_level=True)["targetId"]
            browser.session = browser.send(
                "Target.attachToTarget", {"targetId": target, "flatten": True}, browser_level=True,
            )["sessionId"]
            for method in ("Page.enable", "Runtime.enable"):
                browser.send(method)
            browser.send("Emulation.setDeviceMetricsOverride",
                         {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
        except BaseException:
            browser.close()
            raise
        return browser

    # ----------------------------------------------------------------- protocol

    def _read(self) -> None:
        buf = b""
        stream = self.proc.stdout
        while True:
            chunk = stream.read1(1 << 16) if hasattr(stream, "read1") else stream.read(1 << 16)
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self.lock:
                        q = self.replies.get(msg["id"])
                    if q is not None:
                        q.put(msg)
                else:
                    self.events.append(msg)
        with self.lock:
            for q in self.replies.values():
                q.put({"error": {"message": "Chromium exited"}})

    def send(self, method: str, params: dict | None = None, browser_level: bool = False,
             timeout: float = REPLY_TIMEOUT_S) -> dict:
        """Send one command and return its result; raises CDPError on an error reply."""
        msg_id = next(self.ids)
        msg: dict = {"id": msg_id, "method": method, "params": params or {}}
        if not browser_level:
            msg["sessionId"] = self.session
        q: queue.Queue = queue.Queue()
        with self.lock:
            self.replies[msg_id] = q
        self.proc.stdin.write(json.dumps(msg).encode() + b"\0")
        self.proc.stdin.flush()
        try:
            reply = q.get(timeout=timeout)
        except queue.Empty:
            raise CDPError(f"{method}: no reply within {timeout:g} s") from None
        finally:
            with self.lock:
                self.replies.pop(msg_id, None)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    # ----------------------------------------------------------------- page helpers

    def goto(self, url: str) -> None:
        self.send("Page.navigate", {"url": url})

    def evaluate(self, expression: str, timeout: float = REPLY_TIMEOUT_S):
        """The value of a JavaScript expression (promises awaited), as JSON-able Python."""
        res = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                             "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in res:
            details = res["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"JavaScript error: {text}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = REPLY_TIMEOUT_S, poll_s: float = 0.05):
        """Poll until the expression is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        last = ""
        while True:
            try:
                value = self.evaluate(expression)
            except CDPError as exc:  # e.g. the page is not there yet
                value, last = None, f" (last: {exc})"
            if value:
                return value
            if time.monotonic() > deadline:
                raise CDPError(f"timed out after {timeout:g} s waiting for {expression}{last}")
            time.sleep(poll_s)

    def click(self, x: float, y: float) -> None:
        """A left click at CSS pixel (x, y), as the user's mouse makes it."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                                   "buttons": 1 if kind == "mousePressed" else 0, "clickCount": 1})

    def drag(self, points: list[tuple[float, float]]) -> None:
        """Press at the first point, move through the others, release at the last."""
        (x0, y0), rest = points[0], points[1:]
        self.send("Input.dispatchMouseEvent", {"type": "mousePressed", "x": x0, "y": y0, "button": "left",
                                               "buttons": 1, "clickCount": 1})
        for x, y in rest:
            self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "button": "left", "buttons": 1})
        x1, y1 = points[-1]
        self.send("Input.dispatchMouseEvent", {"type": "mouseReleased", "x": x1, "y": y1, "button": "left",
                                               "buttons": 0, "clickCount": 1})

    def press(self, key: str, shift: bool = False) -> None:
        """Press and release a key by its DOM name ("ArrowRight", "a") on the focused element."""
        code = KEY_CODES.get(key, ord(key.upper()[0]))
        for kind in ("rawKeyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", {"type": kind, "key": key, "code": key, "modifiers": 8 if shift else 0,
                                                 "windowsVirtualKeyCode": code})

    def center_of(self, selector: str) -> tuple[float, float]:
        """The CSS-pixel centre of the first element matching ``selector``."""
        rect = self.rect_of(selector)
        return rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2

    def rect_of(self, selector: str) -> dict:
        rect = self.evaluate(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                             ".getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; })()")
        if not rect:
            raise CDPError(f"no element {selector}")
        return rect

    def screenshot(self) -> bytes:
        """The viewport as PNG bytes."""
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"})["data"])

    def exceptions(self) -> list[str]:
        """Uncaught JavaScript exceptions and console errors seen so far."""
        out = []
        for ev in list(self.events):
            if ev.get("method") == "Runtime.exceptionThrown":
                d = ev["params"]["exceptionDetails"]
                out.append(d.get("exception", {}).get("description") or d.get("text", "exception"))
            elif ev.get("method") == "Runtime.consoleAPICalled" and ev["params"].get("type") == "error":
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in ev["params"]["args"]))
        return out

    # ----------------------------------------------------------------- lifetime

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", browser_level=True, timeout=5)
                except (CDPError, OSError):
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

