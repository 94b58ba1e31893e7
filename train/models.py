"""The three VAEs of Latent Odyssey, built from one config dataclass.

Every shape is computed from :class:`ModelConfig`; the config is saved inside the checkpoint
(``asdict``) so a checkpoint rebuilds its own model.

Presets (``PRESET_CONFIGS``), all built by :func:`build_model` as one ``ConvVAE`` class:

* ``vae2d``  MNIST-like 28x28 grey -> 2-D latent, about 1.3M parameters.
* ``vae3d``  deeper encoder with BatchNorm -> 3-D latent, about 2M parameters.
* ``vae3d-res``  ``vae3d`` with a residual block after each decoder upsampling (more decoder capacity).
* ``face``   64x64 RGB, 5-layer conv encoder with BatchNorm -> 128-D latent, Tanh output.
* ``face-sharp``  the same encoder, a decoder with a residual block after every upsampling and
  a *learned* decoder standard deviation σ (a σ-VAE: Rybkin, Daniilidis & Levine, "Simple and
  Effective VAE Training with Calibrated Decoders", ICML 2021). A Gaussian decoder with a fixed
  σ = 0.1 weighs reconstruction far too little against the KL term for 64x64 faces, which is
  why its decodes are soft; learning σ (one scalar, trained with the ELBO, bounded below by
  ``MIN_DECODER_SIGMA``) lets the likelihood find its own balance, and the ELBO stays honest
  (σ is a parameter of p(x|z), the same at test time).

Images enter the encoder in [0, 1]. ``decode_raw`` returns the decoder's pre-image output
(logits for ``sigmoid`` models, a Tanh value in [-1, 1] for ``tanh`` models); ``decode``
maps it to an image in [0, 1], which is what export writes into the ONNX graph.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch
from torch import nn


@dataclass
class ModelConfig:
    """Architecture settings; stored in the checkpoint and the model card."""

    arch: str = "vae2d"  # vae2d | vae3d | face
    latent_dim: int = 2
    channels: int = 1  # image channels
    image_size: int = 28  # square images
    conv: list[int] = field(default_factory=lambda: [32, 64])  # stride-2 conv widths
    extra_conv: bool = False  # a stride-1 3x3 conv at the bottom (deeper models)
    hidden: int = 200  # width of the fully connected layer
    batchnorm: bool = False
    output: str = "sigmoid"  # sigmoid (Bernoulli logits) | tanh (Gaussian mean in [-1, 1])
    res_blocks: int = 0  # residual 3x3 blocks after each decoder upsampling (capacity)
    learned_sigma: bool = False  # Gaussian decoder σ learned (σ-VAE) instead of TrainConfig.mse_sigma

    def to_dict(self) -> dict:
        return asdict(self)


PRESET_CONFIGS: dict[str, ModelConfig] = {
    "vae2d": ModelConfig(),  # the mnist-2d preset's plain network
    "vae2d-deep": ModelConfig(  # the shipped mnist-2d (odyssey-train mnist-2d --network vae2d-deep): vae3d's with a 2-D latent
        arch="vae2d", latent_dim=2, conv=[32, 64], extra_conv=True, hidden=256, batchnorm=True
    ),
    "vae3d": ModelConfig(
        arch="vae3d", latent_dim=3, conv=[32, 64], extra_conv=True, hidden=256, batchnorm=True
    ),
    "vae3d-res": ModelConfig(  # vae3d with a residual 3x3 block after each decoder upsampling (decoder capacity)
        arch="vae3d", latent_dim=3, conv=[32, 64], extra_conv=True, hidden=256, batchnorm=True, res_blocks=1
    ),
    "face": ModelConfig(
        arch="face", latent_dim=128, channels=3, image_size=64,
        conv=[32, 64, 128, 128, 256], hidden=512, batchnorm=True, output="tanh",
    ),
    "face-sharp": ModelConfig(
        arch="face", latent_dim=128, channels=3, image_size=64,
        conv=[32, 64, 128, 128, 256], hidden=512, batchnorm=True, output="tanh",
        res_blocks=1, learned_sigma=True,
    ),
}
MIN_DECODER_SIGMA = 1e-3  # floor of a learned decoder σ, in [0, 1] pixel units (1/4 of a grey level)
INIT_DECODER_SIGMA = 0.1  # a learned σ starts at the fixed-σ models' value


class ResBlock(nn.Module):
    """x + conv3x3(LReLU(norm(conv3x3(x)))), shape-preserving (N, C, H, W)."""

    def __init__(self, cfg: ModelConfig, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(width, width, 3, 1, 1), _norm(cfg, width), nn.LeakyReLU(0.2),
            nn.Conv2d(width, width, 3, 1, 1), _norm(cfg, width),
        )
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x + self.body(x))  # (N, C, H, W)


def _norm(cfg: ModelConfig, width: int) -> nn.Module:
    return nn.BatchNorm2d(width) if cfg.batchnorm else nn.Identity()


class ConvVAE(nn.Module):
    """Conv encoder -> (mu, logvar) -> reparameterised z -> transposed-conv decoder."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n_down = len(cfg.conv)
        if cfg.image_size % (2**n_down):
            raise ValueError(f"image_size {cfg.image_size} is not divisible by 2**{n_down}.")
        self.bottom = cfg.image_size // (2**n_down)  # spatial size after the encoder
        flat = cfg.conv[-1] * self.bottom * self.bottom

        enc: list[nn.Module] = []
        c_in = cfg.channels
        for width in cfg.conv:  # each halves H and W
            enc += [nn.Conv2d(c_in, width, 4, 2, 1), _norm(cfg, width), nn.LeakyReLU(0.2)]
            c_in = width
        if cfg.extra_conv:
            enc += [nn.Conv2d(c_in, c_in, 3, 1, 1), _norm(cfg, c_in), nn.LeakyReLU(0.2)]
        enc += [nn.Flatten(), nn.Linear(flat, cfg.hidden), nn.LeakyReLU(0.2)]
        self.encoder = nn.Sequential(*enc)
        self.to_mu = nn.Linear(cfg.hidden, cfg.latent_dim)
        self.to_logvar = nn.Linear(cfg.hidden, cfg.latent_dim)

        dec: list[nn.Module] = [
            nn.Linear(cfg.latent_dim, cfg.hidden), nn.LeakyReLU(0.2),
            nn.Linear(cfg.hidden, flat), nn.LeakyReLU(0.2),
            nn.Unflatten(1, (cfg.conv[-1], self.bottom, self.bottom)),
        ]
        widths = list(reversed(cfg.conv))
        if cfg.extra_conv:
            dec += [nn.ConvTranspose2d(widths[0], widths[0], 3, 1, 1), _norm(cfg, widths[0]), nn.LeakyReLU(0.2)]
        for w_in, w_out in zip(widths, widths[1:], strict=False):
            dec += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1), _norm(cfg, w_out), nn.LeakyReLU(0.2)]
            dec += [ResBlock(cfg, w_out) for _ in range(cfg.res_blocks)]
        dec.append(nn.ConvTranspose2d(widths[-1], cfg.channels, 4, 2, 1))
        if cfg.output == "tanh":
            dec.append(nn.Tanh())
        self.decoder = nn.Sequential(*dec)
        if cfg.learned_sigma:  # log σ of the Gaussian decoder, a parameter of p(x|z)
            self.log_sigma = nn.Parameter(torch.tensor(math.log(INIT_DECODER_SIGMA)))

    def decoder_sigma(self, fixed: float) -> torch.Tensor | float:
        """The Gaussian decoder's σ: the learned one (bounded below by MIN_DECODER_SIGMA) for
        ``learned_sigma`` models, else ``fixed`` (TrainConfig.mse_sigma)."""
        if not self.cfg.learned_sigma:
            return fixed
        return self.log_sigma.exp().clamp_min(MIN_DECODER_SIGMA)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (N, C, H, W) in [0, 1] -> mu, logvar (N, D)."""
        if self.cfg.output == "tanh":
            x = x * 2.0 - 1.0
        h = self.encoder(x)  # (N, hidden)
        return self.to_mu(h), self.to_logvar(h)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I) (Kingma & Welling 2014, sec. 2.4)."""
        return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, D) -> logits (sigmoid models) or Tanh output (tanh models), (N, C, H, W)."""
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, D) -> image (N, C, H, W) in [0, 1]."""
        raw = self.decode_raw(z)
        return torch.sigmoid(raw) if self.cfg.output == "sigmoid" else (raw + 1.0) * 0.5

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (N, C, H, W) -> (decoder raw output, mu, logvar)."""
        mu, logvar = self.encode(x)
        return self.decode_raw(self.reparameterize(mu, logvar)), mu, logvar


def build_model(cfg: ModelConfig) -> ConvVAE:
    """Rebuild a model from its config (as stored in a checkpoint)."""
    return ConvVAE(cfg)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
