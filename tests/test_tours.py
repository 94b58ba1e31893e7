"""Autopilot tours (k-means, loop order, tour kinds) and the decode-ahead worker thread."""

from __future__ import annotations

import numpy as np
import pytest

from latent_odyssey.game.model.ahead import DecodeAhead
from latent_odyssey.game.model.decoder import Decoder
from latent_odyssey.game.model.modelfile import open_model
from latent_odyssey.game.modes.odyssey.tours import (
    DENSE_K,
    TOUR_KINDS,
    kmeans,
    make_tour,
    order_loop,
)


def blobs(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four well separated 3-D blobs of 50 points: (200, 3) points and the (4, 3) true centres."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [5, 0, 0], [0, 5, 0], [0, 0, 5]], dtype=np.float64)
    pts = np.concatenate([c + 0.1 * rng.normal(size=(50, 3)) for c in centres])
    return pts, centres


def test_kmeans_is_deterministic_and_finds_the_blobs() -> None:
    pts, true = blobs()
    a = kmeans(pts, 4, seed=3)
    b = kmeans(pts, 4, seed=3)
    np.testing.assert_array_equal(a, b)
    # every true centre has a found centre within 0.1
    d = np.linalg.norm(a[:, None, :] - true[None], axis=2)
    assert np.all(d.min(axis=0) < 0.1)
    assert a.shape == (4, 3)


def test_kmeans_handles_fewer_distinct_points_than_k() -> None:
    pts = np.array([[1.0, 2.0, 3.0]] * 5 + [[4.0, 5.0, 6.0]] * 5)
    c = kmeans(pts, 8)
    assert c.shape == (2, 3)
    np.testing.assert_allclose(np.sort(c[:, 0]), [1.0, 4.0])
    with pytest.raises(ValueError):
        kmeans(np.zeros((0, 3)), 3)


def test_order_loop_untangles_a_crossed_square() -> None:
    square = np.array([[0, 0, 0], [1, 1, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float64)
    order = order_loop(square)
    loop = square[order]
    length = np.sum(np.linalg.norm(loop - np.roll(loop, -1, axis=0), axis=1))
    assert sorted(order.tolist()) == [0, 1, 2, 3]
    assert length == pytest.approx(4.0)  # the perimeter, not the crossed 2 + 2*sqrt(2)


def test_every_tour_kind_is_a_closed_loop_through_its_waypoints() -> None:
    pts, _ = blobs(1)
    centroids = np.array([[0, 0, 0], [4, 0, 0], [4, 4, 0], [0, 4, 1], [2, 2, 3]], dtype=np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    for kind in TOUR_KINDS:
        tour = make_tour(kind, centroids, list("abcde"), pts, lo, hi, seed=5)
        again = make_tour(kind, centroids, list("abcde"), pts, lo, hi, seed=5)
        assert tour.kind == kind
        np.testing.assert_array_equal(tour.waypoints, again.waypoints)
        assert tour.path.closed and tour.path.length > 0
        assert len(tour.stop_names) == len(tour.waypoints)
        at = tour.path.points_at(tour.path.waypoint_distances)
        np.testing.assert_allclose(at, tour.waypoints, atol=1e-6)
        np.testing.assert_allclose(tour.path.point_at(0.0), tour.path.point_at(tour.path.length), atol=1e-9)
    cent = make_tour("centroids", centroids, list("abcde"), pts, lo, hi)
    assert sorted(cent.stop_names) == list("abcde")
    dense = make_tour("dense", centroids, [], pts, lo, hi)
    assert len(dense.waypoints) == DENSE_K
    near = np.linalg.norm(dense.waypoints[:, None] - blobs(1)[1][None], axis=2).min(axis=0)
    assert np.all(near < 0.5)  # every blob is visited
    rnd = make_tour("random", centroids, [], pts, lo, hi, seed=9)
    assert np.all(rnd.waypoints >= lo) and np.all(rnd.waypoints <= hi)
    assert not np.array_equal(rnd.waypoints, make_tour("random", centroids, [], pts, lo, hi, seed=10).waypoints)


def test_centroid_tour_without_classes_falls_back() -> None:
    pts, _ = blobs(2)
    tour = make_tour("centroids", np.zeros((0, 3)), [], pts, pts.min(0), pts.max(0))
    assert tour.kind == "dense"
    assert len(tour.waypoints) == DENSE_K


def test_next_stop_moves_along_the_tour() -> None:
    square = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float64)
    tour = make_tour("centroids", square, list("ABCD"), square, square.min(0), square.max(0))
    d = tour.path.waypoint_distances
    assert tour.next_stop(0.5 * (d[0] + d[1])) == 1
    assert tour.next_stop(d[-1] + 1e-3) == 0  # wraps to the first stop


def test_decode_ahead_fills_the_cache_and_stops(exported_models) -> None:
    sess, meta = open_model(exported_models["3d"], "cpu")
    dec = Decoder(sess, meta)
    ahead = DecodeAhead(dec, chunk=4)
    try:
        zs = np.linspace(-1.0, 1.0, 10 * meta.latent_dim, dtype=np.float32).reshape(10, -1)
        ahead.submit(zs)
        assert ahead.wait_idle(10.0)
        assert ahead.images_requested == 10 and ahead.batches == 3
        runs = dec.runs
        images = dec.decode_batch(zs)  # everything is cached now: no run
        assert dec.runs == runs and len(images) == 10
    finally:
        ahead.stop()
    assert not ahead.alive
