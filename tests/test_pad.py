"""The Navigator's drawing pad: strokes make the expected pixels, and drawing in the game
(mouse, keys) encodes live with the shipped mnist-2d encoder."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
from gamekeys import drag, frames, tap

from latent_odyssey.game.modes.navigator.pad import (
    ERASER_RADIUS_CELLS,
    PAD_CELLS,
    PEN_RADIUS_CELLS,
    DrawingPad,
)

pytestmark = pytest.mark.usefixtures("isolated")


def centres_distance(cells: int, a: tuple[float, float], b: tuple[float, float]) -> np.ndarray:
    """Distance from every cell centre to the segment a-b (computed independently of the pad)."""
    ys, xs = np.mgrid[0:cells, 0:cells] + 0.5
    p = np.stack([xs, ys], -1)
    a_, b_ = np.array(a), np.array(b)
    t = np.clip(((p - a_) @ (b_ - a_)) / max((b_ - a_) @ (b_ - a_), 1e-12), 0, 1)
    return np.linalg.norm(p - (a_ + t[..., None] * (b_ - a_)), axis=-1)


@pytest.mark.parametrize("a, b", [((20.0, 30.0), (80.0, 30.0)), ((10.5, 90.2), (70.3, 20.7)), ((56.0, 56.0), (56.0, 56.0))])
def test_a_pen_stroke_inks_the_cells_within_its_radius(a, b):
    pad = DrawingPad()
    pad.stroke(a, b)
    d = centres_distance(PAD_CELLS, a, b)
    r = PEN_RADIUS_CELLS
    assert np.all(pad.ink[d <= r - 0.5] == 1.0)  # the core is full ink
    assert np.all(pad.ink[d >= r + 0.5] == 0.0)  # nothing beyond the anti-aliased edge
    edge = (d > r - 0.5) & (d < r + 0.5)
    assert np.allclose(pad.ink[edge], r + 0.5 - d[edge])  # a one-cell linear ramp
    assert pad.version == 1 and not pad.empty


def test_the_eraser_removes_ink_and_clear_wipes_everything():
    pad = DrawingPad()
    pad.stroke((10.0, 50.0), (100.0, 50.0))
    pad.stroke((55.0, 20.0), (55.0, 80.0), eraser=True)
    d = centres_distance(PAD_CELLS, (55.0, 20.0), (55.0, 80.0))
    assert np.all(pad.ink[d <= ERASER_RADIUS_CELLS - 0.5] == 0.0)
    assert pad.ink[50, 20] == 1.0 and pad.ink[50, 90] == 1.0  # the ends of the line are left
    pad.clear()
    assert pad.empty and pad.ink.max() == 0.0 and pad.version == 3


def test_a_stroke_continues_from_where_it_was_and_lifts():
    pad = DrawingPad()
    pad.draw_to((20.0, 20.0))
    pad.draw_to((60.0, 20.0))
    pad.lift()
    pad.draw_to((60.0, 90.0))  # a new stroke: a dot, not a line from (60, 20)
    assert pad.ink[20, 40] == 1.0 and pad.ink[55, 60] == 0.0 and pad.ink[90, 60] == 1.0
    grey = pad.picture()
    assert grey.dtype == np.uint8 and grey[20, 40] == 255 and grey[55, 60] == 0


def test_window_pixels_map_to_cells():
    pad = DrawingPad()
    assert pad.to_cells(100, 50, 100, 50, 360) == pytest.approx((0.5 * PAD_CELLS / 360, 0.5 * PAD_CELLS / 360))
    assert pad.to_cells(459, 409, 100, 50, 360) == pytest.approx((359.5 * PAD_CELLS / 360, 359.5 * PAD_CELLS / 360))


# ----------------------------------------------------------------------------- in the game


@pytest.fixture
def engine(start_engine, exported_models):
    return start_engine(exported_models["2d"], seed=5)








def test_drawing_with_the_mouse_inks_the_pad_and_encodes_live(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_e)
    assert nav.pad_open and nav.encoded is None
    rect = nav.layout.image
    x = rect.centerx
    top, bottom = rect.top + rect.height // 6, rect.bottom - rect.height // 6
    drag(engine, [(x, y) for y in range(top, bottom + 1, 12)])  # a vertical bar: a "1"
    cells = rect.width / PAD_CELLS
    col = int((x + 0.5 - rect.x) / cells)
    row_mid = int((rect.centery + 0.5 - rect.y) / cells)
    assert nav.pad.ink[row_mid, col] == 1.0  # under the stroke
    assert nav.pad.ink[row_mid, min(PAD_CELLS - 1, col + 12)] == 0.0  # beside it
    frames(engine, 1)
    e = nav.encoded
    assert e is not None and e.post.source == "drawing"
    k, _ = e.post.nearest_class(nav.centroids)
    assert nav.class_names[k] == "1"
    assert e.images is not None and len(e.images) == 1 + len(e.eps)  # decoded μ and the samples
    before = e.post.mu.copy()
    ring = [(int(rect.centerx + 90 * np.cos(a)), int(rect.centery + 110 * np.sin(a))) for a in np.linspace(0, 2 * np.pi, 40)]
    tap(engine, pygame.K_c)
    assert nav.pad.empty
    frames(engine, 1)
    assert nav.encoded is None  # an empty pad has no posterior
    drag(engine, ring)  # an ellipse: a "0"
    frames(engine, 1)
    k, _ = nav.encoded.post.nearest_class(nav.centroids)
    assert nav.class_names[k] == "0" and not np.allclose(nav.encoded.post.mu, before)
    drag(engine, [(rect.centerx - 100, rect.centery), (rect.centerx + 100, rect.centery)], button=3)  # erase across
    assert nav.pad.ink[row_mid, col] == 0.0
    tap(engine, pygame.K_e)
    assert not nav.pad_open and nav.encoded is not None  # the posterior stays on the map


def test_keys_draw_with_space_held_and_enter_glides_to_mu(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_e)
    start = nav.pad.pen.copy()
    cursor = nav.position.copy()
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE, mod=0))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_UP, mod=0))
    frames(engine, 30)  # half a second up: 35 cells
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_UP, mod=0))
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_SPACE, mod=0))
    frames(engine, 2)
    end = nav.pad.pen
    assert end[0] == pytest.approx(start[0]) and start[1] - end[1] > 25  # the pen went up the pad
    c, r0, r1 = int(start[0]), int(end[1]) + 1, int(start[1]) - 1
    assert np.all(nav.pad.ink[r0:r1, c] == 1.0)
    assert np.allclose(nav.position, cursor)  # the map's cursor stayed: the keys drove the pen
    assert nav.encoded is not None
    tap(engine, pygame.K_RETURN)
    frames(engine, 60)
    assert np.allclose(nav.z, nav.encoded.post.mu, atol=1e-6)


def test_the_pad_needs_a_greyscale_model_with_an_encoder(start_engine, exported_face_model, exported_models, tmp_path):
    eng = start_engine(exported_face_model, seed=1)
    eng.switch_mode("navigator")
    tap(eng, pygame.K_e)
    assert not eng.mode_scene.pad_open
    assert "colour model" in eng.ctx.notices[-1][0]
    lone = tmp_path / "lone.onnx"
    lone.write_bytes(exported_models["2d"].read_bytes())
    eng2 = start_engine(lone, seed=1)
    tap(eng2, pygame.K_e)
    assert not eng2.mode_scene.pad_open and "no encoder" in eng2.ctx.notices[-1][0]
