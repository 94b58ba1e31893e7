"""The Odyssey scene: real exported models, real pygame events and surfaces, headless."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pygame
import pytest

from latent_odyssey.game.engine import ui
from latent_odyssey.game.engine.input import DEFAULT_CONTROLS_PATH, InputMap, InputState
from latent_odyssey.game.engine.scene import GameContext, ModelHandle
from latent_odyssey.game.model.decoder import Decoder
from latent_odyssey.game.model.modelfile import METADATA_KEY, ModelMeta, open_model
from latent_odyssey.game.modes.odyssey.minimap import HEIGHT_LEVELS, Minimap
from latent_odyssey.game.modes.odyssey.scene import (
    JOIN_S,
    LAYERS_DEFAULT,
    TOUR_SPEED_FRACTION,
    WARP_S,
    OdysseyScene,
)

DT = 1.0 / 120.0  # fixed simulation step
SIZE = (640, 360)
pytestmark = pytest.mark.usefixtures("headless_pygame")  # conftest: display + fonts per module


class Rig:
    """A scene on a real model with a real input state, stepped frame by frame."""

    def __init__(self, path: Path, prefetch: bool = False, size=SIZE) -> None:
        sess, meta = open_model(path, "cpu")
        self.decoder = Decoder(sess, meta)
        self.inp = InputState(InputMap.load(DEFAULT_CONTROLS_PATH), open_controllers=False)
        self.ctx = GameContext(model=ModelHandle(Path(path), meta, self.decoder, None, "CPU"), input=self.inp)
        self.scene = OdysseyScene(prefetch=prefetch)
        self.scene.enter(self.ctx)
        self.surface = pygame.Surface(size)
        pygame.event.clear()

    def frame(self, *events: pygame.event.Event, steps: int = 2, draw: bool = True) -> None:
        """One frame: post events, feed them, handle, `steps` fixed updates, draw."""
        for e in events:
            pygame.event.post(e)
        self.inp.begin_frame()
        for e in pygame.event.get():
            self.inp.process_event(e)
        self.scene.handle(self.inp)
        for _ in range(steps):
            self.scene.update(DT)
            self.ctx.time_s += DT
        if draw:
            self.scene.draw(self.surface)

    def tap(self, key: int, **kw) -> None:
        self.frame(down(key), **kw)
        self.frame(up(key), **kw)


def down(key: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=key, mod=0)


def up(key: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYUP, key=key, mod=0)


@pytest.fixture()
def rig(exported_models):
    r = Rig(exported_models["3d"])
    yield r
    r.scene.exit()


def test_supports_rejects_a_2d_model(exported_models) -> None:
    _, meta2 = open_model(exported_models["2d"], "cpu")
    _, meta3 = open_model(exported_models["3d"], "cpu")
    reason = OdysseyScene.supports(meta2)
    assert reason is not None and "at least 3 latent dimensions" in reason and "has 2" in reason
    assert OdysseyScene.supports(meta3) is None


def test_thrust_moves_forward_and_pitch_changes_heading(rig: Rig) -> None:
    s = rig.scene
    start, fwd = s.ship.position.copy(), s.ship.forward.copy()
    rig.frame(down(pygame.K_w))
    for _ in range(20):
        rig.frame(draw=False)
    rig.frame(up(pygame.K_w))
    moved = s.ship.position - start
    assert np.dot(moved, fwd) > 0.01 * s.extent  # forward, by a visible amount
    assert np.linalg.norm(moved - np.dot(moved, fwd) * fwd) < 1e-6 * s.extent + 1e-9
    old_up = s.ship.up.copy()
    rig.frame(down(pygame.K_UP))
    for _ in range(20):  # ~0.35 s at 1.6 rad/s
        rig.frame(draw=False)
    rig.frame(up(pygame.K_UP))
    assert np.dot(s.ship.forward, fwd) < 0.9  # the heading changed...
    assert np.dot(s.ship.forward, old_up) > 0.3  # ...nose up


def test_gamepad_trigger_and_stick_fly_the_ship(rig: Rig) -> None:
    s = rig.scene
    start, fwd, right = s.ship.position.copy(), s.ship.forward.copy(), s.ship.right.copy()

    def axis(which: int, value: int) -> pygame.event.Event:
        return pygame.event.Event(pygame.CONTROLLERAXISMOTION, instance_id=0, axis=which, value=value)

    rig.frame(axis(pygame.CONTROLLER_AXIS_TRIGGERRIGHT, 32767), axis(pygame.CONTROLLER_AXIS_LEFTX, 32767))
    for _ in range(20):
        rig.frame(draw=False)
    assert np.dot(s.ship.position - start, fwd) > 0  # the right trigger is thrust
    assert np.dot(s.ship.forward, right) > 0.3  # the left stick yawed the nose right


def test_tunnel_and_grid_decode_in_one_run_per_frame(rig: Rig) -> None:
    s = rig.scene
    assert not s.tunnel and s.layer_count == LAYERS_DEFAULT  # the field is the default view
    rig.tap(pygame.K_t)  # tunnel on
    rig.tap(pygame.K_y)  # grid on
    assert s.grid
    rig.frame(down(pygame.K_w), down(pygame.K_d))  # fly and turn: new images every frame
    for _ in range(25):
        runs = rig.decoder.runs
        rig.frame()
        assert rig.decoder.runs - runs <= 1
        assert s.last_batch_size == s.layer_count + 9
    rig.tap(pygame.K_t)  # tunnel off: the field (its new points) plus the grid, still one run
    assert not s.tunnel
    for _ in range(10):
        runs = rig.decoder.runs
        rig.frame()
        assert rig.decoder.runs - runs <= 1
    rig.tap(pygame.K_y)
    assert s.last_batch_size == 0  # hovering in the field: every point is decoded already


def test_layers_more_and_less_change_the_count(rig: Rig) -> None:
    s = rig.scene
    rig.tap(pygame.K_t)
    rig.tap(pygame.K_RIGHTBRACKET)
    assert s.layer_count == LAYERS_DEFAULT + 1 and s.last_batch_size == LAYERS_DEFAULT + 1
    for _ in range(3):
        rig.tap(pygame.K_LEFTBRACKET)
    assert s.layer_count == LAYERS_DEFAULT - 2 and s.last_batch_size == LAYERS_DEFAULT - 2
    spacing = s.spacing
    rig.tap(pygame.K_PERIOD)
    assert s.spacing > spacing


def test_tunnel_layers_zoom_continuously_as_the_ship_advances(rig: Rig) -> None:
    s = rig.scene
    rig.tap(pygame.K_t)
    _, d0, _ = s.frame_points()
    s.ship.velocity = s.ship.forward * 0.1 * s.spacing / DT  # 0.2 spacing per two-step frame
    rig.frame(steps=1)
    _, d1, _ = s.frame_points()
    # same layers, each a little nearer (depth falls continuously, no re-layout)
    np.testing.assert_allclose(d0 - d1, d0[0] - d1[0], atol=1e-9)
    assert 0 < d0[0] - d1[0] < s.spacing


def test_autopilot_follows_the_tour_path(rig: Rig) -> None:
    s = rig.scene
    rig.tap(pygame.K_o)
    assert s.mode == "autopilot" and s.tour is not None
    tour, path = s.tour, s.tour.path
    joined_s = (s.tour_s + JOIN_S * TOUR_SPEED_FRACTION * s.extent) % path.length
    first = tour.next_stop(joined_s)  # the first stop after the ship has joined the path
    targets = [(first + i) % len(tour.waypoints) for i in range(3)]
    closest = {t: np.inf for t in targets}
    to_third = (path.waypoint_distances[targets[-1]] - s.tour_s) % path.length
    steps = int((JOIN_S + 1.1 * to_third / (TOUR_SPEED_FRACTION * s.extent)) / DT)
    alignment = []
    for i in range(steps):
        s.update(DT)
        for t in targets:
            closest[t] = min(closest[t], float(np.linalg.norm(s.ship.position - tour.waypoints[t])))
        alignment.append(float(np.dot(s.ship.forward, path.tangent_at(s.tour_s))))
        if i % 100 == 0:  # the view keeps up
            s.draw(rig.surface)
    assert all(d < 0.01 * s.extent for d in closest.values()), closest
    # the ship looks along the path (after the join), turning smoothly
    assert np.mean(alignment[int(JOIN_S / DT):]) > 0.9


def test_flight_input_pauses_the_autopilot_and_autopilot_resumes(rig: Rig) -> None:
    s = rig.scene
    rig.tap(pygame.K_o)
    for _ in range(10):
        rig.frame(draw=False)
    assert s.mode == "autopilot"
    rig.frame(down(pygame.K_LEFT))
    assert s.mode == "manual" and s.autopilot_paused
    assert any("paused" in text.lower() for text, _ in rig.ctx.notices)
    rig.frame(up(pygame.K_LEFT))
    for _ in range(5):
        rig.frame(draw=False)
    assert s.mode == "manual"  # stays with the pilot until asked
    rig.tap(pygame.K_o)
    assert s.mode == "autopilot" and not s.autopilot_paused


def test_warp_animates_over_several_frames_and_lands(rig: Rig) -> None:
    s = rig.scene
    rig.frame()
    before = rig.surface.copy()
    rig.frame(down(pygame.K_j))
    target = s.warp_state["target"].copy()
    start = s.warp_state["start"].copy()
    positions = [s.ship.position.copy()]
    frames = 0
    while s.mode == "warp":
        rig.frame(up(pygame.K_j))
        positions.append(s.ship.position.copy())
        frames += 1
        assert frames < 200
    assert frames >= int(0.8 * WARP_S * 60)  # ~0.8 s at 60 frames/s: not a cut
    np.testing.assert_allclose(s.ship.position, target, atol=1e-9)
    # eased: slow start, fast middle
    dist = np.linalg.norm(np.array(positions) - start, axis=1) / np.linalg.norm(target - start)
    assert dist[1] < 0.05 and 0.3 < dist[len(dist) // 2] < 0.7
    assert np.all(np.diff(dist) >= -1e-9)
    assert np.any(pygame.surfarray.pixels3d(rig.surface) != pygame.surfarray.pixels3d(before))
    # warp to a class centroid: select class 3 with key 3, then K
    rig.tap(pygame.K_3)
    rig.frame(down(pygame.K_k))
    rig.frame(up(pygame.K_k))
    while s.mode == "warp":
        rig.frame(draw=False)
    np.testing.assert_allclose(s.ship.position, s.centroids[3], atol=1e-9)


def test_warp_draws_streaks_over_the_frames(rig: Rig) -> None:
    s = rig.scene
    rig.ctx.show_hud = False
    s.ship.velocity[:] = 0
    rig.frame()
    calm = pygame.surfarray.array3d(rig.surface).astype(int)
    rig.frame(down(pygame.K_j))
    for _ in range(int(0.45 * WARP_S * 60)):
        rig.frame(up(pygame.K_j))
    mid = pygame.surfarray.array3d(rig.surface).astype(int)
    assert np.abs(mid - calm).mean() > 2.0


def test_grid_shows_nine_different_cells(rig: Rig) -> None:
    s = rig.scene
    rig.tap(pygame.K_y)
    rig.frame()
    assert len(s.grid_rects) == 9
    cells = [pygame.surfarray.array3d(rig.surface.subsurface(r)).astype(int) for r in s.grid_rects]
    assert all(c.std() > 0 for c in cells)
    diffs = [np.abs(cells[i] - cells[4]).mean() for i in range(9) if i != 4]
    assert min(diffs) > 0.2  # every neighbour differs from the centre


def test_minimap_draws_class_colours() -> None:
    mm = Minimap(120)
    pts = np.array([[0.0, 0.0, 0.5], [0.5, 0.0, 0.0], [-0.5, 0.0, -0.5]])
    mm.set_points(pts, np.array([0, 1, 2]), np.full(3, -1.0), np.full(3, 1.0))
    target = pygame.Surface((200, 200))
    mm.draw(target, (40, 40), np.zeros(3), np.eye(3), alpha=255)
    px = pygame.surfarray.array3d(mm.surface).reshape(-1, 3)
    found = {tuple(p) for p in px.tolist()}
    level = HEIGHT_LEVELS[1]  # points level with the ship
    for k in range(3):
        col = ui.class_colour(k)
        want = tuple(int(c * level + b * (1 - level)) for c, b in zip(col, (10, 13, 24), strict=True))
        assert want in found, (k, want)
    # forward (+z) is up on the map: class 0 (ahead) is above the centre
    xy, _ = mm.project(pts, np.eye(3))
    assert xy[0, 1] < 60 and xy[1, 0] > 60


def test_decode_ahead_thread_runs_on_autopilot_and_stops_on_exit(exported_models) -> None:
    r = Rig(exported_models["3d"], prefetch=True)
    s = r.scene
    thread = s.ahead
    assert thread is not None and thread.alive
    r.tap(pygame.K_t)  # the tunnel (the rail's layers are this worker's job)
    r.tap(pygame.K_y)
    r.tap(pygame.K_o)
    for _ in range(5):
        r.frame()
    assert thread.wait_idle(20.0) and s.stream.wait_idle(20.0)
    assert thread.images_requested > s.layer_count + 9
    thread.stop()  # so that only the frame loop decodes from here on
    s.stream.stop()
    # what the worker decoded is what the ship needs next: the next frames hit the cache
    runs = r.decoder.runs
    for _ in range(4):
        r.frame(steps=1)
    assert r.decoder.runs == runs
    r2 = Rig(exported_models["3d"], prefetch=True)
    thread2 = r2.scene.ahead
    r2.tap(pygame.K_o)
    r2.scene.exit()
    assert not thread2.alive and r2.scene.ahead is None


def test_never_blank_far_outside_the_bounds(rig: Rig) -> None:
    s = rig.scene
    rig.tap(pygame.K_y)
    s.ship.position = s.hi + 40.0 * s.extent
    out0 = s.ship.outside_distance(s.lo, s.hi)
    for _ in range(30):
        rig.frame(steps=4)
        assert np.all(np.isfinite(s.ship.position))
    assert s.ship.outside_distance(s.lo, s.hi) < out0  # pulled back
    assert s.fog_level() > 0
    img = pygame.surfarray.array3d(rig.surface)
    cx, cy = SIZE[0] // 2, SIZE[1] // 2
    centre = img[cx - 60 : cx + 60, cy - 60 : cy + 60]
    assert centre.std() > 1.0 and img.mean() > 5  # something is drawn, not a flat frame
    s.ship.position = np.full(3, np.nan)
    rig.frame()
    assert np.all(np.isfinite(s.ship.position))  # a broken state is reset, not drawn


def test_snapshot_restore_round_trip_draws_the_same_frame(exported_models) -> None:
    a, b = Rig(exported_models["3d"]), Rig(exported_models["3d"])
    for r in (a, b):
        r.ctx.show_hud = False
    a.scene.start_tour("dense", seed=2)
    assert a.scene.mode == "autopilot" and a.scene.tour_s == 0.0
    np.testing.assert_allclose(a.scene.ship.position, a.scene.tour.path.point_at(0.0), atol=1e-9)
    a.tap(pygame.K_y)
    for _ in range(50):
        a.frame(draw=False)
    a.frame()
    state = a.scene.snapshot()
    assert json.loads(json.dumps(state)) == state  # JSON-able
    b.scene.restore(state, dt=1.0)
    assert b.scene.mode == "autopilot" and b.scene.grid and b.scene.tour_kind == "dense"
    np.testing.assert_allclose(b.scene.ship.position, a.scene.ship.position)
    assert b.scene.tour_s == pytest.approx(a.scene.tour_s)
    b.scene.draw(b.surface)
    assert np.array_equal(pygame.surfarray.array3d(a.surface), pygame.surfarray.array3d(b.surface))
    # a warp in flight is restored as a warp (its streaks and blur are drawn)
    a.frame(down(pygame.K_j))
    for _ in range(10):
        a.frame(up(pygame.K_j))
    b.scene.restore(a.scene.snapshot())
    assert b.scene.mode == "warp" and b.scene.warp_progress() == pytest.approx(a.scene.warp_progress())
    a.scene.exit()
    b.scene.exit()


def wide_model(tmp_path: Path, dim: int = 5) -> Path:
    """A real 5-D decoder ONNX file: z -> sigmoid(z W) reshaped to 1x28x28, with metadata."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = rng.normal(0.0, 1.0, (dim, 28 * 28)).astype(np.float32)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["z", "W"], ["h"]),
            helper.make_node("Sigmoid", ["h"], ["s"]),
            helper.make_node("Reshape", ["s", "shape"], ["image"]),
        ],
        "wide",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", dim])],
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.array([-1, 1, 28, 28], np.int64), "shape")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    std = [0.2, 1.5, 0.4, 1.0, 0.7]  # top-variance order: 1, 3, 4, 2, 0
    z = rng.normal(0.0, 1.0, (60, dim)) * np.array(std)
    labels = np.arange(60) % 3
    meta = ModelMeta(
        name="wide-5d", kind="digits", latent_dim=dim, image_shape=[1, 28, 28], dataset="test",
        class_names=["a", "b", "c"],
        centroids=[z[labels == k].mean(0).tolist() for k in range(3)],
        sample_z=z.tolist(), sample_labels=labels.tolist(),
        latent_lo=(-2 * np.array(std)).tolist(), latent_hi=(2 * np.array(std)).tolist(),
        latent_mean=[0.0] * dim, latent_std=std,
    )
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, meta.to_json()
    path = tmp_path / "wide-5d.onnx"
    onnx.save(model, str(path))
    json.loads(meta.to_json())
    return path


def test_wide_model_flies_in_a_cyclable_3d_subspace(tmp_path: Path) -> None:
    r = Rig(wide_model(tmp_path))
    s = r.scene
    assert s.dims.tolist() == [1, 3, 4]  # the three dims of highest variance
    rig_z = s.latent()
    assert rig_z[0] == 0.0 and rig_z[2] == 0.0  # the others at their mean
    r.frame(down(pygame.K_w))
    for _ in range(10):
        r.frame(draw=False)
    r.frame(up(pygame.K_w))
    z = s.latent()
    assert z[0] == 0.0 and z[2] == 0.0 and np.linalg.norm(z[[1, 3, 4]]) > 0
    r.tap(pygame.K_v)  # subspace_next cycles the subspace
    assert s.dims.tolist() != [1, 3, 4] and len(set(s.dims.tolist())) == 3
    np.testing.assert_allclose(s.latent(), z, atol=1e-6)  # same point, new axes
    lattice, lattice_id = s.field_lattice()
    assert lattice_id[1] == tuple(s.dims.tolist()) and s.view.field.drawn > 0  # a field in the new axes
    r.tap(pygame.K_o)  # cycling while the autopilot flies gives a tour in the new subspace
    dims = s.dims.tolist()
    r.tap(pygame.K_v)
    assert s.dims.tolist() != dims and s.mode == "autopilot" and s.tour is not None
    for _ in range(5):
        r.frame()
    r.scene.exit()


def test_engine_runs_the_odyssey_mode(exported_models, isolated: Path) -> None:
    """The real engine loads the mode lazily, steps it with loop_once and shows its help rows."""
    from latent_odyssey.game.engine.overlay import HelpOverlay
    from latent_odyssey.game.play import Game

    eng = Game(exported_models["3d"], mode="odyssey", headless=True, size=(1280, 720), seed=2)
    try:
        scene = eng.mode_scene
        assert isinstance(scene, OdysseyScene) and scene.ahead is not None
        eng.loop_once(1 / 60)
        start, fwd = scene.ship.position.copy(), scene.ship.forward.copy()
        pygame.event.post(down(pygame.K_w))
        for _ in range(20):
            eng.loop_once(1 / 60)
        pygame.event.post(up(pygame.K_w))
        eng.loop_once(1 / 60)
        assert np.dot(scene.ship.position - start, fwd) > 0
        # the field of images: the worker and the frame's sprite budgets run on the clock, so
        # a busy machine fills the view over more frames (CI once drew 10 after 22 frames)
        deadline = time.monotonic() + 20.0
        while scene.view.field.drawn <= 10 and time.monotonic() < deadline:
            eng.loop_once(1 / 60)
            time.sleep(0.01)
        assert not scene.tunnel and scene.view.field.drawn > 10
        img = pygame.surfarray.array3d(eng.surface)
        assert img.shape[:2] == (1280, 720) and img.std() > 5
        pygame.event.post(down(pygame.K_o))
        eng.loop_once(1 / 60)
        assert scene.mode == "autopilot"
        pygame.event.post(down(pygame.K_F1))
        eng.loop_once(1 / 60)
        assert isinstance(eng.stack.top, HelpOverlay)
        assert any("tunnel" in row[0].lower() for row in scene.help_rows(eng.input))
        # a 2-D model cannot be flown: the engine hears the scene's reason and keeps the navigator
        thread = scene.ahead
        assert eng.switch_mode("navigator")
        assert not thread.alive  # leaving the mode stopped the worker
    finally:
        eng.shutdown(quit_pygame=False)
    eng2 = Game(exported_models["2d"], mode="odyssey", headless=True, size=(640, 360))
    try:
        assert eng2.mode_name == "navigator"
        assert any("at least 3 latent dimensions" in text for text, _ in eng2.ctx.notices)
    finally:
        eng2.shutdown(quit_pygame=False)
