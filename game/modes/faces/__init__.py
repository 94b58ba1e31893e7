"""The Face Studio: random faces, attribute sliders, A-to-B morphs (scene + view)."""
