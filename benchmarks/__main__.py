"""The benchmark suite: frame times of the game's scenes against the seed's way, decode latency,
start-up time and training throughput, in one run, as a table and as JSON.

    python -m benchmarks [--quick] [--json PATH] [--only NAME,...] [--model SLOT=PATH ...]
                         [--frames N] [--warmup N] [--size WxH] [--torch-threads N] [--data-dir D]

Sections (names for ``--only``; a scene name runs it with recording off and on):

* scenes ``navigator_moving``, ``odyssey_field``, ``odyssey_field_tunnel_grid``,
  ``odyssey_flight``, ``odyssey_tunnel_grid``, ``autopilot_tour``, ``face_studio_grid``
  (``benchmarks/scenes.py``), each also with the in-game recorder on (``*_rec``); ``scenes``
  selects them all;
* ``baseline``: the seed-style tunnel + grid frame (``benchmarks/baseline.py``), run with
  ``odyssey_tunnel_grid`` on the same model, which then carries ``speedup_vs_baseline``
  (baseline median / ours median);
* ``decode_latency``: onnxruntime vs PyTorch eager vs TorchScript per model at batch
  1, 9, 17, 33 with achieved GFLOP/s (``benchmarks/decode_latency.py``);
* ``startup``: command to first frame, fresh process (``benchmarks/startup.py``);
* ``train_throughput``: ``benchmarks.train_throughput.run`` (mnist-2d preset).

Models: the slots ``mnist-2d``, ``mnist-3d``, ``fashion-3d``, ``faces`` default to
``pretrained/SLOT.onnx``; ``--model SLOT=PATH`` replaces one (``SLOT=none`` leaves it out).
The Navigator uses mnist-2d (else a 3-D model), the Odyssey scenes mnist-3d (else
fashion-3d), Face Studio faces. A scene whose model is absent is skipped with a note.

``--quick``: few frames and runs (under a minute on an idle 2-core machine); the default is
the full run. The JSON (``--json PATH``, written atomically) holds ``machine``,
``settings``, ``scenes`` (name -> ``median_ms``, ``p99_ms``, ...; only scenes that ran),
``baseline``, ``decode_latency``, ``startup``, ``train_throughput``, ``targets`` (PASS /
MISS / SKIP), ``skipped`` (name -> reason) and ``errors``. Exit status: 0, 1 when a section
failed with an error, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from benchmarks import common  # noqa: E402

SCENE_NAMES = ("navigator_moving", "odyssey_field", "odyssey_field_tunnel_grid", "odyssey_flight",
               "odyssey_tunnel_grid", "autopilot_tour", "face_studio_grid")
SECTIONS = ("baseline", "decode_latency", "startup", "train_throughput")
SLOTS = ("mnist-2d", "mnist-3d", "fashion-3d", "faces")
SCENE_MODELS = {  # slots tried in order
    "navigator_moving": ("mnist-2d", "mnist-3d", "fashion-3d"),
    "odyssey_field": ("mnist-3d", "fashion-3d"),
    "odyssey_field_tunnel_grid": ("mnist-3d", "fashion-3d"),
    "odyssey_flight": ("mnist-3d", "fashion-3d"),
    "odyssey_tunnel_grid": ("mnist-3d", "fashion-3d"),
    "autopilot_tour": ("mnist-3d", "fashion-3d"),
    "face_studio_grid": ("faces",),
}
SHARED_MNIST = common.REPO.parent / "shared" / "data" / "mnist"  # the workspace's offline copy

# targets (issue 8)
TUNNEL_GRID_MEDIAN_MS = 8.0
TUNNEL_GRID_P99_MS = 16.0
SPEEDUP_MIN = 5.0
FACE_SLIDER_MS = 30.0
STARTUP_S = 2.0
# targets (issue 13): the field, the default flight view, and field + tunnel + grid
FIELD_MEDIAN_MS = 6.0
FIELD_P99_MS = 12.0
FIELD_REC_MEDIAN_MS = 12.0
FIELD_SCENES = ("odyssey_field", "odyssey_field_tunnel_grid")


@dataclass(frozen=True)
class Budget:
    """How long each section runs."""

    frames: int  # measured frames per scene (and for the baseline)
    warmup: int  # untimed frames before them
    decode_runs: int
    decode_warmup: int
    startup_runs: int
    train_steps: int


QUICK = Budget(frames=30, warmup=10, decode_runs=10, decode_warmup=2, startup_runs=1, train_steps=10)
FULL = Budget(frames=600, warmup=60, decode_runs=100, decode_warmup=5, startup_runs=3, train_steps=60)


class UsageError(Exception):
    """Bad command-line input (one sentence)."""


@dataclass
class Report:
    """Everything one run measured; ``to_json()`` is what ``--json`` writes."""

    machine: dict[str, Any]
    settings: dict[str, Any]
    scenes: dict[str, dict] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None
    decode_latency: dict[str, Any] | None = None
    startup: dict[str, Any] | None = None
    train_throughput: dict[str, Any] | None = None
    targets: list[dict] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "suite": "latent-odyssey benchmarks", "schema": 1,
            "machine": self.machine, "settings": self.settings, "scenes": self.scenes,
            "baseline": self.baseline, "decode_latency": self.decode_latency,
            "startup": self.startup, "train_throughput": self.train_throughput,
            "targets": self.targets, "skipped": self.skipped, "errors": self.errors,
        }


# ----------------------------------------------------------------------------- arguments


def parse_only(text: str | None) -> set[str]:
    """``--only`` -> the set of sections and scene names to run (all when None)."""
    everything = set(SCENE_NAMES) | set(SECTIONS)
    if text is None:
        return everything
    names = {n.strip() for n in text.split(",") if n.strip()}
    picked: set[str] = set()
    for n in names:
        if n == "scenes":
            picked |= set(SCENE_NAMES)
        elif n.endswith("_rec") and n[:-4] in SCENE_NAMES:
            picked.add(n[:-4])
        elif n in everything:
            picked.add(n)
        else:
            raise UsageError(f"--only knows {', '.join(['scenes', *SCENE_NAMES, *SECTIONS])}; not {n!r}.")
    if not picked:
        raise UsageError("--only needs at least one name.")
    return picked


def parse_models(pairs: list[str] | None) -> dict[str, Path | None]:
    """Slot -> decoder path (None: absent) from the defaults and ``--model SLOT=PATH``."""
    models: dict[str, Path | None] = {}
    for slot in SLOTS:
        p = common.REPO / "pretrained" / f"{slot}.onnx"
        models[slot] = p if p.is_file() else None
    for pair in pairs or []:
        slot, sep, value = pair.partition("=")
        if not sep or slot not in SLOTS:
            raise UsageError(f"--model takes SLOT=PATH with SLOT one of {', '.join(SLOTS)}; not {pair!r}.")
        if value.lower() == "none":
            models[slot] = None
            continue
        path = Path(value)
        if not path.is_file():
            raise UsageError(f"--model {slot}: there is no file {path}.")
        models[slot] = path
    return models


def parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise UsageError(f"--size must look like 1280x720, not {text!r}.") from None
    if w < 64 or h < 64:
        raise UsageError(f"--size must be at least 64x64, not {text!r}.")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="few frames and runs (under a minute when idle)")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    ap.add_argument("--only", metavar="NAME,...", help="run only these scenes / sections")
    ap.add_argument("--model", action="append", metavar="SLOT=PATH",
                    help=f"replace a model slot ({', '.join(SLOTS)}); PATH 'none' leaves it out")
    ap.add_argument("--frames", type=int, help="measured frames per scene (overrides the budget)")
    ap.add_argument("--warmup", type=int, help="warm-up frames per scene (overrides the budget)")
    ap.add_argument("--size", default="1280x720", help="window size WxH (default 1280x720)")
    ap.add_argument("--torch-threads", type=int, metavar="N",
                    help="torch.set_num_threads(N) for the torch runs (default: torch's own choice); "
                    "on a busy machine torch's spinning thread pool can make 2 threads 100x slower than 1")
    ap.add_argument("--data-dir", type=Path, help="MNIST IDX folder for train_throughput "
                    "(default: the workspace's shared copy if present)")
    return ap


# ----------------------------------------------------------------------------- sections


def _progress(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def _first(models: dict[str, Path | None], slots: tuple[str, ...]) -> Path | None:
    return next((models[s] for s in slots if models.get(s) is not None), None)


def _error(report: Report, key: str, exc: BaseException) -> None:
    report.errors[key] = f"{type(exc).__name__}: {exc}"
    _progress(f"{key} FAILED: {report.errors[key]}")
    if os.environ.get("ODYSSEY_BENCH_TRACEBACK"):
        traceback.print_exc()


def run_scenes(report: Report, only: set[str], models: dict[str, Path | None], budget: Budget,
               size: tuple[int, int]) -> None:
    from benchmarks import scenes

    for name in SCENE_NAMES:
        if name not in only:
            continue
        model = _first(models, SCENE_MODELS[name])
        if model is None:
            reason = f"no {' or '.join(SCENE_MODELS[name])} model (not shipped yet?)"
            report.skipped[name] = report.skipped[f"{name}_rec"] = reason
            _progress(f"{name}: skipped ({reason})")
            continue
        for record in (False, True):
            key = f"{name}_rec" if record else name
            _progress(f"{key} on {model.name}: {budget.warmup} + {budget.frames} frames")
            try:
                report.scenes[key] = scenes.measure(name, model, budget.frames, budget.warmup, size, record)
            except scenes.SceneSkipped as exc:
                report.skipped[key] = str(exc)
                _progress(f"{key}: skipped ({exc})")
            except Exception as exc:
                _error(report, key, exc)


def run_baseline(report: Report, models: dict[str, Path | None], budget: Budget, size: tuple[int, int]) -> None:
    from benchmarks import baseline

    model = _first(models, SCENE_MODELS["odyssey_tunnel_grid"])
    if model is None:
        report.skipped["baseline"] = "no 3-D model for the tunnel + grid frame (not shipped yet?)"
        _progress(f"baseline: skipped ({report.skipped['baseline']})")
        return
    _progress(f"baseline (seed-style tunnel + grid) on {model.name}: {budget.warmup} + {budget.frames} frames")
    try:
        report.baseline = baseline.run(model, budget.frames, size, budget.warmup)
    except baseline.BaselineError as exc:
        report.skipped["baseline"] = str(exc)
        _progress(f"baseline: skipped ({exc})")
    except Exception as exc:
        _error(report, "baseline", exc)
    ours = report.scenes.get("odyssey_tunnel_grid")
    if report.baseline and ours and ours["median_ms"] > 0:
        ours["baseline_median_ms"] = report.baseline["median_ms"]
        ours["speedup_vs_baseline"] = round(report.baseline["median_ms"] / ours["median_ms"], 2)


def run_decode_latency(report: Report, models: dict[str, Path | None], budget: Budget) -> None:
    from benchmarks import decode_latency

    seen: set[Path] = set()
    chosen: dict[str, Path | None] = {}
    for slot, path in models.items():
        if path is not None and path.resolve() in seen:
            continue
        chosen[slot] = path
        if path is not None:
            seen.add(path.resolve())
    _progress(f"decode_latency: {', '.join(s for s, p in chosen.items() if p)}; "
              f"{budget.decode_runs} runs per batch size and runtime")
    try:
        report.decode_latency = decode_latency.run(chosen, decode_latency.BATCHES, budget.decode_runs,
                                                   budget.decode_warmup)
    except Exception as exc:
        _error(report, "decode_latency", exc)
        return
    for slot, res in report.decode_latency.items():
        if "skipped" in res:
            report.skipped[f"decode_latency.{slot}"] = res["skipped"]


def run_startup(report: Report, models: dict[str, Path | None], budget: Budget) -> None:
    from benchmarks import startup

    shipped = common.REPO / "pretrained" / "mnist-2d.onnx"
    model = models.get("mnist-2d")
    arg = None if model is None or (shipped.is_file() and model.resolve() == shipped.resolve()) else str(model)
    _progress(f"startup: {budget.startup_runs} fresh process(es)")
    try:
        report.startup = startup.run(budget.startup_runs, arg)
    except startup.StartupError as exc:
        _error(report, "startup", exc)


def run_train_throughput(report: Report, budget: Budget, data_dir: Path | None) -> None:
    if data_dir is None and SHARED_MNIST.is_dir():
        data_dir = SHARED_MNIST
    _progress(f"train_throughput: mnist-2d, {budget.train_steps} timed steps per loader"
              + (f", data {data_dir}" if data_dir else ", random stand-in data"))
    try:
        from benchmarks import train_throughput
    except ImportError as exc:
        report.skipped["train_throughput"] = f"needs the train extra ({exc.name} is missing)"
        return
    try:
        res = train_throughput.run("mnist-2d", budget.train_steps, str(data_dir) if data_dir else None)
    except Exception as exc:
        _error(report, "train_throughput", exc)
        return
    res["data"] = str(data_dir) if data_dir else "random stand-in"
    res["steps"] = budget.train_steps
    report.train_throughput = res


# ----------------------------------------------------------------------------- targets


def _target(name: str, value: float | None, limit: float, unit: str, at_least: bool = False) -> dict[str, Any]:
    if value is None:
        status = "SKIP"
    else:
        status = "PASS" if (value >= limit if at_least else value <= limit) else "MISS"
    return {"name": name, "value": value, "limit": limit, "unit": unit,
            "comparison": ">=" if at_least else "<=", "status": status}


def evaluate_targets(report: Report) -> list[dict[str, Any]]:
    tg = report.scenes.get("odyssey_tunnel_grid") or {}
    face = report.scenes.get("face_studio_grid") or {}
    start = report.startup or {}
    field_targets = []
    for name in FIELD_SCENES:
        r, rec = report.scenes.get(name) or {}, report.scenes.get(f"{name}_rec") or {}
        field_targets += [
            _target(f"{name} median", r.get("median_ms"), FIELD_MEDIAN_MS, "ms"),
            _target(f"{name} p99", r.get("p99_ms"), FIELD_P99_MS, "ms"),
            _target(f"{name}_rec median", rec.get("median_ms"), FIELD_REC_MEDIAN_MS, "ms"),
        ]
    return field_targets + [
        _target("odyssey_tunnel_grid median", tg.get("median_ms"), TUNNEL_GRID_MEDIAN_MS, "ms"),
        _target("odyssey_tunnel_grid p99", tg.get("p99_ms"), TUNNEL_GRID_P99_MS, "ms"),
        _target("odyssey_tunnel_grid speed-up vs baseline", tg.get("speedup_vs_baseline"), SPEEDUP_MIN, "x",
                at_least=True),
        _target("face studio slider change to screen (face_studio_grid median)", face.get("median_ms"),
                FACE_SLIDER_MS, "ms"),
        _target("start-up to first frame (median)", start.get("median_s"), STARTUP_S, "s"),
    ]


# ----------------------------------------------------------------------------- printing


def _status(targets: list[dict], prefix: str) -> str:
    parts = [f"{t['comparison']} {t['limit']:g} {t['unit']} {t['status']}" for t in targets
             if t["name"].startswith(prefix) and t["status"] != "SKIP"]
    return "; ".join(parts)


def format_report(report: Report) -> str:
    t = report.targets
    lines = ["Latent Odyssey benchmarks" + (" (--quick)" if report.settings.get("quick") else ""),
             common.machine_header(report.machine),
             f"settings: {report.settings['size']}, dt {report.settings['frame_dt_ms']:.2f} ms, "
             f"{report.settings['warmup']} warm-up + {report.settings['frames']} measured frames per scene", ""]
    if report.scenes or report.baseline:
        rows = []
        for key, r in report.scenes.items():
            note = ""
            if key == "odyssey_tunnel_grid":
                note = _status(t, "odyssey_tunnel_grid median") + "; " + _status(t, "odyssey_tunnel_grid p99")
            elif key == "face_studio_grid":
                note = "slider->screen " + _status(t, "face studio")
            rows.append([key, r["model"], r["median_ms"], r["p99_ms"], r["mean_ms"], r["cpu_median_ms"],
                         r["decode_runs_per_frame"], note.strip("; ")])
        if report.baseline:
            b = report.baseline
            tg = report.scenes.get("odyssey_tunnel_grid", {})
            sp = tg.get("speedup_vs_baseline")
            note = f"ours {sp:.1f}x faster, {_status(t, 'odyssey_tunnel_grid speed-up')}" if sp else ""
            rows.append(["baseline (seed) tunnel+grid", Path(b["model"]).stem, b["median_ms"], b["p99_ms"],
                         b["mean_ms"], b["cpu_median_ms"], float(b["images_per_frame"]), note])
        lines += ["Frame time (Engine.loop_once, ms)",
                  common.format_table(["scene", "model", "median", "p99", "mean", "cpu", "runs/frame", "target"],
                                      rows), ""]
    if report.decode_latency:
        from benchmarks.decode_latency import table

        lines += ["Decode latency (ms per call; GFLOP/s from the analytic FLOP count)",
                  table(report.decode_latency), ""]
    if report.startup:
        s = report.startup
        lines += [f"Start-up: {s['command']}",
                  f"  median {s['median_s']:.2f} s over {s['n']} run(s) ({', '.join(f'{v:.2f}' for v in s['samples_s'])})"
                  f"  target {_status(t, 'start-up')}", ""]
    if report.train_throughput:
        r = report.train_throughput
        lines += [f"Training throughput ({r['preset']}, batch {r['batch_size']}, {r['data']}):",
                  f"  tensor-indexed loop {r['ours_images_per_s']:.0f} images/s, DataLoader per-item "
                  f"{r['dataloader_images_per_s']:.0f} images/s ({r['speedup']:.2f}x)", ""]
    lines += ["Targets", common.format_table(
        ["target", "value", "limit", "status"],
        [[x["name"], x["value"], f"{x['comparison']} {x['limit']:g} {x['unit']}", x["status"]] for x in t])]
    if report.skipped:
        lines += ["", "Skipped:"] + [f"  {k}: {v}" for k, v in report.skipped.items()]
    if report.errors:
        lines += ["", "Errors:"] + [f"  {k}: {v}" for k, v in report.errors.items()]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- entry


def run_suite(quick: bool = False, only: set[str] | None = None, models: dict[str, Path | None] | None = None,
              frames: int | None = None, warmup: int | None = None, size: tuple[int, int] = (1280, 720),
              data_dir: Path | None = None, torch_threads: int | None = None) -> Report:
    """Run the selected sections and return the report (targets evaluated)."""
    previous = _set_torch_threads(torch_threads)
    try:
        return _run_suite(quick, only, models, frames, warmup, size, data_dir)
    finally:
        _set_torch_threads(previous)


def _set_torch_threads(n: int | None) -> int | None:
    """torch.set_num_threads(n) when n is given and torch is installed; returns the old count."""
    if n is None:
        return None
    try:
        import torch
    except ImportError:
        return None
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    return old


def _run_suite(quick: bool, only: set[str] | None, models: dict[str, Path | None] | None,
               frames: int | None, warmup: int | None, size: tuple[int, int], data_dir: Path | None) -> Report:
    from benchmarks.scenes import FRAME_DT_S

    only = parse_only(None) if only is None else only
    models = parse_models(None) if models is None else models
    base = QUICK if quick else FULL
    budget = dataclasses.replace(base, frames=base.frames if frames is None else frames,
                                 warmup=base.warmup if warmup is None else warmup)
    t0 = time.perf_counter()
    report = Report(machine=common.machine(), settings={
        "quick": quick, "size": f"{size[0]}x{size[1]}", "frames": budget.frames, "warmup": budget.warmup,
        "frame_dt_ms": FRAME_DT_S * 1000.0, "decode_runs": budget.decode_runs, "startup_runs": budget.startup_runs,
        "train_steps": budget.train_steps, "only": sorted(only),
        "models": {k: (str(v) if v else None) for k, v in models.items()},
    })
    run_scenes(report, only, models, budget, size)
    if "baseline" in only or "odyssey_tunnel_grid" in only:
        run_baseline(report, models, budget, size)
    if "decode_latency" in only:
        run_decode_latency(report, models, budget)
    if "startup" in only:
        run_startup(report, models, budget)
    if "train_throughput" in only:
        run_train_throughput(report, budget, data_dir)
    report.targets = evaluate_targets(report)
    report.machine["load_average_end"] = common.load_average()
    report.settings["wall_s"] = round(time.perf_counter() - t0, 1)
    return report


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        only = parse_only(args.only)
        models = parse_models(args.model)
        size = parse_size(args.size)
        for flag, value, least in (("--frames", args.frames, 1), ("--warmup", args.warmup, 0),
                                   ("--torch-threads", args.torch_threads, 1)):
            if value is not None and value < least:
                raise UsageError(f"{flag} must be at least {least}.")
        if args.data_dir is not None and not args.data_dir.is_dir():
            raise UsageError(f"--data-dir {args.data_dir} is not a folder.")
        if args.json is not None and args.json.is_dir():
            raise UsageError(f"--json {args.json} is a folder; give a file name.")
    except UsageError as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    report = run_suite(args.quick, only, models, args.frames, args.warmup, size, args.data_dir,
                       args.torch_threads)
    print(format_report(report), flush=True)
    if args.json is not None:
        try:
            common.write_json(args.json, report.to_json())
        except OSError as exc:
            print(f"benchmarks: cannot write {args.json}: {exc.strerror or exc}.", file=sys.stderr)
            return 1
        print(f"\nJSON: {args.json}")
    return 1 if report.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
