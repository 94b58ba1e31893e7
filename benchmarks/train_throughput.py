"""Training throughput: our loop (whole set as one tensor, batches by index) against a plain
``DataLoader`` over a per-sample ``Dataset`` on the same model, same batch size; and our loop
in fp32 against ``--precision bf16`` (``train.precision``: bfloat16 autocast, channels-last).

    python -m benchmarks.train_throughput [--preset mnist-2d] [--steps 60] [--data-dir D]

Prints images/s (median over timed windows) for each and the ratios. bf16 pays off on CPUs
with AMX or AVX-512 BF16 (and recent GPUs); elsewhere PyTorch emulates it and it is slower.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from latent_odyssey.train import precision
from latent_odyssey.train.config import PRESETS
from latent_odyssey.train.loss import kl_per_dim, recon_nats
from latent_odyssey.train.models import build_model

WINDOW_STEPS = 10


class PerSampleDataset(Dataset):
    """The seed's style: one (image, label) pair per __getitem__, converted per sample."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        return torch.tensor(self.images[i]), int(self.labels[i])


def _step(model, opt, x, cfg, mode: str = "fp32") -> None:
    x = precision.prepare_batch(x, mode)
    with precision.forward_context(mode, x.device):
        outputs = model(x)
    raw, mu, logvar = precision.to_float32(*outputs)  # (B, C, H, W), (B, D), (B, D)
    sigma = model.decoder_sigma(cfg.mse_sigma)
    loss = recon_nats(raw, x, cfg.loss, sigma).mean() + kl_per_dim(mu, logvar).sum(1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def _timed(batches, model, opt, cfg, steps: int, batch_size: int, mode: str = "fp32") -> float:
    """Median images/s over windows of WINDOW_STEPS steps (after one warm-up window)."""
    rates, it = [], iter(batches)
    for w in range(steps // WINDOW_STEPS + 1):
        t0 = time.perf_counter()
        for _ in range(WINDOW_STEPS):
            _step(model, opt, next(it), cfg, mode)
        if w:  # window 0 is warm-up
            rates.append(WINDOW_STEPS * batch_size / (time.perf_counter() - t0))
    return statistics.median(rates)


def run(preset: str = "mnist-2d", steps: int = 60, data_dir: str | None = None) -> dict:
    cfg = PRESETS[preset]
    torch.manual_seed(0)
    if data_dir:
        from latent_odyssey.train.data import load_dataset

        train, _, _ = load_dataset(cfg.dataset, data_dir, download=False)
        images, labels = train.images, train.labels
    else:  # random stand-in data of the right shape
        rng = np.random.default_rng(0)
        shape = (20000, cfg.model.channels, cfg.model.image_size, cfg.model.image_size)
        images, labels = rng.random(shape, dtype=np.float32), rng.integers(0, 10, shape[0])
    bs = cfg.batch_size
    n_needed = (steps + WINDOW_STEPS) * bs

    model = build_model(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    x_all = torch.from_numpy(np.ascontiguousarray(images))
    perm = torch.randperm(len(x_all))

    def ours():
        for i in range(0, n_needed * 2, bs):
            idx = perm[i % len(perm) : i % len(perm) + bs]
            yield x_all[idx]

    ours_rate = _timed(ours(), model, opt, cfg, steps, bs)

    model = precision.prepare_model(build_model(cfg.model), "bf16")
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    bf16_rate = _timed(ours(), model, opt, cfg, steps, bs, "bf16")

    model = build_model(cfg.model)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loader = DataLoader(PerSampleDataset(images, labels), batch_size=bs, shuffle=True, drop_last=True)

    def plain():
        while True:
            for x, _ in loader:
                yield x

    plain_rate = _timed(plain(), model, opt, cfg, steps, bs)
    return {"preset": preset, "batch_size": bs, "ours_images_per_s": ours_rate,
            "dataloader_images_per_s": plain_rate, "speedup": ours_rate / plain_rate,
            "bf16_images_per_s": bf16_rate, "bf16_speedup": bf16_rate / ours_rate}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="mnist-2d", choices=sorted(PRESETS))
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--data-dir")
    a = ap.parse_args()
    r = run(a.preset, a.steps, a.data_dir)
    print(f"threads {torch.get_num_threads()}  preset {r['preset']}  batch {r['batch_size']}")
    print(f"tensor-indexed loop : {r['ours_images_per_s']:8.0f} images/s")
    print(f"DataLoader per-item : {r['dataloader_images_per_s']:8.0f} images/s")
    print(f"speed-up            : {r['speedup']:.2f}x")
    print(f"tensor-indexed bf16 : {r['bf16_images_per_s']:8.0f} images/s ({r['bf16_speedup']:.2f}x fp32)")


if __name__ == "__main__":
    main()
