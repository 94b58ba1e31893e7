"""The engine and the CLI, driven headless with real pygame events and real exported models."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pygame
import pytest

from latent_odyssey.game.capture.encoder import VideoRecorder
from latent_odyssey.game.cli import main
from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.overlay import HelpOverlay, PauseOverlay
from latent_odyssey.game.engine.scene import ModeScene
from latent_odyssey.game.modes.navigator.scene import NavigatorScene
from latent_odyssey.game.play import Game

DT = 1 / 60
pytestmark = pytest.mark.usefixtures("isolated")  # conftest: no shipped/user models, tmp config


@pytest.fixture
def engine(start_engine, exported_models):
    return start_engine(exported_models["2d"], seed=3)


def frames(eng: Game, n: int) -> None:
    for _ in range(n):
        eng.loop_once(DT)


def key_down(key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))


def key_up(key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))


def tap(eng: Game, key: int) -> None:
    """Press and release a key over two frames."""
    key_down(key)
    eng.loop_once(DT)
    key_up(key)
    eng.loop_once(DT)


def notices(eng: Game) -> list[str]:
    return [text for text, _ in eng.ctx.notices]


# ----------------------------------------------------------------------------- movement


def test_holding_d_moves_right_and_release_stops(engine):
    nav = engine.mode_scene
    assert isinstance(nav, NavigatorScene)
    start = nav.position
    key_down(pygame.K_d)
    frames(engine, 30)
    moved = nav.position
    assert moved[0] > start[0] + 0.05 * nav.span2[0]
    assert moved[1] == pytest.approx(start[1])
    key_up(pygame.K_d)
    frames(engine, 2)
    still = nav.position
    frames(engine, 10)
    assert np.allclose(nav.position, still)


def test_class_key_glides_to_centroid(engine):
    nav = engine.mode_scene
    target = nav.project(nav.centroids[3])
    key_down(pygame.K_3)
    frames(engine, 12)  # ~0.2 s: on the way, not there yet
    key_up(pygame.K_3)
    mid = nav.z.copy()
    assert not np.allclose(mid, target)
    frames(engine, 60)
    assert nav.selected == 3
    assert np.allclose(nav.z, target)


def test_random_jump_changes_position_deterministically(exported_models, engine):
    nav = engine.mode_scene
    before = nav.z.copy()
    tap(engine, pygame.K_r)
    frames(engine, 40)
    after = nav.z.copy()
    assert not np.allclose(before, after)
    other = Game(exported_models["2d"], headless=True, seed=3)
    try:
        other.loop_once(DT)
        tap(other, pygame.K_r)
        frames(other, 40)
        assert np.allclose(other.mode_scene.z, after)  # same seed, same jump
    finally:
        other.shutdown()


def test_controller_stick_and_button(engine):
    nav = engine.mode_scene
    start = nav.position
    pygame.event.post(pygame.event.Event(
        pygame.CONTROLLERAXISMOTION, instance_id=7, axis=pygame.CONTROLLER_AXIS_LEFTX, value=32767))
    frames(engine, 20)
    assert nav.position[0] > start[0]
    pygame.event.post(pygame.event.Event(
        pygame.CONTROLLERAXISMOTION, instance_id=7, axis=pygame.CONTROLLER_AXIS_LEFTX, value=0))
    pygame.event.post(pygame.event.Event(
        pygame.CONTROLLERBUTTONDOWN, instance_id=7, button=pygame.CONTROLLER_BUTTON_RIGHTSHOULDER))
    frames(engine, 1)
    assert nav.selected == 1  # class_next from 0


def test_controller_hotplug_notices(engine):
    pygame.event.post(pygame.event.Event(pygame.CONTROLLERDEVICEADDED, device_index=0))
    frames(engine, 1)
    assert any(n.startswith("Controller connected") for n in notices(engine))
    pygame.event.post(pygame.event.Event(pygame.CONTROLLERDEVICEREMOVED, instance_id=0))
    frames(engine, 1)
    assert "Controller disconnected; keyboard active" in notices(engine)
    assert engine.running


# ----------------------------------------------------------------------------- overlays


def test_help_overlay_pushed_on_f1_and_popped_on_esc(engine):
    tap(engine, pygame.K_F1)
    assert isinstance(engine.stack.top, HelpOverlay)
    titles = [title for title, _ in engine.stack.top.sections]
    assert titles == ["Everywhere", "Navigator"]
    rows = [row[0] for _, rows in engine.stack.top.sections for row in rows]
    assert "Zoom in" in rows and "Glide to class 0-9" in rows
    tap(engine, pygame.K_ESCAPE)
    assert isinstance(engine.stack.top, NavigatorScene)
    assert engine.running
    tap(engine, pygame.K_ESCAPE)
    assert not engine.running


def test_help_overlay_toggles_and_controller_back(engine):
    pygame.event.post(pygame.event.Event(
        pygame.CONTROLLERBUTTONDOWN, instance_id=2, button=pygame.CONTROLLER_BUTTON_BACK))
    frames(engine, 1)
    assert isinstance(engine.stack.top, HelpOverlay)
    tap(engine, pygame.K_F1)
    assert isinstance(engine.stack.top, NavigatorScene)


def test_pause_freezes_the_mode(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_p)
    assert isinstance(engine.stack.top, PauseOverlay)
    before = nav.position
    key_down(pygame.K_d)
    frames(engine, 20)
    assert np.allclose(nav.position, before)
    key_up(pygame.K_d)
    tap(engine, pygame.K_p)
    assert engine.stack.top is nav


def test_window_close_quits(engine):
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    frames(engine, 1)
    assert not engine.running


# ----------------------------------------------------------------------------- modes and models


class StandIn(ModeScene):
    """A mode that implements the protocol with nothing behind it."""

    title = "Stand-in"

    @classmethod
    def supports(cls, meta):
        return None

    def help_rows(self, inp):
        return []

    def latent(self):
        return None

    def snapshot(self):
        return {}

    def restore(self, state, dt=0.0):
        pass


class Flight3D(StandIn):
    """A stand-in mode that needs three latent dims (registered in the engine for a test)."""

    name = "flight3d"

    @classmethod
    def supports(cls, meta):
        return None if meta.latent_dim >= 3 else "Needs a 3-D model"


class Exploding(StandIn):
    """A mode that accepts any model but fails to start."""

    def enter(self, ctx):
        raise RuntimeError("boom")


def test_unsupported_or_missing_modes_keep_the_navigator(engine, monkeypatch):
    nav = engine.mode_scene
    tap(engine, pygame.K_F3)  # odyssey: a 2-D model cannot fly, and no other model exists
    assert engine.mode_name == "navigator" and engine.mode_scene is nav
    assert any("Odyssey" in n for n in notices(engine))
    tap(engine, pygame.K_F4)  # faces: needs a faces model
    assert engine.mode_scene is nav
    assert any("Face" in n for n in notices(engine))
    assert engine.switch_mode("no-such-mode") is False
    assert engine.mode_scene is nav
    assert "There is no mode called 'no-such-mode'." in notices(engine)
    engine.modes["odyssey"] = Exploding
    assert engine.switch_mode("odyssey") is False
    assert isinstance(engine.mode_scene, NavigatorScene) and engine.mode_name == "navigator"
    assert any("failed to start" in n for n in notices(engine))
    frames(engine, 3)
    assert engine.running


def test_mode_switch_loads_a_suitable_model(exported_models, monkeypatch):
    monkeypatch.setenv("ODYSSEY_PRETRAINED", str(exported_models["2d"].parent))
    eng = Game(exported_models["2d"], headless=True)
    eng.modes["odyssey"] = Flight3D
    try:
        frames(eng, 1)
        tap(eng, pygame.K_F3)
        assert eng.mode_name == "odyssey" and isinstance(eng.mode_scene, Flight3D)
        assert eng.ctx.model.meta.latent_dim == 3
        tap(eng, pygame.K_F2)
        assert eng.mode_name == "navigator" and eng.ctx.model.meta.latent_dim == 3
    finally:
        eng.shutdown()


def test_next_model_cycles_and_recreates_the_scene(exported_models, monkeypatch):
    folder = exported_models["2d"].parent
    monkeypatch.setenv("ODYSSEY_PRETRAINED", str(folder))
    eng = Game(exported_models["2d"], headless=True)
    try:
        frames(eng, 1)
        first = eng.mode_scene
        tap(eng, pygame.K_m)
        assert eng.ctx.model.path.name == exported_models["3d"].name
        assert eng.mode_scene is not first and isinstance(eng.mode_scene, NavigatorScene)
        assert eng.mode_scene.meta.latent_dim == 3
        tap(eng, pygame.K_m)
        assert eng.ctx.model.path.name == exported_models["2d"].name
    finally:
        eng.shutdown()


def test_next_model_alone_says_so(engine):
    tap(engine, pygame.K_m)
    assert any(n.startswith("No other models") for n in notices(engine))


# ----------------------------------------------------------------------------- window, screenshots, HUD


def test_fullscreen_toggle_survives_the_dummy_driver(engine):
    tap(engine, pygame.K_F11)
    frames(engine, 2)
    tap(engine, pygame.K_F11)
    frames(engine, 2)
    assert engine.running and not engine.fullscreen
    assert engine.surface.get_size() == (1280, 720)


def test_screenshot_key_writes_a_png(engine, tmp_path):
    tap(engine, pygame.K_F12)
    shots = list((tmp_path / "captures").glob("odyssey-*.png"))
    assert len(shots) == 1
    assert pygame.image.load(str(shots[0])).get_size() == (1280, 720)
    assert any(n.startswith("Screenshot saved") for n in notices(engine))


def test_hud_toggle(engine):
    assert engine.ctx.show_hud
    tap(engine, pygame.K_h)
    assert not engine.ctx.show_hud
    assert "CPU" in engine.hud.readout_text(engine.ctx)


def test_frame_listeners_see_the_frame_before_the_hud(engine):
    seen: list[tuple[pygame.Surface, float]] = []
    engine.frame_listeners.append(lambda surface, t: seen.append((surface.copy(), t)))
    frames(engine, 3)
    assert len(seen) == 3 and seen[0][1] < seen[2][1]
    hud = pygame.Rect(1280 - 420, 0, 420, 40)  # the readout pill lives here
    before = pygame.surfarray.array3d(seen[-1][0].subsurface(hud))
    after = pygame.surfarray.array3d(engine.surface.subsurface(hud))
    assert not np.array_equal(before, after)


def test_an_exception_still_finalizes_recordings(exported_models, tmp_path):
    eng = Game(exported_models["2d"], headless=True, size=(320, 240))
    video = tmp_path / "rec.mp4"
    rec = VideoRecorder(video, (320, 240), fps=30, blocking=True)
    rec.start()
    count = [0]

    def listener(surface, t):
        rec.submit(pygame.surfarray.array3d(surface).transpose(1, 0, 2), t)  # (H, W, 3)
        count[0] += 1
        if count[0] == 5:
            raise RuntimeError("a bug in a scene")

    eng.frame_listeners.append(listener)
    with pytest.raises(RuntimeError):
        eng.run(frames=50)
    assert video.is_file() and video.stat().st_size > 0
    assert not list(tmp_path.glob("*.partial.*"))


def test_rendered_frame_has_an_image_and_class_colours(engine):
    frames(engine, 3)
    nav = engine.mode_scene
    image = pygame.surfarray.array3d(engine.surface.subsurface(nav.layout.image.inflate(-8, -8)))
    assert image.std() > 1.0 and len(np.unique(image)) > 10  # a decoded image, not a flat panel
    area = pygame.surfarray.array3d(engine.surface.subsurface(nav.map_rect)).reshape(-1, 3).astype(int)
    hits = 0
    for colour in ui.CLASS_COLOURS:  # sample dots (translucent) and centroid rings (opaque)
        blended = np.array(colour) * 170 / 255 + np.array((16, 19, 32)) * 85 / 255
        near = (np.abs(area - blended).sum(axis=1) < 12) | (np.abs(area - np.array(colour)).sum(axis=1) < 12)
        if near.sum() > 20:
            hits += 1
    assert hits >= 5


# ----------------------------------------------------------------------------- CLI


def test_cli_headless_screenshot_has_the_requested_size(exported_models, tmp_path):
    out = tmp_path / "shots" / "nav.png"
    rc = main(["--headless", "--frames", "5", "--size", "640x400", "--screenshot", str(out),
               "--model", str(exported_models["2d"])])
    assert rc == 0
    assert pygame.image.load(str(out)).get_size() == (640, 400)


def test_cli_default_plays_the_shipped_model(exported_models, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    shutil.copy(exported_models["2d"], shipped / "mnist-2d.onnx")
    monkeypatch.setenv("ODYSSEY_PRETRAINED", str(shipped))
    out = tmp_path / "x.png"
    assert main(["--headless", "--frames", "2", "--screenshot", str(out)]) == 0
    assert out.is_file()


@pytest.mark.parametrize(
    "argv, expect",
    [
        (["--model", "no-such-model"], "No model named 'no-such-model'"),
        (["--model", "/nowhere/x.onnx"], "does not exist"),
        (["--size", "0x0"], "window size '0x0'"),
        (["--size", "abc"], "window size 'abc'"),
        (["--mode", "warp"], "invalid choice"),
        (["--frames", "-3"], "must be at least 1"),
        (["--headless"], "--headless needs --frames"),
        (["info"], "required"),
        (["--bogus"], "Unrecognized arguments: --bogus"),
    ],
)
def test_cli_bad_input_is_one_sentence(argv, expect, capsys, exported_models):
    if "--model" not in argv and argv[:1] != ["info"]:
        argv = [*argv, "--model", str(exported_models["2d"])]
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc != 0
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert expect in lines[0] and "Traceback" not in err


def test_cli_corrupt_model_and_unwritable_screenshot(capsys, tmp_path, exported_models):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not an onnx file" * 10)
    assert main(["--headless", "--frames", "1", "--model", str(junk)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "junk.onnx is not a readable ONNX model" in err
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    rc = main(["--headless", "--frames", "1", "--model", str(exported_models["2d"]),
               "--screenshot", str(blocker / "shot.png")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err
    rc = main(["--headless", "--frames", "1", "--model", str(exported_models["2d"]),
               "--screenshot", str(tmp_path / "shot.jpg")])
    assert rc == 2 and "must end in .png" in capsys.readouterr().err


def test_cli_info_describes_the_model(exported_models, capsys):
    from latent_odyssey.game.model.modelfile import open_model

    _, meta = open_model(exported_models["2d"], "cpu")
    assert main(["info", str(exported_models["2d"])]) == 0
    out = capsys.readouterr().out
    assert meta.name in out
    assert "latent dim      2" in out
    for word in ("classes (10)", "centroids", "metrics", "training", "encoder file", "attributes"):
        assert word in out


def test_cli_info_by_name(exported_models, monkeypatch, capsys):
    monkeypatch.setenv("ODYSSEY_MODELS", str(Path(exported_models["3d"]).parent))
    name = exported_models["3d"].name[: -len(".onnx")]
    assert main(["info", name]) == 0
    assert "latent dim      3" in capsys.readouterr().out
