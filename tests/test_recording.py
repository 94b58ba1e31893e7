"""Recording flight videos: in-game F9 recording, headless `record`, flight logs and `replay`.

Real exported models, real pygame frames through Engine.loop_once, real H.264/GIF files
decoded back with PyAV. Videos are tiny (160x120 or the 320x200 window minimum, 1-2 s).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pygame
import pytest

from latent_odyssey.game.capture import flightlog, recording, render
from latent_odyssey.game.cli import main
from latent_odyssey.game.model.modelfile import open_model
from latent_odyssey.game.play import Game

DT = 1 / 60  # game frame time in the in-game tests
WINDOW = (320, 200)  # the engine's minimum window size
SMALL = "160x120"
REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.usefixtures("isolated")  # conftest: no shipped/user models, tmp config


def decode(path: Path) -> tuple[str, tuple[int, int], list[np.ndarray]]:
    """Codec name, (W, H) and every frame (H, W, 3) uint8 of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return stream.codec_context.name, (stream.width, stream.height), frames


def key(eng: Game, k: int, down: bool = True) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN if down else pygame.KEYUP, key=k, mod=0))


def tap(eng: Game, k: int) -> None:
    """Press and release a key over two frames."""
    key(eng, k)
    eng.loop_once(DT)
    key(eng, k, down=False)
    eng.loop_once(DT)


def frames(eng: Game, n: int) -> None:
    for _ in range(n):
        eng.loop_once(DT)


def stop_recording(eng: Game) -> Path:
    """F9 again: stop the in-game recording, wait for the video, return its path."""
    tap(eng, pygame.K_F9)
    assert eng.recording.wait(30)
    return eng.recording.last_path


def notices(eng: Game) -> list[str]:
    return [text for text, _ in eng.ctx.notices]


def videos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.mp4") if ".partial" not in p.name)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ----------------------------------------------------------------------------- headless record


def record_cli(model: Path, out: Path, *extra: str) -> int:
    return main(["record", str(out), "--model", str(model), "--size", SMALL, "--quiet", *extra])


def test_headless_tour_is_an_h264_video_of_the_right_length_size_and_motion(exported_models, tmp_path, capsys):
    out = tmp_path / "tour.mp4"
    assert record_cli(exported_models["3d"], out, "--tour", "dense", "--seconds", "1.5", "--fps", "10",
                      "--tunnel", "--grid", "--seed", "4") == 0
    assert "Wrote" in capsys.readouterr().out
    codec, size, decoded = decode(out)
    assert codec == "h264" and size == (160, 120)
    assert abs(len(decoded) - 15) <= 1
    assert np.abs(decoded[0].astype(int) - decoded[-1].astype(int)).mean() > 1.0  # it flies
    log = flightlog.read_flight_log(flightlog.log_path_for(out))
    assert len(log.lines) == len(decoded)
    assert log.lines[0]["mode"] == "odyssey" and log.lines[-1]["t"] == pytest.approx(1.4)
    state = log.lines[-1]["state"]
    assert state["autopilot"] is True and state["tour_kind"] == "dense"
    assert state["tunnel"] is True and state["grid"] is True
    assert len(state["orientation"]) == 4 and len(log.lines[-1]["z"]) == 3
    assert not list(tmp_path.glob("*.partial*"))


def test_headless_record_is_deterministic_for_a_seed(exported_models, tmp_path):
    runs = []
    for name in ("a.mp4", "b.mp4"):
        out = tmp_path / name
        assert record_cli(exported_models["3d"], out, "--tour", "random", "--seconds", "1",
                          "--fps", "10", "--tunnel", "--seed", "7") == 0
        _, _, decoded = decode(out)
        lines = flightlog.log_path_for(out).read_text().splitlines()[1:]  # the header names the file
        runs.append((decoded, lines))
    (a, log_a), (b, log_b) = runs
    assert len(a) == len(b)
    assert all(np.array_equal(fa, fb) for fa, fb in zip(a, b, strict=True))
    assert log_a == log_b


def test_gif_output_decodes(exported_models, tmp_path):
    out = tmp_path / "tour.gif"
    assert record_cli(exported_models["3d"], out, "--seconds", "1", "--fps", "10", "--no-log") == 0
    codec, size, decoded = decode(out)
    assert codec == "gif" and size == (160, 120) and abs(len(decoded) - 10) <= 1
    assert not flightlog.log_path_for(out).exists()
    out2 = tmp_path / "flag"
    assert record_cli(exported_models["3d"], out2, "--gif", "--seconds", "0.5", "--fps", "10") == 0
    assert decode(tmp_path / "flag.gif")[0] == "gif"


def test_face_morph_runs_from_a_to_b(exported_face_model, tmp_path):
    out = tmp_path / "morph.mp4"
    result = render.render_morph(exported_face_model, out, 3, 17, seconds=1.0, fps=10,
                                 size=(320, 200), progress=False)
    codec, size, decoded = decode(out)
    assert codec == "h264" and size == (320, 200) and len(decoded) == result.frames == 10
    log = flightlog.read_flight_log(result.log_path)
    assert log.lines[0]["mode"] == "faces"
    z0, z1 = np.array(log.lines[0]["z"]), np.array(log.lines[-1]["z"])
    _, meta = open_model(exported_face_model, "cpu")
    a, b = render.random_face(meta, 3), render.random_face(meta, 17)
    np.testing.assert_allclose(z0, a, atol=1e-5)
    np.testing.assert_allclose(z1, b, atol=1e-5)
    assert np.abs(decoded[0].astype(int) - decoded[-1].astype(int)).mean() > 0.5


def test_morph_needs_a_faces_model(exported_models, tmp_path, capsys):
    assert record_cli(exported_models["3d"], tmp_path / "m.mp4", "--morph", "1:2") != 0
    assert "face" in one_line_error(capsys).lower()


@pytest.mark.parametrize("extra, expect", [
    (["--size", "0x0"], "size"),
    (["--size", "abc"], "size"),
    (["--seconds", "-1"], "duration"),
    (["--seconds", "0"], "duration"),
    (["--seconds", "nan"], "duration"),
    (["--fps", "0"], "frame rate"),
    (["--fps", "-5"], "frame rate"),
    (["--fps", "ten"], "frame rate"),
    (["--tour", "spiral"], "tour"),
    (["--seed", "-2"], "seed"),
    (["--morph", "1-2"], "morph"),
    (["--gif"], "gif"),
])
def test_bad_record_flags_are_one_sentence(extra, expect, exported_models, tmp_path, capsys):
    code = main(["record", str(tmp_path / "x.mp4"), "--model", str(exported_models["3d"]), "--quiet", *extra])
    assert code != 0
    assert expect in one_line_error(capsys).lower()
    assert not list(tmp_path.glob("x*"))


def test_bad_outputs_and_models_are_one_sentence(exported_models, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = [
        [str(blocker / "x.mp4"), "--model", str(exported_models["3d"])],  # folder is a file
        [str(tmp_path / "x.avi"), "--model", str(exported_models["3d"])],  # unknown container
        [str(tmp_path), "--model", str(exported_models["3d"])],  # a folder
        [str(tmp_path / "x.mp4"), "--model", "no-such-model"],
        [str(tmp_path / "x.mp4"), "--model", str(exported_models["2d"])],  # Odyssey needs 3-D
    ]
    for argv in bad:
        assert main(["record", *argv, "--seconds", "0.2", "--quiet"]) != 0, argv
        one_line_error(capsys)
    assert not list(tmp_path.glob("*.mp4"))


# ----------------------------------------------------------------------------- in-game recording


def test_f9_records_a_video_and_flight_log_and_says_where(exported_models, tmp_path):
    eng = Game(exported_models["2d"], headless=True, size=WINDOW, seed=1)
    try:
        eng.loop_once(DT)
        tap(eng, pygame.K_F9)
        assert eng.recording.recording
        key(eng, pygame.K_d)  # move while recording
        frames(eng, 60)
        key(eng, pygame.K_d, down=False)
        tap(eng, pygame.K_F9)
        assert not eng.recording.recording
        assert eng.recording.wait(30)
        eng.loop_once(DT)
        path = eng.recording.last_path
        assert path is not None and path.parent == tmp_path / "captures"
        assert path.name.startswith("odyssey-") and path.suffix == ".mp4"
        assert f"Recording saved: {path}" in notices(eng)
    finally:
        eng.shutdown()
    codec, size, decoded = decode(path)
    assert codec == "h264" and size == WINDOW
    # 64 frames of 1/60 s: about 1.07 s at a fixed 30 fps, whatever the game's rate
    assert 30 <= len(decoded) <= 34
    log = flightlog.read_flight_log(flightlog.log_path_for(path))
    assert log.header["model"] == exported_models["2d"].stem and log.header["fps"] == 30
    assert log.lines[0]["mode"] == "navigator" and len(log.lines[0]["z"]) == 2
    assert log.lines[-1]["z"] != log.lines[0]["z"]  # the cursor moved
    assert not list((tmp_path / "captures").glob("*.partial*"))


def test_rec_indicator_is_on_screen_but_not_in_the_video(exported_models, tmp_path):
    eng = Game(exported_models["2d"], headless=True, size=WINDOW, seed=1)
    seen: list[pygame.Surface] = []
    try:
        eng.loop_once(DT)
        tap(eng, pygame.K_F9)
        eng.frame_listeners.append(lambda surface, t: seen.append(surface.copy()))  # what was captured
        frames(eng, 10)  # 0.2 s into the recording: the dot is lit
        rect = eng.recording.indicator_rect(eng.surface)
        assert rect is not None and rect.top >= 0 and rect.centerx == WINDOW[0] // 2
        dot = (rect.x + 10 + recording.DOT_RADIUS_PX, rect.centery)
        assert tuple(eng.surface.get_at(dot))[:3] == recording.REC_RED  # on screen
        assert tuple(seen[-1].get_at(dot))[:3] != recording.REC_RED  # not in the captured frame
        path = stop_recording(eng)
    finally:
        eng.shutdown()
    _, _, decoded = decode(path)
    x, y = dot
    red = np.array(recording.REC_RED)
    for frame in decoded:  # no frame of the video has the red dot
        patch = frame[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3).astype(int)
        assert np.abs(patch - red).sum(axis=1).min() > 90
    below = pygame.surfarray.array3d(seen[-1]).transpose(1, 0, 2)  # (H, W, 3)
    assert np.abs(decoded[-1].astype(int) - below.astype(int)).mean() < 12  # the video is the scene


@pytest.mark.parametrize("error", [RuntimeError("a bug in a scene"), KeyboardInterrupt()])
def test_exception_or_ctrl_c_mid_recording_leaves_playable_video_and_log(error, exported_models, tmp_path):
    eng = Game(exported_models["2d"], headless=True, size=WINDOW, seed=1)
    eng.loop_once(DT)
    tap(eng, pygame.K_F9)
    count = [0]

    def crash(surface, t):
        count[0] += 1
        if count[0] == 20:
            raise error

    eng.frame_listeners.append(crash)
    with pytest.raises(type(error)):
        eng.run(frames=1000)  # run()'s finally: Game.shutdown() finalizes the recording
    folder = tmp_path / "captures"
    [video] = videos(folder)
    codec, _, decoded = decode(video)
    assert codec == "h264" and len(decoded) >= 5
    assert flightlog.read_flight_log(flightlog.log_path_for(video)).lines
    assert not list(folder.glob("*.partial*"))


def test_window_close_while_recording_finalizes(exported_models, tmp_path):
    eng = Game(exported_models["2d"], headless=True, size=WINDOW, seed=1)
    eng.loop_once(DT)
    tap(eng, pygame.K_F9)
    frames(eng, 5)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    eng.run()  # quits at once, then shuts down
    [video] = videos(tmp_path / "captures")
    assert decode(video)[0] == "h264"


def test_unwritable_captures_folder_is_a_notice_and_the_game_goes_on(exported_models, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("ODYSSEY_CAPTURES", str(blocker / "captures"))
    eng = Game(exported_models["2d"], headless=True, size=WINDOW, seed=1)
    try:
        eng.loop_once(DT)
        tap(eng, pygame.K_F9)
        assert not eng.recording.recording
        assert eng.recording.last_error and str(blocker) in eng.recording.last_error
        assert eng.recording.last_error in notices(eng)
        frames(eng, 3)  # the game goes on
    finally:
        eng.shutdown()


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_disk_full_mid_recording_stops_with_a_notice_and_the_game_goes_on(exported_models, tmp_path):
    script = textwrap.dedent("""
        import os, resource, signal, sys
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        import numpy as np
        import pygame
        from latent_odyssey.game.play import Game
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
        eng = Game(sys.argv[1], headless=True, size=(320, 200), seed=1)
        eng.loop_once(1 / 60)
        rng = np.random.default_rng(0)
        def noise(surface, t):  # a scene that compresses badly: far more than 6 kB a frame
            pygame.surfarray.blit_array(surface, rng.integers(0, 256, (320, 200, 3), dtype=np.uint8))
        eng.frame_listeners.insert(0, noise)  # runs before the recording's listener
        resource.setrlimit(resource.RLIMIT_FSIZE, (6_000, 6_000))  # a "disk" of 6 kB
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F9, mod=0))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_d, mod=0))
        for _ in range(600):
            eng.loop_once(1 / 60)
            if not eng.recording.recording:
                break
        eng.recording.wait(30)
        for _ in range(5):  # the game goes on
            eng.loop_once(1 / 60)
        texts = [t for t, _ in eng.ctx.notices]
        print(eng.recording.recording, eng.frame_count > 5)
        print(eng.recording.last_error)
        print(any(eng.recording.last_error in t for t in texts))
        eng.shutdown()
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO), ODYSSEY_CAPTURES=str(tmp_path / "captures"))
    child = subprocess.run([sys.executable, "-c", script, str(exported_models["2d"])], cwd=REPO,
                           env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    lines = child.stdout.strip().splitlines()
    assert lines[0] == "False True"
    assert lines[1].startswith("Cannot write video to ") and lines[1].endswith("File too large.")
    assert lines[2] == "True"
    assert not list((tmp_path / "captures").glob("*.partial*"))


def test_resized_window_is_letterboxed_into_the_recording_size(exported_models, tmp_path):
    eng = Game(exported_models["2d"], headless=True, size=WINDOW, seed=1)
    try:
        eng.loop_once(DT)
        tap(eng, pygame.K_F9)
        frames(eng, 4)
        eng.surface = pygame.display.set_mode((400, 200))  # wider: bars top and bottom
        frames(eng, 8)
        path = stop_recording(eng)
    finally:
        eng.shutdown()
    _, size, decoded = decode(path)
    assert size == WINDOW
    assert decoded[-1][:15].max() < 30  # black bar above the scaled frame


# ----------------------------------------------------------------------------- flight logs and replay


def test_odyssey_flight_is_logged_and_replayed_at_another_size(exported_models, tmp_path, capsys):
    eng = Game(exported_models["3d"], mode="odyssey", headless=True, size=WINDOW, seed=2)
    try:
        eng.loop_once(DT)
        tap(eng, pygame.K_F9)
        key(eng, pygame.K_w)  # thrust
        key(eng, pygame.K_d)  # yaw
        frames(eng, 30)
        tap(eng, pygame.K_y)  # grid on
        frames(eng, 30)
        key(eng, pygame.K_w, down=False)
        key(eng, pygame.K_d, down=False)
        video = stop_recording(eng)
    finally:
        eng.shutdown()
    log_path = flightlog.log_path_for(video)
    log = flightlog.read_flight_log(log_path)
    first, last = log.lines[0], log.lines[-1]
    assert first["mode"] == "odyssey" and len(first["z"]) == 3
    for k in ("orientation", "position", "tunnel", "grid", "layer_count", "spacing", "autopilot", "tour_kind"):
        assert k in last["state"], k
    assert first["state"]["grid"] is False and last["state"]["grid"] is True
    assert first["state"]["orientation"] != last["state"]["orientation"]  # it turned
    _, _, recorded = decode(video)

    out = tmp_path / "replay.mp4"
    assert main(["replay", str(log_path), str(out), "--size", SMALL, "--quiet"]) == 0
    codec, size, decoded = decode(out)
    assert codec == "h264" and size == (160, 120)
    assert len(decoded) == int(np.floor(log.duration * 30 + 1e-6)) + 1
    assert abs(len(decoded) - len(recorded)) <= 1
    assert np.abs(decoded[0].astype(int) - decoded[-1].astype(int)).mean() > 1.0
    out10 = tmp_path / "replay10.mp4"
    assert main(["replay", str(log_path), str(out10), "--size", SMALL, "--fps", "10", "--quiet"]) == 0
    assert len(decode(out10)[2]) == int(np.floor(log.duration * 10 + 1e-6)) + 1


def test_replay_of_a_headless_tour_matches_it(exported_models, tmp_path):
    out = tmp_path / "tour.mp4"
    assert record_cli(exported_models["3d"], out, "--seconds", "1", "--fps", "10", "--tunnel") == 0
    again = tmp_path / "again.mp4"
    assert main(["replay", str(flightlog.log_path_for(out)), str(again), "--quiet"]) == 0
    _, _, a = decode(out)
    _, _, b = decode(again)
    assert len(a) == len(b)
    for fa, fb in zip(a, b, strict=True):
        assert np.abs(fa.astype(int) - fb.astype(int)).mean() < 3.0  # same poses, same pictures


def test_replay_bad_logs_are_one_sentence(exported_models, tmp_path, capsys):
    out = tmp_path / "r.mp4"
    assert main(["replay", str(tmp_path / "missing.flight.jsonl"), str(out)]) != 0
    assert "does not exist" in one_line_error(capsys)
    good = tmp_path / "tour.mp4"
    assert record_cli(exported_models["3d"], good, "--seconds", "0.3", "--fps", "10") == 0
    capsys.readouterr()
    lines = flightlog.log_path_for(good).read_text().splitlines()
    cases = {
        "broken.jsonl": lines[:2] + ['{"t": 0.2, "model": oops'],
        "notlog.jsonl": ['{"hello": 1}'],
        "backwards.jsonl": lines[:3] + [lines[1]],
        "empty.jsonl": [],
        "nomodel.jsonl": [lines[0], json.dumps({"t": 0.0, "model": "", "mode": "odyssey"})],
    }
    for name, content in cases.items():
        bad = tmp_path / name
        bad.write_text("\n".join(content) + "\n")
        assert main(["replay", str(bad), str(out)]) != 0, name
        one_line_error(capsys)
    renamed = tmp_path / "other.flight.jsonl"
    header = json.loads(lines[0])
    header["model_path"] = str(tmp_path / "gone.onnx")
    rows = [json.loads(x) for x in lines[1:]]
    for row in rows:
        row["model"], row["model_path"] = "gone", str(tmp_path / "gone.onnx")
    renamed.write_text("\n".join(json.dumps(x) for x in [header, *rows]) + "\n")
    assert main(["replay", str(renamed), str(out)]) != 0
    assert "not installed" in one_line_error(capsys)
    assert main(["replay", str(flightlog.log_path_for(good)), str(out), "--size", "0x0"]) != 0
    one_line_error(capsys)
    assert not out.exists()


def test_interpolation_lerps_slerps_wraps_and_holds():
    a = {"t": 0.0, "model": "m", "mode": "odyssey", "z": [0.0, 0.0, 0.0],
         "state": {"orientation": [1.0, 0.0, 0.0, 0.0], "tour_s": 9.5, "tour_s_period": 10.0,
                   "layer_count": 8, "tunnel": True, "dims": [0, 1, 2], "spacing": 0.1}}
    s = 2 ** -0.5
    b = {"t": 1.0, "model": "m", "mode": "odyssey", "z": [1.0, 2.0, -4.0],
         "state": {"orientation": [s, 0.0, s, 0.0], "tour_s": 0.5, "tour_s_period": 10.0,
                   "layer_count": 12, "tunnel": False, "dims": [3, 4, 5], "spacing": 0.3}}
    mid = flightlog.interpolate_line(a, b, 0.5)
    assert mid["t"] == 0.5 and mid["z"] == [0.5, 1.0, -2.0]
    q = np.array(mid["state"]["orientation"])
    np.testing.assert_allclose(q, [np.cos(np.pi / 8), 0.0, np.sin(np.pi / 8), 0.0], atol=1e-9)  # half of 90°
    assert mid["state"]["tour_s"] == pytest.approx(0.0)  # the short way round the loop, not 5.0
    assert mid["state"]["spacing"] == pytest.approx(0.2)
    assert mid["state"]["layer_count"] == 8 and mid["state"]["tunnel"] is True and mid["state"]["dims"] == [0, 1, 2]
    other = dict(b, mode="navigator")
    assert flightlog.interpolate_line(a, other, 0.5) is a  # a mode change is not blended
