"""The training loop: whole data set on the device, batches by index, no per-sample Python.

Writes into ``out``: ``config.json``, ``checkpoint.pt`` (atomically, every epoch),
``metrics.json`` and ``report.png``. ``resume=True`` continues from ``out/checkpoint.pt`` and
reproduces an uninterrupted run of the same seed (per-epoch permutations come from a generator
seeded by (seed, epoch); the global RNG state is stored in the checkpoint).

``config.json`` is written once the data set has loaded and passed its checks; a run that
fails (or is stopped) before its first checkpoint removes the ``config.json`` it wrote, and the
``out`` folder when it made it and it is empty, so a failed run leaves nothing behind. An
epoch whose last batch would hold a single image leaves that image out (BatchNorm cannot train
on a batch of one); with several processes, a last batch smaller than their number.

Under ``torchrun`` (``WORLD_SIZE`` > 1) every process runs this loop as one member of a
DistributedDataParallel job (``train.distributed`` states the contract): each trains its part
of every global batch of ``batch_size`` images, the epoch losses are summed over all processes,
and rank 0 alone writes ``out``, prints, calls ``on_epoch`` and evaluates, while the others wait
for it at the end of every epoch; they return an empty dict after the last epoch. Checkpoints
hold the bare model's weights, so a run resumes with any number of processes.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from tqdm import tqdm

from latent_odyssey.game import atomic
from latent_odyssey.game.cliutil import EXIT_FAILURE, InputError, os_reason
from latent_odyssey.train import checkpoint as ckpt_io
from latent_odyssey.train import distributed, precision
from latent_odyssey.train.config import MACHINE_SETTINGS, TrainConfig, resumed_config
from latent_odyssey.train.datasets import TensorData, load_tensors
from latent_odyssey.train.guide import guide_nats
from latent_odyssey.train.loss import beta_at, kl_per_dim, recon_nats
from latent_odyssey.train.metrics import elbo_parts, evaluate
from latent_odyssey.train.models import ConvVAE, build_model, count_parameters


class TrainingError(InputError, RuntimeError):
    """Training cannot go on (non-finite loss, nothing to resume, ...); one-sentence message."""

    exit_status = EXIT_FAILURE


@dataclass
class EpochEnd:
    """What an ``on_epoch`` hook of :func:`train` receives after each epoch's checkpoint is on
    disk (live export reads it): the model in eval mode, its config and data, and the history
    so far (one row per completed epoch; the last row is this epoch's, with ``test_neg_elbo``)."""

    model: ConvVAE
    cfg: TrainConfig
    data: TensorData
    history: list[dict]
    out: Path

    @property
    def epoch(self) -> int:
        """Epochs completed (1-based)."""
        return len(self.history)


EpochHook = Callable[[EpochEnd], None]


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda was asked for but PyTorch sees no CUDA GPU.")
    return torch.device(name)


def lr_at(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """Cosine decay from lr to lr * lr_final_frac over the run."""
    frac = min(1.0, step / max(1, total_steps))
    low = cfg.lr * cfg.lr_final_frac
    return low + 0.5 * (cfg.lr - low) * (1.0 + math.cos(math.pi * frac))


def steps_in_epoch(n: int, batch_size: int, processes: int = 1) -> int:
    """Batches per epoch: the last one is partial, and left out when it would hold fewer than
    max(2, ``processes``) images (one image cannot train BatchNorm; every process needs one)."""
    rest = n % batch_size
    if n > batch_size and 0 < rest < max(2, processes):
        return n // batch_size
    return math.ceil(n / batch_size)


def write_json(path: Path, obj: object) -> None:
    """``atomic.write_json``, failing with one sentence (TrainingError) and the system's reason."""
    try:
        atomic.write_json(path, obj)
    except OSError as exc:
        raise TrainingError(f"Cannot write {path}: {os_reason(exc)}.") from None


@contextmanager
def leave_nothing_on_failure(out: Path) -> Iterator[None]:
    """On any failure (stops included) before the first checkpoint: remove the ``config.json``
    this run wrote, and ``out`` when this run made it and it is empty again."""
    made = not out.exists()
    had_config = (out / "config.json").exists()
    try:
        yield
    except BaseException:
        if not (out / "checkpoint.pt").exists():
            if not had_config:
                (out / "config.json").unlink(missing_ok=True)
            if made:
                try:
                    out.rmdir()
                except OSError:
                    pass
        raise


def train(
    cfg: TrainConfig, out: Path, data_dir: Path | str | None = None, resume: bool = False,
    progress: bool = True, report: bool = True, on_epoch: EpochHook | None = None,
    flags: Mapping[str, object] | None = None,
) -> dict:
    """Train ``cfg`` into ``out``; returns the test metrics dict. ``on_epoch`` is called after
    every epoch's checkpoint is written (never before the first). Under torchrun: see the
    module docstring (rank 0 returns the metrics, the other ranks an empty dict).

    A resume with ``flags`` (the command line's settings, field name -> value) continues with
    the run's own settings from its checkpoint except those flags (``config.resumed_config``);
    without ``flags`` it continues with ``cfg`` whole, keeping the run's guide."""
    job = distributed.job_from_env()
    device = distributed.place(job, pick_device(cfg.device))
    with (distributed.process_group(job, device) as group,
          leave_nothing_on_failure(out) if group.is_main else nullcontext()):
        return _train(cfg, out, data_dir, resume, progress, report, on_epoch, group, flags)


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainingError(f"Cannot make the output folder {out}: {os_reason(exc)}.") from None


def _load_for_resume(cfg: TrainConfig, ckpt_path: Path, flags: Mapping[str, object] | None) -> dict:
    """The checkpoint to continue from, checked against ``cfg``'s preset and, when the settings
    name one (no ``flags``, or ``--network``), its architecture."""
    if not ckpt_path.is_file():
        raise TrainingError(f"--resume was given but there is no checkpoint in {ckpt_path.parent}.")
    state = ckpt_io.load(ckpt_path, expect_preset=cfg.preset)
    saved = TrainConfig.from_dict(state["config"])
    if (flags is None or "model" in flags) and saved.model != cfg.model:
        raise TrainingError(f"{ckpt_path} holds a different architecture than {cfg.preset}"
                            + (" with this --network." if flags else "."))
    return state


def _continued(cfg: TrainConfig, saved: TrainConfig, flags: Mapping[str, object] | None) -> TrainConfig:
    """The settings a resume goes on with (see :func:`train`). Without ``flags``, ``cfg`` whole,
    except that a ``cfg`` without a guide keeps the run's: its epochs to come still pull, and
    the model file still records the guided epochs already trained."""
    if flags is not None:
        return resumed_config(saved, cfg, flags)
    if cfg.guide or not saved.guide:
        return cfg
    return dataclasses.replace(cfg, guide=saved.guide, guide_until=saved.guide_until)


def _say_resumed(saved: TrainConfig, cfg: TrainConfig, start_epoch: int) -> None:
    """One line on stderr: where the run goes on, and which of its settings the command line changed."""
    changed = ", ".join(f"{f.name} {getattr(saved, f.name)} -> {getattr(cfg, f.name)}"
                        for f in dataclasses.fields(cfg)
                        if f.name not in MACHINE_SETTINGS and getattr(saved, f.name) != getattr(cfg, f.name))
    try:
        print(f"resuming after epoch {start_epoch} of {cfg.epochs}; "
              + (f"changed from the run's settings: {changed}" if changed else "the run's settings unchanged"),
              file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed: training goes on without it
        pass


def _train(cfg: TrainConfig, out: Path, data_dir: Path | str | None, resume: bool, progress: bool,
           report: bool, on_epoch: EpochHook | None, group: distributed.Group,
           flags: Mapping[str, object] | None) -> dict:
    main = group.is_main  # rank 0 (or the only process): the one that writes, prints, evaluates
    ckpt_path = out / "checkpoint.pt"
    group.agree(partial(_make_folder, out) if main else None)
    device = group.device
    state: dict | None = None  # the checkpoint resumed from
    if resume:  # rank 0 reads the checkpoint and hands it to the others (no shared disk needed)
        state = group.broadcast(group.agree(partial(_load_for_resume, cfg, ckpt_path, flags) if main else None))
        cfg = _continued(cfg, TrainConfig.from_dict(state["config"]), flags)
    torch.manual_seed(cfg.seed)
    model = precision.prepare_model(build_model(cfg.model).to(device), cfg.precision)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    start_epoch, history = 0, []
    if state is not None:
        ckpt_io.restore(state, model, opt, ckpt_path)
        start_epoch, history = int(state["epoch"]), list(state["history"])
        if main:
            _say_resumed(TrainConfig.from_dict(state["config"]), cfg, start_epoch)

    data = group.agree(partial(load_tensors, cfg, data_dir, device))
    if cfg.guide and data.train_attrs is None:
        raise TrainingError(f"--guide needs attribute labels, and the {data.dataset} data set has none.")
    group.agree(partial(write_json, out / "config.json", cfg.to_dict()) if main else None)
    n = len(data.train_x)
    if group.world > min(n, cfg.batch_size):
        raise TrainingError(f"{group.world} processes cannot share batches of {min(n, cfg.batch_size)} images; "
                            f"start at most {min(n, cfg.batch_size)} or raise --batch-size.")
    net = group.wrap(model)  # DistributedDataParallel around the model with several processes
    steps_per_epoch = steps_in_epoch(n, cfg.batch_size, group.world)
    total_steps = steps_per_epoch * cfg.epochs
    t_start = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        group.seed_noise(cfg.seed, epoch)
        row = _train_epoch(net, model, opt, cfg, data, epoch, steps_per_epoch, total_steps, progress and main,
                           group)
        group.agree(partial(_end_epoch, model, opt, cfg, data, row, history, out, on_epoch) if main else None)
    train_seconds = time.perf_counter() - t_start
    if not main:
        return {}

    metrics = evaluate(model, cfg, data.train_x, data.train_y, data.test_x, data.test_y)
    metrics.update(
        preset=cfg.preset, dataset=data.dataset, epochs=cfg.epochs, train_images=n,
        parameters=count_parameters(model), train_seconds_this_run=round(train_seconds, 1),
        device=str(device), history=history,
    )
    if group.world > 1:
        metrics["processes"] = group.world
    write_json(out / "metrics.json", metrics)
    if report:
        from latent_odyssey.train.report import write_report

        try:
            write_report(model, cfg, data, metrics, out / "report.png")
        except OSError as exc:
            raise TrainingError(f"Cannot write {out / 'report.png'}: {os_reason(exc)}.") from None
    return metrics


def _end_epoch(model: ConvVAE, opt: torch.optim.Optimizer, cfg: TrainConfig, data: TensorData, row: dict,
               history: list[dict], out: Path, on_epoch: EpochHook | None) -> None:
    """Rank 0 after an epoch: the check-set -ELBO, the history row, the checkpoint, the hook."""
    rec, kl = elbo_parts(model, data.test_x[:2000], cfg.loss, cfg.mse_sigma)
    row["test_neg_elbo"] = float(rec.mean() + kl.sum(1).mean())
    history.append(row)
    ckpt_io.save_atomic(
        {
            "format": ckpt_io.CHECKPOINT_FORMAT, "config": cfg.to_dict(),
            "model": model.state_dict(), "optimizer": opt.state_dict(),
            "epoch": row["epoch"], "history": history, "rng": torch.get_rng_state(),
        },
        out / "checkpoint.pt",
    )
    if on_epoch is not None:
        on_epoch(EpochEnd(model=model, cfg=cfg, data=data, history=history, out=out))


def _train_epoch(
    net: torch.nn.Module, model: ConvVAE, opt: torch.optim.Optimizer, cfg: TrainConfig, data: TensorData,
    epoch: int, steps_per_epoch: int, total_steps: int, progress: bool, group: distributed.Group,
) -> dict:
    """One epoch; ``net`` (what is called) is ``model`` itself, or DistributedDataParallel
    around it; read the model's own attributes from ``model``, the bare module. Returns the
    epoch's row: mean losses per image over every process's images."""
    net.train()
    n = len(data.train_x)
    gen = torch.Generator().manual_seed(cfg.seed * 100003 + epoch)  # seeds < 2**32: fits 64 bits
    perm = torch.randperm(n, generator=gen).to(data.train_x.device)
    sums = {"loss": 0.0, "recon": 0.0, "kl": 0.0}
    guiding = bool(cfg.guide) and epoch < cfg.guide_until
    if guiding:
        sums["guide"] = 0.0
        attrs = torch.from_numpy(data.train_attrs).to(data.train_x.device)  # (N, 4)
    seen = 0  # images trained on (n, less a last batch too small to share out)
    t0 = time.perf_counter()
    bar = tqdm(
        range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not progress,
        leave=False, file=sys.stderr, mininterval=0.5,
    )
    beta = 0.0
    with group.watch():  # a process that dies mid-step: one sentence, not gloo's traceback
        for i in bar:
            batch = perm[i * cfg.batch_size : (i + 1) * cfg.batch_size]  # (B,) the same on every process
            idx = group.shard(batch)  # (b,) this process's part of it
            x = data.train_x[idx]  # (b, C, H, W)
            if cfg.binarize or cfg.binarize_train:
                x = torch.bernoulli(x)  # (b, C, H, W) of 0s and 1s, the grey values their means
            x = precision.prepare_batch(x, cfg.precision)
            step = epoch * steps_per_epoch + i
            beta = beta_at(epoch + i / steps_per_epoch, cfg.beta_max, cfg.warmup_epochs)
            for param_group in opt.param_groups:
                param_group["lr"] = lr_at(cfg, step, total_steps)
            with precision.forward_context(cfg.precision, x.device):
                outputs = net(x)
            raw, mu, logvar = precision.to_float32(*outputs)  # (b, C, H, W), (b, D), (b, D)
            rec = recon_nats(raw, x, cfg.loss, model.decoder_sigma(cfg.mse_sigma)).mean()  # σ learned or fixed
            kl = kl_per_dim(mu, logvar).sum(1).mean()
            loss = rec + beta * kl
            b = len(idx)
            pull = guide_nats(mu, attrs[idx], cfg.guide) if guiding else None  # train.guide's supervised pull
            parts = [loss.item() * b, rec.item() * b, kl.item() * b] + ([pull.item() * b] if guiding else [])
            loss_sum, rec_sum, kl_sum, *guide_sum = group.sum(parts)  # all processes, one exchange
            if guiding:  # trained on, never part of the ELBO
                sums["guide"] += guide_sum[0]
                loss = loss + pull
            if not math.isfinite(loss_sum):  # every process sees the same sum: all stop here
                raise TrainingError(
                    f"The loss became {loss_sum / len(batch)} at epoch {epoch + 1}, step {i + 1}; stopped, "
                    "and the last good checkpoint (end of the previous epoch) is kept."
                )
            opt.zero_grad(set_to_none=True)
            (loss * group.loss_scale(b, len(batch))).backward()  # DDP averages: the global batch's gradient
            opt.step()
            seen += len(batch)
            sums["loss"] += loss_sum
            sums["recon"] += rec_sum
            sums["kl"] += kl_sum
            if i % 20 == 0:
                bar.set_postfix(loss=f"{loss_sum / len(batch):.1f}", beta=f"{beta:.2f}")
    bar.close()
    dt = time.perf_counter() - t0
    row = {k: v / max(1, seen) for k, v in sums.items()}
    row.update(epoch=epoch + 1, beta=beta, seconds=round(dt, 2), images_per_s=round(n / dt, 1))
    if not group.is_main:
        return row
    try:  # one line per epoch, also with --no-progress (that hides only the bar)
        print(f"epoch {epoch + 1:3d}/{cfg.epochs}  loss {row['loss']:.2f}  recon {row['recon']:.2f}  "
              f"kl {row['kl']:.2f}  beta {beta:.2f}  " + (f"guide {row['guide']:.2f}  " if guiding else "")
              + f"{row['images_per_s']:.0f} img/s",
              file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed (2>&1 | head): training goes on without it
        pass
    return row
