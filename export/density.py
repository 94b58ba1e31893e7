"""Add the fitted density (and the face-quality report) to an existing face model file, torch-free.

    python -m latent_odyssey.export.density pretrained/faces [--faces N] [--refit] [--directions] [--fields] [--no-report]

For ``PREFIX.onnx`` (a face model with its encoder beside it):

1. render the model's own training faces with the numpy renderer (``train.faces``: the first N
   faces of render seed 2s, s the run's seed; N the run's ``--limit`` / ``faces_train``, or
   ``--faces``) and encode them with the ONNX encoder (μ);
2. fit the density (``game.model.density.fit_density``: a Gaussian mixture in the principal
   subspace of μ) and store it as the metadata's ``density`` (a file that has one, such as a
   fresh ``odyssey-export``, keeps it unless ``--refit``; steps 1-2 are then skipped);
3. with ``--directions``, re-choose each attribute direction: of the candidate methods of
   ``export.directions`` and the file's own direction, the one that gets farthest of the way on
   held-out counterfactual pairs (so a direction of a method needing torch, ``decoded``, is kept
   unless an ONNX-only candidate beats it); with ``--fields``, fit each attribute's edit field
   (``export.editfields``: the face-dependent edit the studio's sliders use) and store it as
   the metadata's ``attribute_fields``;
4. unless ``--no-report``, measure the face-quality tables (``export.facereport``: held-out
   PSNR, counterfactual edits, samples) and store them as ``training["face_quality"]`` for the
   model card;
5. write ``PREFIX.onnx`` atomically (the ``onnx`` package: the graph is untouched, only the
   metadata changes) and check that the new file opens with the game's own loader and decodes
   exactly as the old one did.

``PREFIX.pt`` and ``PREFIX.md`` carry the metadata too: remake them from the new file with
``python -m latent_odyssey.export.reship PREFIX`` (that needs torch). Bad input (a missing or
broken file, a model that is not a face model) gets one sentence and exit status 1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import onnx

from latent_odyssey.export.editfields import fit_model_fields
from latent_odyssey.export.facequality import check_heldout_seed
from latent_odyssey.export.facereport import (
    OnnxFaceModel,
    Setup,
    candidates,
    choose,
    markdown,
    measure,
)
from latent_odyssey.game.atomic import atomic_path
from latent_odyssey.game.cliutil import (
    EXIT_FAILURE,
    InputError,
    OneSentenceParser,
    int_at_least,
    run_cli,
)
from latent_odyssey.game.model.density import fit_density
from latent_odyssey.game.model.modelfile import (
    DECODER_INPUT,
    METADATA_KEY,
    ModelFileError,
    ModelMeta,
    open_model,
)

SYNTHETIC = "synthetic faces"  # the dataset name of models trained on the renderer
PROBE_LATENTS = 8  # latents decoded by the old and the new file, which must agree exactly


class DensityError(InputError):
    """The model cannot get a density this way (one sentence)."""

    exit_status = EXIT_FAILURE


def training_count(meta: ModelMeta, faces: int | None) -> int:
    """How many training faces to encode: ``faces``, else the run's own count."""
    if meta.dataset != SYNTHETIC:
        raise DensityError(f"{meta.name} was trained on {meta.dataset!r}, not on the renderer's synthetic faces; "
                           "only those can be rendered again.")
    n = faces or meta.training.get("limit") or meta.training.get("faces_train")
    if not isinstance(n, int) or n < 2:
        raise DensityError(f"{meta.name} does not say how many faces it was trained on; give --faces N.")
    return n


def write_metadata(path: Path, meta: ModelMeta) -> None:
    """Replace the metadata of the decoder ``path`` (atomically; the graph untouched)."""
    model = onnx.load(str(path))
    entries = [p for p in model.metadata_props if p.key == METADATA_KEY]
    if len(entries) != 1:
        raise ModelFileError(f"{path} has {len(entries)} Latent Odyssey metadata entries, not one.")
    entries[0].value = meta.to_json()
    with atomic_path(path, ".onnx") as tmp:
        onnx.save(model, str(tmp))


def add_density(prefix: Path, faces: int | None = None, directions: bool = False, report: bool = True,
                setup: Setup | None = None, log=print, refit: bool = True, fields: bool = False) -> ModelMeta:
    """Steps 1-5 of the module docstring on ``PREFIX.onnx``; returns the new metadata."""
    path = prefix.with_name(prefix.name + ".onnx")
    model = OnnxFaceModel.open(path)
    meta = model.meta
    if refit or not meta.density:
        n = training_count(meta, faces)
        t0 = time.perf_counter()
        images, _ = model.training_faces(n)
        mu = model.encode(images)  # (N, D)
        del images
        density = fit_density(mu)
        meta.density = density.to_dict()
        log(f"{path}: fitted {density.describe()} to {n} encoded training faces "
            f"(residual std {density.residual_std:.3f}) in {time.perf_counter() - t0:.0f} s")
    setup = setup or Setup()
    try:
        check_heldout_seed(meta.training.get("seed"), setup.seed)
    except ValueError as exc:
        raise DensityError(str(exc)) from None
    if fields:
        t0 = time.perf_counter()
        meta.attribute_fields = fit_model_fields(model, setup.field_pairs, log=log)
        log(f"{path}: edit fields fitted in {time.perf_counter() - t0:.0f} s")
    if directions or report:
        methods = candidates(model, setup)
        result = measure(model, setup, methods)
        if directions:
            meta.attributes = choose(result, methods)
            log(f"{path}: attribute directions re-chosen: "
                + ", ".join(f"{row['attribute']} {row['method'][len('shipped (= '):-1]}"
                            for row in result["edits"] if row["method"].startswith("shipped (=")))
        if report:
            meta.training["face_quality"] = markdown([result], setup)
    meta.validate(str(path))
    probe = np.random.default_rng(0).standard_normal((PROBE_LATENTS, meta.latent_dim)).astype(np.float32)
    before = model.decoder.run(None, {DECODER_INPUT: probe})[0]
    write_metadata(path, meta)
    sess, back = open_model(path, "cpu")
    if back != meta or not np.array_equal(sess.run(None, {DECODER_INPUT: probe})[0], before):
        raise ModelFileError(f"{path} did not read back as written.")
    return back


class _Parser(OneSentenceParser):
    command = "density"


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="python -m latent_odyssey.export.density", description=__doc__.split("\n")[0])
    p.add_argument("prefix", type=Path, metavar="PREFIX", help="e.g. pretrained/faces (PREFIX.onnx is rewritten)")
    p.add_argument("--faces", type=int_at_least(2), help="training faces to encode (default: as many as the run used)")
    p.add_argument("--refit", action="store_true", help="fit the density again when the file has one")
    p.add_argument("--directions", action="store_true",
                   help="also re-choose the attribute directions on held-out counterfactual pairs")
    p.add_argument("--fields", action="store_true",
                   help="also fit the face-dependent edit fields the studio's sliders use (export/editfields.py)")
    p.add_argument("--no-report", action="store_true", help="do not measure and store the face-quality tables")
    args = p.parse_args(argv)

    def body() -> int:
        add_density(args.prefix, args.faces, args.directions, not args.no_report, refit=args.refit, fields=args.fields)
        if args.prefix.with_name(args.prefix.name + ".pt").exists():
            print(f"Now remake {args.prefix}.pt and {args.prefix}.md from it: "
                  f"python -m latent_odyssey.export.reship {args.prefix}", file=sys.stderr)
        return 0

    return run_cli("density", body)


if __name__ == "__main__":
    raise SystemExit(main())
