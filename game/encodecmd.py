"""The ``odyssey encode`` command: pictures in, posteriors out, for scripts and notebooks.

Usage::

    odyssey encode FILE... [--model NAME|PATH] [--json]

Each file is read (``model.imagefile``), preprocessed the way the model's training data was
(``model.preprocess``: MNIST's recipe for digits, Fashion-MNIST's for garments, a centre square
for faces) and encoded with the model's encoder. Printed per file: μ, σ, the nearest class
centroid and its distance. ``--json`` prints one JSON list with one object per file, in the
order given: ``file``, ``mu``, ``sigma``, ``nearest_class`` (the class name, or null for a
model without classes), ``distance`` (Euclidean, in latent units, or null), and ``error``
(null, or the sentence saying why the file could not be encoded; its numbers are then null).

Exit status: 0 when every file was encoded; 1 when any could not be (each one's sentence goes
to stderr), or the model cannot encode; 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from latent_odyssey.game import paths
from latent_odyssey.game.cliutil import EXIT_FAILURE, EXIT_USAGE
from latent_odyssey.game.model.modelfile import ModelFileError, ModelMeta, open_encoder, open_model
from latent_odyssey.game.model.posterior import EncodeError, Posterior, encode_file, require_encoder

SHOWN_DIMS = 8  # the text output lists this many dimensions (JSON lists all)


def add_encode_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``odyssey encode`` on an argparse subparsers object."""
    p = sub.add_parser(
        "encode", help="encode image files: μ, σ and the nearest class",
        description="Preprocess image files the way the model's training data was and encode them: "
                    "prints μ, σ, the nearest class centroid and its distance.",
    )
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="PNG, JPEG, GIF, BMP or WebP files")
    p.add_argument("--model", metavar="NAME|PATH", default=paths.DEFAULT_MODEL,
                   help=f"a shipped model name or a path to a .onnx decoder (default {paths.DEFAULT_MODEL})")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    return p


def result_record(file: Path, meta: ModelMeta, post: Posterior | None, error: str | None) -> dict:
    """The JSON object for one file."""
    near = post.nearest_class(meta.centroid_array()) if post is not None else None
    return {
        "file": str(file),
        "mu": None if post is None else [round(float(v), 6) for v in post.mu],
        "sigma": None if post is None else [round(float(v), 6) for v in post.sigma],
        "nearest_class": None if near is None else meta.class_names[near[0]],
        "distance": None if near is None else round(near[1], 6),
        "error": error,
    }


def _row(values: list[float], fmt: str) -> str:
    shown = " ".join(format(v, fmt) for v in values[:SHOWN_DIMS])
    more = len(values) - SHOWN_DIMS
    return shown + (f"  (+{more} more dims; --json lists all)" if more > 0 else "")


def result_text(record: dict, post: Posterior) -> str:
    """A few readable lines for one encoded file."""
    lines = [record["file"] + ("  (light paper: inverted)" if post.inverted else "")]
    lines.append("  mu     " + _row(record["mu"], "+.3f"))
    lines.append("  sigma  " + _row(record["sigma"], " .3f"))
    if record["nearest_class"] is not None:
        lines.append(f"  nearest class {record['nearest_class']} at distance {record['distance']:.3f}")
    return "\n".join(lines)


def cmd_encode(args: argparse.Namespace) -> int:
    """Run ``odyssey encode``; returns the exit status (messages are one sentence each)."""
    path = paths.find_model(args.model)
    if path is None:
        print(f"odyssey: {paths.describe_missing_model(args.model)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        _session, meta = open_model(path, "cpu")
        encoder = open_encoder(path, meta, "cpu")
        require_encoder(encoder, meta)
    except (ModelFileError, EncodeError) as exc:
        print(f"odyssey: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    records, failed = [], 0
    for file in args.files:
        try:
            post, error = encode_file(encoder, meta, file), None
        except EncodeError as exc:
            post, error = None, str(exc)
            failed += 1
            print(f"odyssey: {error}", file=sys.stderr)
        record = result_record(file, meta, post, error)
        records.append(record)
        if not args.json and post is not None:
            print(result_text(record, post))
    if args.json:
        print("[\n" + ",\n".join(" " + json.dumps(r) for r in records) + "\n]")  # one file per line
    return EXIT_FAILURE if failed else 0
