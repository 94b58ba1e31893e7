"""Faces in the Odyssey: round cards, not squares, and words that make sense without classes."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
from test_odyssey import Rig

from latent_odyssey.game.engine import imaging
from latent_odyssey.game.modes.odyssey.frame import FlightFrame, flight_frame, frame_bounds
from latent_odyssey.game.modes.odyssey.sprites import billboard_rgba

pytestmark = pytest.mark.usefixtures("headless_pygame")


@pytest.fixture()
def faces(exported_face_model):
    r = Rig(exported_face_model, size=(800, 450))
    yield r
    r.scene.exit()


def test_a_face_becomes_a_round_card_with_a_tinted_rim(faces) -> None:
    img = faces.decoder.decode_one(np.asarray(faces.scene.meta.sample_z[0], np.float32))
    card = billboard_rgba(img, 96, imaging.PHOTO, "crisp", (60, 200, 80))  # (96, 96, 4)
    alpha = card[..., 3]
    assert alpha[0, 0] == alpha[0, -1] == alpha[-1, 0] == alpha[-1, -1] == 0  # round: no corners
    assert alpha[48, 48] == 255 and alpha[48, 1] > 0
    rim = card[48, 2, :3].astype(int)
    assert np.abs(rim - (60, 200, 80)).max() < 40  # the rim wears the region's colour
    centre = card[40:56, 40:56, :3].reshape(-1, 3).mean(axis=0)
    assert np.abs(centre - img[27:37, 27:37].reshape(-1, 3).mean(axis=0)).max() < 20  # the face itself


def test_the_odyssey_on_faces_shows_cards_and_speaks_of_regions(faces) -> None:
    s = faces.scene
    assert not s.meta.class_names and s.tour_kind == "dense" and "class" not in s.tour_title()
    faces.frame(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, mod=0))
    for _ in range(10):
        faces.frame()
    assert s.view.field.drawn > 10
    shown = [key[0] for key in s.view.hud._text_cache]
    assert any(text.startswith("region ") for text in shown)
    assert any("σ from the mean" in text for text in shown)
    assert not any("class" in text.lower() for text in shown)
    rows = [what for what, _, _ in s.help_rows(faces.inp)]
    assert not any("class" in what.lower() for what in rows)
    name, k = s.region_of(s.ship.position)
    tints = s.tints_of(s.ship.position[None])
    assert name == f"region {k + 1}" and tints.shape == (1, 3)
    # the frame: many round cards on the dark sky, nothing square and beige over it all
    frame = pygame.surfarray.array3d(faces.surface).astype(int)
    assert frame.std() > 10
    faces.tap(pygame.K_t)  # the tunnel of faces: cards too
    assert s.tunnel and s.view.compositor.drawn > 0


def test_the_principal_frame_is_a_rotation_ordered_by_variance_and_narrow_models_keep_their_axes() -> None:
    rng = np.random.default_rng(0)
    mix = np.linalg.qr(rng.normal(size=(20, 20)))[0]  # a random rotation
    scales = np.linspace(3.0, 0.1, 20)
    samples = (rng.normal(size=(4000, 20)) * scales) @ mix.T + 1.5  # (M, 20): axis k of `mix` has scale k
    frame = flight_frame(20, samples)
    assert not frame.identity and frame.name(0) == "PC1"
    np.testing.assert_allclose(frame.basis.T @ frame.basis, np.eye(20), atol=1e-9)
    assert abs(frame.basis[:, 0] @ mix[:, 0]) > 0.99  # the widest axis first
    y = frame.to_frame(samples)
    assert np.all(np.diff(y.std(axis=0)) < 0)
    np.testing.assert_allclose(frame.to_latent(y), samples, atol=1e-9)
    again = flight_frame(20, samples.copy())
    np.testing.assert_array_equal(again.basis, frame.basis)  # deterministic signs
    narrow = flight_frame(5, samples[:, :5])
    assert narrow.identity and narrow.name(3) == "z3" and narrow.to_frame(samples[:1, :5]) is not None
    lo, hi = frame_bounds(frame, samples, np.zeros(20), np.ones(20), (1.0, 99.0))
    inside = ((y >= lo) & (y <= hi)).mean(axis=0)
    assert np.all(np.abs(inside - 0.98) < 0.01)


def test_the_odyssey_flies_faces_along_principal_axes_that_change_the_picture_more(faces) -> None:
    s = faces.scene
    assert s.frame.prefix == "PC" and s.dims.tolist() == [0, 1, 2]
    faces.frame()
    shown = [key[0] for key in s.view.hud._text_cache]
    assert any("PC1 PC2 PC3" in text for text in shown)
    # the ship's latent is the frame point turned back: flight logs keep true latents
    np.testing.assert_allclose(s.frame.to_frame(s.latent()), s.frame_point(), atol=1e-9)

    def change(frame) -> float:
        """Mean |Δpixel| from a 1.5 σ step along each of the three widest axes of ``frame``."""
        z = np.asarray(s.meta.sample_array()[0], np.float64)
        y = frame.to_frame(z)
        order = np.argsort(-y.std(axis=0))[:3]
        mean = y.mean(axis=0)
        steps = [mean.copy()] + [mean + 1.5 * y[:, k].std() * np.eye(len(mean))[k] for k in order]
        imgs = np.stack(faces.decoder.decode_batch(frame.to_latent(np.array(steps)).astype(np.float32))).astype(float)
        return float(np.abs(imgs[1:] - imgs[:1]).mean())

    principal, raw = change(s.frame), change(FlightFrame.axes(s.meta.latent_dim))
    assert principal > 1.3 * raw, (principal, raw)


def test_a_random_warp_on_faces_lands_on_a_whole_density_sample(faces) -> None:
    s = faces.scene
    faces.frame()
    before = faces.decoder.decode_one(s.latent().astype(np.float32)).astype(int)
    faces.tap(pygame.K_j)
    rest = s.warp_state["rest"].copy()
    assert s.warp_state["label"] == "random face"
    np.testing.assert_allclose(s.warp_state["target"], rest[s.dims])
    frames = 0
    while s.mode == "warp":
        faces.frame(draw=False)
        frames += 1
        assert frames < 200
    np.testing.assert_allclose(s.frame_point(), rest, atol=1e-9)  # every axis, not only the three flown
    assert np.abs(rest - s.mean_full)[3:].max() > 0.5  # the fixed axes moved off the mean
    after = faces.decoder.decode_one(s.latent().astype(np.float32)).astype(int)
    assert np.abs(after - before).mean() > 5  # another face at the ship
    faces.frame()
    assert s.view.field.drawn > 10
