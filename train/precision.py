"""Mixed precision for training (``TrainConfig.precision``).

``fp32`` changes nothing. ``bf16`` runs the forward pass under ``torch.autocast`` with
bfloat16 (convolutions and linear layers; PyTorch keeps reductions such as batch norm's
statistics in float32) and keeps the model and each batch in channels-last layout, which is
what oneDNN's AMX / AVX-512 BF16 kernels want on a CPU. The weights, Adam's state, the loss
(the model's outputs are cast back to float32 before it) and every evaluation stay float32, so
the reported ELBO is the same quantity as an fp32 run's.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch
from torch import nn


def uses_bf16(precision: str) -> bool:
    return precision == "bf16"


def prepare_model(model: nn.Module, precision: str) -> nn.Module:
    """The model in the layout its precision trains fastest in (in place; returns it)."""
    if uses_bf16(precision):
        model.to(memory_format=torch.channels_last)
    return model


def prepare_batch(x: torch.Tensor, precision: str) -> torch.Tensor:
    """x (B, C, H, W) in the model's layout (a copy for bf16, x itself for fp32)."""
    return x.contiguous(memory_format=torch.channels_last) if uses_bf16(precision) else x


def forward_context(precision: str, device: torch.device) -> AbstractContextManager:
    """The context the training forward pass runs in."""
    if not uses_bf16(precision):
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def to_float32(*tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The forward pass's outputs as float32 (no copy when they already are)."""
    return tuple(t.float() for t in tensors)
