"""Your own picture in, a posterior out: image files, MNIST's preprocessing recipe, the shipped
encoders and ``odyssey encode`` (real files in tests/data/digits, the shipped ONNX copies)."""

from __future__ import annotations

import gzip
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from latent_odyssey.game import cli
from latent_odyssey.game.model import imagefile, preprocess
from latent_odyssey.game.model.imagefile import ImageFileError, read_image
from latent_odyssey.game.model.modelfile import open_encoder, open_model
from latent_odyssey.game.model.posterior import (
    EncodeError,
    encode_file,
    encode_images,
    encode_picture,
)
from latent_odyssey.game.model.preprocess import BlankImageError, prepare

DIGITS = Path(__file__).parent / "data" / "digits"
FILES = sorted(DIGITS.iterdir())
STYLES = ("wob", "photo", "thick", "thin", "corner")
MAX_STYLED_MISSES = 3  # of the 50 styled digit files, landing nearest another class's centroid
MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"

pytestmark = pytest.mark.usefixtures("isolated")


def model(path: Path):
    _, meta = open_model(path, "cpu")
    return open_encoder(path, meta, "cpu"), meta


def mnist_test(n: int) -> tuple[np.ndarray, np.ndarray]:
    if not (MNIST / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("the real MNIST test set is not in ../shared/data/mnist")
    x = np.frombuffer(gzip.open(MNIST / "t10k-images-idx3-ubyte.gz").read(), np.uint8, offset=16)
    y = np.frombuffer(gzip.open(MNIST / "t10k-labels-idx1-ubyte.gz").read(), np.uint8, offset=8)
    return x.reshape(-1, 28, 28)[:n], y[:n]


def ink_box_and_centre(img: np.ndarray) -> tuple[int, tuple[float, float]]:
    """The longer side of the box around every inked pixel, and the centre of mass (row, col)."""
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    side = int(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1))
    ys, xs = np.mgrid[0 : img.shape[0], 0 : img.shape[1]]
    m = img.sum()
    return side, (float((ys * img).sum() / m), float((xs * img).sum() / m))


# ----------------------------------------------------------------------------- the styled files


def test_the_committed_digit_files_are_fifty_small_real_files():
    assert len(FILES) == 50
    assert {f.name.split("_")[1].split(".")[0] for f in FILES} == set(STYLES)
    assert all(f.stat().st_size < 8000 for f in FILES)
    assert {f.suffix for f in FILES} == {".png", ".jpg"}
    rgba = read_image(DIGITS / "0_corner.png")
    assert rgba.shape == (150, 220, 4) and rgba[..., 3].min() == 0  # transparent background


@pytest.mark.parametrize("key", ["2d", "3d"])
def test_styled_digit_files_encode_nearest_their_class(exported_models, key):
    """The digits were chosen by their raw MNIST image (tests/data/make_digit_files.py), never
    by these files; each model puts at least 47 of the 50 nearest their class centroid (a crude
    classifier in 2-3 dimensions: the shipped mnist-2d misses 8_corner, 8_thick and 8_thin; mnist-3d
    3_thick). Unselected, on the first 1000 test digits, the styled files keep the
    raw images' rate within a few points (README)."""
    enc, meta = model(exported_models[key])
    centroids = meta.centroid_array()
    misses = []
    for f in FILES:
        post = encode_file(enc, meta, f)
        k, dist = post.nearest_class(centroids)
        assert np.all(post.sigma > 0) and dist >= 0
        if meta.class_names[k] != f.name[0]:
            misses.append(f.name)
    assert len(misses) <= MAX_STYLED_MISSES, misses


def test_light_paper_is_inverted_and_dark_paper_is_not(exported_models):
    enc, meta = model(exported_models["2d"])
    assert encode_file(enc, meta, DIGITS / "4_photo.jpg").inverted
    assert encode_file(enc, meta, DIGITS / "4_thin.png").inverted
    assert not encode_file(enc, meta, DIGITS / "4_wob.png").inverted
    assert encode_file(enc, meta, DIGITS / "4_corner.png").inverted  # black ink on transparency


# ----------------------------------------------------------------------------- MNIST's recipe


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_prepared_digits_sit_in_a_20_box_with_their_mass_at_14_14(path):
    img = prepare(read_image(path), "digits", [1, 28, 28]).image[0]
    assert img.shape == (28, 28) and img.dtype == np.float32
    assert 0.0 <= img.min() and img.max() == pytest.approx(1.0)
    side, (cy, cx) = ink_box_and_centre(img)
    assert side == 20
    assert abs(cy - 14.0) <= 0.5 and abs(cx - 14.0) <= 0.5


def test_prepared_statistics_match_real_mnist():
    """Re-preparing real MNIST digits keeps MNIST's own statistics: box, centre, ink."""
    x, _ = mnist_test(300)
    raw = x / 255.0
    prep = np.stack([prepare(im, "digits", [1, 28, 28]).image[0] for im in x])
    raw_sides, raw_c = zip(*(ink_box_and_centre(im) for im in raw), strict=True)
    prep_sides, prep_c = zip(*(ink_box_and_centre(im) for im in prep), strict=True)
    assert np.median(raw_sides) == np.median(prep_sides) == 20
    assert np.mean(prep_sides) == pytest.approx(np.mean(raw_sides), abs=0.3)
    assert np.mean(prep_c, axis=0) == pytest.approx(np.mean(raw_c, axis=0), abs=0.15)  # both about (14, 14)
    assert np.std(prep_c, axis=0) == pytest.approx(np.std(raw_c, axis=0), abs=0.1)
    assert prep.mean() == pytest.approx(raw.mean(), rel=0.2)  # as much ink
    assert np.abs(prep - raw).mean() < 0.04


def test_target_stroke_width_is_mnists_median():
    x, _ = mnist_test(400)
    widths = []
    for im in x:
        ink = preprocess.stretch(im / 255.0)
        x0, y0, x1, y1 = preprocess.content_box(ink)
        crop = ink[y0:y1, x0:x1]
        s = preprocess.WORK_BOX_PX / max(crop.shape)
        work = preprocess.resize(crop, max(1, round(crop.shape[0] * s)), max(1, round(crop.shape[1] * s)))
        widths.append(preprocess.stroke_width(np.clip(work / work.max(), 0, 1)))
    assert np.median(widths) == pytest.approx(preprocess.TARGET_STROKE_PX, abs=0.4)


def test_thin_strokes_are_thickened_and_a_flat_picture_is_blank():
    img = np.zeros((200, 200), np.uint8)
    img[40:160, 99:101] = 255  # a 2 px line on a big canvas: 1/60 of its height
    out = prepare(img, "digits", [1, 28, 28]).image[0]
    side, _ = ink_box_and_centre(out)
    assert side == 20 and out.max() == pytest.approx(1.0)
    assert (out > 0.5).sum() >= 2 * 20  # at least 2 px wide after shrinking, like MNIST's pen
    with pytest.raises(BlankImageError):
        prepare(np.full((50, 60), 200, np.uint8), "digits", [1, 28, 28])


def test_fashion_and_faces_recipes():
    shirt = np.full((120, 90), 235, np.uint8)  # a dark shape on light paper
    shirt[20:100, 15:75] = 40
    out = prepare(shirt, "fashion", [1, 28, 28])
    assert out.inverted
    side, (cy, cx) = ink_box_and_centre(out.image[0] > 0.05)
    assert side == 28 and abs(cx - 13.5) < 1 and abs(cy - 13.5) < 1  # longest side 28, centred by its box
    photo = np.zeros((80, 120, 4), np.uint8)
    photo[..., 0], photo[..., 3] = 200, 255
    photo[:, :20, 1] = 255  # green only outside the centre square
    face = prepare(photo, "faces", [3, 64, 64])
    assert face.image.shape == (3, 64, 64) and face.box == (20, 0, 100, 80)
    assert face.image[1].max() == 0.0 and face.image[0].mean() == pytest.approx(200 / 255, abs=1e-3)


def test_encoding_a_batch_is_one_run_and_matches_one_by_one(exported_models):
    enc, meta = model(exported_models["3d"])
    imgs = np.stack([prepare(read_image(f), "digits", [1, 28, 28]).image for f in FILES[:4]])
    mu, sigma = encode_images(enc, imgs)
    assert mu.shape == sigma.shape == (4, 3)
    for i, f in enumerate(FILES[:4]):
        post = encode_file(enc, meta, f)
        assert np.allclose(post.mu, mu[i], atol=1e-5) and np.allclose(post.sigma, sigma[i], atol=1e-5)


# ----------------------------------------------------------------------------- bad files


def chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body, CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, depth: int = 8, colour: int = 0, extra: bytes = b"", data: bool = True) -> bytes:
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)) + extra
    if data:
        row = b"\x00" + b"\x80" * (width * depth // 8)
        out += chunk(b"IDAT", zlib.compress(row * height))
    return out + chunk(b"IEND", b"")


def gif(frames: int) -> bytes:
    """A 1 x 1 GIF (the classic smallest one) with ``frames`` image blocks."""
    head = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00"
    return head + frame * frames + b"\x3b"


def riff(chunks: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


BAD_FILES = {
    "missing": (None, "does not exist"),
    "folder": ("DIR", "is a folder"),
    "empty": (b"", "is empty"),
    "text": (b"just some notes, not a picture\n", "is not an image"),
    "tiff": (b"II*\x00" + b"\x00" * 64, "is a TIFF image"),
    "pdf": (b"%PDF-1.4\n" + b"x" * 64, "is a PDF document"),
    "truncated": (png(16, 16)[:60], "ends early (truncated)"),
    "corrupt": (png(16, 16).replace(b"IDAT", b"IDAT"[:3] + b"X"), "cannot be decoded"),
    "truncated_jpeg": (b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00" + b"\x00" * 40, "ends early"),
    "huge": (png(100_000, 100_000, data=False), "megapixels"),
    "sixteen_bit": (png(8, 8, depth=16), "16-bit-per-channel"),
    "apng": (png(8, 8, extra=chunk(b"acTL", struct.pack(">II", 3, 0))), "animated PNG (APNG) with 3 frames"),
    "animated_gif": (gif(2), "animated GIF with 2 frames"),
    "animated_webp": (riff(b"VP8X" + struct.pack("<I", 10) + b"\x02\x00\x00\x00" + b"\x07\x00\x00\x07\x00\x00"), "animated WebP"),
    "cmyk": (b"\xff\xd8\xff\xe0\x00\x04\x00\x00\xff\xc0\x00\x0b\x08\x00\x10\x00\x10\x04\x01\x11\x00", "CMYK JPEG"),
    "twelve_bit": (b"\xff\xd8\xff\xc1\x00\x0b\x0c\x00\x10\x00\x10\x01\x01\x11\x00", "12-bit-per-channel JPEG"),
}


def bad_file(tmp_path: Path, case: str) -> Path:
    content, _ = BAD_FILES[case]
    path = tmp_path / f"{case}.png"
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    return path


def one_sentence(text: str) -> bool:
    body = text.strip()
    return "\n" not in body and body.endswith(".") and "Traceback" not in body and body.count(". ") <= 1


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_every_bad_file_is_one_sentence(tmp_path, case):
    path = bad_file(tmp_path, case)
    with pytest.raises(ImageFileError) as err:
        read_image(path)
    message = str(err.value)
    assert BAD_FILES[case][1] in message and str(path) in message
    assert one_sentence(message), message


def test_huge_is_refused_from_the_header_before_decoding(tmp_path, monkeypatch):
    path = tmp_path / "huge.png"
    path.write_bytes(png(40_000, 30_000, data=False))

    def no_decoding(*_args, **_kwargs):
        raise AssertionError("decoded a file the header already refuses")

    monkeypatch.setattr(imagefile, "decode", no_decoding)
    with pytest.raises(ImageFileError, match="1200 megapixels"):
        read_image(path)


def test_good_still_images_of_every_format_decode(tmp_path):
    import pygame

    grey = np.tile(np.arange(32, dtype=np.uint8)[None] * 8, (24, 1))
    surface = pygame.image.frombuffer(np.repeat(grey[..., None], 3, 2).tobytes(), (32, 24), "RGB")
    for suffix in (".png", ".jpg", ".bmp"):
        path = tmp_path / f"ramp{suffix}"
        pygame.image.save(surface, str(path))
        rgba = read_image(path)
        assert rgba.shape == (24, 32, 4) and np.abs(rgba[..., 0].astype(int) - grey).max() <= 12
    (tmp_path / "still.gif").write_bytes(gif(1))
    assert read_image(tmp_path / "still.gif").shape == (1, 1, 4)


# ----------------------------------------------------------------------------- odyssey encode


def test_encode_command_prints_mu_sigma_and_the_nearest_class(exported_models, capsys):
    files = [str(DIGITS / "3_photo.jpg"), str(DIGITS / "7_thin.png")]
    assert cli.main(["encode", *files, "--model", str(exported_models["2d"])]) == 0
    out = capsys.readouterr().out
    assert "nearest class 3 at distance" in out and "nearest class 7 at distance" in out
    assert out.count("mu ") == 2 and out.count("sigma ") == 2
    assert cli.main(["encode", *files, "--model", str(exported_models["3d"]), "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in records] == files
    assert [r["nearest_class"] for r in records] == ["3", "7"]
    for r in records:
        assert len(r["mu"]) == len(r["sigma"]) == 3 and r["error"] is None and r["distance"] > 0
        enc, meta = model(exported_models["3d"])
        direct = encode_file(enc, meta, r["file"])
        assert np.allclose(r["mu"], direct.mu, atol=1e-5)


def test_encode_command_reports_bad_files_and_goes_on(exported_models, tmp_path, capsys):
    bad = bad_file(tmp_path, "animated_gif")
    good = DIGITS / "5_wob.png"
    code = cli.main(["encode", str(bad), str(good), "--model", str(exported_models["2d"]), "--json"])
    captured = capsys.readouterr()
    assert code == 1
    records = json.loads(captured.out)
    assert records[0]["error"] and records[0]["mu"] is None and records[1]["nearest_class"] == "5"
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("odyssey: ") and "animated GIF" in lines[0]


def test_encode_command_without_an_encoder_or_model(exported_models, tmp_path, capsys):
    lone = tmp_path / "lone.onnx"
    lone.write_bytes(exported_models["2d"].read_bytes())  # the decoder without its encoder
    assert cli.main(["encode", str(DIGITS / "1_wob.png"), "--model", str(lone)]) == 1
    err = capsys.readouterr().err.strip()
    assert "has no encoder" in err and one_sentence(err.removeprefix("odyssey: "))
    assert cli.main(["encode", str(DIGITS / "1_wob.png"), "--model", "no-such-model"]) == 2
    assert "No model named 'no-such-model'" in capsys.readouterr().err


def test_play_with_a_bad_image_is_one_sentence_before_any_window(exported_models, tmp_path, capsys):
    bad = bad_file(tmp_path, "text")
    code = cli.main(["play", "--model", str(exported_models["2d"]), "--image", str(bad), "--headless", "--frames", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.count("\n") == 0 and "is not an image" in err


def test_blank_pictures_are_one_sentence_too(exported_models):
    enc, meta = model(exported_models["2d"])
    with pytest.raises(EncodeError, match="shows nothing to encode") as err:
        encode_picture(enc, meta, np.zeros((40, 40), np.uint8), "blank.png")
    assert one_sentence(str(err.value))
