"""The fixed-step clock: the simulation advances in equal steps whatever the frame rate.

The engine runs ``update(dt)`` ``clock.advance(elapsed)`` times per frame with ``clock.dt``;
tests and headless renders pass a known ``elapsed`` so frames step deterministically.
"""

from __future__ import annotations

import math


class FixedStep:
    """Fixed-step accumulator (after ppb's clock): simulate at ``dt``, draw at any rate.

    Each frame: ``for _ in range(clock.advance(elapsed_s)): world.step(clock.dt)``, then draw
    interpolated by ``clock.alpha`` in [0, 1). At most ``max_steps`` run per frame; time beyond
    that is dropped so a slow frame can't cause a spiral of death.
    """

    def __init__(self, dt: float = 1.0 / 120.0, max_steps: int = 8) -> None:
        if not (dt > 0.0 and math.isfinite(dt)) or max_steps < 1:
            raise ValueError("FixedStep needs dt > 0 and max_steps >= 1.")
        self.dt = float(dt)
        self.max_steps = int(max_steps)
        self.accumulator = 0.0  # seconds not yet simulated, in [0, dt)

    def advance(self, elapsed_s: float) -> int:
        """Add real elapsed seconds; return how many fixed steps to run now."""
        if math.isfinite(elapsed_s) and elapsed_s > 0.0:
            self.accumulator += float(elapsed_s)
        steps = int((self.accumulator + 1e-9 * self.dt) // self.dt)  # tolerate float round-off
        if steps > self.max_steps:
            steps = self.max_steps
            self.accumulator = 0.0
        else:
            self.accumulator = max(0.0, self.accumulator - steps * self.dt)
        return steps

    @property
    def alpha(self) -> float:
        """Fraction of a step left in the accumulator, for drawing between two states."""
        return min(1.0, self.accumulator / self.dt)
