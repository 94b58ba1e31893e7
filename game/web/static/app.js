/* app.js: the Latent Odyssey web page. Plays one model file with onnxruntime-web (wasm).
 *
 * Reads window.ODYSSEY_CONFIG (config.js, written by `odyssey web`): the model file, the folder
 * URL of onnxruntime-web, the game's colours and constants. The model's metadata comes from
 * the .onnx bytes themselves (onnxmeta.js), exactly as the game reads it.
 *
 * The page:
 *   map       2-D latents as they are; wider latents on the plane of the stored samples' two
 *             principal components through their mean. Points coloured by class, a legend,
 *             centroids, A and B with the linear and spherical paths between them.
 *             Click or drag: decode that point (a face model: the base face there); with
 *             the map focused, arrow keys move the point (Shift: faster).
 *   view      the decoded image, nearest or smooth scaling.
 *   centroids one button per class: decode the class's mean latent (all D dimensions).
 *   sliders   face models: z = base + sum_i s_i d_i, d_i the unit attribute direction times the
 *             stored samples' spread along it (the face studio's slider unit).
 *   strips    A -> B in STRIP_FRAMES steps, linear and spherical (game/model/morph.py's slerp:
 *             the direction turns on the great circle, the norm goes linearly).
 *
 * For tests and the curious, window.odyssey exposes {ready, state, meta, props, decode, project,
 * lift}: ready resolves once the first image is shown; state.z / state.image are the latent and
 * the decoded pixels (C*H*W floats in [0, 1]) on screen; state.idle is true when nothing is
 * being decoded.
 */
(function () {
  "use strict";

  const CFG = window.ODYSSEY_CONFIG;
  const COL = CFG.colours;
  const MAP_PAD = 0.08; // fraction of the map's span added on each side
  const POINT_RADIUS_PX = 2.2;
  const POINT_ALPHA = 0.85;
  const CENTROID_RADIUS_PX = 7;
  const PATH_POINTS = 48; // samples of the drawn A -> B paths
  const PCA_ITERATIONS = 200; // power-iteration steps per principal component
  const PARALLEL_EPS = 1e-6; // as game/model/morph.py
  const ZERO_NORM = 1e-9;
  const SPREAD_MIN = 1e-3; // as game/modes/faces/state.py
  const COORDS_SHOWN = 6; // latent dimensions printed under the image
  const KEY_STEP = 0.01; // arrow keys on the map move by this fraction of its span (Shift: x5)

  const $ = (id) => document.getElementById(id);
  const rgb = (c, a) => (a === undefined ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${a})`);
  const classColour = (k) => (k >= 0 ? COL.classes[k % COL.classes.length] : COL.unlabelled);

  const state = {
    meta: null, props: null, session: null, basis: null, view: null, dirs: [],
    base: null, sliders: [], z: null, image: null, a: null, b: null, strip: null,
    decodes: 0, idle: false, wanted: null, smooth: false, pumping: false, stripPending: false,
  };
  let resolveReady, rejectReady;
  const ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
  ready.catch(() => {}); // failures are shown on the page; tests read them from the promise

  // ------------------------------------------------------------------ vector helpers

  const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
  const norm = (a) => Math.sqrt(dot(a, a));
  const add = (a, b, k = 1) => a.map((v, i) => v + k * b[i]);
  const scale = (a, k) => a.map((v) => v * k);

  function lerp(a, b, t) { return a.map((v, i) => (1 - t) * v + t * b[i]); }

  /* game/model/morph.py's slerp: great circle of the unit directions, linear norm. */
  function slerp(a, b, t) {
    const na = norm(a), nb = norm(b);
    if (na < ZERO_NORM || nb < ZERO_NORM) return lerp(a, b, t);
    const cos = Math.min(1, Math.max(-1, dot(a, b) / (na * nb)));
    const omega = Math.acos(cos);
    const so = Math.sin(omega);
    if (so < PARALLEL_EPS) return lerp(a, b, t);
    const r = (1 - t) * na + t * nb;
    const ka = Math.sin((1 - t) * omega) / so / na, kb = Math.sin(t * omega) / so / nb;
    return a.map((v, i) => r * (ka * v + kb * b[i]));
  }

  /* Top-2 principal axes of the rows of X (power iteration with deflation). */
  function principalAxes(X, mean) {
    const D = mean.length, n = X.length;
    const C = Array.from({ length: D }, () => new Float64Array(D)); // (D, D) covariance
    for (const row of X) {
      const c = row.map((v, i) => v - mean[i]);
      for (let i = 0; i < D; i++) { const ci = c[i]; const Ci = C[i]; for (let j = i; j < D; j++) Ci[j] += ci * c[j]; }
    }
    for (let i = 0; i < D; i++) for (let j = i; j < D; j++) { C[i][j] /= n; C[j][i] = C[i][j]; }
    const total = C.reduce((s, r, i) => s + r[i], 0);
    const axes = [], variances = [];
    for (let k = 0; k < 2; k++) {
      let v = Array.from({ length: D }, (_, i) => 1 + ((i * 7919 + k * 104729) % 13) / 13); // fixed start
      let lambda = 0;
      for (let it = 0; it < PCA_ITERATIONS; it++) {
        let w = C.map((r) => dot(r, v));
        for (const u of axes) w = add(w, u, -dot(w, u)); // deflate: stay orthogonal to found axes
        lambda = norm(w);
        if (lambda < 1e-12) break;
        v = scale(w, 1 / lambda);
      }
      // a fixed sign: the largest component positive, so the map does not flip between runs
      let big = 0; for (let i = 1; i < D; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
      if (v[big] < 0) v = scale(v, -1);
      axes.push(v); variances.push(lambda);
    }
    return { axes, fractions: variances.map((l) => (total > 0 ? l / total : 0)) };
  }

  /* The map's plane: origin + u * axes[0] + v * axes[1]. */
  function makeBasis(meta) {
    const D = meta.latent_dim;
    const unit = (i) => Array.from({ length: D }, (_, j) => (j === i ? 1 : 0));
    if (D <= 2) {
      return { origin: new Array(D).fill(0), axes: [unit(0), D > 1 ? unit(1) : new Array(D).fill(0)], labels: ["z0", "z1"], note: "" };
    }
    const mean = meta.latent_mean;
    if (meta.sample_z.length < 3) {
      return { origin: mean, axes: [unit(0), unit(1)], labels: ["z0", "z1"], note: `The map shows dimensions 0 and 1 of ${D}.` };
    }
    const { axes, fractions } = principalAxes(meta.sample_z, mean);
    const pct = (f) => `${(100 * f).toFixed(0)} %`;
    return {
      origin: mean, axes,
      labels: [`PC1 (${pct(fractions[0])})`, `PC2 (${pct(fractions[1])})`],
      note: `A ${D}-D model: the map is the plane of the samples' two principal components through their ` +
            `mean (${pct(fractions[0] + fractions[1])} of their variance); centroids and A/B are drawn at their projections.`,
    };
  }

  const project = (z) => { const c = add(z, state.basis.origin, -1); return [dot(c, state.basis.axes[0]), dot(c, state.basis.axes[1])]; };
  const lift = (u, v) => add(add(state.basis.origin, state.basis.axes[0], u), state.basis.axes[1], v);

  /* Map extent: the stored samples' projections (or the latent bounds), square, padded. */
  function makeView(meta, canvas) {
    let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    const pts = meta.sample_z.length ? meta.sample_z.map(project) : [project(meta.latent_lo), project(meta.latent_hi)];
    const sorted = [0, 1].map((k) => pts.map((p) => p[k]).sort((x, y) => x - y));
    for (const k of [0, 1]) {
      const s = sorted[k];
      lo[k] = s[Math.floor(0.005 * (s.length - 1))];
      hi[k] = s[Math.ceil(0.995 * (s.length - 1))];
    }
    if (meta.latent_dim <= 2) { lo = [Math.min(lo[0], meta.latent_lo[0]), Math.min(lo[1], meta.latent_lo[1] ?? lo[1])]; hi = [Math.max(hi[0], meta.latent_hi[0]), Math.max(hi[1], meta.latent_hi[1] ?? hi[1])]; }
    const span = Math.max(hi[0] - lo[0], hi[1] - lo[1], 1e-6) * (1 + 2 * MAP_PAD);
    const centre = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2];
    const W = canvas.width, H = canvas.height;
    const toPixel = (p) => [W / 2 + ((p[0] - centre[0]) / span) * W, H / 2 - ((p[1] - centre[1]) / span) * H];
    const fromPixel = (x, y) => [centre[0] + ((x - W / 2) / W) * span, centre[1] - ((y - H / 2) / H) * span];
    return { centre, span, toPixel, fromPixel, points: pts };
  }

  // ------------------------------------------------------------------ decoding

  let runQueue = Promise.resolve();
  /* zs: array of N latents (D numbers each) -> Float32Array of N*C*H*W pixels in [0, 1]. */
  function decode(zs) {
    const D = state.meta.latent_dim;
    const data = new Float32Array(zs.length * D);
    zs.forEach((z, i) => data.set(z, i * D));
    const feeds = { [state.session.inputNames[0]]: new ort.Tensor("float32", data, [zs.length, D]) };
    const run = runQueue.then(() => state.session.run(feeds)).then((out) => out[state.session.outputNames[0]].data);
    runQueue = run.catch(() => {}); // one run at a time on the session
    return run;
  }

  const currentZ = () => state.dirs.reduce((z, d, i) => add(z, d, state.sliders[i]), state.base);

  /* Show the current latent; while a decode runs, only the newest request waits. */
  function requestView() {
    state.wanted = currentZ();
    state.idle = false;
    drawMap();
    if (!state.pumping) pump();
  }

  async function pump() {
    state.pumping = true;
    try {
      while (state.wanted) {
        const z = state.wanted;
        state.wanted = null;
        const image = await decode([z]);
        state.z = z; state.image = image; state.decodes += 1;
        drawImage($("view"), image, 0);
        showReadout();
      }
    } catch (err) {
      fail(err);
    } finally {
      state.pumping = false;
      state.idle = !state.wanted && !state.stripPending;
      if (state.decodes === 1) resolveReady();
    }
  }

  async function updateStrip() {
    if (!state.a || !state.b) return;
    const n = CFG.stripFrames;
    const ts = Array.from({ length: n }, (_, i) => i / (n - 1));
    const linear = ts.map((t) => lerp(state.a, state.b, t));
    const spherical = ts.map((t) => slerp(state.a, state.b, t));
    state.stripPending = true; state.idle = false;
    try {
      const images = await decode([...linear, ...spherical]);
      state.strip = { t: ts, linear, spherical };
      fillStrip($("strip-linear"), images, 0, linear);
      fillStrip($("strip-spherical"), images, n, spherical);
    } catch (err) {
      fail(err);
    } finally {
      state.stripPending = false;
      state.idle = !state.wanted && !state.pumping;
    }
    drawMap();
  }

  // ------------------------------------------------------------------ drawing

  /* The index-th image of a batch (C*H*W floats in [0, 1]) drawn scaled onto a canvas. */
  function drawImage(canvas, images, index) {
    const [C, H, W] = state.meta.image_shape;
    const px = new ImageData(W, H);
    const off = index * C * H * W;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = y * W + x, q = 4 * p;
        for (let c = 0; c < 3; c++) {
          const v = images[off + (C === 3 ? c : 0) * H * W + p];
          px.data[q + c] = Math.round(255 * Math.min(1, Math.max(0, v)));
        }
        px.data[q + 3] = 255;
      }
    }
    const small = document.createElement("canvas");
    small.width = W; small.height = H;
    small.getContext("2d").putImageData(px, 0, 0);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingEnabled = state.smooth;
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  }

  function fillStrip(row, images, first, zs) {
    row.replaceChildren();
    zs.forEach((z, i) => {
      const c = document.createElement("canvas");
      c.width = 52; c.height = 52;
      c.title = `t = ${(i / (zs.length - 1)).toFixed(2)}`;
      drawImage(c, images, first + i);
      c.addEventListener("click", () => goTo(z));
      row.appendChild(c);
    });
  }

  let pointLayer = null; // the sample points, drawn once
  function drawPoints() {
    const canvas = $("map");
    pointLayer = document.createElement("canvas");
    pointLayer.width = canvas.width; pointLayer.height = canvas.height;
    const ctx = pointLayer.getContext("2d");
    ctx.fillStyle = rgb(COL.background);
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    drawGrid(ctx, canvas);
    ctx.globalAlpha = POINT_ALPHA;
    state.view.points.forEach((p, i) => {
      const [x, y] = state.view.toPixel(p);
      ctx.fillStyle = rgb(classColour(state.meta.sample_labels[i]));
      ctx.beginPath(); ctx.arc(x, y, POINT_RADIUS_PX, 0, 2 * Math.PI); ctx.fill();
    });
    ctx.globalAlpha = 1;
  }

  function niceStep(span) {
    const raw = span / 6, p = Math.pow(10, Math.floor(Math.log10(raw)));
    return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  }

  function drawGrid(ctx, canvas) {
    const v = state.view, step = niceStep(v.span);
    const [u0, v1] = v.fromPixel(0, 0), [u1, v0] = v.fromPixel(canvas.width, canvas.height);
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    for (let u = Math.ceil(u0 / step) * step; u <= u1; u += step) {
      const [x] = v.toPixel([u, 0]);
      ctx.strokeStyle = rgb(COL.panelEdge, Math.abs(u) < step / 2 ? 1 : 0.55);
      ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, canvas.height); ctx.stroke();
      ctx.fillStyle = rgb(COL.dim); ctx.fillText(+u.toFixed(6) + "", x + 3, canvas.height - 5);
    }
    for (let w = Math.ceil(v0 / step) * step; w <= v1; w += step) {
      const [, y] = v.toPixel([0, w]);
      ctx.strokeStyle = rgb(COL.panelEdge, Math.abs(w) < step / 2 ? 1 : 0.55);
      ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(canvas.width, y); ctx.stroke();
      ctx.fillStyle = rgb(COL.dim); ctx.fillText(+w.toFixed(6) + "", 4, y - 3);
    }
    ctx.font = "12px system-ui, sans-serif";
    const axis = (label, x, y) => {
      const w = ctx.measureText(label).width + 10;
      ctx.fillStyle = rgb(COL.panel, 0.86); ctx.fillRect(x, y - 13, w, 18);
      ctx.fillStyle = rgb(COL.text); ctx.fillText(label, x + 5, y);
    };
    axis(state.basis.labels[0] + " →", canvas.width - ctx.measureText(state.basis.labels[0] + " →").width - 20, canvas.height - 22);
    axis("↑ " + state.basis.labels[1], 8, 20);
  }

  function drawLegend(ctx, canvas) {
    const names = state.meta.class_names;
    if (!names.length) return;
    const row = 17, w = 8 + Math.max(...names.map((n) => ctx.measureText(n).width)) + 30;
    const x0 = canvas.width - w - 8, y0 = 8;
    ctx.fillStyle = rgb(COL.panel, 0.86);
    ctx.fillRect(x0, y0, w, names.length * row + 10);
    ctx.font = "12px system-ui, sans-serif";
    names.forEach((n, k) => {
      const y = y0 + 5 + k * row + row / 2;
      ctx.fillStyle = rgb(classColour(k));
      ctx.beginPath(); ctx.arc(x0 + 12, y, 5, 0, 2 * Math.PI); ctx.fill();
      ctx.fillStyle = rgb(COL.text); ctx.fillText(n, x0 + 24, y + 4);
    });
  }

  function drawPath(ctx, fn, colour) {
    ctx.strokeStyle = rgb(colour); ctx.lineWidth = 2;
    ctx.beginPath();
    for (let i = 0; i <= PATH_POINTS; i++) {
      const [x, y] = state.view.toPixel(project(fn(state.a, state.b, i / PATH_POINTS)));
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }

  function drawMarker(ctx, z, label, colour) {
    const [x, y] = state.view.toPixel(project(z));
    ctx.fillStyle = rgb(colour); ctx.strokeStyle = rgb(COL.background); ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(x, y, 9, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    ctx.fillStyle = rgb(COL.background); ctx.font = "bold 12px system-ui, sans-serif";
    ctx.fillText(label, x - 4, y + 4);
  }

  function drawMap() {
    const canvas = $("map"), ctx = canvas.getContext("2d");
    ctx.drawImage(pointLayer, 0, 0);
    const m = state.meta;
    m.centroids.forEach((c, k) => {
      const [x, y] = state.view.toPixel(project(c));
      ctx.fillStyle = rgb(classColour(k)); ctx.strokeStyle = "white"; ctx.lineWidth = 2;
      ctx.beginPath(); ctx.arc(x, y, CENTROID_RADIUS_PX, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
      ctx.fillStyle = "white"; ctx.font = "bold 12px system-ui, sans-serif";
      ctx.fillText(m.class_names[k], x + 10, y - 8);
    });
    if (state.a && state.b) {
      drawPath(ctx, lerp, COL.linear);
      drawPath(ctx, slerp, COL.spherical);
    }
    if (state.a) drawMarker(ctx, state.a, "A", COL.linear);
    if (state.b) drawMarker(ctx, state.b, "B", COL.spherical);
    const z = state.wanted || state.z;
    if (z) {
      const [x, y] = state.view.toPixel(project(z));
      ctx.strokeStyle = rgb(COL.accent); ctx.lineWidth = 2.5;
      ctx.beginPath(); ctx.arc(x, y, 11, 0, 2 * Math.PI); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(x - 17, y); ctx.lineTo(x - 6, y); ctx.moveTo(x + 6, y); ctx.lineTo(x + 17, y);
      ctx.moveTo(x, y - 17); ctx.lineTo(x, y - 6); ctx.moveTo(x, y + 6); ctx.lineTo(x, y + 17); ctx.stroke();
    }
    drawLegend(ctx, canvas);
  }

  function nearestClass(z) {
    let best = -1, bestD = Infinity;
    state.meta.centroids.forEach((c, k) => { const d = norm(add(z, c, -1)); if (d < bestD) { bestD = d; best = k; } });
    return best;
  }

  function showReadout() {
    const z = state.z, D = z.length;
    const shown = z.slice(0, COORDS_SHOWN).map((v) => (v >= 0 ? "+" : "") + v.toFixed(3)).join(", ");
    $("coords").textContent = `z = (${shown}${D > COORDS_SHOWN ? `, … ${D - COORDS_SHOWN} more` : ""})`;
    const k = nearestClass(z);
    $("where").textContent = k >= 0 ? `nearest centroid: ${state.meta.class_names[k]}` : `|z| = ${norm(z).toFixed(2)}`;
  }

  // ------------------------------------------------------------------ interaction

  function goTo(z) {
    state.base = z.slice();
    state.sliders = state.sliders.map(() => 0);
    syncSliders();
    requestView();
  }

  function mapEvent(ev) {
    const canvas = $("map"), r = canvas.getBoundingClientRect();
    const x = ((ev.clientX - r.left) / r.width) * canvas.width, y = ((ev.clientY - r.top) / r.height) * canvas.height;
    state.base = lift(...state.view.fromPixel(x, y));
    requestView();
  }

  function syncSliders() {
    document.querySelectorAll("#sliders input").forEach((el, i) => {
      el.value = state.sliders[i];
      el.nextElementSibling.textContent = (+state.sliders[i]).toFixed(2);
    });
  }

  function buildControls() {
    const m = state.meta;
    const canvas = $("map");
    let dragging = false;
    canvas.addEventListener("pointerdown", (ev) => { dragging = true; canvas.setPointerCapture(ev.pointerId); mapEvent(ev); });
    canvas.addEventListener("pointermove", (ev) => { if (dragging) mapEvent(ev); });
    canvas.addEventListener("pointerup", () => { dragging = false; });
    canvas.addEventListener("pointercancel", () => { dragging = false; });
    canvas.addEventListener("keydown", (ev) => {
      const dir = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] }[ev.key];
      if (!dir) return;
      ev.preventDefault();
      const step = KEY_STEP * state.view.span * (ev.shiftKey ? 5 : 1);
      state.base = add(add(state.base, state.basis.axes[0], dir[0] * step), state.basis.axes[1], dir[1] * step);
      requestView();
    });

    if (m.class_names.length) {
      $("centroid-card").hidden = false;
      m.class_names.forEach((name, k) => {
        const b = document.createElement("button");
        b.type = "button"; b.className = "chip"; b.dataset.class = k;
        b.innerHTML = `<i style="background:${rgb(classColour(k))}"></i>`;
        b.append(name);
        b.addEventListener("click", () => goTo(m.centroids[k]));
        $("centroids").appendChild(b);
      });
    }
    const names = Object.keys(m.attributes);
    if (names.length) {
      $("slider-card").hidden = false;
      const [lo, hi] = CFG.sliderRange;
      names.forEach((name, i) => {
        const row = document.createElement("label");
        row.className = "slider";
        row.innerHTML = `<span>${name}</span><input type="range" min="${lo}" max="${hi}" step="0.05" value="0"><output>0.00</output>`;
        row.querySelector("input").addEventListener("input", (ev) => {
          state.sliders[i] = +ev.target.value;
          ev.target.nextElementSibling.textContent = state.sliders[i].toFixed(2);
          requestView();
        });
        $("sliders").appendChild(row);
      });
      $("reset").addEventListener("click", () => { state.sliders = state.sliders.map(() => 0); syncSliders(); requestView(); });
    }
    $("random").textContent = m.kind === "faces" ? "Random face" : "Random sample";
    $("random").addEventListener("click", () => {
      const pool = m.sample_z;
      goTo(pool.length ? pool[Math.floor(Math.random() * pool.length)] : m.latent_mean);
    });
    $("set-a").addEventListener("click", () => { state.a = currentZ(); updateStrip(); });
    $("set-b").addEventListener("click", () => { state.b = currentZ(); updateStrip(); });
    $("smooth").addEventListener("change", (ev) => { state.smooth = ev.target.checked; if (state.image) drawImage($("view"), state.image, 0); });
  }

  /* Face models: the unit directions times the stored samples' spread along each. */
  function sliderDirections(meta) {
    return Object.keys(meta.attributes).map((name) => {
      const u = meta.attributes[name];
      const proj = meta.sample_z.map((z) => dot(z, u));
      let spread = 1;
      if (proj.length > 1) {
        const mean = proj.reduce((s, v) => s + v, 0) / proj.length;
        spread = Math.sqrt(proj.reduce((s, v) => s + (v - mean) * (v - mean), 0) / proj.length);
      }
      return scale(u, Math.max(spread, SPREAD_MIN));
    });
  }

  function describeModel(meta) {
    const parts = [meta.kind, `${meta.latent_dim}-D latent`, meta.dataset,
                   `${meta.image_shape[1]}×${meta.image_shape[2]}${meta.image_shape[0] === 3 ? " RGB" : ""}`];
    const mt = meta.metrics || {};
    if (typeof mt.neg_elbo_nats === "number") parts.push(`test −ELBO ${mt.neg_elbo_nats.toFixed(2)} nats`);
    if (typeof mt.knn5_accuracy === "number") parts.push(`5-NN ${mt.knn5_accuracy.toFixed(3)}`);
    return parts.join(" · ");
  }

  // ------------------------------------------------------------------ start-up

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = () => reject(new Error(`Could not load onnxruntime-web from ${src}. Offline? Write the page ` +
                                          "with odyssey web ... --ort-dir DIST (the dist folder of the npm package onnxruntime-web)."));
      document.head.appendChild(s);
    });
  }

  function setStatus(text) { $("status").textContent = text; }

  function fail(err) {
    const msg = err && err.message ? err.message : String(err);
    $("status").hidden = false;
    $("status").className = "error";
    $("status").textContent = msg;
    document.body.dataset.state = "error";
    rejectReady(err);
  }

  async function start() {
    if (location.protocol === "file:") {
      throw new Error("Browsers do not run this page from a file:// address. Serve the folder: " +
                      "odyssey web MODEL DIR --serve, or python3 -m http.server -d DIR, then open http://127.0.0.1:8000/.");
    }
    const ortBase = new URL(CFG.ortUrl, document.baseURI).href;
    setStatus(`Loading onnxruntime-web ${CFG.ortVersion} …`);
    await loadScript(ortBase + "ort.wasm.min.js");
    ort.env.wasm.wasmPaths = ortBase;
    ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a plain server lacks
    setStatus(`Loading ${CFG.model} …`);
    const response = await fetch(CFG.model);
    if (!response.ok) throw new Error(`Could not fetch ${CFG.model} (HTTP ${response.status}).`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    state.props = onnxMeta.readMetadataProps(bytes);
    if (!(onnxMeta.METADATA_KEY in state.props)) throw new Error(`${CFG.model} has no Latent Odyssey metadata.`);
    state.meta = JSON.parse(state.props[onnxMeta.METADATA_KEY]);
    state.session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });

    const m = state.meta;
    document.title = `Latent Odyssey · ${m.name}`;
    $("model-name").textContent = m.name;
    $("summary").textContent = describeModel(m);
    state.basis = makeBasis(m);
    state.view = makeView(m, $("map"));
    state.dirs = sliderDirections(m);
    state.sliders = state.dirs.map(() => 0);
    $("map-title").textContent = m.latent_dim <= 2 ? "Latent map" : "Latent map (2-D projection)";
    $("map-note").textContent = state.basis.note;
    $("footer").textContent = `onnxruntime-web ${ort.env.versions ? ort.env.versions.web : CFG.ortVersion} (wasm) from ${ortBase} · ` +
      `metadata read from the ${(bytes.length / 1e6).toFixed(1)} MB .onnx file by onnxmeta.js · ${CFG.generator}`;
    drawPoints();
    buildControls();
    $("status").hidden = true;
    $("app").hidden = false;

    // start at the first centroid (or a stored face), with A and B on two centroids / faces
    const starts = m.centroids.length >= 2 ? m.centroids : m.sample_z.length >= 2 ? m.sample_z : [m.latent_lo, m.latent_hi];
    state.a = starts[0].slice(); state.b = starts[1].slice();
    state.base = starts[0].slice();
    requestView();
    await ready;
    await updateStrip();
    document.body.dataset.state = "ready";
  }

  window.odyssey = { ready, state, decode, project: (z) => project(z), lift: (u, v) => lift(u, v), lerp, slerp,
    get meta() { return state.meta; }, get props() { return state.props; } };
  start().catch(fail);
})();
