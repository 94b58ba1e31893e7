"""The engine: window, frame loop, scene protocol and stack, input, clock, HUD and overlays.

It knows no mode: the modes to offer are passed in (see ``latent_odyssey.game.modes``)."""
