"""``python -m latent_odyssey.game``: the same as the ``odyssey`` command (see game/cli.py)."""

import sys

from latent_odyssey.game.cli import main

if __name__ == "__main__":
    sys.exit(main())
