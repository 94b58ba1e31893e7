"""The input layer: controls files, real pygame events in, actions and axes out."""

from __future__ import annotations

from pathlib import Path

import pygame
import pytest

from latent_odyssey.game.engine.input import (
    DEFAULT_CONTROLS_PATH,
    ControlsError,
    InputMap,
    InputState,
    load_controls,
    user_controls_path,
)

DEADZONE = 0.15  # the default in assets/controls.toml
pytestmark = pytest.mark.usefixtures("headless_pygame")  # conftest: dummy display per module


@pytest.fixture()
def state() -> InputState:
    pygame.event.clear()
    return InputState(InputMap.load(DEFAULT_CONTROLS_PATH))


def frame(state: InputState, *events: pygame.event.Event) -> None:
    """One frame: post real events, take them off pygame's queue, feed them in."""
    state.begin_frame()
    for event in events:
        pygame.event.post(event)
    for event in pygame.event.get():
        state.process_event(event)


def key(kind: int, code: int) -> pygame.event.Event:
    return pygame.event.Event(kind, key=code, mod=0)


def pad_button(kind: int, button: int, instance_id: int = 0) -> pygame.event.Event:
    return pygame.event.Event(kind, instance_id=instance_id, button=button)


def stick(axis: int, value: int, instance_id: int = 0) -> pygame.event.Event:
    return pygame.event.Event(
        pygame.CONTROLLERAXISMOTION, instance_id=instance_id, axis=axis, value=value
    )


def rescaled(raw: int) -> float:
    """Expected axis value for an SDL raw value past the default dead-zone."""
    v = raw / 32767 if raw >= 0 else -raw / 32768
    return (v - DEADZONE) / (1 - DEADZONE)


# ----- files -----


def test_defaults_load_with_every_action_and_axis():
    m = InputMap.load(DEFAULT_CONTROLS_PATH)
    expected_actions = {
        "quit", "help", "pause", "fullscreen", "screenshot", "toggle_hud", "mode_navigator",
        "mode_odyssey", "mode_faces", "next_model", "random", "class_next", "class_prev",
        *(f"class_{i}" for i in range(10)), "morph", "mark", "interpolate", "slerp_toggle",
        "zoom_in", "zoom_out", "smooth_toggle", "tunnel", "grid", "autopilot", "tour_next",
        "warp", "warp_class", "boost", "record", "layers_more", "layers_less",
        "spacing_more", "spacing_less", "save_a", "save_b",
    }
    assert expected_actions <= set(m.actions)
    assert {"move_x", "move_y", "pitch", "yaw", "roll", "thrust", "brake", "slider"} <= set(m.axes)
    assert m.deadzone == pytest.approx(DEADZONE)
    assert all(b.help for b in m.actions.values())
    assert all(b.help for b in m.axes.values())
    assert m.actions["quit"].keys == ("escape",)
    assert m.actions["help"].buttons == ("back",)
    assert m.axes["move_y"].invert is True


def test_user_file_replaces_a_whole_binding(tmp_path: Path, state: InputState):
    user = tmp_path / "controls.toml"
    user.write_text('[actions.warp]\nkeys = ["x"]\n\n[settings]\ndeadzone = 0.3\n')
    m = InputMap.load(DEFAULT_CONTROLS_PATH, user)
    assert m.actions["warp"].keys == ("x",)
    assert m.actions["warp"].buttons == ()  # the whole table replaced, Y no longer warps
    assert m.actions["warp"].help == "Warp to a random point"  # help kept when left out
    assert m.deadzone == pytest.approx(0.3)
    assert m.overridden == {"warp"}
    assert m.sources == (DEFAULT_CONTROLS_PATH, user)

    s = InputState(m, open_controllers=False)
    frame(s, key(pygame.KEYDOWN, pygame.K_j))
    assert not s.pressed("warp")
    frame(s, key(pygame.KEYDOWN, pygame.K_x))
    assert s.pressed("warp")


def test_missing_user_file_is_no_overrides_unless_named(tmp_path: Path):
    missing = tmp_path / "nope.toml"
    assert InputMap.load(DEFAULT_CONTROLS_PATH, missing).overridden == frozenset()
    with pytest.raises(ControlsError, match="does not exist"):
        load_controls(environ={"ODYSSEY_CONTROLS": str(missing)})
    path, explicit = user_controls_path({"XDG_CONFIG_HOME": str(tmp_path)})
    assert path == tmp_path / "latent-odyssey" / "controls.toml" and not explicit
    assert load_controls(environ={"XDG_CONFIG_HOME": str(tmp_path)}).overridden == frozenset()


ERROR_CASES = {
    # name: (user file text, line of the mistake, words the message must hold)
    "toml_syntax": ('[actions.warp]\nkeys = ["x"\nhelp = "oops"\n', 3, "not valid TOML"),
    "unknown_action": ('[actions.quit]\nkeys = ["q"]\n\n[actions.wrap]\nkeys = ["x"]\n', 4,
                       "unknown action 'wrap'"),
    "unknown_axis": ('\n[axes.thrusty]\nstick = "leftx"\n', 2, "unknown axis 'thrusty'"),
    "unknown_key": ('[actions.pause]\nbuttons = ["start"]\nkeys = ["p", "escpe"]\n', 3,
                    "unknown key name 'escpe'"),
    "unknown_button": ('[actions.mark]\nkeys = ["space"]\n\nbuttons = ["z"]\n', 4,
                       "unknown controller button 'z'"),
    "unknown_stick": ('[axes.yaw]\npositive_keys = ["d"]\nstick = "leftz"\n', 3,
                      "unknown stick 'leftz'"),
    "unknown_field": ('[actions.mark]\nkyes = ["space"]\n', 2, "unknown field 'kyes'"),
    "unknown_mouse": ('[actions.mark]\n\nmouse = ["lft"]\n', 3, "unknown mouse button 'lft'"),
    "bad_deadzone": ('# comment\n[settings]\ndeadzone = 2\n', 3, "deadzone"),
}


@pytest.mark.parametrize("case", sorted(ERROR_CASES))
def test_errors_name_the_file_and_line(tmp_path: Path, case: str):
    text, line, words = ERROR_CASES[case]
    user = tmp_path / "my-controls.toml"
    user.write_text(text)
    with pytest.raises(ControlsError) as info:
        InputMap.load(DEFAULT_CONTROLS_PATH, user)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith(f"{user}, line {line}")
    assert words in message
    assert "\n" not in message and message.endswith(".")


def test_unknown_key_in_the_defaults_file_is_reported_too(tmp_path: Path):
    defaults = tmp_path / "controls.toml"
    defaults.write_text('[actions.quit]\nhelp = "Quit"\nkeys = ["escape", "nokey"]\n')
    with pytest.raises(ControlsError, match=r"controls\.toml, line 3: unknown key name 'nokey'"):
        InputMap.load(defaults)


def test_pygame_constant_key_names_are_accepted(tmp_path: Path):
    user = tmp_path / "c.toml"
    user.write_text('[actions.zoom_in]\nkeys = ["equals", "kp_plus"]\n')
    s = InputState(InputMap.load(DEFAULT_CONTROLS_PATH, user), open_controllers=False)
    frame(s, key(pygame.KEYDOWN, pygame.K_KP_PLUS))
    assert s.pressed("zoom_in")


# ----- keyboard and mouse -----


def test_key_press_is_pressed_one_frame_and_held_until_keyup(state: InputState):
    frame(state, key(pygame.KEYDOWN, pygame.K_r))
    assert state.pressed("random") and state.held("random")
    assert not state.pressed("warp")
    frame(state)
    assert not state.pressed("random") and state.held("random")
    frame(state, key(pygame.KEYUP, pygame.K_r))
    assert not state.held("random") and state.released("random")
    frame(state)
    assert not state.released("random")
    assert state.last_device == "keyboard"


def test_action_stays_held_while_any_of_its_keys_is_down(state: InputState):
    frame(state, key(pygame.KEYDOWN, pygame.K_LSHIFT), key(pygame.KEYDOWN, pygame.K_RSHIFT))
    frame(state, key(pygame.KEYUP, pygame.K_LSHIFT))
    assert state.held("boost") and not state.released("boost")
    frame(state, key(pygame.KEYUP, pygame.K_RSHIFT))
    assert not state.held("boost") and state.released("boost")


def test_keyboard_axis_is_plus_minus_one(state: InputState):
    frame(state, key(pygame.KEYDOWN, pygame.K_w))
    assert state.axis("thrust") == 1.0 and state.axis("move_y") == 1.0
    frame(state, key(pygame.KEYDOWN, pygame.K_LEFT))
    assert state.axis("yaw") == -1.0
    frame(state, key(pygame.KEYDOWN, pygame.K_RIGHT))
    assert state.axis("yaw") == 0.0  # both ways at once cancel
    assert state.axis("roll") == 0.0


def test_focus_loss_lets_go_of_keys(state: InputState):
    frame(state, key(pygame.KEYDOWN, pygame.K_w))
    frame(state, pygame.event.Event(pygame.WINDOWFOCUSLOST))
    assert state.axis("thrust") == 0.0 and not state.held("attr_prev")


def test_mouse_buttons_and_wheel(state: InputState):
    frame(state, pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=4, pos=(10, 20)))
    assert state.pressed("zoom_in") and state.last_device == "mouse"
    assert state.pointer == (10, 20)
    frame(state, pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(3, 4)))
    assert state.pressed("mark") and state.held("mark")
    frame(state, pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(3, 4)))
    assert state.released("mark")


def test_unknown_names_are_programming_errors(state: InputState):
    with pytest.raises(KeyError):
        state.pressed("wrap")
    with pytest.raises(KeyError):
        state.axis("thrusty")


# ----- controller -----


def test_controller_button_drives_every_action_bound_to_it(state: InputState):
    frame(state, pad_button(pygame.CONTROLLERBUTTONDOWN, pygame.CONTROLLER_BUTTON_A))
    assert state.pressed("mark") and state.pressed("tour_next") and state.pressed("confirm")
    assert state.last_device == "controller"
    frame(state, pad_button(pygame.CONTROLLERBUTTONUP, pygame.CONTROLLER_BUTTON_A))
    assert state.released("mark") and not state.held("mark")


def test_deadzone_zeroes_small_values_and_rescales_large_ones(state: InputState):
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 3000))  # ~0.09 of travel
    assert state.axis("move_x") == 0.0
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 20000))
    assert state.axis("move_x") == pytest.approx(rescaled(20000))
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 6000))  # just past the dead-zone
    assert 0.0 < state.axis("move_x") < 0.05  # continuous: no jump at the edge
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 32767))
    assert state.axis("move_x") == pytest.approx(1.0)
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, -32768))
    assert state.axis("move_x") == pytest.approx(-1.0)


def test_stick_y_inverted_so_up_is_positive_and_triggers(state: InputState):
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTY, -20000))  # SDL: pushed up
    assert state.axis("move_y") == pytest.approx(rescaled(-20000))
    assert state.axis("pitch") == pytest.approx(rescaled(-20000))
    frame(state, stick(pygame.CONTROLLER_AXIS_TRIGGERRIGHT, 32767))
    assert state.axis("thrust") == pytest.approx(1.0)
    assert state.axis("brake") == 0.0


def test_deadzone_is_radial_for_the_two_axes_of_a_stick(state: InputState):
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 3400), stick(pygame.CONTROLLER_AXIS_LEFTY, 3400))
    assert state.axis("move_x") == 0.0  # |(0.104, 0.104)| = 0.147: still inside
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTY, 30000))
    assert state.axis("move_x") > 0.0  # the whole stick is out, x follows


def test_buttons_on_an_axis(state: InputState):
    frame(state, pad_button(pygame.CONTROLLERBUTTONDOWN, pygame.CONTROLLER_BUTTON_DPAD_LEFT))
    assert state.axis("slider") == -1.0


def test_last_used_device_wins(state: InputState):
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 20000))
    assert state.last_device == "controller"
    assert state.axis("yaw") == pytest.approx(rescaled(20000))
    frame(state, key(pygame.KEYDOWN, pygame.K_a))
    assert state.last_device == "keyboard" and state.axis("yaw") == -1.0
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 1000))  # inside the dead-zone
    assert state.last_device == "keyboard" and state.axis("yaw") == -1.0
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 25000))
    assert state.last_device == "controller"
    assert state.axis("yaw") == pytest.approx(rescaled(25000))
    frame(state, stick(pygame.CONTROLLER_AXIS_LEFTX, 0))
    assert state.axis("yaw") == -1.0  # the stick let go: the held key still counts


def test_controller_removed_mid_flight_clears_its_contributions(state: InputState):
    frame(
        state,
        pad_button(pygame.CONTROLLERBUTTONDOWN, pygame.CONTROLLER_BUTTON_X, instance_id=7),
        stick(pygame.CONTROLLER_AXIS_TRIGGERRIGHT, 32767, instance_id=7),
        stick(pygame.CONTROLLER_AXIS_LEFTX, -32768, instance_id=7),
        stick(pygame.CONTROLLER_AXIS_LEFTX, 32767, instance_id=8),
    )
    assert state.held("autopilot") and state.axis("thrust") == pytest.approx(1.0)
    frame(state, pygame.event.Event(pygame.CONTROLLERDEVICEREMOVED, instance_id=7))
    assert not state.held("autopilot") and state.released("autopilot")
    assert state.axis("thrust") == 0.0
    assert state.axis("yaw") == pytest.approx(1.0)  # controller 8 is still there
    frame(state, pygame.event.Event(pygame.CONTROLLERDEVICEREMOVED, instance_id=8))
    assert state.axis("yaw") == 0.0
    frame(state, key(pygame.KEYDOWN, pygame.K_w))  # the game goes on with the keyboard
    assert state.axis("thrust") == 1.0 and state.last_device == "keyboard"


def test_hot_plug_of_a_device_that_is_gone_again_is_harmless(state: InputState):
    frame(state, pygame.event.Event(pygame.CONTROLLERDEVICEADDED, device_index=5))
    frame(state, pygame.event.Event(pygame.JOYDEVICEADDED, device_index=5))
    assert state.controllers == []


# ----- help overlay -----


def test_bindings_text_uses_human_names(state: InputState):
    rows = {help_text: (keys, pad) for help_text, keys, pad in state.bindings_text()}
    assert rows["Quit (closes an overlay first)"] == ("Esc", "")
    assert rows["Show or hide this help"] == ("F1", "Back")
    assert rows["Boost (hold)"][0] == "Left Shift, Right Shift"
    assert rows["Nose down / up"] == ("Arrow Down / Arrow Up", "Left Stick Y")
    assert rows["Thrust"] == ("W", "Right Trigger")
    only = state.bindings_text(["thrust", "warp"])
    assert [r[0] for r in only] == ["Thrust", "Warp to a random point"]


def test_bindings_text_lists_the_override(tmp_path: Path):
    user = tmp_path / "controls.toml"
    user.write_text('[actions.warp]\nhelp = "Jump!"\nkeys = ["f5", "left ctrl"]\nbuttons = ["guide"]\n')
    m = InputMap.load(DEFAULT_CONTROLS_PATH, user)
    assert m.bindings_text(["warp"]) == [("Jump!", "F5, Left Ctrl", "Guide")]
    assert ("Warp to a random point", "J", "Y") not in m.bindings_text()
