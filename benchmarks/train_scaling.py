"""Training throughput with 1 and 2 processes: the real ``odyssey-train`` on the same data, as one
process and as a torchrun job (DistributedDataParallel; gloo on the CPU, NCCL on GPUs).

    python -m benchmarks.train_scaling [--preset mnist-2d] [--data-dir D] [--limit 6000]
        [--epochs 4] [--runs 1x2,1x1,2x1] [--device cpu] [--json PATH]

Every run trains ``--epochs`` epochs of the first ``--limit`` training images of the same
data into a temporary folder (``--iw-k 0``; everything else the preset's) and reads images/s
per epoch from its ``metrics.json`` (all processes' images over rank 0's wall time of the
epoch). The first epoch is warm-up; the median of the others is the run's number. Prints
every run's median, its ratio to the first run's, and the load average before and after: on
a machine that other work keeps busy the numbers are low and the ratios say little.

Runs are ``PxT``: P processes of T threads each (``OMP_NUM_THREADS``). The default compares,
on the machine's C usable cores, 1 process of C threads, 1 process of 1 thread, and 2
processes of C // 2 threads (the same CPU budget as the first). Exit status: 0, 1 when a run
failed, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import REPO, format_table, load_average, machine, machine_header, write_json

SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"  # the workspace's offline copy
PRESET = "mnist-2d"
LIMIT = 6_000  # training images per run
EPOCHS = 4  # the first is warm-up
RUN_TIMEOUT_S = 1800.0  # one training run


class ScalingError(RuntimeError):
    """A training run failed (one sentence)."""


class UsageError(ValueError):
    """The arguments do not fit (one sentence)."""


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def command(processes: int, preset: str, data_dir: Path, limit: int, epochs: int, device: str,
            out: Path) -> list[str]:
    """``odyssey-train`` as one process, or under torchrun (a free port: ``--standalone``)."""
    train = ["-m", "latent_odyssey.train", preset, "--data-dir", str(data_dir), "--limit", str(limit),
             "--epochs", str(epochs), "--iw-k", "0", "--device", device, "--out", str(out), "--no-progress"]
    if processes == 1:
        return [sys.executable, *train]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}", *train]


def run_once(processes: int, threads: int, preset: str, data_dir: Path, limit: int, epochs: int,
             device: str) -> dict[str, Any]:
    """One training run; its per-epoch images/s and the median after the warm-up epoch."""
    with tempfile.TemporaryDirectory(prefix="odyssey-scaling-") as tmp:
        out = Path(tmp) / "run"
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=os.pathsep.join(
            filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(command(processes, preset, data_dir, limit, epochs, device, out), cwd=REPO,
                                  env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ScalingError(f"The {processes}-process run took longer than {RUN_TIMEOUT_S:.0f} s.") from None
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            said = [ln for ln in proc.stderr.splitlines() if ln.startswith("odyssey-train")]
            reason = said[-1] if said else f"exit status {proc.returncode}"
            raise ScalingError(f"The {processes}-process run failed ({reason}).")
        history = json.loads((out / "metrics.json").read_text())["history"]
    rates = [row["images_per_s"] for row in history]
    return {
        "processes": processes, "threads_per_process": threads, "epochs": len(rates),
        "images_per_s_by_epoch": rates, "median_images_per_s": statistics.median(rates[1:]),
        "wall_s": round(wall, 1),
    }


def default_runs(cores: int) -> list[tuple[int, int]]:
    """(processes, threads each): 1 x all cores, 1 x 1, 2 x half the cores (duplicates dropped)."""
    runs = [(1, cores), (1, 1), (2, max(1, cores // 2))]
    return list(dict.fromkeys(runs))


def run(runs: list[tuple[int, int]], preset: str = PRESET, data_dir: Path = SHARED_MNIST, limit: int = LIMIT,
        epochs: int = EPOCHS, device: str = "cpu") -> dict[str, Any]:
    """Every (processes, threads) run on the same data, in order; ``vs_first`` is each median
    over the first run's."""
    load_before = load_average()
    results = []
    for processes, threads in runs:
        print(f"[scaling] {processes} process(es) x {threads} thread(s): {epochs} epochs of {limit} images ...",
              file=sys.stderr, flush=True)
        results.append(run_once(processes, threads, preset, data_dir, limit, epochs, device))
    for r in results:
        r["vs_first"] = round(r["median_images_per_s"] / results[0]["median_images_per_s"], 3)
    return {"preset": preset, "data_dir": str(data_dir), "train_images": limit, "device": device,
            "load_before": load_before, "load_after": load_average(), "runs": results}


def parse_runs(text: str) -> list[tuple[int, int]]:
    """``"1x2,2x1"`` -> [(1, 2), (2, 1)]."""
    runs = []
    for part in text.split(","):
        p, _, t = part.strip().partition("x")
        if not (p.isdigit() and t.isdigit() and int(p) >= 1 and int(t) >= 1):
            raise UsageError(f"--runs takes PxT items (P processes of T threads, both 1 or more) separated by "
                             f"commas, not {part!r}.")
        runs.append((int(p), int(t)))
    return runs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.train_scaling", description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default=PRESET)
    ap.add_argument("--data-dir", type=Path, default=SHARED_MNIST, help="the preset's IDX files (default: the "
                    "workspace's shared MNIST copy)")
    ap.add_argument("--limit", type=int, default=LIMIT, help=f"training images per run (default {LIMIT})")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs per run, the first is warm-up (default {EPOCHS})")
    ap.add_argument("--runs", metavar="PxT,...", help="P processes of T threads each, in order (default: "
                    "1xC,1x1,2xC/2 for C usable cores)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    a = ap.parse_args(argv)
    try:
        if a.epochs < 2 or a.limit < 1:
            raise UsageError("--epochs must be at least 2 (the first is warm-up) and --limit positive.")
        if not a.data_dir.is_dir():
            raise UsageError(f"There is no data folder {a.data_dir}; give the preset's IDX files with --data-dir.")
        runs = parse_runs(a.runs) if a.runs else default_runs(usable_cores())
        res = run(runs, a.preset, a.data_dir, a.limit, a.epochs, a.device)
    except UsageError as exc:
        print(f"train_scaling: {exc}", file=sys.stderr)
        return 2
    except ScalingError as exc:
        print(f"train_scaling: {exc}", file=sys.stderr)
        return 1
    print(machine_header(machine()))
    print(f"{res['preset']}, {res['train_images']} images, device {res['device']}, load before "
          f"{res['load_before']} / after {res['load_after']}")
    rows = [[r["processes"], r["threads_per_process"], r["median_images_per_s"],
             " ".join(f"{v:.0f}" for v in r["images_per_s_by_epoch"]), r["vs_first"], r["wall_s"]]
            for r in res["runs"]]
    print(format_table(["processes", "threads each", "median images/s", "per epoch (1st = warm-up)",
                        "vs first row", "wall s"], rows))
    if a.json:
        write_json(a.json, {"machine": machine(), **res})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
