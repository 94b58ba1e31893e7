"""The Learn panel: what a VAE is, each idea tied to something on screen, and experiments a
key away. An overlay over the mode (the engine opens it with ``learn``, F5, or a long press
of the controller's Back, ``LONG_PRESS_S``).

Controls (overlay): ``attr_prev`` / ``attr_next`` (W/S, Up/Down, D-pad) choose a card;
``confirm`` (Enter / A) on an experiment starts it; ``class_1`` .. ``class_6`` (1-6) start an
experiment directly; ``cancel``, ``learn``, ``quit`` (Backspace / B, F5, Esc) close.

Cards (``CONCEPTS``): the VAE's architecture (with a diagram), the reparameterization trick,
KL divergence (with this model's per-dimension KL bars, :func:`draw_kl_bars`, from the model
file's ``metrics.kl_per_dim_nats``), β and its warm-up (from the file's ``training``),
linear vs spherical interpolation, semantic directions, dimensionality reduction. Each card
says where on screen to see it, in the words of the mode that is open.

``EXPERIMENTS``: a mode, the kind of model it needs, the experiment's name for the mode's
``start_experiment`` and a ``restore`` state for modes that have none. The engine runs them
(``GameContext.start_experiment``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pygame

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.input import InputState
from latent_odyssey.game.engine.scene import Scene
from latent_odyssey.game.model.modelfile import ModelMeta

LONG_PRESS_S = 0.6  # holding the controller's Back this long opens the Learn panel
DIM_ALPHA = 200  # darkening of the mode below (0..255)
PANEL_W_PX, PANEL_H_PX = 1200, 660  # at most; smaller windows get a scaled panel
KL_BAR_COLOUR = (196, 150, 255)
KL_HIGHLIGHT = (255, 196, 64)


# ----------------------------------------------------------------------------- KL bars


def kl_per_dim(meta: ModelMeta) -> list[float] | None:
    """The per-dimension KL (nats, test set) from the model file's metrics, or None."""
    kl = meta.metrics.get("kl_per_dim_nats")
    if not isinstance(kl, list) or len(kl) != meta.latent_dim:
        return None
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in kl):
        return None
    return [float(v) for v in kl]


def draw_kl_bars(surface: pygame.Surface, rect: pygame.Rect, kl: Sequence[float],
                 highlight: Sequence[int] = (), k: float = 1.0) -> None:
    """Bars of KL(q ‖ p) per latent dimension in ``rect``: labelled bars for up to 12 dims,
    a dense strip beyond (``highlight``: dims drawn in the accent colour, e.g. the shown ones)."""
    n = len(kl)
    if n == 0 or rect.width < 8 or rect.height < 8:
        return
    top = max(max(kl), 1e-6)
    size = max(10, round(13 * k))
    labelled = n <= 12
    label_h = size + 2 if labelled else 0
    bar_h = rect.height - label_h
    gap = 3 if labelled else (1 if rect.width / n >= 3 else 0)
    w = max(1.0, (rect.width - gap * (n - 1)) / n)
    for i, v in enumerate(kl):
        x = rect.left + i * (w + gap)
        h = max(1, round(bar_h * v / top))
        colour = KL_HIGHLIGHT if i in highlight else KL_BAR_COLOUR
        pygame.draw.rect(surface, colour, (round(x), rect.top + bar_h - h, max(1, round(w)), h))
        if labelled:
            text = f"z{i} {v:.1f}" if w >= 46 * k else f"{v:.1f}"
            ui.text(surface, ui.fit_text(text, size, max(8, round(w) + gap)), (round(x), rect.top + bar_h + 1),
                    size=size, color=colour)


# ----------------------------------------------------------------------------- content


@dataclass(frozen=True)
class Experiment:
    """Something to try, one key away: switch to ``mode`` (on a ``kind`` model when given)
    and call the mode's ``start_experiment(name)``, or ``restore(state)`` when it has none."""

    key: str  # "1".."6"
    title: str
    how: str  # one line: what happens, what to look at
    mode: str
    name: str
    kind: str | None = None  # "digits" | "faces" | None: any model the mode shows
    state: Mapping[str, object] = field(default_factory=dict)


EXPERIMENTS: tuple[Experiment, ...] = (
    Experiment("1", "Morph 3 to 8", "The cursor glides to the 3s, then drifts to the 8s: watch the loop close.",
               "navigator", "morph_3_8", "digits"),
    Experiment("2", "Boundary exploration", "Zoom in where 4 and 9 meet, decoded grid on: where does a 4 become a 9?",
               "navigator", "boundary", "digits"),
    Experiment("3", "Draw and sample", "The pad opens: draw a digit, watch its ellipse, press Z for new samples.",
               "navigator", "draw", "digits"),
    Experiment("4", "Holes in latent space", "Prior overlay on, cursor inside N(0, I) but off the data: what decodes there?",
               "navigator", "holes", "digits"),
    Experiment("5", "Smile from -3 to +3", "The smile slider sweeps from -3 to +3 while the rest of the face stays.",
               "faces", "smile", "faces"),
    Experiment("6", "Tunnel flight", "The tunnel on, the autopilot touring the class centres: T toggles the tunnel.",
               "odyssey", "tunnel", None,
               {"tunnel": True, "flight_mode": "autopilot", "tour_kind": "centroids", "tour_seed": 0}),
)


@dataclass(frozen=True)
class Concept:
    """One card: a title, a few short lines (may use the model), where to see it per mode."""

    title: str
    lines: Callable[[ModelMeta], list[str]]
    see: Mapping[str, str]  # mode name (or "*") -> where to see it on screen now
    figure: str = ""  # "architecture" | "kl" | ""


def _architecture(meta: ModelMeta) -> list[str]:
    c, h, w = meta.image_shape
    params = meta.training.get("parameters") or meta.metrics.get("parameters")
    size = f", {params / 1e6:.1f} M parameters" if isinstance(params, (int, float)) else ""
    return [
        "The encoder turns a picture into a Gaussian q(z | x) = N(μ, σ²): a cloud, not a point.",
        "The decoder turns any latent z back into a picture: every point of the map is one.",
        f"This model, {meta.name}: {c}×{h}×{w} pictures, a {meta.latent_dim}-D latent{size}.",
    ]


def _reparam(meta: ModelMeta) -> list[str]:
    return [
        "Training needs the gradient through a random draw z ~ N(μ, σ²). Written as",
        "z = μ + σ · ε  with  ε ~ N(0, I),  the chance sits in ε and the gradient flows",
        "to μ and σ (Kingma & Welling 2014). Each new ε is a new z from the same picture.",
    ]


def _kl(meta: ModelMeta) -> list[str]:
    kl = kl_per_dim(meta)
    total = f"{sum(kl):.2f} nats in all" if kl else "not in this model file"
    lines = [
        "The loss is reconstruction + KL(q(z | x) || N(0, I)): KL pulls every posterior",
        "toward the prior, so the latent space stays filled and smooth enough to sample.",
        f"{meta.name}'s KL per dimension on the test set ({total}):",
    ]
    if kl and min(kl) < 0.05 * max(kl):
        lines.append("Dimensions near 0 carry no information (posterior collapse).")
    return lines


def _beta(meta: ModelMeta) -> list[str]:
    t = meta.training
    beta, warm, epochs = t.get("beta_max"), t.get("warmup_epochs"), t.get("epochs_completed", t.get("epochs"))
    if isinstance(beta, (int, float)) and isinstance(warm, (int, float)):
        sched = f"{meta.name}: β rose linearly from 0 to {beta:g} over the first {warm:g} epochs"
        sched += f" of {epochs}." if isinstance(epochs, int) else "."
    else:
        sched = "This model file does not record its β schedule."
    return [
        "β weighs the KL term: loss = reconstruction + β · KL.",
        sched,
        "The warm-up lets the encoder spread the classes apart before KL pulls them in.",
        "β = 1 is the true ELBO; with 2-3 dims a larger β blurs pictures and merges classes.",
    ]


def _interp(meta: ModelMeta) -> list[str]:
    d = meta.latent_dim
    return [
        "Linear: z(t) = (1 - t)·a + t·b cuts across the middle, where the norm shrinks.",
        "Spherical (slerp) turns from a to b keeping the norm where N(0, I) keeps its mass:",
        f"in {d} dimensions prior samples lie near a shell of radius √{d} = {math.sqrt(d):.1f}.",
    ]


def _directions(meta: ModelMeta) -> list[str]:
    names = ", ".join(meta.attributes) if meta.attributes else "smile, age, gender, glasses (faces model)"
    lines = [
        "A direction in latent space can mean one thing: the mean code of faces that smile",
        "minus that of faces that do not. Moving z along it edits only that attribute.",
        f"Sliders here: {names}.",
    ]
    if meta.attribute_fields:
        lines += ["Here each slider's direction also turns with the face: an edit field",
                  "fitted on pairs of one face drawn with the attribute low and high."]
    return lines


def _reduction(meta: ModelMeta) -> list[str]:
    c, h, w = meta.image_shape
    n = c * h * w
    shown = "all of them" if meta.latent_dim == 2 else "2 of them (the widest-spread); the rest stay at their mean"
    return [
        f"{meta.latent_dim} numbers describe a {n}-pixel picture: {n / meta.latent_dim:.0f}x fewer.",
        "Pictures alike get codes near each other, so the map clusters by class",
        f"though no label was used in training. The map shows {shown}.",
    ]


CONCEPTS: tuple[Concept, ...] = (
    Concept("VAE architecture", _architecture, {
        "navigator": "E opens the drawing pad: draw, and see μ, σ and the decoded μ beside it.",
        "faces": "The face is the decoder's picture of the latent the sliders make.",
        "*": "F2, then E: draw a digit and see what the encoder makes of it."}, "architecture"),
    Concept("Reparameterization trick", _reparam, {
        "navigator": "Draw or drop a picture: the dots in its ellipse and the strip below are z = μ + σ·ε; Z redraws ε.",
        "*": "Experiment 3: the Navigator's pad, its samples and Z."}),
    Concept("KL divergence", _kl, {
        "navigator": "O overlays the prior's circles on the data's density, with these bars.",
        "*": "The Navigator's O overlay: the prior against the data."}, "kl"),
    Concept("β and its warm-up", _beta, {
        "*": "The map's well-separated clusters are what the warm-up buys."}),
    Concept("Linear vs spherical", _interp, {
        "navigator": "Space marks A, then B; I shows both paths on the map and both strips; L rides the other.",
        "faces": "The strip under the sliders shows both paths from A to B; L switches.",
        "*": "F2: Space marks A and B, I interpolates."}),
    Concept("Semantic directions", _directions, {
        "faces": "Each slider is one attribute's edit; Y shows every attribute from -3 to +3.",
        "*": "Experiment 5: the smile slider from -3 to +3 (Face Studio, F4)."}),
    Concept("Dimensionality reduction", _reduction, {
        "navigator": "The map itself: each dot is an encoded training picture, coloured by its class.",
        "odyssey": "The space you fly through is 3 of the latent dimensions; every billboard is one point.",
        "*": "F2: the map of the encoded training pictures."}),
)


def wrap(text: str, size: int, width: int, bold: bool = False) -> list[str]:
    """``text`` broken into lines that fit ``width`` pixels at ``size``."""
    f = ui.font(size, bold)
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and f.size(trial)[0] > width:
            lines.append(line)
            line = word
        else:
            line = trial
    if line:
        lines.append(line)
    return lines


# ----------------------------------------------------------------------------- the overlay


class LearnOverlay(Scene):
    """The Learn panel (see the module docstring). ``start(experiment)`` runs an experiment."""

    name = "learn"
    opaque = False

    def __init__(self, meta: ModelMeta, mode: str, start: Callable[[Experiment], None]) -> None:
        super().__init__()
        self.meta = meta
        self.mode = mode
        self.start = start
        self.items: list[Concept | Experiment] = [*CONCEPTS, *EXPERIMENTS]
        self.selected = 0
        self._cache: pygame.Surface | None = None
        self._cache_key: tuple | None = None

    @property
    def item(self) -> Concept | Experiment:
        return self.items[self.selected]

    def see_text(self, concept: Concept) -> str:
        """Where to see ``concept`` in the mode that is open."""
        return concept.see.get(self.mode) or concept.see.get("*", "")

    def handle(self, inp: InputState) -> None:
        def pressed(action: str) -> bool:
            return action in inp.map.actions and inp.pressed(action)

        n = len(self.items)
        if pressed("attr_next"):
            self.selected = (self.selected + 1) % n
        if pressed("attr_prev"):
            self.selected = (self.selected - 1) % n
        for exp in EXPERIMENTS:
            if pressed(f"class_{exp.key}"):
                self.launch(exp)
                return
        if pressed("confirm") and isinstance(self.item, Experiment):
            self.launch(self.item)
            return
        if pressed("cancel"):  # (learn and quit close it in the engine, like help)
            self.done = True

    def launch(self, exp: Experiment) -> None:
        """Close the panel and start ``exp``."""
        self.done = True
        self.start(exp)

    # ------------------------------------------------------------------ drawing

    def draw(self, surface: pygame.Surface) -> None:
        key = (surface.get_size(), self.selected)
        if self._cache is None or self._cache_key != key:
            self._cache, self._cache_key = self.render(surface.get_size()), key
        surface.blit(self._cache, (0, 0))

    def render(self, size: tuple[int, int]) -> pygame.Surface:
        w, h = size
        out = pygame.Surface(size, pygame.SRCALPHA)
        out.fill((4, 6, 12, DIM_ALPHA))
        k = max(0.6, min(1.4, w / 1280, h / 720))
        rect = pygame.Rect(0, 0, min(w - round(40 * k), round(PANEL_W_PX * k)), min(h - round(30 * k), round(PANEL_H_PX * k)))
        rect.center = (w // 2, h // 2)
        ui.panel(out, rect, alpha=245, radius=14)
        pygame.draw.rect(out, (*ui.ACCENT, 90), rect, width=1, border_radius=14)
        pad = round(22 * k)
        ui.text(out, "Learn", (rect.left + pad, rect.top + round(14 * k)), size=round(28 * k), color=ui.ACCENT, bold=True)
        ui.text(out, f"a Variational Autoencoder, seen through {self.meta.name}", (rect.left + pad + round(96 * k), rect.top + round(24 * k)),
                size=max(11, round(15 * k)), color=ui.DIM)
        list_w = round(300 * k)
        self._draw_list(out, pygame.Rect(rect.left + pad, rect.top + round(64 * k), list_w, rect.height - round(110 * k)), k)
        card = pygame.Rect(rect.left + pad + list_w + round(24 * k), rect.top + round(64 * k),
                           rect.width - list_w - 2 * pad - round(24 * k), rect.height - round(110 * k))
        ui.card(out, card, (26, 31, 50))
        inner = card.inflate(-round(36 * k), -round(30 * k))
        if isinstance(self.item, Experiment):
            self._draw_experiment(out, inner, self.item, k)
        else:
            self._draw_concept(out, inner, self.item, k)
        foot = "Up/Down or W/S choose  ·  Enter starts an experiment  ·  1-6 start one directly  ·  F5, Esc or B close"
        ui.text(out, ui.fit_text(foot, max(11, round(14 * k)), rect.width - 2 * pad), (rect.centerx, rect.bottom - round(14 * k)),
                size=max(11, round(14 * k)), color=ui.DIM, anchor="midbottom")
        return out

    def _draw_list(self, out: pygame.Surface, r: pygame.Rect, k: float) -> None:
        size = max(11, round(16 * k))
        row = round(size * 1.75)
        y = r.top
        head = max(10, round(12 * k))
        for i, item in enumerate(self.items):
            if i == 0 or i == len(CONCEPTS):
                title = "CONCEPTS" if i == 0 else "EXPERIMENTS TO TRY"
                if i:
                    y += round(10 * k)
                ui.text(out, title, (r.left, y), size=head, color=ui.DIM, bold=True)
                y += head + round(8 * k)
            sel = i == self.selected
            if sel:  # opaque: a translucent fill would punch through the panel to the mode below
                pygame.draw.rect(out, ui.mix(ui.PANEL, ui.ACCENT, 0.2), (r.left - 8, y - 4, r.width, row - 2), border_radius=6)
            label = item.title if isinstance(item, Concept) else f"{item.key}   {item.title}"
            ui.text(out, ui.fit_text(label, size, r.width - 16), (r.left, y), size=size, color=ui.ACCENT if sel else ui.FG, bold=sel)
            y += row

    def _paragraph(self, out: pygame.Surface, lines: list[str], x: int, y: int, width: int, size: int,
                   colour: tuple[int, int, int] = ui.FG) -> int:
        for line in lines:
            for part in wrap(line, size, width):
                ui.text(out, part, (x, y), size=size, color=colour)
                y += round(size * 1.45)
        return y

    def _draw_concept(self, out: pygame.Surface, r: pygame.Rect, c: Concept, k: float) -> None:
        ui.text(out, c.title, (r.left, r.top), size=round(28 * k), color=ui.FG, bold=True)
        y = r.top + round(52 * k)
        size = max(11, round(20 * k))
        if c.figure == "architecture":
            y = self._draw_architecture(out, pygame.Rect(r.left, y, r.width, round(92 * k)), k) + round(16 * k)
        y = self._paragraph(out, c.lines(self.meta), r.left, y, r.width, size)
        if c.figure == "kl":
            kl = kl_per_dim(self.meta)
            if kl:
                bars = pygame.Rect(r.left, y + round(6 * k), min(r.width, round(150 * k) * len(kl) if len(kl) <= 12 else r.width),
                                   round(96 * k))
                draw_kl_bars(out, bars, kl, k=k)
                y = bars.bottom + round(10 * k)
        see = self.see_text(c)
        box = pygame.Rect(r.left, min(y + round(24 * k), r.bottom - round(76 * k)), r.width, round(76 * k))
        pygame.draw.rect(out, (34, 40, 64), box, border_radius=8)
        ui.text(out, "ON SCREEN NOW", (box.left + round(14 * k), box.top + round(10 * k)), size=max(10, round(12 * k)), color=ui.ACCENT, bold=True)
        self._paragraph(out, [see], box.left + round(14 * k), box.top + round(32 * k), box.width - round(28 * k), max(11, round(18 * k)))

    def _draw_architecture(self, out: pygame.Surface, r: pygame.Rect, k: float) -> int:
        """x -> [encoder] -> μ, σ -> z = μ + σ·ε -> [decoder] -> x', as boxes and arrows."""
        c, h, w = self.meta.image_shape
        parts = [
            (f"x  {h}×{w}", (60, 68, 100), False), ("encoder", (80, 130, 220), True), ("μ, σ", (130, 255, 190), False),
            ("z = μ + σ·ε", (255, 196, 64), False), ("decoder", (220, 120, 90), True), ("x'", (60, 68, 100), False),
        ]
        size = max(11, round(16 * k))
        gap = round(26 * k)
        widths = [ui.font(size, True).size(t)[0] + round(24 * k) for t, _c, _b in parts]
        scale = min(1.0, (r.width - gap * (len(parts) - 1)) / sum(widths))
        x = r.left
        bh = round(46 * k)
        y = r.top + (r.height - bh) // 2
        for i, ((text, colour, net), bw) in enumerate(zip(parts, widths, strict=True)):
            bw = round(bw * scale)
            box = pygame.Rect(x, y - (round(8 * k) if net else 0), bw, bh + (round(16 * k) if net else 0))
            pygame.draw.rect(out, ui.mix(colour, (26, 31, 50), 0.7), box, border_radius=8)
            pygame.draw.rect(out, colour, box, width=2, border_radius=8)
            ui.text(out, ui.fit_text(text, size, bw - 6, bold=True), box.center, size=size, color=ui.FG, anchor="center", bold=True)
            if i < len(parts) - 1:
                ax = box.right + 4
                pygame.draw.line(out, ui.DIM, (ax, y + bh // 2), (ax + gap - 10, y + bh // 2), 2)
                pygame.draw.polygon(out, ui.DIM, [(ax + gap - 6, y + bh // 2), (ax + gap - 13, y + bh // 2 - 5), (ax + gap - 13, y + bh // 2 + 5)])
            x = box.right + gap
        return r.bottom

    def _draw_experiment(self, out: pygame.Surface, r: pygame.Rect, e: Experiment, k: float) -> None:
        ui.text(out, f"Experiment {e.key}", (r.left, r.top), size=max(11, round(14 * k)), color=ui.DIM, bold=True)
        ui.text(out, e.title, (r.left, r.top + round(22 * k)), size=round(26 * k), color=ui.FG, bold=True)
        y = self._paragraph(out, [e.how], r.left, r.top + round(72 * k), r.width, max(11, round(20 * k)))
        where = {"navigator": "the Navigator (F2)", "faces": "the Face Studio (F4)", "odyssey": "the Odyssey (F3)"}[e.mode]
        model = {"digits": " on a digits model", "faces": " on the faces model"}.get(e.kind or "", "")
        y = self._paragraph(out, [f"Runs in {where}{model}."], r.left, y + round(8 * k), r.width, max(11, round(16 * k)), ui.DIM)
        go = f"Enter or {e.key} starts it"
        label = ui.text_surface(go, max(11, round(20 * k)), ui.ACCENT, True)
        box = label.get_rect(topleft=(r.left, y + round(24 * k))).inflate(round(24 * k), round(14 * k))
        box.topleft = (r.left, y + round(20 * k))
        pygame.draw.rect(out, ui.mix((26, 31, 50), ui.ACCENT, 0.18), box, border_radius=8)
        pygame.draw.rect(out, ui.ACCENT, box, width=2, border_radius=8)
        out.blit(label, label.get_rect(center=box.center))

