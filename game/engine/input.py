"""Named actions and axes: the only module that knows about keys, buttons and sticks.

Scenes ask ``state.pressed("warp")``, ``state.held("boost")`` or ``state.axis("thrust")``
and never read ``pygame.K_*``. The bindings live in ``assets/controls.toml`` (every
default is documented there) and a user file merged over it, where a table replaces
the whole default action or axis of that name.

Contracts:

* ``InputMap.load(default, user)`` reads and validates the files. Any mistake (TOML
  syntax, an unknown action/axis/field, key, button, stick or mouse name) raises
  ``ControlsError``: one sentence naming the file and the line. Stated limits: a controls
  file is a regular file (not a folder, pipe or device) of at most ``MAX_CONTROLS_BYTES``,
  nested at most ``MAX_TOML_NESTING`` levels deep.
* ``InputState`` is fed every pygame event with ``process_event``; call ``begin_frame``
  once per frame *before* feeding that frame's events. ``pressed`` is true for the frame
  in which a bound input went down (each key-repeat counts too), ``held`` while any
  bound input is down, ``released`` for the frame in which the last one came up.
* ``axis(name)`` is in [-1, 1]. Keys give -1/0/+1. Sticks are normalised from SDL's
  -32768..32767 (triggers 0..32767), then a dead-zone is applied (radial for the two
  axes of one stick) and the rest rescaled so the value runs continuously from 0 to 1
  past it. When the keyboard and a controller both push an axis, the device used last
  wins.
* Controllers are hot-plugged by SDL instance id: ``CONTROLLERDEVICEADDED`` opens one,
  ``CONTROLLERDEVICEREMOVED`` drops it together with its held buttons and stick values,
  so play carries on with the keyboard.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pygame

from latent_odyssey.game import paths
from latent_odyssey.game.cliutil import EXIT_FAILURE, InputError, clip_quoted, os_reason

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

DEFAULT_CONTROLS_PATH = paths.default_controls_path()
CONTROLS_ENV = "ODYSSEY_CONTROLS"  # environment variable naming a user controls file
DEFAULT_DEADZONE = 0.15  # fraction of full stick travel
MAX_DEADZONE = 0.9  # fraction of full stick travel; more would leave no usable range
AXIS_RAW_MAX = 32767  # SDL game-controller axis range is -32768..32767
AXIS_RAW_MIN = 32768
MAX_CONTROLS_BYTES = 256 * 1024  # a controls file is a few KiB; more is not a controls file
MAX_TOML_NESTING = 8  # tables and arrays inside each other (the controls need 4)
MAX_NAMES_LISTED = 8  # known names quoted in an "unknown action" sentence

CONTROLLER_BUTTONS: dict[str, int] = {
    "a": pygame.CONTROLLER_BUTTON_A,
    "b": pygame.CONTROLLER_BUTTON_B,
    "x": pygame.CONTROLLER_BUTTON_X,
    "y": pygame.CONTROLLER_BUTTON_Y,
    "back": pygame.CONTROLLER_BUTTON_BACK,
    "guide": pygame.CONTROLLER_BUTTON_GUIDE,
    "start": pygame.CONTROLLER_BUTTON_START,
    "leftstick": pygame.CONTROLLER_BUTTON_LEFTSTICK,
    "rightstick": pygame.CONTROLLER_BUTTON_RIGHTSTICK,
    "leftshoulder": pygame.CONTROLLER_BUTTON_LEFTSHOULDER,
    "rightshoulder": pygame.CONTROLLER_BUTTON_RIGHTSHOULDER,
    "dpup": pygame.CONTROLLER_BUTTON_DPAD_UP,
    "dpdown": pygame.CONTROLLER_BUTTON_DPAD_DOWN,
    "dpleft": pygame.CONTROLLER_BUTTON_DPAD_LEFT,
    "dpright": pygame.CONTROLLER_BUTTON_DPAD_RIGHT,
}
CONTROLLER_STICKS: dict[str, int] = {
    "leftx": pygame.CONTROLLER_AXIS_LEFTX,
    "lefty": pygame.CONTROLLER_AXIS_LEFTY,
    "rightx": pygame.CONTROLLER_AXIS_RIGHTX,
    "righty": pygame.CONTROLLER_AXIS_RIGHTY,
    "triggerleft": pygame.CONTROLLER_AXIS_TRIGGERLEFT,
    "triggerright": pygame.CONTROLLER_AXIS_TRIGGERRIGHT,
}
# pygame 2 numbering: 4/5 are the wheel, the side buttons X1/X2 come after it.
MOUSE_BUTTONS: dict[str, int] = {
    "left": 1, "middle": 2, "right": 3, "wheelup": 4, "wheeldown": 5, "x1": 6, "x2": 7,
}
_STICK_PARTNER: dict[int, int] = {
    pygame.CONTROLLER_AXIS_LEFTX: pygame.CONTROLLER_AXIS_LEFTY,
    pygame.CONTROLLER_AXIS_LEFTY: pygame.CONTROLLER_AXIS_LEFTX,
    pygame.CONTROLLER_AXIS_RIGHTX: pygame.CONTROLLER_AXIS_RIGHTY,
    pygame.CONTROLLER_AXIS_RIGHTY: pygame.CONTROLLER_AXIS_RIGHTX,
}

_BUTTON_TEXT: dict[str, str] = {
    "a": "A", "b": "B", "x": "X", "y": "Y", "back": "Back", "guide": "Guide",
    "start": "Start", "leftstick": "Left Stick Click", "rightstick": "Right Stick Click",
    "leftshoulder": "Left Shoulder", "rightshoulder": "Right Shoulder",
    "dpup": "D-pad Up", "dpdown": "D-pad Down", "dpleft": "D-pad Left",
    "dpright": "D-pad Right",
}
_STICK_TEXT: dict[str, str] = {
    "leftx": "Left Stick X", "lefty": "Left Stick Y", "rightx": "Right Stick X",
    "righty": "Right Stick Y", "triggerleft": "Left Trigger", "triggerright": "Right Trigger",
}
_MOUSE_TEXT: dict[str, str] = {
    "left": "Left Click", "middle": "Middle Click", "right": "Right Click",
    "wheelup": "Mouse Wheel Up", "wheeldown": "Mouse Wheel Down", "x1": "Mouse X1",
    "x2": "Mouse X2",
}
_KEY_TEXT: dict[str, str] = {
    "escape": "Esc", "return": "Enter", "up": "Arrow Up", "down": "Arrow Down",
    "left": "Arrow Left", "right": "Arrow Right", "pageup": "Page Up",
    "pagedown": "Page Down", "`": "`", "left ctrl": "Left Ctrl", "right ctrl": "Right Ctrl",
}

_ACTION_FIELDS = frozenset({"help", "keys", "buttons", "mouse"})
_AXIS_FIELDS = frozenset({
    "help", "positive_keys", "negative_keys", "positive_buttons", "negative_buttons",
    "stick", "invert", "deadzone",
})
_SETTINGS_FIELDS = frozenset({"deadzone"})
_TOP_LEVEL = frozenset({"settings", "actions", "axes"})

Device = str  # "keyboard" | "controller" | "mouse"


class ControlsError(InputError, ValueError):
    """A controls file is unreadable or wrong; the message is one sentence with file and line."""

    exit_status = EXIT_FAILURE


@dataclass(frozen=True)
class ActionBinding:
    """One named action: any of its keys, buttons or mouse buttons triggers it."""

    name: str
    help: str
    keys: tuple[str, ...] = ()  # names as written in the file
    buttons: tuple[str, ...] = ()
    mouse: tuple[str, ...] = ()


@dataclass(frozen=True)
class AxisBinding:
    """One named axis in [-1, 1]: keys and buttons push it to +-1, a stick moves it smoothly."""

    name: str
    help: str
    positive_keys: tuple[str, ...] = ()
    negative_keys: tuple[str, ...] = ()
    positive_buttons: tuple[str, ...] = ()
    negative_buttons: tuple[str, ...] = ()
    stick: str | None = None
    invert: bool = False
    deadzone: float | None = None  # None: the map's global dead-zone


@dataclass(frozen=True)
class InputMap:
    """The bindings in force: defaults with the user's tables merged over them."""

    actions: Mapping[str, ActionBinding]
    axes: Mapping[str, AxisBinding]
    deadzone: float = DEFAULT_DEADZONE
    sources: tuple[Path, ...] = ()
    overridden: frozenset[str] = field(default_factory=frozenset)  # names the user file set

    @classmethod
    def load(
        cls,
        default_path: Path,
        user_path: Path | None = None,
        *,
        user_required: bool = False,
    ) -> InputMap:
        """Read ``default_path`` and merge ``user_path`` over it.

        A missing user file means "no overrides" unless ``user_required`` (the user named
        it explicitly). Raises ControlsError on any mistake in either file.
        """
        default_path = Path(default_path)
        text, data = _read_toml(default_path)
        actions, axes, deadzone = _parse(default_path, text, data, None, None)
        sources = [default_path]
        overridden: set[str] = set()
        if user_path is not None:
            user_path = Path(user_path).expanduser()
            if user_path.is_file() or user_required:
                utext, udata = _read_toml(user_path)
                uactions, uaxes, udeadzone = _parse(user_path, utext, udata, actions, axes)
                for name, binding in uactions.items():
                    if not binding.help:
                        binding = _replace_help(binding, actions[name].help)
                    actions[name] = binding
                for name, binding in uaxes.items():
                    if not binding.help:
                        binding = _replace_help(binding, axes[name].help)
                    axes[name] = binding
                overridden = set(uactions) | set(uaxes)
                if udeadzone is not None:
                    deadzone = udeadzone
                sources.append(user_path)
        return cls(
            actions=actions,
            axes=axes,
            deadzone=DEFAULT_DEADZONE if deadzone is None else deadzone,
            sources=tuple(sources),
            overridden=frozenset(overridden),
        )

    def bindings_text(self, names: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """(help, keys and mouse, controller) rows for the help overlay, in file order.

        ``names`` limits and orders the rows (a mode passes the actions/axes it reads);
        unknown names raise KeyError. Axes show "negative / positive".
        """
        order = list(self.actions) + list(self.axes) if names is None else list(names)
        rows: list[tuple[str, str, str]] = []
        for name in order:
            if name in self.actions:
                a = self.actions[name]
                keys = [_key_text(k) for k in a.keys] + [_MOUSE_TEXT[m] for m in a.mouse]
                rows.append((a.help, ", ".join(keys), ", ".join(_BUTTON_TEXT[b] for b in a.buttons)))
            elif name in self.axes:
                x = self.axes[name]
                keys = _pair_text([_key_text(k) for k in x.negative_keys],
                                  [_key_text(k) for k in x.positive_keys])
                pad = []
                if x.stick is not None:
                    pad.append(_STICK_TEXT[x.stick])
                buttons = _pair_text([_BUTTON_TEXT[b] for b in x.negative_buttons],
                                     [_BUTTON_TEXT[b] for b in x.positive_buttons])
                if buttons:
                    pad.append(buttons)
                rows.append((x.help, keys, ", ".join(pad)))
            else:
                raise KeyError(f"no action or axis named {name!r} in the controls")
        return rows


def user_controls_path(environ: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """Where the user's controls file is, and whether the user named it explicitly.

    ``$ODYSSEY_CONTROLS`` if set (then it must exist), else
    ``$XDG_CONFIG_HOME/latent-odyssey/controls.toml`` (``~/.config`` by default).
    """
    env = os.environ if environ is None else environ
    if env.get(CONTROLS_ENV):
        return Path(env[CONTROLS_ENV]).expanduser(), True
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "latent-odyssey" / "controls.toml", False


def load_controls(
    default_path: Path = DEFAULT_CONTROLS_PATH, environ: Mapping[str, str] | None = None
) -> InputMap:
    """The game's entry point: defaults merged with the user's file from its usual place."""
    path, required = user_controls_path(environ)
    return InputMap.load(default_path, path, user_required=required)


@dataclass(frozen=True)
class _AxisCodes:
    """An AxisBinding resolved to pygame codes."""

    positive_keys: frozenset[int]
    negative_keys: frozenset[int]
    positive_buttons: frozenset[int]
    negative_buttons: frozenset[int]
    stick: int | None
    sign: float  # -1.0 when the stick is inverted
    deadzone: float  # fraction of full travel


class InputState:
    """Runtime input: feed it events, ask it about actions and axes.

    Keyboard and mouse are one side, each controller (by SDL instance id) the other.
    """

    def __init__(self, input_map: InputMap, *, open_controllers: bool = True) -> None:
        self.map = input_map
        self._keys_held: set[int] = set()
        self._mouse_held: set[int] = set()
        self._buttons_held: dict[int, set[int]] = {}  # instance id -> held button ids
        self._sticks: dict[int, dict[int, float]] = {}  # instance id -> axis id -> [-1, 1]
        self._pads: dict[int, Any] = {}  # instance id -> pygame._sdl2.controller.Controller
        self._pressed: set[str] = set()
        self._released: set[str] = set()
        self._last_device: Device = "keyboard"
        self.pointer: tuple[int, int] | None = None  # last mouse position, window pixels
        self.mouse_rel: tuple[int, int] = (0, 0)  # this frame's relative mouse motion (px)
        self.focused = True  # False after the window lost focus, until it has it back

        self._key_actions: dict[int, list[str]] = {}
        self._button_actions: dict[int, list[str]] = {}
        self._mouse_actions: dict[int, list[str]] = {}
        self._action_keys: dict[str, frozenset[int]] = {}
        self._action_buttons: dict[str, frozenset[int]] = {}
        self._action_mouse: dict[str, frozenset[int]] = {}
        for name, a in input_map.actions.items():
            keys = frozenset(_key_code(k) for k in a.keys)
            buttons = frozenset(CONTROLLER_BUTTONS[b] for b in a.buttons)
            mouse = frozenset(MOUSE_BUTTONS[m] for m in a.mouse)
            self._action_keys[name], self._action_buttons[name] = keys, buttons
            self._action_mouse[name] = mouse
            for k in keys:
                self._key_actions.setdefault(k, []).append(name)
            for b in buttons:
                self._button_actions.setdefault(b, []).append(name)
            for m in mouse:
                self._mouse_actions.setdefault(m, []).append(name)
        self._axis_codes: dict[str, _AxisCodes] = {}
        for name, x in input_map.axes.items():
            self._axis_codes[name] = _AxisCodes(
                positive_keys=frozenset(_key_code(k) for k in x.positive_keys),
                negative_keys=frozenset(_key_code(k) for k in x.negative_keys),
                positive_buttons=frozenset(CONTROLLER_BUTTONS[b] for b in x.positive_buttons),
                negative_buttons=frozenset(CONTROLLER_BUTTONS[b] for b in x.negative_buttons),
                stick=None if x.stick is None else CONTROLLER_STICKS[x.stick],
                sign=-1.0 if x.invert else 1.0,
                deadzone=input_map.deadzone if x.deadzone is None else x.deadzone,
            )
        if open_controllers:
            self._open_attached()

    # ----- queries -----

    @property
    def last_device(self) -> Device:
        """"keyboard", "controller" or "mouse": whichever was used last."""
        return self._last_device

    @property
    def controllers(self) -> list[str]:
        """Names of the connected game controllers."""
        names = []
        for pad in self._pads.values():
            try:
                names.append(pad.name)
            except RuntimeError:
                names.append("controller")
        return names

    def pressed(self, action: str) -> bool:
        """True in the frame one of the action's inputs went down."""
        self._check_action(action)
        return action in self._pressed

    def released(self, action: str) -> bool:
        """True in the frame the action stopped being held."""
        self._check_action(action)
        return action in self._released

    def held(self, action: str) -> bool:
        """True while any of the action's inputs is down."""
        self._check_action(action)
        return self._held(action)

    def axis(self, name: str) -> float:
        """The axis value in [-1, 1]; the last-used device wins when both push it."""
        if name not in self._axis_codes:
            raise KeyError(f"no axis named {name!r} in the controls")
        c = self._axis_codes[name]
        keys = self._keys_held
        keyboard = float(bool(c.positive_keys & keys)) - float(bool(c.negative_keys & keys))
        pad = 0.0  # the controller pushing hardest
        for instance_id in set(self._buttons_held) | set(self._sticks):
            held = self._buttons_held.get(instance_id, set())
            value = float(bool(c.positive_buttons & held)) - float(bool(c.negative_buttons & held))
            if c.stick is not None:
                value += c.sign * self._stick_value(instance_id, c.stick, c.deadzone)
            if abs(value) > abs(pad):
                pad = value
        pad = max(-1.0, min(1.0, pad))
        if self._last_device == "controller":
            return pad if pad != 0.0 else keyboard
        return keyboard if keyboard != 0.0 else pad

    def bindings_text(self, names: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
        """See InputMap.bindings_text."""
        return self.map.bindings_text(names)

    # ----- feeding -----

    def begin_frame(self) -> None:
        """Forget last frame's presses and releases; call before this frame's events."""
        self._pressed.clear()
        self._released.clear()
        self.mouse_rel = (0, 0)

    def process_event(self, event: pygame.event.Event) -> None:
        """Update the state from one pygame event; events it does not use are ignored."""
        t = event.type
        if t == pygame.KEYDOWN:
            self._last_device = "keyboard"
            self._down(event.key, self._keys_held, self._key_actions)
        elif t == pygame.KEYUP:
            self._up(event.key, self._keys_held, self._key_actions)
        elif t == pygame.MOUSEBUTTONDOWN:
            self._last_device = "mouse"
            self.pointer = _pos(event)
            self._down(event.button, self._mouse_held, self._mouse_actions)
        elif t == pygame.MOUSEBUTTONUP:
            self.pointer = _pos(event)
            self._up(event.button, self._mouse_held, self._mouse_actions)
        elif t == pygame.MOUSEMOTION:
            self.pointer = _pos(event)
            rel = getattr(event, "rel", None)
            if rel is not None and len(rel) == 2:
                self.mouse_rel = (self.mouse_rel[0] + int(rel[0]), self.mouse_rel[1] + int(rel[1]))
        elif t == pygame.CONTROLLERBUTTONDOWN:
            self._last_device = "controller"
            held = self._buttons_held.setdefault(_instance(event), set())
            self._down(event.button, held, self._button_actions)
        elif t == pygame.CONTROLLERBUTTONUP:
            held = self._buttons_held.setdefault(_instance(event), set())
            self._up(event.button, held, self._button_actions)
        elif t == pygame.CONTROLLERAXISMOTION:
            self._stick_motion(_instance(event), event.axis, event.value)
        elif t == pygame.CONTROLLERDEVICEADDED or t == pygame.JOYDEVICEADDED:
            self._open(getattr(event, "device_index", getattr(event, "which", 0)))
        elif t == pygame.CONTROLLERDEVICEREMOVED:
            self._remove(_instance(event))
        elif t == pygame.WINDOWFOCUSGAINED:
            self.focused = True
        elif t in (pygame.WINDOWFOCUSLOST, pygame.WINDOWMINIMIZED):
            self.focused = False
            # the window will never see these keys' KEYUP: let go of them now
            for key in list(self._keys_held):
                self._up(key, self._keys_held, self._key_actions)
            for button in list(self._mouse_held):
                self._up(button, self._mouse_held, self._mouse_actions)

    # ----- internals -----

    def _check_action(self, action: str) -> None:
        if action not in self._action_keys:
            raise KeyError(f"no action named {action!r} in the controls")

    def _held(self, action: str) -> bool:
        if self._action_keys[action] & self._keys_held:
            return True
        if self._action_mouse[action] & self._mouse_held:
            return True
        buttons = self._action_buttons[action]
        return any(buttons & held for held in self._buttons_held.values())

    def _down(self, code: int, held: set[int], index: dict[int, list[str]]) -> None:
        held.add(code)
        for action in index.get(code, ()):
            self._pressed.add(action)
            self._released.discard(action)

    def _up(self, code: int, held: set[int], index: dict[int, list[str]]) -> None:
        if code not in held:
            return
        held.discard(code)
        for action in index.get(code, ()):
            if not self._held(action):
                self._released.add(action)

    def _stick_motion(self, instance_id: int, axis: int, value: float) -> None:
        sticks = self._sticks.setdefault(instance_id, {})
        sticks[axis] = _normalise(value)
        if self._stick_value(instance_id, axis, self.map.deadzone) != 0.0:
            self._last_device = "controller"

    def _stick_value(self, instance_id: int, axis: int, deadzone: float) -> float:
        """Dead-zoned, rescaled value of one controller axis (radial for the two of a stick)."""
        sticks = self._sticks.get(instance_id)
        if not sticks:
            return 0.0
        raw = sticks.get(axis, 0.0)
        partner = _STICK_PARTNER.get(axis)
        other = 0.0 if partner is None else sticks.get(partner, 0.0)
        magnitude = math.hypot(raw, other)
        if magnitude <= deadzone or magnitude == 0.0:
            return 0.0
        scaled = min(1.0, (magnitude - deadzone) / (1.0 - deadzone))
        value = raw / magnitude * scaled
        return max(-1.0, min(1.0, value))

    def _open_attached(self) -> None:
        try:
            from pygame._sdl2 import controller
        except ImportError:  # pragma: no cover - pygame built without SDL2 extras
            return
        try:
            if not controller.get_init():
                controller.init()
            count = controller.get_count()
        except RuntimeError:
            return
        for index in range(count):
            self._open(index)

    def _open(self, device_index: int) -> None:
        """Open the controller at this device index unless it is open already."""
        try:
            from pygame._sdl2 import controller

            if not controller.get_init():
                controller.init()
            if not controller.is_controller(device_index):
                return
            pad = controller.Controller(device_index)
            instance_id = pad.as_joystick().get_instance_id()
        except (RuntimeError, ImportError):  # unplugged again, or not a game controller
            return
        if instance_id not in self._pads:
            self._pads[instance_id] = pad

    def _remove(self, instance_id: int) -> None:
        """Forget a controller: its buttons let go and its sticks return to rest."""
        pad = self._pads.pop(instance_id, None)
        if pad is not None:
            try:
                pad.quit()
            except RuntimeError:
                pass
        for button in list(self._buttons_held.get(instance_id, ())):
            self._up(button, self._buttons_held[instance_id], self._button_actions)
        self._buttons_held.pop(instance_id, None)
        self._sticks.pop(instance_id, None)
        if not self._buttons_held and not self._sticks and self._last_device == "controller":
            self._last_device = "keyboard"


# ----- file reading and validation -----


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        if path.is_dir():
            raise ControlsError(f"{path}, line 1: the controls file is a folder, not a .toml file.")
        if path.exists() and not path.is_file():  # a FIFO would block forever, /dev/zero never ends
            raise ControlsError(f"{path}, line 1: the controls file is not a regular file.")
        with open(path, "rb") as f:
            raw = f.read(MAX_CONTROLS_BYTES + 1)
    except FileNotFoundError:
        raise ControlsError(f"{path}, line 1: the controls file does not exist.") from None
    except OSError as exc:
        raise ControlsError(f"{path}, line 1: cannot read the controls file ({os_reason(exc)}).") from None
    if len(raw) > MAX_CONTROLS_BYTES:
        raise ControlsError(f"{path}, line 1: the controls file is larger than the limit of "
                            f"{MAX_CONTROLS_BYTES // 1024} KiB.")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (Windows editors) is fine
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ControlsError(f"{path}, line {line}: the controls file is not UTF-8 text.") from None
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ControlsError(f"{path}, line 1: tables or arrays are nested deeper than the limit of "
                            f"{MAX_TOML_NESTING} levels.") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        m = re.search(r"\(at line (\d+), column (\d+)\)", message)
        line = int(m.group(1)) if m else 1
        what = message[: m.start()].strip() if m else message
        where = f"line {line}, column {m.group(2)}" if m else f"line {line}"
        raise ControlsError(f"{path}, {where}: not valid TOML ({what}).") from None
    if _depth(data) > MAX_TOML_NESTING:
        raise ControlsError(f"{path}, line 1: tables or arrays are nested deeper than the limit of "
                            f"{MAX_TOML_NESTING} levels.")
    return text, data


def _depth(value: Any) -> int:
    """How deeply tables and arrays nest in a parsed TOML value (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _parse(
    path: Path,
    text: str,
    data: dict[str, Any],
    known_actions: Mapping[str, ActionBinding] | None,
    known_axes: Mapping[str, AxisBinding] | None,
) -> tuple[dict[str, ActionBinding], dict[str, AxisBinding], float | None]:
    """Validate one file. Known names given: it is a user file and may only override them."""

    def fail(what: str, line: int) -> ControlsError:
        return ControlsError(f"{path}, line {line}: {clip_quoted(what)}.")

    for top in data:
        if top not in _TOP_LEVEL:
            raise fail(f"unknown table [{top}] (expected [settings], [actions.NAME] or "
                       f"[axes.NAME])", _line_of(text, None, top))

    deadzone: float | None = None
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise fail("[settings] must be a table", _line_of(text, None, "settings"))
    for key in settings:
        if key not in _SETTINGS_FIELDS:
            raise fail(f"unknown setting {key!r} (expected 'deadzone')",
                       _line_of(text, "settings", key))
    if "deadzone" in settings:
        deadzone = _deadzone(settings["deadzone"], lambda w: fail(
            w, _line_of(text, "settings", "deadzone")))

    actions: dict[str, ActionBinding] = {}
    axes: dict[str, AxisBinding] = {}
    for kind, fields, known in (("actions", _ACTION_FIELDS, known_actions),
                                ("axes", _AXIS_FIELDS, known_axes)):
        tables = data.get(kind, {})
        if not isinstance(tables, dict):
            raise fail(f"[{kind}] must hold tables like [{kind}.NAME]", _line_of(text, None, kind))
        for name, table in tables.items():
            section = f"{kind}.{name}"
            singular = kind[:-1] if kind == "actions" else "axis"
            if known is not None and name not in known:
                close = difflib.get_close_matches(name, list(known), n=1)
                names = list(known)
                more = ", ..." if len(names) > MAX_NAMES_LISTED else ""
                hint = f"did you mean {close[0]!r}?" if close else (
                    f"known: {', '.join(names[:MAX_NAMES_LISTED])}{more}")
                raise fail(f"unknown {singular} {name!r} ({hint})",
                           _line_of(text, section, name))
            if not isinstance(table, dict):
                raise fail(f"{singular} {name!r} must be a table", _line_of(text, section, name))
            for key in table:
                if key not in fields:
                    raise fail(f"unknown field {key!r} in [{section}] (expected one of "
                               f"{', '.join(sorted(fields))})", _line_of(text, section, key))

            def line(key: str, value: str | None = None, _section: str = section) -> int:
                return _line_of(text, _section, key, value)

            help_text = table.get("help", "")
            if not isinstance(help_text, str):
                raise fail(f"'help' in [{section}] must be a string", line("help"))
            if known is None and not help_text:
                raise fail(f"[{section}] needs a help = \"...\" text", line(name))
            lists: dict[str, tuple[str, ...]] = {}
            for key in fields - {"help", "stick", "invert", "deadzone"}:
                lists[key] = _names(table.get(key, []), section, key, line, fail)
            for key, names in lists.items():
                for n in names:
                    if key.endswith("keys"):
                        if _key_code(n) is None:
                            raise fail(f"unknown key name {n!r} in [{section}] {key} (use "
                                       f"pygame key names such as 'escape', 'f1', 'a', "
                                       f"'left shift', 'up', 'space')", line(key, n))
                    elif key.endswith("buttons"):
                        if n not in CONTROLLER_BUTTONS:
                            raise fail(f"unknown controller button {n!r} in [{section}] {key} "
                                       f"(expected one of {', '.join(CONTROLLER_BUTTONS)})",
                                       line(key, n))
                    elif n not in MOUSE_BUTTONS:
                        raise fail(f"unknown mouse button {n!r} in [{section}] {key} "
                                   f"(expected one of {', '.join(MOUSE_BUTTONS)})",
                                   line(key, n))
            if kind == "actions":
                actions[name] = ActionBinding(name=name, help=help_text, **lists)
                continue
            stick = table.get("stick")
            if stick is not None and (not isinstance(stick, str) or stick not in CONTROLLER_STICKS):
                raise fail(f"unknown stick {stick!r} in [{section}] (expected one of "
                           f"{', '.join(CONTROLLER_STICKS)})", line("stick", str(stick)))
            invert = table.get("invert", False)
            if not isinstance(invert, bool):
                raise fail(f"'invert' in [{section}] must be true or false", line("invert"))
            axis_deadzone = None
            if "deadzone" in table:
                axis_deadzone = _deadzone(table["deadzone"], lambda w: fail(w, line("deadzone")))
            axes[name] = AxisBinding(name=name, help=help_text, stick=stick, invert=invert,
                                     deadzone=axis_deadzone, **lists)
    return actions, axes, deadzone


def _names(value: Any, section: str, key: str, line, fail) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise fail(f"{key!r} in [{section}] must be a list of names like [\"a\", \"b\"]",
                   line(key))
    return tuple(value)


def _deadzone(value: Any, fail) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(f"deadzone must be a number from 0 to {MAX_DEADZONE}, not {value!r}")
    if not 0.0 <= value <= MAX_DEADZONE:
        raise fail(f"deadzone must be from 0 to {MAX_DEADZONE}, not {value}")
    return float(value)


def _line_of(text: str, section: str | None, key: str, value: str | None = None) -> int:
    """1-based line where ``key`` (or its ``value``) is written inside ``section``.

    A best-effort search of the text, since tomllib gives no positions: first the
    section's header, then from there the value (quoted) or the key.
    """
    lines = text.splitlines()
    start = 0
    if section is not None:
        parts = [re.escape(p) for p in section.split(".")]
        header = r"^\s*\[\s*" + r"\s*\.\s*".join(f"[\"']?{p}[\"']?" for p in parts) + r"\s*\]"
        for i, ln in enumerate(lines):
            if re.search(header, ln):
                start = i
                break
        else:  # dotted keys or inline tables: find the parent's header, then the name
            parent, _, leaf = section.rpartition(".")
            if parent:
                start = _line_of(text, parent, leaf) - 1
            else:
                start = _line_of(text, None, section) - 1
    patterns = []
    if value is not None:
        patterns.append(re.compile(r"[\"']" + re.escape(value) + r"[\"']"))
    patterns.append(re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*[=.]"))
    patterns.append(re.compile(r"\[[^\]]*\b" + re.escape(key) + r"\b[^\]]*\]"))
    patterns.append(re.compile(r"\b" + re.escape(key) + r"\b"))
    for pattern in patterns:
        for i in range(start, len(lines)):
            if pattern.search(lines[i].split("#", 1)[0] if value is None else lines[i]):
                return i + 1
    return start + 1


def _key_code(name: str) -> int | None:
    """pygame key code for a key name ("escape", "left shift", "=", "kp_plus"), or None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # key_code warns before pygame.init(); names still work
        try:
            return pygame.key.key_code(name)
        except (ValueError, pygame.error):
            pass
    for candidate in (f"K_{name}", f"K_{name.upper()}", f"K_{name.lower()}"):
        code = getattr(pygame, candidate, None)
        if isinstance(code, int):
            return code
    return None


def _key_text(name: str) -> str:
    """Human name of a key as written in the file: "Esc", "F1", "Left Shift", "Arrow Up"."""
    code = _key_code(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sdl_name = pygame.key.name(code, use_compat=False) if code is not None else name
    low = sdl_name.lower()
    if low in _KEY_TEXT:
        return _KEY_TEXT[low]
    if len(sdl_name) == 1:
        return sdl_name.upper()
    return " ".join(w[:1].upper() + w[1:] for w in sdl_name.split(" "))


def _pair_text(negative: list[str], positive: list[str]) -> str:
    if not negative and not positive:
        return ""
    if not negative:
        return ", ".join(positive)
    if not positive:
        return ", ".join(negative)
    return f"{', '.join(negative)} / {', '.join(positive)}"


def _replace_help(binding: Any, help_text: str) -> Any:
    return replace(binding, help=help_text)


def _instance(event: pygame.event.Event) -> int:
    return int(getattr(event, "instance_id", getattr(event, "which", 0)))


def _pos(event: pygame.event.Event) -> tuple[int, int] | None:
    pos = getattr(event, "pos", None)
    return None if pos is None else (int(pos[0]), int(pos[1]))


def _normalise(value: float) -> float:
    """SDL axis value (-32768..32767, or a float already in [-1, 1]) to [-1, 1]."""
    if isinstance(value, float) and -1.0 <= value <= 1.0:
        return value
    v = float(value)
    v = v / AXIS_RAW_MAX if v >= 0 else v / AXIS_RAW_MIN
    return max(-1.0, min(1.0, v))
