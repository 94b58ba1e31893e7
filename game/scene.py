"""Scenes and the scene stack, plus the context every scene receives.

A scene is a mode (navigator, odyssey, faces) or an overlay (help, pause) with five methods:

* ``enter(ctx)``  when it becomes active (ctx holds model, input, settings; see GameContext)
* ``exit()``      when it leaves the stack
* ``handle(inp)`` once per frame, after the frame's events: read ``inp.pressed(action)``,
  ``inp.held(action)``, ``inp.axis(name)``; never ``pygame.K_*``
* ``update(dt)``  fixed-step simulation (dt in seconds, see ``game.flight.FixedStep``)
* ``draw(surface)`` variable-rate drawing onto the whole window surface

Only the top scene handles input and updates; drawing starts at the highest opaque scene
and goes up, so overlays draw over the mode below them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pygame

    from game.decoder import Decoder
    from game.input import InputState
    from game.modelfile import ModelMeta


@dataclass
class ModelHandle:
    """An opened model: decoder session + metadata (+ encoder when shipped beside it)."""

    path: Path
    meta: ModelMeta
    decoder: Decoder
    encoder: object | None  # onnxruntime.InferenceSession or None
    provider: str  # "CPU" | "CUDA"


@dataclass
class GameContext:
    """What scenes may use. ``request_*`` callbacks are set by the engine."""

    model: ModelHandle
    input: InputState
    smooth: bool = True  # smooth (bilinear) vs nearest scaling of decoded images
    show_hud: bool = True
    time_s: float = 0.0  # simulation time, advanced by the engine
    seed: int | None = None  # for scenes' random generators (None: a fresh seed each run)
    notices: list[tuple[str, float]] = field(default_factory=list)  # (text, expiry time_s)
    request_mode: Callable[[str], None] = lambda name: None
    push_overlay: Callable[[Scene], None] = lambda scene: None

    def notify(self, text: str, seconds: float = 3.0) -> None:
        """Show a short on-screen notice (toast)."""
        self.notices.append((text, self.time_s + seconds))


class Scene:
    """Base class with no-op hooks (see the module docstring for the contract)."""

    name = "scene"
    opaque = True  # False for overlays drawn over the scene below

    def __init__(self) -> None:
        self.ctx: GameContext | None = None
        self.done = False  # overlays set this to pop themselves

    def enter(self, ctx: GameContext) -> None:
        self.ctx = ctx

    def exit(self) -> None:
        pass

    def handle(self, inp: InputState) -> None:
        pass

    def update(self, dt: float) -> None:
        pass

    def draw(self, surface: pygame.Surface) -> None:
        pass


class ModeScene(Scene):
    """A mode on the open model (Navigator, Odyssey, Face Studio): ``enter`` also sets
    ``self.meta`` (ModelMeta) and ``self.decoder`` (Decoder) from ``ctx.model``."""

    def enter(self, ctx: GameContext) -> None:
        super().enter(ctx)
        self.meta = ctx.model.meta
        self.decoder = ctx.model.decoder

    def toggle_smooth(self) -> None:
        """The ``smooth_toggle`` action: smooth (bilinear) or crisp (nearest) scaling of
        decoded images, with a notice."""
        ctx = self.ctx
        ctx.smooth = not ctx.smooth
        ctx.notify("Smooth image scaling" if ctx.smooth else "Crisp (nearest) image scaling")


def worded_help_rows(
    inp: InputState,
    help_text: Iterable[tuple[str, str]],
    after: Mapping[str, Iterable[tuple[str, str, str]]] | None = None,
) -> list[tuple[str, str, str]]:
    """(what, keys, controller) help-overlay rows in a mode's own wording.

    One row per ``(action or axis name, what)`` of ``help_text`` that the controls know (the
    keys and buttons come from ``inp.bindings_text``), each followed by the rows
    ``after[name]`` (gestures such as mouse clicks that have no binding of their own).
    """
    known = set(inp.map.actions) | set(inp.map.axes)
    after = after or {}
    rows: list[tuple[str, str, str]] = []
    for name, what in help_text:
        if name not in known:
            continue
        _, keys, pad = inp.bindings_text([name])[0]
        rows.append((what, keys, pad))
        rows.extend(after.get(name, ()))
    return rows


class SceneStack:
    """A small stack: a mode at the bottom, overlays above it."""

    def __init__(self) -> None:
        self.scenes: list[Scene] = []

    @property
    def top(self) -> Scene | None:
        return self.scenes[-1] if self.scenes else None

    def push(self, scene: Scene, ctx: GameContext) -> None:
        self.scenes.append(scene)
        scene.enter(ctx)

    def pop(self) -> Scene | None:
        if not self.scenes:
            return None
        scene = self.scenes.pop()
        scene.exit()
        return scene

    def replace_all(self, scene: Scene, ctx: GameContext) -> None:
        while self.scenes:
            self.pop()
        self.push(scene, ctx)

    def prune(self) -> None:
        """Pop finished overlays."""
        while self.scenes and self.scenes[-1].done and len(self.scenes) > 1:
            self.pop()

    def draw(self, surface: pygame.Surface) -> None:
        start = 0
        for i, scene in enumerate(self.scenes):
            if scene.opaque:
                start = i
        for scene in self.scenes[start:]:
            scene.draw(surface)
