"""The σ-VAE faces preset (issue 14): a learned decoder σ that is part of an honest ELBO."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from latent_odyssey.train.config import PRESETS  # noqa: E402
from latent_odyssey.train.loss import recon_nats  # noqa: E402
from latent_odyssey.train.models import INIT_DECODER_SIGMA, MIN_DECODER_SIGMA, build_model  # noqa: E402


def test_gaussian_nll_is_the_same_for_a_float_and_a_tensor_sigma():
    gen = torch.Generator().manual_seed(0)
    raw = torch.rand((3, 3, 8, 8), generator=gen) * 2 - 1  # (N, C, H, W) Tanh output
    x = torch.rand((3, 3, 8, 8), generator=gen)
    a = recon_nats(raw, x, "mse", 0.07)
    b = recon_nats(raw, x, "mse", torch.tensor(0.07))
    mean = (raw + 1) / 2
    want = (0.5 * ((x - mean) / 0.07) ** 2 + math.log(0.07 * math.sqrt(2 * math.pi))).flatten(1).sum(1)
    assert torch.allclose(a, want, rtol=1e-5) and torch.allclose(b, want, rtol=1e-5)


def test_the_sharp_preset_learns_its_decoder_sigma_towards_the_reconstruction_error():
    cfg = PRESETS["faces-sharp"]
    assert cfg.model.learned_sigma and cfg.model.res_blocks >= 1 and cfg.loss == "mse"
    torch.manual_seed(0)
    model = build_model(cfg.model)
    assert float(torch.as_tensor(model.decoder_sigma(cfg.mse_sigma)).detach()) == pytest.approx(INIT_DECODER_SIGMA)
    assert build_model(PRESETS["faces"].model).decoder_sigma(0.1) == 0.1  # fixed-σ models unchanged
    x = torch.rand((4, 3, 64, 64))
    opt = torch.optim.Adam([model.log_sigma], lr=0.05)  # only σ: the decoder's error stays put
    for _ in range(60):
        raw, _, _ = model(x)
        loss = recon_nats(raw.detach(), x, "mse", model.decoder_sigma(cfg.mse_sigma)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    rmse = float(((x - (raw.detach() + 1) / 2) ** 2).mean().sqrt())  # the ML estimate of σ
    sigma = float(torch.as_tensor(model.decoder_sigma(cfg.mse_sigma)).detach())
    assert sigma > INIT_DECODER_SIGMA and abs(sigma - rmse) / rmse < 0.1, (sigma, rmse)
    model.log_sigma.data.fill_(math.log(1e-6))
    assert float(torch.as_tensor(model.decoder_sigma(cfg.mse_sigma)).detach()) == pytest.approx(MIN_DECODER_SIGMA)  # bounded below
