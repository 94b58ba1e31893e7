"""``NAME.pt``: the whole VAE as TorchScript, with the model file's metadata inside.

Contract of the saved module (``torch.jit.load(path)``; C++ ``torch::jit::load``):

* ``decode(z)``  z float32 ``[N, D]`` -> image float32 ``[N, C, H, W]`` in [0, 1] (the ONNX
  decoder's contract); ``forward`` is ``decode``, so ``module(z)`` works too.
* ``encode(x)``  image float32 ``[N, C, H, W]`` in [0, 1] -> ``(mu, logvar)``, each ``[N, D]``
  (the ONNX encoder's contract).
* The archive holds one extra file, :data:`METADATA_FILE` (``latent_odyssey.json``): the same
  JSON object the ONNX decoder carries under ``metadata_props["latent_odyssey"]``. Read it with
  ``torch.jit.load(path, _extra_files={"latent_odyssey.json": ""})`` (the dict is filled in), or
  with :func:`load_torchscript`, which validates it.

The methods are traced (``torch.jit.trace_module``) from the trained ``ConvVAE`` itself, so
they run the training code's own ``encode``/``decode`` (the output mapping to [0, 1] included)
with every shape dynamic in N; nothing of the model is written a second time here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from latent_odyssey.export.card import TORCHSCRIPT_FILE
from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta
from latent_odyssey.train.models import ConvVAE

METADATA_FILE = TORCHSCRIPT_FILE  # "latent_odyssey.json", the extra file inside the archive
TRACE_BATCH = 2  # example batch for tracing (any N works afterwards)


class ScriptableVAE(nn.Module):
    """The VAE with the TorchScript file's three entry points; state dict keys ``vae.*``."""

    def __init__(self, vae: ConvVAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, D) -> image (N, C, H, W) in [0, 1]."""
        return self.vae.decode(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, D) -> image (N, C, H, W) in [0, 1]."""
        return self.vae.decode(z)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, C, H, W) in [0, 1] -> mu, logvar (N, D)."""
        return self.vae.encode(x)


@contextmanager
def quiet_jit() -> Iterator[None]:
    """Silence torch.jit's warnings (deprecated in torch 2.13; tracer notes) inside the block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def save_torchscript(vae: ConvVAE, meta: ModelMeta, path: Path) -> None:
    """Trace ``vae`` (in eval mode) into ``path`` with ``meta`` as :data:`METADATA_FILE`."""
    cfg = vae.cfg
    z = torch.zeros(TRACE_BATCH, cfg.latent_dim)  # (N, D)
    x = torch.full((TRACE_BATCH, cfg.channels, cfg.image_size, cfg.image_size), 0.5)  # (N, C, H, W)
    with quiet_jit(), torch.no_grad():
        traced = torch.jit.trace_module(
            ScriptableVAE(vae.eval()), {"forward": (z,), "decode": (z,), "encode": (x,)},
        )
        torch.jit.save(traced, str(path), _extra_files={METADATA_FILE: meta.to_json()})


def load_torchscript(path: Path) -> tuple[torch.jit.ScriptModule, ModelMeta]:
    """The module and its validated metadata; ModelFileError (one sentence) when the file is
    not TorchScript or carries no Latent Odyssey metadata."""
    extra = {METADATA_FILE: ""}
    try:
        with quiet_jit():
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    except (RuntimeError, ValueError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelFileError(f"{path} is not a readable TorchScript file ({first[:160]}).") from None
    text = extra[METADATA_FILE]
    if not text:
        raise ModelFileError(f"{path} carries no {METADATA_FILE} (made before TorchScript files had metadata?).")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return module.eval(), ModelMeta.from_json(text, str(path))
