"""Centripetal Catmull-Rom paths with arc-length parametrisation."""

from __future__ import annotations

import numpy as np
import pytest

from latent_odyssey.game.modes.odyssey.spline import Path


def random_waypoints(seed: int, k: int, d: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(k, d))  # (K, D)


CASES = [(2, True), (2, False), (3, True), (3, False), (128, True), (128, False)]


def speed_deviation(path: Path, steps: int) -> float:
    """(max - min) / mean of the chord lengths between points at equal arc-length steps."""
    s = np.linspace(0.0, path.length, steps + 1)  # (steps + 1,)
    pts = path.points_at(s)  # (steps + 1, D)
    d = np.linalg.norm(np.diff(pts, axis=0), axis=1)  # (steps,)
    return float((d.max() - d.min()) / d.mean())


@pytest.mark.parametrize("dim,closed", CASES)
def test_passes_through_every_waypoint(dim: int, closed: bool) -> None:
    w = random_waypoints(dim, 9, dim)
    path = Path(w, closed=closed)
    assert path.waypoint_distances.shape == (9,)
    assert path.waypoint_distances[0] == 0.0
    assert np.all(np.diff(path.waypoint_distances) > 0)
    for i, s in enumerate(path.waypoint_distances):
        np.testing.assert_allclose(path.point_at(s), w[i], atol=1e-6)
    if not closed:
        assert path.waypoint_distances[-1] == pytest.approx(path.length)


@pytest.mark.parametrize("dim,closed", CASES)
def test_equal_arc_steps_give_constant_speed(dim: int, closed: bool) -> None:
    path = Path(random_waypoints(10 + dim, 8, dim), closed=closed)
    # Straight chords between consecutive points (short steps, so bends barely shorten them).
    # Measured: 0.08% - 0.25% (D = 2, 3; 10,000 steps), 0.15% (D = 128; 1,000 steps).
    steps = 1_000 if dim > 3 else 10_000
    assert speed_deviation(path, steps) < 0.03
    # The parametrisation alone: |dp/ds| = 1 everywhere (central differences, h tiny so the
    # bends don't matter). Measured: max |speed - 1| < 3e-6 (a linear table lookup gave ~10%).
    s = np.random.default_rng(dim).uniform(0.0, path.length, size=500)  # (500,)
    h = 1e-6 * path.length
    speed = np.linalg.norm(path.points_at(s + h) - path.points_at(s - h), axis=1) / (2 * h)
    np.testing.assert_allclose(speed, 1.0, atol=1e-4)


def test_straight_line_is_travelled_uniformly() -> None:
    # Unevenly spaced collinear waypoints: the path is the segment itself, at constant speed.
    t = np.array([0.0, 0.1, 0.5, 0.6, 2.0, 3.0])
    direction = np.array([1.0, 2.0, -2.0]) / 3.0
    w = 1.0 + t[:, None] * direction  # (6, 3)
    path = Path(w, closed=False)
    assert path.length == pytest.approx(3.0, rel=1e-9)
    s = np.linspace(0.0, 3.0, 301)
    np.testing.assert_allclose(path.points_at(s), 1.0 + s[:, None] * direction, atol=1e-9)


def test_closed_path_wraps_continuously() -> None:
    path = Path(random_waypoints(3, 7, 3), closed=True)
    L = path.length
    np.testing.assert_allclose(path.point_at(L), path.point_at(0.0), atol=1e-12)
    np.testing.assert_allclose(path.point_at(L + 0.7), path.point_at(0.7), atol=1e-9)
    np.testing.assert_allclose(path.point_at(-0.7), path.point_at(L - 0.7), atol=1e-9)
    # across the join the point moves by ~ds and the direction does not jump
    eps = 1e-5
    gap = np.linalg.norm(path.point_at(eps) - path.point_at(-eps))
    assert gap == pytest.approx(2 * eps, rel=1e-3)
    assert np.dot(path.tangent_at(-eps), path.tangent_at(eps)) > 0.9999


def test_open_path_clamps() -> None:
    w = random_waypoints(4, 5, 2)
    path = Path(w, closed=False)
    np.testing.assert_allclose(path.point_at(-3.0), w[0], atol=1e-12)
    np.testing.assert_allclose(path.point_at(path.length + 3.0), w[-1], atol=1e-9)


@pytest.mark.parametrize("dim,closed", CASES)
def test_tangent_is_unit_and_points_along_travel(dim: int, closed: bool) -> None:
    path = Path(random_waypoints(20 + dim, 6, dim), closed=closed)
    s = np.linspace(0.0, path.length, 97)[1:-1]  # (95,)
    tangents = path.tangents_at(s)  # (95, D)
    np.testing.assert_allclose(np.linalg.norm(tangents, axis=1), 1.0, atol=1e-12)
    h = 1e-5
    finite = (path.points_at(s + h) - path.points_at(s - h)) / (2 * h)  # (95, D)
    np.testing.assert_allclose(finite, tangents, atol=1e-4)  # unit speed in s, too
    t0 = path.tangent_at(float(s[3]))
    assert t0.shape == (dim,)
    np.testing.assert_allclose(t0, tangents[3])


def test_vectorised_points_match_single_points_in_128d() -> None:
    w = random_waypoints(5, 12, 128)
    path = Path(w, closed=True, samples_per_segment=32)
    s = np.random.default_rng(6).uniform(-path.length, 2 * path.length, size=50)
    many = path.points_at(s)
    assert many.shape == (50, 128)
    for i in range(0, 50, 7):
        np.testing.assert_allclose(many[i], path.point_at(float(s[i])), atol=1e-12)


def test_duplicate_waypoints_are_dropped() -> None:
    w = random_waypoints(7, 5, 3)
    repeated = np.concatenate([w[:1], w[:1], w[1:3], w[2:3], w[3:], w[:1]])  # dup + loop closer
    a, b = Path(w, closed=True), Path(repeated, closed=True)
    np.testing.assert_array_equal(b.waypoints, w)
    assert b.length == pytest.approx(a.length, rel=1e-12)
    np.testing.assert_allclose(b.waypoint_distances, a.waypoint_distances, rtol=1e-12)


def test_two_waypoints_make_a_path() -> None:
    w = np.array([[0.0, 0.0], [3.0, 4.0]])
    line = Path(w, closed=False)
    assert line.length == pytest.approx(5.0, rel=1e-9)
    loop = Path(w, closed=True)  # there and back
    assert loop.length == pytest.approx(10.0, rel=1e-9)
    np.testing.assert_allclose(loop.point_at(5.0), w[1], atol=1e-9)
    assert np.all(np.isfinite(loop.tangents_at(np.array([0.0, 5.0]))))


@pytest.mark.parametrize(
    "bad,message",
    [
        (np.zeros((1, 3)), "at least 2 distinct waypoints"),
        (np.ones((4, 3)), "at least 2 distinct waypoints"),
        (np.zeros((0, 3)), "at least 2 distinct waypoints"),
        (np.zeros(5), r"\(K, D\) array"),
        (np.array([[0.0, 1.0], [np.nan, 2.0]]), "finite"),
    ],
)
def test_bad_waypoints_raise_one_clear_error(bad: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Path(bad)
