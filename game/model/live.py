"""Live training: the run folder's ``live/`` files, their format, and a watcher (torch-free).

``odyssey-train PRESET --live --out RUN`` writes, after every epoch, into ``RUN/live/``:

* ``model.encoder.onnx`` first, then ``model.onnx`` (the decoder with the full metadata of
  ``modelfile``), each atomically (``game.atomic``): a reader sees a whole old file or a whole
  new one, never half of one, whatever happens to the training process;
* ``status.json`` (atomically): ``{"state": "training" | "finished" | "failed" | "stopped",
  "epoch": k, "epochs": N, "pid": P, "host": H, "time": unix seconds, "message": str}``,
  written when training starts, after every epoch, and when it ends ("stopped": Ctrl-C or a
  signal; "failed": an error, said in ``message``).

The decoder's ``training["live"]`` says which epoch it is and how that epoch went
(:class:`LiveInfo`: epoch k of N, the epoch's mean training loss, and the test -ELBO on the
trainer's fixed check set of test images). The encoded sample points are the same training
images every epoch, so a map can move each point from its old place to its new one.

The game side: :func:`live_paths` turns ``odyssey --live ARG`` (a run folder, its ``live``
folder, or the model file) into the files to watch; :class:`ModelWatcher` polls them from the
frame thread with ``stat`` calls only (every ``POLL_S``) and opens a changed model on a worker
thread (onnxruntime releases the GIL while it builds a session), so no frame waits for it.
:meth:`RunStatus.effective` tells a running run from a finished, failed or stopped one (a
status that says "training" whose process is gone: killed, or crashed without a word).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from latent_odyssey.game import atomic
from latent_odyssey.game.model.modelfile import ModelMeta

LIVE_DIR = "live"  # inside the run folder
MODEL_FILE = "model.onnx"  # the decoder, with the metadata
ENCODER_FILE = "model.encoder.onnx"
STATUS_FILE = "status.json"
LIVE_KEY = "live"  # ModelMeta.training[LIVE_KEY]: the epoch and its losses
STATES = ("training", "finished", "failed", "stopped")  # what status.json may say
STARTING = "starting"  # the "training" message of a new run (no epoch done yet)
RESUMING = "resuming"  # the "training" message of a run resuming from its checkpoint (no epoch of it done yet)
POLL_S = 0.25  # seconds between two looks at the files
STATUS_MAX_BYTES = 64 * 1024  # a status file bigger than this is not ours

T = TypeVar("T")


@dataclass(frozen=True)
class LivePaths:
    """The files of one live run."""

    run: Path  # the run folder (odyssey-train's --out)
    model: Path  # RUN/live/model.onnx
    status: Path  # RUN/live/status.json

    @property
    def run_name(self) -> str:
        return self.run.name or str(self.run)


def live_paths(target: Path | str) -> LivePaths:
    """``odyssey --live TARGET``: a run folder (``RUN/live/model.onnx`` is watched), the
    ``live`` folder itself, or the model file. The files need not exist yet."""
    p = Path(target)
    if p.suffix == ".onnx":
        folder = p.parent
        model = p
    elif p.name == LIVE_DIR and not (p / LIVE_DIR).exists():
        folder, model = p, p / MODEL_FILE
    else:
        folder = p / LIVE_DIR
        model = folder / MODEL_FILE
    run = folder.parent if folder.name == LIVE_DIR else folder
    return LivePaths(run=run, model=model, status=folder / STATUS_FILE)


# ----------------------------------------------------------------------------- status.json


@dataclass(frozen=True)
class RunStatus:
    """What ``status.json`` says about the training process."""

    state: str  # one of STATES
    epoch: int  # epochs completed
    epochs: int  # epochs planned
    pid: int
    host: str
    time: float  # unix seconds of the last write
    message: str = ""

    def effective(self) -> str:
        """``state``, or "stopped" when it says "training" but its process is gone."""
        if self.state == "training" and not process_alive(self.pid, self.host):
            return "stopped"
        return self.state

    def to_dict(self) -> dict:
        return {"state": self.state, "epoch": self.epoch, "epochs": self.epochs, "pid": self.pid,
                "host": self.host, "time": self.time, "message": self.message}


def process_alive(pid: int, host: str) -> bool:
    """Whether process ``pid`` runs (on this machine; one elsewhere is taken to be alive)."""
    if host and host != socket.gethostname():
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    except OSError:
        return False
    return True


def write_status(path: Path, state: str, epoch: int, epochs: int, message: str = "") -> RunStatus:
    """Write ``status.json`` atomically for this process; returns what was written."""
    if state not in STATES:
        raise ValueError(f"status state {state!r} is not one of {', '.join(STATES)}")
    status = RunStatus(state=state, epoch=int(epoch), epochs=int(epochs), pid=os.getpid(),
                       host=socket.gethostname(), time=round(time.time(), 3), message=message)
    atomic.write_json(path, status.to_dict())
    return status


def read_status(path: Path) -> RunStatus | None:
    """The status in ``path``, or None when it is missing, unreadable or not ours."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(STATUS_MAX_BYTES + 1)
        if len(raw) > STATUS_MAX_BYTES:
            return None
        obj = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(obj, dict) or obj.get("state") not in STATES:
        return None
    try:
        return RunStatus(state=obj["state"], epoch=_int(obj.get("epoch")), epochs=_int(obj.get("epochs")),
                         pid=_int(obj.get("pid")), host=str(obj.get("host", "")),
                         time=float(obj.get("time", 0.0)), message=str(obj.get("message", ""))[:200])
    except (TypeError, ValueError):
        return None


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("not a number")
    return int(value)


# ----------------------------------------------------------------------------- the epoch


@dataclass(frozen=True)
class LiveInfo:
    """The epoch a live model file comes from and how it went (``training["live"]``)."""

    epoch: int  # completed, 1-based
    epochs: int  # planned
    train_loss: float  # mean training loss of the epoch (nats per image, with the epoch's β)
    test_neg_elbo: float  # -ELBO (β = 1) on the check set of test images, nats
    check_images: int  # how many test images that is

    def to_dict(self) -> dict:
        return {"epoch": self.epoch, "epochs": self.epochs, "train_loss": self.train_loss,
                "test_neg_elbo": self.test_neg_elbo, "check_images": self.check_images}


def live_info(meta: ModelMeta) -> LiveInfo | None:
    """The model's :class:`LiveInfo`, or None (a model that does not come from ``--live``)."""
    raw = meta.training.get(LIVE_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        return LiveInfo(epoch=_int(raw["epoch"]), epochs=_int(raw["epochs"]),
                        train_loss=float(raw["train_loss"]), test_neg_elbo=float(raw["test_neg_elbo"]),
                        check_images=_int(raw.get("check_images", 0)))
    except (KeyError, TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------- watching


def signature(path: Path) -> tuple[int, int, int] | None:
    """(mtime ns, size, inode) of ``path``, None when it is missing: a changed file (an atomic
    replace makes a new inode) has another signature."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


@dataclass
class Loaded(Generic[T]):
    """A finished background load: ``value`` or the one-sentence ``error``."""

    value: T | None
    error: str | None
    signature: tuple[int, int, int]
    seconds: float  # wall time the load took


class ModelWatcher(Generic[T]):
    """Polls a model file and its status from the frame thread; loads a changed model with
    ``load(path)`` on a worker thread.

    ``poll(now)`` costs two ``stat`` calls at most every ``POLL_S`` seconds (and reads the
    small status file when it changed); it starts a load when the model file has a new
    signature and none is under way, and returns a finished load (once). ``load`` raises an
    exception whose text is one sentence for a file it refuses; that file is not tried again
    until it changes.
    """

    def __init__(self, paths: LivePaths, load: Callable[[Path], T], poll_s: float = POLL_S) -> None:
        self.paths = paths
        self.load = load
        self.poll_s = poll_s
        self.status: RunStatus | None = None
        self._status_sig: tuple[int, int, int] | None = None
        self._seen: tuple[int, int, int] | None = None  # the model signature last loaded or tried
        self._next_poll = -1.0
        self._thread: threading.Thread | None = None
        self._done: Loaded[T] | None = None
        self._lock = threading.Lock()

    def mark_seen(self, sig: tuple[int, int, int] | None) -> None:
        """The model file with signature ``sig`` is already open: load only a newer one."""
        self._seen = sig

    @property
    def loading(self) -> bool:
        return self._thread is not None

    def poll(self, now: float) -> Loaded[T] | None:
        """Look at the files if ``POLL_S`` has passed (``now``: seconds on any monotonic
        clock); returns a load that has finished since the last call, else None."""
        finished = self._collect()
        if now < self._next_poll:
            return finished
        self._next_poll = now + self.poll_s
        sig = signature(self.paths.status)
        if sig != self._status_sig:
            self._status_sig = sig
            self.status = read_status(self.paths.status) if sig is not None else None
        if self._thread is None:
            model_sig = signature(self.paths.model)
            if model_sig is not None and model_sig != self._seen:
                self._seen = model_sig
                self._start(model_sig)
        return finished

    def wait(self, timeout: float) -> None:
        """Block until the load under way (if any) finishes; the next ``poll`` returns it."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _collect(self) -> Loaded[T] | None:
        with self._lock:
            done, self._done = self._done, None
        if done is not None:
            self._thread = None
        return done

    def _start(self, sig: tuple[int, int, int]) -> None:
        def work() -> None:
            t0 = time.perf_counter()
            try:
                value, error = self.load(self.paths.model), None
            except Exception as exc:  # noqa: BLE001 (any refusal is one sentence on screen)
                value, error = None, str(exc).strip() or type(exc).__name__
            with self._lock:
                self._done = Loaded(value, error, sig, time.perf_counter() - t0)

        self._thread = threading.Thread(target=work, name="odyssey-live-load", daemon=True)
        self._thread.start()
