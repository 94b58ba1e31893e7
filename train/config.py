"""Training settings: one dataclass, saved as ``config.json`` and inside the checkpoint.

Preset defaults (and why, in short; the README says more):

* ``beta_max = 1`` for every preset: the metrics are the β = 1 ELBO, and a 2-3-D latent has
  no room to spare for a stronger prior pull (β = 4 smears the classes together and costs
  ~10 nats). A short linear warm-up (0 -> 1 over the first epochs) lets the encoder spread the
  classes out before the KL term pulls them toward the prior, which gives the explorer a
  well-separated map.
* Adam with a cosine learning-rate decay to 5% of ``lr`` over the run: the last epochs settle
  into a sharper optimum (a few nats better than a constant rate).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace

from latent_odyssey.train.models import PRESET_CONFIGS, ModelConfig

PRECISIONS = ("fp32", "bf16")  # TrainConfig.precision


@dataclass
class TrainConfig:
    preset: str = "mnist-2d"
    dataset: str = "mnist"  # mnist | fashion-mnist | faces
    model: ModelConfig = field(default_factory=ModelConfig)
    epochs: int = 25
    batch_size: int = 128
    lr: float = 1e-3
    lr_final_frac: float = 0.05  # cosine decay to lr * lr_final_frac
    beta_max: float = 1.0
    warmup_epochs: float = 5.0
    loss: str = "bce"  # bce (Bernoulli) | mse (Gaussian, fixed sigma)
    mse_sigma: float = 0.1  # Gaussian decoder std for the mse loss, in [0,1] pixel units
    binarize: bool = False
    # stochastic binarization of the training batches only, as noise: each pixel's coin flip has
    # the grey value as its mean, so the expected Bernoulli loss is the grey image's; the encoder
    # sees noisy images, which regularises it. The test metrics stay on the grey test set.
    binarize_train: bool = False
    limit: int | None = None  # first N training images (smoke runs)
    faces_train: int = 20000  # synthetic faces (faces preset)
    faces_test: int = 3000
    seed: int = 0
    device: str = "auto"
    iw_k: int = 1000
    iw_limit: int | None = None  # test images for the IW estimate (None = all)
    # fp32 | bf16: bf16 trains the convolutions and linear layers under bfloat16 autocast in
    # channels-last layout (weights, optimizer, loss and every evaluation stay float32); 2.6x the
    # images/s of fp32 on one core of a CPU with AMX (python -m benchmarks.train_throughput).
    precision: str = "fp32"
    # attribute guidance (faces only; off by default): until epoch ``guide_until`` the loss also
    # pulls μ of the last latent dims toward the named attributes' labels (``train.guide``), so
    # that a feature the encoder never picked up (the synthetic faces' smile) gets a latent dim
    # the decoder then learns to draw. Later epochs, the metrics and the ELBO have no guide term.
    guide: tuple[str, ...] = ()
    guide_until: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["model"] = ModelConfig(**d["model"])
        if "guide" in d:
            d["guide"] = tuple(d["guide"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


PRESETS: dict[str, TrainConfig] = {
    "mnist-2d": TrainConfig(preset="mnist-2d", dataset="mnist", model=PRESET_CONFIGS["vae2d"]),
    "mnist-3d": TrainConfig(preset="mnist-3d", dataset="mnist", model=PRESET_CONFIGS["vae3d"]),
    "fashion-3d": TrainConfig(
        preset="fashion-3d", dataset="fashion-mnist", model=PRESET_CONFIGS["vae3d"]
    ),
    "faces": TrainConfig(
        preset="faces", dataset="faces", model=PRESET_CONFIGS["face"], epochs=15, loss="mse",
        warmup_epochs=3.0,
    ),
    # The σ-VAE faces model of issue 14: learned decoder σ, residual decoder, more rendered
    # faces and a longer schedule (a GPU run; on two CPU cores an epoch of 60k faces takes ~10 min).
    "faces-sharp": TrainConfig(
        preset="faces-sharp", dataset="faces", model=PRESET_CONFIGS["face-sharp"], epochs=60,
        loss="mse", warmup_epochs=5.0, faces_train=60000,
    ),
}


# Settings a resume takes from this machine's command line, never from the checkpoint.
MACHINE_SETTINGS = ("device",)


def with_flags(base: TrainConfig, flags: Mapping[str, object]) -> TrainConfig:
    """``base`` with the settings the command line gave (``flags``: field name -> value); a
    ``guide`` given without ``guide_until`` guides until the end of the β warm-up."""
    cfg = replace(base, **flags)
    if "guide" in flags and "guide_until" not in flags:
        cfg = replace(cfg, guide_until=cfg.warmup_epochs)
    return cfg


def resumed_config(saved: TrainConfig, wanted: TrainConfig, flags: Mapping[str, object]) -> TrainConfig:
    """The settings a ``--resume`` continues with: the run's own (``saved``, from its
    checkpoint) where the command line is silent, the command line's ``flags`` where it speaks
    (``--epochs 150 --resume`` stretches the schedule and keeps everything else), and this
    machine's settings (``MACHINE_SETTINGS``) from ``wanted``."""
    machine = {k: getattr(wanted, k) for k in MACHINE_SETTINGS}
    return with_flags(saved, {**machine, **flags})
