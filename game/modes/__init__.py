"""The three modes, each a room: a scene (state, input, update, snapshot) plus its drawing.

``registry.MODES`` lists them for the engine; the engine itself imports no mode."""
