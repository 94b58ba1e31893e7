"""Engine polish: M stays in the mode, modes remember their state per model, toasts coalesce
into one stack, the help overlay shows every row at 1280x720. Real engine, real models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pygame
import pytest

from latent_odyssey.game.engine.hud import NOTICE_WIDTH, wrap_text
from latent_odyssey.game.engine.overlay import HelpOverlay
from latent_odyssey.game.engine.scene import GameContext
from latent_odyssey.game.play import Game

DT = 1 / 60


def tap(eng: Game, key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))
    eng.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))
    eng.loop_once(DT)


@pytest.fixture()
def model_folder(exported_models, exported_face_model, tmp_path, monkeypatch) -> Path:
    """A model folder with mnist-2d, mnist-3d and faces (the game's model list)."""
    folder = tmp_path / "models"
    folder.mkdir()
    for src in (exported_models["2d"], exported_models["3d"], exported_face_model):
        for f in src.parent.glob(src.stem + "*.onnx"):
            shutil.copyfile(f, folder / f.name)
    monkeypatch.setenv("ODYSSEY_PRETRAINED", str(folder))
    monkeypatch.delenv("ODYSSEY_MODELS", raising=False)
    return folder


def test_m_cycles_only_the_models_the_mode_can_show_and_never_leaves_it(model_folder) -> None:
    eng = Game(model_folder / "mnist-3d.onnx", mode="odyssey", headless=True, size=(640, 360), seed=1)
    try:
        seen = []
        for _ in range(5):
            tap(eng, pygame.K_m)
            assert eng.mode_name == "odyssey"
            seen.append(eng.ctx.model.meta.name)
        assert "mnist-2d" not in seen and {"mnist-3d", "faces"} <= set(seen)
        assert seen[0] != seen[1]
    finally:
        eng.shutdown()
    eng = Game(model_folder / "faces.onnx", mode="faces", headless=True, size=(640, 360), seed=1)
    try:
        tap(eng, pygame.K_m)  # faces is the only model the Face Studio can show
        assert eng.mode_name == "faces" and eng.ctx.model.meta.name == "faces"
        assert any("no other model" in text for text, _ in eng.ctx.notices)
    finally:
        eng.shutdown()


def test_face_studio_slots_survive_a_trip_to_another_mode(model_folder) -> None:
    eng = Game(model_folder / "faces.onnx", mode="faces", headless=True, size=(1280, 720), seed=3)
    try:
        eng.loop_once(DT)
        tap(eng, pygame.K_1)  # slot A
        tap(eng, pygame.K_r)  # another face
        tap(eng, pygame.K_2)  # slot B
        studio = eng.mode_scene
        saved = {k: v.state.base.copy() for k, v in studio.slots.items()}
        tap(eng, pygame.K_F3)  # to the Odyssey and back
        assert eng.mode_name == "odyssey"
        saved_toasts = sum(text.startswith("Saved slot") for text, _ in eng.ctx.notices)
        tap(eng, pygame.K_F4)
        back = eng.mode_scene
        assert eng.mode_name == "faces" and back is not studio
        for k in ("A", "B"):
            assert back.slots[k] is not None and (back.slots[k].state.base == saved[k]).all()
        assert sum(text.startswith("Saved slot") for text, _ in eng.ctx.notices) <= saved_toasts  # restored quietly
        tap(eng, pygame.K_n)  # the image look is global: a return does not undo it
        look = eng.ctx.image_look
        tap(eng, pygame.K_F2)
        tap(eng, pygame.K_F4)
        assert eng.ctx.image_look == look
    finally:
        eng.shutdown()


def test_toasts_coalesce_into_one_stack() -> None:
    ctx = GameContext(model=None, input=None)  # type: ignore[arg-type]  (notify needs neither)
    for n in range(5):
        ctx.notify(f"Spacing: {0.1 * n:.2f}")
    ctx.notify("Grid on")
    ctx.notify("Grid on")
    ctx.notify("Tunnel layers: 9")
    texts = [t for t, _ in ctx.notices]
    assert texts == ["Spacing: 0.40", "Grid on", "Tunnel layers: 9"]
    long_a = "Cannot write video to /a/rather/long/folder/of/captures/clip.mp4: File too large."
    long_b = "Cannot write the flight log /a/rather/long/folder/of/captures/clip.jsonl: File too large."
    ctx.notify(long_a)
    ctx.notify(long_b)  # no short topic: different messages both stay
    assert [t for t, _ in ctx.notices][-2:] == [long_a, long_b]


def test_a_long_toast_wraps_within_the_middle_of_the_window(headless_pygame) -> None:
    text = ("Autopilot paused: you have the controls and the autopilot resumes from the nearest "
            "point of the tour when you press O again, or the controller's X button, and the "
            "grid, the tunnel and the radar all keep showing what they showed before it paused")
    lines = wrap_text(text, 17, int(NOTICE_WIDTH * 1280))
    from latent_odyssey.game.engine import ui

    assert 1 < len(lines) <= 2
    assert all(ui.font(17).size(line)[0] <= NOTICE_WIDTH * 1280 for line in lines)
    assert lines[-1].endswith("…")


@pytest.mark.parametrize("mode, model", [("navigator", "mnist-2d.onnx"), ("odyssey", "mnist-3d.onnx"),
                                         ("faces", "faces.onnx")])
def test_the_help_overlay_shows_every_row_at_1280x720(model_folder, mode, model) -> None:
    eng = Game(model_folder / model, mode=mode, headless=True, size=(1280, 720), seed=1)
    try:
        tap(eng, pygame.K_F1)
        help_overlay = eng.stack.top
        assert isinstance(help_overlay, HelpOverlay)
        assert help_overlay.rows_total > 20 and help_overlay.rows_shown == help_overlay.rows_total
    finally:
        eng.shutdown()


def test_the_help_overlay_fits_even_a_very_long_list(headless_pygame) -> None:
    rows = [(f"Action number {i} does something", f"Key {i}", "Button") for i in range(70)]
    overlay = HelpOverlay([("Everywhere", rows[:14]), ("A mode", rows[14:])])
    surface = overlay.render((1280, 720))
    assert surface.get_size() == (1280, 720)
    assert overlay.rows_total == 70 and overlay.rows_shown == 70
