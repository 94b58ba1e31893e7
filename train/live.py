"""``odyssey-train ... --live``: a playable model file after every epoch, for ``odyssey --live RUN``.

:class:`LiveExport` is the trainer's ``on_epoch`` hook (``trainer.EpochEnd``). After each
epoch's checkpoint it writes into ``OUT/live/`` (the file format and the game's side are in
``game.model.live``):

1. ``model.encoder.onnx``, then ``model.onnx`` (decoder + the full metadata of
   ``export.exporter.build_metadata``, with ``training["live"]``: epoch k of N, the epoch's
   mean training loss and the test -ELBO on the trainer's check set), each atomically;
2. ``status.json``: "training" at the start (epoch 0 or the epoch resumed from), after every
   epoch, then "finished" or "failed" (``finish`` / ``fail``). A process killed outright
   leaves "training" with a pid that is gone, which the game reads as "stopped".

Cost: the first epoch exports both graphs with the dynamo exporter (``optimize=False``, so
every parameter stays a named initializer; seconds); later epochs put the new weights into
the same graphs (``ONNXProgram.apply_weights``; milliseconds). Every file is checked against
PyTorch before it is renamed into place (:data:`PARITY_ATOL`); a graph that disagrees is
exported again from scratch, and if that disagrees too the epoch's files are not written
and training stops with one sentence. The hook runs under ``torch.random.fork_rng``: a run
trains exactly the same weights with and without ``--live``.

The maps' metadata summarises the first ``MAP_IMAGES`` training images every epoch, so the
encoded sample points are the same images each time (``build_metadata`` draws them with a
fixed seed from a fixed set) and the game can move each point from its old place to its new
one.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from latent_odyssey.export.exporter import (
    PARITY_ATOL,
    DecoderGraph,
    EncoderGraph,
    ExportError,
    build_metadata,
    decoder_doc,
    encoder_doc,
    export_program,
    onnx_parity,
    with_metadata,
)
from latent_odyssey.game import atomic
from latent_odyssey.game.cliutil import InputError, Stopped, signal_name
from latent_odyssey.game.model.live import (
    ENCODER_FILE,
    LIVE_KEY,
    MODEL_FILE,
    RESUMING,
    STARTING,
    LiveInfo,
    LivePaths,
    live_paths,
    write_status,
)
from latent_odyssey.game.model.modelfile import (
    DECODER_INPUT,
    DECODER_OUTPUT,
    ENCODER_INPUT,
    ENCODER_OUTPUTS,
    ModelMeta,
)
from latent_odyssey.train.config import TrainConfig
from latent_odyssey.train.datasets import TensorData
from latent_odyssey.train.metrics import elbo_parts
from latent_odyssey.train.models import ConvVAE
from latent_odyssey.train.trainer import EpochEnd, TrainingError

CHECK_IMAGES = 2000  # the trainer's per-epoch check set: the first 2,000 test images
MAP_IMAGES = 10_000  # training images encoded for the live maps (centroids, bounds, points)
PROBE_IMAGES = 8  # test images encoded (and their μ decoded) by the parity check
PROBE_RANDOM = 8  # random latents decoded by the parity check


@dataclass
class EpochExport:
    """What one epoch's export cost."""

    epoch: int
    seconds: float  # the whole hook: metadata, graphs, check, files
    graph: str  # "dynamo" (exported from scratch) or "weights" (new weights, same graph)
    decoder_err: float  # max |onnxruntime - PyTorch|
    encoder_err: float


class LiveExport:
    """The ``on_epoch`` hook of ``odyssey-train --live`` (see the module docstring)."""

    def __init__(self, out: Path, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.paths: LivePaths = live_paths(out)
        self.name = f"{cfg.preset}-live"
        self.exports: list[EpochExport] = []
        self._programs: tuple[torch.onnx.ONNXProgram, torch.onnx.ONNXProgram] | None = None

    # ------------------------------------------------------------------ status.json

    @contextmanager
    def running(self, resume: bool = False) -> Iterator[LiveExport]:
        """Around training: status "training" before it, "finished" after it, "stopped"
        (Ctrl-C, a signal) or "failed" (with the error's sentence) when it raises. A run that
        fails before its first epoch leaves no ``live`` folder (and no ``OUT`` it made)."""
        made = [p for p in (self.paths.run, self.paths.status.parent) if not p.exists()]
        self._status("training", 0, RESUMING if resume else STARTING)
        try:
            yield self
        except BaseException as exc:
            if not self.exports:
                self.paths.status.unlink(missing_ok=True)
                for folder in reversed(made):
                    _remove_if_empty(folder)
            else:
                self._last_word(*_ending(exc))
            raise
        self._status("finished", self.epochs_done, "training finished")

    @property
    def epochs_done(self) -> int:
        return self.exports[-1].epoch if self.exports else 0

    def _last_word(self, state: str, message: str) -> None:
        """The status of a run that ends with an error; never raises (the disk that failed
        training may fail this too: the pid that is gone tells the game the rest)."""
        try:
            self._status(state, self.epochs_done, message)
        except TrainingError:
            pass

    def _status(self, state: str, epoch: int, message: str = "") -> None:
        try:
            write_status(self.paths.status, state, epoch, self.cfg.epochs, message)
        except OSError as exc:
            raise TrainingError(f"Cannot write {self.paths.status}: {exc.strerror or exc}.") from None

    # ------------------------------------------------------------------ the hook

    def __call__(self, end: EpochEnd) -> None:
        """Export epoch ``end.epoch`` into ``OUT/live/`` (encoder, then decoder, then status)."""
        t0 = time.perf_counter()
        self.cfg = end.cfg  # the settings training goes on with (a resume's come from its checkpoint)
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            meta = self.metadata(end)
            cpu = copy.deepcopy(end.model).cpu().eval()
            graph, errs = self._write_files(cpu, meta, end.data.test_x[:PROBE_IMAGES].cpu())
        self._status("training", end.epoch)
        done = EpochExport(end.epoch, time.perf_counter() - t0, graph, *errs)
        self.exports.append(done)
        try:  # one line per epoch beside the trainer's (stderr closed: training goes on without it)
            print(f"live  epoch {end.epoch:3d}/{self.cfg.epochs} -> {self.paths.model} in {done.seconds:.2f} s "
                  f"({'graph exported' if graph == 'dynamo' else 'new weights'}, max error {max(errs):.1e})",
                  file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass

    def metadata(self, end: EpochEnd) -> ModelMeta:
        """The model file's metadata for this epoch: ``build_metadata`` of the first
        ``MAP_IMAGES`` training images (``map_data``: the same images, so the same sample
        points, every epoch) with the check-set metrics and ``training["live"]``."""
        cfg, row = self.cfg, end.history[-1]
        check = end.data.test_x[:CHECK_IMAGES]
        rec, kl = elbo_parts(end.model, check, cfg.loss, cfg.mse_sigma)  # (N,), (N, D)
        kl_dims = kl.mean(0)  # (D,)
        metrics = {
            "neg_elbo_nats": float(rec.mean() + kl_dims.sum()), "recon_nats": float(rec.mean()),
            "kl_nats": float(kl_dims.sum()), "kl_per_dim_nats": [round(float(v), 4) for v in kl_dims],
            "test_images": len(check), "epoch": end.epoch,
        }
        meta = build_metadata(self.name, cfg, end.model, map_data(end.data), metrics, ENCODER_FILE, history=end.history)
        info = LiveInfo(epoch=end.epoch, epochs=cfg.epochs, train_loss=round(float(row["loss"]), 4),
                        test_neg_elbo=round(float(row["test_neg_elbo"]), 4), check_images=len(check))
        meta.training[LIVE_KEY] = info.to_dict()
        meta.validate(self.name)
        return meta

    def _write_files(self, model: ConvVAE, meta: ModelMeta, probe_x: torch.Tensor) -> tuple[str, tuple[float, float]]:
        """Both files, checked and renamed into place (encoder first); returns how the graphs
        were made and the (decoder, encoder) parity errors."""
        weights = {k: v.detach().clone() for k, v in DecoderGraph(model).state_dict().items()}
        graph = "weights"
        if self._programs is None:
            self._programs, graph = self._export(model, probe_x), "dynamo"
        for prog in self._programs:  # each graph's initializers are named as in the state dict
            prog.apply_weights({k: v for k, v in weights.items() if k in prog.model.graph.initializers})
        d = model.cfg.latent_dim
        folder = self.paths.model.parent
        # the inner block ends first: the encoder is renamed into place, then the decoder
        with atomic.atomic_path(folder / MODEL_FILE, ".onnx") as dec_tmp, \
                atomic.atomic_path(folder / ENCODER_FILE, ".onnx") as enc_tmp:
            self._save(dec_tmp, enc_tmp, meta, d)
            errs = onnx_parity(dec_tmp, enc_tmp, model, probe_x, PROBE_RANDOM, threads=1)
            if max(errs) > PARITY_ATOL and graph == "weights":  # a graph the weights do not fit
                self._programs, graph = self._export(model, probe_x), "dynamo"
                self._save(dec_tmp, enc_tmp, meta, d)
                errs = onnx_parity(dec_tmp, enc_tmp, model, probe_x, PROBE_RANDOM, threads=1)
            if max(errs) > PARITY_ATOL:
                raise TrainingError(
                    f"The live model of epoch {meta.training[LIVE_KEY]['epoch']} disagrees with PyTorch by "
                    f"{max(errs):.2e} (> {PARITY_ATOL}); its files were not written."
                )
        return graph, errs

    def _export(self, model: ConvVAE, probe_x: torch.Tensor) -> tuple[torch.onnx.ONNXProgram, torch.onnx.ONNXProgram]:
        try:
            dec = export_program(DecoderGraph(model), torch.zeros(2, model.cfg.latent_dim), DECODER_INPUT,
                                 [DECODER_OUTPUT], optimize=False)
            enc = export_program(EncoderGraph(model), probe_x[:2], ENCODER_INPUT, list(ENCODER_OUTPUTS), optimize=False)
        except ExportError as exc:
            raise TrainingError(f"The live export failed: {exc}") from None
        return dec, enc

    def _save(self, dec_path: Path, enc_path: Path, meta: ModelMeta, d: int) -> None:
        dec, enc = self._programs
        dec.save(str(dec_path), external_data=False)
        with_metadata(dec_path, meta, decoder_doc(self.name, d))
        enc.save(str(enc_path), external_data=False)
        with_metadata(enc_path, None, encoder_doc(self.name, d))


def map_data(data: TensorData) -> TensorData:
    """The first ``MAP_IMAGES`` training images of ``data`` (all of a smaller set): what the
    live metadata summarises. Encoding 60,000 images every epoch would cost several seconds on
    a CPU; 10,000 give the centroids to within a few hundredths of a latent unit."""
    n = MAP_IMAGES
    if len(data.train_x) <= n:
        return data
    return replace(
        data, train_x=data.train_x[:n], train_y=None if data.train_y is None else data.train_y[:n],
        train_attrs=None if data.train_attrs is None else data.train_attrs[:n],
    )


def _ending(exc: BaseException) -> tuple[str, str]:
    """(state, message) for status.json when training ends with ``exc``."""
    if isinstance(exc, KeyboardInterrupt):
        return "stopped", "interrupted (Ctrl-C)"
    if isinstance(exc, Stopped):
        return "stopped", f"stopped by {signal_name(exc.signum)}"
    if isinstance(exc, InputError):
        return "failed", str(exc)
    return "failed", f"{type(exc).__name__}: {exc}"


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
