"""Multi-process training on PyTorch's own engine: DistributedDataParallel launched by torchrun.

``torchrun --nproc_per_node=N -m latent_odyssey.train PRESET ...`` starts N copies of the
command; each finds its place in the job from torchrun's environment (``WORLD_SIZE``,
``RANK``, ``LOCAL_RANK``: :func:`job_from_env`). Without them, or with ``WORLD_SIZE=1``, there is
one process, no process group, and training is exactly the single-process loop.

Contract of a job of ``world`` > 1 processes (what the trainer relies on):

* Backend: gloo when the device is the CPU, NCCL on CUDA with one GPU per process
  (``cuda:LOCAL_RANK``; :func:`place`). :func:`process_group` joins and leaves the group.
* Data: every process loads the whole data set (as one process does). Each global batch
  (``batch_size`` images of the epoch's permutation, the same on every process) is cut into
  ``world`` contiguous parts, one per process (:meth:`Group.shard`). A process scales its
  local mean loss by ``local * world / global`` (:meth:`Group.loss_scale`), so DDP's gradient
  averaging yields exactly the gradient of the global batch's mean loss, ragged last batch
  included: the same optimisation as one process with the same ``batch_size``.
* Noise: the reparameterisation noise (and ``--binarize``'s coin flips) must differ between
  processes: rank 0 keeps the single-process random stream (restored from the checkpoint on
  resume), rank r > 0 reseeds from (seed, r, epoch) at every epoch start
  (:meth:`Group.seed_noise`), so a resumed job draws what an uninterrupted one would.
* BatchNorm (mnist-3d, fashion-3d, faces): every process normalises its part of the batch
  with its own statistics; torch 2.13's ``SyncBatchNorm`` refuses CPU tensors, and one rule on
  every device keeps CPU and GPU runs alike. The running statistics are rank 0's (DDP
  broadcasts its buffers before every forward pass).
* Losses: :meth:`Group.sum` adds the step's loss sums over all processes (one all-reduce
  per step), so every process sees the global batch's loss, the printed and stored epoch
  losses mean what a single-process run's do (nats per image over the epoch), and a
  non-finite loss stops every process at the same step.
* Sync points: :meth:`Group.agree` runs a step (loading data, rank 0 writing the
  checkpoint, ...) on every process, then shares the outcomes; when any failed, every
  process raises, rank 0 with the failing rank's sentence (:class:`PeerFailed`). Other
  processes wait there while rank 0 works; nothing hangs on a failure.
* A collective that fails because another process died becomes :class:`PeerLost` (one
  sentence) instead of gloo's or NCCL's traceback.
* Only rank 0 speaks: :func:`run_cli_once` discards the other ranks' Python-level stderr
  (their sentences, progress bars and warnings repeat rank 0's); uncaught exceptions (bugs)
  still print their traceback on the rank that hit them. Every rank that fails with a
  sentence also leaves it in torchrun's error file (``TORCHELASTIC_ERROR_FILE``), so
  torchrun's failure summary names it as the root cause (also a failure of a silent rank).
* Workers die with their launcher: on Linux each worker asks for SIGTERM when torchrun dies
  (``PR_SET_PDEATHSIG``), so a killed ``torchrun`` leaves no orphan training on.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from latent_odyssey.game import atomic
from latent_odyssey.game.cliutil import (
    EXIT_FAILURE,
    InputError,
    describe_os_error,
    one_line,
    run_cli,
)

PROCESS_GROUP_TIMEOUT_S = 1800.0  # longest wait in a collective (torch's gloo default), seconds
NOISE_SEED_STRIDE = 1_000_003  # rank r > 0 seeds its noise with seed * stride**2 + r * stride + epoch
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): signal this process when its parent dies
REASON_CHARS = 100  # longest backend message quoted in a sentence
ERROR_FILE_ENV = "TORCHELASTIC_ERROR_FILE"  # where torchrun reads why a worker failed

T = TypeVar("T")


class DistributedError(InputError, RuntimeError):
    """The job cannot be set up or went on without a process (one-sentence message)."""

    exit_status = EXIT_FAILURE


class PeerFailed(DistributedError):
    """Another process of the job failed at a sync point; the message is its sentence,
    naming the rank; ``exit_status`` is the one that process exits with."""

    def __init__(self, rank: int, world: int, host: str, message: str, exit_status: int) -> None:
        text = one_line(message).rstrip(".")
        super().__init__(f"{text} (rank {rank} of {world}, on {host}).")
        self.exit_status = exit_status


class PeerLost(DistributedError):
    """A collective failed: another process of the job ended or cannot be reached."""


@dataclass(frozen=True)
class Job:
    """Where this process stands: ``rank`` of ``world`` processes, ``local_rank`` on its machine."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files, prints and evaluates."""
        return self.rank == 0


def job_from_env(environ: Mapping[str, str] = os.environ) -> Job:
    """The job torchrun describes in ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; one process
    (``Job()``) when ``WORLD_SIZE`` is unset or 1. DistributedError for values that do not fit."""
    if environ.get("WORLD_SIZE") is None:
        return Job()
    values = {}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        text = environ.get(name, "")
        try:
            values[name] = int(text)
        except ValueError:
            raise DistributedError(f"The environment variable {name} is {text!r}; torchrun sets it to a whole "
                                   f"number (start multi-process training with torchrun).") from None
    world, rank, local = values["WORLD_SIZE"], values["RANK"], values["LOCAL_RANK"]
    if world < 1 or not 0 <= rank < world or local < 0:
        raise DistributedError(f"WORLD_SIZE={world}, RANK={rank}, LOCAL_RANK={local} do not describe a job "
                               f"(RANK must lie in 0..WORLD_SIZE-1).")
    return Job(rank=rank, world=world, local_rank=local) if world > 1 else Job()


def place(job: Job, device: torch.device) -> torch.device:
    """This process's device: ``cuda:LOCAL_RANK`` for a CUDA job of several processes (one GPU
    each), ``device`` otherwise. DistributedError when this machine has too few GPUs."""
    if job.world == 1 or device.type != "cuda":
        return device
    count = torch.cuda.device_count()
    if job.local_rank >= count:
        raise DistributedError(f"Process {job.local_rank} on this machine needs GPU {job.local_rank}, but "
                               f"PyTorch sees {count}; start at most {count} processes per machine "
                               f"(--nproc_per_node) or train with --device cpu.")
    torch.cuda.set_device(job.local_rank)
    return torch.device("cuda", job.local_rank)


def backend_for(device: torch.device) -> str:
    """The collective backend for a device: NCCL for CUDA, gloo for the CPU."""
    return "nccl" if device.type == "cuda" else "gloo"


def _reason(exc: BaseException) -> str:
    """A backend's message cut to its first sentence, without gloo's source position."""
    text = one_line(str(exc)) or type(exc).__name__
    if text.startswith("[") and "] " in text:
        text = text.split("] ", 1)[1]  # "[../gloo/transport/tcp/pair.cc:537] Read error ..."
    text = text.split(". ", 1)[0].rstrip(".")
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS].rsplit(" ", 1)[0] + " ..."


def _is_backend_error(exc: BaseException) -> bool:
    """A failed collective (gloo and NCCL raise RuntimeError, newer paths DistError)."""
    text = str(exc).lower()
    return isinstance(exc, dist.DistError) or any(word in text for word in ("gloo", "nccl", "connection"))


def _die_with_launcher() -> None:
    """Ask Linux to SIGTERM this process when its parent (torchrun's agent) dies, so that a
    ``kill -9`` of torchrun stops the training (which then exits as on Ctrl-C)."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


class Group:
    """The processes of one job, as the trainer sees them; with one process every method is
    the single-process behaviour (no communication, no scaling, no reseeding)."""

    def __init__(self, job: Job, device: torch.device) -> None:
        self.job, self.device = job, device
        self.rank, self.world, self.is_main = job.rank, job.world, job.is_main

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """Turn a collective that fails because another process is gone into PeerLost."""
        try:
            yield
        except RuntimeError as exc:
            if self.world == 1 or isinstance(exc, InputError) or not _is_backend_error(exc):
                raise
            raise PeerLost(f"Rank {self.rank} lost contact with another process of the training job "
                           f"({_reason(exc)}); that process ended or cannot be reached.") from None

    def agree(self, step: Callable[[], T] | None) -> T | None:
        """Run ``step`` here (None: nothing to do on this process), then wait until every
        process has run its own; when any failed with a one-sentence error, raise on every
        process (the failing rank its own error, the others PeerFailed with its sentence).
        Returns ``step``'s result."""
        if self.world == 1:
            return None if step is None else step()
        error: BaseException | None = None
        outcome: tuple[int, str, str] | None = None
        result: Any = None
        try:
            result = None if step is None else step()
        except InputError as exc:
            error, outcome = exc, (exc.exit_status, str(exc), socket.gethostname())
        except OSError as exc:
            error, outcome = exc, (EXIT_FAILURE, describe_os_error(exc), socket.gethostname())
        outcomes: list[tuple[int, str, str] | None] = [None] * self.world
        with self.watch():
            dist.all_gather_object(outcomes, outcome)
        failed = [(rank, o) for rank, o in enumerate(outcomes) if o is not None]
        if not failed:
            return result
        rank, (status, message, host) = failed[0]
        if rank == self.rank and error is not None:
            raise error
        raise PeerFailed(rank, self.world, host, message, status)

    def broadcast(self, obj: T) -> T:
        """Rank 0's ``obj`` on every process (pickled; for a checkpoint's state)."""
        if self.world == 1:
            return obj
        box = [obj if self.is_main else None]
        with self.watch():
            dist.broadcast_object_list(box, src=0)
        return box[0]

    def sum(self, values: Sequence[float]) -> list[float]:
        """``values`` added over all processes (float64), the same list on every process."""
        if self.world == 1:
            return list(values)
        total = torch.tensor(values, dtype=torch.float64, device=self.device)  # (K,)
        with self.watch():
            dist.all_reduce(total)
        return total.tolist()

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This process's contiguous part of a global batch of indices, (B,) -> (about B / world,)."""
        if self.world == 1:
            return batch
        return torch.tensor_split(batch, self.world)[self.rank]

    def loss_scale(self, local: int, global_: int) -> float:
        """Factor on the local mean loss that makes DDP's average of the processes' gradients
        the gradient of the global batch's mean: ``local * world / global``."""
        return local * self.world / global_

    def seed_noise(self, seed: int, epoch: int) -> None:
        """Give rank r > 0 its own random stream for ``epoch`` (rank 0 keeps the run's)."""
        if self.rank > 0:
            torch.manual_seed((seed * NOISE_SEED_STRIDE + self.rank) * NOISE_SEED_STRIDE + epoch)

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module to train: DistributedDataParallel around ``model`` for several processes
        (its constructor gives every process rank 0's weights), ``model`` itself for one."""
        if self.world == 1:
            return model
        ids = [self.device.index] if self.device.type == "cuda" else None
        with self.watch():
            return DistributedDataParallel(model, device_ids=ids)


@contextlib.contextmanager
def process_group(job: Job, device: torch.device) -> Iterator[Group]:
    """Join the job's process group for the block (gloo or NCCL, torchrun's rendezvous from
    the environment) and leave it afterwards; with one process, a Group that communicates
    nothing. A group someone else opened is used and left open."""
    if job.world == 1 or dist.is_initialized():
        yield Group(job, device)
        return
    _die_with_launcher()
    try:
        dist.init_process_group(
            backend_for(device), timeout=datetime.timedelta(seconds=PROCESS_GROUP_TIMEOUT_S),
            device_id=device if device.type == "cuda" else None,
        )
    except (RuntimeError, ValueError) as exc:
        raise DistributedError(f"Rank {job.rank} cannot join the training job ({_reason(exc)}); start it with "
                               f"torchrun.") from None
    try:
        yield Group(job, device)
    finally:
        dist.destroy_process_group()


def speaks(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process reports to the user: a single process, or rank 0 of a job (read
    leniently, as a bad value is reported by :func:`job_from_env`)."""
    single = environ.get("WORLD_SIZE", "1").strip() in ("", "1")
    return single or environ.get("RANK", "0").strip() in ("", "0")


def _tell_torchrun(command: str, exc: InputError) -> None:
    """Leave the sentence in torchrun's error file (its summary's root cause), if there is one."""
    path = os.environ.get(ERROR_FILE_ENV)
    if path:
        with contextlib.suppress(OSError):
            atomic.write_json(path, {"message": f"{command}: {one_line(str(exc))}", "timestamp": int(time.time())})


def run_cli_once(command: str, body: Callable[[], int]) -> int:
    """``run_cli`` for a command that torchrun runs once per process: rank 0 (or a single
    process) prints its sentences as usual; the other ranks run silently (their Python-level
    stderr goes nowhere), since rank 0 reports agreed failures for all of them. Tracebacks of
    uncaught exceptions still reach the real stderr."""

    def told() -> int:
        try:
            return body()
        except InputError as exc:
            _tell_torchrun(command, exc)
            raise

    if speaks():
        return run_cli(command, told)
    with open(os.devnull, "w") as sink, contextlib.redirect_stderr(sink):
        return run_cli(command, told)
