"""The Odyssey's field of images and its camera: real shipped models through onnxruntime, real
pygame surfaces, the real scene stepped by real key events (headless)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pygame
import pytest
from test_odyssey import DT, Rig, down, up

from latent_odyssey.game.engine import imaging
from latent_odyssey.game.model.decoder import Decoder
from latent_odyssey.game.model.modelfile import open_model
from latent_odyssey.game.modes.odyssey.camera import Camera
from latent_odyssey.game.modes.odyssey.field import Lattice, owner_of
from latent_odyssey.game.modes.odyssey.fieldview import FieldView
from latent_odyssey.game.modes.odyssey.flight import (
    ROLL_RATE_RAD_S,
    quat_from_axis_angle,
    quat_mul,
    quat_to_matrix,
)

pytestmark = pytest.mark.usefixtures("headless_pygame")
FOV_Y_DEG = 60.0  # the ship camera's field of view, as the camera maths states it


def pinhole(point: np.ndarray, position: np.ndarray, orientation: np.ndarray, size: tuple[int, int]
            ) -> tuple[float, float]:
    """Where a world point lands on screen, written out from scratch: rotate into the ship's
    frame (columns right, up, forward), divide by depth, focal length from the field of view."""
    w, h = size
    r = quat_to_matrix(orientation)
    rel = np.asarray(point, float) - np.asarray(position, float)
    x, y, z = (float(np.dot(rel, r[:, i])) for i in range(3))
    f = 0.5 * h / math.tan(math.radians(FOV_Y_DEG) / 2)
    return w / 2 + f * x / z, h / 2 - f * y / z


class OnePointScene:
    """The field view's scene protocol over a real model, with a one-level lattice so sparse
    that a camera half a cell from a point sees that point alone."""

    stream = None

    def __init__(self, spacing: float) -> None:
        self.velocity = np.zeros(3)
        self.lattice = Lattice(np.zeros(3), spacing, levels=1, reach_cells=1.3)

    def field_lattice(self):
        return self.lattice, ("one point",)

    def to_latent(self, pts: np.ndarray) -> np.ndarray:
        return np.asarray(pts, np.float32).reshape(-1, 3)

    def tints_of(self, pts: np.ndarray) -> np.ndarray:
        return np.full((len(pts), 3), 255, np.uint8)


def lit_centroid(surface: pygame.Surface) -> tuple[float, float, float]:
    """(x, y, total) of the frame's brightness, weighted by intensity."""
    grey = pygame.surfarray.array3d(surface).astype(np.float64).mean(axis=2)  # (W, H)
    total = grey.sum()
    xs, ys = np.arange(grey.shape[0]), np.arange(grey.shape[1])
    return float((grey.sum(1) * xs).sum() / total), float((grey.sum(0) * ys).sum() / total), float(total)


def test_a_billboard_lands_at_the_pixel_the_camera_predicts(exported_models) -> None:
    sess, meta = open_model(exported_models["3d"], "cpu")
    decoder = Decoder(sess, meta)
    spacing, size = 0.8, (400, 400)
    scene = OnePointScene(spacing)
    view = FieldView(imaging.style_for(meta), 256)
    view.bank.set_look("nearest")  # the decode's own pixels, so its ink centroid is known
    yaw = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), math.radians(8.0))
    for key in ([0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 1], [2, 0, 1]):
        target = scene.lattice.point_of(np.array([key]))[0]
        position = target - quat_to_matrix(yaw)[:, 2] * 0.9 * spacing + np.array([0.0, 0.1, 0.0]) * spacing
        camera = Camera(position, quat_to_matrix(yaw))
        keys, z = view.plan(scene, camera, size, "nearest")
        if len(view.visible) == 1:
            break
    assert len(view.visible) == 1 and tuple(view.visible.keys[0]) == tuple(key)
    view.accept(keys, decoder.decode_batch(z))
    surface = pygame.Surface(size)
    view.draw(surface, scene, camera, limited=False)
    assert view.drawn == 1
    px, py = pinhole(target, position, yaw, size)
    np.testing.assert_allclose(view.visible.xy[0], (px, py), atol=1e-6)
    # the ink of the decoded image sits where its centroid in the image predicts
    img = decoder.decode_one(z[0])[..., 0].astype(np.float64)  # (H, W)
    width = view.visible.size[0]
    ix = (img.sum(0) * (np.arange(28) + 0.5)).sum() / img.sum() / 28 - 0.5
    iy = (img.sum(1) * (np.arange(28) + 0.5)).sum() / img.sum() / 28 - 0.5
    cx, cy, total = lit_centroid(surface)
    assert total > 0
    assert abs(cx - (px + ix * width)) < 2.0 and abs(cy - (py + iy * width)) < 2.0, (cx, cy, px, py)


def test_the_scene_projects_every_billboard_through_the_ship_camera(rig: Rig) -> None:
    s = rig.scene
    rig.ctx.show_hud = False
    s.ship.orientation = quat_mul(quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), 0.4),
                                  quat_from_axis_angle(np.array([1.0, 0.0, 0.0]), -0.25))
    rig.frame(steps=0)
    vis = s.view.field.visible
    lattice, _ = s.field_lattice()
    assert len(vis) > 20 and s.view.field.drawn == len(vis)
    pts = lattice.point_of(vis.keys)
    for p, xy in zip(pts, vis.xy, strict=True):
        np.testing.assert_allclose(xy, pinhole(p, s.ship.position, s.ship.orientation, rig.surface.get_size()), atol=1e-6)
    d = np.linalg.norm(pts - s.ship.position, axis=1)
    assert d.min() < lattice.level_radius(0) < d.max()  # fine points near, coarse ones far
    assert set(owner_of(vis.keys).tolist()) == {0, 1, 2}


def marker(rig: Rig) -> tuple[tuple, np.ndarray]:
    """A billboard near the middle of the screen: (its key, its screen position)."""
    vis = rig.scene.view.field.visible
    w, h = rig.surface.get_size()
    i = int(np.argmin(np.abs(vis.xy[:, 0] - w * 0.62) + np.abs(vis.xy[:, 1] - h * 0.42)))
    return tuple(vis.keys[i]), vis.xy[i].copy()


def test_a_90_degree_roll_turns_the_picture_90_degrees(exported_models) -> None:
    r = Rig(exported_models["3d"], size=(400, 400))
    s = r.scene
    r.ctx.show_hud = False
    s.ship.orientation = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), 0.3)
    r.frame(steps=0)
    key, (x1, y1) = marker(r)
    before = pygame.surfarray.array3d(r.surface).astype(int)
    # roll right by 90 degrees (right wing down) about the nose
    s.ship.orientation = quat_mul(s.ship.orientation, quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), -math.pi / 2))
    r.frame(steps=0)
    vis = s.view.field.visible
    i = [tuple(k) for k in vis.keys.tolist()].index(key)
    x2, y2 = vis.xy[i]
    c = 200.0
    # the world turns counter-clockwise on screen: right of centre goes above it
    assert (x2 - c, y2 - c) == pytest.approx((y1 - c, -(x1 - c)), abs=1e-6)
    assert s.view.roll_deg == pytest.approx(90.0)
    after = pygame.surfarray.array3d(r.surface).astype(int)
    turned = np.rot90(before, k=-1, axes=(0, 1))  # after[x, y] = before[W - 1 - y, x]: turned 90 degrees ccw
    yy, xx = np.mgrid[0:400, 0:400]
    disc = (xx - 199.5) ** 2 + (yy - 199.5) ** 2 < 150**2
    diff = np.abs(after - turned).mean(axis=2)[disc]
    unturned = np.abs(after - before).mean(axis=2)[disc]
    assert diff.mean() < 0.25 * unturned.mean() and np.mean(diff > 30) < 0.02
    r.scene.exit()


def test_a_full_roll_on_the_roll_key_gives_the_same_frame_back(exported_models) -> None:
    r = Rig(exported_models["3d"], size=(480, 270))
    s = r.scene
    r.ctx.show_hud = False
    r.frame(steps=0)
    first = pygame.surfarray.array3d(r.surface).astype(int)
    steps = round(2 * math.pi / ROLL_RATE_RAD_S / DT)  # one full turn at the roll rate
    r.frame(down(pygame.K_e), steps=0)
    rolls = []
    halfway = None
    for n in range(steps // 6):
        r.frame(steps=6)
        rolls.append(s.view.roll_deg)
        if n == steps // 12:
            halfway = pygame.surfarray.array3d(r.surface).astype(int)
    r.frame(steps=steps % 6)
    r.frame(up(pygame.K_e), steps=0)
    assert max(rolls) > 170 and min(rolls) < -170  # it did turn all the way round ...
    assert abs(s.view.roll_deg) < 0.5  # ... to within the last step's 0.2 degrees
    assert np.allclose(s.ship.forward, [0, 0, 1], atol=1e-6)
    again = pygame.surfarray.array3d(r.surface).astype(int)

    def blocks(a: np.ndarray) -> np.ndarray:  # 3x3 block means: sub-pixel shifts wash out
        return a.reshape(160, 3, 90, 3, 3).mean(axis=(1, 3))

    diff = np.abs(blocks(again) - blocks(first))
    assert diff.mean() < 0.5 and np.mean(diff.max(axis=2) > 16) < 0.005
    rolled_half = np.abs(blocks(halfway) - blocks(first))
    assert rolled_half.mean() > 4 * diff.mean()  # halfway round it was another picture
    r.scene.exit()


def test_field_points_are_decoded_once_while_the_ship_hovers_and_turns(rig: Rig) -> None:
    s = rig.scene
    dec = rig.decoder
    before = dec.images_decoded  # (entering the mode timed one small decode)
    steps = round(2 * math.pi / 1.2 / DT)  # a full turn on the spot at the yaw rate
    rig.frame(down(pygame.K_a), steps=0)
    for _ in range(steps // 8):
        rig.frame(steps=8)
    runs, images = dec.runs, dec.images_decoded
    store = s.view.field.store
    assert images - before == len(store) > 40  # every point seen was decoded exactly once
    drawn = []
    for _ in range(steps // 8):  # the second turn: all of it is known
        rig.frame(steps=8)
        drawn.append(s.view.field.drawn)
    rig.frame(up(pygame.K_a))
    assert dec.runs == runs and dec.images_decoded == images
    assert min(drawn) > 10


def test_the_field_worker_brings_the_frontier_and_the_frame_decodes_little(exported_models) -> None:
    r = Rig(exported_models["3d"], prefetch=True)
    s = r.scene
    budget = s.view.field.sync_budget
    r.frame()
    r.frame(down(pygame.K_w))
    for _ in range(60):  # fly forward: new points keep coming into view
        r.frame()
        assert s.last_batch_size <= budget  # the frame's own share stays small
    assert s.stream.images_decoded > 0 and s.stream.wait_idle(20.0)
    r.scene.exit()
    assert not s.stream or not s.stream.alive


def test_the_tunnel_centres_on_the_vanishing_point_of_the_flight_direction(rig: Rig) -> None:
    s = rig.scene
    rig.ctx.show_hud = False
    rig.tap(pygame.K_t)
    assert s.tunnel
    size = rig.surface.get_size()
    centres = []
    for yaw, pitch in ((0.25, 0.1), (-0.3, -0.12)):
        s.ship.orientation = quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), 0.1)
        direction = quat_to_matrix(quat_mul(quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), yaw),
                                            quat_from_axis_angle(np.array([1.0, 0.0, 0.0]), pitch)))[:, 2]
        s.ship.velocity = s.velocity = direction * 0.5 * s.extent  # drifting off the nose
        for _ in range(3):
            rig.frame(steps=0)
        vp = s.view.vanishing
        want = pinhole(s.ship.position + direction, s.ship.position, s.ship.orientation, size)
        assert vp == pytest.approx(want, abs=1e-6)
        centres.append((pygame.surfarray.array3d(rig.surface).astype(int), vp))
    (f1, v1), (f2, v2) = centres
    dx, dy = (int(round(c)) for c in np.subtract(v2, v1))
    assert math.hypot(dx, dy) > 100
    # the second picture is the first moved by the vanishing point's shift (same layers)
    w, h = size
    a = f1[max(0, -dx): w - max(0, dx), max(0, -dy): h - max(0, dy)]
    b = f2[max(0, dx): w - max(0, -dx), max(0, dy): h - max(0, -dy)]
    lit = (a.max(axis=2) > 60) | (b.max(axis=2) > 60)
    shifted = np.abs(a - b).mean(axis=2)[lit].mean()
    still = np.abs(f1 - f2).mean(axis=2)[(f1.max(axis=2) > 60) | (f2.max(axis=2) > 60)].mean()
    assert shifted < 0.5 * still, (shifted, still)


def test_the_tunnel_rolls_with_the_ship(rig: Rig) -> None:
    s = rig.scene
    rig.ctx.show_hud = False
    rig.tap(pygame.K_t)
    rig.frame(steps=0)
    level = pygame.surfarray.array3d(rig.surface).astype(int)
    s.ship.orientation = quat_mul(s.ship.orientation, quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), -math.radians(40)))
    rig.frame(steps=0)
    assert s.view.roll_deg == pytest.approx(40.0)
    rolled = pygame.surfarray.array3d(rig.surface).astype(int)
    assert np.abs(rolled - level).mean() > 2.0  # the picture turned


def test_spacing_makes_a_new_field_and_subspaces_keep_it_fixed(rig: Rig, tmp_path: Path) -> None:
    s = rig.scene
    rig.frame()
    lattice, first = s.field_lattice()
    assert s.field_lattice()[1] == first  # the same points while nothing changes
    rig.tap(pygame.K_PERIOD)  # wider spacing: another lattice, decoded afresh
    wider, second = s.field_lattice()
    assert second != first and wider.spacing > lattice.spacing
    assert s.view.field.drawn > 10


@pytest.fixture()
def rig(exported_models):
    r = Rig(exported_models["3d"])
    yield r
    r.scene.exit()


def test_mouse_look_turns_the_ship_and_lets_go_when_the_window_loses_focus(rig: Rig) -> None:
    s = rig.scene
    fwd = s.ship.forward.copy()
    rig.frame(pygame.event.Event(pygame.MOUSEMOTION, pos=(10, 10), rel=(80, 0), buttons=(0, 0, 0)))
    np.testing.assert_allclose(s.ship.forward, fwd)  # off: the mouse only points
    rig.tap(pygame.K_f)
    assert s.mouse.active
    rig.frame(pygame.event.Event(pygame.MOUSEMOTION, pos=(90, 10), rel=(80, 0), buttons=(0, 0, 0)))
    right = quat_to_matrix(s.ship.orientation)[:, 0]
    assert np.dot(s.ship.forward, fwd) < 0.99 and np.dot(s.ship.forward - fwd, right) > 0  # turned right
    before = s.ship.forward.copy()
    rig.frame(pygame.event.Event(pygame.MOUSEMOTION, pos=(90, 0), rel=(0, -60), buttons=(0, 0, 0)))
    assert np.dot(s.ship.forward - before, s.ship.up) > 0  # mouse up: nose up
    rig.frame(pygame.event.Event(pygame.WINDOWFOCUSLOST))
    assert not s.mouse.active  # released on focus loss
    still = s.ship.orientation.copy()
    rig.frame(pygame.event.Event(pygame.MOUSEMOTION, pos=(0, 0), rel=(200, 200), buttons=(0, 0, 0)))
    np.testing.assert_allclose(s.ship.orientation, still)
