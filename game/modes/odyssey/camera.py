"""The ship camera: a pinhole at the ship's position looking along its forward axis.

Conventions (see ``flight``): the camera's rotation matrix has the columns right, up,
forward in world (flight-subspace) coordinates; camera coordinates are x right, y up,
z forward. A world point ``p`` lands on a ``w x h`` screen at

    c = R^T (p - position);   x = w/2 + F c_x / c_z;   y = h/2 - F c_y / c_z

with ``F = focal_px(h)`` (vertical field of view :data:`FOV_Y_DEG`). Only points with
``c_z > 0`` are in front of the ship.

Roll: the world has an up direction (:data:`WORLD_UP`, the subspace's second axis, which is
the ship's up at the start). ``roll_deg`` is the angle (counter-clockwise on screen, degrees)
at which world-up appears: the field's billboards and the tunnel are drawn turned by it, so
rolling the ship turns the whole world on screen, and a full roll brings back the same frame.

Pure numpy; the products are written out (no BLAS call: a tiny matmul can stall on
thread hand-offs while onnxruntime's threads are busy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FOV_Y_DEG = 60.0  # vertical field of view
WORLD_UP = np.array([0.0, 1.0, 0.0])  # (3,) world up: the ship's up at the start
LEVEL_EPS = 1e-6  # world-up this close to the view axis has no defined screen direction


def focal_px(height: float) -> float:
    """Focal length in pixels of the ship camera for a view ``height`` pixels tall."""
    return 0.5 * float(height) / math.tan(math.radians(FOV_Y_DEG) / 2.0)


def mat_apply(vectors: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``vectors @ m`` for (N, 3) x (3, 3), written out.  # (N, 3) -> (N, 3)"""
    v = np.asarray(vectors, np.float64).reshape(-1, 3)
    m = np.asarray(m, np.float64)
    return v[:, 0:1] * m[0][None, :] + v[:, 1:2] * m[1][None, :] + v[:, 2:3] * m[2][None, :]


@dataclass
class Camera:
    """The ship camera: position (3,), rotation (3, 3) with columns right/up/forward."""

    position: np.ndarray
    rotation: np.ndarray

    def to_camera(self, pts: np.ndarray) -> np.ndarray:
        """World points to camera coordinates (x right, y up, z forward).  # (N, 3) -> (N, 3)"""
        return mat_apply(np.asarray(pts, np.float64).reshape(-1, 3) - self.position[None, :], self.rotation)

    def direction_to_camera(self, d: np.ndarray) -> np.ndarray:
        """A world direction in camera coordinates.  # (3,) -> (3,)"""
        return mat_apply(np.asarray(d, np.float64)[None], self.rotation)[0]

    def project(self, pts: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Screen positions and depths of world points: (xy (N, 2) float px, z (N,)).
        Points behind the camera (z <= 0) get NaN positions."""
        cam = self.to_camera(pts)
        return project_camera(cam, size), cam[:, 2]

    def screen_point(self, direction: np.ndarray, size: tuple[int, int]) -> tuple[float, float] | None:
        """Where a world *direction* (a point at infinity) lands on screen: the vanishing point
        of travel along it. None when it points behind the camera."""
        c = self.direction_to_camera(direction)
        if c[2] <= LEVEL_EPS * max(1.0, math.hypot(*c)):
            return None
        xy = project_camera(c[None], size)[0]
        return float(xy[0]), float(xy[1])

    def roll_deg(self, world_up: np.ndarray = WORLD_UP) -> float:
        """The screen angle (degrees, counter-clockwise, in [-180, 180)) of world-up's
        direction: 0 when the ship is level, +30 after rolling right by 30 degrees."""
        c = self.direction_to_camera(world_up)
        if math.hypot(c[0], c[1]) < LEVEL_EPS:
            return 0.0  # looking straight up or down: keep the world upright
        angle = math.degrees(math.atan2(-c[0], c[1]))
        return (angle + 180.0) % 360.0 - 180.0


def project_camera(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Camera coordinates to screen pixels (NaN behind the camera).  # (N, 3) -> (N, 2)"""
    w, h = size
    f = focal_px(h)
    cam = np.asarray(cam, np.float64).reshape(-1, 3)
    z = cam[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = np.where(z > 0.0, f / np.where(z > 0.0, z, 1.0), np.nan)
    return np.stack([0.5 * w + cam[:, 0] * inv, 0.5 * h - cam[:, 1] * inv], axis=1)


def rotate_screen(xy: np.ndarray, angle_deg: float, centre: tuple[float, float]) -> np.ndarray:
    """Screen points turned counter-clockwise (as seen on screen, y down) by ``angle_deg``
    about ``centre``.  # (N, 2) -> (N, 2)"""
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)
    p = np.asarray(xy, np.float64).reshape(-1, 2)
    dx, dy = p[:, 0] - centre[0], p[:, 1] - centre[1]
    return np.stack([centre[0] + ca * dx + sa * dy, centre[1] - sa * dx + ca * dy], axis=1)
