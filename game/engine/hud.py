"""The HUD: frame rate, frame and decode time, provider; and on-screen notices (toasts).

The engine draws the HUD after the frame listeners (so recordings don't contain it):

* the readout, a small pill in the top-right corner (toggled with ``toggle_hud``, H):
  ``60 FPS | frame 2.1 ms | decode 0.4 ms | CPU``. FPS and frame time are averages over
  the last ``AVERAGE_FRAMES`` frames of wall time; "decode" is the latest onnxruntime run
  and reads "cached" when the last frame needed none.
* notices (``ctx.notify(text, seconds)``), always shown: one stack of the newest
  ``MAX_NOTICES`` at the bottom centre, fading out over their last ``FADE_S`` seconds. A
  repeat or a notice on the same topic replaces the older one (``GameContext.notify``);
  each is wrapped to at most two lines within ``NOTICE_WIDTH`` of the window, so the stack
  stays clear of the modes' corner panels.
"""

from __future__ import annotations

from collections import deque

import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.scene import GameContext

AVERAGE_FRAMES = 30  # frames averaged for the FPS / frame-time readout
MAX_NOTICES = 3  # toasts shown at once
NOTICE_WIDTH = 0.52  # a toast is at most this fraction of the window wide
NOTICE_LINES = 2  # ... and at most this many lines
FADE_S = 0.4  # seconds a notice takes to fade out
READOUT_FONT_PX = 14
NOTICE_FONT_PX = 17
MARGIN_PX = 10


class Hud:
    """Collects per-frame timings from the engine and draws the readout and the notices."""

    def __init__(self) -> None:
        self._intervals: deque[float] = deque(maxlen=AVERAGE_FRAMES)  # s between frames
        self._work: deque[float] = deque(maxlen=AVERAGE_FRAMES)  # s spent inside a frame
        self.decode_ms = 0.0  # latest onnxruntime run
        self.decoded_last_frame = False

    def record_frame(self, interval_s: float | None, work_s: float, decode_ms: float, decoded: bool) -> None:
        """Feed one frame: wall time since the previous frame started (None for the first),
        time spent in the frame, the decoder's latest run time and whether it ran."""
        if interval_s is not None and interval_s > 0.0:
            self._intervals.append(interval_s)
        self._work.append(max(0.0, work_s))
        self.decode_ms = decode_ms
        self.decoded_last_frame = decoded

    @property
    def fps(self) -> float:
        if not self._intervals:
            return 0.0
        return len(self._intervals) / sum(self._intervals)

    @property
    def frame_ms(self) -> float:
        return 1000.0 * sum(self._work) / len(self._work) if self._work else 0.0

    def readout_text(self, ctx: GameContext) -> str:
        decode = f"decode {self.decode_ms:.2f} ms" if self.decoded_last_frame else "decode cached"
        return f"{self.fps:.0f} FPS  |  frame {self.frame_ms:.1f} ms  |  {decode}  |  {ctx.model.provider}"

    def draw(self, surface: pygame.Surface, ctx: GameContext) -> None:
        """Readout (when ``ctx.show_hud``) and notices."""
        if ctx.show_hud:
            self._draw_readout(surface, ctx)
        self._draw_notices(surface, ctx)

    def _draw_readout(self, surface: pygame.Surface, ctx: GameContext) -> None:
        k = ui_scale(surface)
        label = ui.font(max(10, round(READOUT_FONT_PX * k))).render(self.readout_text(ctx), True, ui.DIM)
        m = round(MARGIN_PX * k)
        rect = label.get_rect(topright=(surface.get_width() - m - 6, m + 5))
        ui.panel(surface, rect.inflate(16, 8), alpha=215, color=(8, 10, 18), radius=10)
        surface.blit(label, rect)

    def _draw_notices(self, surface: pygame.Surface, ctx: GameContext) -> None:
        now = ctx.time_s
        ctx.notices[:] = [(t, end) for t, end in ctx.notices if end > now]
        shown = ctx.notices[-MAX_NOTICES:]
        k = ui_scale(surface)
        size = max(11, round(NOTICE_FONT_PX * k))
        y = surface.get_height() - round(2 * MARGIN_PX * k)
        width = max(160, int(NOTICE_WIDTH * surface.get_width()))
        for text, end in reversed(shown):
            fade = max(0.0, min(1.0, (end - now) / FADE_S))
            lines = wrap_text(text, size, width)
            labels = [ui.font(size).render(line, True, ui.FG) for line in lines]
            tw = max(lb.get_width() for lb in labels)
            th = sum(lb.get_height() for lb in labels)
            box = pygame.Rect(0, 0, tw + 28, th + 14)
            box.midbottom = (surface.get_width() // 2, y + 7)
            layer = pygame.Surface(box.size, pygame.SRCALPHA)
            pygame.draw.rect(layer, (*ui.PANEL, 235), layer.get_rect(), border_radius=12)
            pygame.draw.rect(layer, (*ui.ACCENT, 200), layer.get_rect(), width=1, border_radius=12)
            ly = 7
            for lb in labels:
                layer.blit(lb, lb.get_rect(midtop=(box.width // 2, ly)))
                ly += lb.get_height()
            if fade < 1.0:
                layer.set_alpha(int(255 * fade))
            surface.blit(layer, box)
            y = box.top - 8


def wrap_text(text: str, size: int, width: int, max_lines: int = NOTICE_LINES) -> list[str]:
    """``text`` in lines of at most ``width`` px at ``size`` (word wrap), at most
    ``max_lines`` of them, the last shortened with an ellipsis if the text goes on."""
    font = ui.font(size)
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if font.size(candidate)[0] <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    lines.append(line)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    return [ui.fit_text(ln, size, width) for ln in lines] or [""]


def ui_scale(surface: pygame.Surface) -> float:
    """UI scale for a window: 1 at 1280x720, within [0.72, 1.6]."""
    w, h = surface.get_size()
    return max(0.72, min(1.6, w / 1280, h / 720))
