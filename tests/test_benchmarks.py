"""The benchmark suite: its smallest real run (tiny models, few frames) and its JSON schema."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks import common, decode_latency
from benchmarks.__main__ import main

SCENE_KEYS = ("median_ms", "p99_ms", "mean_ms", "cpu_median_ms", "decode_runs_per_frame")


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@pytest.fixture(scope="module")
def suite_json(trained_models, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    rc = main([
        "--quick", "--only", "decode_latency,startup,odyssey_tunnel_grid",
        "--frames", "3", "--warmup", "1", "--size", "640x360", "--torch-threads", "1",
        "--model", f"mnist-2d={trained_models['2d']}", "--model", f"mnist-3d={trained_models['3d']}",
        "--model", "fashion-3d=none", "--model", "faces=none", "--json", str(out),
    ])
    assert rc == 0
    return json.loads(out.read_text())


def test_scenes_schema_and_speedup(suite_json):
    scenes = suite_json["scenes"]
    assert set(scenes) == {"odyssey_tunnel_grid", "odyssey_tunnel_grid_rec"}
    for name, r in scenes.items():
        for key in SCENE_KEYS:
            assert _number(r[key]), (name, key)
        assert 0 < r["median_ms"] <= r["p99_ms"]
        assert r["n"] == 3 and r["model"] == "tiny-3d" and r["size"] == "640x360"
        assert r["images_per_frame"] == 17  # 8 tunnel layers + 9 grid cells
    assert scenes["odyssey_tunnel_grid_rec"]["recording"] is True
    assert scenes["odyssey_tunnel_grid_rec"]["video_frames"] >= 1
    ours = scenes["odyssey_tunnel_grid"]
    base = suite_json["baseline"]
    assert base["images_per_frame"] == 17 and _number(base["median_ms"]) and _number(base["p99_ms"])
    assert ours["speedup_vs_baseline"] == pytest.approx(base["median_ms"] / ours["median_ms"], rel=0.01, abs=0.01)


def test_machine_targets_and_sections(suite_json):
    m = suite_json["machine"]
    for key in ("cpu", "cores", "onnxruntime", "pygame", "torch", "providers", "date"):
        assert m[key], key
    assert "CPUExecutionProvider" in m["providers"] and m["torch_threads"] == 1
    statuses = {t["name"]: t["status"] for t in suite_json["targets"]}
    assert len(statuses) == 11 and set(statuses.values()) <= {"PASS", "MISS", "SKIP"}
    assert statuses["odyssey_field median"] == statuses["odyssey_field_tunnel_grid p99"] == "SKIP"  # not run here
    assert statuses["odyssey_tunnel_grid median"] in ("PASS", "MISS")
    assert statuses["face studio slider change to screen (face_studio_grid median)"] == "SKIP"
    start = suite_json["startup"]
    assert _number(start["median_ms"]) and start["median_ms"] > 0 and start["n"] == 1
    assert "--headless --frames 1 --screenshot" in start["command"]
    assert suite_json["errors"] == {}
    assert suite_json["skipped"]["decode_latency.faces"]


def test_decode_latency_three_runtimes(suite_json):
    dl = suite_json["decode_latency"]
    for slot, name in (("mnist-2d", "tiny-2d"), ("mnist-3d", "tiny-3d")):
        res = dl[slot]
        assert res["model"] == name and res["flops_per_image"] > 0
        assert set(res["batches"]) == {"1", "9", "17", "33"}
        for row in res["batches"].values():
            for runtime in decode_latency.RUNTIMES:
                r = row[runtime]
                assert _number(r["median_ms"]) and _number(r["p99_ms"]) and r["gflops"] > 0
        assert max(res["parity_max_abs"].values()) < 1e-4  # same weights on every runtime


def test_flop_count_matches_the_traced_layers(trained_models):
    from latent_odyssey.game.model.modelfile import open_model
    from latent_odyssey.train.models import PRESET_CONFIGS

    path = Path(trained_models["3d"])
    _, meta = open_model(path, "cpu")
    eager, _ = decode_latency.load_torch_decoders(path, meta)
    arch = meta.training["architecture"]
    assert decode_latency.decoder_flops(arch) == decode_latency.count_flops_torch(eager, meta.latent_dim)
    for cfg in PRESET_CONFIGS.values():  # the shipped architectures too (faces: ~50 MFLOP)
        from latent_odyssey.export.exporter import DecoderGraph
        from latent_odyssey.train.models import build_model

        graph = DecoderGraph(build_model(cfg))
        assert decode_latency.decoder_flops(cfg.to_dict()) == decode_latency.count_flops_torch(graph, cfg.latent_dim)


@pytest.mark.parametrize("argv, words", [
    (["--only", "bogus"], "--only knows"),
    (["--model", "faces=/no/such/file.onnx"], "no file"),
    (["--model", "mnist-9d=x.onnx"], "SLOT=PATH"),
    (["--size", "big"], "--size"),
])
def test_bad_arguments_one_sentence(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_stats_and_table():
    s = common.stats([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s["median_ms"] == 3.0 and s["n"] == 5 and 4.0 < s["p99_ms"] <= 100.0
    text = common.format_table(["name", "ms"], [["a", 1.5], ["bb", None]])
    assert text.splitlines()[2].rstrip().endswith("1.50") and "-" in text.splitlines()[3]
