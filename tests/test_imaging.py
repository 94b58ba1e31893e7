"""The crisp look: real decodes of the shipped models, enlarged, judged by their pixels."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from latent_odyssey.game.engine import imaging
from latent_odyssey.game.model.decoder import Decoder
from latent_odyssey.game.model.modelfile import open_model

pytestmark = pytest.mark.usefixtures("headless_pygame")


def grey(surface: pygame.Surface) -> np.ndarray:
    return pygame.surfarray.array3d(surface.convert(32) if surface.get_bitsize() == 8 else surface).mean(axis=2)


@pytest.fixture(scope="module")
def digit(exported_models) -> tuple[np.ndarray, imaging.InkStyle]:
    sess, meta = open_model(exported_models["2d"], "cpu")
    img = Decoder(sess, meta).decode_one(meta.centroid_array()[3].astype(np.float32))
    return img, imaging.style_for(meta)


def test_styles_follow_the_model(exported_models, exported_face_model) -> None:
    _, digits = open_model(exported_models["2d"], "cpu")
    _, faces = open_model(exported_face_model, "cpu")
    assert imaging.style_for(digits) is imaging.INK and imaging.INK.dark_background
    assert imaging.style_for(faces) is imaging.PHOTO and not imaging.PHOTO.dark_background
    assert [imaging.next_look(x) for x in imaging.LOOKS] == ["nearest", "smooth", "crisp"]
    assert imaging.next_look("bogus") == imaging.DEFAULT_LOOK == "crisp"


def test_crisp_strokes_have_sharp_edges_and_keep_their_shape(digit) -> None:
    img, style = digit
    size = (280, 280)  # 10x
    crisp = grey(imaging.enlarged(img, size, "crisp", style))
    smooth = grey(imaging.enlarged(img, size, "smooth", style))
    edge_level = style.threshold * np.percentile(img[..., 0], 99)  # the level crisp's edge follows
    ink_c, ink_s = crisp > 127, smooth > edge_level

    def mid_tones(g: np.ndarray) -> float:  # pixels on an edge, per pixel of ink (levels of the image's own peak)
        lo, hi = 0.12 * g.max(), 0.88 * g.max()
        ink = np.mean(g >= hi)
        assert ink > 0.01  # the digit is there
        return float(np.mean((g > lo) & (g < hi)) / ink)

    assert mid_tones(crisp) < 0.4 * mid_tones(smooth)
    assert (ink_c & ink_s).sum() / (ink_c | ink_s).sum() > 0.75  # the same digit
    # an edge is about one output pixel wide: along each row, ramps from dark to ink are short
    rows = crisp[:, 100:180]
    ramp = ((rows > 30) & (rows < 225)).sum(axis=0)
    crossings = np.abs(np.diff((rows >= 128).astype(int), axis=0)).sum(axis=0)
    assert ramp.sum() <= 3 * crossings.sum()


def test_nearest_is_plain_pixels_and_the_same_size_is_untouched(digit) -> None:
    img, style = digit
    near = imaging.enlarged(img, (84, 84), "nearest", style)
    want = pygame.transform.scale(imaging.rgb_surface(img), (84, 84))
    assert np.array_equal(pygame.surfarray.array3d(near), pygame.surfarray.array3d(want))
    same = imaging.enlarged(img, (28, 28), "crisp", style)
    assert np.array_equal(pygame.surfarray.array3d(same).transpose(1, 0, 2), img)


def test_resampling_keeps_levels_and_filters_when_shrinking() -> None:
    for n_in, n_out in ((28, 280), (64, 150), (28, 13)):
        idx, w = imaging.resize_taps(n_in, n_out)
        np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
        assert idx.min() >= 0 and idx.max() < n_in
    flat = np.full((28, 28), 0.37, np.float32)
    np.testing.assert_allclose(imaging.resample(flat, (200, 150)), 0.37, atol=1e-5)
    checker = (np.indices((28, 28)).sum(axis=0) % 2).astype(np.float32)
    small = imaging.resample(checker, (14, 14))
    assert np.abs(small - 0.5).max() < 0.2  # no aliasing into a pattern


def test_colour_faces_get_sharper_not_different(exported_face_model) -> None:
    sess, meta = open_model(exported_face_model, "cpu")
    img = Decoder(sess, meta).decode_one(np.asarray(meta.sample_z[0], np.float32))
    style = imaging.style_for(meta)
    crisp = pygame.surfarray.array3d(imaging.enlarged(img, (256, 256), "crisp", style)).astype(float)
    smooth = pygame.surfarray.array3d(imaging.enlarged(img, (256, 256), "smooth", style)).astype(float)
    assert np.abs(crisp.mean(axis=(0, 1)) - smooth.mean(axis=(0, 1))).max() < 3.0  # same colours
    energy = [np.abs(np.diff(a, axis=0)).mean() for a in (crisp, smooth)]
    assert energy[0] > 1.15 * energy[1]  # more detail at the edges
