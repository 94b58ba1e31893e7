"""Flight maths for the Odyssey mode: quaternions, the ship and the fixed-step clock."""

from __future__ import annotations

import math

import numpy as np
import pytest

from latent_odyssey.game.engine.clock import FixedStep
from latent_odyssey.game.modes.odyssey import flight
from latent_odyssey.game.modes.odyssey.flight import (
    Ship,
    ShipControls,
    quat_from_axis_angle,
    quat_from_matrix,
    quat_identity,
    quat_look_rotation,
    quat_mul,
    quat_normalize,
    quat_rotate,
    quat_slerp,
    quat_to_matrix,
)

BIG_LO = np.full(3, -1e6)  # a box so large that the pull-back never acts
BIG_HI = np.full(3, 1e6)
X, Y, Z = np.eye(3)


def random_unit_quat(rng: np.random.Generator) -> np.ndarray:
    return quat_normalize(rng.normal(size=4))


def hold(ship: Ship, controls: ShipControls, dt: float, steps: int, lo=BIG_LO, hi=BIG_HI) -> None:
    for _ in range(steps):
        ship.step(dt, controls, lo, hi)


# ---------------------------------------------------------------- quaternions


def test_composition_of_10000_small_rotations_keeps_unit_norm() -> None:
    rng = np.random.default_rng(1)
    q = quat_identity()
    axes = rng.normal(size=(10_000, 3))
    angles = rng.uniform(-0.05, 0.05, size=10_000)
    for axis, angle in zip(axes, angles, strict=True):
        q = quat_mul(q, quat_from_axis_angle(axis, angle))  # no renormalisation on purpose
    assert abs(np.linalg.norm(q) - 1.0) < 1e-9
    m = quat_to_matrix(q)
    np.testing.assert_allclose(m.T @ m, np.eye(3), atol=1e-9)


def test_matrix_columns_are_right_up_forward() -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        q = random_unit_quat(rng)
        m = quat_to_matrix(q)
        np.testing.assert_allclose(m[:, 0], quat_rotate(q, X), atol=1e-12)
        np.testing.assert_allclose(m[:, 1], quat_rotate(q, Y), atol=1e-12)
        np.testing.assert_allclose(m[:, 2], quat_rotate(q, Z), atol=1e-12)
        np.testing.assert_allclose(np.cross(m[:, 0], m[:, 1]), m[:, 2], atol=1e-12)
        back = quat_from_matrix(m)
        assert abs(abs(np.dot(back, q)) - 1.0) < 1e-12  # same rotation (q or -q)


def test_axis_angle_and_rotate_follow_right_hand_rule() -> None:
    q = quat_from_axis_angle(Z, math.pi / 2)
    np.testing.assert_allclose(quat_rotate(q, X), Y, atol=1e-12)
    np.testing.assert_allclose(quat_from_axis_angle(np.zeros(3), 1.0), quat_identity())
    # rotate broadcasts over many vectors
    vs = np.random.default_rng(3).normal(size=(5, 3))
    np.testing.assert_allclose(quat_rotate(q, vs), vs @ quat_to_matrix(q).T, atol=1e-12)


def test_slerp_endpoints_midpoint_and_short_way_round() -> None:
    a = quat_identity()
    b = quat_from_axis_angle(Y, 1.2)
    np.testing.assert_allclose(quat_slerp(a, b, 0.0), a, atol=1e-12)
    np.testing.assert_allclose(quat_slerp(a, b, 1.0), b, atol=1e-12)
    np.testing.assert_allclose(quat_slerp(a, b, 0.5), quat_from_axis_angle(Y, 0.6), atol=1e-12)
    # -b is the same rotation: slerp must still take the 0.6 rad way, not the long one
    mid = quat_slerp(a, -b, 0.5)
    assert abs(abs(np.dot(mid, quat_from_axis_angle(Y, 0.6))) - 1.0) < 1e-12
    # nearly equal quaternions do not divide by zero
    c = quat_from_axis_angle(Y, 1e-9)
    assert np.all(np.isfinite(quat_slerp(a, c, 0.3)))


def test_look_rotation_points_forward_with_up_near_hint() -> None:
    rng = np.random.default_rng(4)
    for _ in range(20):
        fwd = rng.normal(size=3)
        hint = rng.normal(size=3)
        q = quat_look_rotation(fwd, hint)
        m = quat_to_matrix(q)
        np.testing.assert_allclose(m[:, 2], fwd / np.linalg.norm(fwd), atol=1e-12)
        assert np.dot(m[:, 1], hint) >= 0.0  # up leans toward the hint
        assert abs(np.dot(m[:, 0], hint)) < 1e-9  # right is perpendicular to the hint
    # hint parallel to forward: still a valid rotation with that forward
    q = quat_look_rotation(Y, Y)
    np.testing.assert_allclose(quat_rotate(q, Z), Y, atol=1e-12)
    np.testing.assert_allclose(quat_look_rotation(Z, Y), quat_identity(), atol=1e-12)
    with pytest.raises(ValueError):
        quat_look_rotation(np.zeros(3), Y)


# ---------------------------------------------------------------- ship rotation


def steps_for_angle(angle: float, rate: float, steps: int) -> float:
    """dt that turns exactly ``angle`` in ``steps`` steps at ``rate`` rad/s."""
    return angle / (rate * steps)


def test_full_roll_returns_forward_and_up() -> None:
    ship = Ship(orientation=random_unit_quat(np.random.default_rng(5)))
    fwd0, up0 = ship.forward, ship.up
    dt = steps_for_angle(2 * math.pi, flight.ROLL_RATE_RAD_S, 720)
    hold(ship, ShipControls(roll=1.0), dt, 360)
    np.testing.assert_allclose(ship.forward, fwd0, atol=1e-9)  # roll keeps the heading
    np.testing.assert_allclose(ship.up, -up0, atol=1e-9)  # half a roll: upside down
    hold(ship, ShipControls(roll=1.0), dt, 360)
    np.testing.assert_allclose(ship.forward, fwd0, atol=1e-6)
    np.testing.assert_allclose(ship.up, up0, atol=1e-6)
    np.testing.assert_allclose(ship.position, np.zeros(3))


def test_roll_right_tips_up_toward_right() -> None:
    ship = Ship()
    ship.step(0.01, ShipControls(roll=1.0), BIG_LO, BIG_HI)
    assert ship.up[0] > 0.0  # up (+y) leans toward right (+x): right wing down
    np.testing.assert_allclose(ship.forward, Z, atol=1e-12)


def test_pitch_up_90_degrees_turns_forward_into_up() -> None:
    """Documented sign: pitch +1 = nose up, so +90 deg maps forward -> old up, up -> old back."""
    ship = Ship(orientation=random_unit_quat(np.random.default_rng(6)))
    fwd0, up0, right0 = ship.forward, ship.up, ship.right
    dt = steps_for_angle(math.pi / 2, flight.PITCH_RATE_RAD_S, 200)
    hold(ship, ShipControls(pitch=1.0), dt, 200)
    np.testing.assert_allclose(ship.forward, up0, atol=1e-9)
    np.testing.assert_allclose(ship.up, -fwd0, atol=1e-9)
    np.testing.assert_allclose(ship.right, right0, atol=1e-9)  # pitch turns about right


def test_yaw_turns_forward_in_the_right_left_plane() -> None:
    ship = Ship()
    dt = steps_for_angle(0.3, flight.YAW_RATE_RAD_S, 30)
    hold(ship, ShipControls(yaw=1.0), dt, 30)
    # yaw +1 = nose right: forward gains +right, stays level, up is untouched
    np.testing.assert_allclose(ship.forward, [math.sin(0.3), 0.0, math.cos(0.3)], atol=1e-12)
    np.testing.assert_allclose(ship.up, Y, atol=1e-12)
    hold(ship, ShipControls(yaw=-1.0), dt, 60)
    np.testing.assert_allclose(ship.forward, [-math.sin(0.3), 0.0, math.cos(0.3)], atol=1e-12)


def test_stick_is_clipped_and_orientation_stays_unit() -> None:
    a, b = Ship(), Ship()
    rng = np.random.default_rng(7)
    for _ in range(2000):
        p, y, r = rng.uniform(-1, 1, size=3)
        a.step(1 / 120, ShipControls(pitch=p, yaw=y, roll=r), BIG_LO, BIG_HI)
    assert abs(np.linalg.norm(a.orientation) - 1.0) < 1e-12
    b2 = Ship()
    b.step(0.1, ShipControls(pitch=5.0, thrust=9.0), BIG_LO, BIG_HI)
    b2.step(0.1, ShipControls(pitch=1.0, thrust=1.0), BIG_LO, BIG_HI)
    np.testing.assert_array_equal(b.orientation, b2.orientation)
    np.testing.assert_array_equal(b.velocity, b2.velocity)


# ---------------------------------------------------------------- ship motion


def test_thrust_accelerates_along_forward_and_boost_is_faster() -> None:
    q = random_unit_quat(np.random.default_rng(8))
    ship, boosted = Ship(orientation=q), Ship(orientation=q)
    fwd = ship.forward
    speeds = []
    for _ in range(120):
        ship.step(1 / 120, ShipControls(thrust=1.0), BIG_LO, BIG_HI)
        boosted.step(1 / 120, ShipControls(thrust=1.0, boost=True), BIG_LO, BIG_HI)
        speeds.append(ship.speed)
    assert np.all(np.diff(speeds) > 0)
    np.testing.assert_allclose(ship.velocity / ship.speed, fwd, atol=1e-12)
    assert np.dot(ship.position, fwd) > 0
    assert boosted.speed > 2.0 * ship.speed


def test_damping_brings_velocity_to_rest_independent_of_frame_rate() -> None:
    v0 = np.array([3.0, -1.0, 2.0])
    ships = [Ship(velocity=v0), Ship(velocity=v0)]
    hold(ships[0], ShipControls(), 1 / 30, 30 * 20)
    hold(ships[1], ShipControls(), 1 / 120, 120 * 20)
    for s in ships:
        assert s.speed < 1e-6
        np.testing.assert_allclose(s.velocity / np.linalg.norm(s.velocity), v0 / np.linalg.norm(v0))
    # pure damping is exact: v = v0 exp(-k t) whatever the step
    np.testing.assert_allclose(
        ships[0].velocity, v0 * math.exp(-flight.LINEAR_DAMPING_PER_S * 20), rtol=1e-9
    )
    np.testing.assert_allclose(ships[0].velocity, ships[1].velocity, rtol=1e-9)


def test_brake_slows_faster_and_never_reverses() -> None:
    v0 = np.array([0.0, 0.0, 4.0])
    coast, braking = Ship(velocity=v0), Ship(velocity=v0)
    for _ in range(120):
        coast.step(1 / 120, ShipControls(), BIG_LO, BIG_HI)
        braking.step(1 / 120, ShipControls(brake=1.0), BIG_LO, BIG_HI)
        assert braking.velocity[2] > 0.0
    assert braking.speed < 0.2 * coast.speed


def test_speed_never_exceeds_max() -> None:
    ship = Ship()
    hold(ship, ShipControls(thrust=1.0, boost=True), 1 / 120, 120 * 10)
    assert ship.speed <= flight.MAX_SPEED_U_S + 1e-12
    assert ship.speed > 0.5 * flight.MAX_SPEED_U_S


def test_outside_distance() -> None:
    lo, hi = -np.ones(3), np.ones(3)
    assert Ship(position=[0.5, -0.9, 1.0]).outside_distance(lo, hi) == 0.0
    assert Ship(position=[3.0, 0.0, 0.0]).outside_distance(lo, hi) == pytest.approx(2.0)
    assert Ship(position=[-2.0, 3.0, 0.0]).outside_distance(lo, hi) == pytest.approx(math.sqrt(5))


def test_pull_back_brings_a_ship_launched_outside_home() -> None:
    lo, hi = np.array([-3.0, -3.0, -3.0]), np.array([3.0, 3.0, 3.0])
    ship = Ship(position=[10.0, 0.0, 0.0], velocity=[flight.MAX_SPEED_U_S, 0.0, 0.0])
    worst = 0.0
    for _ in range(60 * 60):
        ship.step(1 / 60, ShipControls(), lo, hi)
        worst = max(worst, ship.outside_distance(lo, hi))
    # Bounded: spring energy alone caps the overshoot at v0 / sqrt(k); damping only helps.
    assert worst < 7.0 + flight.MAX_SPEED_U_S / math.sqrt(flight.PULL_STIFFNESS_PER_S2)
    assert ship.outside_distance(lo, hi) == 0.0  # and it ends back inside the box
    assert ship.speed < 1e-3


def test_pull_back_bounds_a_ship_thrusting_outward_forever() -> None:
    lo, hi = -np.ones(3), np.ones(3)
    ship = Ship(orientation=quat_look_rotation(X, Y))  # nose pointing out of the +x face
    limit = flight.THRUST_ACCEL_U_S2 * flight.BOOST_MULTIPLIER / flight.PULL_STIFFNESS_PER_S2
    worst = 0.0
    for _ in range(60 * 60):
        ship.step(1 / 60, ShipControls(thrust=1.0, boost=True), lo, hi)
        worst = max(worst, ship.outside_distance(lo, hi))
    assert worst < 1.5 * limit  # where spring and engine balance, plus some overshoot
    assert ship.outside_distance(lo, hi) == pytest.approx(limit, rel=1e-3)  # settled


def test_step_is_deterministic() -> None:
    def fly() -> Ship:
        rng = np.random.default_rng(9)
        ship = Ship(position=[0.5, 0.0, -0.5])
        lo, hi = -np.ones(3), np.ones(3)
        for _ in range(1500):
            p, y, r, t, b = rng.uniform(-1, 1, size=5)
            ship.step(1 / 120, ShipControls(p, y, r, abs(t), abs(b), bool(t > 0.5)), lo, hi)
        return ship

    a, b = fly(), fly()
    np.testing.assert_array_equal(a.position, b.position)
    np.testing.assert_array_equal(a.velocity, b.velocity)
    np.testing.assert_array_equal(a.orientation, b.orientation)


def test_zero_or_bad_dt_changes_nothing() -> None:
    ship = Ship(velocity=[1.0, 0.0, 0.0])
    for dt in (0.0, -1.0, float("nan")):
        ship.step(dt, ShipControls(thrust=1.0, yaw=1.0), BIG_LO, BIG_HI)
    np.testing.assert_array_equal(ship.velocity, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(ship.orientation, quat_identity())


# ---------------------------------------------------------------- fixed step


def test_fixed_step_counts_steps_and_keeps_the_remainder() -> None:
    clock = FixedStep(dt=1 / 120)
    assert clock.advance(1 / 60) == 2
    assert clock.alpha == pytest.approx(0.0, abs=1e-6)
    assert clock.advance(1 / 240) == 0
    assert clock.alpha == pytest.approx(0.5)
    assert clock.advance(1 / 240) == 1
    total = sum(clock.advance(1 / 144) for _ in range(144))  # one second at 144 Hz
    assert total in (119, 120, 121)
    assert 0.0 <= clock.alpha < 1.0


def test_fixed_step_caps_a_long_frame() -> None:
    clock = FixedStep(dt=1 / 120, max_steps=8)
    assert clock.advance(5.0) == 8  # a 5 s hitch does not queue 600 steps
    assert clock.advance(0.0) == 0
    assert clock.advance(-1.0) == 0
    with pytest.raises(ValueError):
        FixedStep(dt=0.0)
