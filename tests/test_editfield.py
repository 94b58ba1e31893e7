"""Face-dependent attribute edits (edit fields): the fit, the model file's check of them, and the
Face Studio's sliders on them (numpy; the model-file checks on a copy of the shipped faces
model's metadata)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from latent_odyssey.export.editfields import fit_edit_field
from latent_odyssey.game.model.editfield import EditField
from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta, open_model
from latent_odyssey.game.modes.faces.state import (
    SLIDER_MAX,
    FaceState,
    SliderEdit,
    slider_directions,
)

D = 16  # latent size of the synthetic fits


def random_field(rng: np.random.Generator, rank: int = 3, d: int = D) -> EditField:
    return EditField(rng.standard_normal(d), rng.standard_normal(d),
                     0.3 * rng.standard_normal((d, rank)), 0.3 * rng.standard_normal((d, rank)))


def test_the_fit_recovers_a_face_dependent_change_from_pairs():
    """Pairs whose change follows a field exactly, seen from either end (the field's input
    directions, ``left``, are orthogonal to every change it makes, so v(low) = v(high)): the
    fitted field predicts the change of new faces, where the mean change cannot."""
    rng = np.random.default_rng(0)
    truth = random_field(rng)
    span, _ = np.linalg.qr(np.column_stack([truth.offset, truth.right]))  # (D, 4): every change lies in it
    truth.left -= span @ (span.T @ truth.left)
    low = rng.standard_normal((600, D))  # (P, D)
    high = low + truth.vector(low)
    np.testing.assert_allclose(truth.vector(high), truth.vector(low), atol=1e-9)
    fit = fit_edit_field(low, high, rank=3, l2=1e-6)
    new = rng.standard_normal((50, D))
    want = truth.vector(new)  # (50, D)
    err_field = np.abs(fit.vector(new) - want).mean()
    err_mean = np.abs((high - low).mean(0) - want).mean()
    assert err_field < 1e-3 * err_mean, (err_field, err_mean)
    assert fit.left.shape == fit.right.shape == (D, 3)


def test_a_field_round_trips_through_its_stored_form():
    f = random_field(np.random.default_rng(1))
    back = EditField.from_dict(json.loads(json.dumps(f.to_dict())))
    z = np.random.default_rng(2).standard_normal((4, D))
    np.testing.assert_allclose(back.vector(z), f.vector(z), atol=1e-3)


# ----------------------------------------------------------------------------- the model file


@pytest.fixture(scope="module")
def shipped_meta(density_face_model) -> ModelMeta:
    return open_model(density_face_model, "cpu")[1]


def _with_fields(meta: ModelMeta, edit) -> str:
    raw = json.loads(meta.to_json())
    f = random_field(np.random.default_rng(3), d=meta.latent_dim).to_dict()
    raw["attribute_fields"] = edit({"smile": f})
    return json.dumps(raw)


BAD_FIELDS = [
    ("not-an-object", lambda r: [1], "attribute_fields is not a JSON object"),
    ("unknown-attribute", lambda r: {"beard": r["smile"]}, "names 'beard', which has no attribute direction"),
    ("missing-key", lambda r: (r["smile"].pop("left"), r)[1], "should hold exactly center, offset, left, right"),
    ("nan", lambda r: (r["smile"]["offset"].__setitem__(0, float("nan")), r)[1], "the edit field of smile: offset holds a non-finite"),
    ("string", lambda r: (r["smile"]["center"].__setitem__(0, "1"), r)[1], "the edit field of smile: center holds a non-finite"),
    ("short-center", lambda r: (r["smile"].update(center=r["smile"]["center"][:-1]), r)[1],
     "should have 128 values in center"),
    ("ragged-left", lambda r: (r["smile"]["left"][0].pop(), r)[1], "the edit field of smile: left is not a rectangular array"),
    ("rank-mismatch", lambda r: (r["smile"].update(right=[row[:-1] for row in r["smile"]["right"]]), r)[1],
     "should have left and right of 128 rows and the same"),
]


@pytest.mark.parametrize(("edit", "phrase"), [c[1:] for c in BAD_FIELDS], ids=[c[0] for c in BAD_FIELDS])
def test_a_bad_edit_field_is_one_sentence_naming_the_problem(shipped_meta, edit, phrase):
    with pytest.raises(ModelFileError) as info:
        ModelMeta.from_json(_with_fields(shipped_meta, edit), "faces.onnx")
    msg = str(info.value)
    assert msg.startswith("faces.onnx metadata is inconsistent: ") and phrase in msg, msg
    assert msg.endswith(".") and "\n" not in msg


def test_a_file_without_fields_writes_none_and_reads_back_equal(shipped_meta):
    meta = ModelMeta.from_json(shipped_meta.to_json())
    meta.attribute_fields = {}
    assert "attribute_fields" not in json.loads(meta.to_json())
    assert ModelMeta.from_json(meta.to_json()) == meta


# ----------------------------------------------------------------------------- the studio's sliders


def test_sliders_without_fields_are_the_plain_directions(shipped_meta):
    meta = ModelMeta.from_json(shipped_meta.to_json())
    meta.attribute_fields = {}
    names = list(meta.attributes)
    edit = SliderEdit(meta, names)
    base = np.random.default_rng(4).standard_normal(meta.latent_dim)
    np.testing.assert_array_equal(edit.dirs(base), slider_directions(meta, names))


def test_a_field_slider_turns_with_the_face_and_its_base_is_found_again(shipped_meta):
    meta = ModelMeta.from_json(shipped_meta.to_json())
    rng = np.random.default_rng(5)
    meta.attribute_fields = {"smile": random_field(rng, d=meta.latent_dim).to_dict()}
    names = list(meta.attributes)
    edit = SliderEdit(meta, names)
    a, b = rng.standard_normal((2, meta.latent_dim))
    da, db = edit.dirs(a), edit.dirs(b)
    assert not np.allclose(da[0], db[0])  # smile: the face's own change
    np.testing.assert_array_equal(da[1:], db[1:])  # the others: one direction for all
    # the slider's +3 end is the field's whole change at this face
    np.testing.assert_allclose(SLIDER_MAX * da[0], meta.edit_field("smile").vector(a), rtol=1e-12)
    state = FaceState(a, np.array([2.5, -1.0, 0.5, 3.0]))
    z = state.z(edit)
    np.testing.assert_allclose(edit.base_for(z, state.sliders), a, atol=1e-8)
