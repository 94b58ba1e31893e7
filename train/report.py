"""``report.png``: what the model learned, on one page.

Panels: test originals above their reconstructions, random samples from the prior, the latent
map of the test set coloured by class (2-D: the plane; 3-D: two projections; more: the top two
principal axes), a decoded manifold grid, and the loss curves.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from latent_odyssey.game.atomic import atomic_path  # noqa: E402
from latent_odyssey.train.metrics import encode_all  # noqa: E402

N_SHOW = 12  # images per row in the image panels
GRID = 15  # manifold grid cells per side
MAP_POINTS = 5000


def _tile(images: np.ndarray, cols: int) -> np.ndarray:
    """(N, C, H, W) in [0,1] -> one (rows*H, cols*W, C) mosaic."""
    n, c, h, w = images.shape
    rows = int(np.ceil(n / cols))
    canvas = np.ones((rows * h, cols * w, c), dtype=np.float32)
    for i, img in enumerate(images):
        r, k = divmod(i, cols)
        canvas[r * h : (r + 1) * h, k * w : (k + 1) * w] = img.transpose(1, 2, 0)
    return canvas.squeeze(-1) if c == 1 else canvas


def _show(ax, mosaic: np.ndarray, title: str) -> None:
    ax.imshow(mosaic, cmap="gray" if mosaic.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")


@torch.no_grad()
def write_report(model, cfg, data, metrics: dict, path: Path) -> None:
    model.eval()
    dev = data.test_x.device
    x = data.test_x[:N_SHOW]
    mu, _ = model.encode(x)
    recon = model.decode(mu).cpu().numpy()
    pairs = np.concatenate([x.cpu().numpy(), recon])
    gen = torch.Generator(device=dev).manual_seed(7)
    samples = model.decode(torch.randn((N_SHOW * 2, cfg.model.latent_dim), generator=gen, device=dev))

    mus, _ = encode_all(model, data.test_x[:MAP_POINTS])
    mus = mus.cpu().numpy()
    labels = data.test_y[:MAP_POINTS].cpu().numpy() if data.test_y is not None else None
    if labels is None and data.test_attrs is not None:
        labels = (data.test_attrs[:MAP_POINTS, 2] > 0.5).astype(int)  # faces: gender cue

    fig = plt.figure(figsize=(16, 11), dpi=90)
    gs = fig.add_gridspec(3, 4, height_ratios=[1, 1, 1.4])
    _show(fig.add_subplot(gs[0, :2]), _tile(pairs, N_SHOW), "test originals (top) / reconstructions (bottom)")
    _show(fig.add_subplot(gs[0, 2:]), _tile(samples.cpu().numpy(), N_SHOW), "random samples z ~ N(0, I)")

    projections = _projections(mus)
    for j, (xy, title) in enumerate(projections[:2]):
        ax = fig.add_subplot(gs[1, j])
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=labels, cmap="tab10", s=2, alpha=0.7)
        ax.set_title(f"latent map: {title}", fontsize=10)
        if labels is not None and data.class_names:
            handles = sc.legend_elements()[0]  # one per label present, in sorted order
            names = [data.class_names[int(k)] for k in np.unique(labels) if 0 <= k < len(data.class_names)]
            ax.legend(handles, names, fontsize=6, markerscale=0.6, loc="best", ncol=2)

    ax = fig.add_subplot(gs[1, 2:])
    _show(ax, _manifold(model, cfg, mus), "decoded manifold (first two latent axes / PCA plane)")

    ax = fig.add_subplot(gs[2, :2])
    hist = metrics.get("history", [])
    if hist:
        ep = [h["epoch"] for h in hist]
        ax.plot(ep, [h["loss"] for h in hist], label="train loss (β-weighted)", marker=".")
        ax.plot(ep, [h["recon"] + h["kl"] for h in hist], label="train −ELBO (β=1)", marker=".")
        ax.plot(ep, [h["test_neg_elbo"] for h in hist], label="test −ELBO (β=1)", marker=".")
        ax.set_xlabel("epoch")
        ax.set_ylabel("nats / image")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        ax2 = ax.twinx()
        ax2.plot(ep, [h["kl"] for h in hist], "k:", label="KL")
        ax2.set_ylabel("KL nats", fontsize=8)
    ax.set_title("loss curves", fontsize=10)

    ax = fig.add_subplot(gs[2, 2:])
    ax.axis("off")
    lines = [
        f"preset {cfg.preset}   data {metrics.get('dataset')}   params {metrics.get('parameters', 0):,}",
        f"epochs {cfg.epochs}   batch {cfg.batch_size}   lr {cfg.lr}   β 0→{cfg.beta_max} over {cfg.warmup_epochs} ep",
        f"test −ELBO {metrics['neg_elbo_nats']:.2f} nats = recon {metrics['recon_nats']:.2f} + KL {metrics['kl_nats']:.2f}",
        "KL per dim " + ", ".join(f"{v:.2f}" for v in metrics["kl_per_dim_nats"][:8])
        + (" ..." if len(metrics["kl_per_dim_nats"]) > 8 else ""),
    ]
    if "knn5_accuracy" in metrics:
        lines.append(f"5-NN accuracy of test μ vs train μ: {metrics['knn5_accuracy']:.4f}")
    if "iw_log_likelihood_nats" in metrics:
        lines.append(f"IW log-likelihood (k={metrics['iw_k']}): {metrics['iw_log_likelihood_nats']:.2f} nats")
    ax.text(0.0, 0.95, "\n".join(lines), va="top", family="monospace", fontsize=10)
    fig.suptitle(f"Latent Odyssey — {cfg.preset}", fontsize=14)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:  # savefig reads the format from the name
        fig.savefig(tmp)
    plt.close(fig)


def _projections(mus: np.ndarray) -> list[tuple[np.ndarray, str]]:
    d = mus.shape[1]
    if d == 2:
        return [(mus, "z0 vs z1"), (mus, "z0 vs z1")]
    if d == 3:
        return [(mus[:, [0, 1]], "z0 vs z1"), (mus[:, [0, 2]], "z0 vs z2")]
    centred = mus - mus.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return [(centred @ vt[:2].T, "PCA 1 vs 2"), (centred @ vt[[0, 2]].T, "PCA 1 vs 3")]


@torch.no_grad()
def _manifold(model, cfg, mus: np.ndarray) -> np.ndarray:
    """A GRID x GRID sweep over the 1st-99th percentile box of the first two axes (or PCA)."""
    d = cfg.model.latent_dim
    centre = mus.mean(0)
    if d <= 3:
        axes = np.eye(d)[:2]
        coords = mus[:, :2]
    else:
        _, _, vt = np.linalg.svd(mus - centre, full_matrices=False)
        axes = vt[:2]
        coords = (mus - centre) @ axes.T
    lo, hi = np.percentile(coords, 1, axis=0), np.percentile(coords, 99, axis=0)
    u = np.linspace(lo[0], hi[0], GRID)
    v = np.linspace(hi[1], lo[1], GRID)
    grid = np.array([[a, b] for b in v for a in u], dtype=np.float32)  # (GRID*GRID, 2)
    base = centre if d > 3 else np.zeros(d)
    if d <= 3:
        z = np.tile(base, (len(grid), 1))
        z[:, :2] = grid
    else:
        z = base + grid @ axes
    dev = next(model.parameters()).device
    imgs = model.decode(torch.from_numpy(z.astype(np.float32)).to(dev)).cpu().numpy()
    return _tile(imgs, GRID)
