"""Latent Odyssey: fly through the latent space of Variational Autoencoders.

One import package, ``latent_odyssey``, built from the repository's top-level folders
(pyproject.toml maps them; see the README's layout table):

* ``latent_odyssey.game``        the player's program: pygame + onnxruntime + numpy, never torch
* ``latent_odyssey.train``       PyTorch training (the ``train`` extra)
* ``latent_odyssey.export``      checkpoints -> self-describing ONNX + TorchScript (``train`` extra)
* ``latent_odyssey.pretrained``  the shipped ONNX models (package data)
* ``latent_odyssey.assets``      default control bindings (package data)
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("latent-odyssey")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
