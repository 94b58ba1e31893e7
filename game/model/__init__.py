"""Everything about a model file, torch-free: the metadata contract, sessions and providers,
decoding (batched, cached, ahead on a worker), and latent-space maths (morphs)."""
