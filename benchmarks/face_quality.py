"""Face model quality from the shipped ONNX files alone (numpy renderer + onnxruntime, no torch).

    python -m benchmarks.face_quality                                   # pretrained/faces.onnx
    python -m benchmarks.face_quality --model pretrained/faces.onnx --model runs/faces2/faces.onnx
    python -m benchmarks.face_quality --pairs 100 --fit 0 --json quality.json

For each ``--model`` (repeatable; a face decoder with its encoder beside it) it measures, on
the same rendered faces for every model (``export.facequality`` says exactly how):

* held-out reconstruction PSNR on faces of a render seed no training run uses (``--seed``);
* the counterfactual edit table per attribute: the same faces rendered with the attribute low
  and high, the low face's μ moved along a direction, the fraction of the way to the high
  face's decode, the share of pairs that got closer, and where the change lands (mouth window
  for smile, glasses window for glasses) beside where the true change lands; for the shipped
  directions and, unless ``--fit 0``, for every candidate method of ``export.directions``
  (mean difference, logistic normal, conditional, paired) fitted on ``--fit`` encoded training
  faces and counterfactual pairs of another seed; and each attribute's ceiling, the most of the
  way any edit that sees only the low face can get (the renderer hides some of the high face's
  cues: ``export.facequality.edit_ceiling``);
* sample quality: sharpness and a Fréchet distance of encodings for the prior N(0, I), the
  fitted density (when the file has one) and the stored encoded training faces, next to real
  renders and reconstructions.

Prints Markdown tables fit for a model card (``--json PATH`` also writes the numbers). A bad
model file, or one that is not a face model, gets one sentence and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from latent_odyssey.export.facereport import OnnxFaceModel, Setup, markdown, measure
from latent_odyssey.game.atomic import write_json
from latent_odyssey.game.cliutil import (
    OneSentenceParser,
    int_at_least,
    non_negative_float,
    run_cli,
    seed_int,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = REPO / "pretrained" / "faces.onnx"


class _Parser(OneSentenceParser):
    command = "face_quality"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = Setup()
    p = _Parser(prog="python -m benchmarks.face_quality", description=__doc__.split("\n")[0])
    p.add_argument("--model", action="append", type=Path, metavar="PATH",
                   help=f"a face decoder .onnx (repeatable; default {DEFAULT_MODEL.relative_to(REPO)})")
    p.add_argument("--faces", type=int_at_least(2), default=d.faces, help="held-out faces (PSNR, sample references)")
    p.add_argument("--pairs", type=int_at_least(2), default=d.pairs, help="counterfactual pairs per attribute")
    p.add_argument("--samples", type=int_at_least(2), default=d.samples, help="decoded latents per sampler")
    p.add_argument("--fit", type=int_at_least(0), default=d.fit,
                   help="encoded training faces for the candidate directions (0: shipped directions only)")
    p.add_argument("--seed", type=seed_int, default=d.seed, help="render seed of the held-out faces and pairs")
    p.add_argument("--temperature", type=non_negative_float, default=d.temperature, help="of the sampled latents")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers as JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    def body() -> int:
        setup = Setup(faces=args.faces, pairs=args.pairs, samples=args.samples, fit=args.fit, seed=args.seed,
                      temperature=args.temperature)
        models = [OnnxFaceModel.open(p) for p in (args.model or [DEFAULT_MODEL])]
        results = []
        for m in models:
            t0 = time.perf_counter()
            try:
                results.append(measure(m, setup))
            except ValueError as exc:  # the held-out seed is one the model trained on
                print(f"face_quality: {m.path}: {exc}", file=sys.stderr)
                return 2
            print(f"measured {m.path} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        print(markdown(results, setup))
        if args.json:
            write_json(args.json, {"setup": {k: v for k, v in vars(setup).items() if not k.startswith("_")},
                                   "results": results})
        return 0

    return run_cli("face_quality", body)


if __name__ == "__main__":
    raise SystemExit(main())
