"""The VAE objective: reconstruction + β·KL (Kingma & Welling, "Auto-Encoding Variational
Bayes", ICLR 2014, eq. 10; β as in Higgins et al., ICLR 2017).

All terms are in nats per image (summed over pixels and latent dimensions, averaged over the
batch), so the β = 1 value is the negative ELBO the literature reports.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def recon_nats(raw: torch.Tensor, x: torch.Tensor, loss: str, mse_sigma: float | torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood per image, (N,).

    raw: decoder output (N, C, H, W): Bernoulli logits for ``bce``, Tanh mean in [-1, 1] for
    ``mse``; x: targets (N, C, H, W) in [0, 1].
    ``mse`` is a Gaussian with std ``mse_sigma`` (in [0, 1] pixel units; a float, or a scalar
    tensor when the decoder learns it, see ``ConvVAE.decoder_sigma``), including its
    normalising constant, so it is a true NLL in nats.
    """
    if loss == "bce":
        nll = F.binary_cross_entropy_with_logits(raw, x, reduction="none")
    elif loss == "mse":
        mean = (raw + 1.0) * 0.5
        sigma = torch.as_tensor(mse_sigma, dtype=raw.dtype, device=raw.device)
        nll = 0.5 * ((x - mean) / sigma) ** 2 + torch.log(sigma) + 0.5 * math.log(2 * math.pi)
    else:
        raise ValueError(f"Unknown loss {loss!r}; use bce or mse.")
    return nll.flatten(1).sum(1)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) per latent dimension, (N, D): ½(μ² + σ² − 1 − log σ²)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def beta_at(epoch_progress: float, beta_max: float, warmup_epochs: float) -> float:
    """Linear warm-up of β from 0 to ``beta_max`` over ``warmup_epochs`` (fractional epochs)."""
    if warmup_epochs <= 0:
        return beta_max
    return beta_max * min(1.0, epoch_progress / warmup_epochs)
