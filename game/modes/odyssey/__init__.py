"""The Odyssey: flight through a 3-D subspace (scene, view, HUD, flight maths, spline tours,
tunnel, minimap)."""
