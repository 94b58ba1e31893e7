"""``python -m game``: the same as the ``odyssey`` command (see game/cli.py)."""

import sys

from game.cli import main

if __name__ == "__main__":
    sys.exit(main())
