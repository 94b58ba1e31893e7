"""The Learn panel: opened by F5 or a long press of the controller's Back, its cards read the
model file, its KL bars are to scale, and each experiment starts with one key."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest
from gamekeys import DT, frames, tap

from latent_odyssey.game.engine.learn import (
    CONCEPTS,
    EXPERIMENTS,
    LONG_PRESS_S,
    LearnOverlay,
    draw_kl_bars,
    kl_per_dim,
    wrap,
)
from latent_odyssey.game.engine.overlay import HelpOverlay
from latent_odyssey.game.model.modelfile import open_model

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def shelf(tmp_path, monkeypatch, exported_models, exported_face_model) -> Path:
    """A model folder with mnist-2d, mnist-3d and faces (links to the shipped copies)."""
    folder = tmp_path / "shelf"
    folder.mkdir()
    for decoder in (exported_models["2d"], exported_models["3d"], exported_face_model):
        for f in decoder.parent.glob(decoder.stem + "*.onnx"):
            (folder / f.name).symlink_to(f)
    monkeypatch.setenv("ODYSSEY_PRETRAINED", str(folder))
    return folder


@pytest.fixture
def engine(start_engine, shelf):
    return start_engine(shelf / "mnist-2d.onnx", seed=9)






def back(eng, down: bool) -> None:
    kind = pygame.CONTROLLERBUTTONDOWN if down else pygame.CONTROLLERBUTTONUP
    pygame.event.post(pygame.event.Event(kind, instance_id=3, button=pygame.CONTROLLER_BUTTON_BACK))


def test_f5_opens_and_closes_the_panel_and_the_keys_choose_cards(engine):
    tap(engine, pygame.K_F5)
    panel = engine.stack.top
    assert isinstance(panel, LearnOverlay) and panel.selected == 0
    tap(engine, pygame.K_DOWN)
    tap(engine, pygame.K_DOWN)
    assert panel.item is CONCEPTS[2]  # KL divergence
    tap(engine, pygame.K_UP)
    tap(engine, pygame.K_UP)
    tap(engine, pygame.K_UP)
    assert panel.item is EXPERIMENTS[-1]  # wraps round to the last experiment
    tap(engine, pygame.K_F5)
    assert engine.stack.top is engine.mode_scene


def test_a_long_press_of_back_opens_learn_and_a_short_one_help(engine):
    back(engine, True)
    frames(engine, 2)
    back(engine, False)
    frames(engine, 1)
    assert isinstance(engine.stack.top, HelpOverlay)
    tap(engine, pygame.K_F1)
    back(engine, True)
    frames(engine, 1)
    assert isinstance(engine.stack.top, HelpOverlay)  # at first, help ...
    frames(engine, round(LONG_PRESS_S / DT) + 2)
    assert isinstance(engine.stack.top, LearnOverlay)  # ... held on, the Learn panel
    back(engine, False)
    frames(engine, 3)
    assert isinstance(engine.stack.top, LearnOverlay)


def test_cards_use_the_model_file(exported_models):
    _, meta = open_model(exported_models["2d"], "cpu")
    text = {c.title: " ".join(c.lines(meta)) for c in CONCEPTS}
    t = meta.training
    assert t["warmup_epochs"] == 10 and t["parameters"] == 1_751_877  # the shipped mnist-2d
    assert "β rose linearly from 0 to 1 over the first 10 epochs" in text["β and its warm-up"]
    assert f"{sum(meta.metrics['kl_per_dim_nats']):.2f} nats" in text["KL divergence"]
    assert "1×28×28 pictures, a 2-D latent, 1.8 M parameters" in text["VAE architecture"]
    assert "392x fewer" in text["Dimensionality reduction"]
    assert kl_per_dim(meta) == pytest.approx(meta.metrics["kl_per_dim_nats"])


@pytest.mark.parametrize("size", [(1280, 720), (800, 600)])
def test_every_card_fits_the_panel(exported_models, size):
    import latent_odyssey.game.engine.ui as ui

    _, meta = open_model(exported_models["2d"], "cpu")
    panel = LearnOverlay(meta, "navigator", lambda exp: None)
    for i in range(len(panel.items)):
        panel.selected = i
        out = panel.render(size)
        assert out.get_size() == size
    for c in CONCEPTS:  # no line needs more than two wrapped lines at the card's width
        for line in c.lines(meta):
            assert len(wrap(line, 20, 760)) <= 2
        assert c.see.get("*")
    assert all(ui.font(16).size(e.title)[0] < 280 for e in EXPERIMENTS)


def test_kl_bars_are_drawn_to_scale():
    surface = pygame.Surface((300, 140))
    surface.fill((0, 0, 0))
    kl = [1.0, 3.0, 2.0]
    rect = pygame.Rect(10, 10, 280, 120)
    draw_kl_bars(surface, rect, kl)
    px = pygame.surfarray.array3d(surface).transpose(1, 0, 2)
    bar_area = px[rect.top : rect.bottom - 16]  # above the labels
    heights = []
    for i in range(3):
        x = rect.left + int((i + 0.5) * (rect.width / 3))
        heights.append(int((bar_area[:, x].sum(axis=1) > 0).sum()))
    assert heights[1] == max(heights)
    assert heights[0] / heights[1] == pytest.approx(1 / 3, abs=0.03)
    assert heights[2] / heights[1] == pytest.approx(2 / 3, abs=0.03)


def test_experiment_1_morphs_from_3_to_8(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_F5)
    tap(engine, pygame.K_1)
    assert engine.stack.top is nav and nav.morphing
    assert any("Morph 3 to 8" in text for text, _ in engine.ctx.notices)
    frames(engine, 45)
    assert nav.nearest_class()[0] == 3  # first at the 3s
    frames(engine, 400)
    assert nav.nearest_class()[0] == 8 and not nav.morphing  # then it arrived at the 8s


def test_experiments_2_3_4_set_up_the_navigator(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_F5)
    tap(engine, pygame.K_2)
    frames(engine, 60)
    assert nav.show_grid and nav.zoom > 2
    mid = (nav.centroids[4] + nav.centroids[9]) / 2
    assert np.allclose(nav.z, mid)
    tap(engine, pygame.K_F5)
    tap(engine, pygame.K_3)
    assert nav.pad_open
    tap(engine, pygame.K_F5)
    tap(engine, pygame.K_4)
    frames(engine, 60)
    assert nav.show_prior and nav.off_data() and np.linalg.norm(nav.position) <= 3.0


def test_experiment_5_switches_to_the_faces_and_sweeps_the_smile(engine):
    tap(engine, pygame.K_F5)
    tap(engine, pygame.K_5)
    studio = engine.mode_scene
    assert engine.mode_name == "faces" and engine.ctx.model.meta.kind == "faces"
    i = studio.names.index("smile")
    assert studio.selected == i and studio.sliders[i] == pytest.approx(-3.0, abs=0.05)
    frames(engine, 120)
    assert -3.0 < studio.sliders[i] < 3.0
    frames(engine, 200)
    assert studio.sliders[i] == pytest.approx(3.0)


def test_experiment_6_flies_the_tunnel(engine):
    tap(engine, pygame.K_F5)
    tap(engine, pygame.K_6)
    assert engine.mode_name == "odyssey"
    state = engine.mode_scene.snapshot()
    assert state["tunnel"] is True and state["flight_mode"] == "autopilot"
    frames(engine, 30)
    assert engine.mode_scene.snapshot()["tunnel"] is True
