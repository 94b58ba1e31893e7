"""The Navigator's map gliding to a new epoch of a live training run (draws nothing).

When the model changes under the map (``NavigatorScene.swap_model``), every encoded sample
point, every class centroid and the map's frame (the populated span the map is fitted to) move
from where they were drawn to where the new model puts them, eased (``ease_in_out``) over
``MAP_GLIDE_S``. The live export encodes the same training images every epoch, so point i of
the old model and point i of the new one are the same image: each point slides along its own
path. :class:`MapGlide` holds the starting positions; ``at(t)`` blends them with the targets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_odyssey.game.model.morph import ease_in_out

MAP_GLIDE_S = 1.0  # seconds the points, centroids and frame take to reach their new places


@dataclass
class MapGlide:
    """Where the map's content was drawn when the model changed, and when that was."""

    points: np.ndarray | None  # (M, 2) shown dims; None when the point sets differ (they snap)
    centroids: np.ndarray | None  # (K, 2); None when the class lists differ
    span: np.ndarray  # (2,) the span the map was fitted to
    view: np.ndarray | None  # (2,) the map centre, when it was at its home (it glides home too)
    t0: float  # scene time the glide began
    duration: float = MAP_GLIDE_S

    def progress(self, t: float) -> float:
        """Eased progress at scene time ``t``: 0 at the start, 1 when done."""
        return ease_in_out((t - self.t0) / self.duration)

    def done(self, t: float) -> bool:
        return t - self.t0 >= self.duration


def blend(start: np.ndarray | None, end: np.ndarray, u: float) -> np.ndarray:
    """``start`` moved the fraction ``u`` of the way to ``end`` (``end`` when there is no start)."""
    if start is None or start.shape != end.shape or u >= 1.0:
        return end
    return start + (end - start) * u


def same_points(old_labels: np.ndarray, new_labels: np.ndarray) -> bool:
    """Whether two models' sample points can be paired one to one: the same count and labels
    (the live export's points are the same training images every epoch)."""
    return old_labels.shape == new_labels.shape and bool(np.array_equal(old_labels, new_labels))
