"""Re-make a shipped model's ``NAME.pt`` and ``NAME.md`` from its shipped files alone.

    python -m latent_odyssey.export.reship pretrained/mnist-2d [pretrained/faces ...]

No training checkpoints ship with the repository, so this is how the TorchScript files and
cards of ``pretrained/`` follow a change of their format. The weights are the trained VAE's own
state dict, read from the shipped ``NAME.pt`` (every exporter version saved the whole VAE under
``vae.*``); the architecture and the metadata come from ``NAME.onnx``. The rebuilt VAE is
checked against the shipped ONNX decoder and encoder (``exporter.verify``: onnx.checker, then
max |torch - onnxruntime| <= ``PARITY_ATOL`` on random and encoded latents, and the new
TorchScript file reloaded with its metadata) before anything is replaced; the ONNX files are
only read. Prints the measured differences.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from latent_odyssey.export.card import model_card
from latent_odyssey.export.exporter import ExportError, verify
from latent_odyssey.export.torchscript import quiet_jit, save_torchscript
from latent_odyssey.game.atomic import atomic_path, write_text
from latent_odyssey.game.cliutil import OneSentenceParser
from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta, open_model
from latent_odyssey.train.models import ConvVAE, ModelConfig

PROBE_IMAGES = 16  # decoded sample points fed to the encoder check
STATE_PREFIX = "vae."  # key prefix of the VAE's weights inside the TorchScript files


def rebuild_vae(pt_path: Path, meta: ModelMeta) -> ConvVAE:
    """The trained VAE, from the weights in ``pt_path`` and the architecture in ``meta``."""
    try:
        with quiet_jit():
            state = torch.jit.load(str(pt_path), map_location="cpu").state_dict()
    except (RuntimeError, ValueError, OSError) as exc:
        raise ExportError(f"{pt_path} is not a readable TorchScript file ({type(exc).__name__}).") from None
    vae = ConvVAE(ModelConfig(**meta.training["architecture"]))
    weights = {k[len(STATE_PREFIX):]: v for k, v in state.items() if k.startswith(STATE_PREFIX)}
    try:
        vae.load_state_dict(weights)
    except RuntimeError:
        raise ExportError(f"{pt_path} holds weights that do not fit the architecture in its .onnx metadata.") from None
    return vae.eval()


def reship(prefix: Path) -> tuple[float, float, float]:
    """Rewrite ``PREFIX.pt`` and ``PREFIX.md``; returns the max errors (decoder, encoder, TorchScript)."""
    dec, enc, pt = (prefix.with_name(prefix.name + s) for s in (".onnx", ".encoder.onnx", ".pt"))
    for p in (dec, enc, pt):
        if not p.is_file():
            raise ExportError(f"{p} does not exist.")
    sess, meta = open_model(dec, "cpu")
    vae = rebuild_vae(pt, meta)
    samples, _ = meta.sample_array()  # (M, D)
    probe = sess.run(None, {"z": samples[:PROBE_IMAGES]})[0]  # (P, C, H, W) realistic encoder inputs
    with atomic_path(pt, ".pt") as tmp:
        save_torchscript(vae, meta, tmp)
        errs = verify(dec, enc, tmp, vae, torch.from_numpy(np.ascontiguousarray(probe)), meta)
    files = {"decoder": dec.name, "encoder": enc.name, "torchscript": pt.name, "report": f"{prefix.name}.report.png"}
    has_report = prefix.with_name(files["report"]).is_file()
    note = (f"These files were remade from the shipped ones by `export.reship`: the torch side is the VAE "
            f"rebuilt from the weights of the previous `{pt.name}`, checked against the unchanged ONNX files.")
    write_text(prefix.with_name(prefix.name + ".md"), model_card(meta, errs, files, has_report, note))
    return errs


class _Parser(OneSentenceParser):
    command = "reship"


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="python -m latent_odyssey.export.reship", description=__doc__.split("\n")[0])
    p.add_argument("prefixes", nargs="+", type=Path, metavar="PREFIX", help="e.g. pretrained/mnist-2d")
    args = p.parse_args(argv)
    for prefix in args.prefixes:
        try:
            errs = reship(prefix)
        except (ExportError, ModelFileError) as exc:
            print(f"reship: {exc}", file=sys.stderr)
            return 1
        print(f"{prefix}: max |torch - onnxruntime| decoder {errs[0]:.2e}, encoder {errs[1]:.2e}; "
              f"TorchScript decode/encode {errs[2]:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
