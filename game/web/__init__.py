"""The model in a web browser: ``site`` writes a static page (onnxruntime-web + ``static/``),
``serve`` serves it locally, ``commands`` is ``odyssey web``. Torch-free."""

import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # site.py takes the game's colours from engine.ui
