"""The training CLI's cheap paths, resume, divergence and checkpoint validation.

Everything trains on the synthetic IDX set from ``conftest`` with ``--limit 200`` (two steps per
epoch at the default batch size), so a run takes seconds even on a loaded CPU.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import torch
from conftest import REPO

from latent_odyssey.train import checkpoint as ckpt_io
from latent_odyssey.train.checkpoint import CheckpointError
from latent_odyssey.train.config import PRESETS, TrainConfig
from latent_odyssey.train.models import PRESET_CONFIGS
from latent_odyssey.train.trainer import TrainingError, train

LIMIT = 200  # training images per run
CFG2 = dataclasses.replace(PRESETS["mnist-2d"], epochs=2, limit=LIMIT, device="cpu")
METRIC_KEYS = ("neg_elbo_nats", "recon_nats", "kl_nats", "knn5_accuracy")


def assert_one_sentence(msg: str, *fragments: str) -> None:
    msg = str(msg)
    assert "\n" not in msg.strip(), msg
    assert msg.strip().endswith("."), msg
    for frag in fragments:
        assert frag in msg, (frag, msg)


def cli_env(tmp: Path) -> dict[str, str]:
    """The environment for a CLI subprocess: an empty cache, no $ODYSSEY_DATA, no GPU."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp / "xdg-cache"), CUDA_VISIBLE_DEVICES="")
    env.pop("ODYSSEY_DATA", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG after checking its signature, every chunk CRC and IEND."""
    raw = path.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, kinds = 8, []
    while pos < len(raw):
        (length,) = struct.unpack(">I", raw[pos : pos + 4])
        kind, body = raw[pos + 4 : pos + 8], raw[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", raw[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in chunk {kind!r}"
        kinds.append(kind)
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    ihdr = raw[16:24]
    return struct.unpack(">II", ihdr)


# --------------------------------------------------------------------------- CLI subprocesses


def test_cli_smoke_run_writes_everything(idx_dir, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "latent_odyssey.train", "mnist-2d", "--data-dir", str(idx_dir), "--epochs", "1",
         "--limit", str(LIMIT), "--device", "cpu", "--out", str(out)],
        cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "mnist-2d: test -ELBO" in proc.stdout

    cfg = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert (cfg.preset, cfg.epochs, cfg.limit) == ("mnist-2d", 1, LIMIT)

    metrics = json.loads((out / "metrics.json").read_text())
    for key in METRIC_KEYS:
        assert isinstance(metrics[key], float) and math.isfinite(metrics[key]), key
    assert metrics["neg_elbo_nats"] > 0 and 0.0 <= metrics["knn5_accuracy"] <= 1.0
    assert metrics["train_images"] == LIMIT and metrics["epochs"] == 1
    assert len(metrics["history"]) == 1

    state = ckpt_io.load(out / "checkpoint.pt", expect_preset="mnist-2d")
    assert state["epoch"] == 1 and state["format"] == ckpt_io.CHECKPOINT_FORMAT

    width, height = png_size(out / "report.png")
    assert width > 200 and height > 200
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.pt", "config.json", "metrics.json", "report.png",
    ]  # no temp files left behind


def test_cli_network_flag_trains_the_named_network_and_resume_keeps_the_runs_settings(idx_dir, tmp_path):
    """--network vae2d-deep (the shipped mnist-2d's network) replaces the preset's, and says so
    in config.json and the checkpoint. ``--resume --epochs 2`` alone goes on with every other
    setting of the run (network, β, noise, seed) and says what it changed; a --network other
    than the run's is refused."""
    out = tmp_path / "deep"

    def odyssey_train(*flags: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "latent_odyssey.train", "mnist-2d", "--data-dir", str(idx_dir), "--limit",
             str(LIMIT), "--out", str(out), "--no-progress", *flags],
            cwd=REPO, env=cli_env(tmp_path), capture_output=True, text=True, timeout=300,
        )

    proc = odyssey_train("--network", "vae2d-deep", "--epochs", "1", "--beta-max", "0.5", "--binarize-train",
                         "--seed", "3", "--device", "cpu")
    assert proc.returncode == 0, proc.stderr
    cfg = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert cfg.model == PRESET_CONFIGS["vae2d-deep"] != PRESETS["mnist-2d"].model
    assert ckpt_io.load(out / "checkpoint.pt")["config"]["model"]["extra_conv"] is True

    proc = odyssey_train("--resume", "--epochs", "2")
    assert proc.returncode == 0, proc.stderr
    assert "resuming after epoch 1 of 2; changed from the run's settings: epochs 1 -> 2\n" in proc.stderr
    kept = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert kept == dataclasses.replace(cfg, epochs=2, device="auto")
    assert kept.beta_max == 0.5 and kept.binarize_train and kept.seed == 3
    state = ckpt_io.load(out / "checkpoint.pt")
    assert state["epoch"] == 2 and TrainConfig.from_dict(state["config"]) == kept

    proc = odyssey_train("--resume", "--epochs", "3", "--network", "vae2d")
    assert proc.returncode == 1
    assert_one_sentence(proc.stderr.strip(), "different architecture", "--network")
    assert ckpt_io.load(out / "checkpoint.pt")["epoch"] == 2


BAD_INPUTS = {
    "unknown-preset": (["mnist-9d"], 2, "invalid choice"),
    "zero-epochs": (["mnist-2d", "--epochs", "0"], 2, "must be positive"),
    "lr-not-a-number": (["mnist-2d", "--lr", "abc"], 2, "'abc' is not a number"),
    "lr-nan": (["mnist-2d", "--lr", "nan"], 2, "finite number"),
    "unknown-precision": (["mnist-2d", "--precision", "fp8"], 2, "invalid choice"),
    "network-of-another-latent": (["mnist-3d", "--network", "vae2d-deep", "--data-dir", "{idx}"], 1,
                                  "needs a 3-D latent"),
    "missing-data-dir": (["mnist-2d", "--data-dir", "{tmp}/no-such-dir"], 1, "does not exist"),
    "unknown-guide": (["faces", "--guide", "smile,frown"], 2, "must name distinct attributes"),
    "guide-without-labels": (["mnist-2d", "--guide", "smile", "--data-dir", "{idx}", "--limit", "200"], 1,
                             "needs attribute labels"),
    "resume-without-checkpoint": (
        ["mnist-2d", "--resume", "--data-dir", "{idx}"], 1, "no checkpoint in",
    ),
}


@pytest.fixture(scope="module")
def bad_runs(idx_dir, tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """Every BAD_INPUTS command, started together (each pays torch's import time once)."""
    tmp = tmp_path_factory.mktemp("bad-cli")
    procs = {}
    for name, (args, _, _) in BAD_INPUTS.items():
        out = tmp / name
        argv = [a.format(tmp=tmp, idx=idx_dir) for a in args] + ["--out", str(out), "--no-progress"]
        procs[name] = (subprocess.Popen(
            [sys.executable, "-m", "latent_odyssey.train", *argv], cwd=REPO, env=cli_env(tmp),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ), out)
    results = {}
    for name, (proc, out) in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        results[name] = (subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), out)
    return results


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_cli_bad_input_one_line_no_traceback(bad_runs, case):
    proc, out = bad_runs[case]
    _, code, fragment = BAD_INPUTS[case]
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("odyssey-train: ")
    assert_one_sentence(lines[0], fragment)
    assert not (out / "checkpoint.pt").exists()


# --------------------------------------------------------------------------- resume


class _CtrlCAt(io.TextIOBase):
    """A stderr that raises KeyboardInterrupt, as Ctrl-C would, when ``marker`` is written.

    The trainer's progress bar writes ``epoch 2/2`` as epoch 2 starts, right after epoch 1's
    checkpoint is saved, so this interrupts a run at a known point without touching its code.
    """

    def __init__(self, marker: str, real) -> None:
        self.marker, self.real = marker, real

    def write(self, text: str) -> int:
        if self.marker in text:
            raise KeyboardInterrupt
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()


@pytest.fixture(scope="module")
def straight_run(idx_dir, tmp_path_factory) -> Path:
    """Two epochs, uninterrupted."""
    out = tmp_path_factory.mktemp("straight")
    train(CFG2, out, data_dir=idx_dir, progress=False, report=False)
    return out


@pytest.fixture(scope="module")
def interrupted_run(idx_dir, tmp_path_factory) -> Path:
    """The same two-epoch run, interrupted (Ctrl-C) as epoch 2 begins: checkpoint at epoch 1."""
    out = tmp_path_factory.mktemp("interrupted")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stderr", _CtrlCAt("epoch 2/2", sys.stderr))
        with pytest.raises(KeyboardInterrupt):
            train(CFG2, out, data_dir=idx_dir, progress=True, report=False)
    assert ckpt_io.load(out / "checkpoint.pt")["epoch"] == 1
    return out


def _copy_run(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return ckpt_io.load(run / "checkpoint.pt")["model"]


def test_resume_reproduces_uninterrupted_run(idx_dir, straight_run, interrupted_run, tmp_path):
    run = _copy_run(interrupted_run, tmp_path / "resumed")
    metrics = train(CFG2, run, data_dir=idx_dir, resume=True, progress=False, report=False)
    want, got = _weights(straight_run), _weights(run)
    assert want.keys() == got.keys()
    for key in want:
        assert torch.allclose(want[key], got[key], atol=1e-6, rtol=0), key
    straight = json.loads((straight_run / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    for a, b in zip(straight["history"], metrics["history"], strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
    assert metrics["neg_elbo_nats"] == pytest.approx(straight["neg_elbo_nats"], rel=1e-5)


def test_bf16_run_trains_close_to_fp32_and_keeps_float32_weights(idx_dir, straight_run, tmp_path):
    """--precision bf16: the same two epochs end near the fp32 run's losses (bfloat16 keeps 8
    bits of mantissa: ~0.4 % per rounding), every stored weight and the metrics are float32, and
    the checkpoint resumes as an fp32 run."""
    cfg = dataclasses.replace(CFG2, precision="bf16")
    metrics = train(cfg, tmp_path / "bf16", data_dir=idx_dir, progress=False, report=False)
    straight = json.loads((straight_run / "metrics.json").read_text())
    for a, b in zip(straight["history"], metrics["history"], strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=0.02), (a, b)
    assert metrics["neg_elbo_nats"] == pytest.approx(straight["neg_elbo_nats"], rel=0.02)
    state = ckpt_io.load(tmp_path / "bf16" / "checkpoint.pt", expect_preset="mnist-2d")
    assert {t.dtype for t in state["model"].values() if t.is_floating_point()} == {torch.float32}
    assert TrainConfig.from_dict(json.loads((tmp_path / "bf16" / "config.json").read_text())).precision == "bf16"
    again = train(dataclasses.replace(CFG2, epochs=3), tmp_path / "bf16", data_dir=idx_dir, resume=True,
                  progress=False, report=False)
    assert [h["epoch"] for h in again["history"]] == [1, 2, 3] and math.isfinite(again["neg_elbo_nats"])


def test_resume_of_another_preset_is_refused(idx_dir, interrupted_run, tmp_path):
    run = _copy_run(interrupted_run, tmp_path / "run")
    cfg3 = dataclasses.replace(PRESETS["mnist-3d"], epochs=2, limit=LIMIT, device="cpu")
    with pytest.raises(CheckpointError) as err:
        train(cfg3, run, data_dir=idx_dir, resume=True, progress=False, report=False)
    assert_one_sentence(err.value, "'mnist-2d'", "'mnist-3d'")


def test_resume_with_another_architecture_is_refused(idx_dir, interrupted_run, tmp_path):
    run = _copy_run(interrupted_run, tmp_path / "run")
    cfg = dataclasses.replace(CFG2, model=dataclasses.replace(CFG2.model, hidden=100))
    with pytest.raises(TrainingError) as err:
        train(cfg, run, data_dir=idx_dir, resume=True, progress=False, report=False)
    assert_one_sentence(err.value, "different architecture")


def test_resume_without_checkpoint_in_process(idx_dir, tmp_path):
    with pytest.raises(TrainingError) as err:
        train(CFG2, tmp_path / "empty", data_dir=idx_dir, resume=True, progress=False)
    assert_one_sentence(err.value, "no checkpoint", str(tmp_path / "empty"))


# --------------------------------------------------------------------------- divergence


def test_non_finite_loss_stops_and_keeps_last_checkpoint(idx_dir, interrupted_run, tmp_path):
    run = _copy_run(interrupted_run, tmp_path / "run")
    before = _weights(run)
    huge = dataclasses.replace(CFG2, lr=1e12)  # Adam moves every weight by ~1e12: inf/nan
    with pytest.raises(TrainingError) as err:
        train(huge, run, data_dir=idx_dir, resume=True, progress=False, report=False)
    assert_one_sentence(err.value, "The loss became", "epoch 2", "last good checkpoint")
    state = ckpt_io.load(run / "checkpoint.pt", expect_preset="mnist-2d")  # still loadable
    assert state["epoch"] == 1
    for key, value in before.items():
        assert torch.equal(value, state["model"][key]), key
    assert not (run / "metrics.json").exists()
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temp files


# --------------------------------------------------------------------------- checkpoint files


def test_truncated_checkpoint(interrupted_run, tmp_path):
    raw = (interrupted_run / "checkpoint.pt").read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError) as err:
        ckpt_io.load(path)
    assert_one_sentence(err.value, str(path), "not a readable checkpoint")


def test_garbage_checkpoint(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"definitely not a zip archive\n" * 10)
    with pytest.raises(CheckpointError) as err:
        ckpt_io.load(path)
    assert_one_sentence(err.value, "not a readable checkpoint")


def test_checkpoint_of_another_preset(interrupted_run):
    with pytest.raises(CheckpointError) as err:
        ckpt_io.load(interrupted_run / "checkpoint.pt", expect_preset="fashion-3d")
    assert_one_sentence(err.value, "preset 'mnist-2d'", "not 'fashion-3d'")


def test_checkpoint_from_a_newer_format(interrupted_run, tmp_path):
    state = ckpt_io.load(interrupted_run / "checkpoint.pt")
    state["format"] = 99
    path = tmp_path / "future.pt"
    ckpt_io.save_atomic(state, path)
    with pytest.raises(CheckpointError) as err:
        ckpt_io.load(path)
    assert_one_sentence(err.value, "format 99", "newer", "upgrade")


def test_foreign_torch_file(tmp_path):
    path = tmp_path / "foreign.pt"
    ckpt_io.save_atomic({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError) as err:
        ckpt_io.load(path)
    assert_one_sentence(err.value, "not a Latent Odyssey checkpoint")


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError) as err:
        ckpt_io.load(tmp_path / "none.pt")
    assert_one_sentence(err.value, "No checkpoint at")


def test_binarize_train_feeds_coin_flips_to_training_and_grey_images_to_the_metrics(idx_dir, tmp_path):
    """--binarize-train: every training batch the encoder sees is 0s and 1s; the evaluation (the
    model in eval mode) sees the grey test images, and the metrics say they are not binarized."""
    seen = {True: [], False: []}  # module.training -> was each input batch all 0s and 1s?

    def watch(module: torch.nn.Module, inputs: tuple) -> None:
        if isinstance(module, torch.nn.Sequential) and isinstance(module[0], torch.nn.Conv2d):  # the encoder
            x = inputs[0]  # (b, C, H, W)
            seen[module.training].append(bool(((x == 0) | (x == 1)).all()))

    cfg = dataclasses.replace(CFG2, epochs=1, binarize_train=True)
    handle = torch.nn.modules.module.register_module_forward_pre_hook(watch)
    try:
        metrics = train(cfg, tmp_path / "bt", data_dir=idx_dir, progress=False, report=False)
    finally:
        handle.remove()
    assert seen[True] and all(seen[True]), "a training batch was not binarized"
    assert seen[False] and not any(seen[False]), "the evaluation saw binarized images"
    assert metrics["binarized"] is False and "iw_log_likelihood_nats" not in metrics
    assert TrainConfig.from_dict(json.loads((tmp_path / "bt" / "config.json").read_text())).binarize_train
