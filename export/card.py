"""The model card ``NAME.md``, in the shape a model hub expects.

* YAML front matter: ``license``, ``library_name``, ``pipeline_tag``, ``tags``, ``datasets``
  (hub ids, when the data set has one), ``metrics`` (the names) and ``model-index`` (the test
  values, exactly the metadata's ``metrics``).
* Sections: files (what each holds, the TorchScript methods and its metadata file), intended
  use, out-of-scope use, limitations, data, architecture and training, test metrics, export
  verification, attribute directions (faces), the fitted density and the face-quality tables
  (faces, when the file has them), training report, licences of the weights and of
  the training data, how to cite, and a runnable onnxruntime snippet.

Everything comes from the model file's metadata (:class:`ModelMeta`), so a card can be
regenerated from a shipped ``.onnx`` alone (``export.reship``). Torch-free.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from dataclasses import dataclass

from latent_odyssey import __version__
from latent_odyssey.game.model.modelfile import METADATA_KEY, ModelMeta

TORCHSCRIPT_FILE = "latent_odyssey.json"  # the metadata's name inside NAME.pt (export.torchscript)
WEIGHTS_LICENSE = "mit"  # SPDX id (lower case, as hubs write it); the project's own licence
PLAIN_YAML = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")  # strings safe to write unquoted
YAML_WORDS = {"y", "n", "yes", "no", "true", "false", "on", "off", "null"}  # YAML 1.1 bools and null
CARD_METRICS = ("neg_elbo_nats", "recon_nats", "kl_nats", "knn5_accuracy", "iw_log_likelihood_nats")
METRIC_NAMES = {
    "neg_elbo_nats": "test −ELBO (nats per image, β = 1, one sample)",
    "recon_nats": "test reconstruction term (nats per image)",
    "kl_nats": "test KL term (nats per image)",
    "knn5_accuracy": "5-NN class accuracy of test μ against train μ",
    "iw_log_likelihood_nats": "importance-weighted log-likelihood (nats per image)",
}

USAGE = '''```python
import json, numpy as np, onnxruntime as ort
sess = ort.InferenceSession("{decoder}")
meta = json.loads(sess.get_modelmeta().custom_metadata_map["{key}"])
z = np.asarray(meta["centroids"][0] if meta["centroids"] else meta["latent_mean"], np.float32)[None]
image = sess.run(None, {{"z": z}})[0][0]          # (C, H, W) float32 in [0, 1]
print(meta["name"], meta["latent_dim"], image.shape, image.min(), image.max())
enc = ort.InferenceSession("{encoder}")
mu, logvar = enc.run(None, {{"image": image[None]}})   # (1, D) each
print("round trip distance", float(np.linalg.norm(mu - z)))
```'''


@dataclass(frozen=True)
class DataCard:
    """What a card says about one training data set."""

    title: str
    hub_id: str  # a model hub's data set id ("" when there is none)
    licence: str  # one paragraph
    limitation: str  # what the data is and is not
    bibtex: str  # "" when there is nothing to cite


DATA_CARDS = {
    "mnist": DataCard(
        "MNIST", "ylecun/mnist",
        "MNIST: Yann LeCun and Corinna Cortes hold the copyright of MNIST, a derivative of NIST "
        "Special Databases 1 and 3; its distributors state that it is made available under the "
        "Creative Commons Attribution-Share Alike 3.0 licence (CC BY-SA 3.0). Whether share-alike "
        "terms reach weights trained on the data is not settled; check before redistributing "
        "under other terms.",
        "MNIST is 70 000 centred 28x28 greyscale digits written in the early 1990s by US Census "
        "Bureau employees and US high-school students: it does not represent handwriting in general "
        "(other scripts, styles, stroke widths, uncentred or noisy scans).",
        "@article{lecun1998mnist,\n  title = {Gradient-Based Learning Applied to Document Recognition},\n"
        "  author = {LeCun, Yann and Bottou, L{\\'e}on and Bengio, Yoshua and Haffner, Patrick},\n"
        "  journal = {Proceedings of the IEEE}, volume = {86}, number = {11}, pages = {2278--2324}, year = {1998}\n}",
    ),
    "fashion-mnist": DataCard(
        "Fashion-MNIST", "zalando-datasets/fashion_mnist",
        "Fashion-MNIST: copyright Zalando SE, released under the MIT licence "
        "(github.com/zalandoresearch/fashion-mnist).",
        "Fashion-MNIST is 70 000 centred 28x28 greyscale thumbnails of Zalando product photos in ten "
        "classes: it knows nothing of clothes worn, photographed in scenes, or in colour.",
        "@article{xiao2017fashion,\n  title = {Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine "
        "Learning Algorithms},\n  author = {Xiao, Han and Rasul, Kashif and Vollgraf, Roland},\n"
        "  journal = {arXiv preprint arXiv:1708.07747}, year = {2017}\n}",
    ),
    "synthetic faces": DataCard(
        "synthetic faces", "",
        "Synthetic faces: rendered on the fly by this project's procedural renderer "
        "(`latent_odyssey.train.faces`), MIT like the code. No photograph and no real person is "
        "in the training data.",
        "**Synthetic data only.** Every training face was drawn by a procedural renderer of 64x64 "
        "cartoon-like faces (signed-distance shapes): the model has never seen a photograph and "
        "says nothing about real faces.",
        "",
    ),
}
FACE_FOLDER = DataCard(
    "a user's face folder", "",
    "A user's own face folder: the folder's licence, and the consent of the people in it, "
    "govern these weights. **Fill this in before publishing.**",
    "Trained on a user's folder of aligned face photos: its coverage and biases are those of "
    "that folder, which this card cannot describe.",
    "",
)
UNKNOWN_DATA = DataCard(
    "an unknown data set", "", "The training data's licence applies; **fill it in before publishing.**",
    "The training data is not one this exporter knows; describe it here.", "",
)


def data_card(dataset: str) -> DataCard:
    """The data description for ``meta.dataset`` ("mnist", "fashion-mnist", "synthetic faces",
    "faces folder NAME", or anything else)."""
    if dataset in DATA_CARDS:
        return DATA_CARDS[dataset]
    return FACE_FOLDER if dataset.startswith("faces folder") else UNKNOWN_DATA


# ------------------------------------------------------------------------------ front matter


def _yaml_scalar(v: object) -> str:
    """A YAML 1.1 scalar that PyYAML and hub parsers read back as the same value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        text = repr(v)
        if "e" in text and "." not in text.split("e")[0]:  # YAML 1.1 floats need a dot: 1.0e-05
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    text = str(v)
    if PLAIN_YAML.fullmatch(text) and text.lower() not in YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def yaml_lines(value: object, indent: int = 0) -> list[str]:
    """Block-style YAML lines for nested dicts and lists of scalars, dicts and lists."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{key}:")
                lines += yaml_lines(v, indent + 2)
            else:
                empty = "{}" if isinstance(v, dict) else "[]"
                lines.append(f"{pad}{key}: {empty if isinstance(v, (dict, list)) else _yaml_scalar(v)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                sub = yaml_lines(item, indent + 2)
                lines.append(f"{pad}- {sub[0].lstrip()}")
                lines += sub[1:]
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    return lines


def card_metrics(meta: ModelMeta) -> dict[str, float]:
    """The metadata's headline test metrics that are finite numbers, in CARD_METRICS order."""
    out: dict[str, float] = {}
    for key in CARD_METRICS:
        v = meta.metrics.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[key] = v
    return out


def front_matter(meta: ModelMeta) -> dict:
    """The card's YAML front matter as a dict (written by :func:`model_card`)."""
    data = data_card(meta.dataset)
    metrics = card_metrics(meta)
    tags = ["vae", "variational-autoencoder", "latent-space", "onnx", "torchscript", "latent-odyssey", meta.kind]
    dataset_entry = {"type": data.hub_id or meta.dataset, "name": data.title, "split": "test"}
    fm: dict = {
        "license": WEIGHTS_LICENSE,
        "library_name": "onnx",
        "pipeline_tag": "unconditional-image-generation",
        "tags": tags,
    }
    if data.hub_id:
        fm["datasets"] = [data.hub_id]
    fm["metrics"] = list(metrics)
    fm["model-index"] = [{
        "name": meta.name,
        "results": [{
            "task": {"type": "unconditional-image-generation", "name": "Variational autoencoding"},
            "dataset": dataset_entry,
            "metrics": [{"type": k, "name": METRIC_NAMES[k], "value": v} for k, v in metrics.items()],
        }],
    }]
    return fm


# ------------------------------------------------------------------------------ sections


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _uses(meta: ModelMeta) -> tuple[list[str], list[str]]:
    """(intended use, out-of-scope use) bullet lines."""
    if meta.kind == "faces":
        intended = [
            "Exploring a latent space of synthetic faces: decode points, move along attribute "
            "directions, morph between faces (the Latent Odyssey face studio, the web page, notebooks).",
            "Teaching latent arithmetic, and how the labels used to find a direction shape (and entangle) it.",
        ]
        out = [
            "Anything on photographs of real people: face recognition, identification or verification; "
            "inferring age, gender, emotion or any other attribute of a person.",
            "Making realistic images of people, or images meant to pass as photographs.",
            "Any decision about a person.",
        ]
    else:
        intended = [
            "Exploring and teaching how a VAE organises its latent space: decode any point, glide "
            "between class centroids, compare linear and spherical interpolation (the Latent Odyssey "
            "game, the web page, notebooks).",
            "A small, documented baseline for VAE experiments on this data set.",
        ]
        out = [
            f"Recognising {'garments' if meta.kind == 'fashion' else 'digits'}: the model is not a classifier "
            "(the 5-NN accuracy of its latent is a diagnostic, not a product).",
            "Generating data to train or evaluate other systems where fidelity matters.",
            "Calibrated likelihoods or anomaly detection outside the test set measured here.",
        ]
    return intended, out


def _guide_line(t: dict) -> list[str]:
    """The card's line on ``--guide`` (train/guide.py), for models trained with it."""
    names = t.get("guide")
    if not names:
        return []
    d = (t.get("architecture") or {}).get("latent_dim")
    dims = ", ".join(f"{n} -> latent dim {d - 1 - j}" if isinstance(d, int) else n for j, n in enumerate(names))
    return [f"- Attribute guide until epoch {t.get('guide_until')} ({dims}): a supervised pull of those "
            "dims' μ toward the renderer's labels, added to the loss in those epochs only; the metrics and "
            "the ELBO never include it (`train/guide.py`)."]


def _limitations(meta: ModelMeta) -> list[str]:
    t = meta.training
    d = meta.latent_dim
    device = f" on {meta.metrics['device'].upper()}" if isinstance(meta.metrics.get("device"), str) else ""
    sharpness = (
        "with a learned decoder σ (a σ-VAE): decodes are far sharper than a fixed-σ model's, but "
        "small low-contrast details (on faces: the mouth) stay faint, and longer training would improve them."
        if (t.get("architecture") or {}).get("learned_sigma") else
        "decoded images are blurry, as VAE decodes with this likelihood are, and better training would "
        "improve them."
    )
    lines = [
        data_card(meta.dataset).limitation,
        f"A small model ({t.get('parameters', 0):,} parameters) trained for "
        f"{t.get('epochs_completed', t.get('epochs', '?'))} epochs{device}"
        f"{' ' if sharpness.startswith('with') else ': '}{sharpness}",
        "The metrics are one-sample ELBO terms at β = 1 on the test set, in nats per image; they are "
        "not a measure of perceptual quality.",
        "Points drawn from the N(0, I) prior can fall in regions the encoder never uses ('holes' of "
        "the aggregate posterior) and decode to implausible images; the stored encoded samples "
        "(`sample_z`) are safer starting points.",
    ]
    if d <= 3 and meta.class_names:
        lines.append(
            f"A {d}-D latent compresses the images heavily: classes overlap (5-NN accuracy "
            f"{_fmt(meta.metrics.get('knn5_accuracy', '?'))}), so a point between two classes decodes to "
            "a blend, not to either."
        )
    if meta.kind == "faces":
        if meta.attributes:
            lines.append(
                "**Labels from the renderer.** The attributes "
                f"({', '.join(meta.attributes)}) are the renderer's own drawing parameters, not human "
                "annotations; each direction is one straight line in the latent space, chosen among "
                "several methods on counterfactual pairs, and moves other attributes too (see the "
                "off-target column of the edit-quality table and the counterfactual edits under Face quality)."
                + (" The file also carries an edit field per attribute (`attribute_fields`): a change that "
                   "turns with the face, fitted on counterfactual pairs; the Face Studio's sliders use it "
                   "(rows `shipped field` under Face quality), while runtimes that read only the directions "
                   "(the web page) move every face along the one line." if meta.attribute_fields else "")
            )
        if "gender" in meta.attributes:
            lines.append(
                "**'gender' is a binary presentation slider.** It moves between the renderer's two "
                "drawn presentations (hair length, jaw, brows, make-up, facial hair), which are "
                "stereotypes chosen by the renderer's author; it says nothing about anyone's gender "
                "identity, and the training data had no faces in between."
            )
        lines.append(
            "The renderer's choices (skin tones, hair styles, what 'old' looks like) are its author's; "
            "the model inherits them."
        )
    return lines


def _torchscript_line(files: dict[str, str], meta: ModelMeta) -> str:
    shape = ", ".join(map(str, meta.image_shape))
    return (
        f"- `{files['torchscript']}`: the whole VAE as TorchScript: `decode(z)` (also `forward`) "
        f"[N, {meta.latent_dim}] -> [N, {shape}] in [0, 1], and `encode(image)` -> `(mu, logvar)` "
        f"[N, {meta.latent_dim}] each; the same metadata JSON is the extra file `{TORCHSCRIPT_FILE}` "
        f"in the archive (`torch.jit.load(path, _extra_files={{\"{TORCHSCRIPT_FILE}\": \"\"}})` fills it in)."
    )


def _citation(meta: ModelMeta) -> list[str]:
    year = datetime.date.today().year
    lines = [
        "```bibtex",
        "@software{latent_odyssey,",
        "  title = {Latent Odyssey: flying through the latent space of variational autoencoders},",
        "  author = {{Latent Odyssey contributors}},",
        f"  year = {{{year}}}, version = {{{__version__}}},",
        f"  note = {{Model {meta.name}}}",
        "}",
        "@inproceedings{kingma2014vae,",
        "  title = {Auto-Encoding Variational Bayes},",
        "  author = {Kingma, Diederik P. and Welling, Max},",
        "  booktitle = {International Conference on Learning Representations (ICLR)}, year = {2014}",
        "}",
    ]
    bib = data_card(meta.dataset).bibtex
    if bib:
        lines.append(bib)
    lines.append("```")
    return lines


def model_card(
    meta: ModelMeta, errs: tuple[float, float, float], files: dict[str, str], has_report: bool, note: str = "",
) -> str:
    """The card's Markdown. ``errs``: max |torch - runtime| of the ONNX decoder, the ONNX
    encoder and the TorchScript file; ``files``: the file names by kind (decoder, encoder,
    torchscript, report); ``note``: a sentence on how the files were made, after the errors."""
    m = meta.metrics
    t = meta.training
    data = data_card(meta.dataset)
    shape = ", ".join(map(str, meta.image_shape))
    intended, out_of_scope = _uses(meta)
    lines = ["---", *yaml_lines(front_matter(meta)), "---", ""]
    lines += [
        f"# {meta.name}",
        "",
        f"A Latent Odyssey variational autoencoder ({meta.kind}): {meta.latent_dim}-D latent, images "
        f"{meta.image_shape[1]}x{meta.image_shape[2]}x{meta.image_shape[0]} in [0, 1], trained on {data.title}.",
        "",
        "## Files",
        f"- `{files['decoder']}`: ONNX decoder, input `z` float32 [N, {meta.latent_dim}] -> `image` float32 "
        f"[N, {shape}] in [0, 1]; the metadata (classes, centroids, encoded samples, bounds, "
        f"attributes, metrics) is one JSON object under `metadata_props[\"{METADATA_KEY}\"]`.",
        f"- `{files['encoder']}`: ONNX encoder, `image` [N, {shape}] -> `mu`, `logvar` [N, {meta.latent_dim}].",
        _torchscript_line(files, meta),
        "",
        "## Intended use",
        *[f"- {s}" for s in intended],
        "",
        "## Out-of-scope use",
        *[f"- {s}" for s in out_of_scope],
        "",
        "## Limitations",
        *[f"- {s}" for s in _limitations(meta)],
        "",
        "## Data",
        f"{data.title} (`{meta.dataset}`); classes: {', '.join(meta.class_names) if meta.class_names else 'none (attributes)'}.",
        f"Trained on {m.get('train_images', '?')} images; metrics on {m.get('test_images', '?')} test images.",
        "",
        "## Architecture and training",
        f"- {t.get('parameters', 0):,} parameters; {t.get('architecture')}",
        f"- {t.get('epochs_completed', t.get('epochs'))} epochs"
        + (f" (stopped early in a {t.get('epochs')}-epoch cosine schedule)" if t.get('epochs_completed', t.get('epochs')) != t.get('epochs') else "")
        + f", {t.get('train_seconds', '?')} s of training, batch {t.get('batch_size')}, Adam lr {t.get('lr')} (cosine decay), "
        f"loss {t.get('loss')}{' on binarized data' if t.get('binarize') else ''}"
        f"{' (training batches stochastically binarized as noise; metrics on the grey test set)' if t.get('binarize_train') else ''}, "
        f"β warm-up 0 -> {t.get('beta_max')} over {t.get('warmup_epochs')} epochs, seed {t.get('seed')}.",
        *_guide_line(t),
        "",
        "## Test metrics (β = 1, one sample)",
        "| metric | value |",
        "| --- | --- |",
    ]
    for key in ("neg_elbo_nats", "recon_nats", "kl_nats", "knn5_accuracy", "iw_log_likelihood_nats", "iw_k"):
        if key in m:
            lines.append(f"| {key} | {_fmt(m[key])} |")
    if "kl_per_dim_nats" in m:
        kl = m["kl_per_dim_nats"]
        shown = ", ".join(f"{v:.2f}" for v in kl[:8]) + (" ..." if len(kl) > 8 else "")
        lines.append(f"| KL per dimension | {shown} |")
    lines += [
        "",
        "## Export verification",
        f"onnx.checker (full_check) passed; max |torch - onnxruntime|: decoder {errs[0]:.2e}, "
        f"encoder {errs[1]:.2e}; TorchScript `decode`/`encode` reloaded {errs[2]:.2e} (tolerance 1e-4)."
        + (f" {note}" if note else ""),
        "",
    ]
    if meta.attributes:
        lines += ["## Attribute directions", ", ".join(meta.attributes), ""]
        rechosen = "shipped (= " in meta.training.get("face_quality", "")
        if rechosen:
            lines += ["The directions in this file were chosen again after export, on counterfactual pairs "
                      "(`export.density --directions`; the rows `shipped (= METHOD)` under Face quality). The "
                      "tables of the export below scored that export's candidates, and their \"chosen\" "
                      "column names the export's choice.", ""]
        if "edit_quality" in meta.training:
            lines += [meta.training["edit_quality"], ""]
    density = meta.fitted_density()
    if density is not None:
        lines += [
            "## Fitted density",
            f"Random latents that decode like the data come from `density` in the metadata: {density.describe()} "
            f"fitted to the posterior means μ of {density.points} encoded training images (ex-post density "
            "estimation, Ghosh et al. 2019), with isotropic noise of standard deviation "
            f"{density.residual_std:.4g} off the subspace. Sample z = mean + basisᵀ (m_k + L_k ε) + noise, "
            "k drawn by `weights`, L_k the Cholesky factor of `covs[k]` (the game's "
            "`latent_odyssey.game.model.density` does this, with a temperature scaling the spread). "
            "Samples of the prior N(0, I) fall where the decoder has seen no data.",
            "",
        ]
    if "face_quality" in meta.training:
        lines += ["## Face quality", "Measured by `python -m benchmarks.face_quality` (from the ONNX files alone).", "",
                  meta.training["face_quality"], ""]
    if has_report:
        lines += ["## Training report", f"![report]({files['report']})", ""]
    lines += [
        "## Licences",
        f"- Weights (all three files): {WEIGHTS_LICENSE.upper()}, like the Latent Odyssey code.",
        f"- Training data: {data.licence}",
        "",
        "## How to cite",
        *_citation(meta),
        "",
        "## Use from plain onnxruntime",
        USAGE.format(decoder=files["decoder"], encoder=files["encoder"], key=METADATA_KEY),
        "",
        "JavaScript runtimes (onnxruntime-node, onnxruntime-web) do not expose the metadata; the "
        "`onnxmeta.js` that `odyssey web` writes reads it from the file's bytes (see the project README).",
        "",
    ]
    return "\n".join(lines)
