"""Faults from outside: training killed with SIGKILL, a controller unplugged mid-flight, CUDA
asked for where there is none, the game killed with SIGTERM while it records.

Real processes (``python -m latent_odyssey.train``, ``python -m latent_odyssey.game``, an Engine in ``python -c``), real
signals, real files read back (``train.checkpoint.load``, PyAV, ``game.flightlog``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402
from conftest import write_idx_set  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DT = 1 / 60

# ----------------------------------------------------------------------------- training: SIGKILL

KILLS = 10
KILL_SEED = 20261124
EPOCHS = 4
# Tiny on purpose: 10 kills, the resumes and one straight run must fit in about a minute on
# 2 busy cores (each process pays ~2 s importing torch before it trains).
TRAIN_ARGS = ["mnist-2d", "--limit", "128", "--epochs", str(EPOCHS), "--batch-size", "16",
              "--iw-k", "0", "--seed", "7", "--no-progress"]
MIN_DELAY_S = 0.3


def _train_cmd(data: Path, out: Path, resume: bool) -> list[str]:
    return [sys.executable, "-m", "latent_odyssey.train", *TRAIN_ARGS, "--data-dir", str(data), "--out", str(out),
            *(["--resume"] if resume else [])]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


@pytest.fixture(scope="module")
def tiny_idx(tmp_path_factory) -> Path:
    return write_idx_set(tmp_path_factory.mktemp("idx-faults"), n_train=128, n_test=48)


def test_training_killed_ten_times_always_leaves_a_loadable_checkpoint_and_resumes_to_the_same_weights(
    tiny_idx, tmp_path
):
    import torch

    from latent_odyssey.train import checkpoint as ckpt_io

    straight = tmp_path / "straight"
    t0 = time.monotonic()
    proc = subprocess.Popen(_train_cmd(tiny_idx, straight, resume=False), env=_env(), cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    epoch_ends = [time.monotonic() - t0 for line in proc.stderr if line.startswith("epoch")]
    assert proc.wait(timeout=300) == 0
    full_s = time.monotonic() - t0
    want = ckpt_io.load(straight / "checkpoint.pt")
    assert want["epoch"] == EPOCHS and len(epoch_ends) == EPOCHS
    # Most kills land while it trains (from half an epoch before training starts to just after
    # the last epoch it has left), the others anywhere: start-up, evaluation, the report.
    per_epoch = (epoch_ends[-1] - epoch_ends[0]) / (EPOCHS - 1)
    train_start = epoch_ends[0] - per_epoch  # imports and data loading are over

    def kill_window(done_epochs: int) -> tuple[float, float]:
        if rng.random() < 0.3:
            return MIN_DELAY_S, full_s
        return (max(MIN_DELAY_S, train_start - 0.5 * per_epoch),
                train_start + (EPOCHS - done_epochs) * per_epoch + 0.1)

    def finish(out: Path) -> None:
        """Resume ``out`` (same --epochs: the LR schedule depends on it) until it completes."""
        for _ in range(3):
            if (out / "metrics.json").is_file():
                return
            done = subprocess.run(_train_cmd(tiny_idx, out, (out / "checkpoint.pt").is_file()), env=_env(),
                                  cwd=REPO, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
        assert (out / "metrics.json").is_file()

    rng = np.random.default_rng(KILL_SEED)
    kills, runs = 0, 0
    epochs_at_kill: list[int] = []
    finished: list[Path] = []
    out = tmp_path / "killed-0"
    while kills < KILLS:
        runs += 1
        assert runs < 4 * KILLS, "the killed runs never got anywhere"
        ckpt = out / "checkpoint.pt"
        before = ckpt_io.load(ckpt)["epoch"] if ckpt.is_file() else 0
        if before == EPOCHS:  # trained: let it finish, and take the next kills in a fresh run
            finish(out)
            finished.append(out)
            out = tmp_path / f"killed-{len(finished)}"
            continue
        proc = subprocess.Popen(_train_cmd(tiny_idx, out, resume=before > 0), env=_env(), cwd=REPO,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        delay = float(rng.uniform(*kill_window(before)))
        try:
            _, err = proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            kills += 1
            if ckpt.is_file():  # whatever moment the kill came, the checkpoint on disk loads
                state = ckpt_io.load(ckpt)
                assert before <= state["epoch"] <= EPOCHS
                assert len(state["history"]) == state["epoch"]
                epochs_at_kill.append(int(state["epoch"]))
            else:
                assert before == 0
                epochs_at_kill.append(0)
            continue
        assert proc.returncode == 0, err  # it finished before its kill came
        finished.append(out)
        out = tmp_path / f"killed-{len(finished)}"
    finish(out)
    finished.append(out)
    assert kills == KILLS and max(epochs_at_kill) >= 1, epochs_at_kill
    exact = True
    for run in finished:
        got = ckpt_io.load(run / "checkpoint.pt")
        assert got["epoch"] == EPOCHS and [r["epoch"] for r in got["history"]] == list(range(1, EPOCHS + 1))
        for name, tensor in want["model"].items():
            torch.testing.assert_close(got["model"][name], tensor, rtol=0, atol=1e-6, msg=f"{run.name}: {name}")
            exact = exact and torch.equal(got["model"][name], tensor)
        assert (run / "metrics.json").is_file()
    leftovers = sorted(p.name for run in finished for p in run.iterdir() if p.name.startswith("."))
    print(f"\n{kills} kills over {runs} runs in {len(finished)} series (straight run {full_s:.1f} s); "
          f"checkpoint epoch at each kill {epochs_at_kill}; weights bit-identical: {exact}; "
          f"temporary files left by kills: {leftovers}")


# ----------------------------------------------------------------------------- controller unplugged


def test_controller_unplugged_mid_flight_hands_thrust_back_to_the_keyboard(exported_models, isolated):
    from latent_odyssey.game.modes.odyssey.scene import OdysseyScene
    from latent_odyssey.game.play import Game

    eng = Game(exported_models["3d"], mode="odyssey", headless=True, size=(320, 200), seed=1)

    def post(kind: int, **fields) -> None:
        pygame.event.post(pygame.event.Event(kind, **fields))

    def run(n: int) -> list[float]:
        speeds = []
        for _ in range(n):
            eng.loop_once(DT)
            speeds.append(eng.mode_scene.ship.speed)
        return speeds

    try:
        eng.loop_once(DT)
        ody = eng.mode_scene
        assert isinstance(ody, OdysseyScene) and ody.mode == "manual"
        post(pygame.CONTROLLERAXISMOTION, instance_id=0, which=0,
             axis=pygame.CONTROLLER_AXIS_TRIGGERRIGHT, value=32767)
        pushing = run(30)
        assert eng.input.axis("thrust") == 1.0 and pushing[-1] > pushing[0] > 0.0
        post(pygame.CONTROLLERDEVICEREMOVED, instance_id=0, which=0)
        coasting = run(30)  # the trigger let go with the controller: the ship slows down
        assert eng.input.axis("thrust") == 0.0 and eng.input.last_device == "keyboard"
        assert coasting[-1] < coasting[0]
        assert any("Controller disconnected" in text for text, _ in eng.ctx.notices)
        assert eng.mode_scene is ody and eng.running
        post(pygame.KEYDOWN, key=pygame.K_w, mod=0)  # keyboard thrust works afterwards
        flying = run(30)
        assert eng.input.axis("thrust") == 1.0 and flying[-1] > flying[0]
        post(pygame.KEYUP, key=pygame.K_w, mod=0)
        run(2)
        assert eng.input.axis("thrust") == 0.0
        assert np.all(np.isfinite(ody.latent()))
    finally:
        eng.shutdown()


# ----------------------------------------------------------------------------- CUDA where there is none


def test_cuda_asked_for_without_a_gpu_falls_back_to_the_cpu_with_one_notice(exported_models, isolated):
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this machine has CUDA: nothing to fall back from")
    shot = isolated / "shot.png"
    proc = subprocess.run(
        [sys.executable, "-m", "latent_odyssey.game", "play", "--model", str(exported_models["3d"]), "--mode", "odyssey",
         "--provider", "cuda", "--headless", "--frames", "2", "--screenshot", str(shot)],
        env=dict(os.environ, PYTHONPATH=str(REPO)), cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "CUDA" in lines[0] and "CPU" in lines[0] and "Traceback" not in proc.stderr
    assert pygame.image.load(str(shot)).get_size() == (1280, 720)


# ----------------------------------------------------------------------------- SIGTERM while recording

RECORDING_GAME = textwrap.dedent("""
    import sys
    import pygame
    from latent_odyssey.game.play import Game
    from latent_odyssey.game.capture.encoder import install_signal_finalizers

    eng = Game(sys.argv[1], mode=sys.argv[2], headless=True, size=(320, 200), seed=1)
    install_signal_finalizers()  # as `odyssey play` does
    eng.loop_once(1 / 60)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F9, mod=0))  # record
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_w, mod=0))  # and fly
    eng.loop_once(1 / 60)
    assert eng.recording.recording
    print("recording", flush=True)
    eng.run(frames=10**9)  # headless: a fixed 1/60 s per frame, as fast as it goes, until killed
""")


@pytest.mark.parametrize("mode,delay_s", [("odyssey", 0.4), ("navigator", 1.3), ("odyssey", 2.1)])
def test_game_killed_with_sigterm_while_recording_leaves_a_playable_video_and_flight_log(
    mode, delay_s, exported_models, isolated
):
    import av

    from latent_odyssey.game.capture import flightlog

    model = exported_models["3d" if mode == "odyssey" else "2d"]
    child = subprocess.Popen([sys.executable, "-c", RECORDING_GAME, str(model), mode], cwd=REPO,
                             env=dict(os.environ, PYTHONPATH=str(REPO), PYGAME_HIDE_SUPPORT_PROMPT="1"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline()
        while line and line.strip() != "recording":
            line = child.stdout.readline()
        assert line.strip() == "recording", child.communicate(timeout=60)[1]
        time.sleep(delay_s)
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 143, err
    assert "Traceback" not in err, err
    folder = isolated / "captures"
    videos = [p for p in folder.glob("*.mp4") if ".partial" not in p.name]
    assert len(videos) == 1, sorted(p.name for p in folder.iterdir())
    with av.open(str(videos[0])) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert stream.codec_context.name == "h264" and len(frames) >= 3
    assert frames[0].shape == (200, 320, 3)
    log = flightlog.read_flight_log(flightlog.log_path_for(videos[0]))
    assert log.header["mode"] == mode and len(log.lines) >= len(frames) - 1
    assert not list(folder.glob("*.partial*"))
