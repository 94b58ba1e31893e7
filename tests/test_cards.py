"""Model cards: the shipped ``pretrained/NAME.md`` (and a freshly exported one) have YAML front
matter a model hub reads (a license, the metric names, their values exactly as the model file's
metadata has them) and the sections people need before reusing a model: intended and
out-of-scope use, limitations, licences of the weights and the data, how to cite."""

from __future__ import annotations

import json
import re
from pathlib import Path

import onnxruntime as ort
import pytest

yaml = pytest.importorskip("yaml")

from latent_odyssey.export.card import yaml_lines  # noqa: E402
from latent_odyssey.game import paths  # noqa: E402
from latent_odyssey.game.model.modelfile import METADATA_KEY  # noqa: E402

SHIPPED = ("mnist-2d", "mnist-3d", "fashion-3d", "faces")
SECTIONS = ("Files", "Intended use", "Out-of-scope use", "Limitations", "Data", "Test metrics",
            "Export verification", "Licences", "How to cite", "Use from plain onnxruntime")
HUB_DATASETS = {"mnist": ["ylecun/mnist"], "fashion-mnist": ["zalando-datasets/fashion_mnist"]}


def _meta(decoder: Path) -> dict:
    sess = ort.InferenceSession(str(decoder), providers=["CPUExecutionProvider"])
    return json.loads(sess.get_modelmeta().custom_metadata_map[METADATA_KEY])


def _split(card: str) -> tuple[dict, str]:
    """(front matter, body); the card must start with a --- fenced YAML block."""
    m = re.match(r"---\n(.*?)\n---\n(.*)", card, flags=re.S)
    assert m, "no YAML front matter at the top of the card"
    return yaml.safe_load(m.group(1)), m.group(2)


def _sections(body: str) -> dict[str, str]:
    """{heading (without a trailing parenthesis): text} of the card's ## sections."""
    parts = re.split(r"^## (.+)$", body, flags=re.M)
    return {parts[i].split(" (")[0].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _check_card(card: str, meta: dict) -> tuple[dict, dict[str, str]]:
    fm, body = _split(card)
    assert fm["license"] == "mit"
    assert fm["library_name"] == "onnx"
    assert "vae" in fm["tags"]
    results = fm["model-index"][0]["results"][0]
    assert fm["model-index"][0]["name"] == meta["name"]
    values = {m["type"]: m["value"] for m in results["metrics"]}
    assert fm["metrics"] == list(values) and values  # the names, then the values
    for key, value in values.items():
        assert value == meta["metrics"][key], key  # exactly the model file's numbers
    assert {"neg_elbo_nats", "recon_nats", "kl_nats"} <= set(values)
    if meta["dataset"] in HUB_DATASETS:
        assert fm["datasets"] == HUB_DATASETS[meta["dataset"]]
        assert results["dataset"]["type"] == HUB_DATASETS[meta["dataset"]][0]
    sections = _sections(body)
    for name in SECTIONS:
        assert name in sections, name
        assert sections[name].strip(), name
    return fm, sections


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_card_front_matter_and_sections(name):
    folder = paths.package_data_dir("pretrained")
    meta = _meta(folder / f"{name}.onnx")
    fm, sections = _check_card((folder / f"{name}.md").read_text(encoding="utf-8"), meta)
    files = sections["Files"]
    assert f"`{name}.pt`" in files and "`decode(z)`" in files and "`encode(image)`" in files
    assert "latent_odyssey.json" in files
    licences = sections["Licences"]
    assert "Weights" in licences and "Training data" in licences
    cite = sections["How to cite"]
    assert "@software{latent_odyssey" in cite and "Kingma" in cite
    if meta["dataset"] == "mnist":
        assert "CC BY-SA 3.0" in licences and "lecun1998" in cite
    if meta["dataset"] == "fashion-mnist":
        assert "MIT" in licences.split("Training data")[1] and "xiao2017" in cite


def test_the_face_card_names_its_limits():
    folder = paths.package_data_dir("pretrained")
    _, sections = _check_card((folder / "faces.md").read_text(encoding="utf-8"), _meta(folder / "faces.onnx"))
    limits = sections["Limitations"]
    assert "Synthetic data only" in limits
    assert "Labels from the renderer" in limits
    assert "'gender' is a binary presentation slider" in limits
    assert "real people" in sections["Out-of-scope use"]
    assert "No photograph and no real person" in sections["Licences"]
    assert _meta(folder / "faces.onnx")["training"]["guide"] == ["smile", "age", "gender"]  # --guide smile,age,gender:
    guide = [line for line in sections["Architecture and training"].splitlines() if "Attribute guide" in line]
    assert len(guide) == 1 and "never include it" in guide[0]  # the card says so
    assert all(f"{a} -> latent dim {d}" in guide[0] for a, d in (("smile", 127), ("age", 126), ("gender", 125)))


def test_an_exported_card_passes_the_same_checks(trained_models):
    dec = trained_models["2d"]
    _check_card(dec.with_suffix(".md").read_text(encoding="utf-8"), _meta(dec))


@pytest.mark.parametrize("value", [1e-05, -3.5e20, 0.1, 143.35572814941406, 7, True, "yes", "null", "no",
                                   "1.5", "a: b", 'quote " and \\ back', "−ELBO β = 1", "", "#tag", "- dash"])
def test_front_matter_scalars_read_back_as_written(value):
    text = "\n".join(yaml_lines({"key": value, "list": [value], "nested": {"k": [{"v": value}]}}))
    back = yaml.safe_load(text)
    assert back == {"key": value, "list": [value], "nested": {"k": [{"v": value}]}}
    assert type(back["key"]) is type(value)
