"""Scenes and the scene stack, plus the context every scene receives.

A scene is a mode (navigator, odyssey, faces) or an overlay (help, pause) with five methods:

* ``enter(ctx)``  when it becomes active (ctx holds model, input, settings; see GameContext)
* ``exit()``      when it leaves the stack
* ``handle(inp)`` once per frame, after the frame's events: read ``inp.pressed(action)``,
  ``inp.held(action)``, ``inp.axis(name)``; never ``pygame.K_*``
* ``update(dt)``  fixed-step simulation (dt in seconds, see ``engine.clock.FixedStep``)
* ``draw(surface)`` variable-rate drawing onto the whole window surface; it never changes
  the simulation's state

A mode is a :class:`ModeScene`, which adds the protocol the engine and the capture layer use
(and nothing else of a mode's): ``title``, ``fills_screen``, ``supports(meta)``,
``help_rows(inp)``, ``latent()``, ``snapshot()``, ``restore(state, dt)``, ``freeze()``,
``open_image(path)`` (a dropped file or ``--image``; the default says the mode cannot) and
``swap_model()`` (a new epoch of a live training run; the default restarts and restores).

Only the top scene handles input and updates; drawing starts at the highest opaque scene
and goes up, so overlays draw over the mode below them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pygame

from latent_odyssey.game.engine.audio import Audio
from latent_odyssey.game.engine.imaging import DEFAULT_LOOK, LOOK_NAMES, LOOKS, next_look
from latent_odyssey.game.engine.input import InputState
from latent_odyssey.game.model.decoder import Decoder
from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta, open_encoder, open_model
from latent_odyssey.game.model.posterior import EncodeError, Posterior, encode_file
from latent_odyssey.game.model.providers import provider_label


@dataclass
class ModelHandle:
    """An opened model: decoder session + metadata (+ encoder when shipped beside it)."""

    path: Path
    meta: ModelMeta
    decoder: Decoder
    encoder: object | None  # onnxruntime.InferenceSession or None
    provider: str  # "CPU" | "CUDA"


def open_handle(path: Path, provider: str) -> ModelHandle:
    """Open a decoder file (and its encoder when present) into a ModelHandle; a bad decoder
    raises ModelFileError (one sentence), a bad encoder is left out."""
    session, meta = open_model(Path(path), provider)
    try:
        encoder = open_encoder(Path(path), meta, provider)
    except ModelFileError:
        encoder = None  # the decoder alone is enough to play
    return ModelHandle(Path(path), meta, Decoder(session, meta), encoder, provider_label(session))


@dataclass
class GameContext:
    """What scenes may use. ``request_*`` callbacks are set by the engine."""

    model: ModelHandle
    input: InputState
    smooth: bool = True  # filtered (crisp or smooth) vs nearest scaling; follows image_look
    image_look: str = DEFAULT_LOOK  # crisp | nearest | smooth (engine.imaging.LOOKS)
    show_hud: bool = True
    time_s: float = 0.0  # simulation time, advanced by the engine
    seed: int | None = None  # for scenes' random generators (None: a fresh seed each run)
    notices: list[tuple[str, float]] = field(default_factory=list)  # (text, expiry time_s)
    request_mode: Callable[[str], None] = lambda name: None
    push_overlay: Callable[[Scene], None] = lambda scene: None
    audio: Audio | None = None  # the engine's sounds (None: silent, e.g. in tests)

    def notify(self, text: str, seconds: float = 3.0) -> None:
        """Show a short on-screen notice (toast). Toasts coalesce: one with the same text, or
        the same topic (the words before a colon, as in "Spacing: 0.31"), is replaced by the
        new one instead of stacking up."""
        topic = notice_topic(text)
        self.notices[:] = [(t, end) for t, end in self.notices
                           if t != text and (topic is None or notice_topic(t) != topic)]
        self.notices.append((text, self.time_s + seconds))

    def set_image_look(self, look: str) -> None:
        """Show decoded images ``look`` (crisp / nearest / smooth); ``smooth`` follows."""
        self.image_look = look if look in LOOKS else DEFAULT_LOOK
        self.smooth = self.image_look != "nearest"


NOTICE_TOPIC_MAX = 32  # characters before a colon that name a toast's topic


def notice_topic(text: str) -> str | None:
    """The topic of a toast: its words before the first colon (if short), else None."""
    head, sep, _ = text.partition(":")
    return head.strip().lower() if sep and 0 < len(head) <= NOTICE_TOPIC_MAX else None


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


class ModeScene(Scene, ABC):
    """A mode on the open model (Navigator, Odyssey, Face Studio): ``enter`` also sets
    ``self.meta`` (ModelMeta) and ``self.decoder`` (Decoder) from ``ctx.model``.

    The protocol every mode implements completely (the engine, flight logs, recording and
    replay call nothing else of a mode):

    * ``title``: the mode's name for people; ``fills_screen``: True when ``draw`` paints
      every pixel (the engine then skips clearing the window)
    * ``supports(meta)`` (class method): None when the mode can show the model, else one
      sentence saying why not
    * ``help_rows(inp)``: (what, keys, controller) rows for the help overlay
    * ``latent()``: the full latent (D,) on screen now, or None
    * ``snapshot()``: the state as a JSON-able dict; ``restore(state, dt)`` puts the scene
      exactly in such a state (values may be interpolated between two snapshots; ``dt`` is
      the replay time since the previous restore, for the mode's own animations)
    * ``freeze()``: stop background work (decode-ahead), so frames depend on time alone
    * ``start_experiment(name)``: start one of the Learn panel's experiments (``engine.learn``);
      False when the mode has no such experiment (the engine then ``restore``-s the
      experiment's state, if it has one)
    * ``open_image(path)``: the player dropped an image file (or passed ``--image``); a mode
      that can use it encodes it with ``encode_image`` (which already told the player, in
      one sentence, why a bad file cannot be used) and leaves everything else as it was
    * ``swap_model()``: ``ctx.model`` is a newer version of the same model (live training);
      the default restarts the scene and restores its snapshot
    """

    title: ClassVar[str] = "Mode"
    fills_screen: ClassVar[bool] = False

    def enter(self, ctx: GameContext) -> None:
        super().enter(ctx)
        self.meta = ctx.model.meta
        self.decoder = ctx.model.decoder

    @classmethod
    @abstractmethod
    def supports(cls, meta: ModelMeta) -> str | None:
        """None when this mode can show ``meta``, else one sentence saying why not."""

    @abstractmethod
    def help_rows(self, inp: InputState) -> list[tuple[str, str, str]]:
        """(what, keys, controller) rows for the help overlay, in the mode's wording."""

    @abstractmethod
    def latent(self) -> np.ndarray | None:
        """The full latent on screen now.  # (D,) float64, or None"""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """The state as a JSON-able dict (numbers, strings, booleans, lists, None)."""

    @abstractmethod
    def restore(self, state: dict[str, Any], dt: float = 0.0) -> None:
        """Put the scene in a ``snapshot()`` state; ``dt`` advances its own animations."""

    def freeze(self) -> None:  # noqa: B027 (a hook: most modes have no background work)
        """Stop background work so that frames depend on nothing but time."""

    def start_experiment(self, name: str) -> bool:
        """Start the Learn panel's experiment ``name``; False: this mode has none by that name."""
        return False

    def swap_model(self) -> None:
        """``ctx.model`` has just become a newer version of the model this scene shows (live
        training: the next epoch of the same run); carry on with it where the player is. The
        default starts the scene again on the new model and ``restore``-s its ``snapshot()``
        (the ship's pose, the sliders, ...); decode caches start empty with the new decoder. A
        mode with a smoother way overrides this (the Navigator glides its map)."""
        state = self.snapshot()
        self.exit()
        self.enter(self.ctx)
        self.restore(state)

    def open_image(self, path: Path) -> None:
        """A dropped image file: this mode cannot use one (modes that can override this)."""
        if self.ctx is not None:
            self.ctx.notify(f"The {self.title} cannot open images; the Navigator (F2) and the Face Studio (F4) can.", 4.0)

    def encode_image(self, path: Path) -> Posterior | None:
        """Read, preprocess and encode ``path`` with the model's encoder; on any problem show
        its one sentence as a notice and return None (nothing else changes)."""
        try:
            return encode_file(self.ctx.model.encoder, self.meta, path)
        except EncodeError as exc:
            self.ctx.notify(str(exc), 5.0)
            return None

    def view_settings(self) -> dict[str, bool | str]:
        """The context's display toggles, for ``snapshot()``."""
        if self.ctx is None:
            return {}
        return {"smooth": self.ctx.smooth, "image_look": self.ctx.image_look, "show_hud": self.ctx.show_hud}

    def restore_view_settings(self, state: Mapping[str, Any]) -> None:
        """Set the context's display toggles from a snapshot (others are ignored). A
        snapshot from before image looks had only ``smooth``: nearest when False."""
        if self.ctx is None:
            return
        if isinstance(state.get("show_hud"), bool):
            self.ctx.show_hud = state["show_hud"]
        if state.get("image_look") in LOOKS:
            self.ctx.set_image_look(state["image_look"])
        elif isinstance(state.get("smooth"), bool):
            self.ctx.set_image_look(self.ctx.image_look if state["smooth"] and self.ctx.smooth
                                    else DEFAULT_LOOK if state["smooth"] else "nearest")

    def toggle_smooth(self) -> None:
        """The ``smooth_toggle`` action: the next image look (crisp ink -> nearest pixels ->
        smooth bilinear -> crisp), with a notice."""
        ctx = self.ctx
        ctx.set_image_look(next_look(ctx.image_look))
        ctx.notify(f"Image look: {LOOK_NAMES[ctx.image_look]}")


def state_array(state: Mapping[str, Any], key: str, n: int | None = None) -> np.ndarray | None:
    """``state[key]`` as a finite float64 vector (of length ``n`` when given), else None."""
    value = state.get(key)
    if value is None:
        return None
    try:
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    if (n is not None and arr.size != n) or not np.all(np.isfinite(arr)):
        return None
    return arr


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
