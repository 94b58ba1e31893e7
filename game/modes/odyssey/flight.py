"""Flight mathematics for the 3-D Odyssey mode: quaternions, a ship with inertia, a fixed step.

Pure numpy (no pygame, no torch): the Odyssey scene owns drawing and input and calls
this module once per fixed simulation step.

Conventions
-----------
* Quaternions are float64 arrays ``(w, x, y, z)`` with shape ``(4,)`` (helpers also
  broadcast over leading axes, ``(..., 4)``). Unit quaternions rotate ship-local vectors
  into world space: ``world = quat_rotate(q, local)``.
* Ship-local axes: right = +x, up = +y, forward = +z (so right x up = forward).
  ``quat_to_matrix(q)`` has the columns right, up, forward expressed in world space.
* Ship rotations are applied in the local frame, ``q = q * dq``:
  pitch turns about local right, yaw about local up, roll about local forward.
  Control signs follow the pilot's view:

  ======  =====================================================================
  pitch   +1 = nose up: forward turns toward +up (pitch +90 deg: forward -> old up)
  yaw     +1 = nose right: forward turns toward +right
  roll    +1 = roll right (right wing down): up turns toward +right
  ======  =====================================================================

* Controls: pitch/yaw/roll in [-1, 1] (scaled by ``*_RATE_RAD_S``), thrust/brake in
  [0, 1], boost multiplies thrust. Out-of-range values are clipped. Turning follows the
  stick at once (smoothing of stick input belongs to the input layer); the inertia is in
  the linear motion: velocity builds up under thrust and decays exponentially.
* The ship moves in "latent units" (the scene maps these 3 axes into the model's latent
  space). Outside the populated box ``[bounds_lo, bounds_hi]`` a spring pulls it back,
  proportional to the distance outside, so it can never drift off to infinity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# Angular rates at full stick, in radians per second.
PITCH_RATE_RAD_S = 1.6
YAW_RATE_RAD_S = 1.2
ROLL_FULL_TURN_S = 2.6  # a full roll at full stick: 312 steps of 1/120 s exactly, so it ends where it began
ROLL_RATE_RAD_S = 2 * math.pi / ROLL_FULL_TURN_S  # ~2.42
# Linear motion, in latent units (u) and seconds.
THRUST_ACCEL_U_S2 = 2.0  # acceleration at full thrust along forward
BOOST_MULTIPLIER = 2.5  # thrust multiplier while boost is held
LINEAR_DAMPING_PER_S = 0.9  # v *= exp(-LINEAR_DAMPING_PER_S * dt); cruise speed = accel / damping
BRAKE_DAMPING_PER_S = 3.0  # extra exponential damping at full brake (never reverses motion)
MAX_SPEED_U_S = 6.0  # hard speed limit
# Soft wall: pull-back acceleration (u/s^2) per latent unit outside the bounds box. Full
# thrust balances it THRUST_ACCEL_U_S2 / PULL_STIFFNESS_PER_S2 = 1 u outside (2.5 u boosted).
PULL_STIFFNESS_PER_S2 = 2.0

_EPS = 1e-12


# ---------------------------------------------------------------------------- quaternions


def quat_identity() -> np.ndarray:
    """The identity rotation ``(1, 0, 0, 0)``.  # (4,)"""
    return np.array([1.0, 0.0, 0.0, 0.0])


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``).  # (..., 4) x (..., 4) -> (..., 4)"""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    aw, ax, ay, az = a[..., 0], a[..., 1], a[..., 2], a[..., 3]
    bw, bx, by, bz = b[..., 0], b[..., 1], b[..., 2], b[..., 3]
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_normalize(q: np.ndarray) -> np.ndarray:
    """Scale to unit norm; a zero quaternion becomes the identity.  # (..., 4) -> (..., 4)"""
    q = np.asarray(q, dtype=np.float64)
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    safe = np.where(n > _EPS, n, 1.0)
    out = q / safe
    return np.where(n > _EPS, out, quat_identity())


def quat_from_axis_angle(axis: np.ndarray, angle_rad: float) -> np.ndarray:
    """Rotation of ``angle_rad`` about ``axis`` (right-hand rule; axis need not be unit).

    A zero axis gives the identity.  # axis (3,) -> (4,)
    """
    axis = np.asarray(axis, dtype=np.float64)
    n = math.hypot(*axis)
    if n < _EPS:
        return quat_identity()
    half = 0.5 * float(angle_rad)
    s = math.sin(half) / n
    return np.array([math.cos(half), axis[0] * s, axis[1] * s, axis[2] * s])


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vector(s) ``v`` by unit quaternion ``q``.  # (..., 4), (..., 3) -> (..., 3)"""
    q = np.asarray(q, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    w = q[..., :1]
    u = q[..., 1:]
    # v' = v + 2w (u x v) + 2 u x (u x v)
    t = 2.0 * _cross(u, v)
    return v + w * t + _cross(u, t)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.cross`` over the last axis, written out (np.cross costs ~10x more on one vector).  # (..., 3)"""
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=-1)


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """3x3 rotation matrix of unit ``q``; columns = right, up, forward in world.  # (4,) -> (3, 3)"""
    w, x, y, z = (float(c) for c in np.asarray(q, dtype=np.float64))
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def quat_from_matrix(m: np.ndarray) -> np.ndarray:
    """Unit quaternion (with w >= 0) of a 3x3 rotation matrix (Shepperd's method).  # (3, 3) -> (4,)"""
    m = np.asarray(m, dtype=np.float64)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0.0:
        s = 2.0 * math.sqrt(1.0 + trace)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [(m[2, 1] - m[1, 2]) / s, 0.25 * s, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * math.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, 0.25 * s, (m[1, 2] + m[2, 1]) / s]
    else:
        s = 2.0 * math.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, 0.25 * s]
    out = quat_normalize(np.array(q))
    return -out if out[0] < 0 else out


def quat_slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation from ``a`` (t=0) to ``b`` (t=1) along the shorter arc.  # (4,) -> (4,)"""
    a = quat_normalize(a)
    b = quat_normalize(b)
    dot = float((a * b).sum())
    if dot < 0.0:  # q and -q are the same rotation: take the short way round
        b = -b
        dot = -dot
    if dot > 0.9995:  # nearly parallel: normalised lerp is accurate and avoids 0/0
        return quat_normalize(a + float(t) * (b - a))
    theta = math.acos(min(dot, 1.0))
    sin_theta = math.sin(theta)
    wa = math.sin((1.0 - t) * theta) / sin_theta
    wb = math.sin(t * theta) / sin_theta
    return quat_normalize(wa * a + wb * b)


def quat_look_rotation(forward: np.ndarray, up_hint: np.ndarray | None = None) -> np.ndarray:
    """Rotation whose forward (+z) axis is ``forward`` and whose up is as close to ``up_hint``
    as possible (default world +y). If the hint is parallel to ``forward`` another is used.

    # forward (3,), up_hint (3,) -> (4,)
    """
    f = np.asarray(forward, dtype=np.float64)
    fn = float(np.linalg.norm(f))
    if fn < _EPS:
        raise ValueError("quat_look_rotation needs a non-zero forward vector.")
    f = f / fn
    hints = [np.array([0.0, 1.0, 0.0]) if up_hint is None else np.asarray(up_hint, float)]
    hints += [np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])]
    for hint in hints:
        r = np.cross(hint, f)  # up x forward = right
        rn = float(np.linalg.norm(r))
        if rn > 1e-6 * max(1.0, float(np.linalg.norm(hint))):
            break
    r = r / rn
    u = np.cross(f, r)  # forward x right = up
    return quat_from_matrix(np.stack([r, u, f], axis=1))


# ---------------------------------------------------------------------------- ship


@dataclass
class ShipControls:
    """One step's pilot input. pitch/yaw/roll in [-1, 1], thrust/brake in [0, 1].

    Signs (see module docstring): pitch +1 nose up, yaw +1 nose right, roll +1 right wing down.
    """

    pitch: float = 0.0
    yaw: float = 0.0
    roll: float = 0.0
    thrust: float = 0.0
    brake: float = 0.0
    boost: bool = False


def _clip(x: float, lo: float, hi: float) -> float:
    x = float(x)
    if not math.isfinite(x):
        return 0.0
    return min(hi, max(lo, x))


@dataclass
class Ship:
    """A ship with linear inertia in a 3-D latent subspace.

    ``position`` (3,) and ``velocity`` (3,) in latent units (u, u/s); ``orientation`` is a
    unit quaternion (4,) from ship-local to world. ``step`` is deterministic: the same state,
    controls, dt and bounds always give bit-identical results.
    """

    position: np.ndarray = field(default_factory=lambda: np.zeros(3))  # (3,)
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(3))  # (3,)
    orientation: np.ndarray = field(default_factory=quat_identity)  # (4,) w, x, y, z

    def __post_init__(self) -> None:
        self.position = np.array(self.position, dtype=np.float64).reshape(3)
        self.velocity = np.array(self.velocity, dtype=np.float64).reshape(3)
        self.orientation = quat_normalize(np.array(self.orientation, dtype=np.float64).reshape(4))

    @property
    def right(self) -> np.ndarray:
        """Local +x in world.  # (3,)"""
        return quat_rotate(self.orientation, np.array([1.0, 0.0, 0.0]))

    @property
    def up(self) -> np.ndarray:
        """Local +y in world.  # (3,)"""
        return quat_rotate(self.orientation, np.array([0.0, 1.0, 0.0]))

    @property
    def forward(self) -> np.ndarray:
        """Local +z in world.  # (3,)"""
        return quat_rotate(self.orientation, np.array([0.0, 0.0, 1.0]))

    @property
    def speed(self) -> float:
        """Speed in latent units per second."""
        return math.hypot(*self.velocity)

    def outside_distance(self, bounds_lo: np.ndarray, bounds_hi: np.ndarray) -> float:
        """Euclidean distance from the ship to the box ``[bounds_lo, bounds_hi]`` (0 inside)."""
        return math.hypot(*_outside_vector(self.position, bounds_lo, bounds_hi))

    def step(
        self,
        dt: float,
        controls: ShipControls,
        bounds_lo: np.ndarray,
        bounds_hi: np.ndarray,
    ) -> None:
        """Advance the ship by ``dt`` seconds (use a fixed dt, see ``FixedStep``).

        Rotation: angular rates = stick x ``*_RATE_RAD_S``, integrated exactly over dt and
        applied in the local frame (q = q * dq), then renormalised.
        Motion (semi-implicit Euler): a = forward * thrust * THRUST_ACCEL_U_S2 (x BOOST_MULTIPLIER)
        - PULL_STIFFNESS_PER_S2 * (offset outside the box); v += a dt;
        v *= exp(-(LINEAR_DAMPING_PER_S + brake * BRAKE_DAMPING_PER_S) dt); |v| <= MAX_SPEED_U_S;
        x += v dt.
        """
        dt = float(dt)
        if not math.isfinite(dt) or dt <= 0.0:
            return
        pitch = _clip(controls.pitch, -1.0, 1.0)
        yaw = _clip(controls.yaw, -1.0, 1.0)
        roll = _clip(controls.roll, -1.0, 1.0)
        thrust = _clip(controls.thrust, 0.0, 1.0)
        brake = _clip(controls.brake, 0.0, 1.0)

        # Local angular velocity (rad/s). Right-hand rule about +x turns forward toward -up,
        # about +z turns up toward -right, hence the minus signs for nose-up / roll-right.
        omega = np.array(
            [-pitch * PITCH_RATE_RAD_S, yaw * YAW_RATE_RAD_S, -roll * ROLL_RATE_RAD_S]
        )  # (3,)
        angle = math.hypot(*omega) * dt
        if angle > 0.0:
            dq = quat_from_axis_angle(omega, angle)
            self.orientation = quat_normalize(quat_mul(self.orientation, dq))
        else:
            self.orientation = quat_normalize(self.orientation)

        accel = self.forward * (
            thrust * THRUST_ACCEL_U_S2 * (BOOST_MULTIPLIER if controls.boost else 1.0)
        )
        accel = accel - PULL_STIFFNESS_PER_S2 * _outside_vector(self.position, bounds_lo, bounds_hi)
        v = self.velocity + accel * dt
        v = v * math.exp(-(LINEAR_DAMPING_PER_S + brake * BRAKE_DAMPING_PER_S) * dt)
        speed = math.hypot(*v)
        if speed > MAX_SPEED_U_S:
            v = v * (MAX_SPEED_U_S / speed)
        self.velocity = v
        self.position = self.position + v * dt


def _outside_vector(position: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Offset from the nearest point of the box to ``position`` (zeros inside).  # (3,)"""
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    return position - np.clip(position, np.minimum(lo, hi), np.maximum(lo, hi))
