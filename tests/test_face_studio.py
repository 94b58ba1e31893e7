"""The Face Morphing Studio on a real tiny faces model, driven by posted pygame events."""

from __future__ import annotations

import shutil

import numpy as np
import pygame
import pytest

from latent_odyssey.export.density import write_metadata
from latent_odyssey.game.engine.input import DEFAULT_CONTROLS_PATH, InputMap, InputState
from latent_odyssey.game.engine.scene import GameContext, ModelHandle
from latent_odyssey.game.model.decoder import Decoder
from latent_odyssey.game.model.modelfile import open_model
from latent_odyssey.game.model.morph import ease_in_out, lerp, slerp
from latent_odyssey.game.modes.faces.scene import (
    GRID_VALUES,
    MORPH_S,
    SLIDER_MAX,
    SLIDER_UNITS_PER_S,
    STRIP_FRAMES,
    FaceStudioScene,
)
from latent_odyssey.game.modes.faces.state import SWING_UNITS
from latent_odyssey.game.modes.faces.view import SOURCE_COLOURS

DT = 1 / 120  # the engine's fixed step
SIZE = (1280, 720)
ATTRS = ("smile", "age", "gender", "glasses")


class Studio:
    """A FaceStudioScene with its own context, input and 1280x720 surface."""

    def __init__(self, path) -> None:
        session, meta = open_model(path, "cpu")
        self.meta = meta
        self.decoder = Decoder(session, meta)
        self.input = InputState(InputMap.load(DEFAULT_CONTROLS_PATH), open_controllers=False)
        self.ctx = GameContext(model=ModelHandle(path, meta, self.decoder, None, "CPU"), input=self.input, seed=7)
        self.scene = FaceStudioScene()
        self.scene.enter(self.ctx)
        self.surface = pygame.Surface(SIZE)

    def frame(self, n: int = 1) -> None:
        """n frames: events -> handle -> one fixed step -> draw."""
        for _ in range(n):
            self.input.begin_frame()
            for event in pygame.event.get():
                self.input.process_event(event)
            self.scene.handle(self.input)
            self.scene.update(DT)
            self.scene.draw(self.surface)

    def tap(self, key: int) -> None:
        key_down(key)
        self.frame()
        key_up(key)
        self.frame()

    def face_pixels(self) -> np.ndarray:
        r = self.scene.layout.face
        return pygame.surfarray.array3d(self.surface.subsurface(r)).copy()  # (W, H, 3)


def key_down(key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))


def key_up(key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))


def mouse(kind: int, pos: tuple[int, int], **extra) -> None:
    pygame.event.post(pygame.event.Event(kind, pos=pos, **extra))


def open_studio(path) -> Studio:
    """A studio on ``path`` with pygame's display and fonts up and one frame drawn."""
    pygame.display.init()
    pygame.font.init()
    pygame.event.clear()
    s = Studio(path)
    s.frame()
    return s


@pytest.fixture
def studio(exported_face_model) -> Studio:
    return open_studio(exported_face_model)


# ----------------------------------------------------------------------------- the model file


def test_face_model_carries_unit_attribute_directions(exported_face_model):
    _, meta = open_model(exported_face_model, "cpu")
    assert meta.kind == "faces"
    assert tuple(meta.attributes) == ATTRS
    for name in ATTRS:
        d = meta.attribute_array(name)
        assert d.shape == (meta.latent_dim,)
        assert np.linalg.norm(d) == pytest.approx(1.0, abs=1e-4)


def test_supports_faces_and_rejects_a_digits_model(exported_face_model, exported_models):
    assert FaceStudioScene.supports(open_model(exported_face_model, "cpu")[1]) is None
    digits = open_model(exported_models["2d"], "cpu")[1]
    reason = FaceStudioScene.supports(digits)
    assert reason == f"Face studio needs a faces model; {digits.name} is a digits model."


# ----------------------------------------------------------------------------- sliders


def test_holding_the_slider_key_moves_the_face_along_its_edit(studio):
    scene = studio.scene
    z0 = scene.z.copy()
    before = studio.face_pixels()
    assert scene.selected == 0 and scene.names[0] == "smile"
    key_down(pygame.K_d)
    studio.frame(60)  # 0.5 s
    key_up(pygame.K_d)
    studio.frame()
    value = scene.sliders[0]
    assert value == pytest.approx(60 * DT * SLIDER_UNITS_PER_S, rel=0.05)
    assert np.allclose(scene.sliders[1:], 0.0)
    field = studio.meta.edit_field("smile")  # the shipped file has one: the face's own change
    assert field is not None
    moved = scene.z - z0  # along the field's change at this face, +3 = all of it
    np.testing.assert_allclose(moved, value / SWING_UNITS * field.vector(scene.state.base), atol=1e-5)
    assert np.abs(studio.face_pixels().astype(int) - before).mean() > 0.05, "the drawn face did not change"
    studio.frame(30)
    assert scene.sliders[0] == value, "the slider kept moving after the key came up"


def test_slider_stops_at_plus_three_and_selection_moves(studio):
    scene = studio.scene
    studio.tap(pygame.K_s)  # attr_next: age
    assert scene.selected == 1
    key_down(pygame.K_RIGHT)
    studio.frame(int(2.0 / DT))  # 2 s at 2 units/s would pass +3
    key_up(pygame.K_RIGHT)
    studio.frame()
    assert scene.sliders[1] == SLIDER_MAX
    assert scene.sliders[0] == 0.0
    studio.tap(pygame.K_w)
    studio.tap(pygame.K_w)  # attr_prev twice wraps to the last attribute
    assert scene.selected == len(ATTRS) - 1


def test_reset_glides_every_slider_back_to_zero(studio):
    scene = studio.scene
    base = scene.state.base.copy()
    key_down(pygame.K_d)
    studio.frame(40)
    key_up(pygame.K_d)
    studio.tap(pygame.K_s)
    key_down(pygame.K_a)
    studio.frame(40)
    key_up(pygame.K_a)
    studio.frame()
    assert scene.sliders[0] > 0.5 and scene.sliders[1] < -0.5
    studio.tap(pygame.K_BACKSPACE)
    studio.frame(int(0.4 / DT))
    assert np.all(scene.sliders == 0.0)
    np.testing.assert_allclose(scene.z, base, atol=1e-9)


def test_random_face_is_seeded_and_new(studio, exported_face_model):
    scene = studio.scene
    z0 = scene.z.copy()
    studio.tap(pygame.K_r)
    studio.frame(int(0.5 / DT))
    assert not np.allclose(scene.z, z0)
    assert np.all(scene.sliders == 0.0)
    again = Studio(exported_face_model)  # the same seed gives the same faces
    np.testing.assert_allclose(again.scene.z, z0)


def test_mouse_drag_on_a_slider_sets_its_value(studio):
    scene = studio.scene
    row = scene.layout.rows[2]  # gender
    track = row.track
    x_at = lambda v: int(round(track.left + (v + 3.0) / 6.0 * track.w))  # noqa: E731
    mouse(pygame.MOUSEBUTTONDOWN, (x_at(1.5), track.top), button=1)
    studio.frame()
    assert scene.selected == 2
    assert scene.sliders[2] == pytest.approx(1.5, abs=0.03)
    mouse(pygame.MOUSEMOTION, (x_at(-2.0), track.top + 30), rel=(0, 0), buttons=(1, 0, 0))
    studio.frame()
    assert scene.sliders[2] == pytest.approx(-2.0, abs=0.03)
    mouse(pygame.MOUSEBUTTONUP, (x_at(-2.0), track.top), button=1)
    studio.frame()
    mouse(pygame.MOUSEMOTION, (x_at(2.0), track.top), rel=(0, 0), buttons=(0, 0, 0))
    studio.frame()
    assert scene.sliders[2] == pytest.approx(-2.0, abs=0.03), "moved after the button came up"


# ----------------------------------------------------------------------------- random faces: source, temperature


@pytest.fixture
def density_studio(density_face_model) -> Studio:
    return open_studio(density_face_model)


def bar_colours(studio: Studio) -> set[tuple[int, int, int]]:
    """The colours drawn in the source bar at the top of the face."""
    bar = studio.scene.layout.source_bar
    pixels = pygame.surfarray.array3d(studio.surface.subsurface(bar)).reshape(-1, 3)
    return {tuple(int(v) for v in p) for p in pixels}


def test_random_faces_come_from_the_density_and_o_cycles_the_source(density_studio):
    studio, scene = density_studio, density_studio.scene
    density = studio.meta.fitted_density()
    assert scene.source == "density" and list(scene.sources) == ["density", "prior", "encoded"]
    np.testing.assert_allclose(scene.z, density.sample(1, np.random.default_rng(7))[0])  # the seed's first face
    assert SOURCE_COLOURS["density"] in bar_colours(studio)
    for expected in ("prior", "encoded", "density"):
        studio.tap(pygame.K_o)
        studio.frame(int(0.5 / DT))
        assert scene.source == expected and scene.anim is None
        source, draw, base = scene.face_draw
        assert source == expected
        np.testing.assert_allclose(scene.z, scene.sources[expected].latents(draw, 1.0)[0])
        assert SOURCE_COLOURS[expected] in bar_colours(studio)
        assert any("Random faces from the" in text for text, _ in studio.ctx.notices)
    def in_subspace(z: np.ndarray) -> float:  # share of the spread in the data's principal subspace
        x = z - density.mean
        return float(((x @ density.basis.T) ** 2).sum() / (x ** 2).sum())

    assert in_subspace(density.sample(400, 0)) > 0.9 > 0.3 > in_subspace(scene.sources["prior"].sample(400, 0))


def test_clicking_the_source_bar_switches_the_source(density_studio):
    studio, scene = density_studio, density_studio.scene
    bar = scene.layout.source_bar
    assert bar.w >= 150 and scene.layout.face.contains(bar)
    mouse(pygame.MOUSEBUTTONDOWN, bar.center, button=1)
    studio.frame()
    mouse(pygame.MOUSEBUTTONUP, bar.center, button=1)
    studio.frame()
    assert scene.source == "prior"


def test_the_temperature_keys_remake_the_same_face_narrower_or_wider(density_studio):
    studio, scene = density_studio, density_studio.scene
    density = studio.meta.fitted_density()
    _, draw, _ = scene.face_draw
    key_down(pygame.K_d)
    studio.frame(30)  # a slider moved: it stays through temperature changes
    key_up(pygame.K_d)
    studio.frame()
    sliders = scene.sliders.copy()
    studio.tap(pygame.K_RIGHTBRACKET)
    studio.frame(int(0.3 / DT))
    assert scene.temperature == pytest.approx(1.1)
    np.testing.assert_allclose(scene.state.base, density.latents(draw, 1.1)[0], atol=1e-9)
    np.testing.assert_allclose(scene.sliders, sliders)
    for _ in range(15):  # down to 0: the face of its component's mean
        studio.tap(pygame.K_LEFTBRACKET)
    studio.frame(int(0.3 / DT))
    assert scene.temperature == 0.0
    np.testing.assert_allclose(scene.state.base, density.mean + density.mixture.means[draw.component[0]] @ density.basis,
                               atol=1e-9)
    assert any("lowest" in text for text, _ in studio.ctx.notices)
    snap = scene.snapshot()
    assert snap["source"] == "density" and snap["temperature"] == 0.0
    studio.tap(pygame.K_r)  # the next random face is drawn at the temperature too
    studio.frame(int(0.5 / DT))
    _, draw2, _ = scene.face_draw
    np.testing.assert_allclose(scene.z, density.latents(draw2, 0.0)[0])
    scene.restore({**snap, "source": "prior", "temperature": 0.7})
    assert scene.source == "prior" and scene.temperature == 0.7
    scene.restore({**snap, "source": "nonsense", "temperature": 99})
    assert scene.source == "prior" and scene.temperature == 0.7


def test_without_a_density_the_studio_starts_from_encoded_faces(exported_face_model, tmp_path):
    for suffix in (".onnx", ".encoder.onnx"):
        shutil.copyfile(exported_face_model.with_name("faces" + suffix), tmp_path / ("faces" + suffix))
    _, meta = open_model(tmp_path / "faces.onnx", "cpu")
    meta.density = {}  # a face model exported before densities
    write_metadata(tmp_path / "faces.onnx", meta)
    studio = open_studio(tmp_path / "faces.onnx")
    scene = studio.scene
    assert scene.source == "encoded" and list(scene.sources) == ["prior", "encoded"]
    samples, _ = meta.sample_array()
    assert np.min(np.abs(samples - scene.z).max(axis=1)) < 1e-6  # one of the stored faces
    studio.tap(pygame.K_RIGHTBRACKET)
    assert scene.temperature == 1.0
    assert any("does not change" in text for text, _ in studio.ctx.notices)


def test_help_names_the_source_and_temperature_keys(density_studio):
    rows = FaceStudioScene.help_rows(density_studio.input)
    text = {what: keys for what, keys, _ in rows}
    assert "O" in text["Random faces from: fitted density / N(0, I) / encoded"]
    assert "[" in text["Lower temperature of random faces"] and "]" in text["Higher temperature of random faces"]


# ----------------------------------------------------------------------------- slots and morph


def make_two_slots(studio: Studio) -> None:
    key_down(pygame.K_d)
    studio.frame(60)
    key_up(pygame.K_d)
    studio.tap(pygame.K_1)  # slot A: the first face, smile +1
    studio.tap(pygame.K_r)
    studio.frame(int(0.5 / DT))
    studio.tap(pygame.K_s)
    key_down(pygame.K_a)
    studio.frame(60)
    key_up(pygame.K_a)
    studio.tap(pygame.K_2)  # slot B: a random face, age -1


def test_save_a_and_b_then_morph_animates_and_ends_at_b(studio):
    scene = studio.scene
    make_two_slots(studio)
    a, b = scene.slots["A"], scene.slots["B"]
    assert a is not None and b is not None
    assert a.state.sliders[0] > 0.5 and b.state.sliders[1] < -0.5
    assert scene.strip_images is not None and len(scene.strip_images) == 2 * STRIP_FRAMES

    studio.tap(pygame.K_g)  # morph A -> B
    pixels = []
    zs = []
    for _ in range(4):
        studio.frame(int(0.4 / DT))
        zs.append(scene.z.copy())
        pixels.append(studio.face_pixels())
    assert scene.anim is not None, "the morph ended too early"
    # every sampled z lies on the segment A..B, moving from A toward B
    us = []
    for z in zs:
        u = float(np.dot(z - a.z, b.z - a.z) / np.dot(b.z - a.z, b.z - a.z))
        np.testing.assert_allclose(z, lerp(a.z, b.z, np.array([u]))[0], atol=1e-6)
        us.append(u)
    assert 0.0 < us[0] < us[1] < us[2] < us[3] < 1.0
    assert np.abs(pixels[0].astype(int) - pixels[3]).mean() > 0.01, "the drawn face did not animate"
    studio.frame(int((MORPH_S - 1.6 + 0.2) / DT))
    assert scene.anim is None
    np.testing.assert_allclose(scene.z, b.z, atol=1e-9)
    np.testing.assert_allclose(scene.sliders, b.state.sliders)
    assert scene.at_slot() == "B"

    studio.tap(pygame.K_g)  # again: back to A (ping-pong)
    studio.frame(int((MORPH_S + 0.2) / DT))
    np.testing.assert_allclose(scene.z, a.z, atol=1e-9)
    assert scene.at_slot() == "A"


def test_spherical_morph_follows_the_great_circle(studio):
    scene = studio.scene
    make_two_slots(studio)
    a, b = scene.slots["A"].z, scene.slots["B"].z
    studio.tap(pygame.K_l)  # slerp
    assert scene.spherical
    studio.tap(pygame.K_g)
    t0 = scene.anim.t0
    studio.frame(int(0.9 / DT))
    e = ease_in_out((scene.t - t0) / MORPH_S)
    np.testing.assert_allclose(scene.z, slerp(a, b, np.array([e]))[0], atol=1e-6)
    assert not np.allclose(scene.z, lerp(a, b, np.array([e]))[0], atol=1e-3)


def test_morph_without_slots_says_what_to_do(studio):
    studio.tap(pygame.K_g)
    assert studio.scene.anim is None
    assert any("slot" in text for text, _ in studio.ctx.notices)


def test_strip_is_decoded_in_one_run(studio):
    scene = studio.scene
    key_down(pygame.K_d)
    studio.frame(30)
    key_up(pygame.K_d)
    studio.tap(pygame.K_1)
    studio.tap(pygame.K_r)
    studio.frame(int(0.5 / DT))
    key_down(pygame.K_2)
    studio.input.begin_frame()
    for event in pygame.event.get():
        studio.input.process_event(event)
    scene.handle(studio.input)  # saves B (the face on screen: a cache hit)
    runs = studio.decoder.runs
    scene.draw(studio.surface)
    assert studio.decoder.runs == runs + 1
    assert len(scene.strip_images) == 2 * STRIP_FRAMES
    key_up(pygame.K_2)
    studio.frame()


# ----------------------------------------------------------------------------- grid


def test_grid_decodes_28_images_in_one_run_and_caches_them(studio):
    scene = studio.scene
    for i in range(len(ATTRS)):  # off the grid values: no cell repeats the face itself
        scene.set_slider(i, 0.37 * (i + 1))
    studio.frame()
    runs, images = studio.decoder.runs, studio.decoder.images_decoded
    studio.tap(pygame.K_y)  # grid on (the face itself is cached)
    assert scene.show_grid
    assert studio.decoder.runs == runs + 1
    assert studio.decoder.images_decoded == images + len(ATTRS) * len(GRID_VALUES) == images + 28
    assert len(scene.grid_images) == 28
    studio.frame(10)  # nothing changed: no decoding at all
    assert studio.decoder.runs == runs + 1
    # a slider change: the face reaches the screen at once (one image in one run) ...
    key_down(pygame.K_d)
    studio.frame()
    key_up(pygame.K_d)
    assert studio.decoder.runs == runs + 2
    assert studio.decoder.images_decoded - images - 28 == 1
    # ... and once the slider is still, the grid catches up: the rows that changed, in one run
    studio.frame()
    assert studio.decoder.runs == runs + 3
    assert studio.decoder.images_decoded - images - 28 == 1 + 3 * len(GRID_VALUES)
    # row i, column c is the face with slider i at GRID_VALUES[c]
    zs = scene.grid_latents()
    d = scene.edit.dirs(scene.state.base)
    i, c = 2, 6
    expect = scene.state.base + np.delete(scene.state.sliders, i) @ np.delete(d, i, axis=0) + GRID_VALUES[c] * d[i]
    np.testing.assert_allclose(zs[i * len(GRID_VALUES) + c], expect, atol=1e-9)


def test_clicking_a_grid_cell_sets_that_slider(studio):
    scene = studio.scene
    studio.tap(pygame.K_y)
    cell = scene.layout.rows[3].cells[6]  # glasses +3
    mouse(pygame.MOUSEBUTTONDOWN, cell.center, button=1)
    studio.frame()
    mouse(pygame.MOUSEBUTTONUP, cell.center, button=1)
    studio.frame()
    assert scene.selected == 3
    assert scene.sliders[3] == 3.0


def test_draws_at_small_and_odd_window_sizes(studio):
    scene = studio.scene
    studio.tap(pygame.K_y)
    for size in ((320, 200), (1920, 1080), (800, 900)):
        surface = pygame.Surface(size)
        scene.draw(surface)
        assert scene.layout.size == size


# ----------------------------------------------------------------------------- in the engine


def test_engine_plays_the_studio(isolated, exported_face_model):
    from latent_odyssey.game.play import Game

    eng = Game(exported_face_model, mode="faces", headless=True, size=SIZE, seed=3)
    try:
        eng.loop_once(1 / 60)
        scene = eng.mode_scene
        assert eng.mode_name == "faces" and isinstance(scene, FaceStudioScene)
        key_down(pygame.K_d)
        for _ in range(30):  # 0.5 s
            eng.loop_once(1 / 60)
        key_up(pygame.K_d)
        eng.loop_once(1 / 60)
        assert scene.sliders[0] == pytest.approx(1.0, rel=0.05)
        help_text = repr(eng.help_overlay().sections)
        assert "Store this face in slot A" in help_text and "Move the selected slider" in help_text
        shot = eng.save_frame(isolated / "studio.png")
        assert pygame.image.load(str(shot)).get_size() == SIZE
    finally:
        eng.shutdown()


def test_engine_refuses_faces_for_a_digits_model_and_switches_when_it_can(isolated, monkeypatch,
                                                                         exported_models, exported_face_model):
    from latent_odyssey.game.play import Game

    eng = Game(exported_models["2d"], headless=True, size=SIZE, seed=3)
    try:
        eng.loop_once(1 / 60)
        key_down(pygame.K_F4)
        eng.loop_once(1 / 60)
        key_up(pygame.K_F4)
        eng.loop_once(1 / 60)
        assert eng.mode_name == "navigator"
        assert any("Face studio needs a faces model" in text for text, _ in eng.ctx.notices)
        monkeypatch.setenv("ODYSSEY_MODELS", str(exported_face_model.parent))
        assert eng.switch_mode("faces")
        eng.loop_once(1 / 60)
        assert eng.mode_name == "faces" and isinstance(eng.mode_scene, FaceStudioScene)
        assert eng.ctx.model.meta.kind == "faces"
    finally:
        eng.shutdown()
