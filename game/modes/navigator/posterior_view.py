"""Drawing the player's own picture in the Navigator: the posterior on the map, the drawing
pad, what the encoder sees, and the reparameterization strip. Reads the scene, writes nothing.

* On the map (``draw_on_map``): the 2σ and 1σ ellipses of q(z | x) (radii k·σ·scale px,
  ``encoded.ellipse_rect``), μ as a diamond, and the samples z = μ + σ·ε as numbered dots on
  rays from μ (they fly out from μ when ε is redrawn, so the sum μ + σ·ε is seen being made).
* A lens (``draw_lens``) in the map's lower right when the ellipses are too small to see at
  the map's zoom (a VAE's posterior is usually far narrower than the prior): the same
  drawing around μ, magnified so the 2σ ellipse fills about ``LENS_FILL`` of it, with the
  encoded training points nearby.
* The pad (``draw_pad``) in place of the decoded image, and beside it (``draw_pad_info``) the
  28 x 28 picture the encoder reads, the decoded μ, μ and σ of the shown dims.
* The strip (``draw_samples_strip``): the picture, the decoded μ and the decoded samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import numpy as np
import pygame

from latent_odyssey.game.engine import imaging, ui
from latent_odyssey.game.engine.learn import wrap
from latent_odyssey.game.engine.scene import GameContext
from latent_odyssey.game.model.modelfile import ModelMeta
from latent_odyssey.game.modes.navigator.encoded import SIGMAS, Encoded, ellipse_rect
from latent_odyssey.game.modes.navigator.layout import (
    Layout,
    MapGeometry,
    font_px,
    sample_strip_rects,
)
from latent_odyssey.game.modes.navigator.pad import DrawingPad

POSTERIOR_COLOUR = (130, 255, 190)  # μ, the ellipses and the samples
SAMPLE_COLOUR = (240, 250, 255)
HALO = (6, 8, 14)
FILL_ALPHA = (34, 52)  # the 2σ and the 1σ ellipse's fill
PAD_INK = (250, 250, 255)
ERASER_COLOUR = (255, 110, 100)
MIN_LABEL_RADIUS_PX = 46  # sample numbers are drawn once the 2σ ellipse is this wide
SURE_SIGMA, UNSURE_SIGMA = 0.15, 0.4  # mean σ below / above these: sure / unsure (the prior's σ is 1)
LENS_SIZE_PX = 200  # the lens's side at UI scale 1
LENS_BELOW_PX = 40  # the lens shows while the 2σ ellipse's larger radius is below this (UI scale 1)
LENS_FILL = 0.34  # the 2σ ellipse's larger radius as a fraction of the lens's side

Pill = Callable[[str, int, tuple[int, int, int], float], pygame.Surface]


class EncodedState(MapGeometry, Protocol):
    """What this painter reads of the Navigator scene."""

    ctx: GameContext
    meta: ModelMeta
    layout: Layout
    dims: tuple[int, int]
    t: float
    pad: DrawingPad
    pad_open: bool
    encoded: Encoded | None
    class_names: list[str]
    centroids: np.ndarray  # (K, D)
    points2: np.ndarray  # (M, 2) encoded training points, shown dims
    labels: np.ndarray  # (M,)
    position: np.ndarray  # (2,) the cursor, shown dims




def sigma_caption(sigma: np.ndarray) -> str:
    """One line on what σ says about the picture, against the prior's σ of 1."""
    s = float(np.mean(sigma))
    if s < SURE_SIGMA:
        return f"σ about {s:.2f}, tiny against the prior's 1: the encoder is sure, so the samples decode alike."
    if s < UNSURE_SIGMA:
        return f"σ about {s:.2f}: some doubt, so the samples differ a little."
    return f"σ about {s:.2f}: the encoder is unsure of this picture, so the samples differ."


class PosteriorPainter:
    """Draws an encoded picture and the pad (caches: the pad's surface, scaled thumbnails)."""

    def __init__(self) -> None:
        self._pad_surface: pygame.Surface | None = None
        self._pad_key: tuple | None = None
        self._thumbs: dict[tuple, pygame.Surface] = {}

    # ------------------------------------------------------------------ helpers

    def thumb(self, img: np.ndarray, size: tuple[int, int], look: str, meta: ModelMeta) -> pygame.Surface:
        """A (H, W, 3) uint8 image shown at ``size`` in the image ``look`` (``engine.imaging``;
        crisp, nearest or smooth), cached by the array's identity."""
        key = (id(img), size, look)
        s = self._thumbs.get(key)
        if s is None:
            s = imaging.enlarged(img, size, look, imaging.style_for(meta))
            if len(self._thumbs) > 64:
                self._thumbs.clear()
            self._thumbs[key] = s
        return s

    @staticmethod
    def source_rgb(e: Encoded) -> np.ndarray:
        """The encoder's input as a (H, W, 3) uint8 image."""
        img = np.clip(e.post.image, 0.0, 1.0)  # (C, H, W)
        u8 = (img.transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8)
        return np.repeat(u8, 3, axis=2) if u8.shape[2] == 1 else np.ascontiguousarray(u8)

    def _framed(self, surface: pygame.Surface, img: np.ndarray, rect: pygame.Rect, look: str, meta: ModelMeta,
                colour: tuple[int, int, int] = (60, 68, 100)) -> None:
        surface.blit(self.thumb(img, rect.size, look, meta), rect.topleft)
        pygame.draw.rect(surface, colour, rect.inflate(2, 2), width=1, border_radius=3)

    # ------------------------------------------------------------------ the map

    def draw_on_map(self, surface: pygame.Surface, scene: EncodedState) -> None:
        """The posterior's ellipses, μ and the samples (call with the map as the clip)."""
        e = scene.encoded
        if e is None:
            return
        ix = list(scene.dims)
        self.draw_posterior(surface, scene.map_rect, e, ix, scene.latent_to_screen, scene.scale, scene.t, scene.k)

    def draw_posterior(self, surface: pygame.Surface, r: pygame.Rect, e: Encoded, ix: list[int],
                       to_screen: Callable[[np.ndarray], tuple[float, float]], scale: float, t: float,
                       k: float) -> None:
        """Ellipses, samples and μ in the area ``r`` with the map transform ``to_screen``
        (latent (2,) of the dims ``ix`` -> pixel) at ``scale`` pixels per latent unit."""
        mu2, sigma2 = e.post.mu[ix], e.post.sigma[ix]
        centre = to_screen(mu2)
        area = ellipse_rect(centre, sigma2, scale, max(SIGMAS)).clip(r)  # the fills, on a layer this big
        if area.width and area.height:
            layer = pygame.Surface(area.size, pygame.SRCALPHA)
            offset = (centre[0] - area.left, centre[1] - area.top)
            for nsig, alpha in zip(sorted(SIGMAS, reverse=True), FILL_ALPHA, strict=True):
                pygame.draw.ellipse(layer, (*POSTERIOR_COLOUR, alpha), ellipse_rect(offset, sigma2, scale, nsig))
            surface.blit(layer, area.topleft)
        for nsig in SIGMAS:
            rect = ellipse_rect(centre, sigma2, scale, nsig)
            pygame.draw.ellipse(surface, HALO, rect.inflate(2, 2), width=4)
            pygame.draw.ellipse(surface, POSTERIOR_COLOUR, rect, width=2)
        big = ellipse_rect(centre, sigma2, scale, max(SIGMAS))
        for nsig in SIGMAS:
            rect = ellipse_rect(centre, sigma2, scale, nsig)
            if rect.height > 28 * k:  # the label sits on the ellipse, up and to the right
                at = (rect.centerx + 0.7071 * rect.width / 2 + 3, rect.centery - 0.7071 * rect.height / 2 - 1)
                ui.text(surface, f"{nsig:g}σ", (round(at[0]), round(at[1])), size=font_px(12, k),
                        color=POSTERIOR_COLOUR, anchor="bottomleft", bold=True)
        # the samples: rays from μ to μ + σ·ε (scaled by the fly-out)
        spread = e.spread(t)
        pts = mu2[None] + sigma2[None] * e.eps[:, ix] * spread  # (S, 2)
        cx, cy = int(round(centre[0])), int(round(centre[1]))
        label = big.width > 2 * MIN_LABEL_RADIUS_PX * k
        for i, p in enumerate(pts):
            x, y = to_screen(p)
            xi, yi = int(round(x)), int(round(y))
            pygame.draw.line(surface, ui.mix(POSTERIOR_COLOUR, (16, 19, 32), 0.55), (cx, cy), (xi, yi), 1)
            pygame.draw.circle(surface, HALO, (xi, yi), round(5 * k) + 1)
            pygame.draw.circle(surface, SAMPLE_COLOUR, (xi, yi), round(4 * k))
            if label and spread > 0.99:
                ui.text(surface, str(i + 1), (xi + round(6 * k), yi - round(6 * k)), size=font_px(11, k),
                        color=SAMPLE_COLOUR, anchor="bottomleft", bold=True)
        d = round(7 * k)
        diamond = [(cx, cy - d), (cx + d, cy), (cx, cy + d), (cx - d, cy)]
        pygame.draw.polygon(surface, HALO, [(x + (x > cx) - (x < cx), y + (y > cy) - (y < cy)) for x, y in diamond])
        pygame.draw.polygon(surface, POSTERIOR_COLOUR, diamond)
        ui.text(surface, "μ", (cx + d + 3, cy + 1), size=font_px(14, k), color=POSTERIOR_COLOUR, anchor="midleft", bold=True)

    def lens_rect(self, scene: EncodedState) -> pygame.Rect | None:
        """Where the lens goes (the map's lower right), or None when the ellipses are big
        enough to see on the map itself (or nothing is encoded)."""
        e = scene.encoded
        if e is None:
            return None
        big = max(SIGMAS) * float(e.post.sigma[list(scene.dims)].max()) * scene.scale
        if big >= LENS_BELOW_PX * scene.k:
            return None
        r, k = scene.map_rect, scene.k
        side = min(round(LENS_SIZE_PX * k), r.width // 3, r.height // 3)
        m = round(10 * k)
        return pygame.Rect(r.right - m - side, r.bottom - m - side, side, side)

    def draw_lens(self, surface: pygame.Surface, scene: EncodedState) -> None:
        """The magnified posterior (see the module docstring), with a line from μ to it."""
        rect = self.lens_rect(scene)
        if rect is None:
            return
        e, k = scene.encoded, scene.k
        ix = list(scene.dims)
        mu2 = e.post.mu[ix]
        lens_scale = LENS_FILL * rect.width / (max(SIGMAS) * float(e.post.sigma[ix].max()))  # px per unit
        factor = lens_scale / scene.scale

        def to_lens(p: np.ndarray) -> tuple[float, float]:
            return rect.centerx + (p[0] - mu2[0]) * lens_scale, rect.centery - (p[1] - mu2[1]) * lens_scale

        mx, my = scene.latent_to_screen(mu2)
        pygame.draw.line(surface, ui.mix(POSTERIOR_COLOUR, (16, 19, 32), 0.5), (round(mx), round(my)), rect.topleft, 1)
        clip = surface.get_clip()
        surface.set_clip(rect)
        surface.fill((10, 12, 22), rect)
        half = rect.width / (2 * lens_scale)  # latent units from the centre to the edge
        near = np.all(np.abs(scene.points2 - mu2[None]) < half * 1.1, axis=1)
        for p, lab in zip(scene.points2[near], scene.labels[near], strict=True):
            x, y = to_lens(p)
            pygame.draw.circle(surface, ui.class_colour(int(lab)), (round(x), round(y)), max(2, round(3 * k)))
        cur = scene.position
        if np.all(np.abs(cur - mu2) < half):
            x, y = to_lens(cur)
            pygame.draw.circle(surface, ui.ACCENT, (round(x), round(y)), round(9 * k), width=2)
        self.draw_posterior(surface, rect, e, ix, to_lens, lens_scale, scene.t, k)
        surface.set_clip(clip)
        pygame.draw.rect(surface, POSTERIOR_COLOUR, rect.inflate(2, 2), width=2, border_radius=4)
        ui.text(surface, f"POSTERIOR  ×{factor:.0f}", (rect.left + 6, rect.top + 4), size=font_px(11, k), color=POSTERIOR_COLOUR, bold=True)
        bar = 10 ** math.floor(math.log10(max(1e-9, 0.3 * rect.width / lens_scale)))  # a round length
        bx = rect.left + 8
        by = rect.bottom - 8
        pygame.draw.line(surface, ui.FG, (bx, by), (bx + round(bar * lens_scale), by), 2)
        ui.text(surface, f"{bar:g}", (bx + round(bar * lens_scale) + 4, by + 1), size=font_px(11, k), color=ui.FG, anchor="midleft")

    # ------------------------------------------------------------------ the pad

    def draw_pad(self, surface: pygame.Surface, scene: EncodedState) -> None:
        """The drawing pad in the decoded image's place."""
        rect = scene.layout.image
        pad, k = scene.pad, scene.k
        key = (pad.version, rect.size)
        if self._pad_surface is None or self._pad_key != key:
            grey = pad.picture()
            rgb = np.repeat(grey[..., None], 3, axis=2)
            self._pad_surface = pygame.transform.smoothscale(ui.image_surface(rgb), rect.size)
            self._pad_key = key
        surface.fill((0, 0, 0), rect)
        guide = (30, 34, 52)
        for f in (0.25, 0.5, 0.75):  # a faint guide grid
            x, y = rect.left + round(rect.width * f), rect.top + round(rect.height * f)
            pygame.draw.line(surface, guide, (x, rect.top), (x, rect.bottom - 1))
            pygame.draw.line(surface, guide, (rect.left, y), (rect.right - 1, y))
        surface.blit(self._pad_surface, rect.topleft, special_flags=pygame.BLEND_RGB_MAX)
        pygame.draw.rect(surface, ui.ACCENT, rect.inflate(4, 4), width=2, border_radius=4)
        size = font_px(13, k)
        ui.text(surface, "DRAWING PAD", (rect.left + round(8 * k), rect.top + round(6 * k)), size=size, color=ui.DIM, bold=True)
        tool = "eraser" if pad.eraser else "pen"
        ui.text(surface, tool, (rect.right - round(8 * k), rect.top + round(6 * k)), size=size,
                color=ERASER_COLOUR if pad.eraser else ui.ACCENT, anchor="topright", bold=True)
        if pad.empty:
            ui.text(surface, "draw a digit here", rect.center, size=font_px(20, k), color=(90, 100, 130), anchor="center")
        # the pen point: where the pointer is over the pad, else the keyboard / stick pen
        cell = rect.width / pad.cells
        pointer = scene.ctx.input.pointer
        if scene.ctx.input.last_device == "mouse" and pointer is not None and rect.collidepoint(pointer):
            pos = pointer
        else:
            pos = (rect.left + int(pad.pen[0] * cell), rect.top + int(pad.pen[1] * cell))
        colour = ERASER_COLOUR if pad.eraser else ui.ACCENT
        clip = surface.get_clip()
        surface.set_clip(rect)
        pygame.draw.circle(surface, colour, pos, max(3, round(pad.radius() * cell)), width=1)
        surface.set_clip(clip)

    def draw_pad_info(self, surface: pygame.Surface, scene: EncodedState) -> None:
        """Beside the pad: what the encoder reads, the decoded μ, and μ, σ of the shown dims."""
        r = scene.layout.info
        k = scene.k
        pad = round(12 * k)
        small = font_px(12, k)
        x, y = r.left + pad, r.top + round(12 * k)
        w = r.width - 2 * pad
        side = max(24, min((w - pad) // 2, round(96 * k)))
        e = scene.encoded
        ui.text(surface, "ENCODER SEES", (x, y), size=small, color=ui.DIM, bold=True)
        ui.text(surface, "DECODED μ", (x + side + pad, y), size=small, color=ui.DIM, bold=True)
        y += small + round(8 * k)
        a = pygame.Rect(x, y, side, side)
        b = pygame.Rect(x + side + pad, y, side, side)
        if e is not None and e.images is not None:
            self._framed(surface, self.source_rgb(e), a, "nearest", scene.meta)  # the encoder's pixels, as they are
            self._framed(surface, e.images[0], b, scene.ctx.image_look, scene.meta, POSTERIOR_COLOUR)
        else:
            for rect in (a, b):
                pygame.draw.rect(surface, (0, 0, 0), rect)
                pygame.draw.rect(surface, (60, 68, 100), rect.inflate(2, 2), width=1, border_radius=3)
        y = a.bottom + round(12 * k)
        big = font_px(16, k)
        if e is not None:
            ui.text(surface, "μ", (x + round(62 * k), y), size=small, color=ui.DIM, anchor="topright", bold=True)
            ui.text(surface, "σ", (x + w, y), size=small, color=ui.DIM, anchor="topright", bold=True)
            y += small + round(4 * k)
            for d in scene.dims:
                ui.text(surface, f"z{d}", (x, y), size=big, color=ui.DIM)
                ui.text(surface, f"{e.post.mu[d]:+.2f}", (x + round(62 * k) + round(14 * k), y), size=big, color=POSTERIOR_COLOUR, anchor="topright")
                ui.text(surface, f"{e.post.sigma[d]:.3f}", (x + w, y), size=big, color=ui.FG, anchor="topright")
                y += big + round(5 * k)
            near = e.post.nearest_class(scene.centroids)
            if near is not None:
                y += round(4 * k)
                text = ui.fit_text(f"nearest {scene.class_names[near[0]]}  ·  d {near[1]:.2f}", big, w)
                ui.text(surface, text, (x, y), size=big, color=ui.class_colour(near[0]))
        else:
            ui.text(surface, ui.fit_text("draw to encode", big, w), (x, y), size=big, color=ui.DIM)
        hints = ("E close  ·  C clear", "X eraser  ·  Z new ε", "Enter: glide to μ")
        for i, line in enumerate(reversed(hints)):
            ui.text(surface, ui.fit_text(line, small, w), (r.centerx, r.bottom - round(10 * k) - i * (small + round(5 * k))),
                    size=small, color=(110, 120, 150), anchor="midbottom")

    # ------------------------------------------------------------------ the strip

    def draw_samples_strip(self, surface: pygame.Surface, scene: EncodedState, pill: Pill) -> None:
        """The strip panel with an encoded picture: source, decoded μ, decoded samples."""
        e = scene.encoded
        r = scene.layout.strip
        k = scene.k
        pad = round(14 * k)
        small = font_px(13, k)
        ui.text(surface, "REPARAMETERIZATION TRICK", (r.left + pad, r.top + round(12 * k)), size=small, color=ui.DIM, bold=True)
        formula = pill("z = μ + σ · ε,   ε ~ N(0, I)", font_px(14, k), POSTERIOR_COLOUR, k)
        surface.blit(formula, formula.get_rect(topright=(r.right - pad, r.top + round(6 * k))))
        rects = sample_strip_rects(r, k, len(e.eps))
        lab = font_px(11, k)
        lift = round(4 * k)
        name = ui.fit_text(e.post.label.upper(), lab, rects.source.width + round(20 * k))
        ui.text(surface, name, (rects.source.left, rects.source.top - lift), size=lab, color=ui.DIM, anchor="bottomleft", bold=True)
        ui.text(surface, "DECODED μ", (rects.mean.left, rects.mean.top - lift), size=lab, color=ui.DIM, anchor="bottomleft", bold=True)
        self._framed(surface, self.source_rgb(e), rects.source, "nearest", scene.meta)
        arrow_y = rects.source.centery
        pygame.draw.line(surface, ui.DIM, (rects.source.right + 5, arrow_y), (rects.mean.left - 7, arrow_y), 2)
        pygame.draw.polygon(surface, ui.DIM, [(rects.mean.left - 4, arrow_y), (rects.mean.left - 10, arrow_y - 5), (rects.mean.left - 10, arrow_y + 5)])
        if e.images is None:
            return
        look = scene.ctx.image_look
        self._framed(surface, e.images[0], rects.mean, look, scene.meta, POSTERIOR_COLOUR)
        first = rects.samples[0]
        ui.text(surface, "SAMPLES  z = μ + σ·ε  (the dots on the map)", (first.left, first.top - lift), size=lab,
                color=ui.DIM, anchor="bottomleft", bold=True)
        for i, rect in enumerate(rects.samples):
            self._framed(surface, e.images[1 + i], rect, look, scene.meta)
            ui.text(surface, str(i + 1), (rect.left + 3, rect.top + 2), size=font_px(11, k), color=SAMPLE_COLOUR, bold=True)
        mu_txt = ", ".join(f"{v:+.2f}" for v in e.post.mu[list(scene.dims)])
        sg_txt = ", ".join(f"{v:.2f}" for v in e.post.sigma[list(scene.dims)])
        dims = ", ".join(f"z{d}" for d in scene.dims)
        info = ui.fit_text(f"({dims}):  μ ({mu_txt})   σ ({sg_txt})", small, rects.mean.right - rects.source.left + round(20 * k))
        ui.text(surface, info, (rects.source.left, rects.source.bottom + round(10 * k)), size=small, color=ui.FG)
        width = rects.samples[0].left - rects.source.left - round(12 * k)
        y = rects.source.bottom + round(16 * k) + small
        for line in wrap(sigma_caption(e.post.sigma), small, width)[:2]:
            ui.text(surface, line, (rects.source.left, y), size=small, color=ui.DIM)
            y += small + round(5 * k)
        hint = ui.fit_text("Z draws new ε  ·  Enter glides to μ  ·  O shows the prior  ·  I interpolates", font_px(12, k), r.width - 2 * pad)
        ui.text(surface, hint, (r.centerx, r.bottom - round(10 * k)), size=font_px(12, k), color=ui.DIM, anchor="midbottom")
