"""Drawing for live training (``odyssey --live RUN``): the LIVE badge and the waiting screen.

* :func:`draw_badge`: a two-line pill in the header row, left of the HUD readout (at the
  right edge when the HUD is hidden): a dot (green and pulsing while the run trains, grey
  when it has finished, red when it stopped or failed), ``LIVE epoch k/N`` and a word when
  the run is no longer training; below, the epoch's training loss and test -ELBO. Its rim
  lights up for ``FLASH_S`` when a new epoch arrives. It is drawn before the HUD, so
  recordings show it.
* :func:`draw_waiting`: the whole window while the first model file of the run is awaited:
  what is awaited, what ``status.json`` says, and how to start or leave.

Pure drawing: the state comes in as arguments (``engine.live`` and ``engine.waiting`` own it).
"""

from __future__ import annotations

import math

import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.hud import ui_scale
from latent_odyssey.game.model.live import LiveInfo

FLASH_S = 1.5  # the badge's rim glows this long after a new epoch arrives
PULSE_HZ = 0.8  # the training dot's pulse
READOUT_RESERVE_PX = 318  # room left at the right for the HUD readout (at UI scale 1)
BADGE_FONT_PX = 14
SMALL_FONT_PX = 12
LIVE_GREEN = (90, 220, 130)
STATE_COLOURS = {"training": LIVE_GREEN, "finished": ui.DIM, "stopped": ui.WARN, "failed": ui.WARN}
STATE_WORDS = {"finished": "training finished", "stopped": "training stopped", "failed": "training failed"}
SPINNER_DOTS = 10  # class-coloured dots circling on the waiting screen
SPINNER_HZ = 0.35


def badge_lines(info: LiveInfo | None, state: str | None) -> tuple[str, str]:
    """The badge's two lines: ``epoch 3/8`` (+ `` · training stopped`` etc.) and
    ``loss 152.3 · test −ELBO 150.1``."""
    head = "waiting for an epoch" if info is None else f"epoch {info.epoch}/{info.epochs}"
    if state in STATE_WORDS:
        head += f"  ·  {STATE_WORDS[state]}"
    body = "" if info is None else f"loss {info.train_loss:.1f}  ·  test −ELBO {info.test_neg_elbo:.1f}"
    return head, body


def draw_badge(surface: pygame.Surface, info: LiveInfo | None, state: str | None, since_arrival_s: float | None,
               t: float, show_hud: bool) -> pygame.Rect:
    """Draw the LIVE badge (see the module docstring); returns its rect. ``since_arrival_s``:
    seconds since the newest epoch arrived (None: none yet); ``t``: seconds, for the pulse."""
    k = ui_scale(surface)
    size = max(10, round(BADGE_FONT_PX * k))
    small = max(9, round(SMALL_FONT_PX * k))
    m = round(5 * k)
    right = surface.get_width() - round(16 * k) - (round(READOUT_RESERVE_PX * k) if show_hud else 0)
    colour = STATE_COLOURS.get(state or "", ui.DIM)
    head_text, body_text = badge_lines(info, state)
    live = ui.text_surface("LIVE", size, LIVE_GREEN if state == "training" else ui.FG, True)
    head = ui.text_surface(head_text, size, ui.FG if state in (None, "training") else colour)
    body = ui.text_surface(body_text, small, ui.DIM) if body_text else None
    dot_r = max(3, round(4 * k))
    gap = round(7 * k)
    line1_w = 2 * dot_r + gap + live.get_width() + gap + head.get_width()
    w = max(line1_w, body.get_width() if body else 0) + 2 * gap
    h = live.get_height() + (body.get_height() if body else 0) + round(6 * k)
    rect = pygame.Rect(0, 0, w, h)
    rect.topright = (right, m)
    glow = 0.0 if since_arrival_s is None else max(0.0, 1.0 - since_arrival_s / FLASH_S)
    ui.panel(surface, rect, alpha=225, color=(8, 10, 18), radius=10)
    pygame.draw.rect(surface, ui.mix((40, 46, 72), ui.ACCENT, glow), rect, width=2 if glow > 0 else 1, border_radius=10)
    if state == "training":
        pulse = 0.5 + 0.5 * math.cos(2 * math.pi * PULSE_HZ * t)
        colour = ui.mix(colour, (20, 60, 35), 0.6 * pulse)
    x, y = rect.left + gap, rect.top + round(3 * k)
    cy = y + live.get_height() // 2
    pygame.draw.circle(surface, colour, (x + dot_r, cy), dot_r)
    x += 2 * dot_r + gap
    surface.blit(live, (x, y))
    surface.blit(head, (x + live.get_width() + gap, y))
    if body is not None:
        surface.blit(body, (rect.left + gap, y + live.get_height()))
    return rect


def draw_waiting(surface: pygame.Surface, run_name: str, status_line: str, hint: str, problem: str | None,
                 t: float) -> None:
    """The waiting screen: "Waiting for the first epoch of RUN…", a spinner of class colours,
    the run's status in words, a hint, and the last refused file's sentence (``problem``)."""
    w, h = surface.get_size()
    k = ui_scale(surface)
    surface.blit(ui.backdrop((w, h), round(52 * k)), (0, 0))
    ui.text(surface, "LATENT ODYSSEY", (round(18 * k), round(26 * k)), size=max(10, round(20 * k)),
            color=ui.ACCENT, anchor="midleft", bold=True)
    ui.text(surface, "live training", (round(200 * k), round(26 * k)), size=max(10, round(20 * k)), anchor="midleft")
    cx, cy = w // 2, int(h * 0.40)
    radius = round(46 * k)
    head = SPINNER_HZ * t * SPINNER_DOTS  # the brightest dot goes round, the others trail it
    for i in range(SPINNER_DOTS):
        a = 2 * math.pi * i / SPINNER_DOTS - math.pi / 2
        fade = 1.0 - ((head - i) % SPINNER_DOTS) / SPINNER_DOTS
        pos = (cx + radius * math.cos(a), cy + radius * math.sin(a))
        pygame.draw.circle(surface, ui.mix(ui.BG, ui.class_colour(i), 0.2 + 0.8 * fade), pos,
                           max(3, round((4 + 4 * fade) * k)))
    dots = "." * (1 + int(t * 2) % 3)
    title = ui.fit_text(f"Waiting for the first epoch of {run_name}", max(10, round(26 * k)), w - round(80 * k), bold=True)
    y = cy + radius + round(40 * k)
    r = ui.text(surface, title, (cx, y), size=max(10, round(26 * k)), anchor="midtop", bold=True)
    ui.text(surface, dots, (r.right + 2, r.top), size=max(10, round(26 * k)), bold=True)
    y = r.bottom + round(18 * k)
    for line, colour in ((status_line, ui.FG), (problem, ui.WARN), (hint, ui.DIM)):
        if not line:
            continue
        size = max(10, round(17 * k))
        r = ui.text(surface, ui.fit_text(line, size, w - round(80 * k)), (cx, y), size=size, color=colour, anchor="midtop")
        y = r.bottom + round(10 * k)
    ui.text(surface, "Esc quits  ·  the game starts by itself when the first epoch's model is written",
            (cx, h - round(24 * k)), size=max(10, round(13 * k)), color=(110, 120, 150), anchor="midbottom")
