"""Faces in the Odyssey: round cards, not squares, and words that make sense without classes."""

from __future__ import annotations

import numpy as np
import pygame
import pytest
from test_odyssey import Rig

from latent_odyssey.game.engine import imaging
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
