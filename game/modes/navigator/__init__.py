"""The Navigator: the 2-D latent map, centroids, morphs (scene: state + input; view: drawing)."""
