"""The TorchScript files: every shipped ``pretrained/NAME.pt`` loads with ``torch.jit.load``,
carries the same metadata as its ONNX decoder (the extra file ``latent_odyssey.json``), and its
``decode`` / ``forward`` / ``encode`` agree with the ONNX decoder and encoder run by onnxruntime.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

torch = pytest.importorskip("torch")

from latent_odyssey.export.torchscript import METADATA_FILE, load_torchscript  # noqa: E402
from latent_odyssey.game import paths  # noqa: E402
from latent_odyssey.game.model.modelfile import METADATA_KEY, ModelFileError  # noqa: E402

SHIPPED = ("mnist-2d", "mnist-3d", "fashion-3d", "faces")
PARITY_ATOL = 1e-4  # TorchScript (torch CPU kernels) vs onnxruntime, per pixel / latent value
RANDOM_LATENTS = 16
SAMPLE_LATENTS = 17  # an odd batch, so nothing relies on the traced example's batch of 2

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated in torch 2.13


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request) -> tuple[str, Path]:
    return request.param, paths.package_data_dir("pretrained")


def test_the_metadata_inside_equals_the_onnx_decoders(shipped):
    name, folder = shipped
    extra = {METADATA_FILE: ""}
    module = torch.jit.load(str(folder / f"{name}.pt"), _extra_files=extra)  # the plain API, as the card says
    onnx_text = _session(folder / f"{name}.onnx").get_modelmeta().custom_metadata_map[METADATA_KEY]
    text = extra[METADATA_FILE]
    assert json.loads(text.decode() if isinstance(text, bytes) else text) == json.loads(onnx_text)
    for method in ("forward", "decode", "encode"):
        assert hasattr(module, method), method
    _, meta = load_torchscript(folder / f"{name}.pt")
    assert meta.name == name


@torch.no_grad()
def test_decode_and_encode_agree_with_the_onnx_files(shipped):
    name, folder = shipped
    module, meta = load_torchscript(folder / f"{name}.pt")
    rng = np.random.default_rng(0)
    z = np.concatenate([
        rng.standard_normal((RANDOM_LATENTS, meta.latent_dim)),
        np.asarray(meta.sample_z[:SAMPLE_LATENTS]),
        np.asarray(meta.centroids).reshape(-1, meta.latent_dim),
    ]).astype(np.float32)  # (N, D)
    want = _session(folder / f"{name}.onnx").run(None, {"z": z})[0]  # (N, C, H, W)
    got = module.decode(torch.from_numpy(z)).numpy()
    assert got.shape == want.shape
    assert np.abs(got - want).max() <= PARITY_ATOL
    assert np.array_equal(module(torch.from_numpy(z)).numpy(), got)  # forward is decode
    one = module.decode(torch.from_numpy(z[:1])).numpy()  # batch of one
    assert np.abs(one - want[:1]).max() <= PARITY_ATOL
    mu, logvar = _session(folder / f"{name}.encoder.onnx").run(None, {"image": want})  # (N, D) each
    t_mu, t_logvar = module.encode(torch.from_numpy(want))
    assert np.abs(t_mu.numpy() - mu).max() <= PARITY_ATOL
    assert np.abs(t_logvar.numpy() - logvar).max() <= PARITY_ATOL


def test_a_torchscript_file_without_metadata_is_one_sentence(tmp_path):
    plain = torch.jit.script(torch.nn.Linear(2, 2))
    plain.save(str(tmp_path / "plain.pt"))
    with pytest.raises(ModelFileError) as info:
        load_torchscript(tmp_path / "plain.pt")
    assert METADATA_FILE in str(info.value) and "\n" not in str(info.value)
    (tmp_path / "junk.pt").write_bytes(b"not a zip archive" * 20)
    with pytest.raises(ModelFileError) as info:
        load_torchscript(tmp_path / "junk.pt")
    assert "not a readable TorchScript file" in str(info.value) and "\n" not in str(info.value)


@torch.no_grad()
def test_the_exporter_writes_the_same_kind_of_file(trained_models):
    dec = trained_models["3d"]
    module, meta = load_torchscript(dec.with_suffix(".pt"))
    onnx_meta = json.loads(_session(dec).get_modelmeta().custom_metadata_map[METADATA_KEY])
    assert json.loads(meta.to_json()) == onnx_meta
    images = _session(dec).run(None, {"z": np.asarray(meta.sample_z[:5], np.float32)})[0]
    mu, _ = _session(dec.with_name(meta.encoder_file)).run(None, {"image": images})
    assert np.abs(module.encode(torch.from_numpy(images))[0].numpy() - mu).max() <= PARITY_ATOL


def test_reship_remakes_the_pt_and_card_from_the_shipped_files(tmp_path, capsys):
    import shutil

    from latent_odyssey.export.reship import main as reship_main

    folder = paths.package_data_dir("pretrained")
    for suffix in (".onnx", ".encoder.onnx", ".pt"):
        shutil.copyfile(folder / f"mnist-3d{suffix}", tmp_path / f"mnist-3d{suffix}")
    assert reship_main([str(tmp_path / "mnist-3d")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"decoder \d\.\d\de-0[5-9], encoder \d\.\d\de-0[5-9]; TorchScript decode/encode", out), out
    module, meta = load_torchscript(tmp_path / "mnist-3d.pt")
    assert meta.name == "mnist-3d" and hasattr(module, "encode")
    card = (tmp_path / "mnist-3d.md").read_text(encoding="utf-8")
    assert card.startswith("---\nlicense: mit\n") and "export.reship" in card
    assert "![report]" not in card  # no report picture was copied, so none is linked
    assert (tmp_path / "mnist-3d.onnx").read_bytes() == (folder / "mnist-3d.onnx").read_bytes()  # only read
    (tmp_path / "mnist-3d.encoder.onnx").unlink()
    assert reship_main([str(tmp_path / "mnist-3d")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("reship: ") and err.count("\n") == 1 and "mnist-3d.encoder.onnx" in err
