"""The export path: checkpoint -> verified ONNX decoder/encoder, TorchScript and model card.

Uses the real tiny models of the ``trained_models`` fixture (one epoch on synthetic IDX data,
exported through ``export.exporter``), and, when they are present, the shipped models in
``pretrained/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from latent_odyssey.game.model.modelfile import FORMAT_VERSION, KINDS, METADATA_KEY

REPO = Path(__file__).resolve().parents[1]
SHIPPED = ("mnist-2d", "mnist-3d", "fashion-3d")
ROUND_TRIP_MIN_FRACTION = 0.8  # shipped models: classes whose centroid survives decode->encode
MODELS = ("2d", "3d")


def _session(path: Path) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def _meta(path: Path) -> dict:
    return json.loads(_session(path).get_modelmeta().custom_metadata_map[METADATA_KEY])


def _encoder_path(decoder: Path) -> Path:
    return decoder.with_name(decoder.stem + ".encoder.onnx")


def _subprocess_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")


# ------------------------------------------------------------------------ the files


@pytest.mark.parametrize("key", MODELS)
def test_exported_files_exist_without_side_files(trained_models, key):
    dec = trained_models[key]
    name = dec.stem
    for suffix in (".onnx", ".encoder.onnx", ".pt", ".md"):
        path = dec.with_name(name + suffix)
        assert path.is_file() and path.stat().st_size > 0, path
    folder = dec.parent
    assert not [p for p in folder.rglob("*") if p.name.endswith(".data")]  # weights inside the file
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no staging left behind


@pytest.mark.parametrize("key", MODELS)
def test_onnx_checker_full(trained_models, key):
    dec = trained_models[key]
    for path in (dec, _encoder_path(dec)):
        onnx.checker.check_model(str(path), full_check=True)


@pytest.mark.parametrize("key", MODELS)
def test_decoder_batch_is_dynamic_and_images_in_range(trained_models, key):
    dec = trained_models[key]
    sess = _session(dec)
    d = _meta(dec)["latent_dim"]
    rng = np.random.default_rng(0)
    for n in (1, 7):
        z = (rng.standard_normal((n, d)) * 3).astype(np.float32)  # (N, D), well beyond the prior
        image = sess.run(None, {"z": z})[0]  # (N, 1, 28, 28)
        assert image.shape == (n, 1, 28, 28) and image.dtype == np.float32
        assert image.min() >= 0.0 and image.max() <= 1.0
    assert sess.get_inputs()[0].shape[0] == sess.get_outputs()[0].shape[0]  # symbolic "N"
    assert not isinstance(sess.get_inputs()[0].shape[0], int)


@pytest.mark.parametrize("key", MODELS)
def test_metadata_carries_the_contract(trained_models, key):
    dec = trained_models[key]
    m = _meta(dec)
    d = {"2d": 2, "3d": 3}[key]
    assert m["format_version"] == FORMAT_VERSION
    assert m["name"] == dec.stem and m["kind"] in KINDS and m["kind"] == "digits"
    assert m["latent_dim"] == d
    assert m["image_shape"] == [1, 28, 28]
    assert m["value_range"] == [0.0, 1.0]
    assert m["dataset"] == "mnist"
    assert m["class_names"] == [str(k) for k in range(10)]
    centroids = np.asarray(m["centroids"])
    assert centroids.shape == (10, d) and np.all(np.isfinite(centroids))
    sample_z = np.asarray(m["sample_z"])
    assert sample_z.ndim == 2 and sample_z.shape[1] == d and len(sample_z) > 0
    assert len(m["sample_labels"]) == len(sample_z)
    assert set(m["sample_labels"]) <= set(range(10))
    lo, hi = np.asarray(m["latent_lo"]), np.asarray(m["latent_hi"])
    assert lo.shape == hi.shape == (d,) and np.all(lo < hi)
    assert len(m["latent_mean"]) == len(m["latent_std"]) == d
    metrics = m["metrics"]
    for key_ in ("neg_elbo_nats", "recon_nats", "kl_nats", "knn5_accuracy", "test_images"):
        assert key_ in metrics, key_
    assert len(metrics["kl_per_dim_nats"]) == d
    assert metrics["neg_elbo_nats"] == pytest.approx(metrics["recon_nats"] + metrics["kl_nats"], rel=1e-5)
    assert m["encoder_file"] == dec.stem + ".encoder.onnx"
    assert dec.with_name(m["encoder_file"]).is_file()
    assert m["training"]["architecture"]["latent_dim"] == d
    assert m["training"]["loss"] == "bce" and "mse_sigma" in m["training"]  # metrics re-derivable


@pytest.mark.parametrize("key", MODELS)
def test_model_card_has_metrics_and_usage(trained_models, key):
    dec = trained_models[key]
    card = dec.with_suffix(".md").read_text()
    metrics = _meta(dec)["metrics"]
    for name in ("neg_elbo_nats", "recon_nats", "kl_nats", "knn5_accuracy"):
        assert f"| {name} | {metrics[name]:.4f} |" in card, name
    assert "```python" in card and f'InferenceSession("{dec.name}")' in card
    assert METADATA_KEY in card
    assert "onnx.checker" in card


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated in torch 2.13
def test_torchscript_matches_onnxruntime(trained_models):
    import torch

    rng = np.random.default_rng(1)
    for dec in trained_models.values():
        d = _meta(dec)["latent_dim"]
        z = rng.standard_normal((5, d)).astype(np.float32)  # (5, D)
        want = _session(dec).run(None, {"z": z})[0]
        ts = torch.jit.load(str(dec.with_suffix(".pt")))
        with torch.no_grad():
            got = ts(torch.from_numpy(z)).numpy()
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_card_usage_snippet_runs(trained_models):
    dec = trained_models["2d"]
    card = dec.with_suffix(".md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", card, flags=re.S)
    assert len(blocks) == 1
    proc = subprocess.run(
        [sys.executable, "-c", blocks[0]], cwd=dec.parent, capture_output=True, text=True,
        timeout=120, env=_subprocess_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{dec.stem} 2 (1, 28, 28)")
    assert "round trip distance" in proc.stdout


# ---------------------------------------------------------------- failing exports


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_failed_parity_writes_no_files(trained_models, idx_dir, tmp_path, monkeypatch):
    import latent_odyssey.export.exporter as exporter

    checkpoint = trained_models["2d"].parent / "run-2d" / "checkpoint.pt"
    assert checkpoint.is_file()
    monkeypatch.setattr(exporter, "PARITY_ATOL", -1.0)  # no error can be <= -1
    out = tmp_path / "out"
    with pytest.raises(exporter.ExportError) as info:
        exporter.export_checkpoint(checkpoint, out / "broken", data_dir=idx_dir)
    assert "disagrees with PyTorch" in str(info.value)
    assert "\n" not in str(info.value)
    assert list(out.iterdir()) == []  # no final files, no staging folder


def test_export_cli_missing_checkpoint_is_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "latent_odyssey.export", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "x")],
        capture_output=True, text=True, timeout=180, cwd=REPO, env=_subprocess_env(),
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "missing.pt" in lines[0], proc.stderr
    assert not (tmp_path / "x.onnx").exists()


def _foreign_config(path: Path) -> None:
    import torch

    torch.save({"format": 1, "model": {}, "config": {"model": {"arch": "gru", "depth": 3}}}, path)


def _garbage(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 not really a zip")


@pytest.mark.parametrize("make", [_foreign_config, _garbage], ids=["foreign-config", "garbage"])
def test_export_cli_bad_checkpoint_is_one_line(tmp_path, capsys, make):
    from latent_odyssey.export.cli import main

    checkpoint = tmp_path / "checkpoint.pt"
    make(checkpoint)
    assert main([str(checkpoint), "--out", str(tmp_path / "out" / "x")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and str(checkpoint) in err, err
    assert not list(tmp_path.glob("out/x*"))


# ------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("key", MODELS)
def test_centroid_round_trip_tiny(trained_models, key):
    """decode(centroid) -> encode lands near that centroid (loose: the models saw one epoch).

    The tiny models' decoders have barely left their collapsed start, so the test asks for the
    scale, not the class: every round-tripped μ lies inside the populated latent box (widened
    by a quarter of its size) and closer to its own centroid than the centroid cloud is wide.
    """
    dec = trained_models[key]
    m = _meta(dec)
    centroids = np.asarray(m["centroids"], np.float32)  # (K, D)
    image = _session(dec).run(None, {"z": centroids})[0]  # (K, 1, 28, 28)
    mu = _session(_encoder_path(dec)).run(["mu"], {"image": image})[0]  # (K, D)
    lo, hi = np.asarray(m["latent_lo"]), np.asarray(m["latent_hi"])
    margin = 0.25 * (hi - lo)
    assert np.all((mu >= lo - margin) & (mu <= hi + margin)), (mu, lo, hi)
    own = np.linalg.norm(mu - centroids, axis=1)  # (K,)
    diameter = np.linalg.norm(centroids[:, None] - centroids[None], axis=-1).max()
    assert np.all(own < diameter), (own, diameter)


ROUND_TRIP_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import numpy as np
    from latent_odyssey.game.model.modelfile import open_encoder, open_model

    out = {}
    for arg in sys.argv[1:]:
        path = Path(arg)
        dec, meta = open_model(path, provider="cpu")
        enc = open_encoder(path, meta, provider="cpu")
        assert enc is not None, f"{path} has no encoder beside it"
        c = meta.centroid_array()  # (K, D)
        images = dec.run(None, {"z": c})[0]  # (K, C, H, W)
        mu = enc.run(["mu"], {"image": images})[0]  # (K, D)
        dist = np.linalg.norm(mu[:, None] - c[None], axis=-1)  # (K, K)
        out[path.stem] = float(np.mean(dist.argmin(1) == np.arange(len(c))))
    assert "torch" not in sys.modules, "the round trip imported torch"
    print(json.dumps(out))
    """
)


def test_shipped_models_round_trip_without_torch():
    paths = [REPO / "pretrained" / f"{name}.onnx" for name in SHIPPED]
    present = [p for p in paths if p.is_file()]
    if not present:
        pytest.skip("no shipped models in pretrained/ yet")
    proc = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP_SCRIPT, *map(str, present)],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=_subprocess_env(),
    )
    assert proc.returncode == 0, proc.stderr
    fractions = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(fractions) == {p.stem for p in present}
    for name, frac in fractions.items():
        assert frac >= ROUND_TRIP_MIN_FRACTION, f"{name}: only {frac:.0%} of class centroids round-trip"


# ------------------------------------------------------------- benchmarks/verify_pretrained

VERIFY_SCRIPT = textwrap.dedent(
    """
    import sys
    from benchmarks.verify_pretrained import main
    rc = main(sys.argv[1:])
    assert "torch" not in sys.modules, "verify_pretrained imported torch"
    sys.exit(rc)
    """
)


def test_verify_pretrained_recomputes_the_card_without_torch(trained_models, idx_dir, tmp_path):
    out = tmp_path / "verify.json"
    models = [str(p) for p in trained_models.values()]
    proc = subprocess.run(
        [sys.executable, "-c", VERIFY_SCRIPT, "--models", *models, "--data-dir-mnist", str(idx_dir),
         "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=REPO, env=_subprocess_env(),
    )
    assert proc.returncode == 0, proc.stderr
    assert "recomputed" in proc.stdout
    results = json.loads(out.read_text())
    assert set(results) == {p.stem for p in trained_models.values()}
    for name, res in results.items():
        assert res["status"] == "ok", (name, res["notes"])
        rows = {r["metric"]: r for r in res["rows"]}
        # μ and log σ² come from the ONNX encoder: the KL terms match the card exactly.
        assert abs(rows["kl_nats"]["diff"]) < 1e-3
        per_dim = [r for m, r in rows.items() if m.startswith("kl_dim_")]
        assert len(per_dim) == {"tiny-2d": 2, "tiny-3d": 3}[name]
        assert all(abs(r["diff"]) < 1e-3 for r in per_dim)
        # One sample with numpy's ε instead of torch's: equal up to sampling noise.
        assert abs(rows["neg_elbo_nats"]["diff"]) < 0.03 * rows["neg_elbo_nats"]["card"]
        assert rows["neg_elbo_nats"]["recomputed"] == pytest.approx(
            rows["recon_nats"]["recomputed"] + rows["kl_nats"]["recomputed"]
        )
        assert abs(rows["knn5_accuracy"]["diff"]) <= 0.02
