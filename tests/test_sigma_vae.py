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



def test_the_guide_pulls_only_its_own_dims_toward_scaled_labels():
    from latent_odyssey.train.guide import (
        GUIDE_NATS,
        GUIDE_SCALE,
        guide_dims,
        guide_nats,
        guide_targets,
    )

    attrs = torch.tensor([[-1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 1.0], [0.0, 0.5, 0.5, 0.0]])  # (B, 4)
    t = guide_targets(attrs, ("smile", "age"))  # (B, 2)
    assert torch.allclose(t, GUIDE_SCALE * torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]))
    assert guide_dims(8, ("smile", "age")) == [7, 6]
    mu = torch.zeros((3, 8), requires_grad=True)
    with torch.no_grad():
        mu[:, 7], mu[:, 6] = t[:, 0], t[:, 1]
    assert float(guide_nats(mu, attrs, ("smile", "age")).detach()) == 0.0
    loss = guide_nats(mu + 0.1, attrs, ("smile", "age"))
    assert float(loss.detach()) == pytest.approx(GUIDE_NATS * 2 * 0.01)
    loss.backward()
    assert torch.count_nonzero(mu.grad[:, :6]) == 0 and torch.all(mu.grad[:, 6:] > 0)


def test_a_guided_run_logs_the_guide_apart_and_stops_it_at_guide_until(tmp_path):
    import dataclasses

    from latent_odyssey.train.checkpoint import load
    from latent_odyssey.train.trainer import train

    cfg = dataclasses.replace(PRESETS["faces"], epochs=2, limit=128, faces_test=64, batch_size=32, iw_k=0,
                              guide=("smile",), guide_until=1.0)
    metrics = train(cfg, tmp_path / "run", progress=False, report=False)
    rows = load(tmp_path / "run" / "checkpoint.pt")["history"]
    assert "guide" in rows[0] and rows[0]["guide"] > 0 and "guide" not in rows[1]
    assert math.isfinite(metrics["neg_elbo_nats"]) and "guide" not in metrics
    # resumed without --guide: the run keeps its guide, so the model file still says which epochs were guided
    train(dataclasses.replace(cfg, epochs=3, guide=(), guide_until=0.0), tmp_path / "run", resume=True,
          progress=False, report=False)
    state = load(tmp_path / "run" / "checkpoint.pt")
    assert list(state["config"]["guide"]) == ["smile"] and state["config"]["guide_until"] == 1.0
    assert "guide" not in state["history"][2]
