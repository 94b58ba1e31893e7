"""The engine: window, frame loop, scene stack, global actions, mode and model switching.

Global actions (every mode; see assets/controls.toml):

* ``quit`` (Esc) closes the top overlay, else quits; closing the window quits.
* ``help`` (F1 / Back) shows the bindings in force; ``pause`` (P / Start) freezes the mode.
* ``fullscreen`` (F11), ``screenshot`` (F12: a PNG in ``$ODYSSEY_CAPTURES``, default
  ``./captures``), ``toggle_hud`` (H: FPS, frame and decode time, provider).
* ``mode_navigator`` / ``mode_odyssey`` / ``mode_faces`` (F2 / F3 / F4) and ``next_model``
  (M: cycles the decoders in ``pretrained/`` and ``$ODYSSEY_MODELS`` that the current mode
  can show; it never leaves the mode).
* ``mute`` (F8): sound off / on (``engine.audio``; ``mute=True`` starts silent and never
  opens the mixer).
* ``learn`` (F5, or holding the controller's Back for ``learn.LONG_PRESS_S``): the Learn
  panel (``engine.learn``), whose experiments the engine starts (``start_experiment``).
* An image file dropped on the window (SDL ``DROPFILE``) goes to the mode's
  ``open_image(path)`` (``open_image`` does the same for ``odyssey play --image``).

Modes remember where they were: leaving a mode (F2/F3/F4 or M) keeps its ``snapshot()`` per
(mode, model), and coming back to that mode on that model ``restore``s it (display settings
such as the image look stay as the player has them now), so Face Studio slots, a flight or
a Navigator position survive a trip to another mode.

Frame contract (``loop_once``): events -> ``input.begin_frame`` + ``process_event`` ->
global actions -> ``frame_hooks`` -> top scene ``handle`` -> fixed-step ``update`` (``FIXED_DT_S``) ->
scene ``draw`` -> ``frame_listeners(surface, time_s)`` -> HUD -> flip. Pass ``dt`` to step
the simulation by a known amount without sleeping (tests, benchmarks, ``--headless``).

The engine knows no mode: the modes it offers are passed in as ``{name: ModeScene class}``
(the game passes ``modes.registry.MODES``). A mode class is constructed with no arguments and
then ``enter(ctx)``; the engine calls only the scene protocol (``engine.scene.ModeScene``):
``supports(meta)``, ``help_rows(inp)``, ``title``, ``fills_screen``.

``swap_model(handle)`` puts a newer version of the model on screen (live training,
``engine.live``) without restarting: the mode's ``swap_model`` carries on with it.

Hooks for the layers above (capture, live reload): ``frame_hooks`` run every frame after the
global actions and before the scene's ``handle``; ``frame_listeners`` get ``(surface, time_s)`` after the
scenes (overlays included) are drawn and before the HUD, every frame; ``overlay_drawers`` run
after the HUD (on screen, never in recordings: the REC indicator); ``global_handlers`` bind
extra global actions (``record``); ``shutdown_hooks`` run in ``shutdown()``, which always
runs (even after an exception or Ctrl-C), before the scenes leave.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pygame

from latent_odyssey.game import paths
from latent_odyssey.game.atomic import atomic_path
from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.audio import Audio
from latent_odyssey.game.engine.clock import FixedStep
from latent_odyssey.game.engine.hud import Hud
from latent_odyssey.game.engine.input import InputState, load_controls
from latent_odyssey.game.engine.learn import LONG_PRESS_S, Experiment, LearnOverlay
from latent_odyssey.game.engine.overlay import HelpOverlay, PauseOverlay
from latent_odyssey.game.engine.scene import (
    GameContext,
    ModelHandle,
    ModeScene,
    Scene,
    SceneStack,
    open_handle,
)
from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta, open_model

FALLBACK_MODE = "navigator"
FPS_CAP = 60  # frames per second when running on the real clock
FIXED_DT_S = 1.0 / 120.0  # simulation step
HEADLESS_DT_S = 1.0 / 60.0  # simulated time per frame with --headless
MAX_FRAME_DT_S = 0.25  # longer real frames (a drag of the window) count as this long
DEFAULT_SIZE = (1280, 720)
MIN_SIZE = (320, 200)
WINDOW_TITLE = "Latent Odyssey"
BASE_ACTIONS = ("quit", "help", "learn", "pause", "fullscreen", "screenshot", "toggle_hud", "mute", "next_model")
VIEW_SETTING_KEYS = ("smooth", "image_look", "show_hud")  # global display toggles in snapshots
MODE_ACTION_PREFIX = "mode_"  # the action "mode_NAME" switches to mode NAME (F2, F3, F4)

FrameListener = Callable[[pygame.Surface, float], None]


class EngineError(RuntimeError):
    """The engine cannot start (no suitable mode for the model, no window): one sentence."""


def mode_reason(cls: type[ModeScene], meta: ModelMeta) -> str | None:
    """Why mode ``cls`` cannot show ``meta`` (its ``supports``), or None when it can."""
    try:
        return cls.supports(meta) or None
    except Exception as exc:  # a mode's check must not take the game down
        return f"{cls.title} mode cannot check this model ({exc})."


def save_png(surface: pygame.Surface, path: Path) -> Path:
    """Write ``surface`` as a PNG atomically (temporary file, then rename); returns ``path``."""
    path = Path(path)
    png = io.BytesIO()  # encoded in memory: a full disk is then an OSError, not a libpng message
    pygame.image.save(surface, png, "png")
    with atomic_path(path, suffix=".partial.png") as tmp:
        tmp.write_bytes(png.getvalue())
    return path


class Engine:
    """Owns the window, the model, the input state and the scene stack."""

    def __init__(
        self,
        model_path: Path | str,
        modes: Mapping[str, type[ModeScene]],
        mode: str = "navigator",
        provider: str = "auto",
        size: tuple[int, int] = DEFAULT_SIZE,
        fullscreen: bool = False,
        headless: bool = False,
        seed: int | None = None,
        mute: bool = False,
    ) -> None:
        if headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
            os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        self.provider_choice = provider
        self.headless = headless
        self.windowed_size = (max(MIN_SIZE[0], size[0]), max(MIN_SIZE[1], size[1]))
        self.fullscreen = False
        self.running = True
        self.frame_count = 0
        self.frame_listeners: list[FrameListener] = []
        self.overlay_drawers: list[FrameListener] = []  # after the HUD: shown, never recorded
        self.global_handlers: dict[str, Callable[[], None]] = {}
        self.shutdown_hooks: list[Callable[[], None]] = []  # run first in shutdown()
        self.frame_hooks: list[Callable[[], None]] = []  # every frame, before the scene's handle
        self.modes = dict(modes)
        self.hud = Hud()
        self.stack = SceneStack()
        self.mode_name = FALLBACK_MODE
        self.last_screenshot: Path | None = None
        self._meta_cache: dict[Path, ModelMeta | None] = {}
        self._last_frame_start: float | None = None
        self._screenshot_pending = False
        self._shut_down = False
        self._back_down_s: float | None = None  # when the controller's Back went down (long press: Learn)
        self._saved_states: dict[tuple[str, Path], dict] = {}  # (mode, model) -> snapshot
        self._scene_model: Path | None = None  # the model the mode scene was started on
        self.audio = Audio(muted=mute)

        model = open_handle(Path(model_path), provider)  # ModelFileError before any window
        pygame.display.init()
        pygame.font.init()
        self.surface = self._make_window(self.windowed_size, fullscreen)
        pygame.display.set_caption(f"{WINDOW_TITLE} - {model.meta.name}")
        self.clock = pygame.time.Clock()
        self.fixed = FixedStep(FIXED_DT_S)
        self.input = InputState(load_controls())
        self.ctx = GameContext(model=model, input=self.input, seed=seed, audio=self.audio)
        self.ctx.request_mode = self.switch_mode
        self.ctx.push_overlay = lambda scene: self.stack.push(scene, self.ctx)
        self._meta_cache[self._key(model.path)] = model.meta
        if provider == "cuda" and model.provider != "CUDA":
            self.ctx.notify("CUDA is not available here; decoding on the CPU", 5.0)
        if not self._start_mode(mode) and (mode == FALLBACK_MODE or not self._start_mode(FALLBACK_MODE)):
            fallback = self.modes.get(FALLBACK_MODE)
            reason = (mode_reason(fallback, model.meta) if fallback else None) or "The Navigator could not start."
            self.shutdown()
            raise EngineError(reason)

    # ------------------------------------------------------------------ window

    def _make_window(self, size: tuple[int, int], fullscreen: bool) -> pygame.Surface:
        flags = pygame.RESIZABLE
        if fullscreen:
            flags = pygame.FULLSCREEN
            size = (0, 0)  # the desktop's resolution
        vsync = 0 if self.headless else 1
        for _attempt in range(2):  # leaving fullscreen, SDL keeps the old size the first time
            try:
                surface = pygame.display.set_mode(size, flags, vsync=vsync)
            except pygame.error:
                vsync = 0
                surface = pygame.display.set_mode(size, flags)  # this driver cannot do vsync
            if fullscreen or surface.get_size() == tuple(size):
                break
        self.fullscreen = fullscreen
        return surface

    def toggle_fullscreen(self) -> None:
        want = not self.fullscreen
        if want:
            self.windowed_size = self.surface.get_size()
        try:
            self.surface = self._make_window(self.windowed_size, want)
        except pygame.error as exc:
            self.ctx.notify(f"Cannot switch to {'fullscreen' if want else 'a window'}: {exc}")
            self.surface = pygame.display.get_surface() or self._make_window(self.windowed_size, False)

    # ------------------------------------------------------------------ modes and models

    @property
    def mode_scene(self) -> ModeScene | None:
        return self.stack.scenes[0] if self.stack.scenes else None  # type: ignore[return-value]

    def mode_class(self, mode: str) -> type[ModeScene] | None:
        """The registered class of ``mode``, or None (with a notice) when there is none."""
        cls = self.modes.get(mode)
        if cls is None:
            self.ctx.notify(f"There is no mode called {mode!r}.")
        return cls

    def title(self, mode: str) -> str:
        cls = self.modes.get(mode)
        return cls.title if cls is not None else mode

    def _start_mode(self, mode: str) -> bool:
        """Replace the stack with a fresh ``mode`` scene; False (with a notice) if it can't."""
        cls = self.mode_class(mode)
        if cls is None:
            return False
        reason = mode_reason(cls, self.ctx.model.meta)
        if reason:
            self.ctx.notify(reason)
            return False
        previous = self.mode_name if self.stack.scenes else None
        self._remember_mode()
        try:
            self.stack.replace_all(cls(), self.ctx)
        except Exception as exc:  # a mode that fails to start leaves the last one running
            self.ctx.notify(f"{self.title(mode)} mode failed to start ({type(exc).__name__}: {exc}).")
            if previous and previous != mode:
                self._start_mode(previous)
            elif mode != FALLBACK_MODE:
                self._start_mode(FALLBACK_MODE)
            return False
        self.mode_name = mode
        self._scene_model = self._key(self.ctx.model.path)
        self._recall_mode()
        return True

    def _remember_mode(self) -> None:
        """Keep the running mode's snapshot for its (mode, model) before it is replaced."""
        scene = self.mode_scene
        if scene is None or self._scene_model is None:
            return
        try:
            self._saved_states[(self.mode_name, self._scene_model)] = scene.snapshot()
        except Exception:  # a mode that cannot say its state simply starts afresh next time
            self._saved_states.pop((self.mode_name, self._scene_model), None)

    def _recall_mode(self) -> None:
        """Restore the new mode scene to where it was left on this model, if it was; the
        global display settings stay as they are, and restoring makes no toasts."""
        state = self._saved_states.get((self.mode_name, self._scene_model))
        scene = self.mode_scene
        if state is None or scene is None:
            return
        state = {k: v for k, v in state.items() if k not in VIEW_SETTING_KEYS}
        before = list(self.ctx.notices)
        try:
            scene.restore(state)
        except Exception as exc:  # a broken snapshot must not keep the mode from starting
            self.ctx.notify(f"{self.title(self.mode_name)} could not resume where it was ({exc}).")
            return
        self.ctx.notices[:] = before

    def switch_mode(self, mode: str) -> bool:
        """Switch to ``mode``, loading a suitable model from the model folders if needed."""
        cls = self.mode_class(mode)
        if cls is None:
            return False
        if mode_reason(cls, self.ctx.model.meta):
            alternative = self._suitable_model(mode, cls)
            if alternative is not None and self._set_model(alternative):
                self.ctx.notify(f"Switched to {self.ctx.model.meta.name} for {self.title(mode)}")
            else:
                reason = mode_reason(cls, self.ctx.model.meta) or ""
                if "press m" not in reason.lower():
                    reason = f"{reason.rstrip('.')}; press M to switch model"
                self.ctx.notify(reason, 4.0)
                return False
        return self._start_mode(mode)

    @staticmethod
    def _key(path: Path) -> Path:
        try:
            return Path(path).resolve()
        except OSError:
            return Path(path)

    def _peek_meta(self, path: Path) -> ModelMeta | None:
        key = self._key(path)
        if key not in self._meta_cache:
            try:
                self._meta_cache[key] = open_model(path, "cpu")[1]
            except ModelFileError:
                self._meta_cache[key] = None
        return self._meta_cache[key]

    def _suitable_model(self, mode: str, cls: type[ModeScene]) -> Path | None:
        """The first model (same dataset first) in the model folders that ``mode`` can show."""
        current = self.ctx.model.meta
        candidates = [p for p in paths.list_models() if self._key(p) != self._key(self.ctx.model.path)]
        metas = [(p, self._peek_meta(p)) for p in candidates]
        metas = [(p, m) for p, m in metas if m is not None and not mode_reason(cls, m)]
        metas.sort(key=lambda pm: (pm[1].dataset != current.dataset, pm[1].kind != current.kind))
        return metas[0][0] if metas else None

    def _set_model(self, path: Path) -> bool:
        """Open ``path`` and make it the current model (the mode scene is NOT restarted)."""
        try:
            handle = open_handle(path, self.provider_choice)
        except ModelFileError as exc:
            self._meta_cache[self._key(path)] = None
            self.ctx.notify(str(exc), 5.0)
            return False
        self._meta_cache[self._key(path)] = handle.meta
        self.ctx.model = handle
        pygame.display.set_caption(f"{WINDOW_TITLE} - {handle.meta.name}")
        return True

    def swap_model(self, handle: ModelHandle) -> bool:
        """Make ``handle``, a newer version of the model on screen (the next epoch of a live
        training run), the model, and let the mode carry on with it (``ModeScene.swap_model``,
        which makes no toasts); overlays stay open. A mode that cannot show it or fails to
        carry on starts afresh (False)."""
        self.ctx.model = handle
        self._meta_cache[self._key(handle.path)] = handle.meta
        pygame.display.set_caption(f"{WINDOW_TITLE} - {handle.meta.name}")
        scene, cls = self.mode_scene, self.modes.get(self.mode_name)
        if scene is None or cls is None or mode_reason(cls, handle.meta):
            self._start_mode(FALLBACK_MODE if cls is None or mode_reason(cls, handle.meta) else self.mode_name)
            return False
        before = list(self.ctx.notices)
        try:
            scene.swap_model()
        except Exception as exc:  # a mode that cannot carry on starts again on the new model
            self._start_mode(self.mode_name)
            self.ctx.notify(f"{self.title(self.mode_name)} started afresh on the new model ({type(exc).__name__}: {exc}).")
            return False
        self.ctx.notices[:] = before
        return True

    def next_model(self) -> bool:
        """Cycle to the next decoder in the model folders that the current mode can show;
        the mode stays (a mode that only one model suits says so)."""
        models = paths.list_models()
        keys = [self._key(p) for p in models]
        here = self._key(self.ctx.model.path)
        if here not in keys:
            models, keys = [self.ctx.model.path, *models], [here, *keys]
        cls = self.modes.get(self.mode_name)
        title = self.title(self.mode_name)
        if len(models) < 2:
            self.ctx.notify("No other models found (put .onnx files in pretrained/ or $ODYSSEY_MODELS)", 4.0)
            return False
        start = keys.index(here)
        tried = 0
        for step in range(1, len(models)):
            candidate = models[(start + step) % len(models)]
            meta = self._peek_meta(candidate)
            if meta is None or (cls is not None and mode_reason(cls, meta)):
                continue  # broken, or not a model this mode can show
            tried += 1
            if not self._set_model(candidate):
                continue
            if self._start_mode(self.mode_name):
                self.ctx.notify(f"Model: {self.ctx.model.meta.name}")
                return True
        if not tried:
            self.ctx.notify(f"Model: no other model here that the {title} can show", 4.0)
        return False

    def open_image(self, path: Path | str) -> None:
        """Hand an image file to the mode (overlays close first, so the player sees it)."""
        while len(self.stack.scenes) > 1:
            self.stack.pop()
        if self.mode_scene is not None:
            self.mode_scene.open_image(Path(path))

    def open_learn(self) -> None:
        """Open the Learn panel over the mode (closing the other overlays)."""
        while len(self.stack.scenes) > 1:
            self.stack.pop()
        self.stack.push(LearnOverlay(self.ctx.model.meta, self.mode_name, self.start_experiment), self.ctx)

    def start_experiment(self, exp: Experiment) -> None:
        """Switch to the experiment's mode (and a model of its kind) and start it there."""
        while len(self.stack.scenes) > 1:
            self.stack.pop()
        cls = self.modes.get(exp.mode)
        if cls is None:
            return
        if exp.kind and self.ctx.model.meta.kind != exp.kind:
            found = [p for p in paths.list_models() if (m := self._peek_meta(p)) is not None
                     and m.kind == exp.kind and not mode_reason(cls, m)]
            if not found or not self._set_model(found[0]):
                self.ctx.notify(f"{exp.title} needs a {exp.kind} model; none is installed.", 5.0)
                return
            if not self._start_mode(exp.mode):
                return
        elif exp.mode != self.mode_name and not self.switch_mode(exp.mode):
            return
        scene = self.mode_scene
        if scene is not None and not scene.start_experiment(exp.name) and exp.state:
            scene.restore(dict(exp.state))
        self.ctx.notify(f"{exp.title}: {exp.how}", 7.0)

    # ------------------------------------------------------------------ overlays

    def help_overlay(self) -> HelpOverlay:
        scene = self.mode_scene
        inp = self.input
        title = self.title(self.mode_name)
        groups: list[tuple[str, list[str]]] = [("Everywhere", list(self.global_actions)), (title, [])]
        extra = {title: list(scene.help_rows(inp)) if scene is not None else []}
        return HelpOverlay.for_bindings(inp, groups, extra)

    @property
    def global_actions(self) -> list[str]:
        """The actions every mode shares: the engine's, one per mode, and the hooks' own."""
        base = list(BASE_ACTIONS)
        modes = [MODE_ACTION_PREFIX + name for name in self.modes]
        return base[:-1] + modes + base[-1:] + list(self.global_handlers)

    def _toggle_overlay(self, kind: type[Scene], make: Callable[[], Scene]) -> None:
        if isinstance(self.stack.top, kind):
            self.stack.pop()
        else:
            self.stack.push(make(), self.ctx)

    # ------------------------------------------------------------------ the frame

    def _route_event(self, event: pygame.event.Event) -> None:
        t = event.type
        if t == pygame.QUIT:
            self.running = False
        elif t == pygame.CONTROLLERDEVICEADDED:
            before = set(self.input.controllers)
            self.input.process_event(event)
            added = [n for n in self.input.controllers if n not in before]
            self.ctx.notify(f"Controller connected: {added[0] if added else 'game controller'}")
            return
        elif t == pygame.CONTROLLERDEVICEREMOVED:
            self.input.process_event(event)
            self.ctx.notify("Controller disconnected; keyboard active")
            return
        elif t == pygame.DROPFILE:
            self.open_image(Path(event.file))
            return
        elif t in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
            self.surface = pygame.display.get_surface() or self.surface
        self.input.process_event(event)

    def _global_actions(self) -> None:
        inp = self.input
        if inp.pressed("quit"):
            if len(self.stack.scenes) > 1:
                self.stack.pop()
            else:
                self.running = False
        if inp.pressed("help"):
            self._toggle_overlay(HelpOverlay, self.help_overlay)
            self._back_down_s = self.ctx.time_s if inp.last_device == "controller" else None
        elif self._back_down_s is not None:
            if not inp.held("help"):
                self._back_down_s = None
            elif self.ctx.time_s - self._back_down_s >= LONG_PRESS_S:  # a long press: Learn
                self._back_down_s = None
                self.open_learn()
        if "learn" in inp.map.actions and inp.pressed("learn"):
            if isinstance(self.stack.top, LearnOverlay):
                self.stack.pop()
            else:
                self.open_learn()
        if inp.pressed("pause"):
            self._toggle_overlay(PauseOverlay, PauseOverlay)
        if inp.pressed("fullscreen"):
            self.toggle_fullscreen()
        if inp.pressed("screenshot"):
            self._screenshot_pending = True
        if inp.pressed("toggle_hud"):
            self.ctx.show_hud = not self.ctx.show_hud
        for mode in self.modes:
            action = MODE_ACTION_PREFIX + mode
            if action in inp.map.actions and inp.pressed(action):
                if mode == self.mode_name and len(self.stack.scenes) > 1:
                    while len(self.stack.scenes) > 1:
                        self.stack.pop()
                elif mode != self.mode_name:
                    self.switch_mode(mode)
        if inp.pressed("next_model"):
            self.next_model()
        if "mute" in inp.map.actions and inp.pressed("mute"):
            muted = self.audio.toggle_mute()
            self.ctx.notify("Sound: off" if muted else "Sound: on" + (
                "" if self.audio.available is not False else f" (no audio device: {self.audio.reason})"))
        for action, handler in self.global_handlers.items():
            if action in inp.map.actions and inp.pressed(action):
                handler()

    def loop_once(self, dt: float | None = None) -> None:
        """One frame. ``dt`` None: wait for the 60 FPS clock and use the real elapsed time."""
        start = time.perf_counter()
        interval = None if self._last_frame_start is None else start - self._last_frame_start
        self._last_frame_start = start
        if dt is None:
            dt = min(MAX_FRAME_DT_S, self.clock.tick(FPS_CAP) / 1000.0)
            start = time.perf_counter()
        runs_before = self.ctx.model.decoder.runs
        self.input.begin_frame()
        for event in pygame.event.get():
            self._route_event(event)
        self._global_actions()
        for hook in list(self.frame_hooks):
            hook()
        if self.running and self.stack.top is not None:
            self.stack.top.handle(self.input)
            self.stack.prune()
        for _ in range(self.fixed.advance(dt)):
            self.ctx.time_s += self.fixed.dt
            if self.stack.top is not None:
                self.stack.top.update(self.fixed.dt)
        self.stack.prune()
        self.surface = pygame.display.get_surface() or self.surface
        scene = self.mode_scene
        if scene is None or not scene.fills_screen:
            self.surface.fill(ui.BG)
        self.stack.draw(self.surface)
        for listener in list(self.frame_listeners):
            listener(self.surface, self.ctx.time_s)
        if self._screenshot_pending:
            self._screenshot_pending = False
            self._take_screenshot()
        decoder = self.ctx.model.decoder
        self.hud.record_frame(interval, time.perf_counter() - start, decoder.last_decode_ms, decoder.runs != runs_before)
        self.hud.draw(self.surface, self.ctx)
        for draw in list(self.overlay_drawers):
            draw(self.surface, self.ctx.time_s)
        pygame.display.flip()
        self.frame_count += 1

    def _take_screenshot(self) -> None:
        folder = paths.captures_dir()
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        path = folder / f"odyssey-{stamp}.png"
        n = 2
        while path.exists():
            path = folder / f"odyssey-{stamp}-{n}.png"
            n += 1
        try:
            self.last_screenshot = save_png(self.surface, path)
            self.ctx.notify(f"Screenshot saved: {path}")
        except (OSError, pygame.error) as exc:
            self.ctx.notify(f"Cannot save a screenshot in {folder}: {getattr(exc, 'strerror', None) or exc}", 5.0)

    def save_frame(self, path: Path) -> Path:
        """Write the current window contents (with the HUD) as a PNG."""
        return save_png(self.surface, Path(path))

    def run(self, frames: int | None = None, screenshot: Path | None = None) -> None:
        """Play until quit (or ``frames`` frames); always ends with ``shutdown()``.

        Headless engines step a fixed ``HEADLESS_DT_S`` per frame without sleeping.
        ``screenshot``: save the last frame there as a PNG before shutting down.
        """
        try:
            while self.running and (frames is None or self.frame_count < frames):
                self.loop_once(HEADLESS_DT_S if self.headless else None)
            if screenshot is not None and self.frame_count:
                self.save_frame(screenshot)
        finally:
            self.shutdown()

    def shutdown(self, quit_pygame: bool = True) -> None:
        """Finalize recordings, leave the scenes and close the window (idempotent)."""
        if self._shut_down:
            return
        self._shut_down = True
        try:
            _run_all(self.shutdown_hooks)
        finally:
            while self.stack.scenes:
                try:
                    self.stack.pop()
                except Exception:
                    self.stack.scenes.clear()
            self.audio.close()
            if quit_pygame:
                ui.clear_caches()
                pygame.display.quit()


def _run_all(hooks: list[Callable[[], None]]) -> None:
    """Call every hook in order; each runs even when an earlier one raised (the first error
    is raised again at the end)."""
    if not hooks:
        return
    first, *rest = hooks
    try:
        first()
    finally:
        _run_all(rest)
