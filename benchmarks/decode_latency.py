"""Decode latency per model and batch size: onnxruntime vs PyTorch eager vs TorchScript.

    python -m benchmarks.decode_latency [--model PATH ...] [--runs 100] [--batches 1,9,17,33]

For each decoder ``NAME.onnx`` (default: the shipped models in ``pretrained/`` that exist),
the same weights run three ways on the CPU, one call per timed sample, same latents:

* ``onnxruntime``  the game's session (``game.providers.make_session``: graph optimisations
  on, ``INTRA_OP_THREADS`` threads, no spinning), CPU provider;
* ``torch_eager``  ``train.models.build_model(ModelConfig(**meta.training["architecture"]))``
  wrapped in ``export.exporter.DecoderGraph`` with the weights of ``NAME.pt`` loaded into it
  (the TorchScript module's ``state_dict`` has exactly ``DecoderGraph``'s keys; checked, and
  the outputs are compared with onnxruntime's: ``parity_max_abs``);
* ``torchscript``  ``torch.jit.load("NAME.pt")`` (the traced decoder export writes).

Both torch variants run under ``torch.inference_mode()`` on torch's default thread count.
Each sample is median/p99 over ``runs`` calls after ``warmup`` untimed calls.

FLOPs: counted analytically from the architecture stored in the model file, per image:
2 x multiply-accumulates of every ``Linear`` (in x out) and ``ConvTranspose2d``
(C_in x C_out x k x k per *input* pixel, i.e. the full scatter, as col2im computes it,
including taps that padding later crops). Bias adds, BatchNorm (folded into the
convolutions by both exporters' optimisers), activations and the final sigmoid/Tanh are not
counted (< 1 % of the total). ``gflops`` = batch x FLOPs per image / median seconds / 1e9.

Models without a ``.pt`` beside them, or without torch installed, get onnxruntime numbers
and a note. ``run(models, ...) -> dict`` is the suite's entry point.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import REPO, format_table, stats, time_calls

BATCHES = (1, 9, 17, 33)  # a view, the 3x3 grid, tunnel 8 + grid 9, tunnel 24 + grid 9
RUNS = 100
WARMUP = 5
SEED = 0
SHIPPED = ("mnist-2d", "mnist-3d", "fashion-3d", "faces")
RUNTIMES = ("onnxruntime", "torch_eager", "torchscript")
FLOP_METHOD = ("analytic from the stored architecture: 2 x MACs of Linear and ConvTranspose2d "
               "(full scatter per input pixel); bias, BatchNorm, activations not counted")


class DecodeBenchError(RuntimeError):
    """A model cannot be benchmarked as asked (one sentence)."""


def decoder_flops(arch: dict[str, Any]) -> int:
    """FLOPs (2 x MACs) of one image through ``ConvVAE``'s decoder, from its ModelConfig dict.

    Mirrors ``train.models.ConvVAE``: Linear(D, hidden), Linear(hidden, C_last * b * b), an
    optional ConvT 3x3 stride 1 at b x b, then ConvT 4x4 stride 2 layers doubling the size, each
    but the last followed by ``res_blocks`` residual blocks of two Conv 3x3 (same width, same size).
    """
    conv = [int(c) for c in arch["conv"]]
    size = int(arch["image_size"])
    b = size // (2 ** len(conv))
    macs = int(arch["latent_dim"]) * int(arch["hidden"])
    macs += int(arch["hidden"]) * conv[-1] * b * b
    widths = list(reversed(conv))
    if arch.get("extra_conv"):
        macs += widths[0] * widths[0] * 9 * b * b
    s = b
    res_blocks = int(arch.get("res_blocks", 0))
    outs = [*widths[1:], int(arch["channels"])]
    for i, (w_in, w_out) in enumerate(zip(widths, outs, strict=True)):
        macs += w_in * w_out * 16 * s * s  # 4x4 kernel scattered from each of s*s input pixels
        s *= 2
        if i < len(outs) - 1:  # residual blocks follow every upsampling but the last
            macs += res_blocks * 2 * w_out * w_out * 9 * s * s
    return 2 * macs


def count_flops_torch(module: Any, latent_dim: int) -> int:
    """The same count taken from one traced batch-1 run with forward hooks (a cross-check)."""
    import torch
    from torch import nn

    total = [0]

    def hook(mod, inputs, _output) -> None:
        x = inputs[0]
        if isinstance(mod, nn.Linear):
            total[0] += 2 * x.shape[0] * mod.in_features * mod.out_features
        else:  # ConvTranspose2d: every input pixel scatters a full kernel; Conv2d (stride 1,
            # "same" padding here): every output pixel gathers one, and there are as many
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total[0] += 2 * x.shape[0] * mod.in_channels * mod.out_channels // mod.groups * k * x.shape[2] * x.shape[3]

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Linear, nn.ConvTranspose2d, nn.Conv2d))]
    try:
        # the encoder's layers are in the module too, but decoding never calls them
        with torch.inference_mode():
            module(torch.zeros(1, latent_dim))
    finally:
        for h in handles:
            h.remove()
    return total[0]


def torchscript_path(onnx_path: Path) -> Path:
    return Path(onnx_path).with_suffix(".pt")


def load_torch_decoders(onnx_path: Path, meta: Any) -> tuple[Any, Any]:
    """(eager ``DecoderGraph`` in eval mode, TorchScript module) with the ``.pt``'s weights."""
    import torch

    from latent_odyssey.export.exporter import DecoderGraph
    from latent_odyssey.train.models import ModelConfig, build_model

    pt = torchscript_path(onnx_path)
    if not pt.is_file():
        raise DecodeBenchError(f"no TorchScript file {pt.name} beside {Path(onnx_path).name}")
    arch = meta.training.get("architecture")
    if not isinstance(arch, dict):
        raise DecodeBenchError(f"{Path(onnx_path).name} does not record its architecture")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.load: what export writes
        ts = torch.jit.load(str(pt), map_location="cpu").eval()
    eager = DecoderGraph(build_model(ModelConfig(**arch))).eval()
    want, got = set(eager.state_dict()), set(ts.state_dict())
    if want != got:
        diff = sorted(want ^ got)
        raise DecodeBenchError(f"{pt.name}'s weights do not match the architecture ({len(diff)} keys differ, e.g. {diff[0]})")
    eager.load_state_dict(ts.state_dict())
    return eager, ts


def _torch_call(module: Any, z: Any):
    import torch

    def call():
        with torch.inference_mode():
            return module(z)

    return call


def measure_model(path: Path, batches: tuple[int, ...] = BATCHES, runs: int = RUNS,
                  warmup: int = WARMUP, seed: int = SEED) -> dict[str, Any]:
    """Latency of one decoder at each batch size on each runtime (see the module docstring)."""
    from latent_odyssey.game.model.modelfile import DECODER_INPUT, open_model
    from latent_odyssey.game.model.providers import make_session, provider_label

    path = Path(path)
    _, meta = open_model(path, "cpu")  # validates the file
    sess = make_session(path, "cpu")
    arch = meta.training.get("architecture")
    flops = decoder_flops(arch) if isinstance(arch, dict) else None
    result: dict[str, Any] = {
        "model": meta.name, "path": str(path), "latent_dim": meta.latent_dim,
        "image": "x".join(str(v) for v in meta.image_shape), "provider": provider_label(sess),
        "flops_per_image": flops, "flop_method": FLOP_METHOD, "batches": {}, "notes": [],
    }
    runners: dict[str, Any] = {}
    torch_mod = None
    try:
        import torch as torch_mod
    except ImportError:
        result["notes"].append("torch is not installed: onnxruntime only")
    if torch_mod is not None:
        try:
            eager, ts = load_torch_decoders(path, meta)
            runners = {"torch_eager": eager, "torchscript": ts}
            result["torch_threads"] = torch_mod.get_num_threads()
        except DecodeBenchError as exc:
            result["notes"].append(f"{exc}: onnxruntime only")
    rng = np.random.default_rng(seed)
    for n in batches:
        z = rng.standard_normal((n, meta.latent_dim)).astype(np.float32)  # (N, D)
        row: dict[str, Any] = {}
        feed = {DECODER_INPUT: z}
        row["onnxruntime"] = stats(time_calls(lambda feed=feed: sess.run(None, feed), runs, warmup))
        if runners:
            zt = torch_mod.from_numpy(z)
            for name, module in runners.items():
                row[name] = stats(time_calls(_torch_call(module, zt), runs, warmup))
            if "parity_max_abs" not in result:
                ref = sess.run(None, feed)[0]
                result["parity_max_abs"] = {
                    name: float(np.abs(_torch_call(m, zt)().numpy() - ref).max()) for name, m in runners.items()
                }
        for r in row.values():
            r["images_per_s"] = round(n / (r["median_ms"] / 1000.0), 1) if r["median_ms"] > 0 else None
            r["gflops"] = (round(n * flops / (r["median_ms"] / 1000.0) / 1e9, 3)
                           if flops and r["median_ms"] > 0 else None)
        result["batches"][str(n)] = row
    return result


def default_models() -> dict[str, Path | None]:
    """{name: pretrained/NAME.onnx or None when not shipped (yet)}."""
    out: dict[str, Path | None] = {}
    for name in SHIPPED:
        p = REPO / "pretrained" / f"{name}.onnx"
        out[name] = p if p.is_file() else None
    return out


def run(models: dict[str, Path | None] | None = None, batches: tuple[int, ...] = BATCHES,
        runs: int = RUNS, warmup: int = WARMUP) -> dict[str, Any]:
    """{name: measure_model result | {"skipped": reason}} for each model."""
    from latent_odyssey.game.model.modelfile import ModelFileError

    models = default_models() if models is None else models
    out: dict[str, Any] = {}
    for name, path in models.items():
        if path is None or not Path(path).is_file():
            out[name] = {"skipped": f"{name} is not shipped (yet)" if path is None else f"no file {path}"}
            continue
        try:
            out[name] = measure_model(Path(path), batches, runs, warmup)
        except (ModelFileError, DecodeBenchError) as exc:
            out[name] = {"skipped": str(exc)}
    return out


def table(results: dict[str, Any]) -> str:
    """The results as one aligned table (plus notes and skips underneath)."""
    rows, notes = [], []
    for name, res in results.items():
        if "skipped" in res:
            notes.append(f"  {name}: skipped ({res['skipped']})")
            continue
        label = name if res["model"] == name else f"{name} ({res['model']})"
        for batch, row in res["batches"].items():
            for runtime in RUNTIMES:
                r = row.get(runtime)
                if r is not None:
                    rows.append([label, int(batch), runtime, r["median_ms"], r["p99_ms"], r["images_per_s"], r["gflops"]])
        notes += [f"  {name}: {n}" for n in res["notes"]]
        if res.get("parity_max_abs"):
            parity = ", ".join(f"{k} {v:.1e}" for k, v in res["parity_max_abs"].items())
            notes.append(f"  {name}: max |torch - onnxruntime| {parity}; "
                         f"{(res['flops_per_image'] or 0) / 1e6:.2f} MFLOP per image")
    text = format_table(["model", "batch", "runtime", "median ms", "p99 ms", "images/s", "GFLOP/s"], rows)
    return "\n".join([text, *notes])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, action="append", help="decoder .onnx (repeatable; default: pretrained/)")
    ap.add_argument("--runs", type=int, default=RUNS)
    ap.add_argument("--batches", default=",".join(map(str, BATCHES)), help="comma-separated batch sizes")
    args = ap.parse_args(argv)
    try:
        batches = tuple(int(b) for b in args.batches.split(","))
        if min(batches) < 1 or args.runs < 1:
            raise ValueError
    except ValueError:
        print("decode_latency: --batches must be positive integers like 1,9,17,33 and --runs at least 1.",
              file=sys.stderr)
        return 2
    models = None if not args.model else {p.name.removesuffix(".onnx"): p for p in args.model}
    print(table(run(models, batches, args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
