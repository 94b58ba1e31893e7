"""``odyssey-export CHECKPOINT --out pretrained/NAME``: export and verify a trained VAE."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from latent_odyssey.game.cliutil import (
    EXIT_FAILURE,
    EXIT_USAGE,
    OneSentenceParser,
    Stopped,
    os_reason,
    run_cli,
    say,
    signal_name,
    stop_on_signals,
)
from latent_odyssey.game.web import commands as web_commands
from latent_odyssey.game.web.site import WebError, write_site


class _Parser(OneSentenceParser):
    command = "odyssey-export"
    help_hint = False


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``odyssey-export``: every failure is one sentence and an exit status."""
    p = _Parser(prog="odyssey-export", description="Export a checkpoint to ONNX + TorchScript, verified.")
    p.add_argument("checkpoint", type=Path, help="checkpoint.pt from odyssey-train")
    p.add_argument("--out", required=True, help="output prefix, e.g. pretrained/mnist-2d")
    p.add_argument("--data-dir", type=Path, help="data set folder (for centroids and the sample map)")
    p.add_argument("--web", type=Path, metavar="DIR", help="also write the model's web page into DIR (see odyssey web)")
    web_commands.add_ort_arguments(p)
    args = p.parse_args(argv)
    return run_cli("odyssey-export", lambda: run(args))


def run(args: argparse.Namespace) -> int:
    """Export as ``args`` say (``--out`` is checked as typed: ``run/`` names a folder)."""
    raw_out, args.out = args.out, Path(args.out)
    try:
        ort_source = web_commands.source_from_args(args)  # a bad --ort-dir fails before the export
    except WebError as exc:
        sys.stderr.write(f"odyssey-export: {exc}\n")
        return EXIT_USAGE

    from latent_odyssey.export.exporter import ExportError, export_checkpoint
    from latent_odyssey.export.inputs import check_out
    from latent_odyssey.game.model.modelfile import ModelFileError

    check_out(args.checkpoint, args.out, raw_out)
    attributes_fn = None
    try:
        from latent_odyssey.export import attributes

        attributes_fn = attributes.directions_for_export
    except ImportError:
        pass
    stop_on_signals()  # SIGTERM / SIGHUP: the staging folder is removed on the way out
    try:
        res = export_checkpoint(args.checkpoint, args.out, args.data_dir, attributes_fn=attributes_fn)
    except ExportError as exc:
        say("odyssey-export", str(exc))
        return EXIT_FAILURE
    except Stopped as exc:
        raise Stopped(exc.signum, f"Stopped by {signal_name(exc.signum)}; the export was not finished and "
                                  f"its staging folder was removed.") from None
    except (OSError, RuntimeError) as exc:  # torch and onnx hide the system's reason as the context
        cause = exc if isinstance(exc, OSError) else exc.__context__
        if not isinstance(cause, OSError):
            raise
        say("odyssey-export", f"Cannot write the export {args.out}: {os_reason(cause)}.")
        return EXIT_FAILURE
    for kind, path in res.files.items():
        if path.exists():
            print(f"{kind:12s} {path}  ({path.stat().st_size / 1e6:.2f} MB)")
    print(
        f"parity max|err|: decoder {res.decoder_max_err:.2e}, encoder {res.encoder_max_err:.2e}, "
        f"TorchScript {res.torchscript_max_err:.2e}"
    )
    if args.web is not None:
        try:
            print(web_commands.describe(write_site(res.files["decoder"], args.web, ort_source)))
        except (WebError, ModelFileError) as exc:
            sys.stderr.write(f"odyssey-export: {exc}\n")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
