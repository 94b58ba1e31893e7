"""Reading arrays of numbers from model-file JSON (numpy only): the shared first check of every
stored array (the density, the edit fields) before its shapes are checked."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_DEPTH = 3  # lists nested at most this deep (a stack of matrices)


def all_numbers(value: object, depth: int = 0) -> bool:
    """True when ``value`` is a finite JSON number or nested lists (at most ``MAX_DEPTH`` deep) of them."""
    if isinstance(value, list):
        return depth < MAX_DEPTH and all(all_numbers(v, depth + 1) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def numeric_arrays(raw: dict, keys: Sequence[str], prefix: str) -> dict[str, np.ndarray] | str:
    """{key: float64 array} of ``raw``'s ``keys``, or what is wrong as a phrase beginning with
    ``prefix`` ("density covs is not a rectangular array")."""
    arrays = {}
    for key in keys:
        if not all_numbers(raw[key]):
            return f"{prefix} {key} holds a non-finite or non-numeric value"
        try:
            arrays[key] = np.asarray(raw[key], dtype=np.float64)
        except ValueError:
            return f"{prefix} {key} is not a rectangular array"
    return arrays
