"""Mouse look for the Odyssey: while on, moving the mouse turns the ship.

``mouse_look`` (F) toggles it. On, the window grabs the mouse and hides the cursor, which
puts SDL in relative mouse mode (motion never stops at the window's edge); each frame the
input layer's ``mouse_rel`` (pixels) turns the ship: right yaws right, up pitches the nose
up (``invert_y`` flips that), ``RAD_PER_PX`` radians per pixel. It is released (grab off,
cursor back) when the window loses focus, when toggled off and when the mode is left, so the
player never finds the mouse stuck.
"""

from __future__ import annotations

import pygame

RAD_PER_PX = 0.0022  # turn per pixel of mouse motion


class MouseLook:
    """Relative mouse mode on demand (see the module docstring)."""

    def __init__(self, invert_y: bool = False) -> None:
        self.active = False
        self.invert_y = invert_y

    def toggle(self) -> bool:
        """Switch mouse look; returns whether it is on now."""
        if self.active:
            self.release()
        else:
            self.active = True
            _grab(True)
        return self.active

    def release(self) -> None:
        """Give the mouse back (cursor visible, no grab)."""
        if self.active:
            self.active = False
            _grab(False)

    def turn(self, inp) -> tuple[float, float]:
        """(yaw, pitch) in radians from this frame's mouse motion; (0, 0) when off. Losing the
        window's focus releases the mouse."""
        if not self.active:
            return 0.0, 0.0
        if not inp.focused:
            self.release()
            return 0.0, 0.0
        dx, dy = inp.mouse_rel
        pitch = -dy * RAD_PER_PX
        return dx * RAD_PER_PX, (-pitch if self.invert_y else pitch)


def _grab(on: bool) -> None:
    """Grab and hide (relative mode) or release and show the mouse; a display that cannot
    (no window yet, a driver without a mouse) is left as it is."""
    if not pygame.display.get_init() or pygame.display.get_surface() is None:
        return
    try:
        pygame.mouse.set_visible(not on)
        pygame.event.set_grab(on)
    except pygame.error:
        pass
