"""Face-dependent attribute edits ("edit fields") as a model file stores them (numpy only).

One unit direction per attribute moves every face the same way, but an encoder does not lay
its faces out so simply: the latent change that adds a beard to a narrow young face is not the
one it takes for a round old face. An edit field predicts, from a face's latent z, the change
that takes it from the attribute's low end to its high end:

    v(z) = offset + ((z − center) @ left) @ right.T    # (N, D) for z (N, D)

``offset`` (D,) is the mean change, ``center`` (D,) the mean latent it was fitted around, and
``left`` @ ``right``.T (D, D, rank r) how the change turns with the face (a ridge regression,
kept to its top r singular directions; ``export/editfields.py`` fits it on counterfactual
pairs the renderer draws). With ``left`` and ``right`` zero it is one direction for all.

Stored under the model file's ``attribute_fields``: {attribute: {"center": [D], "offset": [D],
"left": [D][r], "right": [D][r]}}, for attributes that also have a unit direction in
``attributes`` (runtimes that only read the directions keep working). The Face Studio's
sliders use a field where the file has one (``game/modes/faces/state.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_odyssey.game.model.jsonarrays import numeric_arrays

FIELD_KEYS = ("center", "offset", "left", "right")
DECIMALS = 5  # stored precision


@dataclass
class EditField:
    """v(z) = offset + ((z − center) @ left) @ right.T (see the module docstring)."""

    center: np.ndarray  # (D,)
    offset: np.ndarray  # (D,)
    left: np.ndarray  # (D, r)
    right: np.ndarray  # (D, r)

    def vector(self, z: np.ndarray) -> np.ndarray:
        """The low-to-high change at z.  (D,) -> (D,) or (N, D) -> (N, D)"""
        z = np.asarray(z, np.float64)
        return self.offset + ((z - self.center) @ self.left) @ self.right.T

    def jacobian(self) -> np.ndarray:
        """J with v(z) = v(center) + (z − center) @ J.  # (D, D)"""
        return self.left @ self.right.T

    @classmethod
    def from_dict(cls, raw: dict) -> EditField:
        """From a checked dict (``check_edit_fields``)."""
        return cls(*(np.asarray(raw[k], np.float64) for k in FIELD_KEYS))

    def to_dict(self) -> dict:
        return {k: np.round(getattr(self, k), DECIMALS).tolist() for k in FIELD_KEYS}


def check_edit_fields(raw: object, latent_dim: int, attributes: dict) -> str | None:
    """What is wrong with stored edit fields, as a phrase, or None when they are well-formed:
    a JSON object of attributes that have a direction, each with the four arrays of finite
    numbers in the shapes of the module docstring."""
    if not isinstance(raw, dict):
        return "attribute_fields is not a JSON object"
    for attr, field in raw.items():
        if attr not in attributes:
            return f"attribute_fields names {attr!r}, which has no attribute direction"
        if not isinstance(field, dict) or sorted(field) != sorted(FIELD_KEYS):
            return f"the edit field of {attr} should hold exactly {', '.join(FIELD_KEYS)}"
        arrays = numeric_arrays(field, FIELD_KEYS, f"the edit field of {attr}:")
        if isinstance(arrays, str):
            return arrays
        for key in ("center", "offset"):
            if arrays[key].shape != (latent_dim,):
                return f"the edit field of {attr} should have {latent_dim} values in {key}, not shape {list(arrays[key].shape)}"
        left, right = arrays["left"], arrays["right"]
        if left.ndim != 2 or left.shape[0] != latent_dim or left.shape != right.shape or not 1 <= left.shape[1] <= latent_dim:
            return (f"the edit field of {attr} should have left and right of {latent_dim} rows and the same "
                    f"1 to {latent_dim} columns, not shapes {list(left.shape)} and {list(right.shape)}")
    return None
