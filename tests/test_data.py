"""The data layer: IDX reading, folder resolution order and the verified download.

Downloads go to a real HTTP server on 127.0.0.1 (a thread in this process) that serves small
gzipped IDX files written here; nothing leaves the machine.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import idx_bytes, synthetic_digits, write_idx_set

from latent_odyssey.train import data
from latent_odyssey.train.data import DATASETS, DataError, DatasetSpec, parse_idx, read_idx, resolve

STEMS = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)


def assert_one_sentence(exc: BaseException, *fragments: str) -> str:
    """The message is one line ending in a full stop and names every fragment."""
    msg = str(exc)
    assert "\n" not in msg, msg
    assert msg.endswith("."), msg
    for frag in fragments:
        assert frag in msg, (frag, msg)
    return msg


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Every test gets its own empty cache and no $ODYSSEY_DATA."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("ODYSSEY_DATA", raising=False)


# --------------------------------------------------------------------------- IDX reader


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_gz_and_raw(tmp_path, gz):
    folder = write_idx_set(tmp_path / "set", n_train=30, n_test=12, gz=gz)
    suffix = ".gz" if gz else ""
    images = read_idx(folder / f"train-images-idx3-ubyte{suffix}")
    labels = read_idx(folder / f"train-labels-idx1-ubyte{suffix}")
    want_images, want_labels = synthetic_digits(30, seed=0)
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (30,) and labels.dtype == np.uint8
    np.testing.assert_array_equal(images, want_images)
    np.testing.assert_array_equal(labels, want_labels)


def test_parse_idx_other_dtypes():
    arr = np.arange(6, dtype=">f4").reshape(2, 3)
    raw = bytes([0, 0, 0x0D, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + arr.tobytes()
    out = parse_idx(raw)
    assert out.shape == (2, 3) and out.dtype == np.dtype(">f4")
    np.testing.assert_array_equal(out, arr)


def test_load_split_scales_and_adds_channel(tmp_path):
    folder = write_idx_set(tmp_path / "set", n_train=20, n_test=10)
    split = data.load_split(folder, "test")
    assert split.images.shape == (10, 1, 28, 28) and split.images.dtype == np.float32
    assert split.labels.shape == (10,) and split.labels.dtype == np.int64
    assert 0.0 <= split.images.min() and split.images.max() <= 1.0


def _good_raw() -> bytes:
    return idx_bytes(np.zeros((3, 4, 4), dtype=np.uint8))


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"\x08\x03\x00\x00" + b"\x00" * 60, "wrong magic number"),  # little-endian style magic
        (b"\x00\x00\x42\x01" + b"\x00" * 8, "wrong magic number"),  # unknown dtype code
        (b"\x00\x00", "wrong magic number"),
        (_good_raw()[:10], "header is incomplete"),  # 3 dims need 16 header bytes
        (_good_raw()[:-5], "header promises"),  # data cut short
        (_good_raw() + b"\x00" * 7, "header promises"),  # trailing junk
    ],
    ids=["magic", "dtype", "tiny", "short-header", "truncated-data", "trailing"],
)
def test_malformed_idx_raises_one_sentence(tmp_path, raw, fragment):
    path = tmp_path / "bad-idx3-ubyte"
    path.write_bytes(raw)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_sentence(err.value, fragment, str(path))


def test_header_promising_more_data_than_present(tmp_path):
    raw = bytearray(_good_raw())
    raw[4:8] = (1000).to_bytes(4, "big")  # claims 1000 images, holds 3
    path = tmp_path / "big-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_sentence(err.value, "header promises", str(1000 * 16 + 16))


@pytest.mark.parametrize(
    "payload",
    [_good_raw(), gzip.compress(_good_raw())[:-6], b"\x1f\x8b\x08\x00" + b"\xff" * 40],
    ids=["not-gzip", "truncated-gzip", "corrupt-deflate"],
)
def test_bad_gz_file_raises_one_sentence(tmp_path, payload):
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(payload)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_sentence(err.value, "Cannot read IDX file", str(path))


def test_missing_file_raises_one_sentence(tmp_path):
    with pytest.raises(DataError) as err:
        read_idx(tmp_path / "nope.gz")
    assert_one_sentence(err.value, "nope.gz")


# --------------------------------------------------------------------------- resolution order


def _cache(tmp_path: Path, name: str = "mnist") -> Path:
    return tmp_path / "xdg-cache" / "latent-odyssey" / name


def test_cache_root_honours_xdg(tmp_path):
    assert data.cache_root() == tmp_path / "xdg-cache" / "latent-odyssey"


def test_candidate_dirs_order(tmp_path, monkeypatch):
    monkeypatch.setenv("ODYSSEY_DATA", str(tmp_path / "env"))
    dirs = data.candidate_dirs("fashion-mnist", tmp_path / "given")
    assert dirs == [
        tmp_path / "given", tmp_path / "given" / "fashion-mnist",
        tmp_path / "env", tmp_path / "env" / "fashion-mnist",
        _cache(tmp_path, "fashion-mnist"),
        Path("/usr/share/datasets/fashion-mnist"),
    ]


@pytest.fixture
def four_places(tmp_path, monkeypatch) -> dict[str, Path]:
    """Complete sets in --data-dir, $ODYSSEY_DATA/<set>, the cache and a stand-in Debian dir."""
    places = {
        "given": write_idx_set(tmp_path / "given", 10, 5),
        "env": write_idx_set(tmp_path / "env" / "mnist", 10, 5),
        "cache": write_idx_set(_cache(tmp_path), 10, 5),
        "debian": write_idx_set(tmp_path / "debian", 10, 5),
    }
    monkeypatch.setenv("ODYSSEY_DATA", str(tmp_path / "env"))
    spec = dataclasses.replace(DATASETS["mnist"], debian_dir=str(places["debian"]))
    monkeypatch.setitem(DATASETS, "mnist", spec)
    return places


def test_resolution_order(four_places, monkeypatch):
    p = four_places
    assert resolve("mnist", p["given"], download=False) == p["given"]
    assert resolve("mnist", None, download=False) == p["env"]
    monkeypatch.delenv("ODYSSEY_DATA")
    assert resolve("mnist", None, download=False) == p["cache"]
    for f in p["cache"].iterdir():
        f.unlink()
    assert resolve("mnist", None, download=False) == p["debian"]


def test_incomplete_data_dir_falls_through(four_places, tmp_path):
    partial = tmp_path / "partial"
    partial.mkdir()
    name = "train-images-idx3-ubyte.gz"
    (partial / name).write_bytes((four_places["given"] / name).read_bytes())  # 1 of 4 files
    assert resolve("mnist", partial, download=False) == four_places["env"]


def test_env_folder_itself_holds_the_files(tmp_path, monkeypatch):
    folder = write_idx_set(tmp_path / "flat", 10, 5)
    monkeypatch.setenv("ODYSSEY_DATA", str(folder))
    assert resolve("mnist", download=False) == folder


def test_missing_data_dir_raises(tmp_path):
    with pytest.raises(DataError) as err:
        resolve("mnist", tmp_path / "no-such-folder")
    assert_one_sentence(err.value, "does not exist", str(tmp_path / "no-such-folder"))


def test_unknown_data_set_raises():
    with pytest.raises(DataError) as err:
        resolve("cifar")
    assert_one_sentence(err.value, "'cifar'", "mnist")


def test_nothing_present_without_download_says_where_to_put_files(tmp_path):
    with pytest.raises(DataError) as err:
        resolve("mnist", download=False)
    assert_one_sentence(err.value, "put its four IDX files", str(_cache(tmp_path)), "--data-dir")
    assert not _cache(tmp_path).exists()  # nothing created on the way


# --------------------------------------------------------------------------- download


class _Handler(http.server.BaseHTTPRequestHandler):
    """GET /<mode>/<stem>.gz where mode is good | corrupt | notgzip | truncated."""

    def do_GET(self) -> None:
        mode, _, name = self.path.lstrip("/").partition("/")
        stem = name.removesuffix(".gz")
        files: dict[str, bytes] = self.server.files  # type: ignore[attr-defined]
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        if stem not in files or not name.endswith(".gz"):
            self.send_error(404)
            return
        raw = files[stem]
        if mode == "good":
            body = gzip.compress(raw)
        elif mode == "corrupt":  # a valid gzip of different content
            body = gzip.compress(raw[:-1] + bytes([raw[-1] ^ 0xFF]))
        elif mode == "notgzip":
            body = raw
        elif mode == "truncated":  # promise the whole file, send half, hang up
            full = gzip.compress(raw)
            self.send_response(200)
            self.send_header("Content-Length", str(len(full)))
            self.end_headers()
            self.wfile.write(full[: len(full) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def small_files() -> dict[str, bytes]:
    """Uncompressed content of four small IDX files, by stem."""
    tr_x, tr_y = synthetic_digits(16, seed=5)
    te_x, te_y = synthetic_digits(8, seed=6)
    return dict(zip(STEMS, (idx_bytes(tr_x), idx_bytes(tr_y), idx_bytes(te_x), idx_bytes(te_y)), strict=True))


class _Server(str):
    """The base URL of the local server (a str), plus the paths it was asked for."""

    hits: list[str]


@pytest.fixture(scope="module")
def server(small_files) -> Iterator[_Server]:
    """A local HTTP server; mirrors are f"{server}/<mode>/"."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.files = small_files  # type: ignore[attr-defined]
    httpd.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        base = _Server(f"http://127.0.0.1:{httpd.server_address[1]}")
        base.hits = httpd.hits  # type: ignore[attr-defined]
        yield base
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def refused() -> Iterator[str]:
    """A mirror URL whose port is bound but not listening: connections are refused at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


def _spec(small_files: dict[str, bytes], *mirrors: str) -> DatasetSpec:
    return DatasetSpec(
        name="tiny",
        mirrors=tuple(mirrors),
        sha256={stem: hashlib.sha256(raw).hexdigest() for stem, raw in small_files.items()},
        class_names=tuple(str(d) for d in range(10)),
    )


def _leftovers(folder: Path) -> list[str]:
    """Temp files (hidden ``.name.*.part``) left in a download folder."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.suffix == ".part")


def test_download_success_verified_atomic_with_progress(tmp_path, server, small_files, capsys):
    target = tmp_path / "dl"
    data.fetch(_spec(small_files, f"{server}/good/"), target)
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    assert _leftovers(target) == []
    for stem, raw in small_files.items():
        assert gzip.decompress((target / f"{stem}.gz").read_bytes()) == raw
    split = data.load_split(target, "train", verify=True, spec=_spec(small_files))
    assert split.images.shape == (16, 1, 28, 28)
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte: [" in err and "MB" in err  # the progress bar


def test_download_skips_files_already_present(tmp_path, server, small_files):
    target = tmp_path / "dl"
    data.fetch(_spec(small_files, f"{server}/good/"), target)
    asked = len(server.hits)
    data.fetch(_spec(small_files, f"{server}/good/"), target)
    assert len(server.hits) == asked


@pytest.mark.parametrize("mode", ["corrupt", "notgzip"])
def test_download_failing_verification_saves_nothing(tmp_path, server, small_files, mode):
    target = tmp_path / "dl"
    with pytest.raises(DataError) as err:
        data.fetch(_spec(small_files, f"{server}/{mode}/"), target)
    assert_one_sentence(err.value, "failed verification", STEMS[0], str(target))
    assert list(target.iterdir()) == []  # no final name, no .part


def test_truncated_download_is_a_failure(tmp_path, server, small_files):
    target = tmp_path / "dl"
    with pytest.raises(DataError) as err:
        data.fetch(_spec(small_files, f"{server}/truncated/"), target)
    assert_one_sentence(err.value, str(target))
    assert list(target.iterdir()) == []


def test_truncated_mirror_then_good_mirror(tmp_path, server, small_files):
    target = tmp_path / "dl"
    data.fetch(_spec(small_files, f"{server}/truncated/", f"{server}/good/"), target)
    for stem, raw in small_files.items():
        assert gzip.decompress((target / f"{stem}.gz").read_bytes()) == raw
    assert _leftovers(target) == []


def test_corrupt_mirror_then_good_mirror(tmp_path, server, small_files):
    target = tmp_path / "dl"
    data.fetch(_spec(small_files, f"{server}/corrupt/", f"{server}/good/"), target)
    for stem, raw in small_files.items():
        assert gzip.decompress((target / f"{stem}.gz").read_bytes()) == raw


def test_first_mirror_down_second_good(tmp_path, server, small_files, refused):
    target = tmp_path / "dl"
    data.fetch(_spec(small_files, refused, f"{server}/good/"), target)
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{s}.gz" for s in STEMS)


def test_all_mirrors_unreachable_says_where_to_put_files(tmp_path, small_files, refused):
    target = tmp_path / "dl"
    with pytest.raises(DataError) as err:
        data.fetch(_spec(small_files, refused, refused), target)
    assert_one_sentence(err.value, "could not be downloaded", "put its four IDX files", str(target))
    assert list(target.iterdir()) == []


def test_resolve_downloads_into_cache(tmp_path, server, small_files, monkeypatch):
    spec = dataclasses.replace(_spec(small_files, f"{server}/good/"), name="mnist")
    monkeypatch.setitem(DATASETS, "mnist", spec)
    train, test, names = data.load_dataset("mnist")
    assert (train.images.shape, test.images.shape) == ((16, 1, 28, 28), (8, 1, 28, 28))
    assert names == spec.class_names
    assert resolve("mnist", download=False) == _cache(tmp_path)  # now found offline
