"""VideoRecorder: real files written by libx264/gif and decoded back with PyAV."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import av
import numpy as np
import pytest

from latent_odyssey.game.capture.encoder import (
    RecorderError,
    VideoRecorder,
    finalize_all,
    timestamped_path,
)

REPO = Path(__file__).resolve().parents[1]
W, H = 64, 48  # small frames keep the tests fast


def frame(i: int, width: int = W, height: int = H) -> np.ndarray:
    """A frame whose brightness and a white bar grow with i."""  # (H, W, 3) uint8
    img = np.full((height, width, 3), (i * 7) % 200, np.uint8)
    img[:, : min(width, i)] = 255
    return img


def decode(path: Path) -> tuple[str, tuple[int, int], list[np.ndarray]]:
    """Codec name, (W, H) and all frames (H, W, 3) of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        return stream.codec_context.name, (stream.width, stream.height), frames


def record(path: Path, times, fps: int = 10, **kwargs) -> VideoRecorder:
    with VideoRecorder(path, (W, H), fps=fps, blocking=True, **kwargs) as rec:
        for i, t in enumerate(times):
            assert rec.submit(frame(i), t)
    return rec


def no_partials(folder: Path) -> bool:
    return not any(".partial" in p.name for p in folder.iterdir())


def run_child(script: str, *args: str, **popen) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def test_fast_game_is_subsampled_to_fixed_rate(tmp_path):
    path = tmp_path / "fast.mp4"
    rec = record(path, [100.0 + i / 60 for i in range(60)], fps=10)  # 1 s at 60 Hz
    codec, size, frames = decode(path)
    assert codec == "h264"
    assert size == (W, H)
    assert abs(len(frames) - 10) <= 1
    assert rec.frames_written == len(frames) and rec.elapsed == pytest.approx(len(frames) / 10)
    assert rec.error is None and rec.dropped == 0
    assert abs(frames[0].mean() - frames[-1].mean()) > 20  # content changes over time
    assert no_partials(tmp_path)


def test_slow_game_is_filled_with_duplicates(tmp_path):
    path = tmp_path / "slow.mp4"
    record(path, [i / 7 for i in range(8)], fps=10)  # 7 Hz, t = 0 .. 1 s
    codec, _, frames = decode(path)
    assert codec == "h264"
    assert abs(len(frames) - 10) <= 1
    means = [round(f.mean()) for f in frames]
    assert len(set(means)) == 8  # every game frame shows, some twice
    assert means == sorted(means)


def test_offline_render_gets_exactly_one_video_frame_per_submit(tmp_path):
    path = tmp_path / "offline.mp4"
    rec = record(path, [k / 25 for k in range(12)], fps=25)
    assert rec.frames_written == 12 and len(decode(path)[2]) == 12


def test_odd_size_is_padded_to_even(tmp_path):
    path = tmp_path / "odd.mp4"
    img = np.zeros((47, 65, 3), np.uint8)
    img[:, -1] = 255  # bright last column: padding repeats it
    with VideoRecorder(path, (65, 47), fps=10, blocking=True) as rec:
        assert rec.video_size == (66, 48)
        rec.submit(img, 0.0)
    _, size, frames = decode(path)
    assert size == (66, 48)
    assert frames[0][:, -2:].mean() > 200 and frames[0][:, :40].mean() < 30


def test_exception_inside_with_still_leaves_playable_file(tmp_path):
    path = tmp_path / "crash.mp4"
    with pytest.raises(RuntimeError, match="game crashed"):
        with VideoRecorder(path, (W, H), fps=10, blocking=True) as rec:
            for i in range(5):
                rec.submit(frame(i), i / 10)
            raise RuntimeError("game crashed")
    codec, _, frames = decode(path)
    assert codec == "h264" and len(frames) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crash.mp4"]


def test_gif_output_decodes(tmp_path):
    path = tmp_path / "loop.gif"
    rec = record(path, [i / 20 for i in range(20)], fps=10, gif=True)
    codec, size, frames = decode(path)
    assert codec == "gif" and size == (W, H)
    assert abs(len(frames) - 10) <= 1 and rec.frames_written == len(frames)
    assert abs(frames[0].mean() - frames[-1].mean()) > 20
    assert no_partials(tmp_path)


def test_folder_that_cannot_be_created_raises_one_sentence(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RecorderError, match=r"^Cannot create the video folder .*file.*\.$"):
        VideoRecorder(blocker / "videos" / "x.mp4", (W, H))


def test_unwritable_folder_sets_error_instead_of_crashing(tmp_path):
    folder = tmp_path / "gone"
    rec = VideoRecorder(folder / "x.mp4", (W, H))
    folder.rmdir()  # e.g. a removed USB drive, between creating and starting
    assert rec.start() is False
    assert rec.error == f"Cannot write video to {folder / 'x.mp4'}: No such file or directory."
    assert rec.submit(frame(0), 0.0) is False
    assert rec.close() is None
    assert not folder.exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores modes")
def test_read_only_folder_sets_permission_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    try:
        rec = VideoRecorder(folder / "x.mp4", (W, H))
        assert rec.start() is False
        assert rec.error == f"Cannot write video to {folder / 'x.mp4'}: Permission denied."
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs RLIMIT_FSIZE")
def test_disk_full_mid_recording_sets_error_and_game_goes_on(tmp_path):
    path = tmp_path / "full.mp4"
    child = run_child(
        """
        import resource, signal, sys
        from pathlib import Path
        import numpy as np
        from latent_odyssey.game.capture.encoder import VideoRecorder
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # a "disk" of 20 kB
        rec = VideoRecorder(Path(sys.argv[1]), (128, 96), fps=30, blocking=True)
        rec.start()
        rng = np.random.default_rng(0)
        for i in range(90):  # noise compresses badly: far more than 20 kB
            rec.submit(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8), i / 30)
        rec.close()
        print(rec.error)
        """,
        str(path),
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert out.strip() == f"Cannot write video to {path}: File too large."
    assert no_partials(tmp_path)


def test_full_queue_drops_instead_of_blocking(tmp_path):
    rng = np.random.default_rng(1)
    noise = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(4)]
    path = tmp_path / "burst.mp4"
    n = 40
    with VideoRecorder(path, (640, 480), fps=30, queue_frames=1) as rec:
        slowest = 0.0
        for i in range(n):  # a burst far faster than x264 encodes 640x480 noise
            start = time.perf_counter()
            rec.submit(noise[i % 4], i / 30)
            slowest = max(slowest, time.perf_counter() - start)
    assert slowest < 0.05
    assert rec.dropped > 0
    # Real time is kept: dropped frames become duplicates, the length stays n / fps.
    assert abs(len(decode(path)[2]) - n) <= 1


def test_blocking_mode_encodes_every_frame(tmp_path):
    path = tmp_path / "all.mp4"
    with VideoRecorder(path, (W, H), fps=30, queue_frames=1, blocking=True) as rec:
        for i in range(30):
            assert rec.submit(frame(i), i / 30)
    assert rec.dropped == 0
    frames = decode(path)[2]
    got = np.array([f.mean() for f in frames])
    want = np.array([frame(i).mean() for i in range(30)])
    assert got.shape == want.shape and np.abs(got - want).max() < 3  # lossy, in order


def test_sigterm_while_recording_leaves_playable_file(tmp_path):
    path = tmp_path / "term.mp4"
    child = run_child(
        """
        import sys, time
        from pathlib import Path
        import numpy as np
        from latent_odyssey.game.capture.encoder import VideoRecorder, install_signal_finalizers
        install_signal_finalizers()
        rec = VideoRecorder(Path(sys.argv[1]), (64, 48), fps=20)
        rec.start()
        print("recording", flush=True)
        t0, i = time.monotonic(), 0
        while True:  # a game loop at ~60 Hz that never ends by itself
            rec.submit(np.full((48, 64, 3), i % 256, np.uint8), time.monotonic() - t0)
            i += 1
            time.sleep(1 / 60)
        """,
        str(path),
    )
    assert child.stdout.readline().strip() == "recording"
    time.sleep(1.0)
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 143, err
    codec, _, frames = decode(path)
    assert codec == "h264" and len(frames) >= 10  # ~1 s at 20 fps
    assert no_partials(tmp_path)


def test_interpreter_exit_without_close_finalizes_via_atexit(tmp_path):
    path = tmp_path / "atexit.mp4"
    child = run_child(
        """
        import sys
        from pathlib import Path
        import numpy as np
        from latent_odyssey.game.capture.encoder import VideoRecorder
        rec = VideoRecorder(Path(sys.argv[1]), (64, 48), fps=10)
        rec.start()
        for i in range(5):
            rec.submit(np.full((48, 64, 3), 40 * i, np.uint8), i / 10)
        """,  # no close(): the atexit hook must finish the file
        str(path),
    )
    _, err = child.communicate(timeout=30)
    assert child.returncode == 0, err
    assert len(decode(path)[2]) == 5 and no_partials(tmp_path)


def test_finalize_all_closes_open_recorders(tmp_path):
    rec = VideoRecorder(tmp_path / "open.mp4", (W, H), fps=10, blocking=True)
    rec.start()
    for i in range(3):
        rec.submit(frame(i), i / 10)
    assert rec.partial_path.exists() and rec.partial_path.name.endswith(".partial.mp4")
    assert rec.partial_path.name.startswith(f"open.{os.getpid()}-")  # unique per process
    assert tmp_path / "open.mp4" in finalize_all()
    assert len(decode(tmp_path / "open.mp4")[2]) == 3
    assert rec.submit(frame(4), 0.4) is False  # closed: ignored, no exception
    assert no_partials(tmp_path)


def test_nothing_submitted_leaves_no_file(tmp_path):
    with VideoRecorder(tmp_path / "empty.mp4", (W, H)) as rec:
        pass
    assert rec.error is None and list(tmp_path.iterdir()) == []


def test_bad_frames_and_arguments_raise_one_sentence(tmp_path):
    rec = VideoRecorder(tmp_path / "x.mp4", (W, H))
    with pytest.raises(RecorderError, match="start"):
        rec.submit(frame(0), 0.0)
    with rec:
        with pytest.raises(RecorderError, match=r"takes uint8 \(48, 64, 3\) RGB\.$"):
            rec.submit(np.zeros((W, H, 3), np.uint8), 0.0)  # pygame's (W, H) order
        assert rec.submit(np.zeros((H, W, 4), np.uint8), 0.0)  # RGBA: alpha dropped
    with pytest.raises(RecorderError, match=r"\.gif"):
        VideoRecorder(tmp_path / "x.mp4", (W, H), gif=True)
    with pytest.raises(RecorderError, match="fps"):
        VideoRecorder(tmp_path / "x.mp4", (W, H), fps=0)


def test_timestamped_path_is_readable_and_unique(tmp_path):
    first = timestamped_path(tmp_path)
    assert re.fullmatch(r"odyssey-\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.mp4", first.name)
    first.touch()
    second = timestamped_path(tmp_path)
    assert second != first and second.parent == tmp_path
    assert timestamped_path(tmp_path, prefix="faces", ext=".gif").name.startswith("faces-")
