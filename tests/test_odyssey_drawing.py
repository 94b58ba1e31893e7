"""How the Odyssey draws its frames cheaply without changing the picture: fog applied where
things are drawn, trimmed sprites, large sprites from the worker, a radar that copies its
frame as pixels, panel numbers read a few times a second. Real shipped models through
onnxruntime, real pygame surfaces, headless."""

from __future__ import annotations

import math
import time

import numpy as np
import pygame
import pytest
from test_odyssey import Rig, down, up
from test_odyssey_field import OnePointScene

from latent_odyssey.game.engine import imaging, ui
from latent_odyssey.game.model.decoder import Decoder
from latent_odyssey.game.model.modelfile import open_model
from latent_odyssey.game.modes.odyssey.camera import Camera
from latent_odyssey.game.modes.odyssey.field import Lattice
from latent_odyssey.game.modes.odyssey.fieldview import FieldView
from latent_odyssey.game.modes.odyssey.flight import quat_from_axis_angle, quat_mul, quat_to_matrix
from latent_odyssey.game.modes.odyssey.fog import FOG_STEPS, ConstantTiles, Fog
from latent_odyssey.game.modes.odyssey.hud import MINIMAP_HZ, READOUT_HZ
from latent_odyssey.game.modes.odyssey.minimap import RING, Minimap
from latent_odyssey.game.modes.odyssey.sprites import (
    LEVELS,
    ROLL_STEP_DEG,
    TRIM_MIN_ALPHA,
    Deadline,
    SpriteBank,
    angle_bucket,
)
from latent_odyssey.game.modes.odyssey.stream import FieldStore, FieldStream
from latent_odyssey.game.modes.odyssey.tunnel import radial_background

pytestmark = pytest.mark.usefixtures("headless_pygame")
SKY = (18, 22, 48)


class DenseScene(OnePointScene):
    """The field view's scene protocol over a real model, with a small dense lattice in the
    model's first three latent dims (the others at the data's mean)."""

    def __init__(self, spacing: float, meta) -> None:
        super().__init__(spacing)
        self.lattice = Lattice(np.zeros(3), spacing, levels=2, reach_cells=2.5)
        self.mean = np.asarray(meta.latent_mean, np.float32)

    def to_latent(self, pts: np.ndarray) -> np.ndarray:
        z = np.repeat(self.mean[None], len(pts), axis=0)  # (N, D)
        z[:, :3] += np.asarray(pts, np.float32).reshape(-1, 3)
        return z

    def tints_of(self, pts: np.ndarray) -> np.ndarray:
        return np.array([ui.class_colour(int(i) % 10) for i in range(len(pts))], np.uint8)


def field_frame(decoder: Decoder, meta, camera: Camera, size: tuple[int, int], fog: Fog | None,
                fog_after: Fog | None) -> np.ndarray:
    """One field frame over a plain sky: fogged as it is drawn (``fog``) or as a pass over the
    finished frame (``fog_after``). # -> (W, H, 3) int"""
    scene = DenseScene(0.5, meta)
    view = FieldView(imaging.style_for(meta), 4096)
    keys, z = view.plan(scene, camera, size, "crisp")
    view.accept(keys, decoder.decode_batch(z))
    surface = pygame.Surface(size)
    surface.fill(fog.colour(SKY) if fog else SKY)
    view.draw(surface, scene, camera, limited=False, fog=fog)
    assert view.drawn > 10
    if fog_after:
        fog_after.apply(surface, ConstantTiles())
    return pygame.surfarray.array3d(surface).astype(int)


@pytest.mark.parametrize("model", ["3d", "face"])
def test_fog_applied_as_things_are_drawn_equals_fogging_the_finished_frame(model, exported_models,
                                                                          exported_face_model) -> None:
    path = exported_face_model if model == "face" else exported_models["3d"]
    sess, meta = open_model(path, "cpu")
    decoder = Decoder(sess, meta)
    turn = quat_mul(quat_from_axis_angle(np.array([0.0, 1.0, 0.0]), 0.3),
                    quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), 0.5))  # yawed and rolled
    camera = Camera(np.array([0.11, 0.07, -0.4]), quat_to_matrix(turn))
    size = (320, 200)
    fog = Fog.of(0.5)
    clear = field_frame(decoder, meta, camera, size, None, None)
    baked = field_frame(decoder, meta, camera, size, fog, None)
    after = field_frame(decoder, meta, camera, size, None, fog)
    assert np.abs(baked - clear).mean() > 10  # the fog is there ...
    diff = np.abs(baked - after)  # ... and it is the same picture as the old full-frame pass
    assert diff.max() <= 3 and diff.mean() < 0.5


def test_fog_levels_are_quantised_and_colours_follow_pygames_blend() -> None:
    assert not Fog.of(0.0) and Fog.of(1.0).keep == 0 and Fog.of(1.0).step == FOG_STEPS
    assert Fog.of(0.49) == Fog.of(0.5)  # within one step: the same surfaces are reused
    fog = Fog.of(0.4)
    s = pygame.Surface((300, 260))  # bigger than one constant tile
    s.fill((200, 100, 30))
    fog.apply(s, ConstantTiles())
    px = pygame.surfarray.array3d(s)
    assert (px == np.array(fog.colour((200, 100, 30)))).all()


def test_turned_dimmed_sprites_are_trimmed_to_their_visible_pixels(exported_models) -> None:
    sess, meta = open_model(exported_models["3d"], "cpu")
    decoder = Decoder(sess, meta)
    img = decoder.decode_one(np.array([0.3, -0.2, 0.5], np.float32))
    bank = SpriteBank(imaging.style_for(meta))
    bank.make_base("k", img, (200, 120, 255))
    bank.begin_frame()
    size, angle = 140, 15  # 45 degrees: a turned square's corners are all transparent
    spr, offset = bank.sprite("k", img, (200, 120, 255), size, angle, LEVELS // 2, Deadline(None), exact=True)
    w, h = spr.get_size()
    turned = size * math.sqrt(2)  # the bounding square of the turned billboard
    assert w * h < 0.8 * turned * turned
    # nothing visible was cut: every side of the sprite has a pixel at the trim's alpha
    alpha = pygame.surfarray.array_alpha(spr)  # (W, H)
    assert alpha[0].max() >= TRIM_MIN_ALPHA and alpha[-1].max() >= TRIM_MIN_ALPHA
    assert alpha[:, 0].max() >= TRIM_MIN_ALPHA and alpha[:, -1].max() >= TRIM_MIN_ALPHA
    # the same frame again reuses it; a new fog step makes it again: the same shape, fogged
    again, _ = bank.sprite("k", img, (200, 120, 255), size, angle, LEVELS // 2, Deadline(None), exact=True)
    assert again is spr
    fogged, off2 = bank.sprite("k", img, (200, 120, 255), size, angle, LEVELS // 2, Deadline(None),
                               exact=True, fog=Fog.of(0.6))
    assert fogged is not spr and fogged.get_size() == spr.get_size() and off2 == offset
    assert (pygame.surfarray.array_alpha(fogged) == alpha).all()


def test_a_rolled_billboard_still_lands_where_the_camera_puts_it(exported_models) -> None:
    """Trimming moves a sprite's corner, never its centre: the ink of a rolled billboard of a
    round blob sits on the projected point."""
    sess, meta = open_model(exported_models["3d"], "cpu")
    decoder = Decoder(sess, meta)
    spacing, size = 0.8, (400, 400)
    scene = OnePointScene(spacing)
    view = FieldView(imaging.style_for(meta), 256)
    roll = quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), math.radians(33.0))
    target = scene.lattice.point_of(np.array([[0, 0, 0]]))[0]
    position = target - np.array([0.0, 0.0, 0.9 * spacing])
    camera = Camera(position, quat_to_matrix(roll))
    keys, z = view.plan(scene, camera, size, "nearest")  # the decode's own pixels: a known ink centroid
    assert len(view.visible) == 1
    images = decoder.decode_batch(z)
    view.accept(keys, images)
    surface = pygame.Surface(size)
    view.draw(surface, scene, camera, limited=False)
    grey = pygame.surfarray.array3d(surface).astype(np.float64).mean(axis=2)  # (W, H)
    # where the image's own ink centroid lands once enlarged and turned by the roll
    ink = images[0][..., 0].astype(np.float64)
    ix = (ink.sum(0) * (np.arange(28) + 0.5)).sum() / ink.sum() / 28 - 0.5
    iy = (ink.sum(1) * (np.arange(28) + 0.5)).sum() / ink.sum() / 28 - 0.5
    width = view.visible.size[0]
    a = math.radians(angle_bucket(camera.roll_deg()) * ROLL_STEP_DEG)
    ox, oy = ix * width, iy * width
    want = (view.visible.xy[0, 0] + ox * math.cos(a) + oy * math.sin(a),
            view.visible.xy[0, 1] - ox * math.sin(a) + oy * math.cos(a))
    xs, ys = np.arange(size[0]), np.arange(size[1])
    got = ((grey.sum(1) * xs).sum() / grey.sum(), (grey.sum(0) * ys).sum() / grey.sum())
    assert got == pytest.approx(want, abs=2.5)


def test_the_worker_makes_the_large_sprites_of_near_billboards(exported_models) -> None:
    r = Rig(exported_models["3d"], prefetch=True)
    s = r.scene
    r.ctx.show_hud = False
    bank = s.view.field.bank
    r.frame()
    r.frame(down(pygame.K_w))
    deadline = time.monotonic() + 60.0
    while bank.large_taken < 3 and time.monotonic() < deadline:  # fly on until a few passed close by
        r.frame()
        s.stream.wait_idle(5.0)
    assert bank.large_taken >= 3  # crisp large sprites came from the worker ...
    assert bank.large_made_here == 0  # ... none was made on the frame's thread
    r.scene.exit()


def test_the_worker_makes_the_crisp_tunnel_layers(exported_models) -> None:
    r = Rig(exported_models["3d"], prefetch=True)
    s = r.scene
    r.ctx.show_hud = False
    r.tap(pygame.K_t)  # the tunnel
    comp = s.view.compositor
    r.frame(down(pygame.K_w))
    deadline = time.monotonic() + 60.0
    while comp.taken < 10 and time.monotonic() < deadline:
        r.frame()
        s.stream.wait_idle(5.0)
    assert comp.taken >= 10 and comp.made_here == 0  # crisp layers came from the worker only
    r.scene.exit()


def test_the_worker_makes_the_crisp_grid_cells(exported_models) -> None:
    r = Rig(exported_models["3d"], prefetch=True)
    s = r.scene
    r.tap(pygame.K_y)  # the 3x3 grid
    r.frame(down(pygame.K_w))
    for _ in range(30):  # fly: the grid moves on and its cells are new images
        r.frame()
    for _ in range(3):  # the ship holds still: whatever was asked of the worker comes
        assert s.stream.wait_idle(20.0)
        r.frame(steps=0)
    _, _, grid = s.frame_points()
    images = r.decoder.decode_batch(s.to_latent(grid))  # (cached: the frame's own arrays)
    cell = s.grid_rects[0].size
    for rect, img in zip(s.grid_rects, images, strict=True):  # each as crisp as if made here
        want = pygame.surfarray.array3d(imaging.enlarged(img, cell, "crisp", s.view.style))
        got = pygame.surfarray.array3d(r.surface.subsurface(rect))
        inside = (slice(2, -2), slice(2, -2))  # (the cell's outline is drawn over it)
        assert (got[inside] == want[inside]).all()
    r.scene.exit()


def test_a_rolled_tunnel_is_the_level_tunnel_turned(exported_models) -> None:
    """Each layer is turned about the vanishing point (the window's centre when flying
    straight), so the rolled frame is the level frame turned; nothing zooms as it rolls."""
    r = Rig(exported_models["3d"], size=(640, 360))
    s = r.scene
    r.ctx.show_hud = False
    r.tap(pygame.K_t)
    r.frame(steps=0)
    level = r.surface.copy()
    s.ship.orientation = quat_mul(s.ship.orientation, quat_from_axis_angle(np.array([0.0, 0.0, 1.0]), -math.radians(30)))
    r.frame(steps=0)
    assert s.view.roll_deg == pytest.approx(30.0) and s.view.vanishing == pytest.approx((320.0, 180.0))
    turned = pygame.transform.rotate(level, 30.0)  # counter-clockwise, as the world turns on screen
    tw, th = turned.get_size()
    turned = turned.subsurface(((tw - 640) // 2, (th - 360) // 2, 640, 360))
    rolled = pygame.surfarray.array3d(r.surface).astype(int)
    xx, yy = np.mgrid[0:640, 0:360]
    disc = (xx - 320) ** 2 + (yy - 180) ** 2 < 170**2  # (turning the level frame cuts its corners)
    diff = np.abs(rolled - pygame.surfarray.array3d(turned).astype(int)).mean(axis=2)[disc]
    unturned = np.abs(rolled - pygame.surfarray.array3d(level).astype(int)).mean(axis=2)[disc]
    assert unturned.mean() > 5.0 and diff.mean() < 0.15 * unturned.mean()
    r.scene.exit()


def test_prepare_later_runs_on_the_worker_without_touching_the_store(exported_models) -> None:
    sess, meta = open_model(exported_models["3d"], "cpu")
    decoder = Decoder(sess, meta)
    stream = FieldStream(decoder, prepare=lambda img, extra: (extra, int(img.sum())))
    try:
        store = FieldStore(64)
        img = decoder.decode_one(np.zeros(3, np.float32))
        stream.prepare_later(store.serial, ("large", 1), img, "a")  # the worker is idle: it wakes
        zs = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
        stream.request(store.serial, list(range(40)), zs, ["b"] * 40)
        stream.prepare_later(store.serial, ("large", 2), img, "c")  # while it decodes
        assert stream.wait_idle(20.0)
        prepared = {key: payload for _, key, payload in stream.take_prepared()}
        assert prepared == {("large", 1): ("a", int(img.sum())), ("large", 2): ("c", int(img.sum()))}
        payloads: dict = {}
        assert stream.drain(store, payloads) == 40 and len(store) == 40  # the decodes, and only they
        assert ("large", 1) not in store and payloads[0][0] == "b"
        assert stream.take_prepared() == []
    finally:
        stream.stop()


def test_the_radar_border_stays_over_the_path(exported_models) -> None:
    mm = Minimap(120)
    pts = np.random.default_rng(1).normal(size=(300, 3))
    mm.set_points(pts, np.arange(300) % 10, np.full(3, -1.0), np.full(3, 1.0))
    target = pygame.Surface((200, 200))
    path = np.array([[-9.0, 0.0, 0.0], [9.0, 0.0, 0.3], [9.0, 0.0, -9.0]])  # runs off the map
    for _ in range(2):  # the second draw starts from the first one's pixels
        mm.draw(target, (40, 40), np.zeros(3), np.eye(3), path, alpha=255)
        px = pygame.surfarray.array3d(mm.surface)
        for edge in (px[0], px[-1], px[:, 0], px[:, -1]):
            assert (edge == np.array(RING)).all()
        assert len({tuple(p) for p in px.reshape(-1, 3).tolist()}) > 8  # points and path drawn


def hud_by_tick(rig: Rig, key: int, rect: pygame.Rect, hz: float, frames: int) -> dict[int, list[np.ndarray]]:
    """Hold ``key`` and step ``frames`` frames of one update each; the HUD alone (over black)
    inside ``rect`` after each, grouped by the ``hz`` tick of the scene's clock."""
    s = rig.scene
    rig.frame(down(key), steps=0)
    shown: dict[int, list[np.ndarray]] = {}
    for _ in range(frames):
        rig.frame(steps=1)
        hud = pygame.Surface(rig.surface.get_size())
        s.view.hud.draw(hud, s, Camera(s.ship.position, quat_to_matrix(s.ship.orientation)), [], None)
        shown.setdefault(int(s.clock * hz), []).append(pygame.surfarray.array3d(hud.subsurface(rect)))
    return shown


def assert_held_within_ticks_and_changed_between(shown: dict[int, list[np.ndarray]], at_least: int) -> None:
    ticks = sorted(shown)
    assert len(ticks) >= at_least
    for t in ticks:  # within a tick the picture holds still ...
        assert all((p == shown[t][0]).all() for p in shown[t])
    for a, b in zip(ticks, ticks[1:], strict=False):  # ... and is made again at the next one
        assert (shown[a][0] != shown[b][0]).any()


def test_the_panel_numbers_change_a_few_times_a_second(rig: Rig) -> None:
    # thrust: speed and position change every step; the flight-data panel (640x360 window)
    shown = hud_by_tick(rig, pygame.K_w, pygame.Rect(0, 0, 340, 150), READOUT_HZ, 40)
    assert_held_within_ticks_and_changed_between(shown, 4)


@pytest.fixture()
def rig(exported_models):
    r = Rig(exported_models["3d"])
    yield r
    r.scene.exit()


def test_every_visible_point_gets_its_sprite_when_the_worker_makes_the_pixels(exported_models) -> None:
    """The frame hands the sprite pixels of the points it decodes itself to the worker (a few
    a frame); none is lost, even when many are new at once (the first frame decodes all)."""
    r = Rig(exported_models["3d"], prefetch=True)
    s = r.scene
    r.ctx.show_hud = False
    field = s.view.field
    r.frame()  # the first frame: every visible point is the frame's own decode
    assert field.bank.bases_made < len(field.visible)  # their pixels are the worker's job
    r.frame(down(pygame.K_w))
    for _ in range(20):  # fly: new points keep coming
        r.frame()
    r.frame(up(pygame.K_w))
    s.ship.velocity[:] = 0.0
    for _ in range(60):  # hold still: whatever was asked comes, or is asked again
        assert s.stream.wait_idle(20.0)
        r.frame(steps=0)
        if all(field.bank.has_base(k) for k in field._visible_keys):
            break
    assert all(field.bank.has_base(k) for k in field._visible_keys)
    r.scene.exit()


def test_the_radar_is_drawn_again_thirty_times_a_second(rig: Rig) -> None:
    # yaw: the radar turns every step; its corner of the 640x360 window
    shown = hud_by_tick(rig, pygame.K_d, pygame.Rect(640 - 230, 360 - 230, 230, 230), MINIMAP_HZ, 24)
    assert_held_within_ticks_and_changed_between(shown, 5)


def test_the_sky_is_a_round_gradient_from_inner_to_outer() -> None:
    inner, outer = (20, 24, 52), (4, 5, 12)
    sky = pygame.surfarray.array3d(radial_background((101, 101), inner, outer)).astype(int)  # (W, H, 3)
    assert (np.abs(sky[50, 50] - inner) <= 2).all() and (np.abs(sky[0, 0] - outer) <= 1).all()
    assert (sky.transpose(1, 0, 2) == sky).all()  # round: mirrored across the diagonal, the same
    d = np.hypot(*(np.mgrid[0:101, 0:101] - 50.5))  # px from the centre (w / 2, as it is drawn)
    blue = sky[..., 2].ravel()[np.argsort(d.ravel(), kind="stable")]
    assert (np.diff(blue) <= 0).all()  # darker outward, never lighter
    wide = pygame.surfarray.array3d(radial_background((1280, 720), inner, outer)).astype(int)
    assert (np.abs(wide[640, 360] - inner) <= 2).all() and (np.abs(wide[0, 0] - outer) <= 1).all()


def test_decoder_counts_the_latents_a_decode_would_run(exported_models) -> None:
    sess, meta = open_model(exported_models["3d"], "cpu")
    decoder = Decoder(sess, meta)
    zs = np.random.default_rng(2).normal(size=(6, 3)).astype(np.float32)
    decoder.decode_batch(zs[:4])
    assert decoder.count_missing(zs) == 2
    assert decoder.count_missing(np.concatenate([zs[4:], zs[4:]])) == 2  # the same latent runs once
    runs = decoder.runs
    assert decoder.count_missing(zs[:4]) == 0 and decoder.runs == runs  # counting runs nothing
