"""The README's picture of random faces: the prior N(0, I) beside the fitted density.

    python docs/make_density_samples.py [--model pretrained/faces.onnx] [--out docs/faces_samples.png]

Three panels of ``COLS`` x ``ROWS`` faces, each decoded by the shipped model with onnxruntime:
latents from the prior N(0, I), latents from the density fitted to the encoded training set
(``game.model.density``; the model file must carry one), both from seed ``SEED`` at temperature
1, and, for reference, real renders of held-out faces (``export.facequality.HELDOUT_SEED``)
reconstructed through the model. Images are enlarged with bilinear filtering (the image look
"smooth"), so the picture shows the decodes' real sharpness.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from latent_odyssey.export.facequality import HELDOUT_SEED, render  # noqa: E402
from latent_odyssey.export.facereport import OnnxFaceModel  # noqa: E402
from latent_odyssey.game.atomic import atomic_path  # noqa: E402
from latent_odyssey.game.engine import imaging, ui  # noqa: E402
from latent_odyssey.game.model.decoder import Decoder  # noqa: E402
from latent_odyssey.game.model.density import PriorSampler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
COLS, ROWS = 4, 2  # faces per panel (more would pass the 300 KB the README allows)
CELL_PX = 96  # each face, enlarged from 64
GAP_PX = 4
PAD_PX = 16
TITLE_PX = 30
SEED = 0


def panel(images: np.ndarray, title: str, note: str, colour: tuple[int, int, int]) -> pygame.Surface:
    """A titled COLS x ROWS grid of uint8 (N, H, W, 3) images."""
    w = COLS * CELL_PX + (COLS - 1) * GAP_PX + 2 * PAD_PX
    h = ROWS * CELL_PX + (ROWS - 1) * GAP_PX + 2 * PAD_PX + TITLE_PX + 18
    s = pygame.Surface((w, h))
    s.fill(ui.BG)
    ui.card(s, s.get_rect())
    ui.text(s, title, (PAD_PX, PAD_PX - 2), size=16, color=colour, bold=True)
    ui.text(s, note, (PAD_PX, PAD_PX + 18), size=12, color=ui.DIM)
    for i, img in enumerate(images[: COLS * ROWS]):
        r, c = divmod(i, COLS)
        x = PAD_PX + c * (CELL_PX + GAP_PX)
        y = PAD_PX + TITLE_PX + 14 + r * (CELL_PX + GAP_PX)
        s.blit(imaging.enlarged(img, (CELL_PX, CELL_PX), "smooth"), (x, y))
    return s


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=REPO / "pretrained" / "faces.onnx")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "faces_samples.png")
    args = ap.parse_args(argv)
    pygame.display.init()
    pygame.font.init()
    model = OnnxFaceModel.open(args.model)
    density = model.meta.fitted_density()
    if density is None:
        print(f"{args.model} has no fitted density; add one with python -m latent_odyssey.export.density.",
              file=sys.stderr)
        return 1
    n = COLS * ROWS
    real = render(n, HELDOUT_SEED, model.size)
    rgb = Decoder.to_rgb8
    panels = [
        panel(rgb(model.decode(PriorSampler(model.meta.latent_dim).sample(n, SEED).astype(np.float32))),
              "prior N(0, I)", "z ~ N(0, I), decoded", (255, 140, 110)),
        panel(rgb(model.decode(density.sample(n, SEED).astype(np.float32))),
              "fitted density", f"z from {density.describe()}, decoded", (120, 225, 170)),
        panel(rgb(model.decode(model.encode(real).astype(np.float32))),
              "reconstructions", "held-out renders, encoded and decoded", (110, 180, 255)),
    ]
    w = sum(p.get_width() for p in panels) + GAP_PX * 3 * (len(panels) - 1)
    out = pygame.Surface((w, panels[0].get_height()))
    out.fill(ui.BG)
    x = 0
    for p in panels:
        out.blit(p, (x, 0))
        x += p.get_width() + 3 * GAP_PX
    with atomic_path(args.out, ".png") as tmp:
        pygame.image.save(out, str(tmp))
    print(f"{args.out}: {out.get_width()}x{out.get_height()}, {args.out.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
