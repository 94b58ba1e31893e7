"""In-game recording: the ``record`` action (F9 / left-stick click) starts and stops a video.

Contract
--------
* Start: a new ``odyssey-YYYY-MM-DD_HH-MM-SS.mp4`` in the captures folder
  (``$ODYSSEY_CAPTURES``, default ``./captures``; ``encoder.timestamped_path``), H.264 at a
  fixed ``LIVE_FPS`` whatever the game's frame rate (the recorder repeats or skips frames by
  their game time), at the window's size when recording started (a later resize or
  fullscreen is letterboxed into that size). Beside it, ``NAME.flight.jsonl``: one line per
  video frame with the model, mode, full latent and the scene's state (``capture.flightlog``),
  which ``odyssey replay`` re-renders at any size.
* Capture: a frame listener (runs after the scenes are drawn and before the HUD), so the
  video has the scene and its overlays but never the HUD, notices or the REC indicator. A
  frame is captured only when it is the first in a new 1/``LIVE_FPS`` slot (at 60 FPS every
  second frame), as one ``pygame.image.tobytes`` (H, W, 3) copy; encoding runs on the
  recorder's worker thread (libx264 ``LIVE_PRESET``). If the encoder falls behind, frames are
  dropped, never waited for: the game keeps its frame rate and the video keeps real time.
* REC indicator: a blinking red dot and the elapsed time at the top centre of the screen,
  drawn after the HUD (``Engine.overlay_drawers``), so it is on screen but not in the video.
* Stop (``record`` again): the video is finalized on a background thread (no hitch), then a
  notice says ``Recording saved: PATH``. Quit, window close, Ctrl-C and exceptions all go
  through ``Engine.shutdown()``, whose hooks (added here) call :meth:`RecordingController.stop`
  with ``wait=True``, then ``encoder.finalize_all()``; SIGTERM/SIGHUP finalize through
  ``recorder.install_signal_finalizers()`` (installed by ``odyssey play``).
* Errors (unwritable folder, disk full): a notice with the recorder's one sentence, recording
  stops, the game goes on.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import pygame

from latent_odyssey.game import paths
from latent_odyssey.game.capture import flightlog
from latent_odyssey.game.capture.encoder import (
    RecorderError,
    VideoRecorder,
    finalize_all,
    frame_array,
    timestamped_path,
)
from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.app import Engine

LIVE_FPS = 30  # video frames per second
LIVE_PRESET = "superfast"  # x264 preset: "veryfast" cannot keep up with 720p30 on 2 cores
LIVE_CRF = 20
LIVE_QUEUE_FRAMES = 8  # frames buffered for the encoder before frames are dropped
FILE_PREFIX = "odyssey"
SAVED_NOTICE_S = 5.0
ERROR_NOTICE_S = 6.0
BLINK_PERIOD_S = 1.0  # the red dot is on for the first half of every period
INDICATOR_FONT_PX = 17
INDICATOR_TOP_PX = 10
DOT_RADIUS_PX = 7
REC_RED = (235, 40, 40)
SAVING_COLOUR = (255, 196, 64)
PANEL_COLOUR = (10, 12, 20)
FINALIZE_TIMEOUT_S = 30.0  # longest stop(wait=True) waits for one video to be finalized


def elapsed_text(seconds: float) -> str:
    """``75.4`` -> ``"01:15"``; an hour or more -> ``"1:02:03"``."""
    s = max(0, int(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class _Take:
    """One recording in progress: the video recorder, its flight log and the frame slots."""

    def __init__(self, recorder: Any, log: flightlog.FlightLogWriter | None, fps: int) -> None:
        self.recorder = recorder
        self.log = log
        self.fps = fps
        self.t0: float | None = None  # game time of the first captured frame
        self.last_slot = -1
        self.frames = 0
        self.scaled: pygame.Surface | None = None  # letterbox target after a resize


class RecordingController:
    """The ``record`` toggle, the frame listener and the REC indicator for one Engine.

    ``folder`` defaults to ``paths.captures_dir()`` at each start.
    """

    def __init__(self, engine: Engine, folder: Path | None = None, fps: int = LIVE_FPS,
                 preset: str = LIVE_PRESET) -> None:
        self.engine = engine
        self.folder = folder
        self.fps = fps
        self.preset = preset
        self.take: _Take | None = None
        self.last_path: Path | None = None  # the latest finalized video
        self.last_log: Path | None = None  # and its flight log
        self.last_error: str | None = None
        self._closing: list[tuple[threading.Thread, dict]] = []
        self._text_cache: dict[str, pygame.Surface] = {}
        engine.global_handlers["record"] = self.toggle
        engine.overlay_drawers.append(self.draw_indicator)
        engine.shutdown_hooks.append(lambda: self.stop(wait=True))
        engine.shutdown_hooks.append(finalize_all)  # any other video still open

    # ------------------------------------------------------------------ state

    @property
    def recording(self) -> bool:
        return self.take is not None

    @property
    def elapsed(self) -> float:
        """Seconds of game time recorded so far (0 when not recording)."""
        take = self.take
        if take is None or take.t0 is None:
            return 0.0
        return max(0.0, self.engine.ctx.time_s - take.t0)

    @property
    def saving(self) -> bool:
        """True while a stopped recording is still being finalized."""
        return any(thread.is_alive() for thread, _ in self._closing)

    def _notify(self, text: str, seconds: float) -> None:
        self.engine.ctx.notify(text, seconds)

    # ------------------------------------------------------------------ start / stop

    def toggle(self) -> None:
        """The ``record`` action."""
        if self.take is None:
            self.start()
        else:
            self.stop()

    def start(self) -> bool:
        """Start recording the window; False (with a notice) when it cannot."""
        if self.take is not None:
            return True
        folder = self.folder if self.folder is not None else paths.captures_dir()
        size = self.engine.surface.get_size()
        try:
            path = timestamped_path(folder, FILE_PREFIX, "mp4")
            recorder = VideoRecorder(path, size, fps=self.fps, crf=LIVE_CRF, preset=self.preset,
                                     queue_frames=LIVE_QUEUE_FRAMES, blocking=False)
        except (RecorderError, OSError) as exc:
            return self._failed(str(exc) if isinstance(exc, RecorderError) else
                                f"Cannot record in {folder}: {exc.strerror or exc}.")
        if not recorder.start():
            return self._failed(recorder.error or f"Cannot write video to {path}.")
        log = None
        log_path = flightlog.log_path_for(recorder.path)
        ctx = self.engine.ctx
        try:
            log = flightlog.FlightLogWriter(log_path, {
                "model": ctx.model.meta.name, "model_path": str(ctx.model.path),
                "latent_dim": ctx.model.meta.latent_dim, "mode": self.engine.mode_name,
                "size": list(size), "fps": self.fps, "video": recorder.path.name, "seed": ctx.seed,
            })
        except OSError as exc:
            self._notify(f"Recording without a flight log: cannot write {log_path} ({exc.strerror or exc}).",
                         ERROR_NOTICE_S)
        self.take = _Take(recorder, log, self.fps)
        self.engine.frame_listeners.append(self.on_frame)
        self.last_error = None
        self._notify(f"Recording to {recorder.path}", 3.0)
        return True

    def _failed(self, error: str) -> bool:
        self.last_error = error
        self._notify(error, ERROR_NOTICE_S)
        return False

    def stop(self, wait: bool = False, timeout: float = FINALIZE_TIMEOUT_S) -> None:
        """Stop recording; finalize in the background (``wait=True``: now, and every
        earlier recording still being finalized too, waiting at most ``timeout`` s each)."""
        take = self.take
        if take is not None:
            self.take = None
            try:
                self.engine.frame_listeners.remove(self.on_frame)
            except ValueError:
                pass
            result: dict = {}
            thread = threading.Thread(target=self._finalize, args=(take, result),
                                      name="recording-finalize", daemon=True)
            self._closing.append((thread, result))
            thread.start()
        if wait:
            self.wait(timeout)

    @staticmethod
    def _finalize(take: _Take, result: dict) -> None:
        path = take.recorder.close()
        result["path"] = path
        result["error"] = take.recorder.error
        if take.log is not None:
            result["log"] = take.log.close(keep=path is not None)
            result["log_error"] = take.log.error

    def poll(self) -> None:
        """Report recordings whose finalizing has finished (called every frame)."""
        still: list[tuple[threading.Thread, dict]] = []
        for thread, result in self._closing:
            if thread.is_alive():
                still.append((thread, result))
                continue
            path, error = result.get("path"), result.get("error")
            if path is not None:
                self.last_path, self.last_log = path, result.get("log")
            if error:
                self.last_error = error
                self._notify(error if path is None else f"{error} Saved what was recorded: {path}", ERROR_NOTICE_S)
            elif path is not None:
                self._notify(f"Recording saved: {path}", SAVED_NOTICE_S)
            else:
                self._notify("Nothing was recorded.", 3.0)
            if result.get("log_error"):
                self._notify(result["log_error"], ERROR_NOTICE_S)
        self._closing = still

    def wait(self, timeout: float | None = None) -> bool:
        """Block until stopped recordings are finalized; True when none is left."""
        for thread, _ in list(self._closing):
            thread.join(timeout)
        self.poll()
        return not self._closing

    # ------------------------------------------------------------------ every frame

    def on_frame(self, surface: pygame.Surface, t: float) -> None:
        """Frame listener: capture this frame if it opens a new video frame slot."""
        take = self.take
        if take is None:
            return
        rec = take.recorder
        if rec.error is not None:
            self.stop()
            return
        if take.t0 is None:
            take.t0 = t
        rel = t - take.t0
        slot = math.floor(rel * take.fps + 0.5)
        if slot <= take.last_slot:
            return
        take.last_slot = slot
        rec.submit(frame_array(self._fit(take, surface)), t)  # (H, W, 3); dropped if behind
        take.frames += 1
        if take.log is not None and take.log.error is None:
            try:
                take.log.write(flightlog.engine_line(self.engine, rel))
            except Exception as exc:  # a scene's snapshot() must not stop the game
                take.log.error = f"The flight log stopped: {type(exc).__name__}: {exc}."
                self._notify(take.log.error, ERROR_NOTICE_S)
        if rec.error is not None:
            self.stop()

    @staticmethod
    def _fit(take: _Take, surface: pygame.Surface) -> pygame.Surface:
        """The surface at the recording's size (letterboxed when the window changed size)."""
        size = take.recorder.size
        if surface.get_size() == size:
            return surface
        if take.scaled is None or take.scaled.get_size() != size:
            take.scaled = pygame.Surface(size)
        w, h = surface.get_size()
        scale = min(size[0] / w, size[1] / h)
        fit = (max(1, round(w * scale)), max(1, round(h * scale)))
        take.scaled.fill((0, 0, 0))
        scaled = pygame.transform.smoothscale(surface, fit)
        take.scaled.blit(scaled, ((size[0] - fit[0]) // 2, (size[1] - fit[1]) // 2))
        return take.scaled

    def indicator_rect(self, surface: pygame.Surface) -> pygame.Rect | None:
        """Where the REC / saving indicator is drawn now (None when nothing is shown)."""
        label = self._label()
        if label is None:
            return None
        img = self._text(label)
        w = img.get_width() + 2 * DOT_RADIUS_PX + 30
        h = max(img.get_height(), 2 * DOT_RADIUS_PX) + 12
        return pygame.Rect(surface.get_width() // 2 - w // 2, INDICATOR_TOP_PX, w, h)

    def _label(self) -> str | None:
        if self.take is not None:
            return f"REC  {elapsed_text(self.elapsed)}"
        if self.saving:
            return "Saving video..."
        return None

    def _text(self, label: str) -> pygame.Surface:
        img = self._text_cache.get(label)
        if img is None:
            if len(self._text_cache) > 64:
                self._text_cache.clear()
            img = ui.font(INDICATOR_FONT_PX, True).render(label, True, ui.FG)
            self._text_cache[label] = img
        return img

    def draw_indicator(self, surface: pygame.Surface, t: float) -> None:
        """Overlay drawer (after the HUD): the blinking REC dot and elapsed time."""
        self.poll()
        rect = self.indicator_rect(surface)
        if rect is None:
            return
        ui.panel(surface, rect, alpha=210, color=PANEL_COLOUR, radius=rect.height // 2)
        centre = (rect.x + 10 + DOT_RADIUS_PX, rect.centery)
        if self.take is not None:
            if (self.elapsed % BLINK_PERIOD_S) < 0.5 * BLINK_PERIOD_S:
                pygame.draw.circle(surface, REC_RED, centre, DOT_RADIUS_PX)
            else:
                pygame.draw.circle(surface, REC_RED, centre, DOT_RADIUS_PX, width=1)
        else:
            pygame.draw.circle(surface, SAVING_COLOUR, centre, DOT_RADIUS_PX, width=2)
        img = self._text(self._label() or "")
        surface.blit(img, img.get_rect(midleft=(centre[0] + DOT_RADIUS_PX + 8, rect.centery)))
