"""A small CNN that predicts the four face attributes from a 64x64 RGB image.

It is the judge of edit quality (``export/attributes.py``), trained on the synthetic labels;
the game never uses it. Outputs (N, 4): smile in [-1, 1], age in [0, 1], gender in [0, 1]
(regression), glasses as a logit.
"""

from __future__ import annotations

import torch
from torch import nn

ATTR_NAMES = ("smile", "age", "gender", "glasses")


class AttrClassifier(nn.Module):
    def __init__(self, image_size: int = 64) -> None:
        super().__init__()
        widths = [16, 32, 64, 64]
        layers: list[nn.Module] = []
        c = 3
        for w in widths:  # each halves H, W
            layers += [nn.Conv2d(c, w, 3, 2, 1), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
        s = image_size // 2 ** len(widths)
        self.net = nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * s * s, 128), nn.ReLU(), nn.Linear(128, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (N, 3, H, W) in [0, 1] -> raw outputs (N, 4)."""
        return self.net(x * 2.0 - 1.0)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4) in attribute units: smile, age, gender, glasses probability."""
        self.eval()
        out = []
        for i in range(0, len(x), 500):
            raw = self(x[i : i + 500])
            out.append(torch.cat([raw[:, :3], torch.sigmoid(raw[:, 3:])], 1))
        return torch.cat(out)


def train_classifier(
    x: torch.Tensor, attrs: torch.Tensor, epochs: int = 4, batch_size: int = 128, seed: int = 0
) -> AttrClassifier:
    """Fit on images x (N, 3, H, W) and attrs (N, 4); MSE on the first three, BCE on glasses."""
    torch.manual_seed(seed)
    model = AttrClassifier(x.shape[-1])
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    n = len(x)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = perm[i : i + batch_size]
            raw = model(x[idx])
            a = attrs[idx]
            loss = nn.functional.mse_loss(raw[:, :3], a[:, :3]) + nn.functional.binary_cross_entropy_with_logits(
                raw[:, 3], a[:, 3]
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return model.eval()
