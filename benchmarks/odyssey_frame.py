"""Odyssey frame time: the scene's handle + update + draw per frame, headless, against a baseline.

    python -m benchmarks.odyssey_frame [--model PATH] [--frames 600] [--size 1280x720]

Set-up (both runs): tunnel with 8 layers + the 3x3 grid + HUD and minimap, the autopilot flying
the centroid tour, 60 warm-up frames then ``--frames`` measured frames of 1/60 s simulated
time each (two fixed 1/120 s steps). Timed: ``handle`` + ``update`` x2 + ``draw`` per frame.

* ``ours``      the scene as shipped: one batched ``decode_batch`` per frame over the decoder's
                cache, with the decode-ahead worker thread filling the cache along the tour.
* ``baseline``  the same scene, every image (layer and grid cell) decoded with its own
                ``session.run`` each frame, no cache and no worker.

Prints median / p99 / mean wall-clock frame times in ms, the median CPU time of the frame
loop's thread (``time.thread_time``: what the frame costs when no other process competes for
the cores) and the onnxruntime runs per frame (all threads: the worker's runs count too);
``run()`` returns the same numbers as a dict. Uses ``pretrained/mnist-3d.onnx`` unless ``--model`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "pretrained" / "mnist-3d.onnx"
WARMUP_FRAMES = 60
FRAME_DT_S = 1.0 / 60.0
STEP_DT_S = 1.0 / 120.0


def _decoder_classes():
    from latent_odyssey.game.model.decoder import Decoder

    class PerImageDecoder(Decoder):
        """The baseline: one ``session.run`` per image, every time (no cache, no batching)."""

        def decode_batch(self, zs: np.ndarray) -> list[np.ndarray]:
            zs = np.asarray(zs, dtype=np.float32).reshape(-1, self.meta.latent_dim)
            return [self.to_rgb8(self.run_raw(z[None]))[0] for z in zs]

    return Decoder, PerImageDecoder


def _measure(model_path: Path, frames: int, size: tuple[int, int], baseline: bool) -> dict:
    import pygame

    from latent_odyssey.game.engine.input import DEFAULT_CONTROLS_PATH, InputMap, InputState
    from latent_odyssey.game.engine.scene import GameContext, ModelHandle
    from latent_odyssey.game.model.modelfile import open_model
    from latent_odyssey.game.modes.odyssey.scene import OdysseyScene

    decoder_cls, per_image_cls = _decoder_classes()
    sess, meta = open_model(model_path, "cpu")
    reason = OdysseyScene.supports(meta)
    if reason:
        raise ValueError(reason)
    decoder = (per_image_cls if baseline else decoder_cls)(sess, meta)
    inp = InputState(InputMap.load(DEFAULT_CONTROLS_PATH), open_controllers=False)
    ctx = GameContext(model=ModelHandle(Path(model_path), meta, decoder, None, "CPU"), input=inp, seed=0)
    scene = OdysseyScene(prefetch=not baseline)
    scene.enter(ctx)
    surface = pygame.Surface(size)
    pygame.event.clear()
    # grid on (Y) and autopilot on (O), through real key events like a player
    for key in (pygame.K_y, pygame.K_o):
        for kind in (pygame.KEYDOWN, pygame.KEYUP):
            pygame.event.post(pygame.event.Event(kind, key=key, mod=0))
            inp.begin_frame()
            for e in pygame.event.get():
                inp.process_event(e)
            scene.handle(inp)
    assert scene.tunnel and scene.grid and scene.mode == "autopilot", "benchmark set-up failed"
    times: list[float] = []
    cpu: list[float] = []
    runs: list[int] = []
    try:
        for i in range(WARMUP_FRAMES + frames):
            runs_before = decoder.runs
            t0, c0 = time.perf_counter(), time.thread_time()
            inp.begin_frame()
            for e in pygame.event.get():
                inp.process_event(e)
            scene.handle(inp)
            for _ in range(round(FRAME_DT_S / STEP_DT_S)):
                scene.update(STEP_DT_S)
                ctx.time_s += STEP_DT_S
            scene.draw(surface)
            t1, c1 = time.perf_counter(), time.thread_time()
            if i >= WARMUP_FRAMES:
                times.append((t1 - t0) * 1000.0)
                cpu.append((c1 - c0) * 1000.0)
                runs.append(decoder.runs - runs_before)
    finally:
        scene.exit()
    ms = np.asarray(times)
    return {
        "median_ms": float(np.median(ms)),
        "p99_ms": float(np.percentile(ms, 99)),
        "mean_ms": float(ms.mean()),
        "cpu_median_ms": float(np.median(cpu)),
        "runs_per_frame": float(np.mean(runs)),
        "images_per_frame": scene.last_batch_size,
    }


def run(model_path: Path | str, frames: int = 600, size: tuple[int, int] = (1280, 720)) -> dict:
    """Measure both variants; returns {"ours": {...}, "baseline": {...}, "speedup_median": x}."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    pygame.display.init()
    pygame.font.init()
    ours = _measure(Path(model_path), frames, size, baseline=False)
    base = _measure(Path(model_path), frames, size, baseline=True)
    return {
        "model": str(model_path), "frames": frames, "size": list(size),
        "ours": ours, "baseline": base,
        "speedup_median": base["median_ms"] / max(ours["median_ms"], 1e-9),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help=f"decoder .onnx (default {DEFAULT_MODEL})")
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT")
    a = ap.parse_args()
    model = a.model or DEFAULT_MODEL
    if not model.is_file():
        sys.exit(f"odyssey_frame: no model at {model}; pass --model PATH to a 3-D (or wider) decoder.")
    try:
        w, h = (int(v) for v in a.size.lower().split("x"))
    except ValueError:
        sys.exit(f"odyssey_frame: --size must look like 1280x720, not {a.size!r}.")
    from latent_odyssey.game.model.modelfile import ModelFileError

    try:
        r = run(model, a.frames, (w, h))
    except (ModelFileError, ValueError) as exc:
        sys.exit(f"odyssey_frame: {exc}")
    print(f"model {r['model']}  {w}x{h}  {r['frames']} frames  tunnel 8 layers + grid + HUD, autopilot")
    for name in ("ours", "baseline"):
        m = r[name]
        print(f"{name:9s} median {m['median_ms']:6.2f} ms  p99 {m['p99_ms']:6.2f} ms  "
              f"mean {m['mean_ms']:6.2f} ms  cpu {m['cpu_median_ms']:6.2f} ms  "
              f"runs/frame {m['runs_per_frame']:5.2f}  "
              f"images/frame {m['images_per_frame']}")
    print(f"speed-up (median): {r['speedup_median']:.1f}x")


if __name__ == "__main__":
    main()
