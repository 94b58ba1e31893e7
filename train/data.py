"""MNIST-style data sets: a numpy IDX reader, local resolution and a verified download.

Resolution order for a data set (first folder holding all four files wins):

1. ``--data-dir`` (the ``data_dir`` argument),
2. ``$ODYSSEY_DATA`` (the folder itself, or its ``<set>`` sub-folder),
3. the user cache ``~/.cache/latent-odyssey/<set>`` (``$XDG_CACHE_HOME`` honoured),
4. Debian's ``/usr/share/datasets/<set>`` (package ``dataset-fashion-mnist``),
5. a download from the official mirrors into the cache, with sha256 verification of the
   uncompressed content, a progress bar and an atomic move (no half file is ever left as if
   complete); never with ``$ODYSSEY_OFFLINE`` set (to anything but 0).

Offline, it fails with one sentence that says where to put the files (the given
``--data-dir`` and what it lacks, when one was given). ``load_split`` refuses files that are
valid IDX but not an image set: images must be unsigned bytes (IDX type 0x08) of shape
(N, H, W) and labels whole numbers, one per image.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import math
import os
import sys
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from latent_odyssey.game import atomic
from latent_odyssey.game.cliutil import EXIT_FAILURE, InputError

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
DOWNLOAD_TIMEOUT_S = 30.0
DOWNLOAD_CHUNK_BYTES = 1 << 16
OFFLINE_ENV = "ODYSSEY_OFFLINE"  # set (not "0"): never download, say where the files go


class DataError(InputError, ValueError):
    """A data set is missing, malformed or failed verification (message is one sentence)."""

    exit_status = EXIT_FAILURE


@dataclass(frozen=True)
class DatasetSpec:
    """Where a data set lives on the internet and what its files must contain."""

    name: str
    mirrors: tuple[str, ...]
    sha256: dict[str, str]  # uncompressed file name -> sha256 of the uncompressed content
    class_names: tuple[str, ...]
    debian_dir: str | None = None


FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        sha256={
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        },
        class_names=tuple(str(d) for d in range(10)),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        sha256={
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        },
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        debian_dir="/usr/share/datasets/fashion-mnist",
    ),
}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (gzipped when the name ends in .gz) into a numpy array."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise DataError(f"Cannot read IDX file {path}: {exc}.") from None
    return parse_idx(raw, str(path))


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an IDX file: magic (0, 0, dtype, ndim), big-endian dims, data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_DTYPES:
        raise DataError(f"{name} is not an IDX file (wrong magic number).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{name} is truncated (header is incomplete).")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = header + math.prod(dims) * dtype.itemsize  # exact: np.prod wraps on int64
    if len(raw) != expected:
        raise DataError(
            f"{name} has {len(raw)} bytes but its header promises {expected} (truncated or corrupt)."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def idx_bytes(arr: np.ndarray) -> bytes:
    """The inverse of :func:`parse_idx` for uint8 arrays: magic ``0 0 0x08 ndim``, big-endian
    dims, the data (for tests and benchmarks that write small data sets)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def _find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _folder_complete(folder: Path) -> bool:
    return all(_find_file(folder, stem) for pair in FILES.values() for stem in pair)


def cache_root() -> Path:
    """The user cache folder for downloaded data sets."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "latent-odyssey"


def candidate_dirs(name: str, data_dir: Path | str | None = None) -> list[Path]:
    """Folders searched for data set ``name``, in resolution order."""
    spec = DATASETS[name]
    dirs: list[Path] = []
    if data_dir is not None:
        dirs += [Path(data_dir), Path(data_dir) / name]
    env = os.environ.get("ODYSSEY_DATA")
    if env:
        dirs += [Path(env), Path(env) / name]
    dirs.append(cache_root() / name)
    if spec.debian_dir:
        dirs.append(Path(spec.debian_dir))
    return dirs


def resolve(name: str, data_dir: Path | str | None = None, download: bool = True) -> Path:
    """Return a folder holding all files of data set ``name`` (downloading if needed)."""
    if name not in DATASETS:
        raise DataError(f"Unknown data set {name!r}; choose one of {', '.join(DATASETS)}.")
    if data_dir is not None and not Path(data_dir).is_dir():
        what = "is a file, not a folder" if Path(data_dir).exists() else "does not exist"
        raise DataError(f"Data folder {data_dir} {what}.")
    for folder in candidate_dirs(name, data_dir):
        if _folder_complete(folder):
            return folder
    target = cache_root() / name
    offline = os.environ.get(OFFLINE_ENV, "0") not in ("", "0")
    if not download or offline:
        raise DataError(_missing_message(name, target, data_dir, offline))
    fetch(DATASETS[name], target, data_dir=data_dir)
    return target


def _missing_message(name: str, target: Path, data_dir: Path | str | None = None,
                     offline: bool = False) -> str:
    """Where the files were looked for, and where to put them (one sentence)."""
    stems = [s for pair in FILES.values() for s in pair]
    why = f"downloads are off (${OFFLINE_ENV})" if offline else "it could not be downloaded"
    if data_dir is not None:
        lacking = [s for s in stems if _find_file(Path(data_dir), s) is None]
        return (f"The {name} data set is not in {data_dir} (it lacks {', '.join(lacking)}, optionally "
                f".gz) and {why}; put the four IDX files there.")
    return (f"The {name} data set was not found and {why}; put its four IDX files "
            f"({', '.join(stems)}, optionally .gz) in {target} or pass --data-dir.")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(spec: DatasetSpec, target: Path, mirrors: tuple[str, ...] | None = None,
          data_dir: Path | str | None = None) -> None:
    """Download every missing file of ``spec`` into ``target``, verified and atomically moved."""
    target.mkdir(parents=True, exist_ok=True)
    for stem, digest in spec.sha256.items():
        if _find_file(target, stem):
            continue
        errors: list[str] = []
        for mirror in mirrors or spec.mirrors:
            url = f"{mirror}{stem}.gz"
            try:
                payload = _download(url, stem)
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts: OSError
                errors.append(f"{url}: {getattr(exc, 'reason', exc)}")
                continue
            try:
                content = gzip.decompress(payload)
            except (OSError, EOFError, zlib.error) as exc:
                errors.append(f"{url}: not a valid gzip file ({exc})")
                continue
            if sha256_hex(content) != digest:
                errors.append(f"{url}: checksum mismatch")
                continue
            atomic.write_bytes(target / f"{stem}.gz", payload, suffix=".part")
            break
        else:
            if errors and all("checksum" in e or "gzip" in e for e in errors):
                raise DataError(
                    f"Downloaded {stem} failed verification ({errors[-1]}); nothing was saved in {target}."
                )
            raise DataError(_missing_message(spec.name, target, data_dir))


def _download(url: str, label: str) -> bytes:
    """Fetch ``url`` into memory with a progress bar on stderr; raises on short reads."""
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:
        total = int(resp.headers.get("Content-Length") or 0)
        chunks: list[bytes] = []
        done = 0
        while True:
            chunk = resp.read(DOWNLOAD_CHUNK_BYTES)
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
            _progress(label, done, total)
        sys.stderr.write("\n")
    if total and done != total:
        raise OSError(f"download truncated at {done} of {total} bytes")
    return b"".join(chunks)


def _progress(label: str, done: int, total: int) -> None:
    if total:
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{label}: [{bar}] {done / 1e6:6.1f}/{total / 1e6:.1f} MB")
    else:
        sys.stderr.write(f"\r{label}: {done / 1e6:6.1f} MB")
    sys.stderr.flush()


@dataclass
class Split:
    """One split of an image data set: images (N, C, H, W) float32 in [0, 1], labels (N,) int64."""

    images: np.ndarray
    labels: np.ndarray


def load_split(folder: Path, split: str, verify: bool = False, spec: DatasetSpec | None = None) -> Split:
    """Load the ``train`` or ``test`` split from a folder of IDX files."""
    img_stem, lbl_stem = FILES[split]
    img_path, lbl_path = _find_file(folder, img_stem), _find_file(folder, lbl_stem)
    if img_path is None or lbl_path is None:
        raise DataError(f"{folder} lacks the {split} files {img_stem} and {lbl_stem}.")
    images = read_idx(img_path)
    labels = read_idx(lbl_path)
    if verify and spec is not None:
        for path, stem, arr in ((img_path, img_stem, images), (lbl_path, lbl_stem, labels)):
            # Checksum the uncompressed content: header + data, reconstructed losslessly.
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            if sha256_hex(raw) != spec.sha256[stem]:
                raise DataError(f"{path} does not match the official checksum (corrupt or altered).")
            del arr
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(
            f"{img_path} and {lbl_path} do not form an image set "
            f"(shapes {images.shape} and {labels.shape})."
        )
    if images.dtype != np.uint8:
        raise DataError(f"{img_path} holds {images.dtype} values; images must be unsigned bytes "
                        f"(IDX type 0x08).")
    if labels.dtype.kind not in "iu":
        raise DataError(f"{lbl_path} holds {labels.dtype} values; labels must be whole numbers.")
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]  # (N, 1, H, W)
    return Split(images=x, labels=labels.astype(np.int64))


def load_dataset(
    name: str, data_dir: Path | str | None = None, download: bool = True
) -> tuple[Split, Split, tuple[str, ...]]:
    """Resolve and load a data set: returns (train, test, class_names)."""
    folder = resolve(name, data_dir, download=download)
    return load_split(folder, "train"), load_split(folder, "test"), DATASETS[name].class_names
