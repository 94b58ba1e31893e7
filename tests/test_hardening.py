"""Hardening (issue 16): every failure family, run as the real commands with real files.

Each case is a command line from the bad-input battery (``benchmarks/bad_input.py``), run as
``main(argv)`` in a forked child (or a fresh process where it must be one: no display, a
closed stdout) in a folder of its own, against a small shared world: copies of the shipped
models, a tiny IDX data set, a tiny trained run and a recorded flight. For every case the test
asserts the exit status, that stderr is exactly one sentence ``COMMAND: ....`` with no
traceback, that the sha256 of every file that was there before (inputs and earlier outputs)
is unchanged, and that a refusal leaves nothing new behind; plus what the family is about
(both the video and its flight log kept after a signal, the real cause named, ...).

The fuzz test replays mutated flight logs and plays with mutated controls files
(``benchmarks.mutate``): every run ends cleanly or in one sentence. The full battery (270
cases, and ``--fuzz N``) is ``python -m benchmarks.bad_input``.
"""

from __future__ import annotations

import os
import re

import pytest

from benchmarks import bad_input, clirun

pytestmark = pytest.mark.skipif(os.name != "posix", reason="forks, signals and rlimits")

CASES = {case.name: case for case in bad_input.cases()}
FUZZ_N = 20  # mutated flight logs, and as many mutated controls files
FUZZ_SEED = 16
USAGE, FAILURE = 2, 1  # exit statuses: a bad value or log; a bad file, data set or disk

# (case name in the battery, exit status, words the sentence must hold)
FAMILIES = {
    "data loss": [
        ("replay a.mp4 a.mp4 (log named .mp4)", USAGE, ("is the input",)),
        ("export, --out the checkpoint's own name", FAILURE, ("checkpoint.pt",)),
        ("two records of one file at once", USAGE, ("another odyssey command",)),
        ("record past a file size limit over an earlier recording", USAGE, ("file too large",)),
        ("record whose flight log would replace its model", USAGE, ("is the input",)),
        ("--screenshot over the model file being played", USAGE, ("is the input",)),
        ("train over an earlier run without --resume", FAILURE, ("--resume",)),
    ],
    "signals": [
        ("SIGTERM during record", 143, ("sigterm", "kept", "flight log")),
        ("SIGINT during record", 130, ("interrupted", "kept", "flight log")),
        ("SIGHUP during record", 129, ("sighup", "kept")),
    ],
    "hangs and crashes": [
        ("play with no display, no --frames (used to run forever)", USAGE, ("no display", "--headless")),
        ("replay, log last t 1e7 s (used to replay for 33 h)", USAGE, ("3600",)),
        ("play --size 16384x16384 (used to segfault)", USAGE, ("8192",)),
        ("replay --size 16384x16384", USAGE, ("8192",)),
        ("play, controls a FIFO (used to hang)", FAILURE, ("regular file",)),
        ("replay, log a FIFO", USAGE, ("regular file",)),
    ],
    "tracebacks": [
        ("record, controls not TOML", FAILURE, ("not valid toml",)),
        ("replay, controls nested 5000 deep (RecursionError)", FAILURE, ("nested", "8")),
        ("replay, log t 1e308", USAGE, ("3600",)),
        ("replay, log size [NaN, 48]", USAGE, ("nan",)),
        ("replay, log t a string", USAGE, ("time",)),
        ("replay, log z of the wrong size", USAGE, ("3 dimensions",)),
        ("replay, log state orientation of strings", USAGE, ("orientation",)),
        ("replay, log nested 100000 deep", USAGE, ("nested",)),
        ("train, data 32x32 images", FAILURE, ("28x28",)),
        ("train, data zero test images", FAILURE, ("0 test images",)),
        ("train --limit 4", FAILURE, ("at least 5",)),
        ("train --seed 1000000000000000000000000000000", USAGE, ("4294967295",)),
        ("train --iw-k 1000000000000", USAGE, ("20000",)),
        ("train --resume, checkpoint epoch a string", FAILURE, ("'epoch'",)),
        ("train --resume, checkpoint no optimizer key", FAILURE, ("'optimizer'",)),
        ("train --resume, checkpoint weights of the wrong shapes", FAILURE, ("size mismatch",)),
        ("train --resume, checkpoint another preset", FAILURE, ("mnist-3d",)),
        ("faces --data-dir an empty folder", FAILURE, ("no .jpg/.png",)),
        ("train past a file size limit (torch.save fails)", FAILURE, ("checkpoint", "file too large")),
        ("export, corrupt metrics.json", FAILURE, ("metrics.json", "not valid json")),
        ("export, --out .", FAILURE, ("folder",)),
        ("info | head -0 (closed stdout)", 0, ()),
    ],
    "messages that mislead": [
        ("train, data an empty folder (offline)", FAILURE, ("is not in data",)),
        ("record on a read-only file system", USAGE, ("read-only",)),
        ("train --resume, checkpoint random bytes", FAILURE, ("not a pickle",)),
        ("train --resume, checkpoint a Python object (weights-only refusal)", FAILURE, ("argparse.namespace",)),
        ("info IR version too new", FAILURE, ("ir version: 99",)),
    ],
    "leftovers": [
        ("SIGTERM during export (staging folder)", 143, ("staging folder was removed",)),
        ("train, data labels out of range", FAILURE, ("labels run from",)),
    ],
}
PARAMS = [pytest.param(name, status, words, id=f"{family}: {name}")
          for family, rows in FAMILIES.items() for name, status, words in rows]


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> bad_input.World:
    """The shared, read-only world of the cases (about 5 s: a tiny training run, a flight)."""
    missing = clirun.preload()
    torch_ok = not any(m.startswith(("latent_odyssey.train", "latent_odyssey.export")) for m in missing)
    return bad_input.build_world(tmp_path_factory.mktemp("world"), torch=torch_ok, faces=False)


def run(name: str, world: bad_input.World, folder) -> bad_input.Outcome:
    outcome = bad_input.run_case(CASES[name], world, folder, 0, hash_world=True)
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    return outcome


def assert_one_sentence(result: clirun.Result) -> str:
    """stderr is exactly one finished sentence ``COMMAND: ....`` (progress aside), no traceback."""
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = clirun.message_lines(result.stderr)
    assert len(lines) == 1, result.stderr[-2000:]
    line = lines[0]
    assert line.startswith(f"{result.command}: ") and line.endswith("."), line
    assert len(line) <= clirun.MAX_SENTENCE_CHARS, line
    return line


def assert_nothing_changed(outcome: bad_input.Outcome) -> None:
    """The sha256 of every file that was there before (the case's folder and the shared
    world: models, data, the trained run, the recorded flight) is the same after."""
    assert any(k.startswith("world:") for k in outcome.before), "the world was not hashed"
    changed = {k: (v, outcome.after.get(k)) for k, v in outcome.before.items() if outcome.after.get(k) != v}
    assert not changed, changed


@pytest.mark.parametrize("name, status, words", PARAMS)
def test_bad_input_is_one_sentence_and_nothing_is_lost(name, status, words, world, tmp_path):
    outcome = run(name, world, tmp_path)
    result = outcome.result
    assert not result.timed_out and result.killed_by is None, result.stderr[-2000:]
    assert result.status == status, result.stderr[-2000:]
    if status == 0:
        assert clirun.message_lines(result.stderr) == [] and "Traceback" not in result.stderr
    else:
        line = assert_one_sentence(result).lower()
        for word in words:
            assert word.lower() in line, (word, line)
    if name != "SIGTERM during export (staging folder)":  # its input run is still there, intact
        assert_nothing_changed(outcome)
    # the battery's own checks: no leftovers, the kept recording decodes, and so on
    assert outcome.problems == [], outcome.problems


def test_signals_keep_the_video_and_its_flight_log(world, tmp_path):
    outcome = run("SIGTERM during record", world, tmp_path)
    video, log = outcome.folder / "v.mp4", outcome.folder / "v.flight.jsonl"
    frames = bad_input.video_frames(video)
    assert frames is not None and frames >= 1
    from latent_odyssey.game.capture.flightlog import read_flight_log

    lines = len(read_flight_log(log).lines)
    assert abs(lines - frames) <= 1, (lines, frames)
    kept = re.search(r"kept the (\d+) frames", outcome.result.stderr)
    assert kept and int(kept.group(1)) == frames
    assert not list(outcome.folder.glob("*partial*")) and not list(outcome.folder.glob(".*.lock"))


def test_weights_only_refusal_and_random_bytes_get_different_whole_sentences(world, tmp_path):
    pickled = run("train --resume, checkpoint a Python object (weights-only refusal)", world, tmp_path / "a")
    noise = run("train --resume, checkpoint random bytes", world, tmp_path / "b")
    a, b = assert_one_sentence(pickled.result), assert_one_sentence(noise.result)
    assert a != b
    for line in (a, b):
        assert re.search(r"[\w)]\.$", line), line  # ends on a whole word, not cut mid-word


def test_a_failed_training_run_leaves_no_config_json(world, tmp_path):
    for i, name in enumerate(("train, data zero test images", "train past a file size limit (torch.save fails)")):
        outcome = run(name, world, tmp_path / str(i))
        assert outcome.result.status == FAILURE
        assert not (outcome.folder / "run" / "config.json").exists()
        assert not (outcome.folder / "run").exists() or not any((outcome.folder / "run").iterdir())


def test_fuzzed_flight_logs_and_controls_files_run_or_refuse_in_one_sentence(world, tmp_path):
    outcomes = [bad_input.run_case(case, world, tmp_path, i)
                for i, case in enumerate(bad_input.fuzz_cases(FUZZ_N, FUZZ_SEED))]
    for outcome in outcomes:
        result = outcome.result
        assert outcome.problems == [], (outcome.case.name, outcome.problems, result.stderr[-1500:])
        assert result.status in (0, USAGE, FAILURE), (outcome.case.name, result.stderr[-1500:])
    statuses = [o.result.status for o in outcomes]
    assert 0 in statuses and any(s != 0 for s in statuses), statuses  # both paths were taken
