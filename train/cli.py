"""``odyssey-train PRESET`` (also ``python -m latent_odyssey.train``): train a VAE and write its report.

Example smoke run::

    odyssey-train mnist-2d --data-dir ../shared/data/mnist --epochs 1 --limit 2000 --out runs/smoke

On several processes (DistributedDataParallel; ``train.distributed``), the same command under torchrun::

    torchrun --nproc_per_node=2 -m latent_odyssey.train mnist-2d --out runs/ddp
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from latent_odyssey.game.cliutil import (
    OneSentenceParser,
    Stopped,
    int_at_least,
    non_negative_float,
    seed_int,
    signal_name,
    stop_on_signals,
)
from latent_odyssey.train import distributed
from latent_odyssey.train.config import PRECISIONS, PRESETS, TrainConfig, with_flags
from latent_odyssey.train.models import PRESET_CONFIGS, ModelConfig

MAX_IW_K = 20_000  # importance samples per image: the estimate decodes 20,000 images per batch


class _Parser(OneSentenceParser):
    command = "odyssey-train"
    help_hint = False


_positive_int = int_at_least(1, too_small="must be positive")


def _guide_names(text: str) -> tuple[str, ...]:
    """``--guide smile,age`` -> ("smile", "age"); an unknown or repeated name is refused."""
    from latent_odyssey.train.faces import ATTRIBUTES

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names or any(n not in ATTRIBUTES for n in names) or len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"must name distinct attributes among {', '.join(ATTRIBUTES)} "
                                         f"(got {text!r})")
    return names


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="odyssey-train", description="Train a Latent Odyssey VAE.")
    p.add_argument("preset", choices=sorted(PRESETS), help="what to train")
    p.add_argument("--data-dir", type=Path, help="folder holding the data set files")
    p.add_argument("--epochs", type=_positive_int)
    p.add_argument("--batch-size", type=_positive_int)
    p.add_argument("--lr", type=non_negative_float)
    p.add_argument("--beta-max", type=non_negative_float)
    p.add_argument("--warmup-epochs", type=non_negative_float)
    p.add_argument("--loss", choices=["bce", "mse"])
    p.add_argument("--binarize", action="store_true", help="stochastic binarization (literature comparison)")
    p.add_argument("--binarize-train", action="store_true",
                   help="stochastic binarization of the training batches only, as noise; metrics on the grey test set")
    p.add_argument("--iw-k", type=int_at_least(0, "--iw-k", maximum=MAX_IW_K),
                   help=f"samples for the importance-weighted log-likelihood (default 1000; 0: off; at most {MAX_IW_K})")
    p.add_argument("--iw-limit", type=_positive_int, help="test images for the IW estimate (default: all)")
    p.add_argument("--limit", type=_positive_int, help="use the first N training images (smoke runs)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"])
    p.add_argument("--network", choices=sorted(PRESET_CONFIGS),
                   help="another network of the same latent size and images than the preset's "
                        "(the shipped mnist-2d: vae2d-deep)")
    p.add_argument("--precision", choices=list(PRECISIONS),
                   help="fp32 (default) or bf16 mixed precision: much faster on CPUs with AMX / AVX-512 "
                        "BF16 and on recent GPUs; weights, loss and metrics stay float32")
    p.add_argument("--guide", type=_guide_names, metavar="ATTR[,ATTR]",
                   help="faces: pull the last latent dims toward these attribute labels (smile, age, gender, "
                        "glasses) until --guide-until, so the model learns them (train/guide.py)")
    p.add_argument("--guide-until", type=non_negative_float, metavar="EPOCH",
                   help="the epoch the guide stops at (default: the end of the β warm-up)")
    p.add_argument("--seed", type=seed_int)
    p.add_argument("--out", type=Path, help="output folder (default runs/PRESET)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.pt with the run's own settings; flags given with it change them")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--live", action="store_true",
                   help="after every epoch write a playable OUT/live/model.onnx (watch with: odyssey --live OUT)")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``odyssey-train``: every failure is one sentence and an exit status
    (under torchrun, said once, by rank 0)."""
    return distributed.run_cli_once("odyssey-train", lambda: run(build_parser().parse_args(argv)))


def run(args: argparse.Namespace) -> int:
    """Train as ``args`` say; refuses to overwrite an earlier run without ``--resume``."""
    flags = {
        k: v for k, v in {
            "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
            "beta_max": args.beta_max, "warmup_epochs": args.warmup_epochs, "loss": args.loss,
            "limit": args.limit, "device": args.device, "seed": args.seed, "iw_k": args.iw_k,
            "iw_limit": args.iw_limit, "precision": args.precision, "guide": args.guide,
            "guide_until": args.guide_until,
        }.items() if v is not None
    }
    if args.binarize:
        flags["binarize"] = True
    if args.binarize_train:
        flags["binarize_train"] = True
    out = args.out or Path("runs") / args.preset

    from latent_odyssey.train.trainer import TrainingError, train

    if args.network:
        flags["model"] = _network(args.network, args.preset, PRESETS[args.preset].model)
    cfg = with_flags(PRESETS[args.preset], flags)

    if out.exists() and not out.is_dir():
        raise TrainingError(f"--out {out} is a file; give a folder for the run.")
    if (out / "checkpoint.pt").exists() and not args.resume:
        raise TrainingError(f"{out} already holds a training run (checkpoint.pt); pass --resume to continue "
                            f"it or choose another --out, so that it is not overwritten.")
    stop_on_signals()  # SIGTERM / SIGHUP raise Stopped, which cleans up like Ctrl-C does
    try:
        with _live(args.live and distributed.speaks(), out, cfg, args.resume) as on_epoch:
            metrics = train(cfg, out, data_dir=args.data_dir, resume=args.resume, progress=not args.no_progress,
                            on_epoch=on_epoch, flags=flags)
    except KeyboardInterrupt:
        raise Stopped(signal.SIGINT, _stopped_message("Interrupted", out)) from None
    except Stopped as exc:
        raise Stopped(exc.signum, _stopped_message(f"Stopped by {signal_name(exc.signum)}", out)) from None
    if metrics:  # rank 0 (the other ranks of a torchrun job return no metrics)
        print(_summary(metrics, out))
    return 0


def _network(name: str, preset: str, base: ModelConfig) -> ModelConfig:
    """``--network NAME`` for ``preset``: it must take the same images and latent size."""
    from latent_odyssey.train.trainer import TrainingError

    net = PRESET_CONFIGS[name]
    if (net.latent_dim, net.channels, net.image_size) != (base.latent_dim, base.channels, base.image_size):
        raise TrainingError(f"--network {name} has a {_shape(net)}; {preset} needs a {_shape(base)}.")
    return net


def _shape(m: ModelConfig) -> str:
    return f"{m.latent_dim}-D latent over {m.channels}-channel {m.image_size}x{m.image_size} images"


@contextmanager
def _live(live: bool, out: Path, cfg: TrainConfig, resume: bool) -> Iterator[Callable | None]:
    """``--live``: a ``train.live.LiveExport`` hook around training; else no hook."""
    if not live:
        yield None
        return
    from latent_odyssey.train.live import LiveExport

    with LiveExport(out, cfg).running(resume) as hook:
        yield hook


def _stopped_message(what: str, out: Path) -> str:
    ckpt = out / "checkpoint.pt"
    if ckpt.is_file():
        return f"{what}; the last completed epoch is in {ckpt} (continue with --resume)."
    return f"{what} before the first epoch ended; nothing was kept."


def _summary(m: dict, out: Path) -> str:
    parts = [
        f"{m['preset']}: test -ELBO {m['neg_elbo_nats']:.2f} nats "
        f"(recon {m['recon_nats']:.2f} + KL {m['kl_nats']:.2f})",
    ]
    if "knn5_accuracy" in m:
        parts.append(f"5-NN acc {m['knn5_accuracy']:.4f}")
    if "iw_log_likelihood_nats" in m:
        parts.append(f"IW-LL(k={m['iw_k']}) {m['iw_log_likelihood_nats']:.2f} nats")
    parts.append(f"{m['epochs']} epochs, {m['train_seconds_this_run']:.0f} s -> {out}")
    return ", ".join(parts)


if __name__ == "__main__":
    raise SystemExit(main())
