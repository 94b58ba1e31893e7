"""The Navigator scene inside a headless engine: mouse, zoom, interpolation, morph, decoding."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from latent_odyssey.game.modes.navigator.scene import (
    STRIP_FRAMES,
    Layout,
    NavigatorScene,
    ease_in_out,
    lerp,
    slerp,
)
from latent_odyssey.game.play import Game

DT = 1 / 60

pytestmark = pytest.mark.usefixtures("isolated")  # conftest: no shipped/user models, tmp config


@pytest.fixture
def engine(start_engine, exported_models):
    return start_engine(exported_models["2d"], seed=7)


def frames(eng: Game, n: int) -> None:
    for _ in range(n):
        eng.loop_once(DT)


def tap(eng: Game, key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0))
    eng.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=0))
    eng.loop_once(DT)


def click(eng: Game, pos: tuple[int, int], button: int = 1) -> None:
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button))
    eng.loop_once(DT)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=button))
    eng.loop_once(DT)


# ----------------------------------------------------------------------------- maths


def test_slerp_and_lerp_endpoints_and_arc():
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    t = np.linspace(0, 1, 5)
    s = slerp(a, b, t)
    assert np.allclose(s[0], a) and np.allclose(s[-1], b)
    assert np.allclose(np.linalg.norm(s, axis=1), 1.0)  # unit vectors stay on the circle
    assert np.linalg.norm(lerp(a, b, t)[2]) == pytest.approx(np.sqrt(0.5))
    parallel = slerp(a, 2 * a, t)  # no angle: falls back to linear
    assert np.allclose(parallel, lerp(a, 2 * a, t))
    assert np.allclose(slerp(np.zeros(2), b, t), lerp(np.zeros(2), b, t))


def test_ease_in_out_is_monotonic_and_symmetric():
    ts = np.linspace(0, 1, 101)
    e = np.array([ease_in_out(t) for t in ts])
    assert e[0] == 0 and e[-1] == 1 and np.all(np.diff(e) >= 0)
    assert ease_in_out(0.5) == pytest.approx(0.5)
    assert ease_in_out(0.2) == pytest.approx(1 - ease_in_out(0.8))


def test_layout_adapts_to_the_window():
    for w, h in ((1280, 720), (800, 600), (1920, 1080), (640, 400)):
        lay = Layout.for_size(w, h)
        window = pygame.Rect(0, 0, w, h)
        for rect in (lay.map, lay.image, lay.info, lay.strip):
            assert window.contains(rect), (w, h, rect)
        assert not lay.map.colliderect(lay.image) and not lay.image.colliderect(lay.info)
        assert lay.image.width == lay.image.height


# ----------------------------------------------------------------------------- mouse and zoom


def test_click_on_the_map_moves_the_crosshair_there(engine):
    nav = engine.mode_scene
    r = nav.map_rect
    pos = (r.left + r.width // 3, r.top + 2 * r.height // 3)
    expected = nav.screen_to_latent(*pos)
    click(engine, pos)
    assert np.allclose(nav.position, expected, atol=1e-9)
    x, y = nav.latent_to_screen(nav.position)
    assert (round(x), round(y)) == pos
    assert nav.marks == []  # a click moves; it does not mark


def test_drag_follows_the_pointer(engine):
    nav = engine.mode_scene
    r = nav.map_rect
    a = (r.centerx - 40, r.centery)
    b = (r.centerx + 60, r.centery - 30)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=a, button=1))
    frames(engine, 1)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=b, rel=(100, -30), buttons=(1, 0, 0)))
    frames(engine, 1)
    assert np.allclose(nav.position, nav.screen_to_latent(*b))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=b, button=1))
    frames(engine, 1)
    assert not nav._dragging


def test_zoom_keeps_the_cursor_in_place(engine):
    nav = engine.mode_scene
    before = nav.latent_to_screen(nav.position)
    tap(engine, pygame.K_EQUALS)
    assert nav.zoom == pytest.approx(1.25)
    assert np.allclose(nav.latent_to_screen(nav.position), before)
    tap(engine, pygame.K_MINUS)
    tap(engine, pygame.K_MINUS)
    assert nav.zoom == pytest.approx(1 / 1.25)


def test_mouse_wheel_zooms_around_the_pointer(engine):
    nav = engine.mode_scene
    x, y = nav.latent_to_screen(nav.position)
    pos = (round(x) + 30, round(y) - 20)  # near the cursor, so the view need not follow it
    under = nav.screen_to_latent(*pos)
    click(engine, pos, button=4)  # wheel up
    assert nav.zoom == pytest.approx(1.25)
    assert np.allclose(nav.screen_to_latent(*pos), under)


def test_moving_slower_when_zoomed_in(engine):
    nav = engine.mode_scene

    def travel() -> float:
        x0 = nav.position[0]
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RIGHT, mod=0))
        frames(engine, 10)
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_RIGHT, mod=0))
        frames(engine, 1)
        return nav.position[0] - x0

    far = travel()
    for _ in range(3):
        tap(engine, pygame.K_EQUALS)
    near = travel()
    assert near == pytest.approx(far / 1.25**3, rel=0.15)


def test_view_follows_the_cursor(engine):
    nav = engine.mode_scene
    for _ in range(6):
        tap(engine, pygame.K_EQUALS)  # zoomed in 3.8x, the initial view is soon left behind
    view = nav.view.copy()
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_d, mod=0))
    frames(engine, 150)
    assert nav.view[0] > view[0]
    x, y = nav.latent_to_screen(nav.position)
    assert nav.map_rect.collidepoint(x, y)


# ----------------------------------------------------------------------------- classes, morph, random


def test_class_next_prev_and_missing_class(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_TAB)
    assert nav.selected == 1
    tap(engine, pygame.K_BACKQUOTE)
    tap(engine, pygame.K_BACKQUOTE)
    assert nav.selected == 9
    assert nav.prev_selected == 0


def test_morph_drifts_gradually_to_the_selected_class(engine):
    nav = engine.mode_scene
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_d, mod=0))
    frames(engine, 20)  # away from class 0, where the engine starts
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_d, mod=0))
    tap(engine, pygame.K_g)  # morph on, toward class 0 ...
    tap(engine, pygame.K_5)  # ... retargeted to class 5: no glide while morphing
    assert nav.morphing and nav.glide is None
    target = nav.project(nav.centroids[5])
    dists = []
    for _ in range(6):
        frames(engine, 15)
        dists.append(np.linalg.norm(nav.z - target))
    assert all(b < a for a, b in zip(dists, dists[1:], strict=False))
    assert dists[0] > 0.3 * np.linalg.norm(nav.project(nav.centroids[0]) - target)  # gradual, not a jump
    for _ in range(100):  # 6.7 s of simulated time in big frames (8 fixed steps each)
        engine.loop_once(8 / 120)
    assert not nav.morphing and np.allclose(nav.z, target)


def test_random_points_come_from_the_prior(engine):
    nav = engine.mode_scene
    pts = []
    for _ in range(6):
        tap(engine, pygame.K_r)
        frames(engine, 25)
        pts.append(nav.position)
    pts = np.array(pts)
    assert len(np.unique(pts.round(6), axis=0)) == 6
    assert np.all(np.abs(pts) < 5)


# ----------------------------------------------------------------------------- interpolation and decoding


def test_interpolation_between_marks_is_one_batched_decode(engine):
    nav = engine.mode_scene
    dec = engine.ctx.model.decoder
    tap(engine, pygame.K_SPACE)
    a = nav.z.copy()
    tap(engine, pygame.K_7)
    frames(engine, 60)
    tap(engine, pygame.K_SPACE)
    b = nav.z.copy()
    assert len(nav.marks) == 2
    runs = dec.runs
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_i, mod=0))
    frames(engine, 1)
    assert dec.runs - runs <= 1  # cursor + 2 x STRIP_FRAMES frames in one run
    s = nav.strip
    assert s is not None and len(s.images) == 2 * STRIP_FRAMES
    assert np.allclose(s.lin_z[0], a) and np.allclose(s.lin_z[-1], b)
    assert np.allclose(s.slerp_z[0], a) and np.allclose(s.slerp_z[-1], b)
    assert not np.allclose(s.lin_z[STRIP_FRAMES // 2], s.slerp_z[STRIP_FRAMES // 2])
    assert s.images[0].shape[-1] == 3
    # the ride ends at B, along the linear path; L switches to slerp and rides again
    frames(engine, 150)
    assert np.allclose(nav.z, b)
    tap(engine, pygame.K_l)
    assert nav.follow_slerp and nav.ride_t0 is not None
    frames(engine, 40)
    u = (nav.t - nav.ride_t0) / 2.4
    from latent_odyssey.game.modes.navigator.scene import ease_in_out as ease

    assert np.allclose(nav.z, slerp(a, b, np.array([ease(u)]))[0])
    tap(engine, pygame.K_i)
    assert nav.strip is None


def test_interpolation_between_two_classes_without_marks(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_i)
    assert nav.strip is None  # nothing to interpolate yet: a notice instead
    assert any("Mark two points" in t for t, _ in engine.ctx.notices)
    tap(engine, pygame.K_3)
    tap(engine, pygame.K_8)
    tap(engine, pygame.K_i)
    assert nav.strip is not None and nav.strip.label == "3 to 8"
    assert np.allclose(nav.strip.a, nav.project(nav.centroids[3]))
    frames(engine, 2)
    # clicking a thumbnail glides there
    rect = nav._thumb_rects(nav.layout.strip)[1][4]
    click(engine, rect.center)
    frames(engine, 40)
    assert np.allclose(nav.z, nav.strip.slerp_z[4])


def test_at_most_one_decode_per_frame_and_none_when_still(engine):
    nav = engine.mode_scene
    dec = engine.ctx.model.decoder
    frames(engine, 3)
    runs = dec.runs
    frames(engine, 20)
    assert dec.runs == runs  # a still scene decodes nothing
    tap(engine, pygame.K_y)  # grid of decoded tiles on
    assert nav.show_grid
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_d, mod=0))
    for _ in range(60):
        runs = dec.runs
        engine.loop_once(DT)
        assert dec.runs - runs <= 1
    assert nav._grid is not None


def test_smooth_toggle(engine):
    assert engine.ctx.smooth
    tap(engine, pygame.K_n)
    assert not engine.ctx.smooth
    frames(engine, 2)


def test_three_d_model_shows_the_two_widest_dims(start_engine, exported_models):
    eng = start_engine(exported_models["3d"], seed=7, size=(800, 600))
    try:
        nav = eng.mode_scene
        assert isinstance(nav, NavigatorScene)
        std = np.asarray(nav.meta.latent_std)
        assert set(nav.dims) == set(np.argsort(-std)[:2].tolist())
        hidden = ({0, 1, 2} - set(nav.dims)).pop()
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, mod=0))
        frames(eng, 20)
        tap(eng, pygame.K_r)
        frames(eng, 30)
        assert nav.z[hidden] == pytest.approx(nav.meta.latent_mean[hidden])
        image = pygame.surfarray.array3d(eng.surface.subsurface(nav.layout.image))
        assert image.std() > 1.0
    finally:
        eng.shutdown()


def test_resize_relayouts(engine):
    nav = engine.mode_scene
    pygame.display.set_mode((900, 640), pygame.RESIZABLE)
    pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, size=(900, 640), w=900, h=640))
    frames(engine, 2)
    assert nav.layout.size == (900, 640)
    assert engine.surface.get_size() == (900, 640)
