"""The modes the game offers, by name (the engine receives this; it imports no mode itself).

The name ``NAME`` is also the action ``mode_NAME`` in ``assets/controls.toml`` (F2, F3, F4).
"""

from __future__ import annotations

from latent_odyssey.game.engine.scene import ModeScene
from latent_odyssey.game.modes.faces.scene import FaceStudioScene
from latent_odyssey.game.modes.navigator.scene import NavigatorScene
from latent_odyssey.game.modes.odyssey.scene import OdysseyScene

MODES: dict[str, type[ModeScene]] = {
    "navigator": NavigatorScene,
    "odyssey": OdysseyScene,
    "faces": FaceStudioScene,
}
