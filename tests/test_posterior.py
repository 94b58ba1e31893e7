"""The posterior on the map: ellipse radii as σ predicts, the reparameterization samples,
dropped files in every mode, the prior-vs-data overlay (real engine, shipped models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest
from gamekeys import drop, frames, tap

from latent_odyssey.game.model.mixture import fit_mixture
from latent_odyssey.game.model.posterior import Posterior
from latent_odyssey.game.modes.navigator.encoded import SIGMAS, ellipse_rect, new_encoded
from latent_odyssey.game.modes.navigator.posterior_view import POSTERIOR_COLOUR, PosteriorPainter
from latent_odyssey.game.modes.navigator.prior_view import contour_segments

DIGITS = Path(__file__).parent / "data" / "digits"

pytestmark = pytest.mark.usefixtures("isolated")


@pytest.fixture
def engine(start_engine, exported_models):
    return start_engine(exported_models["2d"], seed=11)








def test_ellipse_rect_radii_are_k_sigma_scale():
    r = ellipse_rect((400.0, 300.0), np.array([0.05, 0.02]), 1000.0, 2.0)
    assert r.width == 200 and r.height == 80 and r.center == (400, 300)


@pytest.mark.parametrize("zoom", [15.0, 30.0])
def test_the_ellipses_drawn_on_the_map_have_the_radii_sigma_predicts(engine, zoom):
    nav = engine.mode_scene
    drop(engine, DIGITS / "6_wob.png")
    frames(engine, 60)  # the cursor glides to μ
    e = nav.encoded
    ix = list(nav.dims)
    nav.zoom = zoom
    nav.view = e.post.mu[ix].copy()
    frames(engine, 1)
    canvas = pygame.Surface(engine.surface.get_size())
    canvas.fill((0, 0, 0))
    PosteriorPainter().draw_posterior(canvas, nav.map_rect, e, ix, nav.latent_to_screen, nav.scale, nav.t + 10, nav.k)
    cx, cy = (round(v) for v in nav.latent_to_screen(e.post.mu[ix]))
    px = pygame.surfarray.array3d(canvas).transpose(1, 0, 2)
    hit = np.all(px == POSTERIOR_COLOUR, axis=-1)
    for axis, sigma in ((0, e.post.sigma[ix[0]]), (1, e.post.sigma[ix[1]])):
        line = np.flatnonzero(hit[cy]) - cx if axis == 0 else np.flatnonzero(hit[:, cx]) - cy
        outer = line[np.abs(line) > 12]  # ellipse outlines, not μ's diamond
        for nsig in SIGMAS:
            want = nsig * sigma * nav.scale
            near = outer[np.abs(np.abs(outer) - want) < 3]
            assert len(near) >= 2, (axis, nsig, want, outer)
            # the outline's outer edge (2 px wide, drawn inside the box) sits at k·σ·scale px
            assert np.abs(near).max() == pytest.approx(want, abs=1.5)
    assert 2 * e.post.sigma[ix].max() * nav.scale > 30  # big enough to measure


def test_the_lens_shows_the_posterior_when_it_is_too_small_for_the_map(engine):
    nav = engine.mode_scene
    drop(engine, DIGITS / "2_photo.jpg")
    frames(engine, 2)
    painter = nav._painter.posterior
    lens = painter.lens_rect(nav)
    assert lens is not None and nav.map_rect.contains(lens)
    shot = pygame.surfarray.array3d(engine.surface).transpose(1, 0, 2)
    inside = shot[lens.top + 20 : lens.bottom - 20, lens.left + 20 : lens.right - 20]
    assert np.all(inside == POSTERIOR_COLOUR, axis=-1).sum() > 50  # its ellipses are drawn there
    nav.zoom = 60.0
    assert painter.lens_rect(nav) is None  # zoomed in, the map shows them itself


def test_samples_are_mu_plus_sigma_eps_and_z_redraws_them(engine):
    nav = engine.mode_scene
    drop(engine, DIGITS / "8_thick.png")
    frames(engine, 2)
    e = nav.encoded
    assert np.allclose(e.zs, e.post.mu + e.post.sigma * e.eps)
    first_eps, first_images = e.eps.copy(), e.images
    runs = engine.ctx.model.decoder.runs
    tap(engine, pygame.K_z)
    assert not np.allclose(e.eps, first_eps)
    assert e.images is not None and e.images is not first_images
    assert engine.ctx.model.decoder.runs - runs <= 2  # one batched run per frame at most
    post = Posterior(np.array([0.5, -1.0]), np.array([0.1, 0.3]), np.zeros((1, 28, 28), np.float32))
    many = new_encoded(post, np.random.default_rng(0), 0.0, samples=20000).zs
    assert many.mean(0) == pytest.approx(post.mu, abs=0.01)
    assert many.std(0) == pytest.approx(post.sigma, rel=0.03)


def test_a_dropped_file_glides_to_its_mu_and_a_bad_one_changes_nothing(engine, tmp_path):
    nav = engine.mode_scene
    drop(engine, DIGITS / "7_photo.jpg")
    frames(engine, 60)
    e = nav.encoded
    assert e.post.label == "7_photo.jpg" and np.allclose(nav.z, e.post.mu)
    assert "nearest class 7" in engine.ctx.notices[-1][0]
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    z = nav.z.copy()
    drop(engine, bad)
    frames(engine, 5)
    assert nav.encoded is e and np.allclose(nav.z, z)
    text = engine.ctx.notices[-1][0]
    assert "is not an image" in text and "\n" not in text


def test_snapshots_carry_the_posterior_and_its_picture(engine, start_engine, exported_models):
    nav = engine.mode_scene
    drop(engine, DIGITS / "3_wob.png")
    frames(engine, 2)
    state = nav.snapshot()
    other = start_engine(exported_models["2d"], seed=2).mode_scene
    other.restore(state)
    assert np.allclose(other.encoded.post.mu, nav.encoded.post.mu)
    assert np.allclose(other.encoded.eps, nav.encoded.eps)
    assert np.abs(other.encoded.post.image - nav.encoded.post.image).max() <= 1 / 255 + 1e-6
    other.restore({"encoded": None})
    assert other.encoded is None


def test_faces_and_odyssey_open_dropped_images(start_engine, exported_face_model, exported_models, tmp_path):
    eng = start_engine(exported_face_model, mode="faces", seed=4)
    studio = eng.mode_scene
    face = eng.ctx.model.decoder.decode_one(studio.latent() * 0.5)  # a face the model can make
    path = tmp_path / "face.png"
    pygame.image.save(pygame.image.frombuffer(face.tobytes(), face.shape[1::-1], "RGB"), str(path))
    drop(eng, path)
    frames(eng, 40)
    mu = studio.encode_image(path).mu
    assert np.allclose(studio.state.base, mu) and np.allclose(studio.sliders, 0.0)
    tap(eng, pygame.K_1)
    assert np.allclose(studio.slots["A"].z, mu)
    tap(eng, pygame.K_d)  # the sliders edit the dropped face
    assert not np.allclose(studio.latent(), mu)
    fly = start_engine(exported_models["3d"], mode="odyssey", seed=4)
    drop(fly, DIGITS / "4_wob.png")
    ody = fly.mode_scene
    assert ody.warp_state is not None
    assert np.allclose(ody.warp_state["target"], ody.encode_image(DIGITS / "4_wob.png").mu[ody.dims])


def test_the_default_open_image_says_the_mode_cannot(engine):
    from test_app import StandIn  # a mode with the bare protocol

    plain = StandIn()
    plain.enter(engine.ctx)
    plain.open_image(DIGITS / "1_wob.png")
    assert engine.ctx.notices[-1][0].startswith("The Stand-in cannot open images")
    assert plain.start_experiment("anything") is False


# ----------------------------------------------------------------------------- prior vs data


def test_the_mixture_fits_the_encoded_data_and_marks_holes(exported_models):
    from latent_odyssey.game.model.modelfile import open_model

    _, meta = open_model(exported_models["2d"], "cpu")
    pts, labels = meta.sample_array()
    mix = fit_mixture(pts, labels)
    assert mix.weights.sum() == pytest.approx(1.0) and len(mix.weights) == 10
    assert mix.off_data(pts).mean() == pytest.approx(0.01, abs=0.002)  # the lowest 1 % by construction
    assert mix.off_data(np.array([[6.0, 6.0]]))[0] and not mix.off_data(meta.centroid_array()).any()
    # the fit is a density: it integrates to about 1 over a wide box
    g = np.linspace(-8, 8, 321)
    xx, yy = np.meshgrid(g, g)
    p = np.exp(mix.log_density(np.stack([xx.ravel(), yy.ravel()], 1)))
    assert p.sum() * (g[1] - g[0]) ** 2 == pytest.approx(1.0, abs=0.01)
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(-3, 0.3, (300, 2)), rng.normal(3, 0.3, (300, 2))])
    two = fit_mixture(blobs, None, components=2)  # unlabelled: k-means++ seeds
    assert sorted(np.round(two.means[:, 0])) == [-3.0, 3.0]


def test_marching_squares_traces_a_circle():
    g = np.arange(41) - 20.0
    xx, yy = np.meshgrid(g, g)
    segs = contour_segments(-np.hypot(xx, yy), -12.0)  # the level set r = 12
    assert len(segs) > 40
    r = np.hypot(segs[..., 0] - 20, segs[..., 1] - 20)
    assert r == pytest.approx(12.0, abs=0.25)


def test_the_prior_overlay_and_the_off_data_warning(engine):
    nav = engine.mode_scene
    tap(engine, pygame.K_o)
    assert nav.show_prior and nav.mixture is not None
    assert not nav.off_data()  # the cursor starts on class 0's centroid
    nav.set_position(np.array([3.5, -3.0]))
    frames(engine, 1)
    assert nav.off_data()
    r = nav.map_rect
    shot = pygame.surfarray.array3d(engine.surface).transpose(1, 0, 2)
    x, y = (round(v) for v in nav.latent_to_screen(nav.position))
    ring = shot[y - 14 : y + 15, x - 14 : x + 15].reshape(-1, 3)
    assert np.any(np.all(ring == (255, 96, 80), axis=1))  # the crosshair turns to the warning colour
    area = shot[r.top : r.bottom, r.left : r.right].astype(int)
    violet = (np.abs(area - np.array([196, 150, 255])).max(axis=-1) < 24).sum()
    assert violet > 1000  # the prior's circles (and the legend) are drawn
    tap(engine, pygame.K_o)
    assert not nav.show_prior
