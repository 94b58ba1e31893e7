"""The Face Studio's data and latent maths, shared by its scene (input, simulation) and view.

A face is ``z = base + Σ s_i · d_i(base)``: ``base`` a latent to start from (``face_base``),
``d_i`` the attribute edits in slider units (``SliderEdit``) and ``s_i`` the sliders, from
``SLIDER_MIN`` to ``SLIDER_MAX``. An attribute with an edit field in the model file
(``game/model/editfield.py``) gets a direction of the face's own, ``d_i(base)`` = its field's
change at ``base``; one without gets the file's unit direction for every face
(``slider_directions``; the web page uses these). Nothing here draws or reads input.

Random faces come from one of the model's ``face_sources``: the density fitted to the encoded
training set (``game.model.density``, when the file has one), the prior N(0, I), or the encoded
training faces stored in the file; the first of these a file offers is the default
(``default_source``). Density and prior samples take a temperature (the spread of the
samples; 1 = as fitted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latent_odyssey.game.model.density import Draw, LatentSampler, PriorSampler
from latent_odyssey.game.model.modelfile import ModelMeta

SLIDER_MIN, SLIDER_MAX = -3.0, 3.0  # slider units (see SliderEdit)
SWING_UNITS = 3.0  # slider units of an edit field's whole low-to-high change
GRID_VALUES = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)  # grid columns (slider values)
STRIP_FRAMES = 8  # frames per morph-strip row, A and B included
TEMPERATURE_DEFAULT = 1.0  # the fitted spread
TEMPERATURE_STEP = 0.1  # one press of temperature_up / _down
TEMPERATURE_LOW, TEMPERATURE_HIGH = 0.0, 2.0  # the studio's temperature range
DEFAULT_ORDER = ("density", "encoded", "prior")  # the first a model offers is the default source


class EncodedFaces(LatentSampler):
    """The encoded training faces stored in the model file (``sample_z``), drawn uniformly; the
    temperature does not apply to them."""

    name = "encoded training faces"

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = np.asarray(samples, np.float64)  # (M, D)

    def draw(self, n: int, rng: np.random.Generator) -> Draw:
        pick = rng.integers(len(self.samples), size=n)  # (n,)
        return Draw(pick, np.zeros((n, 0)), np.zeros((n, 0)))

    def latents(self, draw: Draw, temperature: float = 1.0) -> np.ndarray:
        return self.samples[draw.component]

    def norm_bound(self, temperature: float, slack: float = 0.0) -> float:
        return float(np.linalg.norm(self.samples, axis=1).max())


def face_sources(meta: ModelMeta) -> dict[str, LatentSampler]:
    """The model's sources of random faces, in the order the source key cycles them:
    ``density`` (when the file has one), ``prior``, ``encoded`` (when it stores encoded faces)."""
    out: dict[str, LatentSampler] = {}
    density = meta.fitted_density()
    if density is not None:
        out["density"] = density
    out["prior"] = PriorSampler(meta.latent_dim)
    samples, _ = meta.sample_array()
    if len(samples):
        out["encoded"] = EncodedFaces(samples)
    return out


def default_source(sources: dict[str, LatentSampler]) -> str:
    """The fitted density when there is one, else the encoded faces, else the prior."""
    return next(name for name in DEFAULT_ORDER if name in sources)


def uses_temperature(source: str) -> bool:
    """Whether a source's samples change with the temperature (not the stored encoded faces)."""
    return source != "encoded"


def face_base(meta: ModelMeta, rng: np.random.Generator, temperature: float = TEMPERATURE_DEFAULT) -> np.ndarray:
    """A random face to start from, from the model's default source (``default_source``: the
    fitted density when the file has one, so it looks like the data).  # (D,)"""
    sources = face_sources(meta)
    return sources[default_source(sources)].sample(1, rng, temperature)[0]


def slider_directions(meta: ModelMeta, names: list[str]) -> np.ndarray:
    """The attribute directions ``names`` scaled so one slider unit is one standard deviation
    of the encoded faces along each (-3..+3 then spans the data's own range of the attribute;
    a unit step in 128-D is tiny).  # (K, D) float64"""
    units = (np.stack([meta.attribute_array(n).astype(np.float64) for n in names])
             if names else np.zeros((0, meta.latent_dim)))  # (K, D) unit rows from the model file
    samples, _ = meta.sample_array()
    spread = (samples.astype(np.float64) @ units.T).std(0) if len(samples) > 1 else np.ones(len(units))
    return units * np.maximum(spread, 1e-3)[:, None]


class SliderEdit:
    """The sliders' edits of a face, one slider unit each: ``dirs(base)`` (K, D).

    Without edit fields these are ``slider_directions`` for every face. With a field, row i is
    the field's change at ``base`` divided by ``SWING_UNITS``: the slider's +3 end is the whole
    low-to-high change the field predicts for this face (a low face pushed to +3 lands on its
    high version; one already high moves on by the field's smaller change there), and -3 the
    whole change back."""

    def __init__(self, meta: ModelMeta, names: list[str]) -> None:
        self.plain = slider_directions(meta, names)  # (K, D)
        self.fields = [meta.edit_field(n) for n in names]

    def dirs(self, base: np.ndarray) -> np.ndarray:
        """Each slider's latent change per unit for the face ``base`` (D,).  # (K, D)"""
        rows = self.plain.copy()
        for i, f in enumerate(self.fields):
            if f is not None:
                rows[i] = f.vector(base) / SWING_UNITS
        return rows

    def base_for(self, z: np.ndarray, sliders: np.ndarray) -> np.ndarray:
        """The base whose edit by ``sliders`` (K,) is ``z`` (D,): with fields, the solution b of
        b + Σ (s_i / SWING_UNITS) (o_i + (b − c_i) @ J_i) + Σ_plain s_i d_i = z (linear in b).  # (D,)"""
        sliders = np.asarray(sliders, np.float64)
        if not any(f is not None and s for f, s in zip(self.fields, sliders, strict=True)):
            return z - sliders @ self.plain
        lhs, rhs = np.eye(len(z)), np.asarray(z, np.float64).copy()
        for i, (f, s) in enumerate(zip(self.fields, sliders, strict=True)):
            if f is None:
                rhs -= s * self.plain[i]
            elif s:
                jac, k = f.jacobian(), s / SWING_UNITS  # (D, D), field changes per slider position
                lhs += k * jac
                rhs -= k * (f.offset - f.center @ jac)
        return np.linalg.solve(lhs.T, rhs)  # b @ lhs = rhs


@dataclass
class FaceState:
    """A face as the studio edits it: a base latent and the slider values."""

    base: np.ndarray  # (D,) float64
    sliders: np.ndarray  # (K,) float64

    def z(self, edit: SliderEdit) -> np.ndarray:
        """base + Σ s_i d_i(base)  # (D,)"""
        return self.base + self.sliders @ edit.dirs(self.base)

    def copy(self) -> FaceState:
        return FaceState(self.base.copy(), self.sliders.copy())


@dataclass
class Slot:
    """A stored face (slot A or B), with its latent and decoded image."""

    state: FaceState
    z: np.ndarray  # (D,)
    image: np.ndarray  # uint8 (H, W, 3)


@dataclass
class Anim:
    """An eased transition between two face states (a morph or a glide)."""

    start: FaceState
    end: FaceState
    z0: np.ndarray  # (D,)
    z1: np.ndarray  # (D,)
    t0: float  # s, scene time at the start
    duration: float  # s
    morph: bool  # True: follows the scene's linear/spherical choice; False: linear glide
    label: str = ""  # "A to B"

    def progress(self, t: float) -> float:
        """0 at the start, 1 at the end (clamped), at scene time ``t`` (s)."""
        return min(1.0, max(0.0, (t - self.t0) / self.duration))
