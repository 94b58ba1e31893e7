"""Turn a preset's data set name into device tensors (the whole set lives on the device).

The boundary check of a data set that reads fine but cannot train the preset (``DataError``,
one sentence): images of another size or channel count than the model takes, labels outside
the set's classes, fewer than ``MIN_TRAIN_IMAGES`` training images after ``--limit`` (the
5-NN metric votes among 5) or no test image at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from latent_odyssey.train.data import DataError, load_dataset

KNN_K = 5  # neighbours in the 5-NN accuracy (train.metrics.knn_accuracy)
MIN_TRAIN_IMAGES = KNN_K  # fewer cannot be trained and measured
MIN_TEST_IMAGES = 1


@dataclass
class TensorData:
    """Train/test images (N, C, H, W) float32 in [0, 1]; labels (N,) int64 or None."""

    train_x: torch.Tensor
    train_y: torch.Tensor | None
    test_x: torch.Tensor
    test_y: torch.Tensor | None
    class_names: tuple[str, ...]
    dataset: str
    train_attrs: np.ndarray | None = None  # (N, A) faces only
    test_attrs: np.ndarray | None = None


def load_tensors(cfg, data_dir: Path | str | None, device: torch.device) -> TensorData:
    """Load the preset's data set, apply ``--limit`` and move it to ``device``."""
    if cfg.dataset == "faces":
        return _faces(cfg, data_dir, device)
    train, test, names = load_dataset(cfg.dataset, data_dir)
    tx, ty = train.images, train.labels
    if cfg.limit:
        tx, ty = tx[: cfg.limit], ty[: cfg.limit]
    check_split(cfg, "training", tx, ty, len(names), MIN_TRAIN_IMAGES)
    check_split(cfg, "test", test.images, test.labels, len(names), MIN_TEST_IMAGES)
    return TensorData(
        train_x=torch.from_numpy(np.ascontiguousarray(tx)).to(device),
        train_y=torch.from_numpy(ty).to(device),
        test_x=torch.from_numpy(test.images).to(device),
        test_y=torch.from_numpy(test.labels).to(device),
        class_names=names,
        dataset=cfg.dataset,
    )


def check_split(cfg, split: str, images: np.ndarray, labels: np.ndarray | None, classes: int,
                minimum: int) -> None:
    """Refuse a split ``cfg``'s model cannot train on or be measured with (DataError)."""
    c, size = cfg.model.channels, cfg.model.image_size
    name = cfg.dataset
    if len(images) < minimum:
        limit = f" (after --limit {cfg.limit})" if cfg.limit and split == "training" else ""
        raise DataError(f"The {name} data set has {len(images)} {split} images{limit}; "
                        f"{cfg.preset} needs at least {minimum}.")
    if images.shape[1:] != (c, size, size):
        got = "x".join(str(v) for v in images.shape[2:])
        raise DataError(f"The {name} {split} images are {got} with {images.shape[1]} channel(s), but the "
                        f"{cfg.preset} model takes {size}x{size} with {c}.")
    if labels is not None and classes and len(labels) and (labels.min() < 0 or labels.max() >= classes):
        raise DataError(f"The {name} {split} labels run from {labels.min()} to {labels.max()}, but the set has "
                        f"{classes} classes (labels 0 to {classes - 1}).")


def _faces(cfg, data_dir: Path | str | None, device: torch.device) -> TensorData:
    from latent_odyssey.train import faces  # the renderer (numpy)

    if data_dir is not None:
        images, attrs = faces.load_face_folder(Path(data_dir), size=cfg.model.image_size)
        x = images.astype(np.float32).transpose(0, 3, 1, 2) / 255.0  # (N, 3, H, W)
        n_test = max(1, len(x) // 10)
        parts = {"train": (x[n_test:], attrs[n_test:]), "test": (x[:n_test], attrs[:n_test])}
        dataset = f"faces folder {Path(data_dir).name}"
    else:
        n_train = cfg.limit or cfg.faces_train
        parts = faces.faces_dataset(n_train, cfg.faces_test, seed=cfg.seed)
        dataset = "synthetic faces"
    (trx, tra), (tex, tea) = parts["train"], parts["test"]
    if cfg.limit:
        trx, tra = trx[: cfg.limit], tra[: cfg.limit]
    check_split(cfg, "training", trx, None, 0, MIN_TRAIN_IMAGES)
    check_split(cfg, "test", tex, None, 0, MIN_TEST_IMAGES)
    return TensorData(
        train_x=torch.from_numpy(np.ascontiguousarray(trx, dtype=np.float32)).to(device),
        train_y=None,
        test_x=torch.from_numpy(np.ascontiguousarray(tex, dtype=np.float32)).to(device),
        test_y=None,
        class_names=(),
        dataset=dataset,
        train_attrs=np.asarray(tra, dtype=np.float32),
        test_attrs=np.asarray(tea, dtype=np.float32),
    )
