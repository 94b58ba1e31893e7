"""Re-derive the shipped models' card metrics from their ONNX files alone (no torch).

For each model (``pretrained/{mnist-2d,mnist-3d,fashion-3d,faces}.onnx`` by default, or the
``--models`` given) this opens the decoder and its exported encoder with onnxruntime, reads
the real test set with the project's numpy IDX reader (``train.data.load_dataset``) and
recomputes, at β = 1:

* the negative ELBO with one sample: ``z = μ + exp(½ log σ²) · ε``, ε from a fixed-seed numpy
  generator (Kingma & Welling 2014, eq. 10), in nats per image;
* its reconstruction term. Bernoulli models: ``-(x log p + (1 - x) log(1 - p))`` summed over
  pixels, from the decoder's output ``p`` in [0, 1] clipped to [1e-7, 1 - 1e-7]. Training
  computed BCE from the logits instead, which is unbounded where ``p`` saturates, so the two
  differ slightly (the table shows both). Gaussian (faces) models: the fixed-σ Gaussian NLL;
* the KL term, in total and per latent dimension;
* the 5-NN accuracy of test μ against train μ (Euclidean, chunked numpy).

It prints the card's number (the metadata's ``metrics``), the recomputed one and their
difference. The ε draws differ from torch's, so the one-sample terms agree only up to
sampling noise (a fraction of a nat on 10 000 images); binarized models are re-binarized with
a numpy generator, which moves the numbers by a similar amount.

Faces: the synthetic test set is re-rendered with ``train.faces.faces_dataset`` (numpy) when
that module is present, else the model is skipped with a note; faces from a user's photo
folder cannot be re-derived and are skipped.

    python -m benchmarks.verify_pretrained [--data-dir-mnist D] [--data-dir-fashion D]
    python -m benchmarks.verify_pretrained --models runs/x/x.onnx --data-dir-mnist D --limit 1000

``run(...)`` returns the same numbers as a dict.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta, open_encoder, open_model
from latent_odyssey.train.data import DataError, load_dataset

REPO = Path(__file__).resolve().parents[1]
PRETRAINED = REPO / "pretrained"
SHIPPED = ("mnist-2d", "mnist-3d", "fashion-3d", "faces")
SHARED_DATA = REPO.parent / "shared" / "data"  # the workspace's offline copies, if any
DATA_SETS = {"mnist": "mnist", "fashion-mnist": "fashion-mnist"}  # metadata dataset -> loader
SEED = 1234  # ε of the one-sample ELBO and the numpy re-binarization
BATCH = 500  # images per onnxruntime call
KNN_K = 5
KNN_CHUNK = 256  # test points per distance block: (256, N_train) float32
P_CLIP = 1e-7  # Bernoulli probabilities are clipped to [P_CLIP, 1 - P_CLIP]
MSE_SIGMA_DEFAULT = 0.1  # TrainConfig.mse_sigma, for files that do not record it
KL_DIMS_SHOWN = 8  # per-dimension KL rows printed (all of them are in run()'s dict)


# --------------------------------------------------------------------------- numerics


def encode(enc, x: np.ndarray, batch: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
    """x (N, C, H, W) in [0, 1] -> mu, logvar (N, D) float32 through the ONNX encoder."""
    mus, lvs = [], []
    for i in range(0, len(x), batch):
        mu, lv = enc.run(["mu", "logvar"], {"image": np.ascontiguousarray(x[i : i + batch])})
        mus.append(mu)
        lvs.append(lv)
    return np.concatenate(mus), np.concatenate(lvs)


def bernoulli_nll(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Per-image Bernoulli NLL in nats, (N,), from probabilities p and targets x (N, C, H, W)."""
    p = np.clip(p.astype(np.float64), P_CLIP, 1.0 - P_CLIP)
    x = x.astype(np.float64)
    nll = -(x * np.log(p) + (1.0 - x) * np.log1p(-p))
    return nll.reshape(len(nll), -1).sum(1)


def gaussian_nll(mean: np.ndarray, x: np.ndarray, sigma: float) -> np.ndarray:
    """Per-image fixed-σ Gaussian NLL in nats, (N,), normalising constant included."""
    r = (x.astype(np.float64) - mean.astype(np.float64)) / sigma
    nll = 0.5 * r * r + np.log(sigma * np.sqrt(2.0 * np.pi))
    return nll.reshape(len(nll), -1).sum(1)


def kl_per_dim(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(q(z|x) || N(0, I)) per dimension, (N, D): ½(μ² + σ² − 1 − log σ²)."""
    mu, logvar = mu.astype(np.float64), logvar.astype(np.float64)
    return 0.5 * (mu * mu + np.exp(logvar) - 1.0 - logvar)


def recon_nats(
    dec, mu: np.ndarray, logvar: np.ndarray, x: np.ndarray, loss: str, mse_sigma: float,
    seed: int = SEED, batch: int = BATCH,
) -> np.ndarray:
    """One-sample reconstruction NLL per image, (N,), decoding with the ONNX decoder."""
    eps = np.random.default_rng(seed).standard_normal(mu.shape).astype(np.float32)  # (N, D)
    z = (mu + np.exp(0.5 * logvar) * eps).astype(np.float32)
    out = np.empty(len(x), np.float64)
    for i in range(0, len(x), batch):
        p = dec.run(None, {"z": z[i : i + batch]})[0]  # (B, C, H, W) in [0, 1]
        xb = x[i : i + batch]
        out[i : i + batch] = bernoulli_nll(p, xb) if loss == "bce" else gaussian_nll(p, xb, mse_sigma)
    return out


def knn_accuracy(
    train_mu: np.ndarray, train_y: np.ndarray, test_mu: np.ndarray, test_y: np.ndarray,
    k: int = KNN_K, chunk: int = KNN_CHUNK,
) -> float:
    """Fraction of test points whose k nearest train points (Euclidean) vote their label.

    Ties in the vote go to the smallest label.
    """
    train_mu = train_mu.astype(np.float64)
    train_sq = (train_mu * train_mu).sum(1)  # (N_train,)
    n_classes = int(max(train_y.max(), test_y.max())) + 1
    correct = 0
    for i in range(0, len(test_mu), chunk):
        q = test_mu[i : i + chunk].astype(np.float64)  # (B, D)
        d2 = (q * q).sum(1)[:, None] - 2.0 * q @ train_mu.T + train_sq[None]  # (B, N_train)
        idx = np.argpartition(d2, k - 1, axis=1)[:, :k]  # (B, k), unordered
        votes = train_y[idx]  # (B, k)
        counts = np.zeros((len(q), n_classes), np.int64)
        np.add.at(counts, (np.arange(len(q))[:, None], votes), 1)
        correct += int((counts.argmax(1) == test_y[i : i + chunk]).sum())
    return correct / len(test_mu)


# ------------------------------------------------------------------------------ data


def _load_labelled(meta: ModelMeta, data_dirs: dict[str, Path | None], download: bool):
    """(train_x, train_y, test_x, test_y) for an MNIST-style model."""
    name = DATA_SETS[meta.dataset]
    folder = data_dirs.get(name)
    if folder is None and (SHARED_DATA / name).is_dir():
        folder = SHARED_DATA / name
    train, test, _ = load_dataset(name, folder, download=download)
    return train.images, train.labels, test.images, test.labels


def _load_faces(meta: ModelMeta) -> np.ndarray:
    """The synthetic faces test set the card was measured on, (N, 3, 64, 64) in [0, 1]."""
    from latent_odyssey.train import faces  # numpy only

    n = int(meta.metrics.get("test_images", 3000))
    seed = int(meta.training.get("seed", 0))
    return faces.faces_dataset(0, n, seed=seed)["test"][0]


def _faces_skip_reason(meta: ModelMeta) -> str | None:
    if meta.dataset != "synthetic faces":
        return f"trained on {meta.dataset!r}, which cannot be re-derived here"
    try:
        from latent_odyssey.train import faces
    except ImportError:
        return "train.faces (the test-set renderer) is not available"
    if not hasattr(faces, "faces_dataset"):
        return "train.faces has no faces_dataset function to render the test set"
    return None


# ---------------------------------------------------------------------------- a model


def _row(metric: str, card, recomputed: float) -> dict:
    card_v = float(card) if isinstance(card, (int, float)) else None
    diff = None if card_v is None else recomputed - card_v
    return {"metric": metric, "card": card_v, "recomputed": float(recomputed), "diff": diff}


def evaluate_model(
    path: Path, data_dirs: dict[str, Path | None] | None = None, seed: int = SEED,
    limit: int | None = None, download: bool = False, batch: int = BATCH,
) -> dict:
    """Recompute one model's card metrics; returns {"status", "rows", "notes", ...}."""
    data_dirs = data_dirs or {}
    result: dict = {"path": str(path), "status": "ok", "rows": [], "notes": []}
    notes = result["notes"]
    dec, meta = open_model(path, provider="cpu")
    result["name"] = meta.name
    result["dataset"] = meta.dataset
    enc = open_encoder(path, meta, provider="cpu")
    if enc is None:
        return {**result, "status": "skipped", "notes": [f"no encoder file beside {path.name}"]}
    loss = meta.training.get("loss", meta.metrics.get("loss", "bce"))
    mse_sigma = float(meta.training.get("mse_sigma", MSE_SIGMA_DEFAULT))
    train_x = train_y = test_y = None
    if meta.kind == "faces":
        reason = _faces_skip_reason(meta)
        if reason:
            return {**result, "status": "skipped", "notes": [f"faces skipped: {reason}"]}
        test_x = _load_faces(meta)
        if "mse_sigma" not in meta.training and loss == "mse":
            notes.append(f"the file does not record mse_sigma; used {MSE_SIGMA_DEFAULT}")
    elif meta.dataset in DATA_SETS:
        train_x, train_y, test_x, test_y = _load_labelled(meta, data_dirs, download)
        n_train = meta.metrics.get("train_images")
        if isinstance(n_train, int) and n_train < len(train_x):
            train_x, train_y = train_x[:n_train], train_y[:n_train]
            notes.append(f"kNN uses the first {n_train} training images, as training did")
    else:
        return {**result, "status": "skipped", "notes": [f"unknown data set {meta.dataset!r}"]}
    if limit is not None and limit < len(test_x):
        test_x = test_x[:limit]
        test_y = None if test_y is None else test_y[:limit]
        notes.append(f"only the first {limit} test images (--limit): expect larger differences")
    card_n = meta.metrics.get("test_images")
    if isinstance(card_n, int) and card_n != len(test_x):
        notes.append(f"the card used {card_n} test images, this run {len(test_x)}")
    result["test_images"] = len(test_x)

    x_eval = test_x
    if meta.training.get("binarize"):
        rng = np.random.default_rng(seed + 1)
        x_eval = (rng.random(test_x.shape, dtype=np.float32) < test_x).astype(np.float32)
        notes.append("binarized with a numpy generator, not training's torch one")
    mu, logvar = encode(enc, x_eval, batch)  # (N, D) each
    rec = recon_nats(dec, mu, logvar, x_eval, loss, mse_sigma, seed, batch)  # (N,)
    kl = kl_per_dim(mu, logvar)  # (N, D)
    m = meta.metrics
    rows = result["rows"]
    rows.append(_row("neg_elbo_nats", m.get("neg_elbo_nats"), rec.mean() + kl.sum(1).mean()))
    rows.append(_row("recon_nats", m.get("recon_nats"), rec.mean()))
    rows.append(_row("kl_nats", m.get("kl_nats"), kl.sum(1).mean()))
    card_kl = m.get("kl_per_dim_nats") or []
    for j, v in enumerate(kl.mean(0)):
        rows.append(_row(f"kl_dim_{j}", card_kl[j] if j < len(card_kl) else None, v))
    if loss == "bce":
        notes.append(f"recon from p clipped to [{P_CLIP:g}, 1-{P_CLIP:g}]; training used BCE on logits")

    if train_x is not None and test_y is not None:
        test_mu = mu if x_eval is test_x else encode(enc, test_x, batch)[0]
        train_mu = encode(enc, train_x, batch)[0]
        acc = knn_accuracy(train_mu, train_y, test_mu, test_y)
        rows.append(_row("knn5_accuracy", m.get("knn5_accuracy"), acc))
    return result


def _default_models() -> list[Path]:
    return [PRETRAINED / f"{name}.onnx" for name in SHIPPED]


def run(
    models: list[Path] | None = None, data_dirs: dict[str, Path | None] | None = None,
    seed: int = SEED, limit: int | None = None, download: bool = False,
) -> dict:
    """{model name: result} for each model; absent default models and bad data are notes.

    ``data_dirs`` maps ``"mnist"`` / ``"fashion-mnist"`` to IDX folders (None: the usual search).
    A model file that is broken gives ``status: "error"`` with the one-sentence reason.
    """
    explicit = models is not None
    results: dict = {}
    for path in [Path(p) for p in (models if explicit else _default_models())]:
        key = path.name.removesuffix(".onnx")
        if not path.exists() and not explicit:
            results[key] = {"path": str(path), "status": "absent", "rows": [], "notes": ["not shipped (yet)"]}
            continue
        try:
            results[key] = evaluate_model(path, data_dirs, seed, limit, download)
        except ModelFileError as exc:
            results[key] = {"path": str(path), "status": "error", "rows": [], "notes": [str(exc)]}
        except DataError as exc:
            results[key] = {"path": str(path), "status": "skipped", "rows": [], "notes": [str(exc)]}
    return results


# ----------------------------------------------------------------------------- report


def _num(v: float | None, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def format_table(results: dict) -> str:
    """The results as plain-text tables, one per model, notes underneath."""
    lines: list[str] = []
    for key, res in results.items():
        head = f"{key}  [{res['status']}]  {res['path']}"
        if res.get("test_images"):
            head += f"  ({res.get('dataset')}, {res['test_images']} test images)"
        lines.append(head)
        if res["rows"]:
            lines.append(f"  {'metric':<16} {'card':>12} {'recomputed':>12} {'diff':>10}")
            hidden = [
                r for r in res["rows"]
                if r["metric"].startswith("kl_dim_") and int(r["metric"][7:]) >= KL_DIMS_SHOWN
            ]
            for r in res["rows"]:
                if any(r is h for h in hidden):
                    continue
                digits = 4 if r["metric"] == "knn5_accuracy" else 3
                lines.append(
                    f"  {r['metric']:<16} {_num(r['card'], digits):>12} "
                    f"{_num(r['recomputed'], digits):>12} {_num(r['diff'], digits):>10}"
                )
            if hidden:
                worst = max((abs(r["diff"]) for r in hidden if r["diff"] is not None), default=None)
                lines.append(
                    f"  ... {len(hidden)} more kl_dim rows, max |diff| {_num(worst, 4)} (see --json)"
                )
        lines += [f"  note: {n}" for n in res["notes"]]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.verify_pretrained",
        description="Recompute the shipped models' card metrics with onnxruntime alone.",
    )
    p.add_argument("--data-dir-mnist", type=Path, help="folder of the MNIST IDX files")
    p.add_argument("--data-dir-fashion", type=Path, help="folder of the Fashion-MNIST IDX files")
    p.add_argument("--models", type=Path, nargs="+", help="decoder .onnx files (default: pretrained/)")
    p.add_argument("--limit", type=int, help="only the first N test images (quick look)")
    p.add_argument("--seed", type=int, default=SEED, help="seed of the one-sample ε")
    p.add_argument("--download", action="store_true", help="download missing data sets")
    p.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    data_dirs = {"mnist": args.data_dir_mnist, "fashion-mnist": args.data_dir_fashion}
    results = run(args.models, data_dirs, args.seed, args.limit, args.download)
    print(format_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if not any(r["status"] == "ok" for r in results.values()):
        print("verify_pretrained: no model could be checked (see the notes above).", file=sys.stderr)
        return 1
    return 1 if any(r["status"] == "error" for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
