"""``odyssey-export CHECKPOINT --out pretrained/NAME``: export and verify a trained VAE."""

from __future__ import annotations

import sys
from pathlib import Path

from latent_odyssey.game.cliutil import OneSentenceParser


class _Parser(OneSentenceParser):
    command = "odyssey-export"
    help_hint = False


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="odyssey-export", description="Export a checkpoint to ONNX + TorchScript, verified.")
    p.add_argument("checkpoint", type=Path, help="checkpoint.pt from odyssey-train")
    p.add_argument("--out", type=Path, required=True, help="output prefix, e.g. pretrained/mnist-2d")
    p.add_argument("--data-dir", type=Path, help="data set folder (for centroids and the sample map)")
    args = p.parse_args(argv)

    from latent_odyssey.export.exporter import ExportError, export_checkpoint
    from latent_odyssey.game.model.modelfile import ModelFileError
    from latent_odyssey.train.checkpoint import CheckpointError
    from latent_odyssey.train.data import DataError

    attributes_fn = None
    try:
        from latent_odyssey.export import attributes

        attributes_fn = attributes.directions_for_export
    except ImportError:
        pass
    try:
        res = export_checkpoint(args.checkpoint, args.out, args.data_dir, attributes_fn=attributes_fn)
    except (ExportError, CheckpointError, DataError, ModelFileError) as exc:
        sys.stderr.write(f"odyssey-export: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"odyssey-export: cannot write {args.out}: {exc.strerror or exc}.\n")
        return 1
    for kind, path in res.files.items():
        if path.exists():
            print(f"{kind:12s} {path}  ({path.stat().st_size / 1e6:.2f} MB)")
    print(
        f"parity max|err|: decoder {res.decoder_max_err:.2e}, encoder {res.encoder_max_err:.2e}, "
        f"TorchScript {res.torchscript_max_err:.2e}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
