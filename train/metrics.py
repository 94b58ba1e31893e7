"""Honest test-set metrics: β = 1 negative ELBO (one sample), its parts, KL per dimension,
5-NN accuracy of test μ against train μ, and the importance-weighted log-likelihood
(Burda et al., "Importance Weighted Autoencoders", ICLR 2016, eq. 8).
"""

from __future__ import annotations

import math

import torch

from latent_odyssey.train.loss import kl_per_dim, recon_nats
from latent_odyssey.train.models import ConvVAE

EVAL_BATCH = 1000
EVAL_SEED = 1234  # fixed noise for the one-sample ELBO
BINARIZE_SEED = 4321  # the fixed stochastic binarization of the test set


@torch.no_grad()
def encode_all(model: ConvVAE, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x (N, C, H, W) -> mu, logvar (N, D), in eval mode, batched."""
    model.eval()
    mus, logvars = [], []
    for i in range(0, len(x), EVAL_BATCH):
        mu, lv = model.encode(x[i : i + EVAL_BATCH])
        mus.append(mu)
        logvars.append(lv)
    return torch.cat(mus), torch.cat(logvars)


@torch.no_grad()
def elbo_parts(
    model: ConvVAE, x: torch.Tensor, loss: str, mse_sigma: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image reconstruction nats (N,) and KL per dimension (N, D), one fixed-noise sample."""
    model.eval()
    gen = torch.Generator(device=x.device).manual_seed(EVAL_SEED)
    recs, kls = [], []
    for i in range(0, len(x), EVAL_BATCH):
        xb = x[i : i + EVAL_BATCH]
        mu, lv = model.encode(xb)
        eps = torch.randn(mu.shape, generator=gen, device=mu.device)
        z = mu + torch.exp(0.5 * lv) * eps
        recs.append(recon_nats(model.decode_raw(z), xb, loss, model.decoder_sigma(mse_sigma)))
        kls.append(kl_per_dim(mu, lv))
    return torch.cat(recs), torch.cat(kls)


@torch.no_grad()
def knn_accuracy(
    train_mu: torch.Tensor, train_y: torch.Tensor, test_mu: torch.Tensor, test_y: torch.Tensor,
    k: int = 5,
) -> float:
    """Fraction of test points whose k nearest train points (Euclidean in μ) vote their label."""
    correct = 0
    for i in range(0, len(test_mu), EVAL_BATCH):
        d = torch.cdist(test_mu[i : i + EVAL_BATCH], train_mu)  # (B, N_train)
        idx = d.topk(k, largest=False).indices  # (B, k)
        votes = train_y[idx]  # (B, k)
        pred = torch.mode(votes, dim=1).values
        correct += int((pred == test_y[i : i + EVAL_BATCH]).sum())
    return correct / len(test_mu)


def fixed_binarization(x: torch.Tensor) -> torch.Tensor:
    """One fixed stochastic binarization of x in [0, 1] (seeded, so runs compare)."""
    gen = torch.Generator(device=x.device).manual_seed(BINARIZE_SEED)
    return torch.bernoulli(x, generator=gen)


@torch.no_grad()
def iw_log_likelihood(
    model: ConvVAE, x: torch.Tensor, k: int, loss: str, mse_sigma: float, chunk: int = 20000
) -> float:
    """Mean importance-weighted estimate of log p(x) in nats over x (N, C, H, W), k samples."""
    model.eval()
    gen = torch.Generator(device=x.device).manual_seed(EVAL_SEED)
    per_image = max(1, chunk // k)
    total = 0.0
    log_k = math.log(k)
    for i in range(0, len(x), per_image):
        xb = x[i : i + per_image]  # (B, C, H, W)
        mu, lv = model.encode(xb)  # (B, D)
        std = torch.exp(0.5 * lv)
        eps = torch.randn((k, *mu.shape), generator=gen, device=x.device)  # (k, B, D)
        z = mu + std * eps
        log_q = (-0.5 * eps.pow(2) - 0.5 * lv - 0.5 * math.log(2 * math.pi)).sum(-1)  # (k, B)
        log_pz = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)  # (k, B)
        raw = model.decode_raw(z.reshape(-1, z.shape[-1]))  # (k*B, C, H, W)
        xk = xb.unsqueeze(0).expand(k, *xb.shape).reshape(-1, *xb.shape[1:])
        log_px = -recon_nats(raw, xk, loss, model.decoder_sigma(mse_sigma)).reshape(k, -1)  # (k, B)
        w = log_px + log_pz - log_q
        total += float((torch.logsumexp(w, 0) - log_k).sum())
    return total / len(x)


def evaluate(
    model: ConvVAE, cfg, train_x: torch.Tensor, train_y: torch.Tensor | None,
    test_x: torch.Tensor, test_y: torch.Tensor | None,
) -> dict:
    """All test-set metrics as a JSON-able dict (β = 1)."""
    x_eval = fixed_binarization(test_x) if cfg.binarize else test_x
    rec, kl = elbo_parts(model, x_eval, cfg.loss, cfg.mse_sigma)
    out: dict = {
        "test_images": len(test_x),
        "neg_elbo_nats": float(rec.mean() + kl.sum(1).mean()),
        "recon_nats": float(rec.mean()),
        "kl_nats": float(kl.sum(1).mean()),
        "kl_per_dim_nats": [float(v) for v in kl.mean(0)],
        "binarized": bool(cfg.binarize),
        "loss": cfg.loss,
    }
    if train_y is not None and test_y is not None:
        train_mu, _ = encode_all(model, train_x)
        test_mu, _ = encode_all(model, test_x)
        out["knn5_accuracy"] = knn_accuracy(train_mu, train_y, test_mu, test_y)
    if cfg.binarize and cfg.iw_k > 0:
        n = len(x_eval) if cfg.iw_limit is None else min(cfg.iw_limit, len(x_eval))
        out["iw_k"] = cfg.iw_k
        out["iw_test_images"] = n
        out["iw_log_likelihood_nats"] = iw_log_likelihood(
            model, x_eval[:n], cfg.iw_k, cfg.loss, cfg.mse_sigma
        )
    return out
