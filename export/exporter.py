"""Checkpoint -> ``NAME.onnx`` (decoder + metadata), ``NAME.encoder.onnx``, ``NAME.pt``
(TorchScript VAE with ``decode``/``encode`` and the metadata), ``NAME.md`` (model card) and
``NAME.report.png``.

Export means export *and* verify (after timm's ``utils/onnx.py``): ``onnx.checker`` with
``full_check=True``, then torch vs onnxruntime on random and encoded latents to
:data:`PARITY_ATOL`, and the TorchScript file reloaded (metadata included) and compared too. A
failed check raises :class:`ExportError` and leaves no half-written files under the final names.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from latent_odyssey.export.card import model_card
from latent_odyssey.export.inputs import check_out, output_files, read_metrics
from latent_odyssey.export.torchscript import ScriptableVAE, load_torchscript, save_torchscript
from latent_odyssey.game.model.density import fit_density
from latent_odyssey.game.model.modelfile import (
    DECODER_INPUT,
    DECODER_OUTPUT,
    ENCODER_INPUT,
    ENCODER_OUTPUTS,
    METADATA_KEY,
    ModelMeta,
)
from latent_odyssey.train import checkpoint as ckpt_io
from latent_odyssey.train.config import TrainConfig
from latent_odyssey.train.datasets import TensorData, load_tensors
from latent_odyssey.train.metrics import encode_all
from latent_odyssey.train.models import ConvVAE, build_model, count_parameters

PARITY_ATOL = 1e-4
PROBE_RANDOM = 16  # random latents a parity check decodes besides the encoded ones
SAMPLE_POINTS = 3000  # encoded training points stored for the maps (fewer for wide latents)
SAMPLE_FLOATS_MAX = 200_000  # cap on sample_z size in floats (keeps metadata a few MB at most)
PERCENTILES = (1.0, 99.0)
KINDS_BY_DATASET = {"mnist": "digits", "fashion-mnist": "fashion"}


class ExportError(RuntimeError):
    """Export or its verification failed (one-sentence message)."""


DecoderGraph = ScriptableVAE  # its forward is decode: z (N, D) -> image (N, C, H, W) in [0, 1]


class EncoderGraph(nn.Module):
    """image (N, C, H, W) in [0, 1] -> mu, logvar (N, D)."""

    def __init__(self, vae: ConvVAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.vae.encode(x)


@dataclass
class ExportResult:
    files: dict[str, Path]
    decoder_max_err: float
    encoder_max_err: float
    torchscript_max_err: float
    meta: ModelMeta


def load_trained(checkpoint: Path) -> tuple[ConvVAE, TrainConfig, dict]:
    """Rebuild the model of a checkpoint in eval mode."""
    state = ckpt_io.load(checkpoint)
    try:
        cfg = TrainConfig.from_dict(state["config"])
        model = build_model(cfg.model)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ExportError(
            f"{checkpoint} holds a training config this version cannot rebuild ({type(exc).__name__}: {exc})."
        ) from None
    try:
        model.load_state_dict(state["model"])
    except RuntimeError:
        raise ExportError(f"{checkpoint} weights do not fit its own architecture.") from None
    return model.eval(), cfg, state


def export_program(
    module: nn.Module, example: torch.Tensor, in_name: str, out_names: list[str], optimize: bool = True,
) -> torch.onnx.ONNXProgram:
    """The dynamo ONNX export of ``module`` (a DecoderGraph or EncoderGraph) with a dynamic batch.

    ``optimize=False`` keeps one ONNX initializer per PyTorch parameter and buffer, under its
    own name (the optimizer folds BatchNorm into the convolutions), so that
    ``ONNXProgram.apply_weights`` can later put another epoch's weights into the same graph
    (live export); onnxruntime fuses the layers itself when it loads the file either way.
    """
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prog = torch.onnx.export(
            module, (example,), dynamo=True, input_names=[in_name], output_names=out_names,
            dynamic_shapes={"z" if in_name == DECODER_INPUT else "x": {0: torch.export.Dim("N", min=1, max=65536)}},
            verbose=False, optimize=optimize,
        )
    if prog is None:
        raise ExportError("torch.onnx.export returned nothing.")
    return prog


def _dynamo_export(module: nn.Module, example: torch.Tensor, in_name: str, out_names: list[str], path: Path) -> None:
    export_program(module, example, in_name, out_names).save(str(path), external_data=False)


def decoder_doc(name: str, latent_dim: int) -> str:
    """The decoder file's ONNX doc string."""
    return f"Latent Odyssey decoder {name}: z [N,{latent_dim}] -> image [N,C,H,W] in [0,1]."


def encoder_doc(name: str, latent_dim: int) -> str:
    """The encoder file's ONNX doc string."""
    return f"Latent Odyssey encoder {name}: image [N,C,H,W] in [0,1] -> mu, logvar [N,{latent_dim}]."


def with_metadata(path: Path, meta: ModelMeta | None, doc: str) -> None:
    """Rewrite the ONNX file ``path`` with ``meta`` (None: none) as its only metadata entry."""
    model = onnx.load(str(path))
    del model.metadata_props[:]
    if meta is not None:
        entry = model.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, meta.to_json()
    model.doc_string = doc
    model.producer_name = "latent-odyssey"
    onnx.save(model, str(path))


def build_metadata(
    name: str, cfg: TrainConfig, model: ConvVAE, data: TensorData, metrics: dict,
    encoder_file: str, attributes: dict[str, list[float]] | None = None,
    history: list[dict] | None = None, with_density: bool = False,
) -> ModelMeta:
    """Encode the training set and summarise it into the model file's metadata; with
    ``with_density``, face models also get the density fitted to the encoded training set
    (``game.model.density``: tens of seconds for 128-D latents, so live exports leave it out)."""
    history = history or []
    mu, _ = encode_all(model, data.train_x)  # (N, D)
    mu_np = mu.cpu().numpy().astype(np.float64)
    d = mu_np.shape[1]
    labels = data.train_y.cpu().numpy() if data.train_y is not None else np.full(len(mu_np), -1)
    centroids = [mu_np[labels == k].mean(0).tolist() for k in range(len(data.class_names))]
    rng = np.random.default_rng(0)
    m = min(len(mu_np), SAMPLE_POINTS, SAMPLE_FLOATS_MAX // d)
    pick = np.sort(rng.choice(len(mu_np), size=m, replace=False))
    lo, hi = np.percentile(mu_np, PERCENTILES, axis=0)
    kind = KINDS_BY_DATASET.get(cfg.dataset, "faces")
    density = fit_density(mu_np).to_dict() if with_density and kind == "faces" else {}
    return ModelMeta(
        name=name, kind=kind, latent_dim=d, image_shape=[cfg.model.channels, cfg.model.image_size, cfg.model.image_size],
        dataset=data.dataset, class_names=list(data.class_names),
        centroids=[[round(v, 5) for v in c] for c in centroids],
        sample_z=np.round(mu_np[pick], 4).tolist(), sample_labels=labels[pick].astype(int).tolist(),
        latent_lo=lo.tolist(), latent_hi=hi.tolist(), latent_percentiles=list(PERCENTILES),
        latent_mean=mu_np.mean(0).tolist(), latent_std=mu_np.std(0).tolist(),
        attributes=attributes or {},
        metrics={k: v for k, v in metrics.items() if k != "history"},
        training={
            "preset": cfg.preset, "epochs": cfg.epochs, "batch_size": cfg.batch_size, "lr": cfg.lr,
            "beta_max": cfg.beta_max, "warmup_epochs": cfg.warmup_epochs, "loss": cfg.loss,
            "binarize": cfg.binarize, "binarize_train": cfg.binarize_train, "seed": cfg.seed, "parameters": count_parameters(model),
            "epochs_completed": len(history), "train_seconds": round(sum(h.get("seconds", 0.0) for h in history), 1),
            "mse_sigma": float(torch.as_tensor(model.decoder_sigma(cfg.mse_sigma)).detach()), "limit": cfg.limit,  # to re-derive the metrics
            "architecture": cfg.model.to_dict(), "faces_train": cfg.faces_train,
            **({"guide": list(cfg.guide), "guide_until": cfg.guide_until} if cfg.guide else {}),
        },
        encoder_file=encoder_file, density=density,
    )


def _ort(path: Path, threads: int = 0) -> ort.InferenceSession:
    """A quiet CPU session (``threads`` 0: onnxruntime's default)."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def probe_latents(model: ConvVAE, probe_x: torch.Tensor, random: int = PROBE_RANDOM
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The latents a parity check decodes: ``random`` seeded N(0, I) draws, then the μ of
    ``probe_x`` (N, C, H, W). Returns z (random + N, D), μ and log σ² (N, D)."""
    gen = torch.Generator().manual_seed(0)
    mu, logvar = model.encode(probe_x)  # (N, D) each
    z = torch.cat([torch.randn((random, model.cfg.latent_dim), generator=gen), mu])  # (random + N, D)
    return z, mu, logvar


@torch.no_grad()
def onnx_parity(dec_path: Path, enc_path: Path, model: ConvVAE, probe_x: torch.Tensor,
                random: int = PROBE_RANDOM, threads: int = 0) -> tuple[float, float]:
    """Max |onnxruntime - PyTorch| of the decoder (on ``probe_latents``) and of the encoder
    (μ and log σ² of ``probe_x``)."""
    z, mu, logvar = probe_latents(model, probe_x, random)
    got = _ort(dec_path, threads).run([DECODER_OUTPUT], {DECODER_INPUT: z.numpy()})[0]
    dec_err = float(np.abs(model.decode(z).numpy() - got).max())
    enc = _ort(enc_path, threads).run(list(ENCODER_OUTPUTS), {ENCODER_INPUT: probe_x.numpy()})
    enc_err = max(float(np.abs(mu.numpy() - enc[0]).max()), float(np.abs(logvar.numpy() - enc[1]).max()))
    return dec_err, enc_err


@torch.no_grad()
def verify(
    dec_path: Path, enc_path: Path, ts_path: Path, model: ConvVAE, probe_x: torch.Tensor, meta: ModelMeta,
) -> tuple[float, float, float]:
    """Checker + parity; returns max abs errors (decoder, encoder, TorchScript decode/encode)."""
    for p in (dec_path, enc_path):
        try:
            onnx.checker.check_model(str(p), full_check=True)
        except onnx.checker.ValidationError as exc:
            raise ExportError(f"{p.name} fails onnx.checker: {str(exc).splitlines()[0]}.") from None
    dec_err, enc_err = onnx_parity(dec_path, enc_path, model, probe_x)
    z, mu, logvar = probe_latents(model, probe_x)
    want = model.decode(z).numpy()  # (random + N, C, H, W)
    ts, ts_meta = load_torchscript(ts_path)
    if ts_meta != meta:
        raise ExportError(f"{ts_path.name} carries metadata that differs from the decoder's.")
    ts_mu, ts_logvar = ts.encode(probe_x)
    ts_err = max(
        float(np.abs(ts.decode(z).numpy() - want).max()), float(np.abs(ts(z).numpy() - want).max()),
        float(np.abs(ts_mu.numpy() - mu.numpy()).max()), float(np.abs(ts_logvar.numpy() - logvar.numpy()).max()),
    )
    for label, err in (("decoder", dec_err), ("encoder", enc_err), ("TorchScript file", ts_err)):
        if not err <= PARITY_ATOL:
            raise ExportError(f"The {label} disagrees with PyTorch by {err:.2e} (> {PARITY_ATOL}).")
    return dec_err, enc_err, ts_err


def export_checkpoint(
    checkpoint: Path, out_prefix: Path, data_dir: Path | str | None = None,
    attributes_fn=None,
) -> ExportResult:
    """Export, verify and write the model card; files appear atomically under ``out_prefix``.

    ``attributes_fn(model, data) -> ({name: unit direction} | None, markdown table | None)``
    adds attribute directions and their edit-quality table (faces).
    """
    check_out(checkpoint, out_prefix)  # never over the training run, never a bare folder
    model, cfg, state = load_trained(checkpoint)
    name = out_prefix.name
    out_dir = out_prefix.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics = read_metrics(checkpoint.with_name("metrics.json"))
    data = load_tensors(cfg, data_dir, torch.device("cpu"))
    attributes, edit_table = attributes_fn(model, data) if attributes_fn else (None, None)
    files = output_files(out_prefix)
    meta = build_metadata(
        name, cfg, model, data, metrics, files["encoder"].name, attributes, state.get("history", []),
        with_density=True,
    )
    if edit_table:
        meta.training["edit_quality"] = edit_table
    meta.validate(name)
    d = cfg.model.latent_dim
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{name}.") as tmp_s:
        tmp = Path(tmp_s)
        staged = {k: tmp / p.name for k, p in files.items()}
        _dynamo_export(DecoderGraph(model), torch.zeros(2, d), DECODER_INPUT, [DECODER_OUTPUT], staged["decoder"])
        with_metadata(staged["decoder"], meta, decoder_doc(name, d))
        probe = data.test_x[:16]
        _dynamo_export(EncoderGraph(model), probe[:2], ENCODER_INPUT, list(ENCODER_OUTPUTS), staged["encoder"])
        with_metadata(staged["encoder"], None, encoder_doc(name, d))
        save_torchscript(model, meta, staged["torchscript"])
        errs = verify(staged["decoder"], staged["encoder"], staged["torchscript"], model, probe, meta)
        report_src = checkpoint.with_name("report.png")
        if report_src.is_file():
            shutil.copyfile(report_src, staged["report"])
        staged["card"].write_text(model_card(meta, errs, {k: p.name for k, p in files.items()}, report_src.is_file()))
        for key, p in staged.items():
            if p.exists():
                os.replace(p, files[key])
    return ExportResult(files=files, decoder_max_err=errs[0], encoder_max_err=errs[1], torchscript_max_err=errs[2], meta=meta)
