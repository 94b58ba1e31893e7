"""The fitted density in the model file, sampling from it, and attribute edits judged against
true counterfactual renders: all on copies of the shipped faces model through onnxruntime."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pygame
import pytest

from latent_odyssey.export.density import add_density, write_metadata
from latent_odyssey.export.density import main as density_main
from latent_odyssey.export.editfields import FIELD_RANK
from latent_odyssey.export.facequality import (
    HELDOUT_SEED,
    counterfactual_pairs,
    edit_score,
    encode_pairs,
    field_score,
    frechet,
    region_mask,
)
from latent_odyssey.export.facereport import OnnxFaceModel, Setup
from latent_odyssey.game.model.density import (
    MAX_RANK,
    VARIANCE_KEPT,
    Density,
    PriorSampler,
    check_density,
    fit_density,
)
from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta, open_model
from latent_odyssey.train.faces import ATTRIBUTES

PAIRS = 100  # counterfactual pairs per attribute in the edit tests (32 were noisy: age 68 % there, 71 % on 200)
MIN_FRACTION = 0.25  # an edit along a shipped direction gets at least a quarter of the way
TARGET_FRACTION = 0.70  # issue 14's target for every attribute


@pytest.fixture(scope="module")
def face(density_face_model) -> OnnxFaceModel:
    return OnnxFaceModel.open(density_face_model)


@pytest.fixture(scope="module")
def density(face) -> Density:
    return face.meta.fitted_density()


# ----------------------------------------------------------------------------- the fit


def test_the_fit_keeps_the_subspace_of_the_data_and_reads_back_as_stored(face, density):
    mu, _ = face.meta.sample_array()  # (M, D) encoded training faces
    # up to 10 components: one with too few points for a full covariance in the subspace is dropped
    # (the shipped fit on 60,000 faces keeps 10; this refit on the ~1,560 stored faces keeps 9)
    assert density.latent_dim == face.meta.latent_dim and 2 <= density.components <= 10
    assert 4 <= density.rank <= 32  # the faces fill a thin subspace of the 128 dims
    basis = density.basis
    np.testing.assert_allclose(basis @ basis.T, np.eye(density.rank), atol=1e-4)
    centred = mu - mu.mean(0)
    kept = ((centred @ basis.T) ** 2).sum() / (centred ** 2).sum()
    # the subspace holds VARIANCE_KEPT of μ's variance, or as much as MAX_RANK dims can (the shipped
    # model's 32 hold 98.9 %; it would need 50 for 99.5 %)
    assert kept >= VARIANCE_KEPT - 1e-3 or (density.rank == MAX_RANK and kept >= 0.98)
    raw = density.to_dict()
    assert check_density(raw, face.meta.latent_dim) is None
    assert len(json.dumps(raw)) < 200_000  # ~150 KB in the metadata at 32 dims and 10 components, not megabytes
    again = Density.from_dict(json.loads(json.dumps(raw)))
    np.testing.assert_allclose(again.sample(5, 1), density.sample(5, 1), atol=1e-4)


def test_the_density_fits_held_out_faces_better_than_the_prior(face, density):
    mu, _ = face.meta.sample_array()
    held = mu[1::2]
    fit_half = fit_density(mu[::2])  # fitted on every other face, judged on the rest
    ll_fit = fit_half.log_density(held).mean() / face.meta.latent_dim
    ll_prior = (-0.5 * (held ** 2).sum(1) - 0.5 * held.shape[1] * math.log(2 * math.pi)).mean() / held.shape[1]
    assert ll_fit > ll_prior + 1.0, (ll_fit, ll_prior)  # nats per dimension


def test_sampling_is_deterministic_per_seed_and_the_temperature_scales_the_spread(density):
    a, b, c = density.sample(64, 5), density.sample(64, 5), density.sample(64, 6)
    assert a.shape == (64, density.latent_dim)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.1
    draw = density.draw(64, np.random.default_rng(5))
    np.testing.assert_array_equal(density.latents(draw, 1.0), a)
    centre = density.latents(draw, 0.0)  # the component means, in latent space
    expected = density.mean + density.mixture.means[draw.component] @ density.basis
    np.testing.assert_allclose(centre, expected, atol=1e-9)
    for t in (0.5, 1.5):
        np.testing.assert_allclose(density.latents(draw, t) - centre, t * (a - centre), atol=1e-9)
    prior = PriorSampler(density.latent_dim)
    np.testing.assert_array_equal(prior.sample(8, 3, 0.5), 0.5 * np.random.default_rng(3).standard_normal((8, 128)))


def test_no_sample_passes_its_norm_bound(face, density):
    """The bound the fuzzer checks the Face Studio's latents against (``norm_bound``)."""
    for sampler in (density, PriorSampler(face.meta.latent_dim)):
        for t in (0.0, 1.0, 2.0):
            z = sampler.sample(20_000, 4, t)
            assert np.linalg.norm(z, axis=1).max() <= sampler.norm_bound(t), (sampler.name, t)
        assert sampler.norm_bound(2.0) > sampler.norm_bound(1.0)


def test_density_samples_decode_like_the_data_and_prior_samples_do_not(face, density):
    """Fréchet distance of the encodings of decoded samples to those of decoded encoded faces
    (the shipped σ-VAE: density 8.2, encoded faces 7.2, prior 65; the older blurry model's prior
    was 26 times its density's, this one's 8 times)."""
    mu, _ = face.meta.sample_array()
    reference = face.encode(face.decode(mu[:300]))
    fd_density = frechet(face.encode(face.decode(density.sample(300, 0))), reference)
    fd_prior = frechet(face.encode(face.decode(PriorSampler(face.meta.latent_dim).sample(300, 0))), reference)
    fd_data = frechet(face.encode(face.decode(mu[300:600])), reference)
    assert fd_density < 3 * fd_data + 1.0 and fd_prior > 5 * fd_density, (fd_density, fd_prior, fd_data)


# ----------------------------------------------------------------------------- validation on load


def _density_raw(density: Density) -> dict:
    return json.loads(json.dumps(density.to_dict()))


def _bad(edit):
    def make(raw: dict) -> dict:
        edit(raw)
        return raw
    return make


def _not_pd(raw):
    raw["covs"][0] = (-np.eye(len(raw["covs"][0]))).tolist()


def _asymmetric(raw):
    raw["covs"][1][0][1] += 1.0


BAD_DENSITIES = [
    ("not-an-object", lambda raw: [1, 2], "density is not a JSON object"),
    ("unknown-method", _bad(lambda r: r.update(method="flow")), "density method 'flow'"),
    ("missing-covs", _bad(lambda r: r.pop("covs")), "density lacks covs"),
    ("mean-too-short", _bad(lambda r: r.update(mean=r["mean"][:-1])), "density mean should have 128 values"),
    ("basis-wrong-width", _bad(lambda r: r.update(basis=[row[:-1] for row in r["basis"]])), "density basis should be"),
    ("basis-not-orthonormal", _bad(lambda r: r["basis"][0].__setitem__(0, r["basis"][0][0] + 0.5)),
     "density basis rows are not orthonormal"),
    ("nan-in-means", _bad(lambda r: r["means"][2].__setitem__(0, float("nan"))), "density means holds a non-finite"),
    ("string-in-weights", _bad(lambda r: r["weights"].__setitem__(0, "0.1")), "density weights holds a non-finite"),
    ("weights-sum", _bad(lambda r: r["weights"].__setitem__(0, r["weights"][0] + 0.2)), "density weights do not sum to 1"),
    ("negative-weight", _bad(lambda r: r.update(weights=[1.5, -0.5] + [0.0] * (len(r["weights"]) - 2))),
     "density weights hold a negative weight"),
    ("means-wrong-shape", _bad(lambda r: r.update(means=r["means"][:-1])), "density means should have shape"),
    ("covs-ragged", _bad(lambda r: r["covs"][0].pop()), "density covs is not a rectangular array"),
    ("covs-not-positive-definite", _bad(_not_pd), "density covs are not positive-definite"),
    ("covs-not-symmetric", _bad(_asymmetric), "density covs are not symmetric"),
    ("negative-residual", _bad(lambda r: r.update(residual_std=-1.0)), "density residual_std -1.0"),
]


@pytest.mark.parametrize(("edit", "phrase"), [c[1:] for c in BAD_DENSITIES], ids=[c[0] for c in BAD_DENSITIES])
def test_a_bad_density_is_one_sentence_naming_the_field(face, density, edit, phrase):
    raw = json.loads(face.meta.to_json())
    raw["density"] = edit(_density_raw(density))
    with pytest.raises(ModelFileError) as info:
        ModelMeta.from_json(json.dumps(raw), "faces.onnx")
    msg = str(info.value)
    assert msg.startswith("faces.onnx metadata is inconsistent: ") and phrase in msg, msg
    assert msg.endswith(".") and "\n" not in msg


def test_a_model_file_with_a_bad_density_is_refused_when_opened(face, density, tmp_path):
    path = tmp_path / "faces.onnx"
    shutil.copyfile(face.path, path)
    meta = face.meta
    meta_bad = ModelMeta.from_json(meta.to_json())
    raw = _density_raw(density)
    raw["weights"] = [w * 2 for w in raw["weights"]]
    meta_bad.density = raw  # written without validation, as a foreign tool might
    write_metadata(path, meta_bad)
    with pytest.raises(ModelFileError, match=r"faces\.onnx metadata is inconsistent: density weights do not sum to 1 \(2\)\."):
        open_model(path, "cpu")


def test_a_model_without_a_density_still_loads(exported_models):
    _, meta = open_model(exported_models["2d"], "cpu")
    assert meta.density == {} and meta.fitted_density() is None


def test_the_shipped_face_model_carries_a_density(exported_face_model):
    _, meta = open_model(exported_face_model, "cpu")
    density = meta.fitted_density()
    assert density is not None and density.points >= 1000
    assert "face_quality" in meta.training and "Counterfactual edits" in meta.training["face_quality"]


# ----------------------------------------------------------------------------- counterfactual edits


@pytest.fixture(scope="module")
def held_out(face) -> dict[str, tuple]:
    """{attribute: (pairs, codes)}: PAIRS held-out counterfactual pairs and their encodings."""
    out = {}
    for j, attr in enumerate(ATTRIBUTES):
        pairs = counterfactual_pairs(attr, PAIRS, HELDOUT_SEED + 1 + j, face.size)
        out[attr] = (pairs, encode_pairs(pairs, face.encode, face.decode))
    return out


@pytest.fixture(scope="module")
def shipped_edits(face, held_out) -> dict[str, dict]:
    """``edit_score`` of each shipped direction on the held-out pairs."""
    return {a: edit_score(p, c, face.meta.attribute_array(a), face.decode) for a, (p, c) in held_out.items()}


@pytest.mark.parametrize("attr", ATTRIBUTES)
def test_an_edit_along_each_shipped_direction_moves_the_low_face_toward_the_high_one(shipped_edits, attr):
    score = shipped_edits[attr]
    assert score["fraction"] >= MIN_FRACTION and score["closer"] > 0.5, score


TODAY = {"smile": 0.68, "gender": 0.62}  # benchmarks/face_quality.py, 200 pairs; age 0.71, glasses 0.78


@pytest.mark.parametrize("attr", [
    pytest.param(a, marks=pytest.mark.xfail(
        strict=True, reason=f"the shipped σ-VAE: {a} gets {TODAY[a]:.0%} of the way (issue 14 asks 70 %)"))
    if a in TODAY else a
    for a in ATTRIBUTES
])
def test_each_shipped_direction_gets_most_of_the_way_as_issue_14_asks(shipped_edits, attr):
    assert shipped_edits[attr]["fraction"] >= TARGET_FRACTION, shipped_edits[attr]


def test_the_smile_edit_changes_mostly_the_mouth(shipped_edits):
    """The shipped model: 56 % of the smile edit's change is in the mouth window on 200 pairs
    (70 % of the true renders' change is; 32 % before the smile, age and gender were guided)."""
    assert shipped_edits["smile"]["local_edit"] >= 0.5, shipped_edits["smile"]


@pytest.fixture(scope="module")
def shipped_field_edits(face, held_out) -> dict[str, dict]:
    """``field_score`` of each shipped edit field on the held-out pairs."""
    return {a: field_score(p, c, face.meta.edit_field(a), face.decode) for a, (p, c) in held_out.items()}


@pytest.mark.parametrize("attr", ATTRIBUTES)
def test_each_shipped_edit_field_gets_most_of_the_way_as_issue_14_asks(shipped_field_edits, shipped_edits, attr):
    """The studio's sliders: each face moved by its own change of the file's edit field gets at
    least 70 % of the way to its high face's decode on held-out pairs (benchmarks/face_quality.py,
    200 pairs: smile 84 %, age 93 %, gender 80 %, glasses 86 %), farther than the direction."""
    score = shipped_field_edits[attr]
    assert score["fraction"] >= TARGET_FRACTION and score["closer"] > 0.9, score
    assert score["fraction"] > shipped_edits[attr]["fraction"], (score, shipped_edits[attr])


def test_the_smile_field_changes_mostly_the_mouth(shipped_field_edits):
    assert shipped_field_edits["smile"]["local_edit"] >= 0.5, shipped_field_edits["smile"]


def test_the_regions_hold_the_true_change_of_their_attribute():
    """The mouth window holds most of a smile's change, the glasses window all of the glasses."""
    for attr, least in (("smile", 0.5), ("glasses", 0.95)):
        pairs = counterfactual_pairs(attr, 16, HELDOUT_SEED, 64)
        change = ((pairs.high - pairs.low) ** 2).sum(axis=1)  # (P, H, W)
        share = change[pairs.region].sum() / change.sum()
        assert share >= least, (attr, share)
        assert 0.02 < pairs.region.mean() < 0.15  # a window, not the whole face
    assert region_mask("age", 4, 0, 64) is None


def test_the_edit_ceiling_is_whole_for_the_smile_and_short_where_the_low_face_hides_cues():
    """A frown shows everything a grin is drawn from; a feminine face hides which beard it would
    grow, a face without glasses their frame: no edit of the low face can reach those."""
    from latent_odyssey.export.facequality import edit_ceiling

    assert edit_ceiling("smile", 12, HELDOUT_SEED + 1, 64) == 1.0
    gender = edit_ceiling("gender", 16, HELDOUT_SEED + 3, 64, draws=8)
    glasses = edit_ceiling("glasses", 16, HELDOUT_SEED + 4, 64, draws=8)
    assert 0.5 < gender < 0.97 and 0.5 < glasses < 0.97, (gender, glasses)
    assert edit_ceiling("gender", 16, HELDOUT_SEED + 3, 64, draws=8) == gender  # deterministic


# ----------------------------------------------------------------------------- the command


def test_the_density_command_adds_density_directions_and_report_and_the_file_still_loads(face, tmp_path, capsys):
    for suffix in (".onnx", ".encoder.onnx"):
        shutil.copyfile(face.path.with_name("faces" + suffix), tmp_path / ("faces" + suffix))
    before_sess, before = open_model(tmp_path / "faces.onnx", "cpu")
    z = np.random.default_rng(1).standard_normal((4, 128)).astype(np.float32)
    want = before_sess.run(None, {"z": z})[0]
    setup = Setup(faces=24, pairs=12, samples=24, fit=120, field_pairs=40)
    meta = add_density(tmp_path / "faces", faces=400, directions=True, setup=setup, log=lambda *_: None,
                       fields=True)
    sess, back = open_model(tmp_path / "faces.onnx", "cpu")
    assert back == meta and back.fitted_density().points == 400
    np.testing.assert_array_equal(sess.run(None, {"z": z})[0], want)  # the graph is untouched
    report = back.training["face_quality"]
    assert "Held-out reconstruction" in report and "shipped (= " in report and "fitted density" in report
    assert sorted(back.attribute_fields) == sorted(ATTRIBUTES)  # --fields: fitted, stored, scored
    assert all(f"| {a} | shipped field |" in report for a in ATTRIBUTES)
    assert back.edit_field("smile").left.shape == (128, min(FIELD_RANK, 128))
    assert set(back.attributes) == set(before.attributes)
    for a in ATTRIBUTES:  # a direction is kept exactly, or swapped for a candidate that beat it
        kept = f"| {a} | shipped (= kept) |" in report
        assert kept == np.allclose(back.attributes[a], before.attributes[a], rtol=0, atol=1e-6), a
        assert kept or f"| {a} | shipped (= " in report, a


def test_re_choosing_keeps_a_shipped_direction_that_no_candidate_beats():
    """``export.density --directions`` has no ``decoded`` candidate (it needs torch): a file whose
    direction came from it must keep it rather than swap to a worse ONNX-only one."""
    from latent_odyssey.export.directions import METHODS
    from latent_odyssey.export.facereport import choose

    d = 8
    rng = np.random.default_rng(0)
    methods = {m: rng.standard_normal((len(ATTRIBUTES), d)) for m in (*METHODS, "shipped")}
    for dirs in methods.values():
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    best_of = {"smile": "shipped", "age": "paired", "gender": "shipped", "glasses": "means"}
    edits = [{"attribute": a, "method": m, "fraction": 0.9 if m == best_of[a] else 0.1 + 0.01 * k}
             for a in ATTRIBUTES for k, m in enumerate((*METHODS, "shipped"))]
    result = {"edits": edits}
    chosen = choose(result, methods)
    for j, a in enumerate(ATTRIBUTES):
        np.testing.assert_array_equal(chosen[a], methods[best_of[a]][j])
        row = next(r for r in edits if r["attribute"] == a and r["method"].startswith("shipped (="))
        assert row["fraction"] == 0.9
        assert row["method"] == ("shipped (= kept)" if best_of[a] == "shipped" else f"shipped (= {best_of[a]})")


def test_the_density_command_refuses_a_digits_model_in_one_sentence(exported_models, capsys):
    assert density_main([str(exported_models["2d"].with_suffix(""))]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("density: ") and "not a face model" in err and err.endswith(".") and "\n" not in err


# ----------------------------------------------------------------------------- the Odyssey on faces


@pytest.mark.usefixtures("headless_pygame")
def test_the_odyssey_warps_and_tours_through_density_samples(density_face_model):
    from test_odyssey import Rig  # the Odyssey tests' scene rig

    rig = Rig(density_face_model, size=(640, 360))
    s = rig.scene
    try:
        assert s.density is not None
        pts = s.random_points(50, np.random.default_rng(3))  # (50, 3) in the flown axes (principal: faces)
        y = s.frame.to_frame(s.density.sample(50, np.random.default_rng(3)))  # (50, D) frame coordinates
        want = np.clip(np.clip(y, s.lo_full, s.hi_full)[:, s.dims], s.lo, s.hi)
        np.testing.assert_array_equal(pts, want)
        rig.tap(pygame.K_j)  # warp: to a density sample
        assert s.mode == "warp" and np.all((s.warp_state["target"] >= s.lo) & (s.warp_state["target"] <= s.hi))
        s.tour_kind, s.tour = "random", None
        tour = s._ensure_tour()
        assert tour.kind == "random"
        rng = np.random.default_rng(1234 + s._tour_seed)
        drawn = s.random_points(len(tour.waypoints), rng)
        assert all(np.abs(drawn - w).sum(axis=1).min() < 1e-9 for w in tour.waypoints)  # the tour's stops
    finally:
        s.exit()


# ----------------------------------------------------------------------------- odyssey-export of a face model


def test_an_exported_face_model_carries_its_density_and_counterfactual_choice(trained_face_model):
    _, meta = open_model(trained_face_model, "cpu")
    density = meta.fitted_density()
    assert density is not None and density.points == meta.metrics.get("train_images", 96)
    assert meta.training["faces_train"] >= 96
    table = meta.training["edit_quality"]
    assert "Counterfactual edits" in table and "Judge test" in table
    assert table.count("(chosen)") == len(ATTRIBUTES)
    for attr in ATTRIBUTES:
        assert np.linalg.norm(meta.attribute_array(attr)) == pytest.approx(1.0, abs=1e-4)
    card = trained_face_model.with_suffix(".md").read_text(encoding="utf-8")
    assert "## Fitted density" in card and density.describe() in card


def test_the_decoded_direction_lands_nearer_the_high_decodes_than_the_paired_one(trained_face_model):
    """``decoded`` (export.attributes.decoded_directions) starts at the paired direction and
    descends the pixel error the counterfactual score measures, on the fitting pairs."""
    torch = pytest.importorskip("torch")
    from latent_odyssey.export.attributes import decoded_directions, numpy_model
    from latent_odyssey.export.directions import paired_difference
    from latent_odyssey.export.facequality import FIT_PAIRS_SEED
    from latent_odyssey.train import checkpoint as ckpt_io
    from latent_odyssey.train.config import TrainConfig
    from latent_odyssey.train.models import build_model

    state = ckpt_io.load(trained_face_model.parent / "run" / "checkpoint.pt")
    model = build_model(TrainConfig.from_dict(state["config"]).model)
    model.load_state_dict(state["model"])
    model.eval()  # as the exporter scores it
    encode, decode = numpy_model(model)
    pairs = counterfactual_pairs("glasses", 24, FIT_PAIRS_SEED + 3, model.cfg.image_size)
    lo, hi = encode(pairs.low), encode(pairs.high)
    start = paired_difference(lo, hi)[None]  # (1, D)
    found = decoded_directions(model, [(lo, hi)], start, steps=20)  # (1, D)

    def error(d: np.ndarray) -> float:
        step = float(((hi - lo) @ d).mean())
        return float(((decode((lo + step * d).astype(np.float32)) - decode(hi)) ** 2).sum())

    assert np.linalg.norm(found[0]) == pytest.approx(1.0)
    assert error(found[0]) < error(start[0])
    assert all(q.requires_grad for q in model.parameters()) and torch.is_grad_enabled()
