"""The model card ``NAME.md``: data, architecture, training, test metrics, and how to use the
file from plain onnxruntime."""

from __future__ import annotations

from latent_odyssey.game.model.modelfile import METADATA_KEY, ModelMeta

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


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def model_card(meta: ModelMeta, cfg, errs: tuple[float, float, float], files: dict[str, str], has_report: bool) -> str:
    m = meta.metrics
    t = meta.training
    lines = [
        f"# {meta.name}",
        "",
        f"A Latent Odyssey VAE ({meta.kind}): {meta.latent_dim}-D latent, images "
        f"{meta.image_shape[1]}x{meta.image_shape[2]}x{meta.image_shape[0]} in [0, 1].",
        "",
        "## Files",
        f"- `{files['decoder']}`: decoder, input `z` float32 [N, {meta.latent_dim}] -> `image` float32 "
        f"[N, {', '.join(map(str, meta.image_shape))}] in [0, 1]; metadata under `{METADATA_KEY}`.",
        f"- `{files['encoder']}`: encoder, `image` [N, {', '.join(map(str, meta.image_shape))}] -> `mu`, `logvar` [N, {meta.latent_dim}].",
        f"- `{files['torchscript']}`: TorchScript decoder (same contract).",
        "",
        "## Data",
        f"{meta.dataset}; classes: {', '.join(meta.class_names) if meta.class_names else 'none (attributes)'}.",
        f"Trained on {m.get('train_images', '?')} images; metrics on {m.get('test_images', '?')} test images.",
        "",
        "## Architecture and training",
        f"- {t.get('parameters', 0):,} parameters; {t.get('architecture')}",
        f"- {t.get('epochs_completed', t.get('epochs'))} epochs"
        + (f" (stopped early in a {t.get('epochs')}-epoch cosine schedule)" if t.get('epochs_completed', t.get('epochs')) != t.get('epochs') else "")
        + f", {t.get('train_seconds', '?')} s of training, batch {t.get('batch_size')}, Adam lr {t.get('lr')} (cosine decay), "
        f"loss {t.get('loss')}{' on binarized data' if t.get('binarize') else ''}, "
        f"β warm-up 0 -> {t.get('beta_max')} over {t.get('warmup_epochs')} epochs, seed {t.get('seed')}.",
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
        f"encoder {errs[1]:.2e}; TorchScript reload {errs[2]:.2e} (tolerance 1e-4).",
        "",
    ]
    if meta.attributes:
        lines += ["## Attribute directions", ", ".join(meta.attributes), ""]
        if "edit_quality" in meta.training:
            lines += [meta.training["edit_quality"], ""]
    if has_report:
        lines += ["## Training report", f"![report]({files['report']})", ""]
    lines += [
        "## Use from plain onnxruntime",
        USAGE.format(decoder=files["decoder"], encoder=files["encoder"], key=METADATA_KEY),
        "",
    ]
    return "\n".join(lines)
