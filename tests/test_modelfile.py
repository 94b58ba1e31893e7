"""Bad model files: each one must raise ModelFileError with one sentence naming the file.

The variants are built from a real exported decoder (the ``exported_models`` fixture) with the
``onnx`` package, or from tiny graphs made with ``onnx.helper``; every one is opened through
the game's own torch-free loader (``game.modelfile.open_model``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from latent_odyssey.game.model.modelfile import (
    FORMAT_VERSION,
    METADATA_KEY,
    ModelFileError,
    ModelMeta,
    open_encoder,
    open_model,
    resolve_model_path,
)

REPO = Path(__file__).resolve().parents[1]
TINY_OPSET = 17
TINY_IR_VERSION = 8


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def real(exported_models) -> onnx.ModelProto:
    """The tiny 2-D decoder as an editable ModelProto (copy it before editing)."""
    return onnx.load(str(exported_models["2d"]))


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def _meta_text(model: onnx.ModelProto) -> str:
    return next(p.value for p in model.metadata_props if p.key == METADATA_KEY)


def _set_meta_text(model: onnx.ModelProto, text: str | None) -> onnx.ModelProto:
    """A copy of ``model`` whose Latent Odyssey metadata is ``text`` (None: removed)."""
    out = _copy(model)
    del out.metadata_props[:]
    if text is not None:
        entry = out.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, text
    return out


def _edit_meta(model: onnx.ModelProto, edit: Callable[[dict], None]) -> onnx.ModelProto:
    meta = json.loads(_meta_text(model))
    edit(meta)
    return _set_meta_text(model, json.dumps(meta))


def _tiny(
    real_model: onnx.ModelProto, nodes: list, inp, out, inits: tuple = ()
) -> onnx.ModelProto:
    """A small valid ONNX graph carrying the real (valid) metadata of ``real_model``."""
    graph = helper.make_graph(nodes, "tiny", [inp], [out], initializer=list(inits))
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", TINY_OPSET)], ir_version=TINY_IR_VERSION
    )
    onnx.checker.check_model(model)
    return _set_meta_text(model, _meta_text(real_model))


def _vi(name: str, shape: list, dtype: int = TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def _with_nan_weight(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy with one element of its largest float initializer set to NaN."""
    out = _copy(model)
    floats = [t for t in out.graph.initializer if t.data_type == TensorProto.FLOAT]
    target = max(floats, key=lambda t: int(np.prod(t.dims)))
    arr = numpy_helper.to_array(target).copy()
    arr.flat[0] = np.nan
    target.CopyFrom(numpy_helper.from_array(arr, target.name))
    return out


# ------------------------------------------------------- the bad files (case -> phrase)
# Each builder gets (tmp_path, real decoder ModelProto, real decoder path) and returns the
# path to hand to open_model.


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def _meta_case(file_name: str, edit: Callable[[dict], object]):
    """A BAD_FILES builder: the real model with its metadata changed by ``edit``, saved as
    ``file_name``."""

    def build(tmp, real_model, real_path):
        return _save(_edit_meta(real_model, edit), tmp / file_name)

    return build


def _missing(tmp, real_model, real_path):
    return tmp / "nowhere.onnx"


def _empty(tmp, real_model, real_path):
    (tmp / "empty.onnx").write_bytes(b"")
    return tmp / "empty.onnx"


def _truncated(tmp, real_model, real_path):
    data = real_path.read_bytes()
    (tmp / "half.onnx").write_bytes(data[: len(data) // 2])
    return tmp / "half.onnx"


def _random_bytes(tmp, real_model, real_path):
    (tmp / "noise.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    return tmp / "noise.onnx"


def _text_file(tmp, real_model, real_path):
    (tmp / "notes.onnx").write_text("this is a shopping list, not a neural network\n")
    return tmp / "notes.onnx"


def _folder(tmp, real_model, real_path):
    (tmp / "folder.onnx").mkdir()
    return tmp / "folder.onnx"


def _wrong_input_name(tmp, real_model, real_path):
    m = _tiny(real_model, [helper.make_node("Identity", ["x"], ["image"])], _vi("x", ["N", 2]), _vi("image", ["N", 2]))
    return _save(m, tmp / "wrong_name.onnx")


def _wrong_input_rank(tmp, real_model, real_path):
    m = _tiny(real_model, [helper.make_node("Identity", ["z"], ["image"])], _vi("z", ["N", 2, 1]), _vi("image", ["N", 2, 1]))
    return _save(m, tmp / "wrong_rank.onnx")


def _wrong_latent_width(tmp, real_model, real_path):
    m = _tiny(real_model, [helper.make_node("Identity", ["z"], ["image"])], _vi("z", ["N", 3]), _vi("image", ["N", 3]))
    return _save(m, tmp / "wrong_width.onnx")


def _int64_input(tmp, real_model, real_path):
    m = _tiny(
        real_model, [helper.make_node("Cast", ["z"], ["image"], to=TensorProto.FLOAT)],
        _vi("z", ["N", 2], TensorProto.INT64), _vi("image", ["N", 2]),
    )
    return _save(m, tmp / "int_input.onnx")


def _output_not_4d(tmp, real_model, real_path):
    m = _tiny(real_model, [helper.make_node("Identity", ["z"], ["image"])], _vi("z", ["N", 2]), _vi("image", ["N", 2]))
    return _save(m, tmp / "flat_output.onnx")


def _output_wrong_image_shape(tmp, real_model, real_path):
    axes = numpy_helper.from_array(np.array([1, 2], np.int64), "axes")
    m = _tiny(
        real_model, [helper.make_node("Unsqueeze", ["z", "axes"], ["image"])],
        _vi("z", ["N", 2]), _vi("image", ["N", 1, 1, 2]), (axes,),
    )
    return _save(m, tmp / "tiny_images.onnx")


def _fails_at_run(tmp, real_model, real_path):
    # Loads and has the right signature, but cannot turn 2 numbers into 784 pixels.
    shape = numpy_helper.from_array(np.array([-1, 1, 28, 28], np.int64), "shape")
    m = _tiny(
        real_model, [helper.make_node("Reshape", ["z", "shape"], ["image"])],
        _vi("z", ["N", 2]), _vi("image", ["N", 1, 28, 28]), (shape,),
    )
    return _save(m, tmp / "broken_reshape.onnx")


def _no_metadata(tmp, real_model, real_path):
    return _save(_set_meta_text(real_model, None), tmp / "stripped.onnx")


_other_version = _meta_case("future.onnx", lambda m: m.update(format_version=FORMAT_VERSION + 1))


def _malformed_json(tmp, real_model, real_path):
    return _save(_set_meta_text(real_model, '{"name": "x", "kind": '), tmp / "bad_json.onnx")


def _json_not_object(tmp, real_model, real_path):
    return _save(_set_meta_text(real_model, "[1, 2, 3]"), tmp / "json_list.onnx")


_field_missing = _meta_case("no_centroids.onnx", lambda m: m.pop("centroids"))
_centroids_wrong_width = _meta_case("wide_centroids.onnx", lambda m: m.update(centroids=[c + [0.0] for c in m["centroids"]]))
_lo_not_below_hi = _meta_case("flat_bounds.onnx", lambda m: m.update(latent_lo=list(m["latent_hi"])))
_non_unit_attribute = _meta_case("long_attr.onnx", lambda m: m.update(attributes={"smile": [3.0, 4.0]}))
_unknown_kind = _meta_case("cats.onnx", lambda m: m.update(kind="cats"))
_labels_length = _meta_case("short_labels.onnx", lambda m: m.update(sample_labels=m["sample_labels"][:-1]))
_attributes_not_object = _meta_case("attr_list.onnx", lambda m: m.update(attributes=["smile"]))
_encoder_file_with_path = _meta_case("enc_path.onnx", lambda m: m.update(encoder_file="../elsewhere/enc.onnx"))
_class_names_not_strings = _meta_case("int_classes.onnx", lambda m: m.update(class_names=list(range(len(m["class_names"])))))
_labels_not_ints = _meta_case("float_labels.onnx", lambda m: m.update(sample_labels=[float(v) + 0.5 for v in m["sample_labels"]]))


def _nan_in_metadata(tmp, real_model, real_path):
    def edit(m):
        m["latent_mean"][0] = float("nan")  # json.dumps writes NaN, json.loads reads it back

    return _save(_edit_meta(real_model, edit), tmp / "nan_meta.onnx")


def _nan_weights(tmp, real_model, real_path):
    return _save(_with_nan_weight(real_model), tmp / "nan_weights.onnx")


BAD_FILES = [
    ("missing", _missing, "does not exist"),
    ("empty", _empty, "is empty"),
    ("truncated", _truncated, "not a readable ONNX model"),
    ("random-bytes", _random_bytes, "not a readable ONNX model"),
    ("text-file", _text_file, "not a readable ONNX model"),
    ("folder", _folder, "is a folder"),
    ("wrong-input-name", _wrong_input_name, "is not a decoder"),
    ("wrong-input-rank", _wrong_input_rank, "takes z of shape"),
    ("wrong-latent-width", _wrong_latent_width, "latent_dim 2"),
    ("int64-input", _int64_input, "instead of float32"),
    ("output-not-4d", _output_not_4d, "does not output images"),
    ("output-wrong-image-shape", _output_wrong_image_shape, "outputs images of shape"),
    ("fails-at-run", _fails_at_run, "fails to decode"),
    ("metadata-missing", _no_metadata, "without Latent Odyssey metadata"),
    ("other-format-version", _other_version, f"format version {FORMAT_VERSION + 1}"),
    ("malformed-json", _malformed_json, "malformed metadata JSON"),
    ("json-not-object", _json_not_object, "not a JSON object"),
    ("required-field-missing", _field_missing, "lacks the field(s) centroids"),
    ("centroids-wrong-width", _centroids_wrong_width, "centroids rows should have 2 values"),
    ("latent-lo-not-below-hi", _lo_not_below_hi, "latent_lo is not below latent_hi"),
    ("non-unit-attribute", _non_unit_attribute, "not a unit vector"),
    ("unknown-kind", _unknown_kind, "kind 'cats'"),
    ("labels-length", _labels_length, "differ in length"),
    ("attributes-not-object", _attributes_not_object, "attributes is not a JSON object"),
    ("encoder-file-with-path", _encoder_file_with_path, "not a bare file name"),
    ("class-names-not-strings", _class_names_not_strings, "class_names is not a list of strings"),
    ("labels-not-integers", _labels_not_ints, "sample_labels is not a list of integers"),
    ("nan-in-metadata", _nan_in_metadata, "non-finite"),
    ("nan-weights", _nan_weights, "non-finite"),
]


def _assert_one_sentence(exc: ModelFileError, path: Path, phrase: str) -> None:
    msg = str(exc)
    assert str(path) in msg, msg
    assert phrase in msg, msg
    assert "\n" not in msg and "\r" not in msg, msg
    assert msg.endswith("."), msg


@pytest.mark.parametrize(("build", "phrase"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_bad_model_file_is_one_sentence(tmp_path, real, exported_models, build, phrase):
    path = build(tmp_path, real, exported_models["2d"])
    with pytest.raises(ModelFileError) as info:
        open_model(path, provider="cpu")
    _assert_one_sentence(info.value, path, phrase)


def test_metadata_errors_name_the_source():
    with pytest.raises(ModelFileError) as info:
        ModelMeta.from_json("not json", source="some/where.onnx")
    _assert_one_sentence(info.value, Path("some/where.onnx"), "malformed metadata JSON")


# ----------------------------------------------------------------------- good files


def test_good_file_opens_and_meta_round_trips(exported_models):
    path = exported_models["3d"]
    sess, meta = open_model(path, provider="cpu")
    stored = json.loads(_meta_text(onnx.load(str(path), load_external_data=False)))
    assert json.loads(meta.to_json()) == stored  # nothing lost or added on the way in
    again = ModelMeta.from_json(meta.to_json(), "round trip")
    assert again == meta
    assert meta.latent_dim == 3 and meta.image_shape == [1, 28, 28]
    assert meta.centroid_array().shape == (len(meta.class_names), 3)
    z, labels = meta.sample_array()
    assert z.shape == (len(labels), 3)
    image = sess.run(None, {"z": meta.centroid_array()})[0]  # (K, 1, 28, 28)
    assert image.shape == (len(meta.class_names), 1, 28, 28)


def test_open_encoder_finds_the_encoder(exported_models):
    path = exported_models["2d"]
    sess, meta = open_model(path, provider="cpu")
    enc = open_encoder(path, meta, provider="cpu")  # runs check_encoder_signature
    assert enc is not None
    assert path.with_name(meta.encoder_file).is_file()
    image = sess.run(None, {"z": np.zeros((2, 2), np.float32)})[0]  # (2, 1, 28, 28)
    mu, logvar = enc.run(None, {"image": image})
    assert mu.shape == logvar.shape == (2, 2)
    assert np.all(np.isfinite(mu)) and np.all(np.isfinite(logvar))


def test_open_encoder_absent_is_none(tmp_path, exported_models):
    path = exported_models["2d"]
    _, meta = open_model(path, provider="cpu")
    lone = tmp_path / "lone.onnx"
    shutil.copyfile(path, lone)  # its encoder_file is not beside the copy
    assert open_encoder(lone, meta, provider="cpu") is None
    meta.encoder_file = ""
    assert open_encoder(path, meta, provider="cpu") is None


def test_open_encoder_rejects_bad_encoders(tmp_path, exported_models):
    path = tmp_path / "pair.onnx"
    shutil.copyfile(exported_models["2d"], path)
    _, meta = open_model(path, provider="cpu")
    enc_path = path.with_name(meta.encoder_file)

    enc_path.write_bytes(b"garbage")
    with pytest.raises(ModelFileError) as info:
        open_encoder(path, meta, provider="cpu")
    _assert_one_sentence(info.value, enc_path, "not a readable ONNX model")

    # The 3-D model's encoder beside the 2-D decoder: the wrong latent size.
    shutil.copyfile(exported_models["3d"].with_name(exported_models["3d"].stem + ".encoder.onnx"), enc_path)
    with pytest.raises(ModelFileError) as info:
        open_encoder(path, meta, provider="cpu")
    _assert_one_sentence(info.value, enc_path, "encodes to 3 dims")

    # A decoder where the encoder should be.
    shutil.copyfile(exported_models["2d"], enc_path)
    with pytest.raises(ModelFileError) as info:
        open_encoder(path, meta, provider="cpu")
    _assert_one_sentence(info.value, enc_path, "is not an encoder")


def test_resolve_model_path(tmp_path, exported_models, monkeypatch):
    models = tmp_path / "shipped"
    models.mkdir()
    assert resolve_model_path("mnist-2d", models) == models / "mnist-2d.onnx"
    real = exported_models["2d"]
    assert resolve_model_path(str(real), models) == real
    assert resolve_model_path("elsewhere/new.onnx", models) == Path("elsewhere/new.onnx")
    # A folder in the working directory named like a shipped model does not hide the model.
    (models / "mnist-2d.onnx").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mnist-2d").mkdir()
    assert resolve_model_path("mnist-2d", models) == models / "mnist-2d.onnx"


# ------------------------------------------------------------------------ game CLI


@pytest.mark.skipif(not (REPO / "game" / "cli.py").is_file(), reason="game/cli.py is not written yet")
@pytest.mark.parametrize("content", [None, "not a model\n"], ids=["missing", "text-file"])
def test_game_cli_info_on_bad_file_is_one_line(tmp_path, content):
    bad = tmp_path / "bad.onnx"
    if content is not None:
        bad.write_text(content)
    env = dict(
        os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1",
        PYTHONPATH=str(REPO),
    )
    proc = subprocess.run(
        [sys.executable, "-m", "latent_odyssey.game", "info", str(bad)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "bad.onnx" in lines[0]
