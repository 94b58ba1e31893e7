"""The face-quality report of one or more face models, from their ONNX files (numpy + onnxruntime).

``measure(model, setup)`` runs every measurement of ``export.facequality`` on one model —
held-out PSNR, the counterfactual edit table of the shipped directions and of each candidate
method of ``export.directions`` (``candidates``: fitted on encoded training faces and on
counterfactual pairs of ``FIT_PAIRS_SEED``), and the sample quality of the prior, the fitted
density and the encoded training faces — and ``markdown(results, setup)`` prints the tables,
one row per model, fit for a model card. ``choose`` keeps, per attribute, the candidate that
gets farthest of the way on the held-out pairs. The renders (held-out faces,
counterfactual pairs) are made once per image size and shared by every model, so two models
are compared on the same faces. ``benchmarks/face_quality.py`` is the command line;
``export/density.py`` stores the tables in the model file for its card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from latent_odyssey.export.directions import METHODS, candidate_directions
from latent_odyssey.export.editfields import FIELD_PAIRS
from latent_odyssey.export.facequality import (
    FIT_PAIRS_SEED,
    HELDOUT_SEED,
    Decode,
    Encode,
    Pairs,
    check_heldout_seed,
    counterfactual_pairs,
    edit_ceiling,
    edit_score,
    encode_pairs,
    field_score,
    heldout_psnr,
    render,
    sample_quality,
)
from latent_odyssey.game.model.density import PriorSampler
from latent_odyssey.game.model.editfield import EditField
from latent_odyssey.game.model.modelfile import (
    DECODER_INPUT,
    ENCODER_INPUT,
    ModelFileError,
    ModelMeta,
    open_encoder,
    open_model,
)
from latent_odyssey.train.faces import ATTRIBUTES, render_faces

BATCH = 250  # images per onnxruntime run
SAMPLE_SEED = 0  # seed of the sampled latents
SHARPNESS_SCALE = 1e3  # sharpness is printed ×1000
FIELD_METHOD = "shipped field"  # the edit table's rows of the file's face-dependent edits
MAX_SHARED_COS = 0.7  # |cos| above which two attributes' directions count as the same slider


@dataclass
class Setup:
    """What to measure, and on how many faces."""

    faces: int = 500  # held-out faces for PSNR and the sample references
    pairs: int = 200  # counterfactual pairs per attribute
    samples: int = 500  # decoded latents per sampler
    fit: int = 3000  # encoded training faces for the candidate directions (0: shipped only); the
    # paired method uses ``pairs`` counterfactual pairs of the training stream
    seed: int = HELDOUT_SEED  # render seed of the held-out faces and the pairs
    temperature: float = 1.0  # of the density and prior samples
    field_pairs: int = FIELD_PAIRS  # counterfactual pairs per attribute an edit field is fitted on
    _renders: dict = field(default_factory=dict, repr=False)

    def heldout(self, size: int) -> np.ndarray:
        """The held-out faces at ``size`` (rendered once).  # (N, 3, size, size)"""
        key = ("heldout", size)
        if key not in self._renders:
            self._renders[key] = render(self.faces, self.seed, size)
        return self._renders[key]

    def counterfactuals(self, size: int) -> list[Pairs]:
        """The pairs of every attribute at ``size`` (rendered once)."""
        key = ("pairs", size)
        if key not in self._renders:
            self._renders[key] = [counterfactual_pairs(a, self.pairs, self.seed + 1 + j, size)
                                  for j, a in enumerate(ATTRIBUTES)]
        return self._renders[key]

    def ceilings(self, size: int) -> dict[str, float]:
        """{attribute: ``edit_ceiling``} on the pairs of ``counterfactuals`` (measured once)."""
        key = ("ceilings", size)
        if key not in self._renders:
            self._renders[key] = {a: edit_ceiling(a, self.pairs, self.seed + 1 + j, size)
                                  for j, a in enumerate(ATTRIBUTES)}
        return self._renders[key]


@dataclass
class OnnxFaceModel:
    """A face model's decoder and encoder files as numpy callables."""

    path: Path
    meta: ModelMeta
    decoder: object  # onnxruntime.InferenceSession
    encoder: object

    @classmethod
    def open(cls, path: Path) -> OnnxFaceModel:
        """Open and check ``path``; raises ModelFileError (one sentence) for anything else than a
        face model with attribute directions and an encoder."""
        decoder, meta = open_model(path, "cpu")
        if meta.kind != "faces" or not meta.attributes:
            raise ModelFileError(f"{path} is a {meta.kind} model without face attributes, not a face model.")
        if list(meta.attributes) != list(ATTRIBUTES):
            raise ModelFileError(f"{path} has the attributes {', '.join(meta.attributes)}, not {', '.join(ATTRIBUTES)}.")
        encoder = open_encoder(path, meta, "cpu")
        if encoder is None:
            raise ModelFileError(f"{path} has no encoder file beside it ({meta.encoder_file or 'none named'}).")
        return cls(Path(path), meta, decoder, encoder)

    @property
    def size(self) -> int:
        return self.meta.image_shape[1]

    def encode(self, images: np.ndarray) -> np.ndarray:
        """images (N, C, H, W) in [0, 1] -> μ (N, D) float64"""
        parts = [self.encoder.run(None, {ENCODER_INPUT: np.ascontiguousarray(images[i:i + BATCH], np.float32)})[0]
                 for i in range(0, len(images), BATCH)]
        return np.concatenate(parts).astype(np.float64)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """z (N, D) -> images (N, C, H, W) float32 in [0, 1]"""
        parts = [self.decoder.run(None, {DECODER_INPUT: np.ascontiguousarray(z[i:i + BATCH], np.float32)})[0]
                 for i in range(0, len(z), BATCH)]
        return np.concatenate(parts)

    def training_faces(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n`` faces of the model's own training stream (render seed 2s, as
        ``train.faces.faces_dataset``), as images (N, 3, H, W) and attributes (N, 4)."""
        seed = self.meta.training.get("seed", 0)
        images, attrs = render_faces(n, seed=2 * int(seed), size=self.size)
        return images.transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255), attrs


def candidates(model: OnnxFaceModel, setup: Setup) -> dict[str, np.ndarray]:
    """{method: (A, D) unit directions}: the shipped ones, and (unless ``setup.fit`` is 0) every
    method of ``export.directions``, fitted on ``setup.fit`` encoded training faces and
    ``setup.pairs`` counterfactual pairs per attribute of ``FIT_PAIRS_SEED``."""
    meta = model.meta
    out = {"shipped": np.stack([meta.attribute_array(a).astype(np.float64) for a in ATTRIBUTES])}  # (A, D)
    if setup.fit:
        images, attrs = model.training_faces(setup.fit)
        fit_pairs = [counterfactual_pairs(a, setup.pairs, FIT_PAIRS_SEED + j, model.size)
                     for j, a in enumerate(ATTRIBUTES)]
        codes = [(model.encode(p.low), model.encode(p.high)) for p in fit_pairs]
        out.update(candidate_directions(model.encode(images), attrs, codes))
    return out


def score_methods(pairs: list[Pairs], methods: dict[str, np.ndarray], encode: Encode, decode: Decode,
                  fields: dict[str, EditField] | None = None) -> list[dict]:
    """``edit_score`` rows {"attribute", "method", ...} of every method's direction (row j of its
    (A, D) array) on the pairs of attribute j (``pairs[j]``), and a ``FIELD_METHOD`` row
    (``field_score``) for each attribute ``fields`` has."""
    rows = []
    for j, p in enumerate(pairs):
        codes = encode_pairs(p, encode, decode)
        rows += [{"attribute": p.attr, "method": m, **edit_score(p, codes, dirs[j], decode)}
                 for m, dirs in methods.items()]
        if fields and p.attr in fields:
            rows.append({"attribute": p.attr, "method": FIELD_METHOD, **field_score(p, codes, fields[p.attr], decode)})
    return rows


def measure(model: OnnxFaceModel, setup: Setup, methods: dict[str, np.ndarray] | None = None) -> dict:
    """Every measurement of one model: {"name", "path", "psnr", "edits": [rows], "samples": [rows]}
    (``methods``: the directions to score, default ``candidates(model, setup)``)."""
    check_heldout_seed(model.meta.training.get("seed"), setup.seed)
    meta = model.meta
    methods = candidates(model, setup) if methods is None else methods
    fields = {a: f for a in ATTRIBUTES if (f := meta.edit_field(a)) is not None}
    edits = score_methods(setup.counterfactuals(model.size), methods, model.encode, model.decode, fields)
    samplers: dict = {"prior N(0, I)": PriorSampler(meta.latent_dim)}
    density = meta.fitted_density()
    if density is not None:
        samplers[f"fitted density ({density.describe()})"] = density
    stored, _ = meta.sample_array()
    if len(stored):
        samplers["encoded training faces (stored)"] = stored
    samples = sample_quality(model.encode, model.decode, samplers, setup.heldout(model.size), setup.samples,
                             SAMPLE_SEED, setup.temperature)
    return {"name": meta.name, "path": str(model.path),
            "psnr": heldout_psnr(model.encode, model.decode, setup.heldout(model.size)),
            "edits": edits, "ceilings": setup.ceilings(model.size), "samples": samples}


def choose(result: dict, methods: dict[str, np.ndarray]) -> dict[str, list[float]]:
    """Per attribute, the unit direction that got farthest of the way in ``result``: a candidate
    method's, or the ``shipped`` one kept when no candidate beats it (a file whose directions
    came from a method the ONNX-only candidates lack, such as ``decoded``, never gets worse ones).
    ``result``'s ``shipped`` rows become copies of the chosen rows, named "shipped (= METHOD)"
    or "shipped (= kept)", as the model file will ship them."""
    best = best_methods(result, methods, pool=(*METHODS, "shipped"))
    chosen = {a: methods[best[a]][j].tolist() for j, a in enumerate(ATTRIBUTES) if a in best}
    for row in result["edits"]:
        if row["method"] == "shipped" and row["attribute"] in best:
            pick = next(r for r in result["edits"]
                        if r["attribute"] == row["attribute"] and r["method"] == best[row["attribute"]])
            name = "kept" if pick["method"] == "shipped" else pick["method"]
            row.update({**pick, "method": f"shipped (= {name})"})
    return chosen


def best_methods(result: dict, methods: dict[str, np.ndarray] | None = None,
                 pool: tuple[str, ...] = METHODS) -> dict[str, str]:
    """Per attribute, the method of ``pool`` (default: the candidate methods, ``shipped``
    excluded) that gets farthest of the way in ``result["edits"]``.

    With ``methods`` (the candidates' directions, (A, D) each), a slider must also be its own:
    attributes are taken in order of how far their best candidate gets, and a candidate whose
    direction has |cos| > ``MAX_SHARED_COS`` with a direction already kept for another attribute
    is passed over (a "smile" direction parallel to glasses edits glasses; a model that has not
    learned the smile gets its least-entangled candidate, and the table shows how little it does).
    """
    rows_of = {a: [r for r in result["edits"] if r["attribute"] == a and r["method"] in pool]
               for a in ATTRIBUTES}
    order = sorted((a for a in ATTRIBUTES if rows_of[a]), key=lambda a: -max(r["fraction"] for r in rows_of[a]))
    out: dict[str, str] = {}
    kept: list[np.ndarray] = []  # unit directions already chosen, (D,) each
    for attr in order:
        ranked = sorted(rows_of[attr], key=lambda r: -r["fraction"])
        if methods is None:
            out[attr] = ranked[0]["method"]
            continue
        j = ATTRIBUTES.index(attr)

        shared = {r["method"]: max((abs(float(np.dot(methods[r["method"]][j], k))) for k in kept), default=0.0)
                  for r in ranked}  # method -> largest |cos| with a kept direction
        free = [r for r in ranked if shared[r["method"]] <= MAX_SHARED_COS]
        pick = free[0] if free else min(ranked, key=lambda r: shared[r["method"]])
        out[attr] = pick["method"]
        kept.append(np.asarray(methods[pick["method"]][j], np.float64))
    return {a: out[a] for a in ATTRIBUTES if a in out}


def _pct(v: float) -> str:
    return "–" if math.isnan(v) else f"{v:.0%}"


def edit_lines(results: list[dict], pairs: int) -> list[str]:
    """The counterfactual edit table (Markdown lines, with its explanation): a row per model,
    attribute and direction method of each result's ``edits``."""
    lines = [
        f"**Counterfactual edits** ({pairs} pairs per attribute: the same faces rendered with the "
        "attribute low and high; the low face's μ moved along the direction by the mean projection of "
        "μ_high − μ_low on it; *shipped field*: each low face moved by its own change of the file's edit "
        "field, the face-dependent edit the studio's sliders use). *Of the way*: 1 − err_after / err_before against the high face's decode; "
        "*region*: the share of the pixel change inside the mouth (smile) or glasses (eyes) window, for "
        "the edit and for the true renders; *area*: the window's share of the image.",
        "",
        "| model | attribute | directions | step | of the way | pairs closer | region: edit | region: true | area |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        for e in r["edits"]:
            lines.append(
                f"| {r['name']} | {e['attribute']} | {e['method']} | {e['step']:.2f} | {e['fraction']:.1%} | "
                f"{e['closer']:.0%} | {_pct(e['local_edit'])} | {_pct(e['local_true'])} | {_pct(e['area'])} |"
            )
    return lines


def ceiling_lines(ceilings: dict[str, float] | None) -> list[str]:
    """The edit ceilings (``edit_ceiling``) as a Markdown paragraph; none without them."""
    if not ceilings:
        return []
    return ["", "*Ceiling* (the most of the way any edit that sees only the low face can get, on the "
            "true renders: cues such as which beard a feminine face would grow are not in it): "
            + ", ".join(f"{a} {v:.0%}" for a, v in ceilings.items()) + "."]


def labelled(results: list[dict]) -> list[dict]:
    """The results with the model column's words: the model's name, or its path where two
    compared models share a name."""
    names = [r["name"] for r in results]
    return [{**r, "name": r["path"] if names.count(r["name"]) > 1 else r["name"]} for r in results]


def markdown(results: list[dict], setup: Setup) -> str:
    """The report's tables (Markdown), one block per measurement, a model column in each."""
    results = labelled(results)
    lines = [
        f"**Held-out reconstruction** ({setup.faces} faces of render seed {setup.seed}, which no training "
        "run uses; PSNR of the decoded μ, mean over faces):",
        "",
        "| model | PSNR (dB) |",
        "| --- | --- |",
        *[f"| {r['name']} | {r['psnr']:.2f} |" for r in results],
        "",
        *edit_lines(results, setup.pairs),
        *ceiling_lines(results[0].get("ceilings")),
    ]
    if setup.fit:
        for r in results:
            best = best_methods(r)
            lines += ["", f"Best method on {r['name']} (farthest of the way): "
                      + ", ".join(f"{a} {m}" for a, m in best.items()) + "."]
    lines += [
        "",
        f"**Samples** ({setup.samples} latents each, temperature {setup.temperature:g}). *Sharpness*: mean "
        "variance of the grey image's Laplacian ×1000 (higher is sharper). *Fréchet*: distance between the "
        "encodings of the decoded samples and the encodings of the reconstructed held-out faces (lower is "
        "closer to the data).",
        "",
        "| model | source | sharpness | Fréchet |",
        "| --- | --- | --- | --- |",
    ]
    for r in results:
        for s in r["samples"]:
            fd = "–" if math.isnan(s["frechet"]) else f"{s['frechet']:.2f}"
            lines.append(f"| {r['name']} | {s['source']} | {s['sharpness'] * SHARPNESS_SCALE:.2f} | {fd} |")
    return "\n".join(lines)

