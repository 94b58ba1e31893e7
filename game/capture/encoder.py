"""Video recorder: numpy frames in, a real-time H.264 MP4 (or animated GIF) out.

No pygame here: the game hands over each finished frame as an array.

Contract
--------
* ``submit(frame, t)`` takes ``frame`` as an ``(H, W, 3)`` uint8 RGB array (an
  ``(H, W, 4)`` RGBA array has its alpha dropped) and ``t``, the game's clock time
  in seconds. The array is copied, so the caller may reuse its buffer.
* Fixed output rate: the video runs at ``fps`` whatever the game's rate. Output frame
  ``k`` shows the latest submitted frame with ``t - t_first <= k / fps`` (``t_first``
  is the first submitted time), so frames are duplicated when the game is slower than
  ``fps`` and skipped when it is faster, and the video keeps real time. The video ends
  on the last submitted frame (the first ``k`` with ``k / fps >= t_last - t_first``).
* Off the frame loop: conversion and encoding run on a worker thread behind a queue of
  ``queue_frames`` frames (FFmpeg releases the GIL while it encodes). When the queue is
  full, ``submit`` drops the frame at once, counts it in ``dropped`` and returns False;
  the video still keeps real time (the previous frame is shown longer). With
  ``blocking=True`` (headless offline rendering) ``submit`` waits instead and every
  frame is encoded.
* Format: H.264 (libx264, ``preset``, ``crf``) in MP4 (.mov/.mkv also accepted), yuv420p
  tagged BT.709 limited range. yuv420p needs an even width and height, so an odd
  dimension is PADDED by one edge-repeated column/row (no content is lost);
  ``video_size`` gives the encoded size. ``gif=True`` writes an animated GIF with a
  per-frame palette (FFmpeg palettegen/paletteuse, no extra dependency) at the exact
  size; GIF delays are whole centiseconds, so use an ``fps`` that divides 100 (10, 20,
  25, 50) for exact timing.
* Atomic, always finalized: frames go to ``NAME.PID-XXXXXX.partial.EXT`` in the same folder
  (unique per process and recorder, so two recorders of one name never share a file);
  ``close()`` flushes the encoder, closes the container and ``os.replace``-s it to the
  final name. Open recorders are finalized at interpreter exit (``atexit``), by
  ``finalize_all()`` and, after ``install_signal_finalizers()``, on SIGTERM/SIGHUP (which
  then raise ``cliutil.Stopped``, exit status 128 + signal).
  A ``with VideoRecorder(...)`` block that raises still leaves a playable file.
  ``abort()`` instead discards the partial file and leaves an earlier ``NAME.EXT`` as it was.
  A hard kill (SIGKILL, power loss) leaves only the unplayable ``.partial`` file.
* Errors never crash the game: if the file cannot be opened or written (permission,
  missing folder, disk full) the recorder stops, keeps what it wrote playable when the
  container can still be closed (otherwise removes the broken partial file; with
  ``keep_on_error=False`` always removes it, so an earlier file of that name survives), and
  ``error`` holds one sentence such as
  ``"Cannot write video to /x/y.mp4: Permission denied."``. Only a path whose folder
  cannot be created, or bad arguments, raise ``RecorderError`` (a ValueError).
"""

from __future__ import annotations

import atexit
import glob
import math
import os
import queue
import threading
import time
import uuid
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pygame
from av.filter import Graph

from latent_odyssey.game.cliutil import STOP_SIGNALS, InputError, os_reason, stop_on_signals

H264_PRESET = "veryfast"  # default x264 speed/size trade-off ("superfast": ~2x faster)
BT709 = 1  # AVCOL_SPC/PRI/TRC_BT709: the colour matrix players assume for HD video
MPEG_RANGE = 1  # AVCOL_RANGE_MPEG: limited (16-235) range, what players expect
GIF_PALETTE_GEN = "stats_mode=single"  # one palette per frame (content changes a lot)
GIF_PALETTE_USE = "new=1"
FINALIZE_TIMEOUT_S = 30.0  # longest finalize_all() waits for one recorder's worker
BLOCKING_POLL_S = 0.1  # how often a blocked submit() re-checks that the worker lives
TIME_EPS_FRAMES = 1e-6  # tolerance (in frames) when comparing times to the frame grid
CONTAINER_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}


class RecorderError(InputError, ValueError):
    """A recorder cannot be made or used as asked; the message is one sentence."""


class _Stop:
    """Queue sentinel: ``(_STOP, newest submitted t)`` finishes the video."""


_STOP = _Stop()


class _OpenRecorders:
    """The started, not yet finalized recorders (for atexit and signal handlers).

    Plain dict operations only (atomic under the GIL), so it is safe to use from a
    signal handler that interrupted the main thread anywhere.
    """

    def __init__(self) -> None:
        self._recorders: dict[int, VideoRecorder] = {}

    def add(self, recorder: VideoRecorder) -> None:
        self._recorders[id(recorder)] = recorder

    def discard(self, recorder: VideoRecorder) -> None:
        self._recorders.pop(id(recorder), None)

    def snapshot(self) -> list[VideoRecorder]:
        return list(self._recorders.values())


_OPEN = _OpenRecorders()


def _reason(exc: BaseException) -> str:
    """The human part of an exception, without errno decorations or a final period."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return os_reason(exc)
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(reason).strip().rstrip(".")


def partial_name(path: Path, suffix: str | None = None) -> Path:
    """``dir/NAME.EXT`` -> ``dir/NAME.PID-XXXXXX.partial.EXT``: a temporary name no other
    process or recorder uses (``suffix`` replaces ``.EXT``)."""
    path = Path(path)
    ext = path.suffix if suffix is None else suffix
    stem = path.name[: -len(ext)] if ext and path.name.endswith(ext) else path.stem
    return path.with_name(f"{stem}.{os.getpid()}-{uuid.uuid4().hex[:6]}.partial{ext}")


class VideoRecorder:
    """Record numpy frames to ``path`` at a fixed ``fps`` on a worker thread.

    ``size`` is ``(W, H)`` of the frames that will be submitted. See the module
    docstring for the timing, queueing, atomic-write and error contracts.
    """

    def __init__(
        self,
        path: Path,
        size: tuple[int, int],
        fps: int = 30,
        gif: bool = False,
        queue_frames: int = 8,
        crf: int = 20,
        blocking: bool = False,
        preset: str = H264_PRESET,
        keep_on_error: bool = True,
    ) -> None:
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".gif" if gif else ".mp4")
        suffix = path.suffix.lower()
        if gif and suffix != ".gif":
            raise RecorderError(f"A GIF recording needs a .gif file name, not {path.name}.")
        if not gif and suffix not in CONTAINER_FORMATS:
            raise RecorderError(
                f"Video file {path.name} must end in one of "
                f"{', '.join(CONTAINER_FORMATS)} (or use gif=True with .gif)."
            )
        try:
            width, height = (int(v) for v in size)
        except (TypeError, ValueError):
            raise RecorderError(f"Video size must be (width, height), got {size!r}.") from None
        if width < 1 or height < 1:
            raise RecorderError(f"Video size must be positive, got {width}x{height}.")
        if not (isinstance(fps, int) and 1 <= fps <= 1000):
            raise RecorderError(f"Video fps must be an integer from 1 to 1000, got {fps!r}.")
        if not (isinstance(crf, int) and 0 <= crf <= 51):
            raise RecorderError(f"H.264 crf must be an integer from 0 to 51, got {crf!r}.")
        if not (isinstance(queue_frames, int) and queue_frames >= 1):
            raise RecorderError(f"queue_frames must be at least 1, got {queue_frames!r}.")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RecorderError(
                f"Cannot create the video folder {path.parent}: {_reason(exc)}."
            ) from None

        self.path = path  # final name
        self.partial_path = partial_name(path)
        self.keep_on_error = keep_on_error
        self._aborted = False
        self.size = (width, height)
        self.fps = fps
        self.gif = gif
        self.crf = crf
        self.preset = preset
        self.blocking = blocking
        self.queue_frames = queue_frames
        # yuv420p needs even dimensions: odd ones are padded by one edge-repeated row/col.
        self.video_size = (width, height) if gif else (width + width % 2, height + height % 2)

        # Hand-off with SimpleQueue only: its put() is reentrant (safe from a signal
        # handler that interrupted the main thread inside submit()). `_slots` holds one
        # token per free queue place; the worker returns a token per finished item.
        self._items: queue.SimpleQueue = queue.SimpleQueue()
        self._slots: queue.SimpleQueue = queue.SimpleQueue()
        for _ in range(queue_frames):
            self._slots.put(None)
        self._thread: threading.Thread | None = None
        self._container = None
        self._stream = None
        self._graph: tuple | None = None  # GIF palette: (graph, buffer source, sink)
        self._stop_sent = False
        self._last_t: float | None = None  # newest submitted time, dropped frames included
        self._finalized_path: Path | None = None
        # Written by one thread each: _dropped by the caller, the rest by the worker.
        self._dropped = 0
        self._frames_written = 0
        self._error: str | None = None

    # ----------------------------------------------------------------- properties
    @property
    def error(self) -> str | None:
        """One sentence describing why recording stopped, or None."""
        return self._error

    @property
    def dropped(self) -> int:
        """Submitted frames thrown away because the queue was full (non-blocking)."""
        return self._dropped

    @property
    def frames_written(self) -> int:
        """Frames handed to the encoder so far (duplicates included)."""
        return self._frames_written

    @property
    def elapsed(self) -> float:
        """Seconds of video written so far."""
        return self._frames_written / self.fps

    @property
    def recording(self) -> bool:
        """True between a successful start() and close(), while no error occurred."""
        return self._thread is not None and not self._stop_sent and self._error is None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> bool:
        """Open the partial file and start the worker.

        Returns False (and sets ``error``) when the file cannot be created; never raises
        for I/O problems. Calling it again is a no-op.
        """
        if self._thread is not None or self._stop_sent:
            return self._error is None
        try:
            with open(self.partial_path, "wb"):  # PyAV opens lazily: probe writability now
                pass
            self._open_container()
        except Exception as exc:  # av.FFmpegError, OSError, missing encoder...
            self._error = f"Cannot write video to {self.path}: {_reason(exc)}."
            self._close_container_quietly()
            self._remove_partial()
            self._stop_sent = True
            return False
        self._thread = threading.Thread(
            target=self._run, name=f"VideoRecorder({self.path.name})", daemon=True
        )
        self._thread.start()
        _OPEN.add(self)  # after start(): finalizers only ever join a running worker
        return True

    def submit(self, frame: np.ndarray, t: float) -> bool:
        """Queue ``frame`` (H, W, 3) uint8 RGB shown at game time ``t`` seconds.

        Returns True when queued, False when dropped (queue full, non-blocking mode) or
        when the recorder is stopped or failed. Blocks only in ``blocking`` mode.
        """
        if self._thread is None and not self._stop_sent:
            raise RecorderError("Call start() on the recorder before submit().")
        if self._stop_sent or self._error is not None:
            return False
        arr = np.asarray(frame)
        width, height = self.size
        if (
            arr.dtype != np.uint8
            or arr.ndim != 3
            or arr.shape[:2] != (height, width)
            or (arr.shape[2] not in (3, 4))
        ):
            raise RecorderError(
                f"Frame is {arr.dtype} {arr.shape} but this recorder takes uint8 "
                f"({height}, {width}, 3) RGB."
            )
        t = float(t)
        if not math.isfinite(t):
            raise RecorderError(f"Frame time must be a finite number of seconds, got {t}.")
        self._last_t = t if self._last_t is None else max(self._last_t, t)
        if not self._take_slot():
            return False
        self._items.put((np.array(arr[:, :, :3], order="C", copy=True), t))  # (H, W, 3)
        return True

    def _take_slot(self) -> bool:
        if not self.blocking:
            try:
                self._slots.get_nowait()
                return True
            except queue.Empty:
                self._dropped += 1
                return False
        while True:
            try:
                self._slots.get(timeout=BLOCKING_POLL_S)
                return True
            except queue.Empty:
                if self._stop_sent or self._error is not None or not self._thread.is_alive():
                    return False

    def close(self, timeout: float | None = None) -> Path | None:
        """Finish the video: encode queued frames, flush, close, rename to ``path``.

        Idempotent and safe to call from a signal handler. Returns the final path, or
        None when nothing playable was written (see ``error``) or ``timeout`` passed.
        """
        if not self._stop_sent:
            self._stop_sent = True
            if self._thread is not None:
                self._items.put((_STOP, self._last_t))
        if self._thread is not None and self._thread.ident is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return None
        _OPEN.discard(self)
        return self._finalized_path

    def abort(self, timeout: float | None = None) -> None:
        """Stop without a video: the partial file is removed and ``path`` left as it was."""
        self._aborted = True
        self.close(timeout)
        self._remove_partial()

    def __enter__(self) -> VideoRecorder:
        self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    # ------------------------------------------------------------ worker thread
    def _open_container(self) -> None:
        width, height = self.video_size
        rate = Fraction(self.fps, 1)
        if self.gif:
            self._container = av.open(str(self.partial_path), "w", format="gif")
            stream = self._container.add_stream("gif", rate=rate)
            stream.pix_fmt = "pal8"
            graph = Graph()
            src = graph.add_buffer(width=width, height=height, format="rgb24", time_base=1 / rate)
            split = graph.add("split")
            gen = graph.add("palettegen", GIF_PALETTE_GEN)
            use = graph.add("paletteuse", GIF_PALETTE_USE)
            sink = graph.add("buffersink")
            src.link_to(split)
            split.link_to(use, 0, 0)  # frames
            split.link_to(gen, 1, 0)
            gen.link_to(use, 0, 1)  # palette
            use.link_to(sink)
            graph.configure()
            self._graph = (graph, src, sink)  # keep graph alive: its filters point into it
        else:
            fmt = CONTAINER_FORMATS[self.path.suffix.lower()]
            self._container = av.open(str(self.partial_path), "w", format=fmt)
            stream = self._container.add_stream(
                "libx264", rate=rate, options={"preset": self.preset, "crf": str(self.crf)}
            )
            stream.pix_fmt = "yuv420p"
            cc = stream.codec_context  # tagged BT.709 so players decode the colours we encode
            cc.colorspace = cc.color_primaries = cc.color_trc = BT709
            cc.color_range = MPEG_RANGE
        stream.width, stream.height = width, height
        stream.codec_context.time_base = 1 / rate
        self._stream = stream

    def _run(self) -> None:
        """Worker: map game times onto the fixed frame grid, encode, finalize."""
        next_k = 0  # index of the next output frame
        t_first: float | None = None
        last: np.ndarray | None = None  # (H, W, 3) newest submitted frame
        try:
            while True:
                frame, t = self._items.get()
                if frame is _STOP:
                    t_end = t  # newest submitted time, even if that frame was dropped
                    break
                if self._error is None:
                    try:
                        if t_first is None:
                            t_first = t
                        rel_frames = (t - t_first) * self.fps  # this frame's time in frames
                        if last is not None:
                            # Frames strictly before this one's time show the previous frame.
                            next_k = self._emit(last, next_k, rel_frames - TIME_EPS_FRAMES)
                        last = frame
                    except Exception as exc:
                        self._fail(exc)
                self._slots.put(None)  # the queue place is free again
            if self._error is None and last is not None:
                try:
                    if t_end is not None:  # dropped frames at the end still take time
                        next_k = self._emit(
                            last, next_k, (t_end - t_first) * self.fps - TIME_EPS_FRAMES
                        )
                    self._emit(last, next_k, next_k + 0.5)  # the video ends on the last frame
                    self._flush()
                except Exception as exc:
                    self._fail(exc)
        finally:
            self._finalize()

    def _emit(self, frame: np.ndarray, k: int, until: float) -> int:
        """Encode ``frame`` as output frames k, k+1, ... while k < until; return next k."""
        av_frame = None
        while k < until:
            if av_frame is None:
                av_frame = self._to_av(frame)
            av_frame.pts = k
            self._encode(av_frame)
            k += 1
            self._frames_written += 1
        return k

    def _to_av(self, frame: np.ndarray) -> av.VideoFrame:
        width, height = self.video_size
        if frame.shape[:2] != (height, width):  # odd size: repeat the last row/column
            frame = np.pad(
                frame,
                ((0, height - frame.shape[0]), (0, width - frame.shape[1]), (0, 0)),
                mode="edge",
            )
        av_frame = av.VideoFrame.from_ndarray(frame, format="rgb24")
        if not self.gif:
            # converted once per run of duplicates, with the matrix the stream is tagged with
            av_frame = av_frame.reformat(format="yuv420p", dst_colorspace="itu709")
        av_frame.time_base = Fraction(1, self.fps)
        return av_frame

    def _encode(self, av_frame: av.VideoFrame | None) -> None:
        """Encode one frame (None flushes) and write its packets."""
        if self._graph is None:
            self._container.mux(self._stream.encode(av_frame))
            return
        _graph, src, sink = self._graph
        src.push(av_frame)
        while True:
            try:
                out = sink.pull()
            except (av.BlockingIOError, av.EOFError):
                break
            self._container.mux(self._stream.encode(out))
        if av_frame is None:
            self._container.mux(self._stream.encode(None))

    def _flush(self) -> None:
        if self._frames_written:
            self._encode(None)

    def _fail(self, exc: BaseException) -> None:
        if self._error is None:
            self._error = f"Cannot write video to {self.path}: {_reason(exc)}."

    def _finalize(self) -> None:
        """Close the container and move the partial file to its final name."""
        try:
            if self._frames_written == 0 or self._aborted or (self._error and not self.keep_on_error):
                self._close_container_quietly()
                self._remove_partial()
                return
            if self._error is not None:
                try:  # keep what was written playable if the container still closes
                    self._flush()
                except Exception:
                    pass
            try:
                self._container.close()
            except Exception as exc:
                self._fail(exc)
                self._remove_partial()
                return
            try:
                os.replace(self.partial_path, self.path)
            except OSError as exc:
                self._fail(exc)
                self._remove_partial()
                return
            self._finalized_path = self.path
        finally:
            self._container = self._stream = self._graph = None
            _OPEN.discard(self)

    def _close_container_quietly(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                pass

    def _remove_partial(self) -> None:
        try:
            self.partial_path.unlink()
        except OSError:
            pass


def finalize_all(timeout: float = FINALIZE_TIMEOUT_S) -> list[Path]:
    """Close every open recorder (from exception/signal handlers); return final paths."""
    done = []
    for recorder in _OPEN.snapshot():
        path = recorder.close(timeout=timeout)
        if path is not None:
            done.append(path)
    return done


atexit.register(finalize_all)


def install_signal_finalizers(signums: Iterable[int] | None = None) -> None:
    """On SIGTERM (and SIGHUP where it exists) finalize all recorders, exit 128+signal.

    The exit is ``cliutil.Stopped`` (a SystemExit: status 143 for SIGTERM), so ``finally``
    blocks (pygame.quit) still run and a command can say what it kept. Call from the main
    thread; it replaces any handler already installed.
    """
    stop_on_signals(finalize_all, STOP_SIGNALS if signums is None else signums)


def frame_array(surface: pygame.Surface) -> np.ndarray:
    """A pygame surface as (H, W, 3) uint8 RGB (one conversion; faster than surfarray)."""
    w, h = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGB"), np.uint8).reshape(h, w, 3)


def timestamped_path(folder: Path, prefix: str = "odyssey", ext: str = "mp4") -> Path:
    """``folder/PREFIX-YYYY-MM-DD_HH-MM-SS.EXT``, with ``-2``, ``-3``... if taken."""
    folder = Path(folder)
    ext = ext.lstrip(".")
    stem = f"{prefix}-{time.strftime('%Y-%m-%d_%H-%M-%S')}"
    candidate, n = folder / f"{stem}.{ext}", 1
    while candidate.exists() or any(folder.glob(f"{glob.escape(candidate.stem)}.*partial.{ext}")):
        n += 1
        candidate = folder / f"{stem}-{n}.{ext}"
    return candidate
