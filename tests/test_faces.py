"""The synthetic faces renderer and the face-folder loader: determinism, contracts, and
attribute cues checked on the pixels (glasses frames, mouth curvature, grey hair)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from latent_odyssey.train.faces import (
    ATTRIBUTES,
    FacesDataError,
    face_landmarks,
    faces_dataset,
    load_face_folder,
    main,
    render_faces,
)

SEEDS = (0, 1, 2, 3, 4, 5)


def _forced(n: int, smile=np.nan, age=np.nan, gender=np.nan, glasses=np.nan) -> np.ndarray:
    return np.tile(np.array([smile, age, gender, glasses], np.float32), (n, 1))


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def test_same_seed_same_bytes_and_different_seed_differs():
    a, la = render_faces(6, seed=3)
    b, lb = render_faces(6, seed=3)
    c, _ = render_faces(6, seed=4)
    assert a.tobytes() == b.tobytes() and la.tobytes() == lb.tobytes()
    assert a.tobytes() != c.tobytes()
    # face i depends only on (seed, i), not on how many faces were asked for
    d, ld = render_faces(2, seed=3)
    assert np.array_equal(d, a[:2]) and np.array_equal(ld, la[:2])


def test_chunking_and_threads_do_not_change_pixels(monkeypatch):
    import latent_odyssey.train.faces as faces

    a, _ = render_faces(40, seed=5)
    monkeypatch.setattr(faces, "CHUNK", 3)
    monkeypatch.setattr(faces, "THREADS", 1)
    b, _ = render_faces(40, seed=5)
    assert np.array_equal(a, b)


def test_shapes_dtypes_and_label_ranges():
    images, attrs = render_faces(40, seed=7)
    assert images.shape == (40, 64, 64, 3) and images.dtype == np.uint8
    assert attrs.shape == (40, len(ATTRIBUTES)) and attrs.dtype == np.float32
    smile, age, gender, glasses = attrs.T
    assert smile.min() >= -1 and smile.max() <= 1
    assert age.min() >= 0 and age.max() <= 1
    assert gender.min() >= 0 and gender.max() <= 1
    assert set(np.unique(glasses)) <= {0.0, 1.0}
    assert images.std() > 20  # not blank
    small, _ = render_faces(3, seed=7, size=32)
    assert small.shape == (3, 32, 32, 3)
    empty, empty_attrs = render_faces(0)
    assert empty.shape == (0, 64, 64, 3) and empty_attrs.shape == (0, 4)


def test_forced_attrs_are_returned_and_validated():
    forced = _forced(3, smile=0.5, glasses=1.0)
    _, attrs = render_faces(3, seed=1, attrs=forced)
    assert np.all(attrs[:, 0] == 0.5) and np.all(attrs[:, 3] == 1.0)
    _, sampled = render_faces(3, seed=1)
    assert np.array_equal(attrs[:, 1:3], sampled[:, 1:3])  # NaN keeps the sampled value
    with pytest.raises(ValueError):
        render_faces(3, attrs=_forced(3, smile=2.0))
    with pytest.raises(ValueError):
        render_faces(3, attrs=np.zeros((2, 4), np.float32))


def test_faces_dataset_splits():
    parts = faces_dataset(5, 3, seed=2)
    (trx, tra), (tex, tea) = parts["train"], parts["test"]
    assert trx.shape == (5, 3, 64, 64) and tex.shape == (3, 3, 64, 64)
    assert trx.dtype == np.float32 and 0 <= trx.min() and trx.max() <= 1
    assert tra.shape == (5, 4) and tea.shape == (3, 4)
    assert not np.array_equal(trx[:3], tex)  # disjoint seed streams


def test_glasses_put_dark_frames_in_the_eye_band_only():
    n = len(SEEDS)
    for seed in SEEDS:
        on, _ = render_faces(1, seed=seed, attrs=_forced(1, glasses=1.0))
        off, _ = render_faces(1, seed=seed, attrs=_forced(1, glasses=0.0))
        eyes = face_landmarks(1, seed=seed)
        eye_y = eyes["left_eye"][0, 1]
        rows = np.arange(64)[:, None]
        band = np.abs(rows - eye_y) < 8  # (64, 1)
        changed = np.abs(on[0].astype(int) - off[0].astype(int)).sum(-1) > 40  # (64, 64)
        assert changed.sum() > 40, f"seed {seed}: glasses barely change the image"
        assert not (changed & ~band).any(), f"seed {seed}: glasses changed pixels off the eyes"
        dark_on = ((_luma(on[0]) < 80) & band).sum()
        dark_off = ((_luma(off[0]) < 80) & band).sum()
        assert dark_on > dark_off + 10, f"seed {seed}: no dark frame pixels"
    assert n > 0


def _mouth_centroid(img: np.ndarray, p: dict, u: float) -> float:
    """Mean local v of 'not skin' along the face-vertical line at u through the mouth."""
    from latent_odyssey.train.faces import MOUTH_Y, local_to_pixels

    vs = np.linspace(MOUTH_Y - 0.1, MOUTH_Y + 0.1, 41)
    pts = np.concatenate([local_to_pixels(p, u, v) for v in vs])  # (41, 2)
    ref_pt = local_to_pixels(p, 0.0, MOUTH_Y - 0.085)[0]
    ref = img[int(ref_pt[1]), int(ref_pt[0])].astype(np.float32)
    px = img[pts[:, 1].astype(int), pts[:, 0].astype(int)].astype(np.float32)
    w = np.abs(px - ref).sum(-1)
    w = np.where(w > 25, w, 0)
    assert w.sum() > 0
    return float((vs * w).sum() / w.sum())


def test_grin_lifts_mouth_corners_and_frown_drops_them():
    from latent_odyssey.train.faces import _attrs_from_uniforms, _face_params, _sample_uniforms

    for seed in SEEDS:
        r = _sample_uniforms(1, seed)
        for smile in (1.0, -1.0):
            forced = _forced(1, smile=smile, age=0.0, gender=0.0, glasses=0.0)
            img, attrs = render_faces(1, seed=seed, attrs=forced)
            p = _face_params(r, attrs)
            w = float(p["mouth_w"][0]) * 0.75
            centre = _mouth_centroid(img[0], p, 0.0)
            corners = (_mouth_centroid(img[0], p, -w) + _mouth_centroid(img[0], p, w)) / 2
            if smile > 0:  # v grows downward: corners above the centre
                assert corners < centre - 0.01, f"seed {seed}: grin corners not raised"
            else:
                assert corners > centre + 0.01, f"seed {seed}: frown corners not lowered"
    assert _attrs_from_uniforms(r).shape == (1, 4)


def _saturation(rgb: np.ndarray) -> float:
    rgb = rgb.astype(np.float32)
    mx, mn = rgb.max(-1), rgb.min(-1)
    return float(((mx - mn) / np.maximum(mx, 1)).mean())


def test_age_greys_the_hair():
    for seed in SEEDS:
        young, _ = render_faces(1, seed=seed, attrs=_forced(1, age=0.0, gender=0.0))
        old, _ = render_faces(1, seed=seed, attrs=_forced(1, age=1.0, gender=0.0))
        x, y = face_landmarks(1, seed=seed)["crown"][0].astype(int)
        patch = np.s_[y - 1 : y + 2, x - 2 : x + 3]
        assert _saturation(old[0][patch]) < _saturation(young[0][patch]) - 0.05, f"seed {seed}"
        assert _saturation(old[0][patch]) < 0.12


def _write_png(path, colour, size=(40, 50)):
    Image.new("RGB", size, colour).save(path)


def test_load_face_folder_with_celeba_attrs(tmp_path):
    _write_png(tmp_path / "000001.png", (200, 10, 10))
    _write_png(tmp_path / "000002.png", (10, 200, 10))
    _write_png(tmp_path / "000003.png", (10, 10, 200))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "list_attr_celeba.txt").write_text(
        "2\n"
        "5_o_Clock_Shadow Eyeglasses Male Smiling Young\n"
        "000001.png  1 -1  1  1 -1\n"
        "000002.png -1  1 -1 -1  1\n"
    )
    images, attrs = load_face_folder(tmp_path, size=32)
    assert images.shape == (3, 32, 32, 3) and images.dtype == np.uint8
    assert tuple(images[0, 16, 16]) == (200, 10, 10)
    assert tuple(images[2, 16, 16]) == (10, 10, 200)
    # smile, age, gender, glasses
    np.testing.assert_array_equal(attrs[0], [1, 1, 1, 0])
    np.testing.assert_array_equal(attrs[1], [0, 0, 0, 1])
    assert np.isnan(attrs[2]).all()


def test_load_face_folder_without_attrs_and_errors(tmp_path):
    _write_png(tmp_path / "a.jpg", (90, 90, 90), size=(30, 30))
    images, attrs = load_face_folder(tmp_path)
    assert images.shape == (1, 64, 64, 3) and np.isnan(attrs).all()
    with pytest.raises(FacesDataError, match="does not exist"):
        load_face_folder(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FacesDataError, match="no .jpg/.png images"):
        load_face_folder(empty)
    assert issubclass(FacesDataError, ValueError)


def test_main_writes_a_preview_grid(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["--n", "4", "--cols", "2", "--zoom", "2", "--out", str(out)]) == 0
    with Image.open(out) as im:
        assert im.size[0] >= 2 * 64 * 2 and im.size[1] >= 2 * 64 * 2
    assert main(["--n", "0", "--out", str(out)]) == 2
    assert "error" in capsys.readouterr().err
